//! The real binary: restarts, SIGTERM, the directory lock, backup and restore, the
//! `validate` command and what the logs may contain.

use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::{
    binary, cli, client, output_within_patience, shipped_questionnaires, small_questionnaires,
    spawn_process, ServerProcess,
};

/// Creates and submits one complete assessment on the small fixture; returns the create response.
async fn submit_one(server: &ServerProcess) -> Value {
    let res = client()
        .post(format!("{}/api/v1/assessments", server.address))
        .json(&json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "partly", "q3": "na", "q4": "a"}, "submit": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn report_status(server: &ServerProcess, token: &str) -> u16 {
    server
        .get(&format!("/api/v1/reports/{token}"))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn submissions_survive_a_restart_and_sigterm_exits_cleanly_without_logging_tokens() {
    let data = tempfile::tempdir().unwrap();
    let server = spawn_process(data.path(), &small_questionnaires());
    let created = submit_one(&server).await;
    let report = created["report_token"].as_str().unwrap().to_string();
    let edit = created["edit_token"].as_str().unwrap().to_string();
    assert_eq!(report_status(&server, &report).await, 200);
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "SIGTERM drains and exits 0: {logs}");
    assert!(
        logs.contains("route=/api/v1/reports/{token}"),
        "logs name the route pattern"
    );
    assert!(
        !logs.contains(&report) && !logs.contains(&edit),
        "no token in the logs"
    );

    let server = spawn_process(data.path(), &small_questionnaires());
    assert_eq!(report_status(&server, &report).await, 200);
    let body: Value = server
        .get(&format!("/api/v1/reports/{report}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["scores"]["domains"][0]["score"], 70.0);
}

#[tokio::test]
async fn a_second_process_on_the_same_data_directory_exits_at_once_with_a_clear_message() {
    let data = tempfile::tempdir().unwrap();
    let _server = spawn_process(data.path(), &small_questionnaires());
    // At once: the first server holds the lock for the whole test, so a second one that
    // waited for it would never exit, and is killed as hung.
    let out = output_within_patience(
        Command::new(binary())
            .args(["serve", "--bind", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data.path())
            .arg("--questionnaires")
            .arg(small_questionnaires()),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is in use by another shindan process"),
        "{stderr}"
    );
    assert!(!stderr.contains("could not acquire lock"), "{stderr}");
    // The backup command refuses too, rather than reading a database in use.
    let out = cli("backup", &data.path().join("b.jsonl"), Some(data.path()));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("in use"));
}

#[tokio::test]
async fn backup_then_restore_round_trips_every_record() {
    let data = tempfile::tempdir().unwrap();
    let server = spawn_process(data.path(), &small_questionnaires());
    let mut reports = Vec::new();
    for _ in 0..3 {
        reports.push(
            submit_one(&server).await["report_token"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let draft: Value = client()
        .post(format!("{}/api/v1/assessments", server.address))
        .json(&json!({"questionnaire": "fixture", "answers": {"q1": "no"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.terminate();

    let file = data.path().join("backup.jsonl");
    let out = cli("backup", &file, Some(data.path()));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(
            mode & 0o777,
            0o600,
            "the backup is readable by its owner only"
        );
    }
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&file).unwrap();
    let lines_starting = |p: &str| text.lines().filter(|l| l.starts_with(p)).count();
    assert_eq!(lines_starting("{\"schema\""), 4, "4 records");
    assert_eq!(
        lines_starting("{\"archived_questionnaire\""),
        2,
        "the 2 questionnaire files"
    );

    let restored = tempfile::tempdir().unwrap();
    let out = cli("restore", &file, Some(restored.path()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("restored 4"));
    // Restoring into a directory that already has data is refused.
    let out = cli("restore", &file, Some(restored.path()));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));

    let server = spawn_process(restored.path(), &small_questionnaires());
    for r in &reports {
        assert_eq!(report_status(&server, r).await, 200);
    }
    // The draft's edit token still works after the round trip.
    let res = client()
        .patch(format!(
            "{}/api/v1/assessments/{}",
            server.address,
            draft["id"].as_str().unwrap()
        ))
        .bearer_auth(draft["edit_token"].as_str().unwrap())
        .json(&json!({"answers": {"q1": "yes"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[test]
fn validate_reports_every_problem_with_file_line_and_field_and_the_server_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let broken = include_str!("../fixtures/small/fixture-1.toml")
        .replace("domain = \"d2\"", "domain = \"d9\"")
        .replace("score = 3", "score = -3");
    std::fs::write(dir.path().join("broken.toml"), broken).unwrap();
    let out = cli("validate", dir.path(), None);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("broken.toml:39: questions[2].domain: unknown domain \"d9\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("questions[3].options[0].score: score must not be negative"),
        "{stderr}"
    );
    assert!(
        stderr.contains("domains[1]: domain \"d2\" has no question"),
        "{stderr}"
    );

    let data = tempfile::tempdir().unwrap();
    let out = Command::new(binary())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .arg("--data-dir")
        .arg(data.path())
        .arg("--questionnaires")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let serve_err = String::from_utf8_lossy(&out.stderr);
    assert!(serve_err.contains("unknown domain \"d9\""), "{serve_err}");

    let ok = cli("validate", &shipped_questionnaires(), None);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("ok: it-liability 2026.2"));
}

#[tokio::test]
async fn a_report_keeps_the_questionnaire_it_was_scored_with_when_the_file_changes_or_goes() {
    let data = tempfile::tempdir().unwrap();
    let qs = tempfile::tempdir().unwrap();
    let original = include_str!("../fixtures/small/fixture-1.toml");
    std::fs::write(qs.path().join("f.toml"), original).unwrap();
    let server = spawn_process(data.path(), qs.path());
    let report = submit_one(&server).await["report_token"]
        .as_str()
        .unwrap()
        .to_string();
    server.terminate();

    let report_of = |server: &ServerProcess| {
        let url = format!("{}/api/v1/reports/{report}", server.address);
        async move { client().get(url).send().await.unwrap() }
    };
    // Same version, edited file: the report still shows what was answered.
    std::fs::write(
        qs.path().join("f.toml"),
        original.replace("en = \"One\"", "en = \"Uno\""),
    )
    .unwrap();
    let server = spawn_process(data.path(), qs.path());
    let body: Value = report_of(&server).await.json().await.unwrap();
    assert_eq!(body["scores"]["domains"][0]["label"]["en"], "One");
    let html = server
        .get(&format!("/r/{report}?lang=en"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains(">One<") && !html.contains("Uno"));
    server.terminate();

    // The file removed altogether.
    std::fs::remove_file(qs.path().join("f.toml")).unwrap();
    std::fs::copy(
        small_questionnaires().join("small-five.toml"),
        qs.path().join("five.toml"),
    )
    .unwrap();
    let server = spawn_process(data.path(), qs.path());
    let res = report_of(&server).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["questionnaire"]["id"], "fixture");
}

#[test]
fn zero_workers_is_refused_before_anything_starts() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(binary())
        .args(["serve", "--bind", "127.0.0.1:0", "--workers", "0"])
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--workers"));
}
