//! What anonymous clients cannot do to the service: create assessments without limit,
//! hold a connection open with a slow body, or make links point at another host.

use serde_json::json;

use crate::helpers::{
    complete_answers, expect_error, shipped_questionnaires, small_questionnaires,
    spawn_app_configured, TestApp,
};

/// An app that allows a burst of 3 new assessments per address, then 1 a minute.
async fn spawn_creation_limited_app() -> TestApp {
    spawn_app_configured(&small_questionnaires(), |c| {
        c.rate_limits.create_per_minute = 1;
        c.rate_limits.create_burst = 3;
    })
    .await
}

#[tokio::test]
async fn new_assessments_are_limited_per_address_through_the_api_with_retry_after() {
    let app = spawn_creation_limited_app().await;
    let draft = json!({"questionnaire": "fixture"});
    let submitted = json!({"questionnaire": "fixture", "submit": true,
        "answers": {"q1": "yes", "q2": "no", "q3": "na", "q4": "b"}});
    assert_eq!(app.create_assessment(&draft).await.status(), 201);
    assert_eq!(app.create_assessment(&submitted).await.status(), 201);
    assert_eq!(app.create_assessment(&draft).await.status(), 201);
    for body in [&draft, &submitted] {
        let res = app.create_assessment(body).await;
        let retry: u64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry), "{retry}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        expect_error(res, 429, "rate_limited").await;
    }
    assert_eq!(app.stored(), 3, "nothing stored past the limit");
}

#[tokio::test]
async fn the_start_form_shares_the_limit_and_answers_with_the_friendly_page() {
    let app = spawn_creation_limited_app().await;
    for _ in 0..3 {
        let res = app
            .post_form("/start", &[("questionnaire", "fixture")])
            .await;
        assert_eq!(res.status(), 303);
    }
    let res = app
        .post_form("/start", &[("questionnaire", "fixture")])
        .await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(res.text().await.unwrap().contains("リクエストが多すぎます"));
    let res = app
        .create_assessment(&json!({"questionnaire": "fixture"}))
        .await;
    expect_error(res, 429, "rate_limited").await;
    assert_eq!(app.stored(), 3);
}

#[tokio::test]
async fn editing_and_reading_an_existing_assessment_is_not_a_creation() {
    let app = spawn_creation_limited_app().await;
    let created = app.created(&json!({"questionnaire": "fixture"})).await;
    let (id, edit) = (
        created["id"].as_str().unwrap(),
        created["edit_token"].as_str().unwrap(),
    );
    for _ in 0..5 {
        let res = app
            .client
            .patch(app.url(&format!("/api/v1/assessments/{id}")))
            .bearer_auth(edit)
            .json(&json!({"answers": {"q1": "yes"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
}

/// An invitation made through the API with the given forwarded headers; its link.
async fn invite_url_with(app: &TestApp, headers: &[(&str, &str)]) -> String {
    let (_, token) = app.add_broker("A");
    let mut req = app
        .client
        .post(app.url("/api/v1/broker/invitations"))
        .bearer_auth(&token)
        .json(&json!({"questionnaire": "fixture", "client_name": "株式会社リンク"}));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 201);
    let created: serde_json::Value = res.json().await.unwrap();
    created["invite_url"].as_str().unwrap().to_string()
}

const FORGED: [(&str, &str); 3] = [
    ("x-forwarded-host", "evil.example"),
    ("x-forwarded-proto", "https"),
    ("forwarded", "host=evil.example;proto=https"),
];

#[tokio::test]
async fn forwarded_headers_from_anyone_but_a_trusted_proxy_never_name_our_links() {
    let app = spawn_app_configured(&small_questionnaires(), |_| {}).await;
    let url = invite_url_with(&app, &FORGED).await;
    assert!(url.starts_with(&format!("{}/a/", app.address)), "{url}");
    // The private link on the applicant's own page too.
    let edit = url.rsplit('/').next().unwrap();
    let mut req = app.client.get(app.url(&format!("/a/{edit}/profile")));
    for (name, value) in FORGED {
        req = req.header(name, value);
    }
    let page = req.send().await.unwrap().text().await.unwrap();
    assert!(!page.contains("evil.example"));
    assert!(page.contains(&format!(r#"value="{}/a/{edit}""#, app.address)));
}

#[tokio::test]
async fn a_trusted_proxy_names_the_host_and_scheme_users_reached() {
    let app = spawn_app_configured(&small_questionnaires(), |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await;
    let url = invite_url_with(
        &app,
        &[
            ("x-forwarded-host", "shindan.example.jp"),
            ("x-forwarded-proto", "https"),
        ],
    )
    .await;
    assert!(url.starts_with("https://shindan.example.jp/a/"), "{url}");
}

/// What the server answered a request whose body trickles in one byte every `every`
/// after `head`, read until the server closes the connection: the status line and the
/// whole response. The trickle stops when the server stops reading or closes.
fn trickle(address: &str, head: String, every: std::time::Duration) -> (String, String) {
    use std::io::{Read, Write};
    let addr = address.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(crate::helpers::PATIENCE))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let (done, stop) = std::sync::mpsc::channel::<()>();
    let dripping = std::thread::spawn(move || {
        // Never the whole body: 200 bytes announced, at most 100 sent.
        for _ in 0..100 {
            if writer.write_all(b" ").is_err() {
                break;
            }
            // Waits `every`, or stops at once when the response is in.
            if stop.recv_timeout(every).is_ok() {
                break;
            }
        }
    });
    let mut response = Vec::new();
    // Ends when the server closes the connection (or after PATIENCE: a hang).
    let read = stream.read_to_end(&mut response);
    let _ = done.send(());
    let _ = stream.shutdown(std::net::Shutdown::Both);
    let _ = dripping.join();
    read.expect("the server closed the connection");
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text.lines().next().unwrap_or("").to_string();
    (status, text)
}

async fn spawn_impatient_app() -> TestApp {
    spawn_app_configured(&small_questionnaires(), |c| {
        c.body_timeout = std::time::Duration::from_secs(1);
    })
    .await
}

#[tokio::test]
async fn a_json_body_that_trickles_in_gets_408_and_its_connection_closed() {
    let app = spawn_impatient_app().await;
    let address = app.address.clone();
    let head = "POST /api/v1/assessments HTTP/1.1\r\nHost: x\r\n\
                Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{"
        .to_string();
    let every = std::time::Duration::from_millis(200);
    let (status, text) = tokio::task::spawn_blocking(move || trickle(&address, head, every))
        .await
        .unwrap();
    assert_eq!(status, "HTTP/1.1 408 Request Timeout", "{text}");
    assert!(text.contains(r#""code":"request_timeout""#), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("connection: close"),
        "{text}"
    );
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn a_form_body_that_stalls_gets_the_friendly_408_page() {
    let app = spawn_impatient_app().await;
    let address = app.address.clone();
    let head = "POST /start HTTP/1.1\r\nHost: x\r\nAccept-Language: en\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n\
                questionnaire=fixture"
        .to_string();
    // Stalls: the next byte would come long after the deadline.
    let every = crate::helpers::PATIENCE;
    let (status, text) = tokio::task::spawn_blocking(move || trickle(&address, head, every))
        .await
        .unwrap();
    assert_eq!(status, "HTTP/1.1 408 Request Timeout", "{text}");
    assert!(text.contains("The request took too long"), "{text}");
    assert_eq!(app.stored(), 0);
}

/// The status of a draft's own API read: 200 while it exists.
async fn draft_status(app: &TestApp, created: &serde_json::Value) -> u16 {
    app.client
        .get(app.url(&format!(
            "/api/v1/assessments/{}",
            created["id"].as_str().unwrap()
        )))
        .bearer_auth(created["edit_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn the_sweep_deletes_own_drafts_untouched_since_the_cut_off_and_nothing_else() {
    let app = spawn_app_configured(&shipped_questionnaires(), |_| {}).await;
    let (_, broker) = app.add_broker("A");
    let old = app.created(&json!({"questionnaire": "it-liability"})).await;
    let invited = app.invite(&broker, "株式会社招待").await;
    let cutoff = chrono::Utc::now();
    let fresh = app.created(&json!({"questionnaire": "it-liability"})).await;
    let q = app.questionnaire("it-liability").await;
    let (profile, answers) = complete_answers(&q);
    let submitted = app
        .created(&json!({"questionnaire": "it-liability", "submit": true,
            "profile": profile, "answers": answers}))
        .await;
    assert_eq!(app.stored(), 4);

    let deleted = app.store.clone().delete_stale_drafts(cutoff).await.unwrap();

    assert_eq!(deleted, 1);
    assert_eq!(app.stored(), 3);
    assert_eq!(
        draft_status(&app, &old).await,
        404,
        "its link no longer opens it"
    );
    let old_page = app
        .get(&format!("/a/{}", old["edit_token"].as_str().unwrap()))
        .await;
    assert_eq!(old_page.status(), 404);
    assert_eq!(draft_status(&app, &fresh).await, 200);
    assert_eq!(
        draft_status(&app, &invited).await,
        200,
        "a broker's invitation stays"
    );
    let report = submitted["report_token"].as_str().unwrap();
    assert_eq!(app.get(&format!("/r/{report}")).await.status(), 200);
}

#[tokio::test]
async fn the_server_sweeps_abandoned_drafts_on_its_own() {
    let app = spawn_app_configured(&shipped_questionnaires(), |c| {
        c.draft_ttl = std::time::Duration::ZERO;
        c.sweep_every = std::time::Duration::from_millis(50);
    })
    .await;
    let (_, broker) = app.add_broker("A");
    let invited = app.invite(&broker, "株式会社招待").await;
    let own = app.created(&json!({"questionnaire": "it-liability"})).await;
    // Waits for the event, not for a time: each sweep runs every 50 ms.
    let deadline = std::time::Instant::now() + crate::helpers::PATIENCE;
    while draft_status(&app, &own).await == 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "no sweep within {:?}",
            crate::helpers::PATIENCE
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(draft_status(&app, &invited).await, 200);
    assert_eq!(app.stored(), 1);
}
