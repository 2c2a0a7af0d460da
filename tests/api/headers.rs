//! Security headers on every response, and the extra ones of token pages.

use serde_json::{json, Value};

use crate::helpers::{small_questionnaires, spawn_app, spawn_app_with};

fn assert_base_headers(res: &reqwest::Response) {
    let h = res.headers();
    assert_eq!(h["referrer-policy"], "same-origin", "{}", res.url());
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"));
    assert!(!csp.contains("unsafe-inline"));
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/healthz",
        "/assets/style.css",
        "/api/v1/questionnaires",
        "/nowhere",
        "/api/v1/nowhere",
        "/r/xyz",
        "/a/xyz",
    ] {
        let res = app.get(path).await;
        assert_base_headers(&res);
    }
    let res = app
        .create_assessment(&json!({"questionnaire": "nope"}))
        .await;
    assert_base_headers(&res);
}

#[tokio::test]
async fn token_pages_are_not_indexed_and_edit_pages_are_not_cached() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created: Value = app.created(&json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "a"}, "submit": true})).await;
    let report = created["report_token"].as_str().unwrap();
    let res = app.get(&format!("/r/{report}")).await;
    assert_eq!(res.status(), 200);
    assert_base_headers(&res);
    assert_eq!(res.headers()["x-robots-tag"], "noindex");

    let draft: Value = app.created(&json!({"questionnaire": "fixture"})).await;
    let edit = draft["edit_token"].as_str().unwrap();
    for path in [
        format!("/a/{edit}/profile"),
        format!("/a/{edit}/d/1"),
        format!("/a/{edit}/review"),
        format!("/a/{edit}"),
    ] {
        let res = app.get(&path).await;
        assert!(
            res.status() == 200 || res.status() == 303,
            "{path}: {}",
            res.status()
        );
        assert_base_headers(&res);
        assert_eq!(res.headers()["x-robots-tag"], "noindex");
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
}

#[tokio::test]
async fn the_icon_is_served_where_browsers_look_for_it_and_pages_name_it() {
    let app = spawn_app().await;
    for path in ["/favicon.ico", "/assets/favicon.svg"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["content-type"], "image/svg+xml", "{path}");
        assert!(res.text().await.unwrap().starts_with("<svg"), "{path}");
    }
    let page = app.get("/").await.text().await.unwrap();
    assert!(page.contains(r#"<link rel="icon" type="image/svg+xml" href="/assets/favicon.svg">"#));
}

#[tokio::test]
async fn every_response_reached_by_a_token_is_never_stored_and_keeps_its_etag() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created: Value = app.created(&json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "yes", "q3": "yes", "q4": "a"}, "submit": true})).await;
    let report = created["report_token"].as_str().unwrap();
    for path in [
        format!("/r/{report}"),
        format!("/r/{report}?lang=en"),
        format!("/r/{report}/download"),
        format!("/r/{report}/radar.svg"),
        format!("/r/{report}.csv"),
        format!("/r/{report}/actions.csv"),
        format!("/api/v1/reports/{report}"),
    ] {
        let res = app.get(&path).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.headers()["cache-control"], "no-store", "{path}");
        assert_eq!(res.headers()["x-robots-tag"], "noindex", "{path}");
        if let Some(etag) = res.headers().get("etag").cloned() {
            let again = app
                .client
                .get(app.url(&path))
                .header("if-none-match", etag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304, "{path}");
            assert_eq!(again.headers()["cache-control"], "no-store", "{path}");
        } else {
            assert!(!path.starts_with("/r/"), "{path} has an ETag");
        }
    }
    let res = app
        .post_form("/start", &[("questionnaire", "fixture")])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        res.headers()["cache-control"],
        "no-store",
        "the new private link"
    );
}
