//! The findings of the shipped questionnaire 2026.2 fire exactly when their conditions hold:
//! every option of every field or question a finding names, tried alone.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::findings;
use crate::questionnaire::{parse_file, Answers, Condition, FieldKind, Questionnaire};

const SHIPPED: &str = include_str!("../../questionnaires/it-liability-2026.2.toml");

fn shipped() -> Questionnaire {
    parse_file(Path::new("it-liability-2026.2.toml"), SHIPPED).expect("the shipped file is valid")
}

/// The ids of the findings that fire for these answers and profile values.
fn fired(q: &Questionnaire, answers: &[(&str, &str)], profile: &[(&str, Value)]) -> Vec<String> {
    let raw: BTreeMap<String, String> = answers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let answers = Answers::parse(q, &raw).expect("valid answers");
    let profile: BTreeMap<String, Value> = profile
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    findings(q, &answers, &profile)
        .iter()
        .map(|f| f.id.clone())
        .collect()
}

/// A finding's id, the answers and the profile values to try it with.
type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Vec<(&'a str, Value)>);

/// Each simple condition of a finding, with `any` flattened.
fn alternatives(c: &Condition) -> Vec<&Condition> {
    match c {
        Condition::Any { any } => any.iter().collect(),
        other => vec![other],
    }
}

#[test]
fn nothing_answered_fires_nothing() {
    assert_eq!(fired(&shipped(), &[], &[]), Vec::<String>::new());
}

#[test]
fn every_finding_fires_for_each_listed_value_alone_and_for_no_other() {
    let q = shipped();
    for f in &q.findings {
        for c in alternatives(&f.when) {
            match c {
                Condition::Question { question, any_of } => {
                    let qn = &q.questions[q.question_position(question).unwrap()];
                    let mut values: Vec<&str> = qn.options.iter().map(|o| o.id.as_str()).collect();
                    if qn.allow_na {
                        values.push("na");
                    }
                    for v in values {
                        let on = fired(&q, &[(question, v)], &[]).contains(&f.id);
                        assert_eq!(
                            on,
                            any_of.iter().any(|x| x == v),
                            "{} with {question} = {v}",
                            f.id
                        );
                    }
                }
                Condition::Profile { profile, any_of } => {
                    let field = q.profile_field(profile).unwrap();
                    for o in &field.options {
                        let value = match field.kind {
                            FieldKind::Multiselect => json!([o.id]),
                            _ => json!(o.id),
                        };
                        let on = fired(&q, &[], &[(profile, value)]).contains(&f.id);
                        assert_eq!(
                            on,
                            any_of.contains(&o.id),
                            "{} with {profile} = {}",
                            f.id,
                            o.id
                        );
                    }
                }
                Condition::Any { .. } => panic!("{}: a nested any", f.id),
            }
        }
    }
}

#[test]
fn the_new_findings_fire_on_the_answers_they_are_about() {
    let q = shipped();
    let cases: Vec<Case> = vec![
        (
            "info-liability-cap-near",
            vec![],
            vec![("liability_cap_share", json!("25to50"))],
        ),
        (
            "info-past-claims",
            vec![],
            vec![("past_claims", json!("yes"))],
        ),
        (
            "info-past-claims",
            vec![],
            vec![("past_claims", json!("unknown"))],
        ),
        (
            "excl-known-circumstances",
            vec![],
            vec![("known_circumstances", json!("yes"))],
        ),
        (
            "cov-subcontracting",
            vec![],
            vec![("subcontract_share", json!("50plus"))],
        ),
        (
            "cov-sensitive-data",
            vec![],
            vec![("sensitive_data", json!(["mynumber"]))],
        ),
        (
            "cov-overseas-claims",
            vec![],
            vec![("north_america_revenue_share", json!("10plus"))],
        ),
        (
            "cov-overseas-claims",
            vec![],
            vec![("governing_law", json!("some-foreign"))],
        ),
        ("excl-earthquake", vec![("ir-bcp", "no")], vec![]),
        (
            "excl-earthquake",
            vec![("ir-bcp", "yes"), ("av-redundancy", "partly")],
            vec![],
        ),
        (
            "excl-bodily-injury-property",
            vec![],
            vec![("business_type", json!("embedded"))],
        ),
        (
            "excl-bodily-injury-property",
            vec![],
            vec![("client_industries", json!(["finance", "medical"]))],
        ),
        (
            "excl-troubled-projects",
            vec![("ct-troubled-projects", "no")],
            vec![],
        ),
        (
            "excl-special-terms",
            vec![("ct-aggravating-terms", "some-unreviewed")],
            vec![],
        ),
        (
            "cov-leak-misdelivery-loss",
            vec![("dh-email-misdelivery", "no")],
            vec![],
        ),
        (
            "cov-leak-misdelivery-loss",
            vec![("dh-disposal", "none")],
            vec![],
        ),
    ];
    for (id, answers, profile) in &cases {
        let on = fired(&q, answers, profile);
        assert!(
            on.contains(&id.to_string()),
            "{id} should fire for {answers:?} {profile:?}: {on:?}"
        );
    }
    // And stay silent for the answers that are not about them.
    let quiet: Vec<Case> = vec![
        (
            "info-liability-cap-near",
            vec![],
            vec![("liability_cap_share", json!("50to75"))],
        ),
        (
            "info-past-claims",
            vec![],
            vec![("past_claims", json!("none"))],
        ),
        (
            "cov-subcontracting",
            vec![],
            vec![("subcontract_share", json!("under25"))],
        ),
        (
            "cov-sensitive-data",
            vec![],
            vec![("sensitive_data", json!(["none"]))],
        ),
        (
            "cov-overseas-claims",
            vec![],
            vec![
                ("overseas_revenue_share", json!("under10")),
                ("overseas_customers", json!("no")),
            ],
        ),
        (
            "excl-earthquake",
            vec![("ir-bcp", "yes"), ("av-redundancy", "yes")],
            vec![],
        ),
        (
            "excl-bodily-injury-property",
            vec![],
            vec![
                ("business_type", json!("saas")),
                ("client_industries", json!(["finance", "public"])),
            ],
        ),
        (
            "excl-special-terms",
            vec![("ct-aggravating-terms", "none")],
            vec![],
        ),
        (
            "cov-leak-misdelivery-loss",
            vec![
                ("dh-email-misdelivery", "yes"),
                ("dh-devices", "all"),
                ("dh-disposal", "certified"),
                ("dh-physical", "yes"),
            ],
            vec![],
        ),
    ];
    for (id, answers, profile) in &quiet {
        let on = fired(&q, answers, profile);
        assert!(
            !on.contains(&id.to_string()),
            "{id} should stay silent for {answers:?} {profile:?}"
        );
    }
}

#[test]
fn the_exclusions_of_the_seed_that_answers_can_make_relevant_are_all_linked() {
    use crate::questionnaire::GeneralExclusion as E;
    let q = shipped();
    let linked: std::collections::BTreeSet<E> =
        q.findings.iter().filter_map(|f| f.exclusion).collect();
    for e in [
        E::Earthquake,
        E::NetworkCapacity,
        E::SpecialTerms,
        E::ResultGuarantee,
        E::EmployeeDishonesty,
        E::NonPerformance,
        E::BodilyInjuryProperty,
        E::IpInfringement,
        E::UntestedSoftware,
    ] {
        assert!(linked.contains(&e), "no finding links {e:?}");
    }
}
