//! Peer statistics that can be published without exposing a company: snapshots of each
//! company's latest submitted scores, the rules that decide when a new snapshot may be
//! taken and which groups it publishes (`snapshot.rs`), and what one report may show from
//! it (`view.rs`). Pure: no I/O, no clock. The store keeps snapshots; the report shows a
//! [`PeerView`].
//!
//! Why snapshots: live averages and ranks moved with every submission, so two consecutive
//! reads gave the newest company's scores by subtraction. Published figures now change only
//! when a snapshot is taken, and a snapshot refreshes a questionnaire version only when at
//! least [`MIN_CHANGES`] companies changed in it; a company counts once (its latest
//! submission, keyed by its folded name); a report shows peers only with at least
//! [`MIN_OTHERS`] companies other than its own; ranks are bands of 20% and counts are
//! rounded down to a multiple of [`COUNT_STEP`].

mod snapshot;
mod view;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub use snapshot::{next_snapshot, TooFewChanges};
pub use view::{floor_to_step, Band, Group, PeerView, Published, PublishedSection};

use crate::scoring::Scores;

/// The schema version written into new snapshots.
pub const SNAPSHOT_SCHEMA: u32 = 1;
/// Companies that must have changed (new, resubmitted or gone) in a questionnaire version
/// since its last publication before it is published again; also the least change of a
/// segment republished, or of the companies outside published segments.
pub const MIN_CHANGES: usize = 5;
/// Companies other than the reader's own that a comparison needs.
pub const MIN_OTHERS: usize = 10;
/// Companies a business-type segment needs to be published on its own.
pub const MIN_SEGMENT: usize = 10;
/// Counts are shown rounded down to a multiple of this.
pub const COUNT_STEP: usize = 5;
/// Ranks are shown in this many bands (of 20% each).
pub const BANDS: u8 = 5;

/// A company as the statistics know it: a digest of its folded company name (or, when an
/// assessment names no company, of the assessment's id, so that it counts on its own).
/// Snapshots keep this digest, never the name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CompanyKey(String);

impl CompanyKey {
    /// The key of the company that submitted `record` under `company_name`.
    pub fn of(company_name: Option<&str>, record: Uuid) -> CompanyKey {
        let folded = company_name
            .map(crate::names::fold)
            .filter(|f| !f.is_empty());
        let mut h = Sha256::new();
        match folded {
            Some(name) => {
                h.update(b"company\0");
                h.update(name.as_bytes());
            }
            None => {
                h.update(b"assessment\0");
                h.update(record.as_bytes());
            }
        }
        CompanyKey(hex::encode(&h.finalize()[..16]))
    }
}

/// One company's latest submitted scores of one questionnaire version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanyScores {
    /// The assessment these scores are from; a new submission is a change.
    pub record: Uuid,
    #[serde(default)]
    pub submitted_at: Option<DateTime<Utc>>,
    /// The business type at that submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// Unrounded scores of the assessed domains, by domain id.
    #[serde(default)]
    pub domains: BTreeMap<String, f64>,
    #[serde(default)]
    pub overall: Option<f64>,
}

impl CompanyScores {
    /// A submitted assessment's entry.
    pub fn new(
        record: Uuid,
        submitted_at: Option<DateTime<Utc>>,
        segment: Option<String>,
        scores: &Scores,
    ) -> CompanyScores {
        CompanyScores {
            record,
            submitted_at,
            segment,
            domains: scores
                .domains
                .iter()
                .filter_map(|d| d.score.map(|s| (d.id.clone(), s)))
                .collect(),
            overall: scores.overall,
        }
    }
}

/// A submitted assessment, as the store hands it to [`next_snapshot`].
#[derive(Debug, Clone, PartialEq)]
pub struct Submission {
    pub questionnaire: String,
    pub version: String,
    pub company: CompanyKey,
    pub scores: CompanyScores,
}

/// The statistics of one questionnaire version, as of its last refresh.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Section {
    pub questionnaire: String,
    pub version: String,
    /// The snapshot that last refreshed this section. Reports name it in their ETag: it
    /// changes exactly when what they may show does.
    pub revision: Uuid,
    /// When it was refreshed: the date reports print.
    pub taken_at: DateTime<Utc>,
    /// Every company's latest submission at `taken_at`.
    pub companies: BTreeMap<CompanyKey, CompanyScores>,
    /// The business-type segments published on their own by this revision.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Segments published by an earlier revision but not by this one, with their members
    /// (company and assessment) as last published: a segment published again must differ
    /// from that by at least [`MIN_CHANGES`] companies.
    #[serde(default)]
    pub earlier_segments: BTreeMap<String, BTreeMap<CompanyKey, Uuid>>,
}

/// A published snapshot: every questionnaire version's section, refreshed or carried over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeerSnapshot {
    pub schema: u32,
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    /// Sorted by questionnaire id and version.
    pub sections: Vec<Section>,
}

impl PeerSnapshot {
    /// Companies counted, over every questionnaire version.
    pub fn companies(&self) -> usize {
        self.sections.iter().map(|s| s.companies.len()).sum()
    }

    /// The section of one questionnaire version.
    pub fn section(&self, questionnaire: &str, version: &str) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.questionnaire == questionnaire && s.version == version)
    }
}

#[cfg(test)]
mod tests;
