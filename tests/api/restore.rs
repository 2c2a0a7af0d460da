//! Restore trusts nothing: a doctored or damaged backup is refused whole, naming the line
//! and the record, or its scores are recomputed; a restore lands whole or not at all.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::helpers::{cli, cli_add_broker, client, small_questionnaires, spawn_process};

/// Submits one assessment of the small fixture (overall 80.0); its create response.
async fn submit_one(address: &str) -> Value {
    let res = client()
        .post(format!("{address}/api/v1/assessments"))
        .json(&json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "partly", "q3": "na", "q4": "a"}, "submit": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// A backup of a stopped server's data with one submitted assessment: the folder holding
/// everything, the backup file and the assessment's create response.
async fn backup_of_one() -> (tempfile::TempDir, PathBuf, Value) {
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data");
    let server = spawn_process(&data, &small_questionnaires());
    let created = submit_one(&server.address).await;
    server.terminate();
    let file = base.path().join("backup.jsonl");
    let out = cli("backup", &file, Some(&data));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (base, file, created)
}

/// The backup's lines, and the 1-based number of the first one that contains `needle`.
fn find_line(file: &Path, needle: &str) -> (Vec<String>, usize) {
    let lines: Vec<String> = fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let i = lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle}"));
    (lines, i + 1)
}

/// Replaces line `n` (1-based) of the file by what `edit` makes of its JSON.
fn edit_line(file: &Path, n: usize, edit: impl FnOnce(&mut Value)) {
    let (mut lines, _) = find_line(file, "");
    let mut v: Value = serde_json::from_str(&lines[n - 1]).unwrap();
    edit(&mut v);
    lines[n - 1] = v.to_string();
    fs::write(file, lines.join("\n") + "\n").unwrap();
}

/// Runs `shindan restore` and asserts it was refused (exit code 1) without creating the
/// target; its stderr.
fn refused_restore(file: &Path, base: &Path) -> String {
    let target = base.join("restored");
    let out = cli("restore", file, Some(&target));
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("nothing was written"), "{stderr}");
    assert!(!target.exists(), "a refused restore creates nothing");
    assert!(
        fs::read_dir(base).unwrap().all(|e| !e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("restore")),
        "no staging directory is left"
    );
    stderr
}

async fn report_json(address: &str, token: &str) -> Value {
    let res = client()
        .get(format!("{address}/api/v1/reports/{token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_tampered_overall_is_recomputed_on_restore_and_the_line_is_named() {
    let (base, file, created) = backup_of_one().await;
    let id = created["id"].as_str().unwrap();
    let (_, n) = find_line(&file, id);
    edit_line(&file, n, |r| r["scores"]["overall"] = json!(99.9));

    let target = base.path().join("restored");
    let out = cli("restore", &file, Some(&target));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let overall = created["scores"]["overall"].as_f64().unwrap();
    assert_eq!(overall, 80.0);
    assert!(
        stderr.contains(&format!(
            "note: line {n}: assessment {id}: restored with its scores (overall 99.9 stored, \
             80.0 from its answers) recomputed from its questionnaire and answers"
        )),
        "{stderr}"
    );
    assert_eq!(
        fs::metadata(&target).unwrap().permissions().mode() & 0o777,
        0o700
    );

    let server = spawn_process(&target, &small_questionnaires());
    let token = created["report_token"].as_str().unwrap();
    let report = report_json(&server.address, token).await;
    assert_eq!(report["scores"]["overall"], 80.0, "never the planted 99.9");
}

#[tokio::test]
async fn a_record_whose_scores_do_not_fit_its_questionnaire_is_refused_naming_its_line() {
    let (base, file, created) = backup_of_one().await;
    let id = created["id"].as_str().unwrap();
    let (_, n) = find_line(&file, id);
    edit_line(&file, n, |r| {
        r["scores"]["domains"].as_array_mut().unwrap().pop();
    });

    let stderr = refused_restore(&file, base.path());
    assert!(
        stderr.contains(&format!(
            "line {n}: assessment {id}: scores.domains are [d1, d2] but questionnaire \
             fixture 1 has the domains [d1, d2, d3]"
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_archived_questionnaire_whose_text_was_changed_is_refused() {
    let (base, file, created) = backup_of_one().await;
    let id = created["id"].as_str().unwrap();
    let (lines, r) = find_line(&file, id);
    let record: Value = serde_json::from_str(&lines[r - 1]).unwrap();
    let hash = record["questionnaire"]["hash"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, n) = find_line(
        &file,
        &format!("{{\"archived_questionnaire\":{{\"hash\":\"{hash}\""),
    );
    edit_line(&file, n, |a| {
        let a = &mut a["archived_questionnaire"];
        let source = a["source"]
            .as_str()
            .unwrap()
            .replace("score = 0", "score = 4");
        a["source"] = json!(source);
    });

    let stderr = refused_restore(&file, base.path());
    assert!(
        stderr.contains(&format!(
            "line {n}: questionnaire {hash}: its text has the content hash sha256:"
        )),
        "{stderr}"
    );
    // The record scored with it cannot be checked, and says so on its own line.
    assert!(
        stderr.contains(&format!(
            "line {r}: assessment {id}: its questionnaire fixture 1 ({hash}) is not in this backup"
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_submitted_record_with_an_unanswered_question_is_refused() {
    let (base, file, created) = backup_of_one().await;
    let id = created["id"].as_str().unwrap();
    let (_, n) = find_line(&file, id);
    edit_line(&file, n, |r| {
        r["answers"].as_object_mut().unwrap().remove("q4");
    });
    let stderr = refused_restore(&file, base.path());
    assert!(
        stderr.contains(&format!(
            "line {n}: assessment {id}: question \"q4\" is not answered"
        )),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_portfolio_entry_that_does_not_match_its_record_is_refused() {
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data");
    let token = cli_add_broker("代理店", &data);
    let server = spawn_process(&data, &small_questionnaires());
    let res = client()
        .post(format!("{}/api/v1/broker/invitations", server.address))
        .bearer_auth(&token)
        .json(&json!({"questionnaire": "fixture", "client_name": "株式会社A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let invited: Value = res.json().await.unwrap();
    server.terminate();
    let file = base.path().join("backup.jsonl");
    assert!(cli("backup", &file, Some(&data)).status.success());

    let (_, n) = find_line(&file, "\"portfolio_entry\"");
    edit_line(&file, n, |e| {
        e["portfolio_entry"]["entry"]["membership"] = json!("attached")
    });
    let stderr = refused_restore(&file, base.path());
    let id = invited["id"].as_str().unwrap();
    assert!(
        stderr.contains(&format!("line {n}: portfolio entry of broker "))
            && stderr.contains(&format!(
                "for assessment {id}: says attached, but the assessment is not a company's own \
                 submitted one"
            )),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_file_that_is_not_json_is_refused_naming_every_bad_line() {
    let (base, file, _) = backup_of_one().await;
    let mut text = fs::read_to_string(&file).unwrap();
    text.push_str("{not json\n");
    let total = text.lines().count();
    fs::write(&file, text).unwrap();
    let stderr = refused_restore(&file, base.path());
    assert!(
        stderr.contains(&format!("line {total}: key must be a string")),
        "{stderr}"
    );
}
