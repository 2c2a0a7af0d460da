//! Peer statistics per questionnaire version (and per business-type segment): running sums
//! of domain scores and a histogram of overall scores. They change in the same sled
//! transaction as the submission they count, so they are never recomputed by a scan and
//! never disagree with the records after a crash.

use serde::{Deserialize, Serialize};

use super::record::AssessmentRecord;
use crate::scoring::Scores;

const PEERS: u8 = b'p';

/// The key of the statistics of one questionnaire version and segment ("" for all).
pub(super) fn peer_key(questionnaire: &str, version: &str, segment: &str) -> Vec<u8> {
    let mut k = vec![PEERS];
    for (i, part) in [questionnaire, version, segment].iter().enumerate() {
        if i > 0 {
            k.push(0);
        }
        k.extend_from_slice(part.as_bytes());
    }
    k
}

/// The statistics a submitted record counts in: all, and its business-type segment.
pub(super) fn peer_keys(record: &AssessmentRecord) -> Vec<Vec<u8>> {
    let q = &record.questionnaire;
    let mut keys = vec![peer_key(&q.id, &q.version, "")];
    if let Some(segment) = record.segment() {
        keys.push(peer_key(&q.id, &q.version, segment));
    }
    keys
}

/// Histogram bins: overall scores in tenths of a point, 0.0 to 100.0.
pub const HISTOGRAM_BINS: usize = 1001;

/// Aggregates of the submitted assessments of one questionnaire version (or segment).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerStats {
    /// Submitted assessments counted.
    pub count: u64,
    /// Per domain (questionnaire order): sum of the assessed scores.
    pub domain_sums: Vec<f64>,
    /// Per domain: how many assessments assessed it.
    pub domain_counts: Vec<u64>,
    /// Sparse histogram of overall scores: (tenths of a point, count), ascending.
    pub histogram: Vec<(u16, u64)>,
}

fn bin(overall: f64) -> u16 {
    // Clamped to 0..=1000, so the cast cannot truncate.
    (overall.clamp(0.0, 100.0) * 10.0).round() as u16
}

impl PeerStats {
    /// Counts one more submitted assessment.
    pub fn add(&mut self, scores: &Scores) {
        self.count += 1;
        let n = scores.domains.len();
        if self.domain_sums.len() < n {
            self.domain_sums.resize(n, 0.0);
            self.domain_counts.resize(n, 0);
        }
        for (i, d) in scores.domains.iter().enumerate() {
            if let Some(s) = d.score {
                self.domain_sums[i] += s;
                self.domain_counts[i] += 1;
            }
        }
        if let Some(overall) = scores.overall {
            let b = bin(overall);
            match self.histogram.binary_search_by_key(&b, |(k, _)| *k) {
                Ok(i) => self.histogram[i].1 += 1,
                Err(i) => self.histogram.insert(i, (b, 1)),
            }
        }
    }

    /// The mean score of each domain, `None` where no assessment assessed it.
    pub fn averages(&self) -> Vec<Option<f64>> {
        self.domain_sums
            .iter()
            .zip(&self.domain_counts)
            .map(|(s, &n)| (n > 0).then(|| s / n as f64))
            .collect()
    }

    /// The rank of `overall` as a share (0 to 1) of the counted scores, for "top N%":
    /// (1 + the number strictly above) / total, so that ties count in the company's
    /// favour and the best of five is the top 20%.
    pub fn top_share(&self, overall: f64) -> Option<f64> {
        let total: u64 = self.histogram.iter().map(|(_, n)| n).sum();
        if total == 0 {
            return None;
        }
        let b = bin(overall);
        let above: u64 = self
            .histogram
            .iter()
            .filter(|(k, _)| *k > b)
            .map(|(_, n)| n)
            .sum();
        Some(((1 + above).min(total)) as f64 / total as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::DomainScore;

    fn scores(domains: &[Option<f64>], overall: Option<f64>) -> Scores {
        Scores {
            domains: domains
                .iter()
                .map(|s| DomainScore {
                    id: "d".into(),
                    score: *s,
                    answered: 1,
                    not_applicable: 0,
                })
                .collect(),
            overall,
            grade: None,
        }
    }

    #[test]
    fn averages_skip_unassessed_domains() {
        let mut p = PeerStats::default();
        p.add(&scores(&[Some(80.0), None], Some(80.0)));
        p.add(&scores(&[Some(60.0), Some(50.0)], Some(55.0)));
        assert_eq!(p.count, 2);
        assert_eq!(p.averages(), vec![Some(70.0), Some(50.0)]);
    }

    #[test]
    fn rank_counts_scores_strictly_above() {
        let mut p = PeerStats::default();
        for o in [10.0, 20.0, 30.0, 40.0, 50.0] {
            p.add(&scores(&[Some(o)], Some(o)));
        }
        assert_eq!(p.top_share(50.0), Some(0.2));
        assert_eq!(p.top_share(30.0), Some(0.6));
        assert_eq!(p.top_share(10.0), Some(1.0));
        assert_eq!(PeerStats::default().top_share(1.0), None);
        // Ties count in the company's favour: five equal scores are each the top 20%.
        let mut tied = PeerStats::default();
        for _ in 0..5 {
            tied.add(&scores(&[Some(70.0)], Some(70.0)));
        }
        assert_eq!(tied.top_share(70.0), Some(0.2));
    }
}
