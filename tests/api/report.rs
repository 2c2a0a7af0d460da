//! The report: page, languages, escaping, peers, comparison, projection, exports, caching,
//! and a clear 500 page with an error id, never a panic, for a record that does not fit
//! its questionnaire.

use serde_json::{json, Value};
use shindan::store::Store;

use crate::helpers::{
    answers_with, client, close_store, small_questionnaires, spawn_app, spawn_app_with,
    spawn_process, valid_profile, TestApp,
};

/// Answers of the small fixture that make d1 = 30, d2 = 0, d3 = 33.3 (overall 23.3, D).
fn weak() -> Value {
    json!({"questionnaire": "fixture", "profile": {"certs": ["isms"]}, "answers": {"q1": "no", "q2": "partly", "q3": "no", "q4": "b"}, "submit": true})
}

fn token(v: &Value) -> &str {
    v["report_token"].as_str().unwrap()
}

async fn text(app: &TestApp, path: &str) -> String {
    let res = app.get(path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

/// Characters of Japanese text: kana, kanji and full-width punctuation.
fn japanese(s: &str) -> Vec<char> {
    s.chars()
        .filter(|c| matches!(*c as u32, 0x3000..=0x30FF | 0x4E00..=0x9FFF | 0xFF00..=0xFFEF))
        .collect()
}

#[tokio::test]
async fn the_english_report_has_no_japanese_and_the_japanese_one_no_english_interface() {
    let app = spawn_app().await;
    let q = app.questionnaire("it-liability").await;
    let (mut profile, answers) = crate::helpers::complete_answers(&q);
    profile["company_name"] = json!("Acme Systems");
    profile["policy_start"] = json!("2030-01-01");
    let body = json!({"questionnaire": "it-liability", "profile": profile, "answers": answers, "submit": true});
    let created = app.created(&body).await;
    let t = token(&created);

    let en = text(&app, &format!("/r/{t}?lang=en")).await;
    assert!(en.contains(r#"<html lang="en">"#));
    let en = en.replace(">日本語</a>", "></a>");
    assert_eq!(
        japanese(&en),
        Vec::<char>::new(),
        "Japanese on the English report"
    );
    let svg = text(&app, &format!("/r/{t}/radar.svg?lang=en")).await;
    assert_eq!(japanese(&svg), Vec::<char>::new());

    let ja = text(&app, &format!("/r/{t}?lang=ja")).await;
    assert!(ja.contains(r#"<html lang="ja">"#));
    for english in [
        "Overall score",
        "Priority domains",
        "Insurance points to check",
        "Access control",
        "Not assessed",
        "Downloads",
        "Grade",
    ] {
        assert!(
            !ja.contains(english),
            "English {english:?} on the Japanese report"
        );
    }
    assert!(ja.contains("簡易リスク診断結果報告書") && ja.contains("保険に関する確認事項"));
    assert!(
        ja.contains("保険の引受可否、補償内容や保険料を決定するものではありません")
            && ja.contains("告知書（申込書）に代わるものではありません")
            && ja.contains("「重要事項説明書」"),
        "the disclaimer"
    );
}

#[tokio::test]
async fn hostile_company_names_and_labels_are_escaped_in_html_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let hostile = include_str!("../fixtures/small/fixture-1.toml").replace(
        "label = { ja = \"一\", en = \"One\" }",
        "label = { ja = \"<b>一</b>\", en = \"<script>x</script> & 'One'\" }",
    );
    std::fs::write(dir.path().join("h.toml"), hostile).unwrap();
    let app = spawn_app_with(dir.path()).await;
    let created = app.created(&weak()).await;
    let t = token(&created);
    for lang in ["ja", "en"] {
        let html = text(&app, &format!("/r/{t}?lang={lang}")).await;
        assert!(
            !html.contains("<script>") && !html.contains("<b>"),
            "{lang}: unescaped"
        );
        let svg = text(&app, &format!("/r/{t}/radar.svg?lang={lang}")).await;
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        roxmltree::Document::parse(&svg).expect("still well-formed XML");
    }
    let html = text(&app, &format!("/r/{t}?lang=en")).await;
    assert!(html.contains("&lt;script&gt;x&lt;/script&gt; &amp; 'One'"));

    // A hostile company name, through the API.
    let app2 = spawn_app().await;
    let q = app2.questionnaire("it-liability").await;
    let (mut profile, answers) = crate::helpers::complete_answers(&q);
    profile["company_name"] = json!("<script>alert(1)</script> \"Q\" & Co");
    let created = app2.created(&json!({"questionnaire": "it-liability", "profile": profile, "answers": answers, "submit": true})).await;
    let html = text(&app2, &format!("/r/{}", token(&created))).await;
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt; &quot;Q&quot; &amp; Co"));
}

#[tokio::test]
async fn submissions_alone_never_show_peers() {
    // Peers come from published snapshots only (see `peers.rs`): twelve submissions and no
    // snapshot show none.
    let app = spawn_app_with(&small_questionnaires()).await;
    for _ in 0..12 {
        let last = app.created(&weak()).await;
        let svg = text(&app, &format!("/r/{}/radar.svg?lang=en", token(&last))).await;
        let html = text(&app, &format!("/r/{}?lang=en", token(&last))).await;
        assert!(!svg.contains("Average of all business types") && !html.contains("top "));
    }
}

#[tokio::test]
async fn a_report_compares_with_a_previous_assessment_of_the_same_company() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let before = app.created(&weak()).await;
    let mut body = json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "partly", "q3": "no", "q4": "b"}, "submit": true});
    body["previous"] = json!(token(&before));
    let after = app.created(&body).await;
    let html = text(&app, &format!("/r/{}?lang=en", token(&after))).await;
    assert!(html.contains("Previous ("), "the comparison is named");
    // d1 went from 30 to 70.
    assert!(html.contains("+40.0"));
    assert!(html.contains("Previously 23.3, now 43.3"));

    // Refused: not a token, a draft, another questionnaire.
    let draft: Value = app.created(&json!({"questionnaire": "fixture"})).await;
    let other = app.created(&{
        let q = app.questionnaire("small-five").await;
        let (profile, answers) = crate::helpers::complete_answers(&q);
        json!({"questionnaire": "small-five", "profile": profile, "answers": answers, "submit": true})
    })
    .await;
    let count = app.stored();
    for previous in ["nope", token(&draft), token(&other)] {
        let mut body = weak();
        body["previous"] = json!(previous);
        let res = app.create_assessment(&body).await;
        assert_eq!(res.status(), 422);
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "invalid_previous");
        assert_eq!(err["error"]["field"], "previous");
    }
    assert_eq!(app.stored(), count);
}

#[tokio::test]
async fn the_projection_and_the_improvement_plan_match_a_rescoring_by_hand() {
    // A company with d1 = 100 (a strength) and d2, d3 weak: the priorities are d2 and d3.
    let app = spawn_app_with(&small_questionnaires()).await;
    let body = json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "yes", "q3": "no", "q4": "b"}, "submit": true});
    let created = app.created(&body).await;
    let html = text(&app, &format!("/r/{}?lang=en", token(&created))).await;
    // Now (2 * 100 + 0 + 33.33) / 4 = 58.3 (C); with q3 and q4 at their best, 100 (A).
    assert!(
        html.contains("from 58.3 to 100.0 and the grade from C to A"),
        "{html}"
    );
    let strengths = html
        .split("<section class=\"card strengths\">")
        .nth(1)
        .unwrap()
        .split("</section>")
        .next()
        .unwrap();
    assert!(strengths.contains("One") && !strengths.contains("Three"));

    let created = app.created(&weak()).await;
    let t = token(&created);
    let html = text(&app, &format!("/r/{t}?lang=en")).await;
    // No domain reaches 60, so none is a strength and all three are priorities: every
    // answer at its maximum makes every domain 100, grade A.
    assert!(
        html.contains("from 23.3 to 100.0 and the grade from D to A"),
        "{html}"
    );
    assert!(html.contains("No control domain reaches"));

    // Plan: by weight x missing points (q1: 4, q3: 4, q2: 3, q4: 2), ties by the gain.
    let csv = text(&app, &format!("/r/{t}/actions.csv?lang=en")).await;
    assert!(csv.starts_with('\u{feff}'));
    let rows: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        rows[0],
        "Control domain,Question,Current answer,Recommendation,Overall score gain"
    );
    let questions: Vec<&str> = rows[1..]
        .iter()
        .map(|r| r.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(questions, ["Q3", "Q1", "Q2", "Q4"]);
    // q3 alone: 23.3 -> 48.3.
    assert!(rows[1].ends_with(",25.0"), "{}", rows[1]);
}

#[tokio::test]
async fn the_domain_csv_has_a_bom_and_one_row_per_domain() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created = app.created(&json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "partly", "q3": "na", "q4": "b"}, "submit": true})).await;
    let res = app
        .get(&format!("/r/{}.csv?lang=ja", token(&created)))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let body = res.text().await.unwrap();
    assert_eq!(
        body,
        "\u{feff}ID,管理領域,スコア,回答数,該当なし\nd1,一,70.0,2,0\nd2,二,,0,1\nd3,三,33.3,1,0\n"
    );
}

#[tokio::test]
async fn reports_are_cached_by_etag_and_downloadable_as_one_file() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let created = app.created(&weak()).await;
    let t = token(&created);
    let res = app.get(&format!("/r/{t}")).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(res.headers()["cache-control"], "no-store");
    let again = app
        .client
        .get(app.url(&format!("/r/{t}")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.text().await.unwrap().is_empty());
    // Another language is another representation.
    let en = app
        .client
        .get(app.url(&format!("/r/{t}?lang=en")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(en.status(), 200);

    let svg = app.get(&format!("/r/{t}/radar.svg")).await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    let dl = app.get(&format!("/r/{t}/download")).await;
    assert!(dl.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"shindan-report-"));
    let html = dl.text().await.unwrap();
    assert!(html.contains("<style>") && html.contains("<svg role=\"img\""));
    assert!(!html.contains("/assets/style.css"), "self-contained");
}

#[tokio::test]
async fn report_links_of_drafts_and_unknown_tokens_are_refused() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let draft: Value = app.created(&json!({"questionnaire": "fixture"})).await;
    let t = token(&draft);
    for path in [
        format!("/r/{t}"),
        format!("/r/{t}/radar.svg"),
        format!("/r/{t}.csv"),
        format!("/r/{t}/actions.csv"),
        format!("/r/{t}/download"),
    ] {
        assert_eq!(app.get(&path).await.status(), 409, "{path}");
    }
    let unknown = "B".repeat(43);
    for path in [
        format!("/r/{unknown}"),
        format!("/r/{unknown}/radar.svg"),
        format!("/r/{unknown}.csv"),
        "/r/x/actions.csv".to_string(),
    ] {
        assert_eq!(app.get(&path).await.status(), 404, "{path}");
    }
}

/// Latin words of a page's visible text, beyond an allowlist of names and formats.
fn latin_words(html: &str, allowed: &[&str]) -> Vec<String> {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
        .filter(|w| w.chars().filter(|c| c.is_ascii_alphabetic()).count() >= 2)
        .filter(|w| uuid::Uuid::parse_str(w).is_err())
        .filter(|w| !allowed.contains(w))
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn japanese_reports_with_peers_and_with_a_previous_assessment_show_no_english() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let mut last = Value::Null;
    // The fixture names no company: eleven submissions are eleven companies.
    for _ in 0..11 {
        last = app.created(&weak()).await;
    }
    app.store
        .take_peer_snapshot(chrono::Utc::now())
        .unwrap()
        .expect("eleven companies");
    let mut body = weak();
    body["previous"] = json!(token(&last));
    let compared = app.created(&body).await;
    let allowed = [
        "shindan", "ID", "ISMS", "CSV", "HTML", "SVG", "JSON", "PDF", "A4",
        // IT業務賠償責任保険, the insurance's Japanese name.
        "IT",
    ];
    for t in [token(&last), token(&compared)] {
        let html = text(&app, &format!("/r/{t}?lang=ja")).await;
        if t == token(&last) {
            assert!(html.contains("全業種の平均（10社以上）"), "{html}");
        }
        let body_html = html
            .split("<body")
            .nth(1)
            .and_then(|b| b.split_once('>'))
            .unwrap()
            .1;
        let words = latin_words(body_html, &allowed);
        // "English" is the language switch.
        assert_eq!(words, ["English"], "English words on a Japanese report");
        let svg = text(&app, &format!("/r/{t}/radar.svg?lang=ja")).await;
        let svg_text = svg.split("</desc>").nth(1).unwrap();
        let words = latin_words(svg_text, &allowed);
        assert!(words.is_empty(), "{words:?}");
    }
}

#[tokio::test]
async fn a_record_made_inconsistent_in_the_store_gets_a_500_page_with_an_error_id() {
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data");
    let server = spawn_process(&data, &small_questionnaires());
    let res = client()
        .post(format!("{}/api/v1/assessments", server.address))
        .json(&weak())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    server.terminate();
    // A fourth domain score for a three-domain questionnaire, straight through the store.
    {
        let store = Store::open(&data).unwrap();
        let id = created["id"].as_str().unwrap().parse().unwrap();
        store
            .update(id, |r| {
                let scores = r.scores.as_mut().unwrap();
                let mut extra = scores.domains[0].clone();
                extra.id = "d4".into();
                scores.domains.push(extra);
                Ok::<(), ()>(())
            })
            .unwrap();
        store.flush_now().unwrap();
        close_store(store, &data);
    }

    let server = spawn_process(&data, &small_questionnaires());
    let token = created["report_token"].as_str().unwrap();
    let res = server.get(&format!("/r/{token}?lang=en")).await;
    assert_eq!(res.status(), 500);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(page.contains("This report cannot be shown"), "{page}");
    let page_id = page
        .split("Error ID: <code>")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .unwrap_or_else(|| panic!("no error id on the page: {page}"))
        .to_string();
    assert_eq!(page_id.len(), 12, "{page_id}");

    let res = server.get(&format!("/api/v1/reports/{token}")).await;
    assert_eq!(res.status(), 500);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "inconsistent_record");
    let radar = server.get(&format!("/r/{token}/radar.svg")).await;
    assert_eq!(radar.status(), 500);
    // The server is still serving.
    let health = server.get("/healthz").await;
    assert_eq!(health.status(), 200);

    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "no worker panicked: {logs}");
    let line = logs
        .lines()
        .find(|l| l.contains(&format!("error_id={page_id}")))
        .unwrap_or_else(|| panic!("the page's error id is not in the logs: {logs}"));
    assert!(
        line.contains("scores.domains are [d1, d2, d3, d4]")
            && line.contains(&created["id"].as_str().unwrap().to_string()),
        "{line}"
    );
    assert!(!logs.contains("panicked"), "{logs}");
}

/// Submits a complete assessment whose policy starts `days` after today in Japan; its
/// Japanese report page and the days the server counted (from its own submission time).
async fn report_starting_in(app: &TestApp, days: i64) -> (String, chrono::NaiveDate, i64) {
    use chrono::{Duration, FixedOffset, Utc};
    let jst = FixedOffset::east_opt(9 * 3600).unwrap();
    let q = app.questionnaire("it-liability").await;
    let (mut profile, answers) = crate::helpers::complete_answers(&q);
    let start = Utc::now().with_timezone(&jst).date_naive() + Duration::days(days);
    profile["policy_start"] = json!(start.format("%Y-%m-%d").to_string());
    let created = app
        .created(&json!({"questionnaire": "it-liability", "profile": profile, "answers": answers, "submit": true}))
        .await;
    let data: Value = app
        .get(&format!("/api/v1/reports/{}", token(&created)))
        .await
        .json()
        .await
        .unwrap();
    let submitted: chrono::DateTime<Utc> = data["submitted_at"].as_str().unwrap().parse().unwrap();
    let counted = (start - submitted.with_timezone(&jst).date_naive()).num_days();
    let page = text(app, &format!("/r/{}?lang=ja", token(&created))).await;
    (page, start, counted)
}

#[tokio::test]
async fn the_timeline_urges_the_procedures_from_thirty_days_and_is_firm_inside_fourteen() {
    use shindan::report::analysis::{Deadline, PROCEDURE_DEADLINE_DAYS};
    let app = spawn_app().await;
    for days in [5, 20, 45] {
        let (page, start, counted) = report_starting_in(&app, days).await;
        let deadline = (start - chrono::Duration::days(PROCEDURE_DEADLINE_DAYS))
            .format("%Y-%m-%d")
            .to_string();
        let soon = format!("お手続きは始期日の14日前（{deadline}）までに終える必要があります");
        let missed = format!("始期日の14日前（{deadline}）を過ぎているため");
        // The rule is always there, hedged, and about completing the procedures.
        assert!(page.contains("代理店によっては、保険始期日の14日前までにお手続き"));
        // Judged by the days the server counted (a test may cross midnight in Japan).
        match Deadline::of(Some(counted)) {
            Deadline::Missed => assert!(page.contains(&missed), "{counted} days"),
            Deadline::Soon => {
                assert!(page.contains(&soon), "{counted} days: hurry, not reassured");
                assert!(!page.contains(&missed));
            }
            _ => {
                assert!(
                    !page.contains(&soon) && !page.contains(&missed),
                    "{counted} days"
                );
            }
        }
    }
}

/// The small fixture with its `q1` note tied to the earthquake exclusion.
fn fixture_with_exclusion_link() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let source = include_str!("../fixtures/small/fixture-1.toml").replace(
        "when = { question = \"q1\", in = [\"no\"] }",
        "when = { question = \"q1\", in = [\"no\"] }\nexclusion = \"earthquake\"",
    );
    std::fs::write(dir.path().join("fixture.toml"), source).unwrap();
    dir
}

#[tokio::test]
async fn every_report_has_the_coverage_basics_and_marks_exactly_the_exclusions_its_notes_concern() {
    // Arrange
    let dir = fixture_with_exclusion_link();
    let app = spawn_app_with(dir.path()).await;
    let q = app.questionnaire("fixture").await;
    let submit = |q1: &'static str| {
        let mut answers = answers_with(&q, |_| 0);
        answers["q1"] = json!(q1);
        json!({"questionnaire": "fixture", "profile": valid_profile(&q), "answers": answers, "submit": true})
    };
    let concerned = app.created(&submit("no")).await;
    let unconcerned = app.created(&submit("yes")).await;

    for (lang, heading, marker, earthquake, documents) in [
        (
            "ja",
            "IT業務賠償責任保険の補償の基本",
            "ご回答に関連",
            "地震、噴火またはこれらによる津波",
            "告知書（申込書）に代わるものではありません",
        ),
        (
            "en",
            "IT liability insurance: coverage basics",
            "See note",
            "Earthquakes, volcanic eruptions and tsunamis caused by them",
            "does not replace the insurer's application form",
        ),
    ] {
        // Act
        let with = text(&app, &format!("/r/{}?lang={lang}", token(&concerned))).await;
        let without = text(&app, &format!("/r/{}?lang={lang}", token(&unconcerned))).await;

        // Assert: the block is on both, whole.
        for page in [&with, &without] {
            assert!(page.contains(heading) && page.contains(documents), "{lang}");
            assert!(page.matches("<li").count() >= 14 + 4, "{lang}");
            for item in ["a", "b", "c", "d"] {
                let (open, close) = if lang == "ja" {
                    ("（", "）")
                } else {
                    ("(", ")")
                };
                let basis = format!("<li>{open}{item}{close}");
                assert!(page.contains(&basis), "{lang} coverage item {basis}");
            }
        }
        // Only the report whose note fired marks the exclusion, linking to that note.
        assert_eq!(with.matches("class=\"related\"").count(), 1, "{lang}");
        assert!(with.contains(&format!(">{marker}</a>")), "{lang}");
        assert!(
            with.contains(r##"<a class="related" href="#finding-f-q1">"##),
            "{lang}"
        );
        assert!(with.contains(r#"<li id="finding-f-q1">"#), "{lang}");
        let marked = with
            .split(r#"<li class="relevant">"#)
            .nth(1)
            .expect("a marked exclusion");
        assert!(marked.starts_with(earthquake), "{lang}: {marked:.80}");
        assert!(
            !without.contains(&format!(">{marker}</a>")) && !without.contains("class=\"relevant\""),
            "{lang}"
        );
    }
}

/// The words a page shows, without its markup.
fn visible_text(html: &str) -> String {
    let body = html.split("<body").nth(1).unwrap_or(html);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[tokio::test]
async fn the_pages_follow_the_glossary_in_both_languages() {
    // docs/GLOSSARY.md, on what people read: the landing page, the steps, and the report
    // of a weak 2026.2 assessment (every kind of note, the timeline, the coverage basics).
    let app = spawn_app().await;
    let q = app.questionnaire("it-liability").await;
    let mut profile = valid_profile(&q);
    profile["past_claims"] = json!("yes");
    profile["policy_start"] = json!((chrono::Utc::now() + chrono::Duration::days(20))
        .format("%Y-%m-%d")
        .to_string());
    let weakest = crate::helpers::answers_with(&q, |question| {
        question["options"].as_array().map_or(0, |o| o.len() - 1)
    });
    let report = app
        .created(&json!({"questionnaire": "it-liability", "profile": profile, "answers": weakest, "submit": true}))
        .await;
    let draft = app.created(&json!({"questionnaire": "it-liability"})).await;
    let edit = draft["edit_token"].as_str().unwrap();
    for lang in ["ja", "en"] {
        for path in [
            format!("/?lang={lang}"),
            format!("/a/{edit}/profile?lang={lang}"),
            format!("/a/{edit}/d/1?lang={lang}"),
            format!("/a/{edit}/review?lang={lang}"),
            format!("/r/{}?lang={lang}", token(&report)),
        ] {
            let page = visible_text(&text(&app, &path).await);
            if lang == "en" {
                assert!(!page.to_lowercase().contains("countermeasure"), "{path}");
                continue;
            }
            let breaches = crate::helpers::glossary_breaches(&page);
            assert!(breaches.is_empty(), "{path}: {breaches:?}");
        }
    }
}
