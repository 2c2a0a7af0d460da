//! `shindan broker add | list | revoke | rotate`: the real binary on a stopped server's
//! data directory, tokens that work against a server started afterwards, and the refusal
//! while a server holds the directory.

use std::path::Path;
use std::process::Output;

use crate::helpers::{
    broker_cli as broker, broker_command, client, output_within_patience, shipped_questionnaires,
    spawn_process, ServerProcess,
};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The last line of a successful command's output: where add and rotate print the token.
fn last_line(out: &Output) -> String {
    assert!(out.status.success(), "{}", stderr(out));
    stdout(out).lines().last().expect("output").to_string()
}

fn is_token(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Adds a broker; its id (from `broker list`) and token.
fn add(name: &str, data_dir: &Path) -> (String, String) {
    let token = last_line(&broker(&["add", "--name", name], data_dir));
    let listed = stdout(&broker(&["list"], data_dir));
    let line = listed
        .lines()
        .find(|l| l.split('\t').nth(1) == Some(name))
        .unwrap_or_else(|| panic!("{name} listed: {listed}"));
    let id = line.split('\t').next().unwrap().to_string();
    (id, token)
}

/// The status of the broker API's portfolio route for this token.
async fn portfolio_status(server: &ServerProcess, token: &str) -> u16 {
    client()
        .get(format!("{}/api/v1/broker/assessments", server.address))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET")
        .status()
        .as_u16()
}

#[test]
fn broker_add_prints_the_token_alone_on_the_last_line_and_list_never_shows_it() {
    let data = tempfile::tempdir().unwrap();

    let out = broker(&["add", "--name", "東京保険代理店"], data.path());
    let token = last_line(&out);
    let listed = broker(&["list"], data.path());

    assert!(is_token(&token), "{token:?}");
    assert!(listed.status.success(), "{}", stderr(&listed));
    let text = stdout(&listed);
    assert!(!text.contains(&token), "list shows no token: {text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1, "{text}");
    let fields: Vec<&str> = lines[0].split('\t').collect();
    assert_eq!(fields.len(), 4, "id, name, date, status: {text}");
    let id = uuid::Uuid::parse_str(fields[0]).expect("the line starts with the id");
    assert!(
        stdout(&out).contains(&id.to_string()),
        "add prints the id: {}",
        stdout(&out)
    );
    assert_eq!(fields[1], "東京保険代理店");
    assert!(
        chrono::NaiveDate::parse_from_str(fields[2], "%Y-%m-%d").is_ok() && fields[2].len() == 10,
        "a YYYY-MM-DD date: {}",
        fields[2]
    );
    assert_eq!(fields[3], "active");
}

#[tokio::test]
async fn a_token_made_by_the_cli_works_against_a_server_started_afterwards() {
    let data = tempfile::tempdir().unwrap();
    let (_, token) = add("Tokio Brokers", data.path());

    let server = spawn_process(data.path(), &shipped_questionnaires());
    let res = client()
        .get(format!("{}/api/v1/broker/assessments", server.address))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();

    assert_eq!(res.status(), 200);
    let page: serde_json::Value = res.json().await.unwrap();
    assert_eq!(page["items"], serde_json::json!([]));
}

#[tokio::test]
async fn rotate_and_revoke_take_effect_on_the_next_server_start() {
    // Arrange: two brokers.
    let data = tempfile::tempdir().unwrap();
    let (rotated_id, old) = add("Rotated Brokers", data.path());
    let (revoked_id, revoked_token) = add("Revoked Brokers", data.path());

    // Act: rotate one, revoke the other.
    let out = broker(&["rotate", &rotated_id], data.path());
    let new = last_line(&out);
    let out = broker(&["revoke", &revoked_id], data.path());
    assert!(out.status.success(), "{}", stderr(&out));

    // Assert: the list says so, and the server agrees.
    assert!(is_token(&new) && new != old);
    let listed = stdout(&broker(&["list"], data.path()));
    let status_of = |id: &str| {
        listed
            .lines()
            .find(|l| l.starts_with(id))
            .and_then(|l| l.split('\t').nth(3))
            .map(str::to_string)
    };
    assert_eq!(status_of(&rotated_id).as_deref(), Some("active"));
    assert_eq!(status_of(&revoked_id).as_deref(), Some("revoked"));
    assert!(!listed.contains(&new));
    let server = spawn_process(data.path(), &shipped_questionnaires());
    assert_eq!(portfolio_status(&server, &old).await, 401);
    assert_eq!(portfolio_status(&server, &new).await, 200);
    assert_eq!(portfolio_status(&server, &revoked_token).await, 401);
}

#[test]
fn unknown_or_malformed_ids_and_revoked_brokers_are_refused_with_a_non_zero_exit() {
    let data = tempfile::tempdir().unwrap();
    let (id, _) = add("Revoked Brokers", data.path());
    let out = broker(&["revoke", &id], data.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let unknown = uuid::Uuid::new_v4().to_string();

    for args in [
        ["revoke", unknown.as_str()],
        ["rotate", unknown.as_str()],
        ["revoke", "not-an-id"],
        ["rotate", "not-an-id"],
    ] {
        let out = broker(&args, data.path());
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains("no broker"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(
            stdout(&out).is_empty(),
            "no token printed: {}",
            stdout(&out)
        );
    }
    let out = broker(&["rotate", &id], data.path());
    assert!(!out.status.success());
    assert!(stderr(&out).contains("revoked"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "no token for a revoked broker");
}

#[test]
fn a_bad_broker_name_is_refused_and_adds_nothing() {
    let data = tempfile::tempdir().unwrap();
    let too_long = "x".repeat(101);

    for name in ["", "   ", too_long.as_str(), "two\nlines"] {
        let out = broker(&["add", "--name", name], data.path());
        assert!(!out.status.success(), "{name:?}");
        assert!(stdout(&out).is_empty(), "no token printed for {name:?}");
    }

    let listed = broker(&["list"], data.path());
    assert!(listed.status.success());
    assert_eq!(stdout(&listed), "");
}

#[tokio::test]
async fn every_broker_command_refuses_at_once_while_the_server_runs() {
    // Arrange: a broker, then a server on the same data directory.
    let data = tempfile::tempdir().unwrap();
    let (id, token) = add("Tokio Brokers", data.path());
    let server = spawn_process(data.path(), &shipped_questionnaires());

    // Act and assert: each command fails, says why, and changes nothing. At once: the
    // server holds the lock for the whole test, so a command that waited for it would
    // never exit, and is killed as hung.
    for args in [
        vec!["add", "--name", "Latecomer"],
        vec!["list"],
        vec!["revoke", id.as_str()],
        vec!["rotate", id.as_str()],
    ] {
        let out = output_within_patience(&mut broker_command(&args, data.path()));
        assert!(!out.status.success(), "{args:?}");
        assert!(
            stderr(&out).contains("in use"),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(!stdout(&out).contains(&token));
    }
    assert_eq!(portfolio_status(&server, &token).await, 200);
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "{logs}");
    let listed = stdout(&broker(&["list"], data.path()));
    assert_eq!(listed.lines().count(), 1, "nothing added: {listed}");
    assert!(listed.contains("\tactive"), "nothing revoked: {listed}");
}

#[test]
fn a_short_admin_token_stops_the_server_at_start() {
    let data = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(crate::helpers::binary())
        .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .env("SHINDAN_ADMIN_TOKEN", "too-short")
        .output()
        .expect("the binary runs");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("SHINDAN_ADMIN_TOKEN must have at least 32 characters"));
}
