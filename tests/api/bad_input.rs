//! Every class of bad input gets its exact status and error code, and stores nothing.

use serde_json::{json, Value};

use crate::helpers::{expect_error, small_questionnaires, spawn_app, spawn_app_with, TestApp};

async fn create_raw(
    app: &TestApp,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/assessments"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn malformed_json_is_400_and_stores_nothing() {
    let app = spawn_app().await;
    let res = create_raw(&app, "application/json", "{\"questionnaire\": ").await;
    expect_error(res, 400, "malformed_json").await;
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_422_invalid_body() {
    let app = spawn_app().await;
    let res = create_raw(&app, "application/json", r#"{"questionnaire": 5}"#).await;
    let body = expect_error(res, 422, "invalid_body").await;
    assert!(
        !body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "serde's wording stays inside"
    );
    let res = create_raw(
        &app,
        "application/json",
        r#"{"questionnaire": "it-liability", "extra": 1}"#,
    )
    .await;
    expect_error(res, 422, "invalid_body").await;
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn a_body_over_256_kib_is_413_and_stores_nothing() {
    let app = spawn_app().await;
    let big = format!(
        r#"{{"questionnaire": "it-liability", "profile": {{"company_name": "{}"}}}}"#,
        "x".repeat(300 * 1024)
    );
    let res = create_raw(&app, "application/json", big).await;
    expect_error(res, 413, "payload_too_large").await;
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn a_body_just_under_the_limit_is_read() {
    let app = spawn_app().await;
    // Valid JSON of about 250 KiB whose text is too long for the field: read, then refused as 422.
    let big = format!(
        r#"{{"questionnaire": "it-liability", "profile": {{"company_name": "{}"}}}}"#,
        "x".repeat(250 * 1024)
    );
    let res = create_raw(&app, "application/json", big).await;
    expect_error(res, 422, "invalid_profile_value").await;
}

#[tokio::test]
async fn a_content_type_other_than_json_is_415() {
    let app = spawn_app().await;
    let res = create_raw(&app, "text/plain", r#"{"questionnaire": "it-liability"}"#).await;
    expect_error(res, 415, "unsupported_media_type").await;
    let res = create_raw(
        &app,
        "application/x-www-form-urlencoded",
        "questionnaire=it-liability",
    )
    .await;
    expect_error(res, 415, "unsupported_media_type").await;
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn an_unknown_questionnaire_is_404() {
    let app = spawn_app().await;
    let res = app
        .create_assessment(&json!({"questionnaire": "nope"}))
        .await;
    expect_error(res, 404, "unknown_questionnaire").await;
    let res = app
        .create_assessment(&json!({"questionnaire": "it-liability", "version": "1900.1"}))
        .await;
    expect_error(res, 404, "unknown_questionnaire").await;
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn unknown_or_invalid_answers_and_profile_values_are_422_with_their_field() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let cases = [
        (
            json!({"answers": {"nope": "yes"}}),
            "unknown_question",
            "answers.nope",
        ),
        (
            json!({"answers": {"q1": "maybe"}}),
            "unknown_option",
            "answers.q1",
        ),
        (
            json!({"answers": {"q1": "na"}}),
            "na_not_allowed",
            "answers.q1",
        ),
        (
            json!({"answers": {"q1": 3}}),
            "invalid_answer",
            "answers.q1",
        ),
        (
            json!({"profile": {"nope": "x"}}),
            "unknown_profile_field",
            "profile.nope",
        ),
        (
            json!({"profile": {"certs": ["isms", "bogus"]}}),
            "invalid_profile_value",
            "profile.certs",
        ),
        (
            json!({"profile": {"certs": "isms"}}),
            "invalid_profile_value",
            "profile.certs",
        ),
    ];
    for (extra, code, field) in cases {
        let mut body = json!({"questionnaire": "fixture"});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let res = app.create_assessment(&body).await;
        let err = expect_error(res, 422, code).await;
        assert_eq!(err["error"]["field"], field);
    }
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn wrong_select_values_unparseable_dates_and_negative_or_unparseable_numbers_are_422() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let cases = [
        json!({"sector": "bakery"}),
        json!({"start": "2027-13-01"}),
        json!({"start": "next week"}),
        json!({"staff": "thirty"}),
        json!({"staff": true}),
        json!({"staff": -5}),
        json!({"staff": "-1"}),
        json!({"company_name": 12}),
    ];
    for profile in cases {
        let field = format!(
            "profile.{}",
            profile.as_object().unwrap().keys().next().unwrap()
        );
        let res = app
            .create_assessment(&json!({"questionnaire": "small-five", "profile": profile}))
            .await;
        let err = expect_error(res, 422, "invalid_profile_value").await;
        assert_eq!(err["error"]["field"], field.as_str());
    }
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn submitting_with_something_missing_is_422_naming_the_first_missing_item() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let q = app.questionnaire("small-five").await;
    let (mut profile, mut answers) = crate::helpers::complete_answers(&q);
    profile.as_object_mut().unwrap().remove("staff");
    answers.as_object_mut().unwrap().remove("d-b-q1");
    let body = json!({"questionnaire": "small-five", "profile": profile, "answers": answers, "submit": true});
    let err = expect_error(
        app.create_assessment(&body).await,
        422,
        "missing_profile_field",
    )
    .await;
    assert_eq!(err["error"]["field"], "profile.staff");
    assert_eq!(app.stored(), 0);

    // The same through a draft: the profile is fixed, the question is still missing.
    profile["staff"] = json!(12);
    let created: Value = app
        .create_assessment(
            &json!({"questionnaire": "small-five", "profile": profile, "answers": answers}),
        )
        .await
        .json()
        .await
        .unwrap();
    let res = app
        .submit(
            created["id"].as_str().unwrap(),
            created["edit_token"].as_str().unwrap(),
        )
        .await;
    let err = expect_error(res, 422, "unanswered_question").await;
    assert_eq!(err["error"]["field"], "answers.d-b-q1");
    let report = app
        .get_report(created["report_token"].as_str().unwrap())
        .await;
    assert_eq!(report.status(), 409, "still a draft");
}

#[tokio::test]
async fn a_missing_or_wrong_edit_token_is_401_and_changes_nothing() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created: Value = app
        .created(&json!({"questionnaire": "fixture", "answers": {"q1": "yes"}}))
        .await;
    let id = created["id"].as_str().unwrap();
    let other: Value = app.created(&json!({"questionnaire": "fixture"})).await;
    let url = app.url(&format!("/api/v1/assessments/{id}"));
    let change = json!({"answers": {"q1": "no"}});

    let res = app.client.patch(&url).json(&change).send().await.unwrap();
    let www = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string());
    expect_error(res, 401, "unauthorized").await;
    assert_eq!(www.as_deref(), Some("Bearer"));
    let wrong_tokens = [
        "not-a-token".to_string(),
        other["edit_token"].as_str().unwrap().to_string(),
        created["report_token"].as_str().unwrap().to_string(),
    ];
    for token in &wrong_tokens {
        let res = app.patch_assessment(id, token, &change).await;
        expect_error(res, 401, "unauthorized").await;
        let res = app.submit(id, token).await;
        expect_error(res, 401, "unauthorized").await;
    }
    let unchanged = app.store.get(id.parse().unwrap()).unwrap().unwrap();
    assert_eq!(unchanged.answers["q1"], "yes");
}

#[tokio::test]
async fn a_bad_patch_changes_nothing() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created: Value = app
        .created(&json!({"questionnaire": "fixture", "answers": {"q1": "yes"}}))
        .await;
    let (id, edit) = (
        created["id"].as_str().unwrap(),
        created["edit_token"].as_str().unwrap(),
    );
    let before = app.store.get(id.parse().unwrap()).unwrap().unwrap();
    let res = app
        .patch_assessment(id, edit, &json!({"answers": {"q2": "yes", "q4": "zzz"}}))
        .await;
    expect_error(res, 422, "unknown_option").await;
    let res = app
        .client
        .patch(app.url(&format!("/api/v1/assessments/{id}")))
        .bearer_auth(edit)
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    expect_error(res, 400, "malformed_json").await;
    assert_eq!(app.store.get(id.parse().unwrap()).unwrap().unwrap(), before);
}

#[tokio::test]
async fn unknown_ids_routes_and_tokens_are_json_404s() {
    let app = spawn_app().await;
    let token = "A".repeat(43);
    for path in [
        "/api/v1/nothing-here".to_string(),
        format!("/api/v1/reports/{token}"),
        "/api/v1/reports/short".to_string(),
    ] {
        expect_error(app.get(&path).await, 404, "not_found").await;
    }
    let res = app.patch_assessment("not-a-uuid", &token, &json!({})).await;
    expect_error(res, 404, "not_found").await;
    let res = app
        .patch_assessment(&uuid::Uuid::new_v4().to_string(), &token, &json!({}))
        .await;
    expect_error(res, 404, "not_found").await;
}

#[tokio::test]
async fn the_bearer_scheme_is_case_insensitive() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created: Value = app.created(&json!({"questionnaire": "fixture"})).await;
    let res = app
        .client
        .patch(app.url(&format!(
            "/api/v1/assessments/{}",
            created["id"].as_str().unwrap()
        )))
        .header(
            "authorization",
            format!("bearer {}", created["edit_token"].as_str().unwrap()),
        )
        .json(&json!({"answers": {"q1": "yes"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_query_string_that_does_not_parse_is_a_json_400() {
    let app = spawn_app().await;
    let res = app
        .get("/api/v1/questionnaires/it-liability?version=a&version=b")
        .await;
    expect_error(res, 400, "invalid_query").await;
}

#[tokio::test]
async fn patch_bodies_get_the_same_limits_as_creation() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created = app.created(&json!({"questionnaire": "fixture"})).await;
    let (id, edit) = (
        created["id"].as_str().unwrap(),
        created["edit_token"].as_str().unwrap(),
    );
    let url = app.url(&format!("/api/v1/assessments/{id}"));
    let patch = |content_type: &'static str, body: String| {
        app.client
            .patch(&url)
            .bearer_auth(edit)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let res = patch("text/plain", r#"{"answers": {"q1": "yes"}}"#.into())
        .await
        .unwrap();
    expect_error(res, 415, "unsupported_media_type").await;
    let big = format!(r#"{{"answers": {{"q1": "{}"}}}}"#, "x".repeat(300 * 1024));
    let res = patch("application/json", big).await.unwrap();
    expect_error(res, 413, "payload_too_large").await;
    let stored = app.store.get(id.parse().unwrap()).unwrap().unwrap();
    assert!(stored.answers.is_empty());
}
