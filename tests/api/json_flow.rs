//! The JSON flow of API.md: create, patch, submit, report.

use serde_json::{json, Value};

use crate::helpers::{
    answers_with, complete_answers, small_questionnaires, spawn_app, spawn_app_with,
};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn draft_then_patch_then_submit_then_report() {
    let app = spawn_app().await;
    let q = app.questionnaire("it-liability").await;
    let (profile, answers) = complete_answers(&q);

    // Arrange: a draft with the profile only.
    let res = app
        .create_assessment(&json!({"questionnaire": "it-liability", "profile": profile}))
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let edit = created["edit_token"].as_str().unwrap().to_string();
    let report = created["report_token"].as_str().unwrap().to_string();
    assert_eq!(created["status"], "draft");
    assert_eq!(edit.len(), 43);
    assert_eq!(report.len(), 43);
    assert_ne!(edit, report);
    assert_eq!(created["report_url"], format!("/r/{report}"));
    assert!(uuid::Uuid::parse_str(&id).is_ok());

    // Act: answer in two patches, then submit.
    let all = answers.as_object().unwrap();
    let (first, second): (Vec<_>, Vec<_>) = all.iter().enumerate().partition(|(i, _)| i % 2 == 0);
    let half = |part: Vec<(usize, (&String, &Value))>| {
        Value::Object(
            part.into_iter()
                .map(|(_, (k, v))| (k.clone(), v.clone()))
                .collect(),
        )
    };
    let res = app
        .patch_assessment(&id, &edit, &json!({"answers": half(first)}))
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .patch_assessment(&id, &edit, &json!({"answers": half(second)}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "draft");
    assert_eq!(body["progress"]["answered"], body["progress"]["total"]);

    let res = app.submit(&id, &edit).await;
    assert_eq!(res.status(), 200);
    let submitted: Value = res.json().await.unwrap();
    assert_eq!(submitted["status"], "submitted");
    assert_eq!(submitted["report_url"], format!("/r/{report}"));
    // First options score best in the shipped questionnaire: every domain at 100.
    assert_eq!(submitted["scores"]["overall"], 100.0);
    assert_eq!(submitted["scores"]["grade"], "A");

    // Assert: the report carries the questionnaire reference, scores and findings.
    let res = app.get_report(&report).await;
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["id"], id.as_str());
    assert_eq!(r["questionnaire"]["id"], "it-liability");
    assert_eq!(r["questionnaire"]["version"], "2026.2");
    assert!(r["questionnaire"]["hash"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(r["profile"]["company_name"], "株式会社テスト");
    assert!(r["submitted_at"].is_string());
    let domains = r["scores"]["domains"].as_array().unwrap();
    assert_eq!(domains.len(), q["domains"].as_array().unwrap().len());
    assert!(domains[0]["label"]["ja"].is_string() && domains[0]["label"]["en"].is_string());
    for f in r["findings"].as_array().unwrap() {
        assert!(f["id"].is_string() && f["kind"].is_string() && f["text"]["ja"].is_string());
    }
}

#[tokio::test]
async fn submit_true_creates_and_scores_in_one_request() {
    let app = spawn_app().await;
    let q = app.questionnaire("it-liability").await;
    let profile = crate::helpers::valid_profile(&q);
    // The last option of every question scores 0 in the shipped file.
    let answers = answers_with(&q, |_| usize::MAX);
    let res = app
        .create_assessment(&json!({"questionnaire": "it-liability", "profile": profile, "answers": answers, "submit": true}))
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "submitted");
    assert_eq!(body["scores"]["overall"], 0.0);
    assert_eq!(body["scores"]["grade"], "E");
    let report: Value = app
        .get_report(body["report_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.iter().any(|id| id.starts_with("excl-")),
        "weak answers raise exclusion notes: {ids:?}"
    );
}

#[tokio::test]
async fn not_applicable_answers_leave_their_domain_unassessed() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let body = json!({
        "questionnaire": "fixture",
        "answers": {"q1": "yes", "q2": "partly", "q3": "na", "q4": "b"},
        "submit": true
    });
    let res = app.create_assessment(&body).await;
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    let domains = v["scores"]["domains"].as_array().unwrap();
    assert_eq!(domains[0]["score"], 70.0);
    assert_eq!(domains[1]["score"], Value::Null);
    assert_eq!(domains[1]["not_applicable"], 1);
    assert_eq!(domains[2]["score"], 33.3);
    // (2 * 70 + 1 * 33.33) / 3 = 57.78 -> 57.8, grade C.
    assert_eq!(v["scores"]["overall"], 57.8);
    assert_eq!(v["scores"]["grade"], "C");
}

#[tokio::test]
async fn submit_twice_is_a_conflict_and_a_submitted_assessment_is_immutable() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created: Value = app.created(&json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "a"}})).await;
    let (id, edit) = (
        created["id"].as_str().unwrap(),
        created["edit_token"].as_str().unwrap(),
    );
    assert_eq!(app.submit(id, edit).await.status(), 200);
    let res = app.submit(id, edit).await;
    assert_eq!(res.status(), 409);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "already_submitted");
    let res = app
        .patch_assessment(id, edit, &json!({"answers": {"q1": "no"}}))
        .await;
    assert_eq!(res.status(), 409);
    let report: Value = app
        .get_report(created["report_token"].as_str().unwrap())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report["scores"]["overall"], 100.0);
}

#[tokio::test]
async fn concurrent_submissions_of_one_draft_succeed_exactly_once() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created: Value = app.created(&json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "a"}})).await;
    let (id, edit) = (
        created["id"].as_str().unwrap(),
        created["edit_token"].as_str().unwrap(),
    );
    let results = futures_util::future::join_all((0..8).map(|_| app.submit(id, edit))).await;
    let ok = results.iter().filter(|r| r.status() == 200).count();
    let conflicts = results.iter().filter(|r| r.status() == 409).count();
    assert_eq!((ok, conflicts), (1, 7));
}

#[tokio::test]
async fn the_report_of_a_draft_is_not_available_yet() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created: Value = app.created(&json!({"questionnaire": "fixture"})).await;
    let res = app
        .get_report(created["report_token"].as_str().unwrap())
        .await;
    assert_eq!(res.status(), 409);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "not_submitted");
}

#[tokio::test]
async fn get_assessment_with_its_edit_token_shows_the_draft() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created: Value = app
        .created(&json!({"questionnaire": "fixture", "answers": {"q1": "no"}}))
        .await;
    let res = app
        .client
        .get(app.url(&format!(
            "/api/v1/assessments/{}",
            created["id"].as_str().unwrap()
        )))
        .bearer_auth(created["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["answers"], json!({"q1": "no"}));
    assert_eq!(body["progress"], json!({"answered": 1, "total": 4}));
    assert!(
        body.get("edit_token").is_none(),
        "the edit token is shown only once"
    );
}

#[tokio::test]
async fn a_peer_snapshot_counts_every_concurrent_submission_once() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let body = json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "no", "q3": "na", "q4": "a"}, "submit": true});
    let created =
        futures_util::future::join_all((0..20).map(|_| app.create_assessment(&body))).await;
    assert!(created.iter().all(|r| r.status() == 201));
    let drafts: Vec<Value> = futures_util::future::join_all(
        (0..10).map(|_| async { app.create_assessment(&json!({"questionnaire": "fixture", "answers": {"q1": "no", "q2": "no", "q3": "no", "q4": "b"}})).await.json::<Value>().await.unwrap() }),
    )
    .await;
    // Each draft submitted twice at once: one success each.
    let submits = futures_util::future::join_all(drafts.iter().flat_map(|d| {
        let (id, edit) = (d["id"].as_str().unwrap(), d["edit_token"].as_str().unwrap());
        [app.submit(id, edit), app.submit(id, edit)]
    }))
    .await;
    assert_eq!(submits.iter().filter(|r| r.status() == 200).count(), 10);
    // The fixture names no company, so each submission is its own company.
    let published = app
        .store
        .take_peer_snapshot(chrono::Utc::now())
        .unwrap()
        .expect("thirty companies changed");
    assert_eq!(published.companies, 30);
    let newcomer = shindan::peers::CompanyKey::of(Some("newcomer"), uuid::Uuid::nil());
    let view = published
        .section("fixture", "1")
        .unwrap()
        .view(&newcomer, uuid::Uuid::nil(), None)
        .unwrap();
    // d1 is (4 + 0) / 10 = 40 for the first twenty and 0 for the drafts.
    let expected = (20.0 * 40.0) / 30.0;
    assert!((view.averages["d1"] - expected).abs() < 1e-9);
}

#[tokio::test]
async fn every_acknowledged_write_waits_for_an_fdatasync() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let full = json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "a"}});
    let before = app.store.syncs();
    let created: Value = app.created(&full).await;
    let after_create = app.store.syncs();
    assert!(
        after_create > before,
        "the draft's 201 came after an fdatasync"
    );
    let (id, edit) = (
        created["id"].as_str().unwrap(),
        created["edit_token"].as_str().unwrap(),
    );
    assert_eq!(
        app.patch_assessment(id, edit, &json!({"answers": {"q1": "no"}}))
            .await
            .status(),
        200
    );
    let after_patch = app.store.syncs();
    assert!(
        after_patch > after_create,
        "the PATCH's 200 came after an fdatasync"
    );
    assert_eq!(app.submit(id, edit).await.status(), 200);
    assert!(
        app.store.syncs() > after_patch,
        "the submission's 200 came after an fdatasync"
    );
}
