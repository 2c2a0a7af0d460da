//! The broker pages: signing in and out with a signed session cookie, the dashboard and its
//! forms (refused from another site), a client's history, the portfolio CSV, and the rate
//! limit of the login form.

use reqwest::header;
use serde_json::json;

use crate::helpers::{
    application_questionnaires, cli_add_broker, client, complete_answers, shipped_questionnaires,
    spawn_app, spawn_app_configured, spawn_app_with, spawn_process, TestApp,
};

/// The anti-forgery token in a page's forms, if it has one.
fn csrf_in(html: &str) -> Option<String> {
    let marker = r#"name="csrf" value=""#;
    let start = html.find(marker)? + marker.len();
    html[start..].split('"').next().map(str::to_string)
}

/// Signs in as a browser does: opens the sign-in form, then posts it with its nonce.
async fn sign_in(app: &TestApp, token: &str) -> reqwest::Response {
    let form = app.get("/broker/login").await.text().await.unwrap();
    let csrf = csrf_in(&form).unwrap_or_default();
    app.post_form("/broker/login", &[("token", token), ("csrf", &csrf)])
        .await
}

/// The session's anti-forgery token, read from the dashboard as a browser would.
async fn session_csrf(app: &TestApp) -> String {
    let page = app.get("/broker").await.text().await.unwrap();
    csrf_in(&page).expect("the dashboard's forms carry a token")
}

/// Posts a broker form with the session's anti-forgery token, as the page's form does.
async fn post_broker_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    let csrf = session_csrf(app).await;
    let mut fields = fields.to_vec();
    fields.push(("csrf", &csrf));
    app.post_form(path, &fields).await
}

/// The `Set-Cookie` header of a response, as text.
fn set_cookie(res: &reqwest::Response) -> String {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn location(res: &reqwest::Response) -> &str {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn the_dashboard_needs_a_session_and_the_login_sets_a_strict_http_only_cookie() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("東京みらい保険代理店");

    let res = app.get("/broker").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/broker/login");

    let res = sign_in(&app, &token).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/broker");
    let cookie = set_cookie(&res);
    assert!(cookie.contains("shindan_broker="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");
    assert!(
        !cookie.contains(&token),
        "the cookie never carries the token"
    );

    let res = app.get("/broker").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    assert!(body.contains("東京みらい保険代理店"));
    assert!(body.contains("顧客ポートフォリオ"));
}

#[tokio::test]
async fn a_wrong_token_shows_the_form_again_with_401_and_no_cookie() {
    let app = spawn_app().await;
    app.add_broker("A");
    for wrong in ["", "short", &"x".repeat(43)] {
        let res = sign_in(&app, wrong).await;
        assert_eq!(res.status(), 401, "token {wrong:?}");
        assert!(!set_cookie(&res).contains("shindan_broker=T"));
        let body = res.text().await.unwrap();
        assert!(body.contains("トークンが正しくないか"), "{body}");
    }
    assert_eq!(app.get("/broker").await.status(), 303);
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    sign_in(&app, &token).await;
    let res = post_broker_form(&app, "/broker/logout", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/broker/login");
    assert!(set_cookie(&res).contains("Max-Age=0"));
    assert_eq!(app.get("/broker").await.status(), 303);
}

#[tokio::test]
async fn rotating_or_revoking_the_token_ends_its_sessions() {
    let app = spawn_app().await;
    let (id, token) = app.add_broker("A");
    sign_in(&app, &token).await;
    assert_eq!(app.get("/broker").await.status(), 200);

    let id = uuid::Uuid::parse_str(&id).unwrap();
    let (_, new_token) = app.store.rotate_broker(id).unwrap().unwrap();
    assert_eq!(app.get("/broker").await.status(), 303, "rotated");

    sign_in(&app, new_token.expose()).await;
    assert_eq!(app.get("/broker").await.status(), 200);
    app.store.revoke_broker(id).unwrap();
    assert_eq!(app.get("/broker").await.status(), 303, "revoked");
    assert_eq!(sign_in(&app, new_token.expose()).await.status(), 401);
}

#[tokio::test]
async fn an_altered_session_cookie_is_refused() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    let (other, _) = app.add_broker("B");
    let res = sign_in(&app, &token).await;
    let cookie = set_cookie(&res);
    let value = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("shindan_broker=");
    // Same signature, another broker's id in the value.
    let (signature, rest) = value.split_at(44);
    let forged = format!("{signature}{other}{}", &rest[36..]);
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(app.url("/broker"))
        .header(header::COOKIE, format!("shindan_broker={forged}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn a_session_survives_a_restart_because_the_key_is_kept_in_the_data_directory() {
    let data = tempfile::tempdir().unwrap();
    let token = cli_add_broker("A", data.path());

    let server = spawn_process(data.path(), &shipped_questionnaires());
    let browser = client();
    let login = format!("{}/broker/login", server.address);
    let form = browser
        .get(&login)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_in(&form).unwrap();
    let res = browser
        .post(&login)
        .form(&[("token", token.as_str()), ("csrf", &csrf)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let pair = set_cookie(&res).split(';').next().unwrap().to_string();
    let (code, _) = server.terminate();
    assert_eq!(code, Some(0));

    use std::os::unix::fs::PermissionsExt;
    let key = std::fs::metadata(data.path().join("session.key")).unwrap();
    assert_eq!(key.permissions().mode() & 0o777, 0o600);

    let server = spawn_process(data.path(), &shipped_questionnaires());
    let res = client()
        .get(format!("{}/broker", server.address))
        .header(header::COOKIE, &pair)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the same key signs after the restart");
    server.terminate();
}

#[tokio::test]
async fn the_invite_form_creates_a_draft_with_the_company_name_and_shows_its_link_once() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    sign_in(&app, &token).await;
    let res = post_broker_form(
        &app,
        "/broker/invitations",
        &[
            ("questionnaire", "it-liability"),
            ("client_name", "株式会社さくらシステム"),
            ("proposal_ref", "P-1"),
        ],
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body = res.text().await.unwrap();
    let link = body
        .split("value=\"")
        .find_map(|s| s.split('"').next().filter(|v| v.contains("/a/")))
        .expect("the invitation link")
        .to_string();
    assert!(link.starts_with(&app.address));

    // The client opens it: the company name is already there.
    let res = app.client.get(&link).send().await.unwrap();
    let res = if res.status() == 303 {
        app.get(location(&res)).await
    } else {
        res
    };
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("株式会社さくらシステム"));

    let page = app.get("/broker").await.text().await.unwrap();
    assert!(page.contains("株式会社さくらシステム"));
    assert!(page.contains("招待済み"));
    assert!(
        !page.contains(link.rsplit('/').next().unwrap()),
        "the dashboard never shows edit tokens"
    );
}

#[tokio::test]
async fn an_invalid_invitation_is_refused_on_the_dashboard_and_stores_nothing() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    sign_in(&app, &token).await;
    let before = app.stored();
    let res = post_broker_form(
        &app,
        "/broker/invitations",
        &[
            ("questionnaire", "it-liability"),
            ("client_name", "   "),
            ("proposal_ref", "P-77 <見積>"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    let body = res.text().await.unwrap();
    assert!(body.contains("顧客名は1〜120文字で入力してください"));
    assert!(
        body.contains(r#"value="P-77 &lt;見積&gt;""#),
        "what was typed is shown again, escaped"
    );
    assert_eq!(app.stored(), before);
}

/// The headers a browser sends with a form that a page on another port of the same host
/// posts: Chromium, Firefox and Safari 16.4+ send both, older browsers `Origin` alone. Only
/// such a same-site page gets the `SameSite=Strict` cookies sent along, which these tests
/// carry; from another site the browser withholds them (the browser suite's attacker pages
/// show that case: a redirect to the sign-in page, nothing created).
const FOREIGN_POSTS: [(Option<&str>, &str); 2] = [
    (Some("same-site"), "http://127.0.0.1:1"),
    (None, "http://127.0.0.1:1"),
];

#[tokio::test]
async fn broker_forms_posted_from_another_site_are_refused_even_with_a_leaked_token() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    sign_in(&app, &token).await;
    let csrf = session_csrf(&app).await;
    // A second browser, not signed in, holding a sign-in nonce.
    let other = client();
    let form = other.get(app.url("/broker/login")).send().await.unwrap();
    let nonce = csrf_in(&form.text().await.unwrap()).unwrap();
    let before = app.stored();
    for (site, origin) in FOREIGN_POSTS {
        for (browser, path, fields) in [
            (
                &app.client,
                "/broker/invitations",
                vec![
                    ("questionnaire", "it-liability"),
                    ("client_name", "Evil Corp"),
                    ("csrf", &csrf),
                ],
            ),
            (
                &app.client,
                "/broker/attach",
                vec![("report", "x"), ("csrf", &csrf)],
            ),
            (&app.client, "/broker/logout", vec![("csrf", &csrf)]),
            (
                &other,
                "/broker/login",
                vec![("token", token.as_str()), ("csrf", &nonce)],
            ),
        ] {
            let mut req = browser.post(app.url(path)).header(header::ORIGIN, origin);
            if let Some(site) = site {
                req = req.header("sec-fetch-site", site);
            }
            let res = req.form(&fields).send().await.unwrap();
            assert_eq!(res.status(), 403, "{path} from {origin} ({site:?})");
            assert!(!set_cookie(&res).contains("shindan_broker="), "{path}");
            assert!(res
                .text()
                .await
                .unwrap()
                .contains("送信を受け付けられません"));
        }
    }
    assert_eq!(app.stored(), before);
    assert_eq!(app.get("/broker").await.status(), 200, "still signed in");
    assert_eq!(
        other.get(app.url("/broker")).send().await.unwrap().status(),
        303,
        "the other browser was never signed in"
    );
}

#[tokio::test]
async fn broker_forms_without_their_anti_forgery_token_are_refused_and_change_nothing() {
    // A client that sends neither `Sec-Fetch-Site` nor `Origin` (reqwest; no current
    // browser omits `Origin` on a POST): the anti-forgery token alone must refuse it.
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    let res = app
        .post_form("/broker/login", &[("token", token.as_str())])
        .await;
    assert_eq!(res.status(), 403, "sign-in without the form's nonce");
    assert!(!set_cookie(&res).contains("shindan_broker="));
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("フォームの有効期限が切れました"));
    let form = app.get("/broker/login").await.text().await.unwrap();
    let nonce = csrf_in(&form).unwrap();
    let first = if nonce.starts_with('A') { 'B' } else { 'A' };
    let forged = format!("{first}{}", &nonce[1..]);
    let res = app
        .post_form(
            "/broker/login",
            &[("token", token.as_str()), ("csrf", &forged)],
        )
        .await;
    assert_eq!(res.status(), 403, "sign-in with another nonce");
    assert_eq!(app.get("/broker").await.status(), 303, "not signed in");

    sign_in(&app, &token).await;
    let before = app.stored();
    let id = app.invite(&token, "株式会社リンク").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reissue = format!("/broker/assessments/{id}/invitation");
    let stored = app.stored();
    assert_eq!(stored, before + 1);
    for wrong in [None, Some(""), Some(nonce.as_str())] {
        for (path, fields) in [
            (
                "/broker/invitations",
                vec![
                    ("questionnaire", "it-liability"),
                    ("client_name", "Evil Corp"),
                ],
            ),
            ("/broker/attach", vec![("report", "x")]),
            (reissue.as_str(), vec![]),
            ("/broker/logout", vec![]),
        ] {
            let mut fields = fields;
            if let Some(w) = wrong {
                fields.push(("csrf", w));
            }
            let res = app.post_form(path, &fields).await;
            assert_eq!(res.status(), 403, "{path} with {wrong:?}");
            let body = res.text().await.unwrap();
            assert!(body.contains("フォームの有効期限が切れました"), "{path}");
            assert!(!body.contains("/a/"), "no link was made: {path}");
        }
    }
    assert_eq!(app.stored(), stored);
    assert_eq!(app.get("/broker").await.status(), 200, "still signed in");
}

#[tokio::test]
async fn a_form_token_belongs_to_one_session() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    sign_in(&app, &token).await;
    let first = session_csrf(&app).await;
    assert_eq!(first, session_csrf(&app).await, "stable within a session");
    post_broker_form(&app, "/broker/logout", &[]).await;
    sign_in(&app, &token).await;
    assert_ne!(
        first,
        session_csrf(&app).await,
        "a new session, a new token"
    );
    let res = app
        .post_form(
            "/broker/invitations",
            &[
                ("questionnaire", "it-liability"),
                ("client_name", "株式会社古いタブ"),
                ("csrf", &first),
            ],
        )
        .await;
    assert_eq!(res.status(), 403, "the old session's token");
}

#[tokio::test]
async fn a_shared_report_link_is_attached_and_the_history_compares_the_last_two() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    let q = app.questionnaire("it-liability").await;
    let (mut profile, answers) = complete_answers(&q);
    profile["company_name"] = json!("株式会社アサヒクラウド");
    let own = app
        .created(&json!({"questionnaire": "it-liability", "profile": profile, "answers": answers, "submit": true}))
        .await;
    let own2 = app
        .created(&json!({"questionnaire": "it-liability", "profile": profile, "answers": answers, "submit": true}))
        .await;
    sign_in(&app, &token).await;

    let link = format!(
        "{}/r/{}?lang=en",
        app.address,
        own["report_token"].as_str().unwrap()
    );
    let res = post_broker_form(&app, "/broker/attach", &[("report", &link)]).await;
    assert_eq!(res.status(), 200);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("報告書を一覧に追加しました"));
    let res = post_broker_form(
        &app,
        "/broker/attach",
        &[("report", own2["report_token"].as_str().unwrap())],
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = post_broker_form(&app, "/broker/attach", &[("report", "https://x/r/nothing")]).await;
    assert_eq!(res.status(), 404);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains(r#"value="https://x/r/nothing""#),
        "the pasted link is shown again"
    );

    let res = app
        .client
        .get(app.url("/broker/clients"))
        .query(&[("name", "株式会社アサヒクラウド")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("<svg"), "the radar");
    assert!(body.contains("前回") && body.contains("最新"));
    assert!(body.contains("再診断を依頼する"));
    assert_eq!(app.get("/broker/clients?name=nobody").await.status(), 404);
}

#[tokio::test]
async fn client_names_are_escaped_on_every_broker_page() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("<b>Broker</b>");
    app.invite(&token, "<script>alert(1)</script>").await;
    sign_in(&app, &token).await;
    let page = app.get("/broker").await.text().await.unwrap();
    assert!(!page.contains("<script>alert(1)"));
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!page.contains("<b>Broker</b>"));
    let history = app
        .get("/broker/clients?name=%3Cscript%3Ealert(1)%3C%2Fscript%3E")
        .await
        .text()
        .await
        .unwrap();
    assert!(!history.contains("<script>alert(1)"));
}

#[tokio::test]
async fn the_dashboard_filters_pages_and_exports_csv_in_the_readers_language() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    for i in 0..30 {
        app.invite(&token, &format!("顧客{i:02}")).await;
    }
    sign_in(&app, &token).await;
    let page = app.get("/broker").await.text().await.unwrap();
    assert_eq!(
        page.matches("<tr>").count(),
        1 + 25,
        "header and a page of 25"
    );
    assert!(page.contains("顧客29") && !page.contains("顧客04"));
    let next = page
        .split("class=\"next\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a next page link")
        .replace("&amp;", "&");
    let second = app.get(&next).await.text().await.unwrap();
    assert!(second.contains("顧客04") && !second.contains("顧客29"));

    let filtered = app
        .get("/broker?q=%E9%A1%A7%E5%AE%A217")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(filtered.matches("<tr>").count(), 2);
    let none = app
        .get("/broker?status=submitted")
        .await
        .text()
        .await
        .unwrap();
    assert!(none.contains("該当する診断はありません"));
    assert_eq!(app.get("/broker?status=bogus").await.status(), 400);

    let res = app.get("/broker/portfolio.csv?lang=en").await;
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    assert!(
        csv.starts_with("\u{feff}ID,Client,Proposal,Kind,Status"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 31);
    assert!(csv.contains(",Invited,"));
}

#[tokio::test]
async fn failed_sign_ins_are_rate_limited_per_address_with_retry_after() {
    let app = spawn_app_configured(&shipped_questionnaires(), |c| {
        c.rate_limits.login_per_minute = 1;
        c.rate_limits.login_burst = 3;
    })
    .await;
    let (_, token) = app.add_broker("A");
    for _ in 0..3 {
        assert_eq!(sign_in(&app, "wrong").await.status(), 401);
    }
    let res = sign_in(&app, "wrong").await;
    assert_eq!(res.status(), 429, "the fourth wrong token waits");
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert!(res.text().await.unwrap().contains("リクエストが多すぎます"));
    // Guessing a 256-bit token is hopeless; a broker behind the same address is not
    // locked out by someone else's guesses.
    let res = sign_in(&app, &token).await;
    assert_eq!(res.status(), 303, "the right token still signs in");
    assert_eq!(app.get("/broker").await.status(), 200);
}

#[tokio::test]
async fn a_copied_session_cookie_stops_working_after_sign_out() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    let res = sign_in(&app, &token).await;
    let pair = set_cookie(&res).split(';').next().unwrap().to_string();
    let copied = || async {
        client()
            .get(app.url("/broker"))
            .header(header::COOKIE, &pair)
            .send()
            .await
            .unwrap()
            .status()
    };
    assert_eq!(copied().await, 200);
    assert_eq!(
        post_broker_form(&app, "/broker/logout", &[]).await.status(),
        303
    );
    assert_eq!(
        copied().await,
        303,
        "the server forgot the session, not only the browser"
    );
    assert_eq!(
        sign_in(&app, &token).await.status(),
        303,
        "the token still signs in"
    );
    assert_eq!(app.get("/broker").await.status(), 200);
}

#[tokio::test]
async fn a_malformed_query_on_a_broker_page_gets_the_friendly_page() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    sign_in(&app, &token).await;
    let res = app.get("/broker/clients?name=a&name=b").await;
    assert_eq!(res.status(), 400);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

#[tokio::test]
async fn the_dashboard_offers_a_new_link_for_an_unanswered_invitation() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    let invited = app.invite(&token, "株式会社リンク").await;
    let id = invited["id"].as_str().unwrap();
    sign_in(&app, &token).await;
    let page = app.get("/broker").await.text().await.unwrap();
    let action = format!("/broker/assessments/{id}/invitation");
    assert!(page.contains(&action));

    let res = app
        .client
        .post(app.url(&action))
        .header(header::ORIGIN, "https://evil.example")
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let old = invited["edit_token"].as_str().unwrap();
    assert_ne!(
        app.get(&format!("/a/{old}")).await.status(),
        404,
        "still valid"
    );

    let res = post_broker_form(&app, &action, &[]).await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("回答用リンクを再発行しました"));
    assert!(!body.contains(old));
    assert_eq!(app.get(&format!("/a/{old}")).await.status(), 404);
}

#[tokio::test]
async fn a_re_assessment_from_the_history_page_is_compared_with_the_latest() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    let q = app.questionnaire("it-liability").await;
    let (profile, answers) = complete_answers(&q);
    let first = app.invite(&token, "株式会社比較").await;
    let (id, edit) = (
        first["id"].as_str().unwrap(),
        first["edit_token"].as_str().unwrap(),
    );
    app.patch_assessment(id, edit, &json!({"profile": profile, "answers": answers}))
        .await;
    assert_eq!(app.submit(id, edit).await.status(), 200);
    sign_in(&app, &token).await;

    let history = app
        .client
        .get(app.url("/broker/clients"))
        .query(&[("name", "株式会社比較")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let previous = first["report_token"].as_str().unwrap();
    assert!(history.contains(&format!("name=\"previous\" value=\"{previous}\"")));

    let res = post_broker_form(
        &app,
        "/broker/invitations",
        &[
            ("questionnaire", "it-liability"),
            ("client_name", "株式会社比較"),
            ("previous", previous),
        ],
    )
    .await;
    assert_eq!(res.status(), 201);
    let newest = app.store.records().last().unwrap().unwrap();
    assert_eq!(newest.previous.as_deref(), Some(previous));

    // Another broker's report token is not a previous assessment of this portfolio.
    let (_, other) = app.add_broker("B");
    let theirs = app.invite(&other, "X").await;
    let res = post_broker_form(
        &app,
        "/broker/invitations",
        &[
            ("questionnaire", "it-liability"),
            ("client_name", "株式会社比較"),
            ("previous", theirs["report_token"].as_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("比較対象の診断が見つかりません"));
}

#[tokio::test]
async fn an_invited_company_is_told_which_broker_will_see_its_results() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("東京みらい保険代理店");
    let invited = app.invite(&token, "株式会社お知らせ").await;
    let link = invited["invite_url"].as_str().unwrap();
    let res = app.client.get(link).send().await.unwrap();
    let page = app.get(location(&res)).await.text().await.unwrap();
    assert!(
        page.contains("この診断は東京みらい保険代理店からのご依頼によるものです"),
        "{page}"
    );

    let own = app.created(&json!({"questionnaire": "it-liability"})).await;
    let res = app
        .get(&format!("/a/{}", own["edit_token"].as_str().unwrap()))
        .await;
    let page = app.get(location(&res)).await.text().await.unwrap();
    assert!(!page.contains("からのご依頼によるものです"));
}

#[tokio::test]
async fn a_history_holds_one_client_only_not_every_name_that_contains_it() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    let with_ref = |name: &'static str, proposal: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            let res = app
                .post_as(
                    &token,
                    "/api/v1/broker/invitations",
                    &json!({"questionnaire": "it-liability", "client_name": name, "proposal_ref": proposal}),
                )
                .await;
            assert_eq!(res.status(), 201);
        }
    };
    with_ref("株式会社アサヒ", "P-SHORT").await;
    with_ref("株式会社アサヒクラウド", "P-LONG").await;
    with_ref("ｶﾌﾞｼｷｶﾞｲｼｬｱｻﾋ", "P-HALF-WIDTH").await;
    sign_in(&app, &token).await;
    let page = app
        .client
        .get(app.url("/broker/clients"))
        .query(&[("name", "株式会社アサヒ")])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("P-SHORT"));
    assert!(
        !page.contains("P-LONG"),
        "another client whose name starts the same"
    );
    assert!(
        !page.contains("P-HALF-WIDTH"),
        "カブシキガイシャ is not 株式会社"
    );
}

#[tokio::test]
async fn a_bad_csv_filter_or_a_new_link_for_a_submitted_draft_gets_the_friendly_page() {
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    let invited = app.invite(&token, "株式会社提出済み").await;
    let q = app.questionnaire("it-liability").await;
    let (profile, answers) = complete_answers(&q);
    let (id, edit) = (
        invited["id"].as_str().unwrap(),
        invited["edit_token"].as_str().unwrap(),
    );
    app.patch_assessment(id, edit, &json!({"profile": profile, "answers": answers}))
        .await;
    assert_eq!(app.submit(id, edit).await.status(), 200);
    sign_in(&app, &token).await;

    let res = app.get("/broker/portfolio.csv?status=bogus").await;
    assert_eq!(res.status(), 400);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));

    let res = post_broker_form(&app, &format!("/broker/assessments/{id}/invitation"), &[]).await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("<html lang=\"ja\""));
    assert_eq!(
        post_broker_form(&app, "/broker/assessments/not-a-uuid/invitation", &[])
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_request_without_the_session_cookie_never_removes_it() {
    // Chromium withholds a SameSite=Strict cookie on a link from another site: the answer
    // to that request must not sign the broker out.
    let app = spawn_app().await;
    let (_, token) = app.add_broker("A");
    sign_in(&app, &token).await;
    let res = client().get(app.url("/broker")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/broker/login");
    assert!(set_cookie(&res).is_empty(), "{}", set_cookie(&res));
    let res = client()
        .get(app.url("/broker"))
        .header(header::COOKIE, "shindan_broker=altered")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        set_cookie(&res).contains("Max-Age=0"),
        "a bad cookie is removed"
    );
    assert_eq!(app.get("/broker").await.status(), 200, "still signed in");
}

#[tokio::test]
async fn the_history_shows_the_application_items_with_the_clients_answers_and_what_is_missing() {
    // Arrange: an invited client that answered two of the three items, then submitted.
    let app = spawn_app_with(&application_questionnaires()).await;
    let (_, token) = app.add_broker("A");
    let invited = app
        .post_as(
            &token,
            "/api/v1/broker/invitations",
            &json!({"questionnaire": "application", "client_name": "株式会社<準備>"}),
        )
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let id = invited["id"].as_str().unwrap();
    let edit = invited["edit_token"].as_str().unwrap();
    let profile = json!({"revenue": 120, "certs": ["isms", "pmark"]});
    let answers = json!({"q1": "yes", "q2": "yes", "q3": "no"});
    let res = app
        .patch_assessment(id, edit, &json!({"profile": profile, "answers": answers}))
        .await;
    assert_eq!(res.status(), 200);
    sign_in(&app, &token).await;
    let name = "%E6%A0%AA%E5%BC%8F%E4%BC%9A%E7%A4%BE%3C%E6%BA%96%E5%82%99%3E";
    let history = format!("/broker/clients?name={name}&lang=ja");
    // Before submission the broker sees neither the answers nor a count.
    let draft_page = app.get(&history).await.text().await.unwrap();
    assert!(!draft_page.contains("告知書の準備状況") && !draft_page.contains("<td>120</td>"));
    assert_eq!(app.submit(id, edit).await.status(), 200);

    // Act
    let ja = app
        .get(&format!("/broker/clients?name={name}&lang=ja"))
        .await
        .text()
        .await
        .unwrap();
    let en = app
        .get(&format!("/broker/clients?name={name}&lang=en"))
        .await
        .text()
        .await
        .unwrap();
    let dashboard = app.get("/broker?lang=ja").await.text().await.unwrap();
    let csv = app
        .get("/broker/portfolio.csv?lang=ja")
        .await
        .text()
        .await
        .unwrap();

    // Assert
    assert!(ja.contains("告知書の準備状況"), "{ja}");
    assert!(ja.contains("3項目のうち2項目に回答があります"), "{ja}");
    assert!(
        ja.contains("株式会社&lt;準備&gt;") && !ja.contains("株式会社<準備>"),
        "escaped"
    );
    assert!(
        ja.contains("<td>120</td>") && ja.contains("<td>ISMS、プライバシーマーク</td>"),
        "{ja}"
    );
    let missing_row = ja
        .split("<tr class=\"missing\">")
        .nth(1)
        .expect("a missing row");
    assert!(
        missing_row.starts_with("<th scope=\"row\">過去5年間の損害賠償請求</th>"),
        "{missing_row}"
    );
    assert_eq!(ja.matches("<tr class=\"missing\">").count(), 1);
    assert!(
        en.contains("Application-form readiness") && en.contains("answered 2 of the 3 items"),
        "{en}"
    );
    assert!(
        !en.contains("告知書"),
        "no Japanese interface on the English page"
    );
    assert!(dashboard.contains("2/3"), "the portfolio column");
    let row = csv.lines().nth(1).expect("a row");
    assert!(row.ends_with(",2,3,過去5年間の損害賠償請求"), "{row}");
}
