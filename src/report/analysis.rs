//! What the report says, computed from a questionnaire and a submitted record: levels,
//! strengths and priorities, the improvement plan, the projection, coverage items and
//! timeline notes. Pure: no I/O, no markup.

use chrono::NaiveDate;

use crate::i18n::Lang;
use crate::peers::{Band, PeerView};
use crate::questionnaire::{
    Answers, Choice, Coverage, Finding, FindingKind, Question, Questionnaire,
};
use crate::record::AssessmentRecord;
use crate::scoring::{self, Scores};

/// The profile field that holds the desired policy start date.
pub const POLICY_START_FIELD: &str = "policy_start";

/// Dates on the report are Japanese dates (JST, UTC+9, no daylight saving time): a
/// submission at 08:00 in Tokyo is dated that day, not the day before.
pub fn local_date(t: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    let jst = chrono::FixedOffset::east_opt(9 * 3600).expect("nine hours is a valid offset");
    t.with_timezone(&jst).date_naive()
}

/// A Japanese date as the pages write it (`2026-11-26`).
pub fn local_day(t: chrono::DateTime<chrono::Utc>) -> String {
    local_date(t).format("%Y-%m-%d").to_string()
}

/// The day a record was submitted, as the pages write it; empty for a draft.
pub fn submitted_day(record: &AssessmentRecord) -> String {
    record.submitted_at.map(local_day).unwrap_or_default()
}

/// How many strengths and priorities the report names.
pub const STRENGTHS: usize = 2;
pub const PRIORITIES: usize = 3;
/// The least score a strength has (the "good" level).
pub const STRENGTH_MIN: f64 = 60.0;
/// The procedures (quote, application, contract) must be complete this many days before
/// the policy start, or a broker may decline the quote request (the seed's wording:
/// 「保険始期日の14日前までにお手続きが終わらない場合…お断りすることもございます」).
pub const PROCEDURE_DEADLINE_DAYS: i64 = 14;
/// From this many days before the policy start the report urges the company to start the
/// procedures now: finishing them takes time, so a warning only inside the last 14 days
/// would come too late.
pub const PROCEDURE_WARNING_DAYS: i64 = 30;
/// Many insurers exclude incidents in the first days after a release or delivery.
pub const RELEASE_EXCLUSION_DAYS: i64 = 30;

/// Where a company stands against the procedures' deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// No policy start given (or no submission date): the general rule only.
    Unknown,
    /// The policy start is before the submission: the date needs checking.
    Past,
    /// Fewer than [`PROCEDURE_DEADLINE_DAYS`] left: the deadline has passed.
    Missed,
    /// Within [`PROCEDURE_WARNING_DAYS`]: start the procedures now.
    Soon,
    /// More time than that: the general rule, with the date.
    Ahead,
}

impl Deadline {
    /// The state for `days` from the submission to the policy start.
    pub fn of(days_to_start: Option<i64>) -> Deadline {
        match days_to_start {
            None => Deadline::Unknown,
            Some(d) if d < 0 => Deadline::Past,
            Some(d) if d < PROCEDURE_DEADLINE_DAYS => Deadline::Missed,
            Some(d) if d <= PROCEDURE_WARNING_DAYS => Deadline::Soon,
            Some(_) => Deadline::Ahead,
        }
    }
}

/// A word for a domain score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Strong,
    Good,
    Fair,
    Weak,
    Critical,
    NotAssessed,
}

impl Level {
    /// The level of a score.
    pub fn of(score: Option<f64>) -> Level {
        match score {
            None => Level::NotAssessed,
            Some(s) if s >= 80.0 => Level::Strong,
            Some(s) if s >= 60.0 => Level::Good,
            Some(s) if s >= 40.0 => Level::Fair,
            Some(s) if s >= 20.0 => Level::Weak,
            Some(_) => Level::Critical,
        }
    }

    /// The word for this level.
    pub fn word(self, lang: Lang) -> &'static str {
        let ui = lang.ui();
        match self {
            Level::Strong => ui.level_strong,
            Level::Good => ui.level_good,
            Level::Fair => ui.level_fair,
            Level::Weak => ui.level_weak,
            Level::Critical => ui.level_critical,
            Level::NotAssessed => ui.not_assessed,
        }
    }
}

/// One answer below its question's maximum, and what fixing it is worth.
#[derive(Debug, Clone)]
pub struct Action<'q> {
    pub question_index: usize,
    pub question: &'q Question,
    pub domain_index: usize,
    /// The option given.
    pub given: usize,
    /// Weight × missing points: the ordering key.
    pub value: f64,
    /// Overall points the company gains with this answer at its maximum.
    pub overall_gain: f64,
}

/// The comparison series of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Comparison {
    /// The average of a published peer snapshot; `segment` when limited to one business
    /// type.
    Peers {
        averages: Vec<Option<f64>>,
        /// Companies compared with, rounded down to a multiple of five.
        companies: usize,
        segment: Option<String>,
        /// This company's rank band among them.
        band: Option<Band>,
        /// The date of the snapshot (Japan).
        as_of: NaiveDate,
    },
    /// An earlier assessment of the same company.
    Previous {
        scores: Vec<Option<f64>>,
        overall: Option<f64>,
        submitted: Option<NaiveDate>,
    },
}

impl Comparison {
    /// The comparison values per domain.
    pub fn values(&self) -> &[Option<f64>] {
        match self {
            Comparison::Peers { averages, .. } => averages,
            Comparison::Previous { scores, .. } => scores,
        }
    }
}

/// A coverage item with the domains that protect it.
#[derive(Debug, Clone)]
pub struct CoverageRow {
    pub item: Coverage,
    pub domains: Vec<usize>,
    /// The weakest assessed protecting domain and its score.
    pub weakest: Option<(usize, f64)>,
}

/// Everything the report shows, computed once.
#[derive(Debug, Clone)]
pub struct Analysis<'q> {
    pub q: &'q Questionnaire,
    pub scores: Scores,
    pub strengths: Vec<usize>,
    pub priorities: Vec<usize>,
    /// Every answer below its maximum, most valuable first.
    pub actions: Vec<Action<'q>>,
    /// Overall score and grade after the priorities' actions.
    pub projection: Option<(f64, String)>,
    pub coverage: Vec<CoverageRow>,
    pub findings: Vec<&'q Finding>,
    pub comparison: Option<Comparison>,
    /// Days from submission to the desired policy start, when given.
    pub days_to_start: Option<i64>,
    pub policy_start: Option<NaiveDate>,
}

/// The scores of a record as a report shows them (re-scored from its answers when the
/// record predates stored scores).
fn scores_of(q: &Questionnaire, record: &AssessmentRecord, answers: &Answers) -> Scores {
    record
        .scores
        .clone()
        .unwrap_or_else(|| scoring::score(q, answers))
}

/// Analyses a submitted record. `peers` is what the published peer snapshot lets this
/// record see (see [`crate::peers::PublishedSection::view`]); `previous`, when given, is
/// the comparison instead.
pub fn analyse<'q>(
    q: &'q Questionnaire,
    record: &AssessmentRecord,
    peers: Option<&PeerView>,
    previous: Option<&AssessmentRecord>,
) -> Analysis<'q> {
    let answers = Answers::parse(q, &record.answers).unwrap_or_else(|_| Answers::empty(q));
    let scores = scores_of(q, record, &answers);

    let mut assessed: Vec<(usize, f64)> = scores
        .domains
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.score.map(|s| (i, s)))
        .collect();
    // Highest first; ties in questionnaire order, so the output is deterministic.
    assessed.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // Only good domains are strengths; a weak company may have none.
    let strengths: Vec<usize> = assessed
        .iter()
        .filter(|(_, s)| *s >= STRENGTH_MIN)
        .take(STRENGTHS)
        .map(|(i, _)| *i)
        .collect();
    let mut lowest = assessed.clone();
    lowest.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    let priorities: Vec<usize> = lowest
        .iter()
        .filter(|(i, s)| *s < 100.0 && !strengths.contains(i))
        .take(PRIORITIES)
        .map(|(i, _)| *i)
        .collect();

    let base = scores.overall.unwrap_or(0.0);
    let mut actions: Vec<Action> = Vec::new();
    for (qi, question) in q.questions.iter().enumerate() {
        let Some(Choice::Option(given)) = answers.0[qi] else {
            continue;
        };
        let missing = question.max_score - question.options[given].score;
        if missing <= 0.0 {
            continue;
        }
        let mut improved = answers.clone();
        improved.0[qi] = Some(Choice::Option(best_option(question)));
        let gain = scoring::score(q, &improved).overall.unwrap_or(0.0) - base;
        actions.push(Action {
            question_index: qi,
            question,
            domain_index: question.domain_index,
            given,
            value: question.weight * missing,
            overall_gain: gain,
        });
    }
    actions.sort_by(|a, b| {
        b.value
            .total_cmp(&a.value)
            .then(b.overall_gain.total_cmp(&a.overall_gain))
            .then(a.question_index.cmp(&b.question_index))
    });

    let projection = {
        let mut improved = answers.clone();
        let mut any = false;
        for a in actions
            .iter()
            .filter(|a| priorities.contains(&a.domain_index))
        {
            improved.0[a.question_index] = Some(Choice::Option(best_option(a.question)));
            any = true;
        }
        let s = scoring::score(q, &improved);
        match (any, s.overall, s.grade) {
            (true, Some(o), Some(g)) => Some((o, g)),
            _ => None,
        }
    };

    let coverage = [Coverage::A, Coverage::B, Coverage::C, Coverage::D]
        .into_iter()
        .map(|item| {
            let domains: Vec<usize> = q
                .domains
                .iter()
                .enumerate()
                .filter(|(_, d)| d.coverage.contains(&item))
                .map(|(i, _)| i)
                .collect();
            let weakest = domains
                .iter()
                .filter_map(|&i| scores.domains.get(i)?.score.map(|s| (i, s)))
                .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            CoverageRow {
                item,
                domains,
                weakest,
            }
        })
        .collect();

    let findings = record
        .findings
        .iter()
        .filter_map(|id| q.findings.iter().find(|f| &f.id == id))
        .collect();

    let comparison = match previous {
        // Lined up by domain id: the previous assessment may have used another version
        // of the questionnaire, with domains added, removed or reordered.
        Some(p) => Some(Comparison::Previous {
            scores: match &p.scores {
                Some(s) => s.lined_up(q),
                None => vec![None; q.domains.len()],
            },
            overall: p.scores.as_ref().and_then(|s| s.overall),
            submitted: p.submitted_at.map(local_date),
        }),
        None => peers.map(|v| peer_comparison(q, v)),
    };

    let policy_start = record
        .profile
        .get(POLICY_START_FIELD)
        .and_then(|v| v.as_str())
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok());
    let days_to_start = match (policy_start, record.submitted_at) {
        (Some(start), Some(at)) => Some((start - local_date(at)).num_days()),
        _ => None,
    };

    Analysis {
        q,
        scores,
        strengths,
        priorities,
        actions,
        projection,
        coverage,
        findings,
        comparison,
        days_to_start,
        policy_start,
    }
}

fn best_option(question: &Question) -> usize {
    question
        .options
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.score.total_cmp(&b.1.score).then(b.0.cmp(&a.0)))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

/// A peer view as the report's comparison, lined up with the questionnaire's domains.
fn peer_comparison(q: &Questionnaire, v: &PeerView) -> Comparison {
    Comparison::Peers {
        averages: q
            .domains
            .iter()
            .map(|d| v.averages.get(&d.id).copied())
            .collect(),
        companies: v.companies,
        segment: v.segment.clone(),
        band: v.band,
        as_of: local_date(v.as_of),
    }
}

impl Analysis<'_> {
    /// The actions of the priority domains, most valuable first.
    pub fn priority_actions(&self, domain: usize) -> impl Iterator<Item = &Action<'_>> {
        self.actions
            .iter()
            .filter(move |a| a.domain_index == domain)
    }

    /// Findings of one kind, in questionnaire order.
    pub fn findings_of(&self, kind: FindingKind) -> impl Iterator<Item = &&Finding> {
        self.findings.iter().filter(move |f| f.kind == kind)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use chrono::{TimeZone, Utc};
    use serde_json::json;

    use super::*;
    use crate::assessment::{new_draft, submit_record, Changes};
    use crate::scoring::DomainScore;

    fn fixture() -> Questionnaire {
        let src = include_str!("../../tests/fixtures/small/fixture-1.toml");
        crate::questionnaire::parse_file(Path::new("f.toml"), src).unwrap()
    }

    fn submitted(q: &Questionnaire) -> AssessmentRecord {
        let answers = [("q1", "no"), ("q2", "partly"), ("q3", "no"), ("q4", "b")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let changes = Changes {
            profile: Default::default(),
            answers,
        };
        let mut r = new_draft(q, &changes).unwrap().record;
        submit_record(q, &mut r).unwrap();
        r
    }

    #[test]
    fn previous_scores_line_up_by_domain_id() {
        let q = fixture();
        let record = submitted(&q);
        let mut previous = submitted(&q);
        let score = |id: &str, s: f64| DomainScore {
            id: id.into(),
            score: Some(s),
            answered: 1,
            not_applicable: 0,
        };
        // Another version: d3 first, d2 gone, a domain this version does not have.
        previous.scores.as_mut().unwrap().domains =
            vec![score("d3", 90.0), score("d0", 10.0), score("d1", 50.0)];
        let a = analyse(&q, &record, None, Some(&previous));
        assert_eq!(
            a.comparison.unwrap().values(),
            &[Some(50.0), None, Some(90.0)]
        );
    }

    #[test]
    fn the_timeline_counts_japanese_calendar_days() {
        let q = fixture();
        let mut record = submitted(&q);
        // 2027-03-31 23:30 UTC is already 1 April in Japan.
        record.submitted_at = Some(Utc.with_ymd_and_hms(2027, 3, 31, 23, 30, 0).unwrap());
        record
            .profile
            .insert(POLICY_START_FIELD.into(), json!("2027-04-11"));
        let a = analyse(&q, &record, None, None);
        assert_eq!(a.days_to_start, Some(10));
        record
            .profile
            .insert(POLICY_START_FIELD.into(), json!("2027-03-01"));
        assert_eq!(analyse(&q, &record, None, None).days_to_start, Some(-31));
    }

    #[test]
    fn a_peer_view_lines_up_with_the_domains_and_is_dated_in_japan() {
        let q = fixture();
        let record = submitted(&q);
        let view = PeerView {
            // 20:00 UTC is already the next day in Japan.
            as_of: Utc.with_ymd_and_hms(2026, 11, 25, 20, 0, 0).unwrap(),
            segment: None,
            companies: 10,
            averages: [("d3".to_string(), 40.0), ("d1".to_string(), 60.0)]
                .into_iter()
                .collect(),
            overall_average: Some(50.0),
            band: Some(Band::of(0, 10)),
        };
        let a = analyse(&q, &record, Some(&view), None);
        let Some(Comparison::Peers {
            averages,
            companies,
            as_of,
            band,
            ..
        }) = a.comparison
        else {
            panic!("a peer comparison");
        };
        assert_eq!(averages, [Some(60.0), None, Some(40.0)]);
        assert_eq!(companies, 10);
        assert_eq!(as_of, NaiveDate::from_ymd_opt(2026, 11, 26).unwrap());
        assert_eq!(band.map(Band::index), Some(1));
        // A previous assessment is the comparison instead, whatever the peers.
        let a = analyse(&q, &record, Some(&view), Some(&record));
        assert!(matches!(a.comparison, Some(Comparison::Previous { .. })));
    }

    #[test]
    fn the_deadline_warns_from_thirty_days_and_is_firm_inside_fourteen() {
        use super::Deadline::*;
        let of = |d| Deadline::of(Some(d));
        assert_eq!(Deadline::of(None), Unknown);
        assert_eq!(of(-1), Past);
        assert_eq!(of(0), Missed);
        assert_eq!(of(PROCEDURE_DEADLINE_DAYS - 1), Missed);
        assert_eq!(
            of(PROCEDURE_DEADLINE_DAYS),
            Soon,
            "day 14: still possible, hurry"
        );
        assert_eq!(of(20), Soon, "20 days out must hurry, not be reassured");
        assert_eq!(of(PROCEDURE_WARNING_DAYS), Soon);
        assert_eq!(of(PROCEDURE_WARNING_DAYS + 1), Ahead);
    }
}
