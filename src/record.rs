//! The domain types of a stored assessment: the record, its status, the questionnaire it
//! was scored with and the broker's invitation. Versioned: fields added later carry
//! `#[serde(default)]` so records written by older versions still load.
//!
//! They live below the store: `store` encodes and keeps them, `report` and the pages read
//! them, and neither of those needs `store` for it. This module does no I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::scoring::Scores;
use crate::tokens::{ReportToken, TokenDigest};

/// The schema version written into new records.
pub const SCHEMA_VERSION: u32 = 1;

/// The profile field whose value splits peers into segments.
pub const SEGMENT_FIELD: &str = "business_type";

/// Where an assessment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Submitted,
}

/// The questionnaire an assessment was answered and scored with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionnaireRef {
    pub id: String,
    pub version: String,
    /// Content hash of the questionnaire file (`sha256:...`).
    pub hash: String,
}

/// One assessment as stored. Its `Debug` leaves out the report token.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct AssessmentRecord {
    pub schema: u32,
    pub id: Uuid,
    pub questionnaire: QuestionnaireRef,
    /// Hex SHA-256 of the edit token; the token itself is never stored.
    pub edit_token_sha256: String,
    /// The report token, kept so that links to the report can be shown again.
    pub report_token: String,
    pub status: Status,
    pub profile: BTreeMap<String, Value>,
    pub answers: BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub submitted_at: Option<DateTime<Utc>>,
    /// Unrounded scores, computed at submission.
    #[serde(default)]
    pub scores: Option<Scores>,
    /// Ids of the findings that applied at submission.
    #[serde(default)]
    pub findings: Vec<String>,
    /// The report token of an earlier submitted assessment to compare with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<String>,
    /// The broker who invited the company to this assessment, when one did. The broker
    /// owns it; no other broker can see it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invitation: Option<Invitation>,
}

/// A broker's invitation: who owns the assessment and under what name the broker files it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub broker: Uuid,
    /// The client's name as the broker typed it (the company may change its profile).
    pub client_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal_ref: Option<String>,
}

impl std::fmt::Debug for AssessmentRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssessmentRecord")
            .field("id", &self.id)
            .field("questionnaire", &self.questionnaire)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("submitted_at", &self.submitted_at)
            .finish_non_exhaustive()
    }
}

/// A record that cannot be what it claims: a token digest or report token that does not
/// parse, or bytes that are not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct CorruptRecord(pub String);

impl AssessmentRecord {
    /// A record from its stored JSON.
    pub fn decode(bytes: &[u8]) -> Result<AssessmentRecord, CorruptRecord> {
        serde_json::from_slice(bytes).map_err(|e| CorruptRecord(e.to_string()))
    }

    /// The stored digest of the edit token.
    pub fn edit_digest(&self) -> Result<TokenDigest, CorruptRecord> {
        TokenDigest::from_hex(&self.edit_token_sha256)
            .ok_or_else(|| CorruptRecord(format!("record {}: bad edit token digest", self.id)))
    }

    /// The digest of the report token.
    pub fn report_digest(&self) -> Result<TokenDigest, CorruptRecord> {
        ReportToken::parse(&self.report_token)
            .map(|t| t.digest())
            .ok_or_else(|| CorruptRecord(format!("record {}: bad report token", self.id)))
    }

    /// Whether a profile field has a value; an empty list (no option ticked) is none,
    /// so a required multiselect needs at least one choice.
    pub fn has_profile_value(&self, field: &str) -> bool {
        match self.profile.get(field) {
            Some(Value::Array(items)) => !items.is_empty(),
            Some(_) => true,
            None => false,
        }
    }

    /// The company name the profile gives, if any.
    pub fn company_name(&self) -> Option<&str> {
        self.profile
            .get(crate::assessment::COMPANY_NAME_FIELD)
            .and_then(Value::as_str)
    }

    /// The company this record counts as in the peer statistics: its folded company name
    /// (or, without one, the record itself).
    pub fn company(&self) -> crate::peers::CompanyKey {
        crate::peers::CompanyKey::of(self.company_name(), self.id)
    }

    /// The business-type segment for peer comparison, when the profile names one.
    pub fn segment(&self) -> Option<&str> {
        self.profile.get(SEGMENT_FIELD).and_then(Value::as_str)
    }

    /// The report token.
    pub fn report_token(&self) -> Option<ReportToken> {
        ReportToken::parse(&self.report_token)
    }
}

/// How an assessment came into a portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Membership {
    /// The broker invited the company: the broker owns the assessment.
    Invited,
    /// The company shared the report link of its own assessment: read-only.
    Attached,
}

/// Where an assessment stands, as a broker follows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortfolioStatus {
    /// A draft nobody has saved anything into since the invitation.
    Invited,
    /// A draft the company has started.
    InProgress,
    Submitted,
}

impl PortfolioStatus {
    pub const ALL: [PortfolioStatus; 3] = [
        PortfolioStatus::Invited,
        PortfolioStatus::InProgress,
        PortfolioStatus::Submitted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PortfolioStatus::Invited => "invited",
            PortfolioStatus::InProgress => "in_progress",
            PortfolioStatus::Submitted => "submitted",
        }
    }

    pub fn parse(s: &str) -> Option<PortfolioStatus> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }
}
