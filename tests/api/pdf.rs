//! The report as a PDF: headers, file name, caching; and, where poppler-utils are
//! installed, what the file holds (A4, pages, text, embedded font subsets), in both
//! languages and for the answers that give the longest report.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{answers_with, spawn_app, valid_profile, TestApp};

/// The shipped questionnaire prints on at most this many pages.
const MAX_PAGES: usize = 3;

/// Characters a Japanese line must not start with (行頭禁則).
const NO_LINE_START: &str =
    "ー。、，．）」』】〕・：；！？ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ";

/// A company name that is HTML, typst markup and quotes at once.
const HOSTILE: &str = "<b>&amp;\"Acme'</b> #panic(\"x\") *b* $z$";

/// Submits the shipped questionnaire with option `pick` for every question.
async fn submitted(app: &TestApp, pick: fn(&Value) -> usize) -> (Value, Value) {
    let q = app.questionnaire("it-liability").await;
    let mut profile = valid_profile(&q);
    profile["company_name"] = json!(HOSTILE);
    let body = json!({
        "questionnaire": "it-liability",
        "profile": profile,
        "answers": answers_with(&q, pick),
        "submit": true,
    });
    (q, app.created(&body).await)
}

fn tool(name: &str, args: &[&str]) -> Option<String> {
    // poppler prints harmless "Syntax Error" notes on stderr: only stdout counts.
    let out = Command::new(name).args(args).output().ok()?;
    assert!(out.status.success(), "{name} {args:?} failed");
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Checks the file with poppler-utils when they are installed.
fn check_contents(bytes: &[u8], q: &Value, grade: &str, lang: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).unwrap();
    let path = path.to_str().unwrap();
    let Some(info) = tool("pdfinfo", &[path]) else {
        // CI installs poppler-utils and sets this, so that the checks never skip there.
        assert!(
            std::env::var("SHINDAN_TEST_PDF_TOOLS").as_deref() != Ok("require"),
            "SHINDAN_TEST_PDF_TOOLS=require, but pdfinfo (poppler-utils) is not installed"
        );
        eprintln!("pdfinfo not found: PDF contents not checked");
        return;
    };
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("pdfinfo reports pages");
    assert!((1..=MAX_PAGES).contains(&pages), "{lang}: {pages} pages");
    assert!(
        info.contains("595.276 x 841.89 pts (A4)") || info.contains("(A4)"),
        "{lang}: not A4: {info}"
    );

    let raw = tool("pdftotext", &["-enc", "UTF-8", path, "-"]).unwrap_or_default();
    if lang == "ja" {
        // Kinsoku: no line starts with a prolonged sound mark, a closing bracket, a small
        // kana or punctuation.
        let breaches: Vec<&str> = raw
            .lines()
            .map(str::trim)
            .filter(|l| l.chars().next().is_some_and(|c| NO_LINE_START.contains(c)))
            .collect();
        assert!(breaches.is_empty(), "lines breaking kinsoku: {breaches:?}");
    }
    let text = squeeze(&raw);
    assert!(text.contains(&squeeze(HOSTILE)), "{lang}: company name");
    for domain in q["domains"].as_array().unwrap() {
        let label = squeeze(domain["label"][lang].as_str().unwrap());
        assert!(text.contains(&label), "{lang}: domain {label}");
    }
    assert!(text.contains(grade), "{lang}: grade {grade}");

    let fonts = tool("pdffonts", &[path]).unwrap_or_default();
    let faces: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!faces.is_empty(), "{lang}: no fonts");
    for face in faces {
        // name type encoding emb sub uni ...: embedded and subset.
        assert!(face.contains("BIZUDPGothic"), "{lang}: {face}");
        assert!(
            face.contains("yes yes"),
            "{lang}: not an embedded subset: {face}"
        );
    }
}

#[tokio::test]
async fn the_pdf_report_is_an_a4_attachment_with_the_report_text() {
    let app = spawn_app().await;
    // Worst answers (the last option) give the most notes: the longest report.
    for pick in [(|_: &Value| 0) as fn(&Value) -> usize, |_| usize::MAX] {
        let (q, created) = submitted(&app, pick).await;
        let token = created["report_token"].as_str().unwrap();
        let id = created["id"].as_str().unwrap();
        let grade = created["scores"]["grade"].as_str().unwrap();
        for lang in ["ja", "en"] {
            let res = app.get(&format!("/r/{token}.pdf?lang={lang}")).await;
            assert_eq!(res.status(), 200);
            let header = |name: &str| {
                res.headers()
                    .get(name)
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default()
            };
            assert_eq!(header("content-type"), "application/pdf");
            assert_eq!(header("cache-control"), "no-store");
            assert_eq!(header("x-robots-tag"), "noindex");
            let disposition = header("content-disposition");
            assert!(
                disposition.starts_with(&format!("attachment; filename=\"shindan-report-{id}-20")),
                "{disposition}"
            );
            assert!(
                disposition.ends_with(&format!("-{lang}.pdf\"")),
                "{disposition}"
            );
            let bytes = res.bytes().await.unwrap();
            assert!(bytes.starts_with(b"%PDF-"));
            check_contents(&bytes, &q, grade, lang);
        }
    }
}

#[tokio::test]
async fn a_pdf_the_client_holds_is_not_modified() {
    let app = spawn_app().await;
    let (_, created) = submitted(&app, |_| 1).await;
    let path = format!(
        "/r/{}.pdf?lang=en",
        created["report_token"].as_str().unwrap()
    );
    let first = app.get(&path).await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()["etag"].to_str().unwrap().to_string();

    let again = crate::helpers::client()
        .get(app.url(&path))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();

    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    let other = app
        .get(&format!(
            "/r/{}.pdf?lang=ja",
            created["report_token"].as_str().unwrap()
        ))
        .await;
    assert_ne!(other.headers()["etag"].to_str().unwrap(), etag);
}

#[tokio::test]
async fn a_pdf_of_an_unknown_token_is_not_found() {
    let app = spawn_app().await;
    let res = app
        .get("/r/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.pdf")
        .await;
    assert_eq!(res.status(), 404);
}

/// The path of the broker API's PDF of an assessment.
fn broker_pdf(id: &str, lang: &str) -> String {
    format!("/api/v1/broker/assessments/{id}/report.pdf?lang={lang}")
}

async fn error_code(res: reqwest::Response) -> String {
    let body: Value = res.json().await.expect("a JSON error");
    body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// An invitation of broker `token`, answered with hostile text and submitted; its id and
/// report token.
async fn submitted_invitation(app: &TestApp, token: &str) -> (String, String) {
    let invitation = app.invite(token, HOSTILE).await;
    let q = app.questionnaire("it-liability").await;
    let mut profile = valid_profile(&q);
    profile.as_object_mut().unwrap().remove("company_name");
    let id = invitation["id"].as_str().unwrap().to_string();
    let edit = invitation["edit_token"].as_str().unwrap();
    let body = json!({"profile": profile, "answers": answers_with(&q, |_| usize::MAX)});
    assert_eq!(app.patch_assessment(&id, edit, &body).await.status(), 200);
    assert_eq!(app.submit(&id, edit).await.status(), 200);
    let report = invitation["report_token"].as_str().unwrap().to_string();
    (id, report)
}

#[tokio::test]
async fn a_broker_fetches_the_pdf_of_a_submitted_assessment_in_its_portfolio() {
    let app = spawn_app().await;
    let (_, broker) = app.add_broker("代理店A");
    let (id, report) = submitted_invitation(&app, &broker).await;
    let q = app.questionnaire("it-liability").await;

    for lang in ["ja", "en"] {
        let res = app.get_as(&broker, &broker_pdf(&id, lang)).await;

        assert_eq!(res.status(), 200, "{lang}");
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert_eq!(res.headers()["cache-control"], "no-store");
        assert!(
            res.headers().get("set-cookie").is_none(),
            "an API answer sets no cookie"
        );
        let disposition = res.headers()["content-disposition"].to_str().unwrap();
        assert!(
            disposition.contains(&format!("shindan-report-{id}-")),
            "{disposition}"
        );
        let etag = res.headers()["etag"].clone();
        let bytes = res.bytes().await.unwrap();
        // The same file as the report link gives.
        let direct = app.get(&format!("/r/{report}.pdf?lang={lang}")).await;
        assert_eq!(direct.headers()["etag"], etag);
        assert_eq!(direct.bytes().await.unwrap(), bytes);
        let grade = {
            let detail: Value = app
                .get_as(&broker, &format!("/api/v1/broker/assessments/{id}"))
                .await
                .json()
                .await
                .unwrap();
            detail["grade"].as_str().unwrap().to_string()
        };
        check_contents(&bytes, &q, &grade, lang);

        // A script that keeps the ETag gets 304 without a body.
        let again = app
            .client
            .get(app.url(&broker_pdf(&id, lang)))
            .bearer_auth(&broker)
            .header("If-None-Match", etag.to_str().unwrap())
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 304, "{lang}");
        assert!(again.bytes().await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_broker_pdf_is_a_conflict_before_submission_and_not_found_outside_the_portfolio() {
    let app = spawn_app().await;
    let (_, broker) = app.add_broker("代理店A");
    let (_, other) = app.add_broker("代理店B");
    let draft = app.invite(&broker, "株式会社下書き").await;
    let draft = draft["id"].as_str().unwrap();
    let (submitted, _) = submitted_invitation(&app, &broker).await;
    let own = app.created(&json!({"questionnaire": "it-liability"})).await;

    let res = app.get_as(&broker, &broker_pdf(draft, "ja")).await;
    assert_eq!(res.status(), 409);
    assert_eq!(error_code(res).await, "not_submitted");

    for (token, id) in [
        (&other, submitted.as_str()),
        (&broker, own["id"].as_str().unwrap()),
        (&broker, "00000000-0000-4000-8000-000000000000"),
        (&broker, "not-a-uuid"),
    ] {
        let res = app.get_as(token, &broker_pdf(id, "ja")).await;
        assert_eq!(res.status(), 404, "{id}");
        assert_eq!(error_code(res).await, "not_found");
    }

    let res = app.get(&broker_pdf(&submitted, "ja")).await;
    assert_eq!(res.status(), 401);
    assert_eq!(error_code(res).await, "unauthorized");
}
