//! The JSON answers of `/api/v1` as types: handlers build these and serialise them, and the
//! OpenAPI document describes the same types, so the two cannot drift apart. Where a
//! field holds a core type (a status, a bilingual text), a small mirror here names its
//! schema, and a test checks that the mirror serialises exactly as the core type does.
//!
//! No rule lives here: the values come from `assessment`, `scoring` and `peers`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::peers::PeerView;
use crate::questionnaire::{FindingKind, Questionnaire, Text};
use crate::report::analysis::local_day;
use crate::scoring::{round1, Scores};
use crate::store::{Membership, PortfolioStatus, QuestionnaireRef, Status};

/// A text in both languages of the interface.
#[derive(Serialize, ToSchema)]
#[schema(as = Text)]
pub struct TextSchema {
    pub ja: String,
    pub en: String,
}

/// Where an assessment is in its life.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Status)]
pub enum StatusSchema {
    Draft,
    Submitted,
}

/// Where an assessment stands, as a broker follows it: `invited` until the company saves
/// anything, then `in_progress`, then `submitted`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PortfolioStatus)]
pub enum PortfolioStatusSchema {
    Invited,
    InProgress,
    Submitted,
}

/// How an assessment came into a portfolio: the broker `invited` the company, or the
/// company shared its own report (`attached`, read-only).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = Membership)]
pub enum MembershipSchema {
    Invited,
    Attached,
}

/// Whether a broker account works.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = BrokerStatus)]
pub enum BrokerStatusSchema {
    Active,
    Revoked,
}

/// What a finding is about.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = FindingKind)]
pub enum FindingKindSchema {
    Exclusion,
    Discount,
    Coverage,
    Info,
}

/// The exact questionnaire an assessment was answered and scored with.
#[derive(Serialize, ToSchema)]
#[schema(as = QuestionnaireRef)]
pub struct QuestionnaireRefSchema {
    pub id: String,
    pub version: String,
    /// Content hash of the questionnaire file (`sha256:...`).
    pub hash: String,
}

/// A domain of a questionnaire.
#[derive(Serialize, ToSchema)]
pub struct DomainLabel {
    pub id: String,
    #[schema(value_type = TextSchema)]
    pub label: Text,
}

/// A questionnaire of the list: its latest version.
#[derive(Serialize, ToSchema)]
pub struct QuestionnaireSummary {
    pub id: String,
    pub version: String,
    #[schema(value_type = TextSchema)]
    pub title: Text,
    pub domains: Vec<DomainLabel>,
}

impl QuestionnaireSummary {
    /// The summary of a questionnaire.
    pub fn of(q: &Questionnaire) -> Self {
        QuestionnaireSummary {
            id: q.id.clone(),
            version: q.version.clone(),
            title: q.title.clone(),
            domains: q
                .domains
                .iter()
                .map(|d| DomainLabel {
                    id: d.id.clone(),
                    label: d.label.clone(),
                })
                .collect(),
        }
    }
}

/// One domain's score.
#[derive(Serialize, ToSchema)]
pub struct DomainScoreView {
    pub id: String,
    #[schema(value_type = Option<TextSchema>)]
    #[schema(required = true)]
    pub label: Option<Text>,
    /// 0 to 100, one decimal; `null` when no question of the domain was answered.
    #[schema(required = true)]
    pub score: Option<f64>,
    /// Questions answered with an option.
    pub answered: usize,
    /// Questions answered "not applicable".
    pub not_applicable: usize,
}

/// Scores as the API reports them: rounded to one decimal, labels in both languages.
#[derive(Serialize, ToSchema)]
pub struct ScoresView {
    pub domains: Vec<DomainScoreView>,
    /// The weighted mean of the assessed domains; `null` when none is assessed.
    #[schema(required = true)]
    pub overall: Option<f64>,
    /// The grade of the overall score (`A` to `E` in the shipped questionnaire).
    #[schema(required = true)]
    pub grade: Option<String>,
}

impl ScoresView {
    /// Scores of questionnaire `q`, rounded to one decimal, labelled in both languages.
    pub fn of(q: &Questionnaire, s: &Scores) -> Self {
        ScoresView {
            domains: s
                .domains
                .iter()
                .map(|d| DomainScoreView {
                    id: d.id.clone(),
                    label: q
                        .domains
                        .iter()
                        .find(|x| x.id == d.id)
                        .map(|x| x.label.clone()),
                    score: d.score.map(round1),
                    answered: d.answered,
                    not_applicable: d.not_applicable,
                })
                .collect(),
            overall: s.overall.map(round1),
            grade: s.grade.clone(),
        }
    }
}

/// A domain's average among the peers compared with.
#[derive(Serialize, ToSchema)]
pub struct PeerDomain {
    pub id: String,
    /// `null` where too few other companies assessed the domain.
    #[schema(required = true)]
    pub average: Option<f64>,
}

/// The comparison with other companies, from the last published snapshot: what the
/// report page shows, by the same rules.
#[derive(Serialize, ToSchema)]
pub struct PeersView {
    /// The day of the snapshot (`YYYY-MM-DD`, Japan time).
    #[schema(format = Date)]
    pub snapshot_date: String,
    /// Companies in the group, rounded down to a multiple of 5.
    pub companies: usize,
    /// The business type compared with, when the group is that segment alone.
    #[schema(required = true)]
    pub segment: Option<String>,
    pub domains: Vec<PeerDomain>,
    #[schema(required = true)]
    pub overall_average: Option<f64>,
    /// The reader's band (`top_20`, `top_40`, ..., `bottom_20`), when it may be shown.
    #[schema(required = true)]
    pub rank_band: Option<String>,
}

impl PeersView {
    /// The view, or `None` when the page shows no comparison.
    pub fn of(q: &Questionnaire, view: Option<&PeerView>) -> Option<Self> {
        let v = view?;
        Some(PeersView {
            snapshot_date: local_day(v.as_of),
            companies: v.companies,
            segment: v.segment.clone(),
            domains: q
                .domains
                .iter()
                .map(|d| PeerDomain {
                    id: d.id.clone(),
                    average: v.averages.get(&d.id).copied().map(round1),
                })
                .collect(),
            overall_average: v.overall_average.map(round1),
            rank_band: v.band.map(|b| b.code()),
        })
    }
}

/// A new assessment and its two capability tokens.
#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: Uuid,
    /// The credential for reading, changing and submitting the draft (43 characters).
    pub edit_token: String,
    /// The token of the report's read-only link (43 characters).
    pub report_token: String,
    #[schema(value_type = StatusSchema)]
    pub status: Status,
    /// The path of the report page, `/r/{report_token}`.
    pub report_url: String,
    /// The scores, when the request submitted the assessment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scores: Option<ScoresView>,
}

/// How far the answers are.
#[derive(Serialize, ToSchema)]
pub struct Progress {
    pub answered: usize,
    pub total: usize,
}

/// An assessment as its company sees it.
#[derive(Serialize, ToSchema)]
pub struct AssessmentView {
    pub id: Uuid,
    #[schema(value_type = QuestionnaireRefSchema)]
    pub questionnaire: QuestionnaireRef,
    #[schema(value_type = StatusSchema)]
    pub status: Status,
    /// The company profile, by field id.
    pub profile: BTreeMap<String, Value>,
    /// The option id chosen for each answered question, or `na`.
    pub answers: BTreeMap<String, String>,
    pub progress: Progress,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[schema(required = true)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub scores: Option<ScoresView>,
    pub report_url: String,
}

/// A submitted assessment's scores.
#[derive(Serialize, ToSchema)]
pub struct SubmittedView {
    #[schema(value_type = StatusSchema)]
    pub status: Status,
    #[schema(required = true)]
    pub scores: Option<ScoresView>,
    pub report_url: String,
}

/// A finding of the report: a coverage, exclusion or discount point the answers raise.
#[derive(Serialize, ToSchema)]
pub struct FindingView {
    pub id: String,
    #[schema(value_type = FindingKindSchema)]
    pub kind: FindingKind,
    #[schema(value_type = TextSchema)]
    pub text: Text,
}

/// A submitted assessment's report as data.
#[derive(Serialize, ToSchema)]
pub struct ReportView {
    pub id: Uuid,
    #[schema(value_type = QuestionnaireRefSchema)]
    pub questionnaire: QuestionnaireRef,
    pub profile: BTreeMap<String, Value>,
    #[schema(required = true)]
    pub submitted_at: Option<DateTime<Utc>>,
    pub scores: ScoresView,
    pub findings: Vec<FindingView>,
    /// The comparison with other companies; `null` when the report shows none.
    #[schema(required = true)]
    pub peers: Option<PeersView>,
}

/// The questionnaire of a portfolio item.
#[derive(Serialize, ToSchema)]
pub struct QuestionnaireVersion {
    pub id: String,
    pub version: String,
}

/// Which application-form items (告知書の項目) the profile answers.
#[derive(Serialize, ToSchema)]
pub struct ApplicationView {
    /// Profile field ids answered.
    pub answered: Vec<String>,
    /// Profile field ids still missing.
    pub missing: Vec<String>,
}

/// An assessment of a broker's portfolio.
#[derive(Serialize, ToSchema)]
pub struct PortfolioItemView {
    pub id: Uuid,
    pub client_name: String,
    #[schema(required = true)]
    pub proposal_ref: Option<String>,
    #[schema(value_type = MembershipSchema)]
    pub membership: Membership,
    #[schema(value_type = PortfolioStatusSchema)]
    pub status: PortfolioStatus,
    pub questionnaire: QuestionnaireVersion,
    pub created_at: DateTime<Utc>,
    #[schema(required = true)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    pub overall: Option<f64>,
    #[schema(required = true)]
    pub grade: Option<String>,
    pub report_token: String,
    /// The report page's path once submitted; `null` for a draft.
    #[schema(required = true)]
    pub report_url: Option<String>,
    /// For a submitted assessment whose questionnaire marks application-form items;
    /// `null` otherwise.
    #[schema(required = true)]
    pub application: Option<ApplicationView>,
}

/// One item with its scores and its peer comparison.
#[derive(Serialize, ToSchema)]
pub struct PortfolioDetailView {
    #[serde(flatten)]
    pub item: PortfolioItemView,
    #[schema(required = true)]
    pub scores: Option<ScoresView>,
    #[schema(required = true)]
    pub peers: Option<PeersView>,
}

/// One page of a portfolio, newest first.
#[derive(Serialize, ToSchema)]
pub struct PortfolioPageView {
    pub items: Vec<PortfolioItemView>,
    /// Pass as `cursor` for the next page; `null` on the last one.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A new invitation: the link to send the client.
#[derive(Serialize, ToSchema)]
pub struct Invitation {
    pub id: Uuid,
    pub edit_token: String,
    /// The absolute answering link to send the client.
    pub invite_url: String,
    pub report_token: String,
    pub client_name: String,
    #[schema(value_type = PortfolioStatusSchema)]
    pub status: PortfolioStatus,
}

/// A new answering link for an invited draft.
#[derive(Serialize, ToSchema)]
pub struct Reissued {
    pub id: Uuid,
    pub edit_token: String,
    pub invite_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::BrokerStatus;

    fn json<T: Serialize>(v: T) -> Value {
        serde_json::to_value(v).expect("JSON")
    }

    #[test]
    fn mirrors_serialise_as_the_core_types() {
        assert_eq!(json(Status::Draft), json(StatusSchema::Draft));
        assert_eq!(json(Status::Submitted), json(StatusSchema::Submitted));
        for (core, mirror) in [
            (PortfolioStatus::Invited, PortfolioStatusSchema::Invited),
            (
                PortfolioStatus::InProgress,
                PortfolioStatusSchema::InProgress,
            ),
            (PortfolioStatus::Submitted, PortfolioStatusSchema::Submitted),
        ] {
            assert_eq!(json(core), json(mirror));
        }
        assert_eq!(PortfolioStatus::ALL.len(), 3);
        for status in [BrokerStatus::Active, BrokerStatus::Revoked] {
            let mirror = match status {
                BrokerStatus::Active => BrokerStatusSchema::Active,
                BrokerStatus::Revoked => BrokerStatusSchema::Revoked,
            };
            assert_eq!(json(status.as_str()), json(mirror));
        }
        assert_eq!(json(Membership::Invited), json(MembershipSchema::Invited));
        assert_eq!(json(Membership::Attached), json(MembershipSchema::Attached));
        for (core, mirror) in [
            (FindingKind::Exclusion, FindingKindSchema::Exclusion),
            (FindingKind::Discount, FindingKindSchema::Discount),
            (FindingKind::Coverage, FindingKindSchema::Coverage),
            (FindingKind::Info, FindingKindSchema::Info),
        ] {
            assert_eq!(json(core), json(mirror));
        }
        let text = Text {
            ja: "日本語".into(),
            en: "English".into(),
        };
        assert_eq!(
            json(&text),
            json(TextSchema {
                ja: text.ja.clone(),
                en: text.en.clone()
            })
        );
        let r = QuestionnaireRef {
            id: "it-liability".into(),
            version: "2026.2".into(),
            hash: "sha256:00".into(),
        };
        assert_eq!(
            json(&r),
            json(QuestionnaireRefSchema {
                id: r.id.clone(),
                version: r.version.clone(),
                hash: r.hash.clone()
            })
        );
    }
}
