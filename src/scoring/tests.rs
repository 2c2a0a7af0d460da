use std::collections::BTreeMap;
use std::path::Path;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::questionnaire::parse_file;

/// Three domains; `d1` weighs 2, its question `q2` weighs 3; `q3` allows "na".
const FIXTURE: &str = include_str!("../../tests/fixtures/small/fixture-1.toml");

fn fixture() -> Questionnaire {
    parse_file(Path::new("fixture.toml"), FIXTURE).expect("fixture is valid")
}

fn answers(q: &Questionnaire, pairs: &[(&str, &str)]) -> Answers {
    let raw: BTreeMap<String, String> = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    Answers::parse(q, &raw).expect("valid answers")
}

#[test]
fn weighted_domain_score_follows_the_formula() {
    let q = fixture();
    // d1: (1*4 + 3*1) / (1*4 + 3*2) = 7/10 -> 70.
    let s = score(&q, &answers(&q, &[("q1", "yes"), ("q2", "partly")]));
    assert_eq!(s.domains[0].score, Some(70.0));
    assert_eq!(s.domains[0].answered, 2);
}

#[test]
fn overall_is_weighted_by_domain_weight_over_assessed_domains() {
    let q = fixture();
    // d1 = 100 (weight 2), d2 not assessed, d3 = 1/3*100 (weight 1).
    let s = score(
        &q,
        &answers(&q, &[("q1", "yes"), ("q2", "yes"), ("q4", "b")]),
    );
    assert_eq!(s.domains[1].score, None);
    let expected = (2.0 * 100.0 + 100.0 / 3.0) / 3.0;
    assert!((s.overall.unwrap() - expected).abs() < 1e-9);
    assert_eq!(s.grade.as_deref(), Some("B"));
}

#[test]
fn not_applicable_leaves_the_domain_not_assessed() {
    let q = fixture();
    let s = score(&q, &answers(&q, &[("q3", "na")]));
    assert_eq!(s.domains[1].score, None);
    assert_eq!(s.domains[1].not_applicable, 1);
    assert_eq!(s.overall, None);
    assert_eq!(s.grade, None);
}

#[test]
fn all_zero_answers_score_zero_not_null() {
    let q = fixture();
    let s = score(
        &q,
        &answers(&q, &[("q1", "no"), ("q2", "no"), ("q3", "no"), ("q4", "b")]),
    );
    assert_eq!(s.domains[0].score, Some(0.0));
    assert_eq!(s.domains[1].score, Some(0.0));
}

#[test]
fn grades_use_thresholds_and_fall_through_to_the_next_letter() {
    let g = crate::questionnaire::Grades::default();
    assert_eq!(g.grade(80.0), "A");
    assert_eq!(g.grade(79.99), "B");
    assert_eq!(g.grade(20.0), "D");
    assert_eq!(g.grade(19.9), "E");
}

#[test]
fn findings_match_answers_and_multiselect_profiles() {
    let q = fixture();
    let a = answers(&q, &[("q1", "no")]);
    let mut profile = BTreeMap::new();
    profile.insert("certs".to_string(), json!(["pmark", "isms"]));
    let ids: Vec<&str> = findings(&q, &a, &profile)
        .iter()
        .map(|f| f.id.as_str())
        .collect();
    assert_eq!(ids, ["f-q1", "f-cert"]);
    let none = findings(&q, &answers(&q, &[("q1", "yes")]), &BTreeMap::new());
    assert!(none.is_empty());
}

#[test]
fn a_finding_with_alternatives_fires_when_any_of_them_holds() {
    let src = FIXTURE.replace(
        "when = { question = \"q1\", in = [\"no\"] }",
        "when = { any = [{ question = \"q1\", in = [\"no\"] }, { profile = \"certs\", in = [\"pmark\"] }] }",
    );
    let q = parse_file(Path::new("fixture.toml"), &src).expect("valid");
    let fired = |pairs: &[(&str, &str)], certs: Value| {
        let profile = BTreeMap::from([("certs".to_string(), certs)]);
        findings(&q, &answers(&q, pairs), &profile)
            .iter()
            .any(|f| f.id == "f-q1")
    };
    assert!(fired(&[("q1", "no")], json!([])));
    assert!(fired(&[("q1", "yes")], json!(["pmark"])));
    assert!(fired(&[], json!(["isms", "pmark"])));
    assert!(!fired(&[("q1", "yes")], json!(["isms"])));
    assert!(!fired(&[], json!([])));
}

#[test]
fn bad_answers_are_rejected_with_their_question() {
    let q = fixture();
    let bad = |pairs: &[(&str, &str)]| {
        let raw = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Answers::parse(&q, &raw).unwrap_err()
    };
    assert_eq!(
        bad(&[("nope", "yes")]),
        AnswerError::UnknownQuestion("nope".into())
    );
    assert!(matches!(
        bad(&[("q1", "maybe")]),
        AnswerError::UnknownOption { .. }
    ));
    assert_eq!(bad(&[("q1", "na")]), AnswerError::NaNotAllowed("q1".into()));
}

use crate::questionnaire::AnswerError;

/// Any answer (or none) for each of the fixture's questions.
fn any_answers() -> impl Strategy<Value = Vec<Option<Choice>>> {
    let q = fixture();
    let per_question: Vec<_> = q
        .questions
        .iter()
        .map(|question| {
            let n = question.options.len();
            let na = question.allow_na;
            prop_oneof![
                Just(None),
                (0..n).prop_map(|o| Some(Choice::Option(o))),
                Just(if na {
                    Some(Choice::NotApplicable)
                } else {
                    None
                }),
            ]
        })
        .collect();
    per_question
}

proptest! {
    #[test]
    fn scores_stay_within_0_and_100(raw in any_answers()) {
        let q = fixture();
        let s = score(&q, &Answers(raw));
        for d in &s.domains {
            if let Some(v) = d.score {
                prop_assert!((0.0..=100.0).contains(&v));
            }
        }
        if let Some(o) = s.overall {
            prop_assert!((0.0..=100.0).contains(&o));
        }
    }

    #[test]
    fn a_domain_is_null_exactly_when_nothing_in_it_is_scored(raw in any_answers()) {
        let q = fixture();
        let s = score(&q, &Answers(raw.clone()));
        for (d, ds) in s.domains.iter().enumerate() {
            let scored = q.questions.iter().zip(&raw)
                .any(|(question, a)| question.domain_index == d && matches!(a, Some(Choice::Option(_))));
            prop_assert_eq!(ds.score.is_some(), scored);
        }
    }

    #[test]
    fn na_and_unanswered_do_not_change_a_domain_score(raw in any_answers()) {
        // Turning an "na" into "unanswered" (or back) never changes any score.
        let q = fixture();
        let cleared: Vec<Option<Choice>> = raw.iter()
            .map(|a| if *a == Some(Choice::NotApplicable) { None } else { *a })
            .collect();
        let a = score(&q, &Answers(raw));
        let b = score(&q, &Answers(cleared));
        prop_assert_eq!(
            a.domains.iter().map(|d| d.score).collect::<Vec<_>>(),
            b.domains.iter().map(|d| d.score).collect::<Vec<_>>()
        );
        prop_assert_eq!(a.overall, b.overall);
    }

    #[test]
    fn question_weights_are_honoured(o1 in 0usize..2, o2 in 0usize..3) {
        // d1 by hand: (1 * s1 + 3 * s2) / (1 * 4 + 3 * 2).
        let q = fixture();
        let mut raw = vec![None; 4];
        raw[0] = Some(Choice::Option(o1));
        raw[1] = Some(Choice::Option(o2));
        let s = score(&q, &Answers(raw));
        let s1 = [4.0, 0.0][o1];
        let s2 = [2.0, 1.0, 0.0][o2];
        let expected = 100.0 * (s1 + 3.0 * s2) / 10.0;
        prop_assert!((s.domains[0].score.unwrap() - expected).abs() < 1e-9);
        prop_assert_eq!(s.overall, s.domains[0].score);
    }

    #[test]
    fn a_better_answer_never_lowers_the_overall(raw in any_answers(), which in 0usize..4) {
        let q = fixture();
        let base = score(&q, &Answers(raw.clone())).overall;
        let mut improved = raw.clone();
        if let Some(Choice::Option(_)) = improved[which] {
            let best = q.questions[which].options.iter().enumerate()
                .max_by(|a, b| a.1.score.total_cmp(&b.1.score)).map(|(i, _)| i).unwrap();
            improved[which] = Some(Choice::Option(best));
            let better = score(&q, &Answers(improved)).overall;
            prop_assert!(better.unwrap() + 1e-9 >= base.unwrap());
        }
    }
}

#[test]
fn scores_fit_only_their_own_questionnaire_s_domains_in_order() {
    let q = fixture();
    let s = score(&q, &answers(&q, &[("q1", "yes"), ("q4", "b")]));
    assert_eq!(s.check_shape(&q), Ok(()));

    let mut reordered = s.clone();
    reordered.domains.swap(0, 2);
    assert!(matches!(
        reordered.check_shape(&q),
        Err(ShapeError::Domains { ref found, .. }) if found == "d3, d2, d1"
    ));
    let mut extra = s.clone();
    extra.domains.push(extra.domains[0].clone());
    assert!(extra.check_shape(&q).is_err());
    let mut short = s.clone();
    short.domains.pop();
    assert!(short.check_shape(&q).is_err());
    let mut high = s.clone();
    high.overall = Some(100.5);
    assert_eq!(high.check_shape(&q), Err(ShapeError::OutOfRange(100.5)));
}

#[test]
fn scorings_agree_up_to_float_rounding_only() {
    let q = fixture();
    let s = score(&q, &answers(&q, &[("q1", "yes"), ("q2", "partly")]));
    let mut rounded = s.clone();
    rounded.overall = s.overall.map(|o| o + SCORE_TOLERANCE / 2.0);
    assert!(s.agrees_with(&rounded));
    let mut tampered = s.clone();
    tampered.overall = Some(99.9);
    assert!(!s.agrees_with(&tampered));
    let mut regraded = s.clone();
    regraded.grade = Some("S".into());
    assert!(!s.agrees_with(&regraded));
}
