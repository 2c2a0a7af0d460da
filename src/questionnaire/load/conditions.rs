//! A finding's `when`: a question or profile condition with known option ids, or, at the
//! top level, `any` of them.

use std::collections::HashMap;

use super::{Checker, RawWhen};
use crate::questionnaire::model::{Condition, ProfileField, Question};
use crate::questionnaire::NA;

/// What a finding's condition may name.
pub(super) struct ConditionScope<'a> {
    pub(super) questions: &'a [Question],
    pub(super) question_index: &'a HashMap<String, usize>,
    pub(super) profile: &'a [ProfileField],
    pub(super) profile_index: &'a HashMap<String, usize>,
}

/// One `when`: exactly one of `question`, `profile` (each with an `in` of known
/// option ids) or, at the top level only, `any` (a non-empty list of such conditions).
pub(super) fn parse_condition(
    c: &mut Checker,
    scope: &ConditionScope,
    w: &RawWhen,
    span: std::ops::Range<usize>,
    field: &str,
    top: bool,
) -> Condition {
    let wspan = Some(span.clone());
    let empty = Vec::new();
    let any_of = w.any_of.as_ref().unwrap_or(&empty);
    // An empty `in` never fires; files that had one load as they did.
    let needs_in = |c: &mut Checker| {
        if w.any_of.is_none() {
            c.report(wspan.clone(), format!("{field}.in"), "in is missing");
        }
    };
    match (&w.question, &w.profile, &w.any) {
        (Some(qid), None, None) => {
            needs_in(c);
            match scope.question_index.get(qid) {
                None => c.report(
                    wspan.clone(),
                    format!("{field}.question"),
                    &format!("unknown question \"{qid}\""),
                ),
                Some(&qi) => {
                    let q = &scope.questions[qi];
                    for o in any_of {
                        let known = q.option_position(o).is_some() || (o == NA && q.allow_na);
                        if !known {
                            c.report(
                                wspan.clone(),
                                format!("{field}.in"),
                                &format!("question \"{qid}\" has no option \"{o}\""),
                            );
                        }
                    }
                }
            }
            Condition::Question {
                question: qid.clone(),
                any_of: any_of.clone(),
            }
        }
        (None, Some(pid), None) => {
            needs_in(c);
            match scope.profile_index.get(pid).map(|&i| &scope.profile[i]) {
                None => c.report(
                    wspan.clone(),
                    format!("{field}.profile"),
                    &format!("unknown profile field \"{pid}\""),
                ),
                Some(p) if p.options.is_empty() => c.report(
                    wspan.clone(),
                    format!("{field}.profile"),
                    &format!("profile field \"{pid}\" has no options to match"),
                ),
                Some(p) => {
                    for o in any_of {
                        if !p.options.iter().any(|x| &x.id == o) {
                            c.report(
                                wspan.clone(),
                                format!("{field}.in"),
                                &format!("profile field \"{pid}\" has no option \"{o}\""),
                            );
                        }
                    }
                }
            }
            Condition::Profile {
                profile: pid.clone(),
                any_of: any_of.clone(),
            }
        }
        (None, None, Some(alternatives)) if top && w.any_of.is_none() => {
            if alternatives.is_empty() {
                c.report(
                    wspan.clone(),
                    format!("{field}.any"),
                    "any must list at least one condition",
                );
            }
            let any = alternatives
                .iter()
                .enumerate()
                .map(|(i, a)| {
                    parse_condition(
                        c,
                        scope,
                        a,
                        span.clone(),
                        &format!("{field}.any[{i}]"),
                        false,
                    )
                })
                .collect();
            Condition::Any { any }
        }
        _ => {
            let message = if top {
                "when needs exactly one of question, profile or any"
            } else {
                "each alternative of any needs exactly one of question or profile"
            };
            c.report(wspan, field.to_string(), message);
            Condition::Question {
                question: String::new(),
                any_of: Vec::new(),
            }
        }
    }
}
