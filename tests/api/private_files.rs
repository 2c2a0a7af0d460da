//! Files only their owner can read: the data directory (0700, every file in it 0600).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::helpers::{cli_add_broker, client, small_questionnaires, spawn_process};

/// The permission bits of `path` (not following a link).
fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path).unwrap().permissions().mode() & 0o777
}

/// Every entry below `dir`, not following links.
fn everything_in(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            if fs::symlink_metadata(&path).unwrap().is_dir() {
                pending.push(path.clone());
            }
            out.push(path);
        }
    }
    out
}

/// Asserts the data directory is 0700 and everything in it 0700 (directories) or 0600.
fn assert_owner_only(dir: &Path) {
    assert_eq!(mode(dir), 0o700, "{}", dir.display());
    let entries = everything_in(dir);
    assert!(
        entries.iter().any(|p| p.ends_with("sled/db")),
        "{entries:?}"
    );
    for path in entries {
        let expected = if path.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(&path), expected, "{}", path.display());
    }
}

/// Submits one assessment of the small fixture to a running server.
async fn submit_one(address: &str) -> serde_json::Value {
    let res = client()
        .post(format!("{address}/api/v1/assessments"))
        .json(&json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "partly", "q3": "na", "q4": "a"}, "submit": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_new_data_directory_and_everything_in_it_is_owner_only() {
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data");
    let server = spawn_process(&data, &small_questionnaires());
    submit_one(&server.address).await;
    let (code, _) = server.terminate();
    assert_eq!(code, Some(0));
    assert_eq!(mode(&data.join("session.key")), 0o600);
    assert_owner_only(&data);

    // The command-line tools that write data create owner-only files too.
    let other = base.path().join("cli");
    cli_add_broker("代理店", &other);
    assert_owner_only(&other);
}

#[tokio::test]
async fn a_loose_data_directory_is_tightened_at_start_with_a_log_line() {
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data");
    let server = spawn_process(&data, &small_questionnaires());
    submit_one(&server.address).await;
    server.terminate();
    // As an earlier version, or a careless operator, left it.
    for (path, loose) in [
        (data.clone(), 0o755),
        (data.join("sled"), 0o755),
        (data.join("sled/db"), 0o644),
        (data.join("session.key"), 0o644),
    ] {
        fs::set_permissions(&path, fs::Permissions::from_mode(loose)).unwrap();
    }

    let server = spawn_process(&data, &small_questionnaires());
    // Serving: its signal handlers are in place.
    let health = client()
        .get(format!("{}/healthz", server.address))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0));
    assert!(
        logs.contains("the data directory was open to other users; tightened to owner-only")
            && logs.contains("was=755"),
        "{logs}"
    );
    assert!(
        logs.contains("files in the data directory were open to other users")
            && logs.contains("entries=3"),
        "{logs}"
    );
    assert_owner_only(&data);
}
