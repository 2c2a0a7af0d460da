//! The applicant's HTML flow, through real GETs and form POSTs.

use crate::helpers::{small_questionnaires, spawn_app, spawn_app_with, TestApp};

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_string()
}

/// Starts a questionnaire from the landing page; returns the edit token.
async fn start(app: &TestApp, questionnaire: &str) -> String {
    let res = app
        .post_form("/start", &[("questionnaire", questionnaire)])
        .await;
    assert_eq!(res.status(), 303);
    let loc = location(&res);
    let token = loc
        .strip_prefix("/a/")
        .and_then(|r| r.strip_suffix("/profile"))
        .expect("profile step")
        .to_string();
    assert_eq!(token.len(), 43);
    token
}

#[tokio::test]
async fn landing_page_offers_the_questionnaire_in_japanese_by_default() {
    let app = spawn_app().await;
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains(r#"<html lang="ja">"#));
    assert!(html.contains("IT業務"));
    assert!(html.contains(r#"action="/start""#));
    assert!(html.contains(r#"href="/?lang=en""#), "a switch to English");
}

#[tokio::test]
async fn language_comes_from_query_then_cookie_then_accept_language() {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains(r#"<html lang="en">"#));

    let res = app.get("/?lang=en").await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("lang=en"), "{cookie}");
    assert!(res.text().await.unwrap().contains("Start the assessment"));
    // The cookie now decides, even against the header.
    let res = app
        .client
        .get(app.url("/"))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap();
    assert!(res.text().await.unwrap().contains(r#"<html lang="en">"#));
    let res = app.get("/?lang=ja").await;
    assert!(res.text().await.unwrap().contains(r#"<html lang="ja">"#));
}

#[tokio::test]
async fn the_whole_flow_in_the_browser_saves_every_step_and_ends_with_scores() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let token = start(&app, "small-five").await;
    let a = |p: &str| format!("/a/{token}{p}");

    // Profile: a bad number is refused with a friendly message, keeping what was typed.
    let res = app.get(&a("/profile")).await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(
        html.contains(r#"<progress max="7" value="1">"#),
        "7 steps: profile, 5 domains, review"
    );
    assert!(
        html.contains(r#"<label for="p-company_name">"#),
        "labels are tied to inputs"
    );
    let res = app
        .post_form(
            &a("/profile"),
            &[
                ("p.company_name", "<b>Acme</b> & Co"),
                ("p.staff", "thirty"),
                ("p.sector", "si"),
                ("nav", "next"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("「従業員数」は数値で入力してください。"));
    assert!(html.contains(r#"value="thirty""#));
    assert!(
        html.contains("&lt;b&gt;Acme&lt;/b&gt; &amp; Co"),
        "typed text kept and escaped"
    );
    assert!(!html.contains("<b>Acme</b>"));
    let stored = app.store.records().next().unwrap().unwrap();
    assert!(
        stored.profile.is_empty(),
        "nothing saved from a refused form"
    );

    let res = app
        .post_form(
            &a("/profile"),
            &[
                ("p.company_name", "Acme"),
                ("p.staff", "30"),
                ("p.sector", "si"),
                ("p.start", ""),
                ("nav", "next"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), a("/d/1"));

    // Domains: answer each, moving on with "next".
    let q = app.questionnaire("small-five").await;
    let domains = q["domains"].as_array().unwrap().len();
    for d in 1..=domains {
        let res = app.get(&a(&format!("/d/{d}"))).await;
        assert_eq!(res.status(), 200);
        let domain_id = q["domains"][d - 1]["id"].as_str().unwrap();
        let fields = [
            (format!("q.{domain_id}-q0"), "good"),
            (format!("q.{domain_id}-q1"), "fair"),
            ("nav".into(), "next"),
        ];
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        let res = app.post_form(&a(&format!("/d/{d}")), &pairs).await;
        assert_eq!(res.status(), 303);
        let expected = if d == domains {
            a("/review")
        } else {
            a(&format!("/d/{}", d + 1))
        };
        assert_eq!(location(&res), expected);
    }

    // Leaving and coming back through the private link lands on the review.
    let res = app.get(&a("")).await;
    assert_eq!(location(&res), a("/review"));
    let html = app.get(&a("/review")).await.text().await.unwrap();
    assert!(html.contains("Acme"));
    assert!(html.contains(&format!(r#"action="/a/{token}/submit""#)));

    let res = app.post_form(&a("/submit"), &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), a("/done"));
    let html = app.get(&a("/done")).await.text().await.unwrap();
    // Every domain (3 + 1) / (3 + 3) = 66.7.
    assert!(html.contains("66.7"));
    let record = app.store.records().next().unwrap().unwrap();
    assert!(html.contains(&format!("/r/{}", record.report_token)));
    // A submitted assessment's steps lead to the result.
    let res = app.get(&a("/d/1")).await;
    assert_eq!(location(&res), a("/done"));
    let res = app.get(&a("")).await;
    assert_eq!(location(&res), a("/done"));
    let report = app.get(&format!("/r/{}", record.report_token)).await;
    assert_eq!(report.status(), 200);
}

#[tokio::test]
async fn the_review_names_what_is_missing_and_submission_is_refused() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let token = start(&app, "small-five").await;
    let res = app.post_form(&format!("/a/{token}/submit"), &[]).await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("「会社名」を入力してください（必須）。"));
    assert!(html.contains(&format!(r#"href="/a/{token}/profile""#)));
    let record = app.store.records().next().unwrap().unwrap();
    assert_eq!(record.status, shindan::store::Status::Draft);
}

#[tokio::test]
async fn english_pages_show_english_errors_and_no_japanese_interface_text() {
    let app = spawn_app_with(&small_questionnaires()).await;
    app.get("/?lang=en").await;
    let token = start(&app, "small-five").await;
    let res = app
        .post_form(
            &format!("/a/{token}/profile"),
            &[
                ("p.company_name", "Acme"),
                ("p.staff", "1"),
                ("p.start", "31/12/2027"),
                ("p.sector", "si"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("“Start date” must be a date (YYYY-MM-DD)."));
    // The language switch names Japanese in Japanese; nothing else may.
    let html = html.replace(">日本語</a>", "></a>");
    let japanese = html
        .chars()
        .filter(|c| ('\u{3040}'..='\u{30ff}').contains(c) || ('\u{4e00}'..='\u{9fff}').contains(c))
        .count();
    assert_eq!(japanese, 0, "an English page shows no Japanese: {html}");
}

#[tokio::test]
async fn saving_keeps_the_applicant_on_the_step_and_back_goes_back() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let token = start(&app, "fixture").await;
    let res = app
        .post_form(
            &format!("/a/{token}/d/2"),
            &[("q.q3", "na"), ("nav", "save")],
        )
        .await;
    assert_eq!(location(&res), format!("/a/{token}/d/2?saved=1"));
    let html = app
        .get(&format!("/a/{token}/d/2?saved=1"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("保存しました。"));
    assert!(html.contains(r#"id="q-q3-na" name="q.q3" value="na" checked"#));
    let res = app
        .post_form(&format!("/a/{token}/d/2"), &[("nav", "prev")])
        .await;
    assert_eq!(location(&res), format!("/a/{token}/d/1"));
    let res = app
        .post_form(&format!("/a/{token}/d/1"), &[("nav", "prev")])
        .await;
    assert_eq!(location(&res), format!("/a/{token}/profile"));
}

#[tokio::test]
async fn a_tampered_answer_is_refused_on_the_page() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let token = start(&app, "fixture").await;
    let res = app
        .post_form(
            &format!("/a/{token}/d/1"),
            &[("q.q1", "bogus"), ("nav", "next")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let record = app.store.records().next().unwrap().unwrap();
    assert!(record.answers.is_empty());
}

#[tokio::test]
async fn unknown_links_and_oversized_forms_get_friendly_pages() {
    let app = spawn_app().await;
    let res = app.get(&format!("/a/{}/profile", "A".repeat(43))).await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("ページが見つかりません"));
    let res = app.get("/r/whatever").await;
    assert_eq!(res.status(), 404);
    let res = app.get("/a/whatever/d/99").await;
    assert_eq!(res.status(), 404);
    let big = "x".repeat(300 * 1024);
    let res = app
        .post_form("/start", &[("questionnaire", big.as_str())])
        .await;
    assert_eq!(res.status(), 413);
    assert!(res.text().await.unwrap().contains("データが大きすぎます"));
    let res = app.post_form("/start", &[("questionnaire", "nope")]).await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn a_language_chosen_on_the_private_link_is_kept_through_the_redirect() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let token = start(&app, "fixture").await;
    let res = app
        .client
        .get(app.url(&format!("/a/{token}?lang=en")))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(res.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .starts_with("lang=en"));
    let next = location(&res);
    let page = app
        .client
        .get(app.url(&next))
        .header("accept-language", "ja")
        .send()
        .await
        .unwrap();
    assert!(page.text().await.unwrap().contains(r#"<html lang="en">"#));
}

#[tokio::test]
async fn an_odd_query_string_never_breaks_a_page() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let token = start(&app, "fixture").await;
    let res = app
        .get(&format!("/a/{token}/profile?saved=1&saved=2&%ZZ"))
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
}

#[tokio::test]
async fn a_form_posted_from_another_site_is_refused_and_changes_nothing() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let token = start(&app, "fixture").await;
    let host = app.address.trim_start_matches("http://").to_string();
    let post = |origin: Option<String>, site: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url(&format!("/a/{token}/d/1")))
            .form(&[("q.q1", "yes"), ("nav", "save")]);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        if let Some(s) = site {
            req = req.header("sec-fetch-site", s);
        }
        req.send()
    };
    let res = post(Some("https://evil.example".into()), None)
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("送信を受け付けられません"));
    let res = post(Some("https://evil.example".into()), Some("cross-site"))
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let other_port = format!("http://{}:1", host.split(':').next().unwrap());
    let res = post(Some(other_port), Some("same-site")).await.unwrap();
    assert_eq!(res.status(), 403, "another port of the same host");
    let res = app
        .post_form("/start", &[("questionnaire", "fixture")])
        .await;
    assert_eq!(res.status(), 303, "no Origin header: a script, allowed");
    let record = app
        .store
        .find_by_edit(&shindan::tokens::EditToken::parse(&token).unwrap().digest())
        .unwrap()
        .unwrap();
    assert!(
        record.answers.is_empty(),
        "nothing saved from the refused posts"
    );

    // The same site, as a browser says it.
    let res = post(Some(format!("http://{host}")), Some("same-origin"))
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
}

#[tokio::test]
async fn the_private_link_uses_the_configured_public_address() {
    let app = crate::helpers::spawn_app_configured(&small_questionnaires(), |c| {
        c.public_url = Some("https://shindan.example.jp/".into());
    })
    .await;
    let token = start(&app, "fixture").await;
    let html = app
        .client
        .get(app.url(&format!("/a/{token}/profile")))
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains(&format!(r#"value="https://shindan.example.jp/a/{token}""#)));
    assert!(!html.contains("evil.example"));
}

#[tokio::test]
async fn a_form_post_that_is_not_a_form_gets_a_friendly_415() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let res = app
        .client
        .post(app.url("/start"))
        .header("content-type", "application/json")
        .body(r#"{"questionnaire": "fixture"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 415);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(res
        .text()
        .await
        .unwrap()
        .contains("入力内容をご確認ください"));
    assert_eq!(app.stored(), 0);
}

#[tokio::test]
async fn a_submission_posted_from_another_site_is_refused_and_the_draft_stays_a_draft() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let token = start(&app, "fixture").await;
    let res = app
        .client
        .post(app.url(&format!("/a/{token}/submit")))
        .header("origin", "https://evil.example")
        .header("sec-fetch-site", "cross-site")
        .form(&[("x", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let record = app
        .store
        .find_by_edit(&shindan::tokens::EditToken::parse(&token).unwrap().digest())
        .unwrap()
        .unwrap();
    assert_eq!(record.status, shindan::store::Status::Draft);
}
