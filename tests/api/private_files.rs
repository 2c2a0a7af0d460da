//! Files only their owner can read: the data directory (0700, every file in it 0600) and
//! backups, written safely: a new owner-only file renamed over the old one once complete,
//! never through a symbolic link, never truncating the old backup first.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::json;
use shindan::questionnaire::load_dir;
use shindan::store::Store;

use crate::helpers::{
    cli, cli_add_broker, client, close_store, small_questionnaires, spawn_process,
};

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
    let health = server.get("/healthz").await;
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

/// A stopped server's data directory with one submitted assessment, and a first backup.
async fn data_with_a_backup() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let base = tempfile::tempdir().unwrap();
    let data = base.path().join("data");
    let server = spawn_process(&data, &small_questionnaires());
    submit_one(&server.address).await;
    server.terminate();
    let file = base.path().join("backup.jsonl");
    let out = cli("backup", &file, Some(&data));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (base, data, file)
}

/// The names in `dir`, sorted.
fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_backup_replaces_a_loose_old_file_with_a_new_owner_only_one() {
    let (base, data, file) = data_with_a_backup().await;
    let old = fs::read(&file).unwrap();
    fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    // A second name for the old file: rewriting it in place would show through here.
    let kept = base.path().join("kept.jsonl");
    fs::hard_link(&file, &kept).unwrap();

    let out = cli("backup", &file, Some(&data));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&file), 0o600, "the new backup is owner-only");
    assert_eq!(
        fs::read(&kept).unwrap(),
        old,
        "the old file was never written to"
    );
    assert_eq!(mode(&kept), 0o644);
    let new = fs::read_to_string(&file).unwrap();
    assert!(new.starts_with("{\"format\":\"shindan-backup\""), "{new}");
    assert_eq!(
        names_in(base.path()),
        ["backup.jsonl", "data", "kept.jsonl"],
        "no temporary file is left"
    );
}

#[tokio::test]
async fn a_backup_to_a_symbolic_link_is_refused_and_changes_nothing() {
    let (base, data, file) = data_with_a_backup().await;
    let victim = base.path().join("victim");
    fs::write(&victim, "do not touch").unwrap();
    let link = base.path().join("link.jsonl");
    std::os::unix::fs::symlink(&victim, &link).unwrap();

    let out = cli("backup", &link, Some(&data));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{} is a symbolic link; refusing to write through it",
            link.display()
        )),
        "{stderr}"
    );
    assert_eq!(fs::read_to_string(&victim).unwrap(), "do not touch");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(
        names_in(base.path()),
        ["backup.jsonl", "data", "link.jsonl", "victim"]
    );
    assert!(file.exists());
}

#[tokio::test]
async fn a_failing_backup_leaves_the_old_backup_intact() {
    let (base, data, file) = data_with_a_backup().await;
    let old = fs::read(&file).unwrap();
    // A record that cannot be read back (JSON nested deeper than the decoder accepts)
    // makes the next backup fail after it has started writing.
    {
        let catalog = load_dir(&small_questionnaires()).unwrap();
        let q = catalog.latest("fixture").unwrap();
        let mut record = shindan::assessment::new_draft(&q, &Default::default())
            .unwrap()
            .record;
        let deep = (0..300).fold(json!(1), |v, _| json!([v]));
        record.profile.insert("company_name".into(), deep);
        let store = Store::open(&data).unwrap();
        store.insert(&record).unwrap();
        store.flush_now().unwrap();
        close_store(store, &data);
    }

    let out = cli("backup", &file, Some(&data));
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a stored record cannot be read"),
        "{stderr}"
    );
    assert_eq!(fs::read(&file).unwrap(), old, "the old backup is intact");
    assert_eq!(mode(&file), 0o600);
    assert_eq!(
        names_in(base.path()),
        ["backup.jsonl", "data"],
        "the unfinished file is removed"
    );
}
