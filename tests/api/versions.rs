//! Questionnaire versions side by side: 2026.1 stays loadable and its reports unchanged
//! after 2026.2 ships.

use std::path::Path;

use serde_json::{json, Value};

use crate::helpers::{answers_with, spawn_app, valid_profile};

/// The content hash of the shipped 2026.1 file. Reports keep this hash, so the file must
/// never change: a new version is a new file.
const HASH_2026_1: &str = "sha256:e7a4aa62d14d800728b1256ede2105786c6db6321e72fb5b2cf89db16704a1a2";

/// The golden reports of three answer patterns, kept from before 2026.2 existed.
const GOLDEN_2026_1: &str = "tests/api/golden/it-liability-2026.1-reports.json";

/// The report of one 2026.1 assessment answered with `pick`, without what differs per run
/// (id, submission time).
async fn report_2026_1(app: &crate::helpers::TestApp, q: &Value, pick: usize) -> Value {
    let mut profile = valid_profile(q);
    // Profile values that fire the profile findings too.
    profile["certifications"] = json!(["pmark", "isms"]);
    profile["liability_cap_share"] = json!(if pick == 0 { "75plus" } else { "under25" });
    profile["overseas_customers"] = json!(if pick == 0 { "no" } else { "yes" });
    profile["business_type"] = json!(if pick == 2 { "web" } else { "si" });
    let answers = answers_with(q, |_| pick);
    let created = app
        .created(&json!({
            "questionnaire": "it-liability",
            "version": "2026.1",
            "profile": profile,
            "answers": answers,
            "submit": true,
        }))
        .await;
    let token = created["report_token"].as_str().expect("report token");
    let res = app.get_report(token).await;
    assert_eq!(res.status(), 200);
    let mut report: Value = res.json().await.expect("JSON");
    let object = report.as_object_mut().expect("object");
    object.remove("id");
    object.remove("submitted_at");
    report
}

#[tokio::test]
async fn the_2026_1_file_is_never_edited() {
    let app = spawn_app().await;
    let q = app.questionnaire_version("2026.1").await;
    assert_eq!(q["version"], "2026.1");
    let report = report_2026_1(&app, &q, 0).await;
    assert_eq!(report["questionnaire"]["hash"], HASH_2026_1);
}

#[tokio::test]
async fn reports_of_2026_1_are_unchanged() {
    // Arrange
    let app = spawn_app().await;
    let q = app.questionnaire_version("2026.1").await;

    // Act: best, middle and worst answers.
    let mut reports = Vec::new();
    for pick in [0, 1, 2] {
        reports.push(report_2026_1(&app, &q, pick).await);
    }
    let actual = Value::Array(reports);

    // Assert
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN_2026_1);
    if std::env::var_os("SHINDAN_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&actual).expect("JSON") + "\n";
        std::fs::write(&path, text).expect("write the golden file");
    }
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("golden file")).expect("JSON");
    assert_eq!(
        actual, golden,
        "a 2026.1 report changed; see {GOLDEN_2026_1}"
    );
}
