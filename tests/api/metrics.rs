//! `GET /metrics`: who may read it, what its labels may contain (route patterns, never
//! paths or tokens), that unknown paths cannot grow it, and that the domain metrics move
//! with the events they count. Every check counts events; none waits for time.

use serde_json::{json, Value};
use shindan::config::AdminToken;

use crate::helpers::{client, expect_error, small_questionnaires, spawn_app_configured, TestApp};

const ADMIN_TOKEN: &str = "metrics-test-admin-token-0123456789abcdef";

/// The content type `/metrics` is served with: the Prometheus text format 0.0.4.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Lines a new label set of the request families adds: the counter, and the histogram's
/// buckets (12 bounds and `+Inf`), `_sum` and `_count`.
const LINES_PER_REQUEST_SERIES: usize = 1 + 13 + 2;

/// A submission of the small fixture questionnaire, complete.
fn submission() -> Value {
    json!({"questionnaire": "fixture", "submit": true,
        "answers": {"q1": "yes", "q2": "no", "q3": "na", "q4": "b"}})
}

async fn spawn_metrics_app() -> TestApp {
    spawn_app_configured(&small_questionnaires(), |c| {
        c.admin_token = Some(AdminToken(ADMIN_TOKEN.into()));
    })
    .await
}

/// The metrics text, read with the admin token.
async fn scrape(app: &TestApp) -> String {
    let res = app.get_as(ADMIN_TOKEN, "/metrics").await;
    assert_eq!(res.status(), 200, "scrape");
    res.text().await.expect("metrics text")
}

/// The value of the sample `series` (a name with its labels, as printed), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// The samples of the text (lines that are not comments).
fn samples(text: &str) -> Vec<&str> {
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[tokio::test]
async fn a_report_request_is_labelled_by_its_route_pattern_never_its_token() {
    // Arrange
    let app = spawn_metrics_app().await;
    let created = app.created(&submission()).await;
    let report_token = created["report_token"].as_str().unwrap();
    let edit_token = created["edit_token"].as_str().unwrap();
    let id = created["id"].as_str().unwrap();

    // Act
    for _ in 0..2 {
        let page = app.get(&format!("/r/{report_token}?lang=en")).await;
        assert_eq!(page.status(), 200);
    }
    assert_eq!(app.get_report(report_token).await.status(), 200);
    let res = app
        .client
        .get(app.url(&format!("/api/v1/assessments/{id}")))
        .bearer_auth(edit_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let text = scrape(&app).await;

    // Assert
    assert_eq!(
        sample(
            &text,
            r#"shindan_http_requests_total{method="GET",route="/r/{token}",status="200"}"#
        ),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        sample(
            &text,
            r#"shindan_http_request_duration_seconds_count{method="GET",route="/api/v1/reports/{token}",status="200"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert!(
        text.contains(r#"route="/api/v1/assessments/{id}""#),
        "{text}"
    );
    assert!(text.contains(r#"route="/api/v1/assessments",status="201""#));
    for secret in [report_token, edit_token, id, "lang=en"] {
        assert!(!text.contains(secret), "{secret} appears in the metrics");
    }
    // The first page was rendered, the second came from the cache.
    assert_eq!(
        sample(
            &text,
            r#"shindan_report_cache_misses_total{cache="render"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"shindan_report_cache_hits_total{cache="render"}"#),
        Some(1.0)
    );
}

#[tokio::test]
async fn a_thousand_unknown_paths_add_a_bounded_number_of_series() {
    // Arrange
    let app = spawn_metrics_app().await;
    let before = scrape(&app).await;

    // Act: distinct paths, pages and API, some with a query, and a few POSTs.
    for i in 0..1000 {
        let path = match i % 4 {
            0 => format!("/zz-probe-{i}"),
            1 => format!("/api/v1/zz-probe-{i}?token=zz-probe-q{i}"),
            2 => format!("/r/zz-probe-{i}/zz-probe-{i}"),
            _ => format!("/assets/zz-probe-{i}/deeper/zz-probe"),
        };
        let res = if i % 50 == 0 {
            app.client.post(app.url(&path)).send().await.unwrap()
        } else {
            app.get(&path).await
        };
        assert_eq!(res.status(), 404, "{path}");
    }
    let after = scrape(&app).await;

    // Assert
    assert!(!after.contains("zz-probe"), "a path reached the metrics");
    let added: Vec<&str> = samples(&after)
        .into_iter()
        .filter(|l| l.starts_with("shindan_http_requests_total"))
        .collect();
    assert!(
        added
            .iter()
            .all(|l| l.contains(r#"route="(unmatched)""#) && l.contains(r#"status="404""#)),
        "{added:?}"
    );
    assert_eq!(
        sample(
            &after,
            r#"shindan_http_requests_total{method="GET",route="(unmatched)",status="404"}"#
        ),
        Some(980.0)
    );
    let grown = samples(&after).len() - samples(&before).len();
    assert!(
        grown <= 2 * LINES_PER_REQUEST_SERIES,
        "{grown} new series after 1,000 unknown paths"
    );
}

#[tokio::test]
async fn metrics_on_the_main_port_need_the_admin_token() {
    let app = spawn_metrics_app().await;

    expect_error(app.get("/metrics").await, 401, "unauthorized").await;
    let wrong = app.get_as("not-the-admin-token", "/metrics").await;
    expect_error(wrong, 401, "unauthorized").await;

    let res = app.get_as(ADMIN_TOKEN, "/metrics").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], PROMETHEUS_TEXT);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let text = res.text().await.unwrap();
    assert!(text.contains("# TYPE shindan_submissions_total counter"));
    assert!(!text.contains(ADMIN_TOKEN));
}

#[tokio::test]
async fn metrics_on_the_main_port_are_404_without_an_admin_token_configured() {
    let app = spawn_app_configured(&small_questionnaires(), |_| {}).await;

    expect_error(app.get("/metrics").await, 404, "admin_disabled").await;
    let guess = app.get_as(ADMIN_TOKEN, "/metrics").await;
    expect_error(guess, 404, "admin_disabled").await;
}

#[tokio::test]
async fn the_metrics_listener_serves_metrics_alone_without_authentication() {
    let app = spawn_app_configured(&small_questionnaires(), |c| {
        c.metrics_bind = Some("127.0.0.1:0".into());
    })
    .await;
    let listener = app.metrics_address.clone().expect("a metrics listener");
    app.created(&submission()).await;

    let res = client()
        .get(format!("{listener}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], PROMETHEUS_TEXT);
    let text = res.text().await.unwrap();
    assert_eq!(sample(&text, "shindan_submissions_total"), Some(1.0));

    for path in ["/healthz", "/", "/api/v1/questionnaires"] {
        let res = client()
            .get(format!("{listener}{path}"))
            .send()
            .await
            .unwrap();
        expect_error(res, 404, "not_found").await;
    }
}

#[tokio::test]
async fn metrics_switched_off_are_not_served() {
    let app = spawn_app_configured(&small_questionnaires(), |c| {
        c.admin_token = Some(AdminToken(ADMIN_TOKEN.into()));
        c.metrics = false;
    })
    .await;
    app.created(&submission()).await;

    expect_error(app.get_as(ADMIN_TOKEN, "/metrics").await, 404, "not_found").await;
    assert_eq!(app.metrics_address, None);
}

#[tokio::test]
async fn a_durable_submission_and_an_invitation_are_counted_with_their_writes() {
    // Arrange
    let app = spawn_metrics_app().await;
    let before = scrape(&app).await;
    assert_eq!(sample(&before, "shindan_submissions_total"), Some(0.0));
    assert_eq!(sample(&before, "shindan_storage_writable"), Some(1.0));

    // Act
    app.created(&submission()).await;
    let (_, broker) = app.add_broker("メトリクス代理店");
    let res = app
        .post_as(
            &broker,
            "/api/v1/broker/invitations",
            &json!({"questionnaire": "fixture", "client_name": "株式会社メトリクス"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let after = scrape(&app).await;

    // Assert
    assert_eq!(sample(&after, "shindan_submissions_total"), Some(1.0));
    assert_eq!(sample(&after, "shindan_invitations_total"), Some(1.0));
    let writes = sample(&after, "shindan_durable_write_seconds_count").unwrap_or(0.0);
    assert!(writes >= 2.0, "{after}");
    let groups = sample(&after, "shindan_flush_group_writes_count").unwrap_or(0.0);
    assert!(groups >= 1.0, "{after}");
    assert!(
        !after.contains(&broker),
        "a broker token reached the metrics"
    );
}

#[tokio::test]
async fn a_rate_limit_refusal_is_counted_by_its_limit() {
    // Arrange: one new assessment per address, then none for a minute.
    let app = spawn_app_configured(&small_questionnaires(), |c| {
        c.admin_token = Some(AdminToken(ADMIN_TOKEN.into()));
        c.rate_limits.create_per_minute = 1;
        c.rate_limits.create_burst = 1;
    })
    .await;

    // Act
    app.created(&submission()).await;
    let refused = app.create_assessment(&submission()).await;
    expect_error(refused, 429, "rate_limited").await;
    let text = scrape(&app).await;

    // Assert
    let create = sample(&text, r#"shindan_rate_limited_total{limit="create"}"#);
    assert!(create.is_some_and(|n| n >= 1.0), "{text}");
    assert_eq!(
        sample(&text, r#"shindan_rate_limited_total{limit="failed_auth"}"#),
        Some(0.0)
    );
    assert_eq!(sample(&text, "shindan_submissions_total"), Some(1.0));
}

#[tokio::test]
async fn the_peer_snapshot_age_appears_once_a_snapshot_is_published() {
    let app = spawn_metrics_app().await;
    let text = scrape(&app).await;
    assert!(!text.contains("shindan_peer_snapshot_age_seconds"));

    // A snapshot needs five changed companies; assessments without a company name count
    // on their own.
    for _ in 0..5 {
        app.created(&submission()).await;
    }
    let res = app
        .post_as(ADMIN_TOKEN, "/api/v1/admin/peer-snapshots", &json!({}))
        .await;
    assert_eq!(res.status(), 201);
    let text = scrape(&app).await;

    let age = sample(&text, "shindan_peer_snapshot_age_seconds");
    assert!(age.is_some_and(|a| a.is_finite() && a >= 0.0), "{text}");
}
