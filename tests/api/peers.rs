//! Private peer statistics: reports compare with published snapshots only (the admin API,
//! `shindan peers snapshot`, the server's own schedule); a company counts once; a report
//! shows peers only with ten companies other than its own; ranks in bands of 20%, counts
//! rounded down to a multiple of five, the snapshot's date printed; nothing moves between
//! snapshots; brokers and the JSON API follow the same rules.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use shindan::config::AdminToken;

use crate::helpers::{
    client, expect_error, output_within_patience, shipped_questionnaires, small_questionnaires,
    spawn_app_configured, spawn_process, valid_profile, TestApp, PATIENCE,
};

const SNAPSHOTS: &str = "/api/v1/admin/peer-snapshots";
const ADMIN_TOKEN: &str = "an-admin-token-of-the-peer-tests-0123456789";

async fn spawn_admin_app(questionnaires: &Path) -> TestApp {
    spawn_app_configured(questionnaires, |c| {
        c.admin_token = Some(AdminToken(ADMIN_TOKEN.into()));
    })
    .await
}

/// A submitted assessment of `company` on the questionnaire `q` (JSON): the first `level`
/// questions answered with their best option, the others with their worst, so that the
/// overall score grows with `level`.
fn body(q: &Value, company: &str, level: usize) -> Value {
    let mut profile = valid_profile(q);
    profile["company_name"] = json!(company);
    let mut answers = serde_json::Map::new();
    for (i, question) in q["questions"].as_array().unwrap().iter().enumerate() {
        let options = question["options"].as_array().unwrap();
        let pick = if i < level { 0 } else { options.len() - 1 };
        answers.insert(
            question["id"].as_str().unwrap().into(),
            options[pick]["id"].clone(),
        );
    }
    json!({"questionnaire": q["id"], "profile": profile, "answers": answers, "submit": true})
}

/// Submits `company` at `level`; its report token.
async fn submit(app: &TestApp, q: &Value, company: &str, level: usize) -> String {
    let created = app.created(&body(q, company, level)).await;
    created["report_token"].as_str().unwrap().to_string()
}

/// Submits `n` companies named `prefix0`, `prefix1`, ... at `level`.
async fn submit_many(app: &TestApp, q: &Value, prefix: &str, n: usize, level: usize) {
    for i in 0..n {
        submit(app, q, &format!("{prefix}{i}"), level).await;
    }
}

async fn take_snapshot(app: &TestApp) -> reqwest::Response {
    app.post_as(ADMIN_TOKEN, SNAPSHOTS, &json!({})).await
}

/// Takes a snapshot that must be accepted; its JSON.
async fn snapshot(app: &TestApp) -> Value {
    let res = take_snapshot(app).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// The report's JSON `peers`.
async fn peers(app: &TestApp, token: &str) -> Value {
    let res = app.get_report(token).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["peers"].clone()
}

async fn page(app: &TestApp, token: &str, lang: &str) -> (String, String) {
    let res = app.get(&format!("/r/{token}?lang={lang}")).await;
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    (etag, res.text().await.unwrap())
}

/// The Japanese date of a snapshot's `created_at`, as reports print it.
fn day(snapshot: &Value) -> String {
    let at: chrono::DateTime<chrono::Utc> =
        snapshot["created_at"].as_str().unwrap().parse().unwrap();
    shindan::report::analysis::local_day(at)
}

#[tokio::test]
async fn a_snapshot_needs_five_changed_companies_and_a_refusal_stores_nothing() {
    let app = spawn_admin_app(&small_questionnaires()).await;
    let q = app.questionnaire("small-five").await;
    submit_many(&app, &q, "社", 4, 5).await;

    let res = take_snapshot(&app).await;
    expect_error(res, 409, "too_few_changes").await;
    assert!(app.store.peer_snapshot().unwrap().is_none());
    assert!(app.store.published_peers().is_none());

    submit(&app, &q, "五番目の会社", 5).await;
    let res = take_snapshot(&app).await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["companies", "created_at", "id"]);
    assert_eq!(body["companies"], 5);
    let id = uuid::Uuid::parse_str(body["id"].as_str().unwrap()).unwrap();
    assert!(body["created_at"]
        .as_str()
        .unwrap()
        .parse::<chrono::DateTime<chrono::Utc>>()
        .is_ok());

    // Nothing changed since: refused, and the stored snapshot is still that one.
    submit(&app, &q, "社0", 6).await;
    let err = expect_error(take_snapshot(&app).await, 409, "too_few_changes").await;
    assert!(err["error"]["message"].as_str().unwrap().contains('5'));
    assert_eq!(app.store.peer_snapshot().unwrap().unwrap().id, id);
}

#[tokio::test]
async fn taking_a_snapshot_needs_the_admin_token() {
    let app = spawn_admin_app(&small_questionnaires()).await;
    let res = app
        .post_as("not-the-admin-token", SNAPSHOTS, &json!({}))
        .await;
    expect_error(res, 401, "unauthorized").await;
    let res = app.post_json(SNAPSHOTS, &json!({})).await;
    expect_error(res, 401, "unauthorized").await;

    let off = spawn_app_configured(&small_questionnaires(), |_| {}).await;
    let res = off.post_as(ADMIN_TOKEN, SNAPSHOTS, &json!({})).await;
    expect_error(res, 404, "admin_disabled").await;
}

#[tokio::test]
async fn one_company_submitting_twelve_times_counts_once() {
    let app = spawn_admin_app(&small_questionnaires()).await;
    let q = app.questionnaire("small-five").await;
    for (i, name) in ["ＡＢＣ株式会社", "abc株式会社", " Abc株式会社 "]
        .iter()
        .cycle()
        .take(12)
        .enumerate()
    {
        submit(&app, &q, name, i % 10).await;
    }
    submit_many(&app, &q, "他社", 9, 3).await;
    assert_eq!(snapshot(&app).await["companies"], 10);

    // ABC is one company: nine others, so its reports show no peers.
    let abc = submit(&app, &q, "ABC株式会社", 7).await;
    assert_eq!(peers(&app, &abc).await, Value::Null);
    let (_, html) = page(&app, &abc, "en").await;
    assert!(!html.contains("Average of all business types") && !html.contains("top "));
}

#[tokio::test]
async fn a_report_shows_peers_only_with_ten_companies_other_than_its_own() {
    let app = spawn_admin_app(&small_questionnaires()).await;
    let q = app.questionnaire("small-five").await;
    let first = submit(&app, &q, "社0", 5).await;
    submit_many(&app, &q, "他社", 9, 5).await;
    snapshot(&app).await;

    // A member of the snapshot has nine others.
    assert_eq!(peers(&app, &first).await, Value::Null);
    let (_, html) = page(&app, &first, "ja").await;
    assert!(!html.contains("全業種の平均"), "{html}");
    // A company that submits after it has ten.
    let newcomer = submit(&app, &q, "新しい会社", 5).await;
    let p = peers(&app, &newcomer).await;
    assert_eq!(p["companies"], 10);
    let (_, html) = page(&app, &newcomer, "ja").await;
    assert!(html.contains("全業種の平均（10社以上）"), "{html}");
}

#[tokio::test]
async fn reports_do_not_move_between_snapshots() {
    let app = spawn_admin_app(&small_questionnaires()).await;
    let q = app.questionnaire("small-five").await;
    submit_many(&app, &q, "社", 12, 4).await;
    snapshot(&app).await;
    let reader = submit(&app, &q, "読者", 6).await;
    let (etag, html) = page(&app, &reader, "en").await;
    let json = peers(&app, &reader).await;
    let svg = app
        .get(&format!("/r/{reader}/radar.svg"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(json["companies"], 10);

    // Six new companies, all better than the reader: nothing it shows moves.
    submit_many(&app, &q, "新社", 6, 10).await;
    let (etag_again, html_again) = page(&app, &reader, "en").await;
    assert_eq!(etag_again, etag);
    assert_eq!(html_again, html);
    assert_eq!(peers(&app, &reader).await, json);
    let svg_again = app
        .get(&format!("/r/{reader}/radar.svg"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(svg_again, svg);
    let cached = app
        .client
        .get(app.url(&format!("/r/{reader}?lang=en")))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(cached.status(), 304);

    // The next snapshot moves it: 19 companies, shown as 15.
    assert_eq!(snapshot(&app).await["companies"], 19);
    let (etag_new, _) = page(&app, &reader, "en").await;
    assert_ne!(etag_new, etag);
    assert_eq!(peers(&app, &reader).await["companies"], 15);
}

#[tokio::test]
async fn ranks_are_bands_of_twenty_percent_with_a_rounded_count_and_the_date() {
    let app = spawn_admin_app(&small_questionnaires()).await;
    let q = app.questionnaire("small-five").await;
    // Thirteen companies: levels 1 to 10, and three more at 1.
    for level in 1..=10 {
        submit(&app, &q, &format!("社{level}"), level).await;
    }
    submit_many(&app, &q, "追加", 3, 1).await;
    // Ranked readers are in the snapshot: a band is given only to the assessment the
    // snapshot holds.
    let best = submit(&app, &q, "最良", 10).await;
    let worst = submit(&app, &q, "最下位", 0).await;
    let taken = snapshot(&app).await;
    let date = day(&taken);

    let (_, ja) = page(&app, &best, "ja").await;
    assert!(
        ja.contains(&format!("総合スコアは、同じ質問票で診断した15社以上の中で<strong>上位20%以内</strong>です（{date}時点）。")),
        "{ja}"
    );
    assert!(ja.contains(&format!("比較対象の数値は{date}時点の集計です。")));
    assert!(ja.contains("全業種の平均（15社以上）"));
    assert!(
        !ja.contains("同業他社の平均"),
        "all business types are not one's own trade"
    );
    let (_, en) = page(&app, &best, "en").await;
    assert!(
        en.contains(&format!("As of {date}, your overall score is in the <strong>top 20%</strong> of 15 or more companies that took this questionnaire.")),
        "{en}"
    );
    assert!(en.contains(&format!("Peer figures are as of {date}")));
    let svg = app
        .get(&format!("/r/{best}/radar.svg?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        svg.contains("Average of all business types (15+ companies)"),
        "{svg}"
    );

    // Fourteen others above: the last of fifteen.
    let (_, ja) = page(&app, &worst, "ja").await;
    assert!(ja.contains("<strong>下位20%</strong>です"), "{ja}");
    let (_, en) = page(&app, &worst, "en").await;
    assert!(
        en.contains("in the <strong>bottom 20%</strong> of 15 or more"),
        "{en}"
    );

    let p = peers(&app, &best).await;
    assert_eq!(p["rank_band"], "top_20");
    assert_eq!(p["companies"], 15);
    assert_eq!(p["snapshot_date"], date.as_str());
    assert_eq!(p["segment"], Value::Null);
    assert_eq!(p["domains"].as_array().unwrap().len(), 5);
    assert_eq!(peers(&app, &worst).await["rank_band"], "bottom_20");
}

/// A submission of the shipped questionnaire by `company` in the business type `segment`.
async fn submit_in(app: &TestApp, q: &Value, company: &str, segment: &str) -> String {
    let mut b = body(q, company, 20);
    b["profile"]["business_type"] = json!(segment);
    let created = app.created(&b).await;
    created["report_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn the_business_type_segment_is_used_only_when_it_alone_has_ten() {
    let app = spawn_admin_app(&shipped_questionnaires()).await;
    let q = app.questionnaire("it-liability").await;
    for i in 0..11 {
        submit_in(&app, &q, &format!("SI{i}"), "si").await;
    }
    for i in 0..10 {
        submit_in(&app, &q, &format!("SaaS{i}"), "saas").await;
    }
    let si = submit_in(&app, &q, "新SI", "si").await;
    snapshot(&app).await;
    let p = peers(&app, &si).await;
    assert_eq!(
        (p["segment"].as_str(), p["companies"].as_u64()),
        (Some("si"), Some(10))
    );
    let (_, en) = page(&app, &si, "en").await;
    assert!(en.contains("System integration / contract development average (10+ companies)"));
    assert!(en.contains("of 10 or more companies in System integration / contract development."));
    let (_, ja) = page(&app, &si, "ja").await;
    assert!(
        ja.contains("システム開発（受託開発・SI）の10社以上の中で"),
        "{ja}"
    );
    // A business type without ten: compared with everyone (21, shown as 20).
    let web = submit_in(&app, &q, "新Web", "web").await;
    let p = peers(&app, &web).await;
    assert_eq!(
        (p["segment"].clone(), p["companies"].as_u64()),
        (Value::Null, Some(20))
    );

    // Twelve "si" and three "saas": "si" alone would let the three be found by subtraction
    // from everyone's average, so it is not published.
    let app = spawn_admin_app(&shipped_questionnaires()).await;
    for i in 0..12 {
        submit_in(&app, &q, &format!("SI{i}"), "si").await;
    }
    for i in 0..3 {
        submit_in(&app, &q, &format!("SaaS{i}"), "saas").await;
    }
    snapshot(&app).await;
    let si = submit_in(&app, &q, "新SI", "si").await;
    let p = peers(&app, &si).await;
    assert_eq!(
        (p["segment"].clone(), p["companies"].as_u64()),
        (Value::Null, Some(15))
    );
}

#[tokio::test]
async fn a_brokers_portfolio_and_the_json_api_follow_the_same_rules() {
    let app = spawn_admin_app(&small_questionnaires()).await;
    let q = app.questionnaire("small-five").await;
    let (_, broker) = app.add_broker("代理店");
    let client_report = submit(&app, &q, "顧客株式会社", 4).await;
    let res = app
        .post_as(
            &broker,
            "/api/v1/broker/assessments/attach",
            &json!({"report_token": client_report}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let id = res.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let detail = || async {
        let res = app
            .get_as(&broker, &format!("/api/v1/broker/assessments/{id}"))
            .await;
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()["peers"].clone()
    };

    // Nine other companies: nothing, for the broker as for the report.
    submit_many(&app, &q, "他社", 9, 6).await;
    snapshot(&app).await;
    assert_eq!(detail().await, Value::Null);
    assert_eq!(peers(&app, &client_report).await, Value::Null);

    // Five more (fifteen): both show the same figures, and they stay put after more
    // submissions.
    submit_many(&app, &q, "追加", 5, 8).await;
    snapshot(&app).await;
    let shown = detail().await;
    assert_eq!(shown["companies"], 15);
    assert_eq!(shown, peers(&app, &client_report).await);
    submit_many(&app, &q, "その後", 4, 10).await;
    assert_eq!(detail().await, shown);
}

#[tokio::test]
async fn a_previous_assessment_is_still_the_comparison_whatever_the_peers() {
    let app = spawn_admin_app(&small_questionnaires()).await;
    let q = app.questionnaire("small-five").await;
    let before = submit(&app, &q, "比較社", 2).await;
    submit_many(&app, &q, "他社", 12, 5).await;
    let mut again = body(&q, "比較社", 7);
    again["previous"] = json!(before);
    let after = app.created(&again).await["report_token"]
        .as_str()
        .unwrap()
        .to_string();
    snapshot(&app).await;
    let (_, en) = page(&app, &after, "en").await;
    assert!(
        en.contains("Previous (") && en.contains("Previously "),
        "{en}"
    );
    assert!(!en.contains("Average of all business types") && !en.contains("Peer figures"));
    assert_eq!(peers(&app, &after).await, Value::Null);
}

#[tokio::test]
async fn the_server_takes_snapshots_on_its_own_when_enough_changed() {
    let app = spawn_app_configured(&small_questionnaires(), |c| {
        c.peer_snapshot_interval = Some(Duration::from_millis(50));
    })
    .await;
    let q = app.questionnaire("small-five").await;
    submit_many(&app, &q, "社", 4, 5).await;
    // Two attempts that began after the fourth submission: both found too few changes.
    let seen = app.store.peer_snapshot_attempts();
    wait_for(
        || app.store.peer_snapshot_attempts() >= seen + 2,
        "two attempts",
    )
    .await;
    assert!(app.store.published_peers().is_none());

    submit(&app, &q, "五番目", 5).await;
    wait_for(|| app.store.published_peers().is_some(), "a snapshot").await;
    assert_eq!(app.store.published_peers().unwrap().companies, 5);
}

/// Waits for `done`, polling; only a hang meets the bound.
async fn wait_for(done: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "no {what} within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `shindan peers snapshot --data-dir DIR`, run to completion.
fn cli_snapshot(data_dir: &Path) -> std::process::Output {
    output_within_patience(
        std::process::Command::new(crate::helpers::binary())
            .args(["peers", "snapshot", "--data-dir"])
            .arg(data_dir),
    )
}

#[tokio::test]
async fn the_command_line_takes_snapshots_with_the_server_stopped_and_backups_keep_them() {
    let data = tempfile::tempdir().unwrap();
    let server = spawn_process(data.path(), &small_questionnaires());
    let http = client();
    let q: Value = http
        .get(format!(
            "{}/api/v1/questionnaires/small-five",
            server.address
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut reader = String::new();
    for i in 0..11 {
        let created: Value = http
            .post(format!("{}/api/v1/assessments", server.address))
            .json(&body(&q, &format!("社{i}"), i))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        reader = created["report_token"].as_str().unwrap().to_string();
    }
    // While the server runs, the data directory is its own.
    let busy = cli_snapshot(data.path());
    assert!(!busy.status.success());
    assert!(String::from_utf8_lossy(&busy.stderr).contains("in use"));
    let (code, _) = server.terminate();
    assert_eq!(code, Some(0));

    let out = cli_snapshot(data.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(": 11 companies"));
    let again = cli_snapshot(data.path());
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("too_few_changes"));

    // The reader (社10) has ten others; a backup restored elsewhere shows the same.
    let report = |address: String| {
        let http = http.clone();
        let reader = reader.clone();
        async move {
            let json: Value = http
                .get(format!("{address}/api/v1/reports/{reader}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let etag = http
                .get(format!("{address}/r/{reader}"))
                .send()
                .await
                .unwrap()
                .headers()["etag"]
                .to_str()
                .unwrap()
                .to_string();
            (json["peers"].clone(), etag)
        }
    };
    let server = spawn_process(data.path(), &small_questionnaires());
    let (shown, etag) = report(server.address.clone()).await;
    assert_eq!(shown["companies"], 10);
    server.terminate();

    let backup = data.path().join("backup.jsonl");
    let out = crate::helpers::cli("backup", &backup, Some(data.path()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let restored = tempfile::tempdir().unwrap();
    let out = crate::helpers::cli("restore", &backup, Some(restored.path()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let server = spawn_process(restored.path(), &small_questionnaires());
    assert_eq!(report(server.address.clone()).await, (shown, etag));
    server.terminate();
}

#[test]
fn a_bad_snapshot_interval_stops_the_server_with_a_message() {
    let data = tempfile::tempdir().unwrap();
    let out = output_within_patience(
        std::process::Command::new(crate::helpers::binary())
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(data.path())
            .env("SHINDAN_PEER_SNAPSHOT_INTERVAL", "every day"),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("every day") && err.contains("24h"), "{err}");
}

#[tokio::test]
async fn a_submission_after_the_snapshot_gets_peers_but_no_rank_so_band_edges_cannot_be_probed() {
    let app = spawn_admin_app(&small_questionnaires()).await;
    let q = app.questionnaire("small-five").await;
    for level in 1..=10 {
        submit(&app, &q, &format!("社{level}"), level).await;
    }
    submit_many(&app, &q, "追加", 3, 1).await;
    snapshot(&app).await;
    // Chosen answers, read at once: no band, whatever the score.
    for level in [0, 5, 10] {
        let probe = submit(&app, &q, &format!("探り{level}"), level).await;
        let p = peers(&app, &probe).await;
        assert_eq!(p["rank_band"], Value::Null, "level {level}");
        assert!(
            p["companies"].as_u64().is_some(),
            "the averages are still shown"
        );
        let (_, ja) = page(&app, &probe, "ja").await;
        assert!(
            !ja.contains("上位20%以内") && !ja.contains("下位20%"),
            "level {level}"
        );
    }
}
