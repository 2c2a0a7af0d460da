//! Scoring: pure functions from a questionnaire and answers to domain scores, the overall
//! score, the grade and the findings that apply. The rules are the normative ones of
//! `QUESTIONNAIRE_FORMAT.md`. Does no I/O.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::questionnaire::{Answers, Choice, Condition, Finding, Questionnaire, NA};

/// The score of one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainScore {
    pub id: String,
    /// 0 to 100, or `None` when no question of the domain was answered (not assessed).
    pub score: Option<f64>,
    /// Questions answered with an option (not "not applicable").
    pub answered: usize,
    pub not_applicable: usize,
}

/// The result of scoring one set of answers. Values are unrounded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub domains: Vec<DomainScore>,
    /// Weighted mean of the assessed domains; `None` when none is assessed.
    pub overall: Option<f64>,
    pub grade: Option<String>,
}

/// How far two scorings of the same answers may differ and still agree: only float
/// rounding (a stored score went through JSON), never a real difference.
pub const SCORE_TOLERANCE: f64 = 1e-9;

/// Why scores cannot be those of a questionnaire.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapeError {
    #[error("scores.domains are [{found}] but questionnaire {questionnaire} has the domains [{expected}]")]
    Domains {
        found: String,
        expected: String,
        questionnaire: String,
    },
    #[error("scores hold {0}, which is not a score from 0 to 100")]
    OutOfRange(f64),
}

impl Scores {
    /// Checks that these scores have the shape of `q`'s: one per domain of `q`, in its
    /// order, and every score (the overall too) a number from 0 to 100. A report relies on
    /// it; scores of a record that passed it can be shown with `q`.
    pub fn check_shape(&self, q: &Questionnaire) -> Result<(), ShapeError> {
        let same = self.domains.len() == q.domains.len()
            && self
                .domains
                .iter()
                .zip(&q.domains)
                .all(|(s, d)| s.id == d.id);
        if !same {
            let ids = |it: &mut dyn Iterator<Item = &str>| it.collect::<Vec<_>>().join(", ");
            return Err(ShapeError::Domains {
                found: ids(&mut self.domains.iter().map(|d| d.id.as_str())),
                expected: ids(&mut q.domains.iter().map(|d| d.id.as_str())),
                questionnaire: format!("{} {}", q.id, q.version),
            });
        }
        let values = self
            .domains
            .iter()
            .filter_map(|d| d.score)
            .chain(self.overall);
        for v in values {
            if !(0.0..=100.0).contains(&v) {
                return Err(ShapeError::OutOfRange(v));
            }
        }
        Ok(())
    }

    /// Whether two scorings say the same, up to [`SCORE_TOLERANCE`].
    pub fn agrees_with(&self, other: &Scores) -> bool {
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= SCORE_TOLERANCE,
            (None, None) => true,
            _ => false,
        };
        self.domains.len() == other.domains.len()
            && self.domains.iter().zip(&other.domains).all(|(a, b)| {
                a.id == b.id
                    && close(a.score, b.score)
                    && a.answered == b.answered
                    && a.not_applicable == b.not_applicable
            })
            && close(self.overall, other.overall)
            && self.grade == other.grade
    }

    /// The score of each domain of `q`, in `q`'s order, found by domain id: scores taken
    /// with another version of the questionnaire (domains added, removed or reordered) line
    /// up with this one's domains; a domain they lack is `None`.
    pub fn lined_up(&self, q: &Questionnaire) -> Vec<Option<f64>> {
        q.domains
            .iter()
            .map(|d| {
                self.domains
                    .iter()
                    .find(|s| s.id == d.id)
                    .and_then(|s| s.score)
            })
            .collect()
    }
}

/// Rounds a score to one decimal, as scores are reported.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A score as users read it: rounded to one decimal, always written with one.
pub fn format1(x: f64) -> String {
    format!("{:.1}", round1(x))
}

/// Scores answers against their questionnaire.
pub fn score(q: &Questionnaire, answers: &Answers) -> Scores {
    let n = q.domains.len();
    let mut got = vec![0.0; n];
    let mut max = vec![0.0; n];
    let mut answered = vec![0usize; n];
    let mut na = vec![0usize; n];
    for (question, answer) in q.questions.iter().zip(answers.0.iter()) {
        let d = question.domain_index;
        match answer {
            Some(Choice::Option(o)) => {
                got[d] += question.weight * question.options[*o].score;
                max[d] += question.weight * question.max_score;
                answered[d] += 1;
            }
            Some(Choice::NotApplicable) => na[d] += 1,
            None => {}
        }
    }
    let mut sum = 0.0;
    let mut weights = 0.0;
    let domains = q
        .domains
        .iter()
        .enumerate()
        .map(|(d, domain)| {
            let score = if answered[d] == 0 {
                None
            } else if max[d] > 0.0 {
                Some(100.0 * got[d] / max[d])
            } else {
                // Every answered question has a maximum of 0: nothing could be missed.
                Some(100.0)
            };
            if let Some(s) = score {
                sum += domain.weight * s;
                weights += domain.weight;
            }
            DomainScore {
                id: domain.id.clone(),
                score,
                answered: answered[d],
                not_applicable: na[d],
            }
        })
        .collect();
    let overall = (weights > 0.0).then(|| (sum / weights).clamp(0.0, 100.0));
    let grade = overall.map(|o| q.grades.grade(o));
    Scores {
        domains,
        overall,
        grade,
    }
}

/// The findings whose condition holds, in file order.
pub fn findings<'q>(
    q: &'q Questionnaire,
    answers: &Answers,
    profile: &BTreeMap<String, Value>,
) -> Vec<&'q Finding> {
    q.findings
        .iter()
        .filter(|f| holds(q, &f.when, answers, profile))
        .collect()
}

/// Whether a finding's condition holds for these answers and profile.
pub fn holds(
    q: &Questionnaire,
    condition: &Condition,
    answers: &Answers,
    profile: &BTreeMap<String, Value>,
) -> bool {
    match condition {
        Condition::Question { question, any_of } => q
            .question_position(question)
            .and_then(|i| answers.0[i].map(|a| (i, a)))
            .is_some_and(|(i, a)| {
                let id = match a {
                    Choice::Option(o) => q.questions[i].options[o].id.as_str(),
                    Choice::NotApplicable => NA,
                };
                any_of.iter().any(|x| x == id)
            }),
        Condition::Profile {
            profile: field,
            any_of,
        } => match profile.get(field) {
            Some(Value::String(s)) => any_of.contains(s),
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .any(|s| any_of.iter().any(|x| x == s)),
            _ => false,
        },
        Condition::Any { any } => any.iter().any(|c| holds(q, c, answers, profile)),
    }
}

#[cfg(test)]
mod shipped_tests;
#[cfg(test)]
mod tests;
