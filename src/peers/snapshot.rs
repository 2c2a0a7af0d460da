//! Taking a snapshot: from the previous one and every submitted assessment, the next one,
//! or a refusal when too little changed.
//!
//! The rules, each against a way of subtracting one published figure from another:
//! - A company counts once, with its latest submission, so resubmitting cannot weigh more.
//! - A questionnaire version is refreshed only when at least [`MIN_CHANGES`] companies
//!   changed in it (new, resubmitted or gone); otherwise it is carried over as it was, so
//!   two consecutive publications never differ by one company.
//! - A business-type segment is published on its own only with at least [`MIN_SEGMENT`]
//!   companies, and only when it differs from its own last publication by none or at least
//!   [`MIN_CHANGES`] companies.
//! - The companies outside the published segments (what "all" minus the segments would
//!   reveal) are none or at least [`MIN_SEGMENT`], and differ from the previous refresh's by
//!   none or at least [`MIN_CHANGES`]; otherwise the smallest published segment is merged
//!   back into them until that holds.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use thiserror::Error;
use uuid::Uuid;

use super::{
    CompanyKey, CompanyScores, PeerSnapshot, Section, Submission, MIN_CHANGES, MIN_SEGMENT,
    SNAPSHOT_SCHEMA,
};

/// Why no snapshot was taken.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("fewer than {MIN_CHANGES} companies changed since the last snapshot in any questionnaire version (at most {most})")]
pub struct TooFewChanges {
    /// The most companies that changed in one questionnaire version.
    pub most: usize,
}

/// Which assessment each company of a group counts with.
type Members = BTreeMap<CompanyKey, Uuid>;

/// Companies whose assessment differs between two groups: added, removed or replaced.
fn changes(before: &Members, now: &Members) -> usize {
    let gone_or_replaced = before
        .iter()
        .filter(|(k, r)| now.get(*k) != Some(*r))
        .count();
    let added = now.keys().filter(|k| !before.contains_key(*k)).count();
    gone_or_replaced + added
}

fn members(
    companies: &BTreeMap<CompanyKey, CompanyScores>,
    keep: impl Fn(&CompanyScores) -> bool,
) -> Members {
    companies
        .iter()
        .filter(|(_, c)| keep(c))
        .map(|(k, c)| (k.clone(), c.record))
        .collect()
}

/// Whether `a` is a later submission than `b` (ties broken by id, so the result does not
/// depend on the order the store reads records in).
fn later(a: &CompanyScores, b: &CompanyScores) -> bool {
    (a.submitted_at, a.record) > (b.submitted_at, b.record)
}

/// The next snapshot, named `id` and dated `now`, from `previous` and every submitted
/// assessment; [`TooFewChanges`] when no questionnaire version may be refreshed.
pub fn next_snapshot(
    previous: Option<&PeerSnapshot>,
    submissions: impl IntoIterator<Item = Submission>,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<PeerSnapshot, TooFewChanges> {
    let mut current: BTreeMap<(String, String), BTreeMap<CompanyKey, CompanyScores>> =
        BTreeMap::new();
    for s in submissions {
        let companies = current.entry((s.questionnaire, s.version)).or_default();
        match companies.entry(s.company) {
            Entry::Vacant(e) => {
                e.insert(s.scores);
            }
            Entry::Occupied(mut e) => {
                if later(&s.scores, e.get()) {
                    e.insert(s.scores);
                }
            }
        }
    }
    let mut versions: BTreeSet<(String, String)> = current.keys().cloned().collect();
    if let Some(p) = previous {
        versions.extend(
            p.sections
                .iter()
                .map(|s| (s.questionnaire.clone(), s.version.clone())),
        );
    }
    let mut sections = Vec::new();
    let (mut refreshed, mut most) = (0usize, 0usize);
    for key in versions {
        let companies = current.remove(&key).unwrap_or_default();
        let (questionnaire, version) = key;
        let before = previous.and_then(|p| p.section(&questionnaire, &version));
        let changed = changes(
            &before
                .map(|b| members(&b.companies, |_| true))
                .unwrap_or_default(),
            &members(&companies, |_| true),
        );
        most = most.max(changed);
        if changed >= MIN_CHANGES {
            refreshed += 1;
            if !companies.is_empty() {
                sections.push(refresh(before, questionnaire, version, companies, id, now));
            }
        } else if let Some(b) = before {
            sections.push(b.clone());
        }
    }
    if refreshed == 0 {
        return Err(TooFewChanges { most });
    }
    Ok(PeerSnapshot {
        schema: SNAPSHOT_SCHEMA,
        id,
        created_at: now,
        sections,
    })
}

/// A refreshed section: its companies and the segments it publishes.
fn refresh(
    before: Option<&Section>,
    questionnaire: String,
    version: String,
    companies: BTreeMap<CompanyKey, CompanyScores>,
    id: Uuid,
    now: DateTime<Utc>,
) -> Section {
    let mut by_segment: BTreeMap<String, Members> = BTreeMap::new();
    for (k, c) in &companies {
        if let Some(s) = &c.segment {
            by_segment
                .entry(s.clone())
                .or_default()
                .insert(k.clone(), c.record);
        }
    }
    // A segment's members as it was last published, if it ever was.
    let last_published = |segment: &str| -> Option<Members> {
        let b = before?;
        if b.segments.iter().any(|s| s == segment) {
            Some(members(&b.companies, |c| {
                c.segment.as_deref() == Some(segment)
            }))
        } else {
            b.earlier_segments.get(segment).cloned()
        }
    };
    let mut published: Vec<String> = by_segment
        .iter()
        .filter(|(s, now)| {
            now.len() >= MIN_SEGMENT
                && last_published(s).is_none_or(|last| {
                    let d = changes(&last, now);
                    d == 0 || d >= MIN_CHANGES
                })
        })
        .map(|(s, _)| s.clone())
        .collect();
    let outside = |segments: &[String], c: &CompanyScores| {
        !c.segment.as_ref().is_some_and(|s| segments.contains(s))
    };
    let rest_before = before
        .map(|b| members(&b.companies, |c| outside(&b.segments, c)))
        .unwrap_or_default();
    while !published.is_empty() {
        let rest = members(&companies, |c| outside(&published, c));
        let d = changes(&rest_before, &rest);
        if (rest.is_empty() || rest.len() >= MIN_SEGMENT) && (d == 0 || d >= MIN_CHANGES) {
            break;
        }
        // Merging a published segment (at least MIN_SEGMENT companies) into the rest.
        let smallest = published
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| (by_segment.get(*s).map_or(0, BTreeMap::len), (*s).clone()))
            .map(|(i, _)| i)
            .unwrap_or(0);
        published.remove(smallest);
    }
    let mut earlier_segments = BTreeMap::new();
    if let Some(b) = before {
        for s in b.segments.iter().chain(b.earlier_segments.keys()) {
            if !published.contains(s) {
                if let Some(m) = last_published(s) {
                    earlier_segments.insert(s.clone(), m);
                }
            }
        }
    }
    Section {
        questionnaire,
        version,
        revision: id,
        taken_at: now,
        companies,
        segments: published,
        earlier_segments,
    }
}
