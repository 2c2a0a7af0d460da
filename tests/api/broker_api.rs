//! The broker API (`/api/v1/broker`), the admin API (`/api/v1/admin`) and the rate limit of
//! the routes that take a secret: invitations, the portfolio and its pages, isolation
//! between brokers, attachments, the CSV, revoked and rotated tokens, and every class of
//! bad input with its exact status and code.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use shindan::config::AdminToken;

use crate::helpers::{
    application_questionnaires, complete_answers, expect_error, shipped_questionnaires, spawn_app,
    spawn_app_configured, spawn_app_with, TestApp,
};

const INVITATIONS: &str = "/api/v1/broker/invitations";
const PORTFOLIO: &str = "/api/v1/broker/assessments";
const PORTFOLIO_CSV: &str = "/api/v1/broker/assessments.csv";
const ATTACH: &str = "/api/v1/broker/assessments/attach";
const ADMIN_BROKERS: &str = "/api/v1/admin/brokers";
const ADMIN_TOKEN: &str = "an-admin-token-of-the-tests-0123456789";
/// Well formed (43 base64url characters) but nobody's token.
const UNKNOWN_TOKEN: &str = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
const CSV_HEADER: &str = "id,client_name,proposal_ref,membership,status,questionnaire,created_at,submitted_at,overall,grade,report_url,application_answered,application_total,application_missing";

/// Asserts a 401 `unauthorized` that asks for a bearer token.
async fn expect_unauthorized(res: reqwest::Response) {
    assert_eq!(
        res.headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap()),
        Some("Bearer"),
        "a 401 names the scheme"
    );
    expect_error(res, 401, "unauthorized").await;
}

/// A portfolio request with query parameters.
async fn list(app: &TestApp, token: &str, query: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .get(app.url(PORTFOLIO))
        .query(query)
        .bearer_auth(token)
        .send()
        .await
        .expect("GET portfolio")
}

/// The items of one portfolio page that must be answered with 200.
async fn items(app: &TestApp, token: &str, query: &[(&str, &str)]) -> Vec<Value> {
    let res = list(app, token, query).await;
    assert_eq!(res.status(), 200, "list {query:?}");
    let page: Value = res.json().await.expect("JSON");
    page["items"].as_array().expect("items").clone()
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_string())
        .collect()
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().expect("id").to_string()
}

fn time_of(item: &Value) -> DateTime<Utc> {
    item["created_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .expect("created_at")
        .with_timezone(&Utc)
}

/// The CSV export as text, answered with 200.
async fn csv_of(app: &TestApp, token: &str) -> String {
    let res = app.get_as(token, PORTFOLIO_CSV).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    res.text().await.expect("CSV text")
}

/// The invited company answers everything (keeping the prefilled company name) and
/// submits; the submit response's JSON.
async fn complete_invitation(app: &TestApp, invitation: &Value) -> Value {
    let q = app.questionnaire("it-liability").await;
    let (mut profile, answers) = complete_answers(&q);
    profile.as_object_mut().unwrap().remove("company_name");
    let id = invitation["id"].as_str().unwrap();
    let edit = invitation["edit_token"].as_str().unwrap();
    let res = app
        .patch_assessment(id, edit, &json!({"profile": profile, "answers": answers}))
        .await;
    assert_eq!(res.status(), 200);
    let res = app.submit(id, edit).await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("JSON")
}

/// A company's own assessment, submitted without any broker; the create response's JSON.
async fn own_submitted(app: &TestApp) -> Value {
    let q = app.questionnaire("it-liability").await;
    let (profile, answers) = complete_answers(&q);
    app.created(&json!({"questionnaire": "it-liability", "profile": profile, "answers": answers, "submit": true}))
        .await
}

/// A company's own draft; the create response's JSON.
async fn own_draft(app: &TestApp) -> Value {
    app.created(&json!({"questionnaire": "it-liability"})).await
}

async fn spawn_admin_app() -> TestApp {
    spawn_app_configured(&shipped_questionnaires(), |c| {
        c.admin_token = Some(AdminToken(ADMIN_TOKEN.into()));
    })
    .await
}

/// An app that allows a burst of 3 token requests, then 1 a second.
async fn spawn_strictly_limited_app() -> TestApp {
    spawn_limited_app(None).await
}

/// An app with the strict limit of `spawn_strictly_limited_app`, and the admin API when
/// `admin` names its token.
async fn spawn_limited_app(admin: Option<&str>) -> TestApp {
    spawn_app_configured(&shipped_questionnaires(), |c| {
        c.admin_token = admin.map(|t| AdminToken(t.into()));
        c.rate_limits.token_per_second = 1;
        c.rate_limits.token_burst = 3;
        c.rate_limits.login_per_minute = 1;
        c.rate_limits.login_burst = 3;
    })
    .await
}

/// How many fresh apps a rate-limit test tries before it gives up on the machine.
const RATE_LIMIT_ATTEMPTS: usize = 20;
/// How often the strict limit gives a token back.
const REFILL: Duration = Duration::from_secs(1);

/// Runs `requests` on a fresh app from `spawn` until one attempt is over within `REFILL`:
/// only then did every request meet the limit before a token came back, so that a 200
/// where a 429 is expected means the limit failed, not that the machine was slow or busy.
/// Returns that app and what `requests` returned.
async fn within_one_refill<T>(
    spawn: impl AsyncFn() -> TestApp,
    requests: impl AsyncFn(&TestApp) -> T,
) -> (TestApp, T) {
    for _ in 0..RATE_LIMIT_ATTEMPTS {
        let app = spawn().await;
        let started = Instant::now();
        let responses = requests(&app).await;
        if started.elapsed() < REFILL {
            return (app, responses);
        }
    }
    panic!("none of {RATE_LIMIT_ATTEMPTS} attempts made its requests within {REFILL:?}");
}

async fn admin_delete(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .delete(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("DELETE")
}

// --- Invitations -------------------------------------------------------------------------

#[tokio::test]
async fn an_invitation_is_a_draft_with_the_client_name_filled_in_and_a_private_link() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");

    let res = app
        .post_as(
            &token,
            INVITATIONS,
            &json!({"questionnaire": "it-liability", "client_name": "  株式会社サンプル  ", "proposal_ref": "P-2026-001"}),
        )
        .await;

    assert_eq!(res.status(), 201);
    let invited: Value = res.json().await.unwrap();
    let edit = invited["edit_token"].as_str().unwrap();
    assert_eq!(edit.len(), 43);
    assert_eq!(invited["report_token"].as_str().unwrap().len(), 43);
    assert_eq!(invited["status"], "invited");
    assert_eq!(invited["client_name"], "株式会社サンプル", "trimmed");
    let url = invited["invite_url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with(&format!("/a/{edit}")), "{url}");
    // The company's draft has its name filled in, and its edit token works.
    let draft: Value = app
        .get_as(edit, &format!("/api/v1/assessments/{}", id_of(&invited)))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["profile"]["company_name"], "株式会社サンプル");
    assert_eq!(app.stored(), 1);
    let listed = items(&app, &token, &[]).await;
    assert_eq!(ids(&listed), [id_of(&invited)]);
    assert_eq!(listed[0]["proposal_ref"], "P-2026-001");
    assert_eq!(listed[0]["membership"], "invited");
}

#[tokio::test]
async fn a_portfolio_item_goes_from_invited_to_in_progress_to_submitted_with_its_scores() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let invited = app.invite(&token, "株式会社ステータス").await;
    let id = id_of(&invited);
    let edit = invited["edit_token"].as_str().unwrap();

    let item = &items(&app, &token, &[]).await[0];
    assert_eq!(item["status"], "invited");
    assert_eq!(item["client_name"], "株式会社ステータス");
    assert_eq!(item["questionnaire"]["id"], "it-liability");
    assert_eq!(item["questionnaire"]["version"], "2026.2");
    assert_eq!(item["submitted_at"], Value::Null);
    assert_eq!(item["overall"], Value::Null);
    assert_eq!(item["grade"], Value::Null);
    assert_eq!(
        item["report_url"],
        Value::Null,
        "no report before submission"
    );

    // The company saves something.
    let res = app
        .patch_assessment(&id, edit, &json!({"profile": {"employees": 12}}))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(items(&app, &token, &[]).await[0]["status"], "in_progress");

    // The company answers everything and submits.
    complete_invitation(&app, &invited).await;
    let item = &items(&app, &token, &[]).await[0];
    let report = invited["report_token"].as_str().unwrap();
    assert_eq!(item["status"], "submitted");
    assert_eq!(item["overall"], 100.0);
    assert_eq!(item["grade"], "A");
    assert!(item["submitted_at"].is_string());
    assert_eq!(item["report_token"], report);
    assert_eq!(item["report_url"], format!("/r/{report}"));
    assert_eq!(item["client_name"], "株式会社ステータス");
}

#[tokio::test]
async fn a_bad_client_name_is_422_invalid_field_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let too_long = "あ".repeat(121);
    for name in [
        "",
        "   ",
        "\u{3000}",
        too_long.as_str(),
        "株式会社\u{7}ベル",
        "一行目\n二行目",
    ] {
        let res = app
            .post_as(
                &token,
                INVITATIONS,
                &json!({"questionnaire": "it-liability", "client_name": name}),
            )
            .await;
        let body = expect_error(res, 422, "invalid_field").await;
        assert_eq!(body["error"]["field"], "client_name", "{name:?}");
    }
    assert_eq!(app.stored(), 0);
    assert!(items(&app, &token, &[]).await.is_empty());
}

#[tokio::test]
async fn a_proposal_ref_over_64_characters_is_422_invalid_field_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    for proposal_ref in ["x".repeat(65), "ref\u{1b}[31m".to_string()] {
        let res = app
            .post_as(
                &token,
                INVITATIONS,
                &json!({"questionnaire": "it-liability", "client_name": "株式会社A", "proposal_ref": proposal_ref}),
            )
            .await;
        let body = expect_error(res, 422, "invalid_field").await;
        assert_eq!(body["error"]["field"], "proposal_ref");
    }
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn a_client_name_of_120_characters_and_a_proposal_ref_of_64_are_accepted() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let name = "あ".repeat(120);
    let proposal_ref = "x".repeat(64);

    let res = app
        .post_as(
            &token,
            INVITATIONS,
            &json!({"questionnaire": "it-liability", "client_name": name, "proposal_ref": proposal_ref}),
        )
        .await;

    assert_eq!(res.status(), 201);
    let item = &items(&app, &token, &[]).await[0];
    assert_eq!(item["client_name"], name.as_str());
    assert_eq!(item["proposal_ref"], proposal_ref.as_str());
}

#[tokio::test]
async fn an_invitation_to_an_unknown_questionnaire_or_version_is_404_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    for body in [
        json!({"questionnaire": "nope", "client_name": "株式会社A"}),
        json!({"questionnaire": "it-liability", "version": "1900.1", "client_name": "株式会社A"}),
    ] {
        let res = app.post_as(&token, INVITATIONS, &body).await;
        expect_error(res, 404, "unknown_questionnaire").await;
    }
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn malformed_or_misshapen_invitation_bodies_are_refused_and_store_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let raw = |body: &'static str| {
        app.client
            .post(app.url(INVITATIONS))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };

    expect_error(
        raw("{\"questionnaire\": ").await.unwrap(),
        400,
        "malformed_json",
    )
    .await;
    expect_error(
        raw(r#"{"questionnaire": "it-liability"}"#).await.unwrap(),
        422,
        "invalid_body",
    )
    .await;
    expect_error(
        raw(r#"{"questionnaire": "it-liability", "client_name": "A", "extra": 1}"#)
            .await
            .unwrap(),
        422,
        "invalid_body",
    )
    .await;
    expect_error(
        raw(r#"{"questionnaire": "it-liability", "client_name": 5}"#)
            .await
            .unwrap(),
        422,
        "invalid_body",
    )
    .await;

    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn a_previous_assessment_outside_the_brokers_portfolio_is_422_invalid_previous() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let (_, other) = app.add_broker("Osaka Brokers");
    let others = app.invite(&other, "株式会社よそ").await;
    complete_invitation(&app, &others).await;
    let own_unattached = own_submitted(&app).await;
    let draft = app.invite(&token, "株式会社下書き").await;
    // The broker's own submitted invitation, of another client.
    let other_client = app.invite(&token, "株式会社べつ").await;
    complete_invitation(&app, &other_client).await;
    let stored = app.stored();

    for previous in [
        "not-a-token".to_string(),
        UNKNOWN_TOKEN.to_string(),
        // Another broker's submitted invitation.
        others["report_token"].as_str().unwrap().to_string(),
        // A company's own submitted assessment this broker has not attached.
        own_unattached["report_token"].as_str().unwrap().to_string(),
        // The broker's own invitation, not yet submitted.
        draft["report_token"].as_str().unwrap().to_string(),
        // Another client's: its report would show 株式会社A someone else's scores.
        other_client["report_token"].as_str().unwrap().to_string(),
    ] {
        let res = app
            .post_as(
                &token,
                INVITATIONS,
                &json!({"questionnaire": "it-liability", "client_name": "株式会社A", "previous": previous}),
            )
            .await;
        let body = expect_error(res, 422, "invalid_previous").await;
        assert_eq!(body["error"]["field"], "previous");
    }

    assert_eq!(app.stored(), stored, "nothing stored");
}

#[tokio::test]
async fn the_same_clients_previous_assessment_from_the_portfolio_is_accepted() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let invited = app.invite(&token, "株式会社ＡＢＣ").await;
    complete_invitation(&app, &invited).await;
    let own = own_submitted(&app).await;
    let res = app
        .post_as(
            &token,
            ATTACH,
            &json!({"report_token": own["report_token"]}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let attached: Value = res.json().await.unwrap();
    let own_client = attached["client_name"].as_str().unwrap().to_string();

    for (client, previous) in [
        // The same client, as the broker may type it again: width and case folded.
        (" 株式会社abc ", &invited["report_token"]),
        (own_client.as_str(), &own["report_token"]),
    ] {
        let res = app
            .post_as(
                &token,
                INVITATIONS,
                &json!({"questionnaire": "it-liability", "client_name": client, "previous": previous}),
            )
            .await;
        assert_eq!(res.status(), 201, "previous {previous} for {client}");
    }
}

// --- Authentication ----------------------------------------------------------------------

#[tokio::test]
async fn every_broker_route_without_a_valid_token_is_401_with_www_authenticate() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let invited = app.invite(&token, "株式会社A").await;
    let stored = app.stored();
    let detail = format!("{PORTFOLIO}/{}", id_of(&invited));
    let invite_body = json!({"questionnaire": "it-liability", "client_name": "株式会社B"});
    let attach_body = json!({"report_token": invited["report_token"]});

    for auth in [
        None,
        Some("Bearer".to_string()),
        Some(format!("Bearer {UNKNOWN_TOKEN}")),
        Some("Bearer not-a-token".to_string()),
        Some(format!("Basic {token}")),
        Some(format!(
            "Bearer {}",
            invited["edit_token"].as_str().unwrap()
        )),
    ] {
        let with = |req: reqwest::RequestBuilder| match &auth {
            Some(a) => req.header("authorization", a),
            None => req,
        };
        for req in [
            with(app.client.get(app.url(PORTFOLIO))),
            with(app.client.get(app.url(PORTFOLIO_CSV))),
            with(app.client.get(app.url(&detail))),
            with(app.client.post(app.url(INVITATIONS)).json(&invite_body)),
            with(app.client.post(app.url(ATTACH)).json(&attach_body)),
        ] {
            expect_unauthorized(req.send().await.unwrap()).await;
        }
    }

    assert_eq!(app.stored(), stored, "nothing stored");
}

#[tokio::test]
async fn a_revoked_brokers_token_is_401_at_once() {
    let app = spawn_admin_app().await;
    let (id, token) = app.add_broker("Tokio Brokers");
    app.invite(&token, "株式会社A").await;

    let res = admin_delete(&app, ADMIN_TOKEN, &format!("{ADMIN_BROKERS}/{id}")).await;
    assert_eq!(res.status(), 200);

    expect_unauthorized(app.get_as(&token, PORTFOLIO).await).await;
    let res = app
        .post_as(
            &token,
            INVITATIONS,
            &json!({"questionnaire": "it-liability", "client_name": "株式会社B"}),
        )
        .await;
    expect_unauthorized(res).await;
    assert_eq!(app.stored(), 1);
}

#[tokio::test]
async fn a_rotated_token_is_401_and_the_new_one_sees_the_same_portfolio() {
    let app = spawn_admin_app().await;
    let (id, old) = app.add_broker("Tokio Brokers");
    let invited = app.invite(&old, "株式会社A").await;

    let res = app
        .post_as(
            ADMIN_TOKEN,
            &format!("{ADMIN_BROKERS}/{id}/rotate"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["token"].as_str().unwrap();

    assert_ne!(new, old);
    expect_unauthorized(app.get_as(&old, PORTFOLIO).await).await;
    assert_eq!(ids(&items(&app, new, &[]).await), [id_of(&invited)]);
}

// --- The portfolio: pages, filters, detail ------------------------------------------------

#[tokio::test]
async fn the_portfolio_pages_newest_first_until_next_cursor_is_null() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let mut created = Vec::new();
    for i in 0..5 {
        created.push(id_of(&app.invite(&token, &format!("株式会社{i}")).await));
    }

    let mut pages = Vec::new();
    let mut cursor = String::new();
    loop {
        let res = list(&app, &token, &[("limit", "2"), ("cursor", &cursor)]).await;
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        pages.push(ids(page["items"].as_array().unwrap()));
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }

    created.reverse();
    assert_eq!(
        pages,
        [&created[0..2], &created[2..4], &created[4..5]],
        "newest first, two by two"
    );
}

#[tokio::test]
async fn a_page_holds_25_items_unless_the_limit_says_otherwise_between_1_and_100() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    for i in 0..26 {
        app.invite(&token, &format!("株式会社{i}")).await;
    }

    let res = list(&app, &token, &[]).await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 25);
    assert!(page["next_cursor"].is_string());
    assert_eq!(items(&app, &token, &[("limit", "1")]).await.len(), 1);
    let res = list(&app, &token, &[("limit", "100")]).await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 26);
    assert_eq!(page["next_cursor"], Value::Null);
}

#[tokio::test]
async fn paging_while_invitations_arrive_returns_every_earlier_item_exactly_once_newest_first() {
    // Arrange: 40 invitations, oldest first.
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let mut earlier = Vec::new();
    for i in 0..40 {
        earlier.push(id_of(&app.invite(&token, &format!("既存{i:02}")).await));
    }

    // Act: page by 7 while another task invites 30 more clients of the same broker; at
    // least one of them is stored between any two pages while it runs.
    let (arrived, mut arrivals) = tokio::sync::mpsc::unbounded_channel();
    let writer = tokio::spawn({
        let client = app.client.clone();
        let url = app.url(INVITATIONS);
        let token = token.clone();
        async move {
            for i in 0..30 {
                let res = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"questionnaire": "it-liability", "client_name": format!("新規{i:02}")}))
                    .send()
                    .await
                    .expect("POST");
                assert_eq!(res.status(), 201);
                let _ = arrived.send(());
            }
        }
    });
    let mut seen: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    loop {
        let res = list(&app, &token, &[("limit", "7"), ("cursor", &cursor)]).await;
        assert_eq!(res.status(), 200);
        let page: Value = res.json().await.unwrap();
        let page_items = page["items"].as_array().unwrap();
        assert!(page_items.len() <= 7);
        seen.extend(page_items.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
        while arrivals.try_recv().is_ok() {}
        arrivals.recv().await;
    }
    writer.await.expect("the writer finishes");

    // Assert: no id twice, every earlier one once and in reverse order of creation, and
    // the whole walk newest first.
    let seen_ids = ids(&seen);
    let mut unique = seen_ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen_ids.len(), "an id appeared twice");
    let earlier_seen: Vec<&String> = seen_ids.iter().filter(|i| earlier.contains(i)).collect();
    let newest_first: Vec<&String> = earlier.iter().rev().collect();
    assert_eq!(earlier_seen, newest_first);
    assert!(
        seen.windows(2).all(|w| time_of(&w[0]) >= time_of(&w[1])),
        "newest first"
    );
    assert_eq!(items(&app, &token, &[("limit", "100")]).await.len(), 70);
}

#[tokio::test]
async fn bad_portfolio_parameters_are_400_invalid_query_naming_the_parameter() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let long_q = "x".repeat(121);
    let cases: [(&str, &str); 11] = [
        ("limit", "0"),
        ("limit", "101"),
        ("limit", "abc"),
        ("limit", "-1"),
        ("limit", "2.5"),
        ("status", "draft"),
        ("status", "SUBMITTED"),
        ("cursor", "not a cursor"),
        ("cursor", "AAAA"),
        ("cursor", "!!!!"),
        ("q", &long_q),
    ];

    for (name, value) in cases {
        for path in [PORTFOLIO, PORTFOLIO_CSV] {
            let res = app
                .client
                .get(app.url(path))
                .query(&[(name, value)])
                .bearer_auth(&token)
                .send()
                .await
                .unwrap();
            let body = expect_error(res, 400, "invalid_query").await;
            assert_eq!(body["error"]["field"], name, "{path}?{name}={value}");
        }
    }
}

#[tokio::test]
async fn the_name_search_finds_a_substring_whatever_the_case_or_width() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let abc = id_of(&app.invite(&token, "ＡＢＣシステムズ株式会社").await);
    let acme = id_of(&app.invite(&token, "Acme Software KK").await);
    app.invite(&token, "株式会社ゼット").await;

    assert_eq!(
        ids(&items(&app, &token, &[("q", "abc")]).await),
        [abc.as_str()]
    );
    assert_eq!(
        ids(&items(&app, &token, &[("q", "ｂｃシステム")]).await),
        [abc.as_str()]
    );
    assert_eq!(
        ids(&items(&app, &token, &[("q", "SOFTWARE")]).await),
        [acme.as_str()]
    );
    assert_eq!(
        ids(&items(&app, &token, &[("q", "ａｃｍｅ")]).await),
        [acme.as_str()]
    );
    assert_eq!(items(&app, &token, &[("q", "株式会社")]).await.len(), 2);
    assert!(items(&app, &token, &[("q", "nobody")]).await.is_empty());
    assert_eq!(items(&app, &token, &[("q", "")]).await.len(), 3);
}

#[tokio::test]
async fn the_name_search_treats_half_width_katakana_as_full_width() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let full = id_of(&app.invite(&token, "システムズ株式会社").await);
    let half = id_of(&app.invite(&token, "ｶﾌﾞｼｷｶﾞｲｼｬｻﾝﾌﾟﾙ").await);

    assert_eq!(ids(&items(&app, &token, &[("q", "ｼｽﾃﾑ")]).await), [full]);
    assert_eq!(
        ids(&items(&app, &token, &[("q", "サンプル")]).await),
        [half]
    );
}

#[tokio::test]
async fn the_status_filter_keeps_only_that_status() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let invited = id_of(&app.invite(&token, "株式会社招待").await);
    let started = app.invite(&token, "株式会社途中").await;
    let res = app
        .patch_assessment(
            started["id"].as_str().unwrap(),
            started["edit_token"].as_str().unwrap(),
            &json!({"profile": {"employees": 3}}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let done = app.invite(&token, "株式会社完了").await;
    complete_invitation(&app, &done).await;

    assert_eq!(
        ids(&items(&app, &token, &[("status", "invited")]).await),
        [invited.as_str()]
    );
    assert_eq!(
        ids(&items(&app, &token, &[("status", "in_progress")]).await),
        [id_of(&started)]
    );
    assert_eq!(
        ids(&items(&app, &token, &[("status", "submitted")]).await),
        [id_of(&done)]
    );
    assert_eq!(items(&app, &token, &[("status", "all")]).await.len(), 3);
    // A filtered page is still paged: one submitted item per page, no cursor after it.
    let res = list(&app, &token, &[("status", "submitted"), ("limit", "1")]).await;
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["next_cursor"], Value::Null);
}

#[tokio::test]
async fn the_detail_of_an_item_carries_its_scores_once_submitted() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let invited = app.invite(&token, "株式会社詳細").await;
    let path = format!("{PORTFOLIO}/{}", id_of(&invited));

    let res = app.get_as(&token, &path).await;
    assert_eq!(res.status(), 200);
    let before: Value = res.json().await.unwrap();
    assert_eq!(before["id"], invited["id"]);
    assert_eq!(before["status"], "invited");
    assert_eq!(before["scores"], Value::Null);

    complete_invitation(&app, &invited).await;
    let after: Value = app.get_as(&token, &path).await.json().await.unwrap();
    assert_eq!(after["status"], "submitted");
    assert_eq!(after["overall"], 100.0);
    assert_eq!(after["scores"]["overall"], 100.0);
    assert_eq!(after["scores"]["grade"], "A");
    let q = app.questionnaire("it-liability").await;
    assert_eq!(
        after["scores"]["domains"].as_array().unwrap().len(),
        q["domains"].as_array().unwrap().len()
    );
}

#[tokio::test]
async fn an_unknown_or_malformed_assessment_id_is_404() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let own = own_submitted(&app).await;

    for id in [
        uuid::Uuid::new_v4().to_string(),
        "not-a-uuid".to_string(),
        // A company's own assessment that this broker has not attached.
        id_of(&own),
    ] {
        let res = app.get_as(&token, &format!("{PORTFOLIO}/{id}")).await;
        expect_error(res, 404, "not_found").await;
    }
}

// --- Isolation ---------------------------------------------------------------------------

#[tokio::test]
async fn another_brokers_assessment_is_a_404_and_never_in_the_list_the_csv_or_an_attachment() {
    // Arrange: Alice's client has submitted; Bob has a client of his own.
    let app = spawn_app().await;
    let (_, alice) = app.add_broker("Alice Insurance");
    let (_, bob) = app.add_broker("Bob Brokers");
    let alices = app.invite(&alice, "アリス商事株式会社").await;
    complete_invitation(&app, &alices).await;
    let alices_id = id_of(&alices);
    let bobs_id = id_of(&app.invite(&bob, "Bob Client KK").await);

    // Act and assert: Bob reaches nothing of Alice's.
    let res = app.get_as(&bob, &format!("{PORTFOLIO}/{alices_id}")).await;
    expect_error(res, 404, "not_found").await;
    assert_eq!(ids(&items(&app, &bob, &[]).await), [bobs_id.as_str()]);
    assert!(items(&app, &bob, &[("q", "アリス")]).await.is_empty());
    assert!(items(&app, &bob, &[("status", "submitted")])
        .await
        .is_empty());
    let csv = csv_of(&app, &bob).await;
    assert!(
        !csv.contains(&alices_id) && !csv.contains("アリス"),
        "{csv}"
    );
    assert!(csv.contains(&bobs_id));
    let res = app
        .post_as(
            &bob,
            ATTACH,
            &json!({"report_token": alices["report_token"]}),
        )
        .await;
    expect_error(res, 404, "not_found").await;
    assert_eq!(ids(&items(&app, &bob, &[]).await), [bobs_id.as_str()]);

    // Alice still has her item, once.
    assert_eq!(ids(&items(&app, &alice, &[]).await), [alices_id.as_str()]);
    let res = app
        .get_as(&alice, &format!("{PORTFOLIO}/{alices_id}"))
        .await;
    assert_eq!(res.status(), 200);
}

// --- Attachments -------------------------------------------------------------------------

#[tokio::test]
async fn attaching_a_companys_own_report_adds_it_read_only_and_only_once() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let own = own_submitted(&app).await;
    let stored = app.stored();

    let res = app
        .post_as(
            &token,
            ATTACH,
            &json!({"report_token": own["report_token"], "proposal_ref": "P-7"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let attached: Value = res.json().await.unwrap();
    assert_eq!(attached["id"], own["id"]);
    assert_eq!(attached["membership"], "attached");
    assert_eq!(attached["status"], "submitted");
    assert_eq!(
        attached["client_name"], "株式会社テスト",
        "the company's name"
    );
    assert_eq!(attached["proposal_ref"], "P-7");
    assert_eq!(attached["overall"], 100.0);

    let res = app
        .post_as(
            &token,
            ATTACH,
            &json!({"report_token": own["report_token"]}),
        )
        .await;
    assert_eq!(res.status(), 200, "the second attachment changes nothing");
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["membership"], "attached");

    assert_eq!(ids(&items(&app, &token, &[]).await), [id_of(&own)]);
    assert_eq!(app.stored(), stored, "no new assessment");
}

#[tokio::test]
async fn attaching_an_unknown_token_or_a_drafts_token_is_404_and_adds_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let draft = own_draft(&app).await;
    let invited = app.invite(&token, "株式会社下書き").await;
    let stored = app.stored();

    for report_token in [
        UNKNOWN_TOKEN,
        "short",
        draft["report_token"].as_str().unwrap(),
        // The broker's own invitation is in the portfolio already, as invited.
        invited["report_token"].as_str().unwrap(),
    ] {
        let res = app
            .post_as(&token, ATTACH, &json!({"report_token": report_token}))
            .await;
        expect_error(res, 404, "not_found").await;
    }

    assert_eq!(ids(&items(&app, &token, &[]).await), [id_of(&invited)]);
    assert_eq!(app.stored(), stored);
}

#[tokio::test]
async fn attaching_with_a_bad_proposal_ref_or_body_is_refused_and_adds_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let own = own_submitted(&app).await;

    let res = app
        .post_as(
            &token,
            ATTACH,
            &json!({"report_token": own["report_token"], "proposal_ref": "x".repeat(65)}),
        )
        .await;
    let body = expect_error(res, 422, "invalid_field").await;
    assert_eq!(body["error"]["field"], "proposal_ref");
    let res = app.post_as(&token, ATTACH, &json!({})).await;
    expect_error(res, 422, "invalid_body").await;

    assert!(items(&app, &token, &[]).await.is_empty());
}

#[tokio::test]
async fn concurrent_attachments_of_one_report_add_it_once() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let own = own_submitted(&app).await;

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let req = app
            .client
            .post(app.url(ATTACH))
            .bearer_auth(&token)
            .json(&json!({"report_token": own["report_token"]}));
        requests.spawn(async move { req.send().await.expect("POST").status().as_u16() });
    }
    let mut statuses = Vec::new();
    while let Some(status) = requests.join_next().await {
        statuses.push(status.expect("the request task"));
    }

    statuses.sort();
    assert_eq!(statuses, [200, 200, 200, 200, 200, 200, 200, 201]);
    assert_eq!(ids(&items(&app, &token, &[]).await), [id_of(&own)]);
}

// --- CSV ---------------------------------------------------------------------------------

#[tokio::test]
async fn the_csv_has_a_bom_the_header_and_one_row_per_item_of_the_brokers_own() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let (_, other) = app.add_broker("Osaka Brokers");
    let done = app.invite(&token, "株式会社完了").await;
    complete_invitation(&app, &done).await;
    let waiting = app.invite(&token, "株式会社未着手").await;
    let others = app.invite(&other, "株式会社よそ").await;

    let res = app.get_as(&token, PORTFOLIO_CSV).await;

    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let csv = csv_of(&app, &token).await;
    let body = csv.strip_prefix('\u{feff}').expect("a byte order mark");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines[0], CSV_HEADER);
    assert_eq!(lines.len(), 3, "{csv}");
    let report = done["report_token"].as_str().unwrap();
    let newest: Vec<&str> = lines[1].split(',').collect();
    assert_eq!(newest[0], id_of(&waiting));
    assert_eq!(
        &newest[1..6],
        [
            "株式会社未着手",
            "",
            "invited",
            "invited",
            "it-liability 2026.2"
        ]
    );
    assert_eq!(newest[10], "", "no report link before submission");
    let submitted: Vec<&str> = lines[2].split(',').collect();
    assert_eq!(submitted[0], id_of(&done));
    assert_eq!(submitted[4], "submitted");
    assert_eq!(&submitted[8..10], ["100.0", "A"]);
    assert_eq!(submitted[10], format!("{}/r/{report}", app.address));
    assert!(!csv.contains(&id_of(&others)));
}

#[tokio::test]
async fn the_csv_keeps_the_lists_filters_and_defuses_formulas() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let formula = app
        .post_as(
            &token,
            INVITATIONS,
            &json!({"questionnaire": "it-liability", "client_name": "=HYPERLINK(\"x\")", "proposal_ref": "+81"}),
        )
        .await;
    assert_eq!(formula.status(), 201);
    let done = app.invite(&token, "株式会社完了").await;
    complete_invitation(&app, &done).await;

    let res = app
        .client
        .get(app.url(PORTFOLIO_CSV))
        .query(&[("status", "submitted")])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let submitted_only = res.text().await.unwrap();
    let all = csv_of(&app, &token).await;

    let lines: Vec<&str> = submitted_only.lines().collect();
    assert_eq!(lines.len(), 2, "{submitted_only}");
    assert!(lines[1].starts_with(&id_of(&done)));
    assert!(
        all.contains(r#""'=HYPERLINK(""x"")""#) && all.contains(",'+81,"),
        "cells a spreadsheet would run start with an apostrophe: {all}"
    );
}

#[tokio::test]
async fn links_use_the_configured_public_address() {
    let app = spawn_app_configured(&shipped_questionnaires(), |c| {
        c.public_url = Some("https://shindan.example.jp/".into());
    })
    .await;
    let (_, token) = app.add_broker("Tokio Brokers");

    let invited = app.invite(&token, "株式会社公開").await;
    complete_invitation(&app, &invited).await;
    let csv = csv_of(&app, &token).await;

    let edit = invited["edit_token"].as_str().unwrap();
    let report = invited["report_token"].as_str().unwrap();
    assert_eq!(
        invited["invite_url"],
        format!("https://shindan.example.jp/a/{edit}")
    );
    assert!(
        csv.contains(&format!(",https://shindan.example.jp/r/{report}")),
        "{csv}"
    );
}

// --- Admin API ---------------------------------------------------------------------------

#[tokio::test]
async fn the_admin_api_is_off_without_an_admin_token() {
    let app = spawn_app().await;

    for token in ["", ADMIN_TOKEN] {
        expect_error(
            app.get_as(token, ADMIN_BROKERS).await,
            404,
            "admin_disabled",
        )
        .await;
        let res = app
            .post_as(token, ADMIN_BROKERS, &json!({"name": "Tokio Brokers"}))
            .await;
        expect_error(res, 404, "admin_disabled").await;
    }
    assert!(app.store.brokers().unwrap().is_empty());
}

#[tokio::test]
async fn an_admin_adds_lists_shows_rotates_and_revokes_a_broker() {
    let app = spawn_admin_app().await;

    // Add.
    let res = app
        .post_as(
            ADMIN_TOKEN,
            ADMIN_BROKERS,
            &json!({"name": "  Tokio Brokers "}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let added: Value = res.json().await.unwrap();
    let id = added["id"].as_str().unwrap().to_string();
    let token = added["token"].as_str().unwrap().to_string();
    assert_eq!(added["name"], "Tokio Brokers");
    assert_eq!(added["status"], "active");
    assert_eq!(added["rotated_at"], Value::Null);
    assert_eq!(added["revoked_at"], Value::Null);
    assert!(added["created_at"].is_string());
    assert_eq!(token.len(), 43);
    assert_eq!(app.get_as(&token, PORTFOLIO).await.status(), 200);

    // List and show: never a token or its digest.
    let res = app.get_as(ADMIN_TOKEN, ADMIN_BROKERS).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(!text.contains(&token), "{text}");
    let listed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let one = &listed[0];
    assert_eq!(one["id"], id.as_str());
    let keys: Vec<&String> = one.as_object().unwrap().keys().collect();
    assert!(
        keys.iter()
            .all(|k| !k.contains("token") && !k.contains("sha") && !k.contains("digest")),
        "{keys:?}"
    );
    let shown: Value = app
        .get_as(ADMIN_TOKEN, &format!("{ADMIN_BROKERS}/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(&shown, one);

    // Rotate: the old token stops working, the new one works.
    let res = app
        .post_as(
            ADMIN_TOKEN,
            &format!("{ADMIN_BROKERS}/{id}/rotate"),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["token"].as_str().unwrap().to_string();
    assert!(rotated["rotated_at"].is_string());
    expect_unauthorized(app.get_as(&token, PORTFOLIO).await).await;
    assert_eq!(app.get_as(&new, PORTFOLIO).await.status(), 200);

    // Revoke: the broker can do nothing more, and cannot be rotated back to life.
    let res = admin_delete(&app, ADMIN_TOKEN, &format!("{ADMIN_BROKERS}/{id}")).await;
    assert_eq!(res.status(), 200);
    let revoked: Value = res.json().await.unwrap();
    assert_eq!(revoked["status"], "revoked");
    assert!(revoked["revoked_at"].is_string());
    expect_unauthorized(app.get_as(&new, PORTFOLIO).await).await;
    let res = app
        .post_as(
            ADMIN_TOKEN,
            &format!("{ADMIN_BROKERS}/{id}/rotate"),
            &json!({}),
        )
        .await;
    expect_error(res, 409, "broker_revoked").await;
    expect_unauthorized(app.get_as(&new, PORTFOLIO).await).await;
}

#[tokio::test]
async fn the_admin_api_refuses_a_wrong_token_a_bad_name_and_an_unknown_id() {
    let app = spawn_admin_app().await;
    let (broker_id, broker_token) = app.add_broker("Tokio Brokers");

    // Wrong admin tokens, a broker's token among them.
    for token in ["", "wrong", broker_token.as_str()] {
        expect_unauthorized(app.get_as(token, ADMIN_BROKERS).await).await;
        let res = app
            .post_as(token, ADMIN_BROKERS, &json!({"name": "Intruder"}))
            .await;
        expect_unauthorized(res).await;
        expect_unauthorized(
            admin_delete(&app, token, &format!("{ADMIN_BROKERS}/{broker_id}")).await,
        )
        .await;
    }
    // Bad names.
    for name in [
        String::new(),
        "  ".into(),
        "x".repeat(101),
        "Tab\tBrokers".into(),
        "\u{202E}srekorB".into(),
    ] {
        let res = app
            .post_as(ADMIN_TOKEN, ADMIN_BROKERS, &json!({"name": name}))
            .await;
        let body = expect_error(res, 422, "invalid_field").await;
        assert_eq!(body["error"]["field"], "name", "{name:?}");
    }
    // Unknown and malformed ids.
    for id in [uuid::Uuid::new_v4().to_string(), "not-an-id".to_string()] {
        let one = format!("{ADMIN_BROKERS}/{id}");
        expect_error(app.get_as(ADMIN_TOKEN, &one).await, 404, "not_found").await;
        expect_error(
            admin_delete(&app, ADMIN_TOKEN, &one).await,
            404,
            "not_found",
        )
        .await;
        let res = app
            .post_as(ADMIN_TOKEN, &format!("{one}/rotate"), &json!({}))
            .await;
        expect_error(res, 404, "not_found").await;
    }

    let brokers = app.store.brokers().unwrap();
    assert_eq!(brokers.len(), 1, "nothing added");
    assert_eq!(brokers[0].status().as_str(), "active", "nothing revoked");
    assert_eq!(app.get_as(&broker_token, PORTFOLIO).await.status(), 200);
}

// --- Rate limits -------------------------------------------------------------------------

/// Asserts a 429 `rate_limited` with a whole number of seconds to wait, at least 1.
async fn expect_rate_limited(res: reqwest::Response) {
    let retry_after = res
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse::<u64>()
        .expect("whole seconds");
    assert!(retry_after >= 1, "Retry-After: {retry_after}");
    expect_error(res, 429, "rate_limited").await;
}

#[tokio::test]
async fn the_fourth_quick_broker_request_is_429_with_retry_after() {
    let (_app, (first_three, fourth)) =
        within_one_refill(spawn_strictly_limited_app, async |app: &TestApp| {
            let (_, token) = app.add_broker("Tokio Brokers");
            let mut first_three = Vec::new();
            for _ in 0..3 {
                first_three.push(app.get_as(&token, PORTFOLIO).await.status());
            }
            (first_three, app.get_as(&token, PORTFOLIO).await)
        })
        .await;

    assert_eq!(first_three, [200; 3]);
    expect_rate_limited(fourth).await;
}

#[tokio::test]
async fn wrong_tokens_are_limited_per_address_without_locking_out_a_real_broker() {
    let (app, (guesses, guess, valid)) =
        within_one_refill(spawn_strictly_limited_app, async |app: &TestApp| {
            let (_, token) = app.add_broker("Tokio Brokers");
            let mut guesses = Vec::new();
            for _ in 0..3 {
                guesses.push(app.get_as(UNKNOWN_TOKEN, PORTFOLIO).await);
            }
            let guess = app.get_as(UNKNOWN_TOKEN, PORTFOLIO).await;
            let valid = app
                .post_as(
                    &token,
                    INVITATIONS,
                    &json!({"questionnaire": "it-liability", "client_name": "株式会社A"}),
                )
                .await;
            (guesses, guess, valid)
        })
        .await;

    for res in guesses {
        expect_unauthorized(res).await;
    }
    expect_rate_limited(guess).await;
    assert_eq!(
        valid.status(),
        201,
        "the real broker, behind the same address"
    );
    assert_eq!(app.stored(), 1, "only the real broker's invitation");
}

#[tokio::test]
async fn junk_from_a_shared_address_never_locks_a_broker_out() {
    // The default limits, as in production: 250 wrong tokens from one address.
    let app = spawn_app_configured(&shipped_questionnaires(), |c| {
        c.rate_limits = shindan::config::RateLimits::default();
    })
    .await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..250 {
        let res = app.get_as(UNKNOWN_TOKEN, PORTFOLIO).await;
        *statuses.entry(res.status().as_u16()).or_insert(0) += 1;
    }
    assert!(
        statuses.get(&429).is_some_and(|n| *n >= 200),
        "{statuses:?}"
    );
    assert_eq!(app.get_as(&token, PORTFOLIO).await.status(), 200);
}

#[tokio::test]
async fn each_broker_has_its_own_bucket() {
    let (_app, (first, second)) =
        within_one_refill(spawn_strictly_limited_app, async |app: &TestApp| {
            let (_, a) = app.add_broker("A");
            let (_, b) = app.add_broker("B");
            let mut first = Vec::new();
            for _ in 0..4 {
                first.push(app.get_as(&a, PORTFOLIO).await.status().as_u16());
            }
            (first, app.get_as(&b, PORTFOLIO).await.status().as_u16())
        })
        .await;
    assert_eq!(first, [200, 200, 200, 429]);
    assert_eq!(second, 200, "another broker behind the same address");
}

#[tokio::test]
async fn the_admin_api_is_rate_limited_too() {
    let (_app, (guesses, guess, valid, quick)) = within_one_refill(
        async || spawn_limited_app(Some(ADMIN_TOKEN)).await,
        async |app: &TestApp| {
            let mut guesses = Vec::new();
            for _ in 0..3 {
                guesses.push(app.get_as("guess", ADMIN_BROKERS).await);
            }
            let guess = app.get_as("guess", ADMIN_BROKERS).await;
            let mut valid = Vec::new();
            for _ in 0..3 {
                valid.push(
                    app.get_as(ADMIN_TOKEN, ADMIN_BROKERS)
                        .await
                        .status()
                        .as_u16(),
                );
            }
            (
                guesses,
                guess,
                valid,
                app.get_as(ADMIN_TOKEN, ADMIN_BROKERS).await,
            )
        },
    )
    .await;

    for guess in guesses {
        expect_unauthorized(guess).await;
    }
    expect_rate_limited(guess).await;
    assert_eq!(valid, [200; 3], "the operator is not locked out by guesses");
    expect_rate_limited(quick).await;
}

// --- New answering links -----------------------------------------------------------------

#[tokio::test]
async fn a_new_link_replaces_the_old_one_and_keeps_the_answers() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let invited = app.invite(&token, "株式会社再発行").await;
    let id = id_of(&invited);
    let old = invited["edit_token"].as_str().unwrap().to_string();
    let q = app.questionnaire("it-liability").await;
    let first_question = q["questions"][0]["id"].as_str().unwrap().to_string();
    let first_option = q["questions"][0]["options"][0]["id"].clone();
    let res = app
        .patch_assessment(
            &id,
            &old,
            &json!({"answers": {first_question.clone(): first_option}}),
        )
        .await;
    assert_eq!(res.status(), 200);

    let res = app
        .post_as(&token, &format!("{PORTFOLIO}/{id}/invitation"), &json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let fresh: Value = res.json().await.unwrap();
    let new = fresh["edit_token"].as_str().unwrap();
    assert_ne!(new, old);
    assert!(fresh["invite_url"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/a/{new}")));

    expect_unauthorized(app.patch_assessment(&id, &old, &json!({})).await).await;
    assert_eq!(app.get(&format!("/a/{old}")).await.status(), 404);
    let draft: Value = app
        .get_as(new, &format!("/api/v1/assessments/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        draft["answers"][first_question.as_str()],
        q["questions"][0]["options"][0]["id"]
    );
    assert_eq!(draft["profile"]["company_name"], "株式会社再発行");
}

#[tokio::test]
async fn a_new_link_is_only_for_the_brokers_own_unsubmitted_invitations() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let (_, other) = app.add_broker("Other Brokers");
    let invited = app.invite(&token, "株式会社A").await;
    let id = id_of(&invited);
    let path = format!("{PORTFOLIO}/{id}/invitation");

    expect_error(
        app.post_as(&other, &path, &json!({})).await,
        404,
        "not_found",
    )
    .await;
    expect_unauthorized(app.post_as(UNKNOWN_TOKEN, &path, &json!({})).await).await;
    expect_error(
        app.post_as(
            &token,
            &format!("{PORTFOLIO}/not-a-uuid/invitation"),
            &json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // The other broker's attempt changed nothing: the first link still works.
    let edit = invited["edit_token"].as_str().unwrap();
    assert_eq!(
        app.patch_assessment(&id, edit, &json!({})).await.status(),
        200
    );

    complete_invitation(&app, &invited).await;
    expect_error(
        app.post_as(&token, &path, &json!({})).await,
        409,
        "already_submitted",
    )
    .await;

    let own = own_submitted(&app).await;
    app.post_as(
        &token,
        ATTACH,
        &json!({"report_token": own["report_token"]}),
    )
    .await;
    let attached = format!("{PORTFOLIO}/{}/invitation", id_of(&own));
    expect_error(
        app.post_as(&token, &attached, &json!({})).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn admin_bodies_that_are_not_a_name_are_refused_and_add_nothing() {
    let app = spawn_admin_app().await;
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(app.url(ADMIN_BROKERS))
            .bearer_auth(ADMIN_TOKEN)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    expect_error(
        send("{", "application/json").await.unwrap(),
        400,
        "malformed_json",
    )
    .await;
    expect_error(
        send(r#"{"name": 3}"#, "application/json").await.unwrap(),
        422,
        "invalid_body",
    )
    .await;
    expect_error(
        send(r#"{"name": "A", "token": "mine"}"#, "application/json")
            .await
            .unwrap(),
        422,
        "invalid_body",
    )
    .await;
    expect_error(
        send(r#"{"name": "A"}"#, "text/plain").await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    assert!(app.store.brokers().unwrap().is_empty());
}

// --- Application readiness -----------------------------------------------------------------

/// Invites a client of the `application` fixture and has it answer `profile` (and every
/// question); submits when asked. The invitation's JSON.
async fn invited_application_client(
    app: &TestApp,
    broker: &str,
    name: &str,
    profile: Value,
    submit: bool,
) -> Value {
    let invited = app
        .post_as(
            broker,
            INVITATIONS,
            &json!({"questionnaire": "application", "client_name": name}),
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    let edit = invited["edit_token"].as_str().unwrap();
    let answers = json!({"q1": "yes", "q2": "no", "q3": "yes"});
    let res = app
        .patch_assessment(
            &id_of(&invited),
            edit,
            &json!({"profile": profile, "answers": answers}),
        )
        .await;
    assert_eq!(res.status(), 200);
    if submit {
        assert_eq!(app.submit(&id_of(&invited), edit).await.status(), 200);
    }
    invited
}

#[tokio::test]
async fn the_portfolio_and_its_csv_say_which_application_items_a_submitted_client_answered() {
    // Arrange: one client answered one of the three items (an empty list is no answer),
    // another all three.
    let app = spawn_app_with(&application_questionnaires()).await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let partial = invited_application_client(
        &app,
        &token,
        "株式会社準備中",
        json!({"revenue": 120, "certs": []}),
        true,
    )
    .await;
    let complete = invited_application_client(
        &app,
        &token,
        "株式会社準備完了",
        json!({"revenue": 90, "certs": ["isms"], "past_claims": "none"}),
        true,
    )
    .await;

    // Act
    let listed = items(&app, &token, &[]).await;
    let detail: Value = app
        .get_as(&token, &format!("{PORTFOLIO}/{}", id_of(&partial)))
        .await
        .json()
        .await
        .unwrap();
    let csv = csv_of(&app, &token).await;

    // Assert: file order is kept; the CSV has plain numbers, which no spreadsheet reads
    // as a date.
    let expected = json!({"answered": ["revenue"], "missing": ["certs", "past_claims"]});
    assert_eq!(ids(&listed), [id_of(&complete), id_of(&partial)]);
    assert_eq!(listed[1]["application"], expected);
    assert_eq!(detail["application"], expected);
    assert_eq!(listed[0]["application"]["missing"], json!([]));
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert!(rows[0].ends_with(",3,3,"), "{csv}");
    assert!(rows[1].ends_with(",1,3,certs;past_claims"), "{csv}");
}

#[tokio::test]
async fn a_drafts_application_answers_stay_hidden_from_the_broker_until_submitted() {
    let app = spawn_app_with(&application_questionnaires()).await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let draft = invited_application_client(
        &app,
        &token,
        "株式会社下書き",
        json!({"revenue": 120, "past_claims": "yes"}),
        false,
    )
    .await;

    let listed = items(&app, &token, &[]).await;
    let detail: Value = app
        .get_as(&token, &format!("{PORTFOLIO}/{}", id_of(&draft)))
        .await
        .json()
        .await
        .unwrap();
    let csv = csv_of(&app, &token).await;

    assert_eq!(listed[0]["status"], "in_progress");
    assert_eq!(listed[0]["application"], Value::Null);
    assert_eq!(detail["application"], Value::Null);
    assert!(csv.lines().nth(1).unwrap().ends_with(",,,"), "{csv}");
}

#[tokio::test]
async fn a_questionnaire_without_application_items_shows_no_readiness() {
    let app = spawn_app_with(&crate::helpers::small_questionnaires()).await;
    let (_, token) = app.add_broker("Tokio Brokers");
    let res = app
        .post_as(
            &token,
            INVITATIONS,
            &json!({"questionnaire": "fixture", "client_name": "株式会社小"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let listed = items(&app, &token, &[]).await;
    assert_eq!(listed[0]["application"], Value::Null);
    let csv = csv_of(&app, &token).await;
    assert!(csv.lines().nth(1).unwrap().ends_with(",,,"), "{csv}");
}
