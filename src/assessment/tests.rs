use std::path::Path;

use serde_json::json;

use super::*;
use crate::questionnaire::parse_file;

fn fixture() -> Questionnaire {
    let src = include_str!("../../tests/fixtures/small/fixture-1.toml");
    parse_file(Path::new("fixture-1.toml"), src).expect("fixture is valid")
}

fn changes(profile: Value, answers: Value) -> Changes {
    let to_map =
        |v: Value| -> BTreeMap<String, Value> { serde_json::from_value(v).expect("an object") };
    Changes {
        profile: to_map(profile),
        answers: to_map(answers),
    }
}

#[test]
fn a_bad_change_applies_nothing() {
    let q = fixture();
    let mut draft = new_draft(&q, &Changes::default()).unwrap().record;
    let before = draft.clone();
    let err = apply_changes(
        &q,
        &mut draft,
        &changes(json!({}), json!({"q1": "yes", "q2": "bogus"})),
    );
    assert!(matches!(
        err,
        Err(AssessmentError::Answer(AnswerError::UnknownOption { .. }))
    ));
    assert_eq!(draft, before);
}

#[test]
fn null_clears_an_answer() {
    let q = fixture();
    let mut draft = new_draft(&q, &changes(json!({}), json!({"q1": "yes"})))
        .unwrap()
        .record;
    apply_changes(&q, &mut draft, &changes(json!({}), json!({"q1": null}))).unwrap();
    assert!(draft.answers.is_empty());
}

#[test]
fn submission_names_the_first_unanswered_question_then_scores() {
    let q = fixture();
    let mut draft = new_draft(&q, &changes(json!({}), json!({"q1": "yes", "q3": "na"})))
        .unwrap()
        .record;
    match submit_record(&q, &mut draft) {
        Err(AssessmentError::Unanswered(q)) => assert_eq!(q, "q2"),
        other => panic!("expected unanswered q2, got {other:?}"),
    }
    apply_changes(
        &q,
        &mut draft,
        &changes(json!({}), json!({"q2": "no", "q4": "a"})),
    )
    .unwrap();
    submit_record(&q, &mut draft).unwrap();
    assert_eq!(draft.status, Status::Submitted);
    assert!(draft.scores.is_some());
    assert_eq!(draft.findings, Vec::<String>::new());
    assert!(matches!(
        submit_record(&q, &mut draft),
        Err(AssessmentError::AlreadySubmitted)
    ));
}

#[test]
fn a_required_multiselect_needs_at_least_one_choice() {
    let src = include_str!("../../tests/fixtures/small/fixture-1.toml").replace(
        "kind = \"multiselect\"",
        "kind = \"multiselect\"\nrequired = true",
    );
    let q = parse_file(Path::new("f.toml"), &src).unwrap();
    let all = json!({"q1": "yes", "q2": "yes", "q3": "yes", "q4": "a"});
    let mut draft = new_draft(&q, &changes(json!({"certs": []}), all.clone()))
        .unwrap()
        .record;
    assert!(
        matches!(submit_record(&q, &mut draft), Err(AssessmentError::MissingProfileField(f)) if f == "certs")
    );
    apply_changes(
        &q,
        &mut draft,
        &changes(json!({"certs": ["pmark"]}), json!({})),
    )
    .unwrap();
    submit_record(&q, &mut draft).unwrap();
}

#[test]
fn recompute_gives_what_submission_gave_and_ignores_stored_scores() {
    let q = fixture();
    let all = json!({"q1": "no", "q2": "partly", "q3": "na", "q4": "b"});
    let mut record = new_draft(&q, &changes(json!({}), all)).unwrap().record;
    submit_record(&q, &mut record).unwrap();
    let (scores, findings) = recompute(&q, &record).unwrap();
    assert_eq!(Some(&scores), record.scores.as_ref());
    assert_eq!(findings, record.findings);

    let mut tampered = record.clone();
    tampered.scores.as_mut().unwrap().overall = Some(99.9);
    tampered.findings.clear();
    assert_eq!(recompute(&q, &tampered).unwrap(), (scores, findings));
}

#[test]
fn recompute_refuses_a_record_that_could_not_have_been_submitted() {
    let q = fixture();
    let all = json!({"q1": "no", "q2": "partly", "q3": "na", "q4": "b"});
    let mut record = new_draft(&q, &changes(json!({}), all)).unwrap().record;
    submit_record(&q, &mut record).unwrap();

    let mut unanswered = record.clone();
    unanswered.answers.remove("q2");
    assert!(matches!(
        recompute(&q, &unanswered),
        Err(AssessmentError::Unanswered(ref id)) if id == "q2"
    ));
    let mut unknown = record.clone();
    unknown.answers.insert("q1".into(), "maybe".into());
    assert!(matches!(
        recompute(&q, &unknown),
        Err(AssessmentError::Answer(AnswerError::UnknownOption { .. }))
    ));
    let mut profile = record.clone();
    profile.profile.insert("nonsense".into(), json!("x"));
    assert!(matches!(
        recompute(&q, &profile),
        Err(AssessmentError::UnknownProfileField(ref f)) if f == "nonsense"
    ));
    assert!(check_draft(&q, &profile).is_err());
}

#[test]
fn client_names_fold_width_case_and_half_width_katakana() {
    use super::ClientName;
    assert_eq!(crate::names::fold(" ＡＢＣ株式会社 "), "abc株式会社");
    assert_eq!(
        crate::names::fold("ｶﾌﾞｼｷｶﾞｲｼｬｻﾝﾌﾟﾙ"),
        "カブシキガイシャサンプル"
    );
    assert!(ClientName::parse("\u{202E}evil").is_err());
    assert!(ClientName::parse("a\tb").is_err());
    assert!(ClientName::parse(&"字".repeat(120)).is_ok());
    assert!(ClientName::parse(&"字".repeat(121)).is_err());
}

#[tokio::test]
async fn a_save_or_submit_through_a_replaced_link_is_refused() {
    let q = fixture();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let broker = Uuid::new_v4();
    let client = ClientName::parse("Client").unwrap();
    let created = invite(&store, &q, broker, &client, None, None)
        .await
        .unwrap();
    // The applicant's request read the draft with the old link...
    let read_with_old_link = store.get(created.record.id).unwrap().unwrap();
    // ...then the broker made a new link before the request wrote.
    assert!(matches!(
        reissue(&store, broker, created.record.id).await.unwrap(),
        Reissue::Done(_)
    ));
    let answers = changes(json!({}), json!({"q1": "yes"}));
    let saved = update(&store, &q, &read_with_old_link, &answers).await;
    assert!(matches!(saved, Err(AssessmentError::NotFound)));
    let submitted = submit(&store, Arc::new(q.clone()), &read_with_old_link).await;
    assert!(matches!(submitted, Err(AssessmentError::NotFound)));
    assert!(store
        .get(created.record.id)
        .unwrap()
        .unwrap()
        .answers
        .is_empty());
}
