//! A least-recently-used cache of response bodies bounded by their total size in bytes,
//! for bodies whose size varies too much for a bound on their count (PDFs). It knows
//! nothing of what the bodies are.

use actix_web::web::Bytes;
use lru::LruCache;

/// Bodies by key, evicting the least recently used while their total exceeds the budget.
pub struct SizedCache {
    entries: LruCache<String, Bytes>,
    bytes: usize,
    budget: usize,
}

impl SizedCache {
    /// An empty cache that holds at most `budget` bytes of bodies.
    pub fn new(budget: usize) -> Self {
        SizedCache {
            entries: LruCache::unbounded(),
            bytes: 0,
            budget,
        }
    }

    /// The body under `key`, now the most recently used.
    pub fn get(&mut self, key: &str) -> Option<Bytes> {
        self.entries.get(key).cloned()
    }

    /// Keeps `body` under `key`; a body larger than the whole budget is not kept (nor is
    /// what the key held before).
    pub fn put(&mut self, key: String, body: Bytes) {
        if body.len() > self.budget {
            if let Some(old) = self.entries.pop(&key) {
                self.bytes -= old.len();
            }
            return;
        }
        self.bytes += body.len();
        if let Some(old) = self.entries.put(key, body) {
            self.bytes -= old.len();
        }
        while self.bytes > self.budget {
            match self.entries.pop_lru() {
                Some((_, evicted)) => self.bytes -= evicted.len(),
                None => break,
            }
        }
    }

    /// The total size of the bodies held.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes
    }

    /// How many bodies it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn body(len: usize) -> Bytes {
        Bytes::from(vec![b'x'; len])
    }

    #[test]
    fn the_least_recently_used_body_goes_first() {
        let mut cache = SizedCache::new(10);
        cache.put("a".into(), body(4));
        cache.put("b".into(), body(4));
        assert!(cache.get("a").is_some());

        cache.put("c".into(), body(4));

        assert!(cache.get("b").is_none());
        assert!(cache.get("a").is_some() && cache.get("c").is_some());
        assert_eq!(cache.bytes(), 8);
    }

    #[test]
    fn a_body_larger_than_the_budget_is_not_kept_and_evicts_nothing() {
        let mut cache = SizedCache::new(10);
        cache.put("a".into(), body(6));

        cache.put("big".into(), body(11));

        assert!(cache.get("big").is_none());
        assert_eq!(cache.len(), 1);
        assert_eq!(cache.bytes(), 6);
    }

    proptest! {
        #[test]
        fn the_total_stays_within_the_budget_and_matches_the_bodies(
            budget in 0usize..64,
            puts in proptest::collection::vec((0u8..8, 0usize..80), 0..60),
        ) {
            let mut cache = SizedCache::new(budget);
            for (key, len) in puts {
                let key = key.to_string();
                cache.put(key.clone(), body(len));
                prop_assert!(cache.bytes() <= budget);
                // The newest body is kept whenever it fits the budget.
                prop_assert_eq!(cache.get(&key).is_some(), len <= budget);
                let held: usize = cache.entries.iter().map(|(_, b)| b.len()).sum();
                prop_assert_eq!(held, cache.bytes());
            }
        }
    }
}
