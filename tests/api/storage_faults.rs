//! A full disk, for real: the binary on a small tmpfs data directory, filled through the
//! API until it answers 503 `storage_unavailable`, in two ways.
//!
//! 1. With a reserve (`--reserve-mb`), as served by default: writes are refused while the
//!    disk still has the reserve free, with `Retry-After`, JSON or the ja/en page;
//!    `/healthz` says why; every acknowledged write reads back while degraded; once there
//!    is room (the tmpfs grown) writes are taken again, without a restart.
//! 2. With no reserve, the disk full to the last block inside sled: writes are refused
//!    until a restart, reads answer 200 or 503 (never a 500), the server stops without a
//!    panic, a start on the full disk is refused with a message.
//!
//! Then a restart with room, and every write acknowledged in either phase (a 201, 200 or
//! 303) is found, exactly as acknowledged.
//!
//! Mounting needs root. Without it the test prints a SKIPPED line and passes, unless
//! `SHINDAN_TEST_TMPFS=require` is set: `.ci/run` sets it, so CI fails rather than skip.
//! No sleeps: each fill runs until the server's first 503, however fast the machine.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Instant;

use reqwest::Response;
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::helpers::{
    binary, client, expect_error, small_questionnaires, spawn_process_with, PATIENCE,
};

/// The size of the disk: small, so that it fills in seconds.
const FULL_SIZE: &str = "12m";
/// The reserve of phase 1, in MiB: a quarter of the disk.
const RESERVE_MB: &str = "4";
/// The limit of new assessments per address, raised: the test fills a disk from one
/// address.
const UNLIMITED: &str = "100000000";
/// What the operator grows the disk to in phase 1, without a restart.
const GROWN_SIZE: &str = "16m";
/// The size the last restart gets.
const ROOMY_SIZE: &str = "32m";
/// Concurrent writers while filling.
const WRITERS: usize = 4;
/// Any more writes than this and the disk did not fill: something is wrong with the test.
const MAX_WRITES: usize = 200_000;
/// What the server says on `/healthz` once the disk filled up.
const DEGRADED: &str = "degraded: storage unavailable (disk full)";
/// The `Retry-After` of every 503 (`web::error::STORAGE_RETRY_AFTER_SECS`).
const RETRY_AFTER: &str = "60";
/// Set to `require` to fail instead of skipping when a tmpfs cannot be mounted.
const REQUIRE_VAR: &str = "SHINDAN_TEST_TMPFS";

/// A line the test harness does not capture: a skip and the figures show in CI's log.
fn report(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A tmpfs mounted on a temporary directory; unmounted when dropped, whatever happened.
struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Gives the file system a new size, keeping its files: the operator making room.
    fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "remount: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Takes whatever room is left, so the file system is full to the last block.
    fn fill_up(&self) {
        let mut ballast = std::fs::File::create(self.path().join("ballast")).expect("ballast");
        let block = [0u8; 4096];
        loop {
            match ballast.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    assert_eq!(e.kind(), std::io::ErrorKind::StorageFull, "{e}");
                    break;
                }
            }
        }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Something still holds it (a server a failed assertion left running).
            let _ = Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }
}

/// A write the server acknowledged, and what it promised.
#[derive(Debug, Clone)]
enum Ack {
    /// 201 to a one-request submission: the report exists.
    Submitted { report: String },
    /// 201 to a draft; then maybe 200 to a PATCH setting q1 to "no", then 200 to its
    /// submit. What was refused with 503 may or may not have been stored.
    Draft {
        id: String,
        edit: String,
        patched: bool,
        submitted: bool,
    },
    /// 303 to the form's `/start`: the private link works.
    Form { edit: String },
}

/// What came of one request while filling.
enum Answer {
    Acknowledged(Response),
    /// 503 `storage_unavailable`, checked.
    Full,
}

/// A success, or the 503 the test waits for; anything else (a 500 above all) fails it.
async fn answer(res: Response, success: u16, what: &str) -> Answer {
    if res.status() == success {
        return Answer::Acknowledged(res);
    }
    if res.status() == 503 {
        assert_eq!(
            res.headers()["retry-after"].to_str().unwrap(),
            RETRY_AFTER,
            "{what}"
        );
        let html = res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html");
        if html {
            let page = res.text().await.unwrap();
            assert!(page.contains("ただいま保存できません"), "{what}: {page}");
        } else {
            expect_error(res, 503, "storage_unavailable").await;
        }
        return Answer::Full;
    }
    let status = res.status();
    panic!("{what}: {status} {}", res.text().await.unwrap_or_default());
}

/// One round of writer `w`'s kind of write; what the server acknowledged, and whether the
/// disk was full.
async fn write_once(w: usize, base: &str, http: &reqwest::Client) -> (Option<Ack>, bool) {
    let answers = json!({"q1": "yes", "q2": "no", "q3": "na", "q4": "b"});
    match w % 3 {
        0 => {
            let body = json!({"questionnaire": "fixture", "answers": answers, "submit": true});
            let res = http
                .post(format!("{base}/api/v1/assessments"))
                .json(&body)
                .send()
                .await
                .expect("POST");
            match answer(res, 201, "a submission").await {
                Answer::Full => (None, true),
                Answer::Acknowledged(res) => {
                    let created: Value = res.json().await.unwrap();
                    let report = created["report_token"].as_str().unwrap().to_string();
                    (Some(Ack::Submitted { report }), false)
                }
            }
        }
        1 => {
            let body = json!({"questionnaire": "fixture", "answers": answers});
            let res = http
                .post(format!("{base}/api/v1/assessments"))
                .json(&body)
                .send()
                .await
                .expect("POST");
            let created: Value = match answer(res, 201, "a draft").await {
                Answer::Full => return (None, true),
                Answer::Acknowledged(res) => res.json().await.unwrap(),
            };
            let id = created["id"].as_str().unwrap().to_string();
            let edit = created["edit_token"].as_str().unwrap().to_string();
            let mut ack = Ack::Draft {
                id: id.clone(),
                edit: edit.clone(),
                patched: false,
                submitted: false,
            };
            let res = http
                .patch(format!("{base}/api/v1/assessments/{id}"))
                .bearer_auth(&edit)
                .json(&json!({"answers": {"q1": "no"}}))
                .send()
                .await
                .expect("PATCH");
            if let Answer::Full = answer(res, 200, "a PATCH").await {
                return (Some(ack), true);
            }
            if let Ack::Draft { patched, .. } = &mut ack {
                *patched = true;
            }
            let res = http
                .post(format!("{base}/api/v1/assessments/{id}/submit"))
                .bearer_auth(&edit)
                .send()
                .await
                .expect("submit");
            if let Answer::Full = answer(res, 200, "a draft's submit").await {
                return (Some(ack), true);
            }
            if let Ack::Draft { submitted, .. } = &mut ack {
                *submitted = true;
            }
            (Some(ack), false)
        }
        _ => {
            let res = http
                .post(format!("{base}/start"))
                .form(&[("questionnaire", "fixture")])
                .send()
                .await
                .expect("POST /start");
            match answer(res, 303, "the form's /start").await {
                Answer::Full => (None, true),
                Answer::Acknowledged(res) => {
                    let location = res.headers()["location"].to_str().unwrap();
                    let edit = location
                        .strip_prefix("/a/")
                        .and_then(|r| r.strip_suffix("/profile"))
                        .expect("the profile step")
                        .to_string();
                    (Some(Ack::Form { edit }), false)
                }
            }
        }
    }
}

/// Writes with `WRITERS` tasks until the server answers 503; everything acknowledged.
async fn fill(base: &str) -> Vec<Ack> {
    let acks: Arc<Mutex<Vec<Ack>>> = Arc::default();
    let full = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (acks, full, base) = (acks.clone(), full.clone(), base.to_string());
            tokio::spawn(async move {
                let http = client();
                while !full.load(Ordering::Relaxed) {
                    let (ack, was_full) = write_once(w, &base, &http).await;
                    let mut acks = acks.lock().unwrap();
                    acks.extend(ack);
                    assert!(acks.len() < MAX_WRITES, "the disk never filled up");
                    if was_full {
                        full.store(true, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    let waited = tokio::time::timeout(PATIENCE, async {
        for w in writers {
            w.await.expect("a writer failed");
        }
    })
    .await;
    let acks = acks.lock().unwrap().clone();
    assert!(
        waited.is_ok(),
        "no 503 within {PATIENCE:?} ({} writes acknowledged)",
        acks.len()
    );
    acks
}

/// Starts `shindan serve` on a full disk: it must stop with a message naming the full
/// disk, never panic and never serve. Returns the message.
fn start_on_a_full_disk(data: &Path) -> String {
    let mut child = Command::new(binary())
        .args(["serve", "--bind", "127.0.0.1:0", "--workers", "1"])
        .arg("--data-dir")
        .arg(data)
        .arg("--questionnaires")
        .arg(small_questionnaires())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut output = String::new();
    loop {
        match rx.recv_timeout(PATIENCE) {
            Ok(line) => {
                if line.contains("listening") {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("the server started on a full disk: {output}{line}");
                }
                output.push_str(&line);
                output.push('\n');
            }
            // Its stderr closed: it exited.
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = child.kill();
                panic!("a start on a full disk hung: {output}");
            }
        }
    }
    let status = child.wait().expect("wait");
    assert!(!status.success(), "{output}");
    assert!(!output.contains("panicked"), "{output}");
    output
}

/// Whether a read was refused with 503 `storage_unavailable` (checked: `Retry-After`, the
/// code or the page); panics on any other failure.
async fn refused(res: Response, what: &str) -> bool {
    match res.status().as_u16() {
        200 => false,
        503 => {
            assert_eq!(retry_after(&res), RETRY_AFTER, "{what}");
            if res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
            {
                let page = res.text().await.unwrap();
                assert!(page.contains("ただいま保存できません"), "{what}: {page}");
            } else {
                expect_error(res, 503, "storage_unavailable").await;
            }
            true
        }
        status => panic!("{what}: {status} {}", res.text().await.unwrap_or_default()),
    }
}

/// Reads back one acknowledged write and checks it is as acknowledged; `false` when the
/// read was refused with 503.
async fn read_back(http: &reqwest::Client, base: &str, ack: &Ack) -> bool {
    match ack {
        Ack::Submitted { report } => {
            let res = http
                .get(format!("{base}/api/v1/reports/{report}"))
                .send()
                .await
                .unwrap();
            !refused(res, &format!("acknowledged submission {ack:?}")).await
        }
        Ack::Draft {
            id,
            edit,
            patched,
            submitted,
        } => {
            let res = http
                .get(format!("{base}/api/v1/assessments/{id}"))
                .bearer_auth(edit)
                .send()
                .await
                .unwrap();
            let status = res.status();
            let a: Value = res.json().await.unwrap();
            if status == 503 {
                assert_eq!(a["error"]["code"], "storage_unavailable", "{a}");
                return false;
            }
            assert_eq!(status, 200, "acknowledged draft {ack:?}: {a}");
            if *patched {
                assert_eq!(a["answers"]["q1"], "no", "acknowledged PATCH lost: {a}");
            }
            if *submitted {
                assert_eq!(a["status"], "submitted", "acknowledged submit lost: {a}");
            }
            true
        }
        Ack::Form { edit } => {
            let res = http
                .get(format!("{base}/a/{edit}/profile"))
                .send()
                .await
                .unwrap();
            !refused(res, "an acknowledged form start").await
        }
    }
}

/// Reads back every acknowledged write (`WRITERS` tasks, each every `WRITERS`th); how many
/// reads were refused with 503.
async fn read_all(base: &str, acks: &[Ack]) -> usize {
    let acks: Arc<Vec<Ack>> = Arc::new(acks.to_vec());
    let readers: Vec<_> = (0..WRITERS)
        .map(|c| {
            let (acks, base) = (acks.clone(), base.to_string());
            tokio::spawn(async move {
                let http = client();
                let mut refusals = 0;
                for ack in acks.iter().skip(c).step_by(WRITERS) {
                    if !read_back(&http, &base, ack).await {
                        refusals += 1;
                    }
                }
                refusals
            })
        })
        .collect();
    let mut refusals = 0;
    for r in readers {
        refusals += r.await.expect("a reader failed");
    }
    refusals
}

fn retry_after(res: &Response) -> &str {
    res.headers()["retry-after"].to_str().unwrap()
}

/// `GET /healthz`: its status and body.
async fn health(http: &reqwest::Client, base: &str) -> (u16, String) {
    let res = http.get(format!("{base}/healthz")).send().await.unwrap();
    let status = res.status().as_u16();
    if status == 503 {
        assert_eq!(retry_after(&res), RETRY_AFTER);
    }
    (status, res.text().await.unwrap())
}

/// A complete one-request submission.
fn submission() -> Value {
    json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "no", "q3": "na", "q4": "b"}, "submit": true})
}

/// A new submission; its acknowledgement, or the refusal's status.
async fn submit_one(http: &reqwest::Client, base: &str) -> Result<Ack, Response> {
    let res = http
        .post(format!("{base}/api/v1/assessments"))
        .json(&submission())
        .send()
        .await
        .unwrap();
    if res.status() != 201 {
        return Err(res);
    }
    let created: Value = res.json().await.unwrap();
    Ok(Ack::Submitted {
        report: created["report_token"].as_str().unwrap().to_string(),
    })
}

/// Every kind of write on a server whose disk is full: 503 with `Retry-After` and the code,
/// or the page in the reader's language; `draft` (id, edit token) is left unchanged.
async fn every_write_is_refused(http: &reqwest::Client, base: &str, draft: (&str, &str)) {
    let (id, edit) = draft;
    let res = submit_one(http, base)
        .await
        .expect_err("a write on a full disk");
    assert_eq!(retry_after(&res), RETRY_AFTER);
    expect_error(res, 503, "storage_unavailable").await;
    let res = http
        .patch(format!("{base}/api/v1/assessments/{id}"))
        .bearer_auth(edit)
        .json(&json!({"answers": {"q1": "no"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(retry_after(&res), RETRY_AFTER);
    expect_error(res, 503, "storage_unavailable").await;
    let res = http
        .post(format!("{base}/api/v1/assessments/{id}/submit"))
        .bearer_auth(edit)
        .send()
        .await
        .unwrap();
    assert_eq!(retry_after(&res), RETRY_AFTER);
    expect_error(res, 503, "storage_unavailable").await;
    for (accept, title) in [
        ("ja", "ただいま保存できません"),
        ("en", "Saving is unavailable right now"),
    ] {
        let res = http
            .post(format!("{base}/start"))
            .header("accept-language", accept)
            .form(&[("questionnaire", "fixture")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 503);
        assert_eq!(retry_after(&res), RETRY_AFTER);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let page = res.text().await.unwrap();
        assert!(page.contains(title), "{accept}: {page}");
    }
}

#[tokio::test]
async fn a_full_disk_answers_503_serves_reads_and_loses_nothing_acknowledged() {
    let tmpfs = match Tmpfs::mount(FULL_SIZE) {
        Ok(t) => t,
        Err(e) if std::env::var(REQUIRE_VAR).as_deref() == Ok("require") => {
            panic!("{REQUIRE_VAR}=require, but a tmpfs cannot be mounted: {e}")
        }
        Err(e) => {
            report(&format!(
                "SKIPPED storage_faults::a_full_disk_answers_503_serves_reads_and_loses_nothing_acknowledged: \
                 cannot mount a tmpfs (run as root; CI does): {e}"
            ));
            return;
        }
    };
    let data = tmpfs.path().join("data");
    let http = client();

    // Phase 1: the reserve.
    let server = spawn_process_with(
        &data,
        &small_questionnaires(),
        &["--reserve-mb", RESERVE_MB, "--create-rate", UNLIMITED],
    );
    let base = server.address.clone();
    // A draft that the refused writes must leave alone.
    let res = http
        .post(format!("{base}/api/v1/assessments"))
        .json(&json!({"questionnaire": "fixture", "answers": {"q1": "yes"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let draft: Value = res.json().await.unwrap();
    let (draft_id, draft_edit) = (
        draft["id"].as_str().unwrap().to_string(),
        draft["edit_token"].as_str().unwrap().to_string(),
    );
    let kept_draft = Ack::Draft {
        id: draft_id.clone(),
        edit: draft_edit.clone(),
        patched: false,
        submitted: false,
    };

    let started = Instant::now();
    let mut acks = fill(&base).await;
    let fill_1 = (acks.len(), started.elapsed());

    assert_eq!(health(&http, &base).await, (503, DEGRADED.to_string()));
    every_write_is_refused(&http, &base, (&draft_id, &draft_edit)).await;
    let res = http
        .get(format!("{base}/api/v1/assessments/{draft_id}"))
        .bearer_auth(&draft_edit)
        .send()
        .await
        .unwrap();
    let kept: Value = res.json().await.unwrap();
    assert_eq!(
        (&kept["answers"]["q1"], &kept["status"]),
        (&json!("yes"), &json!("draft")),
        "{kept}"
    );
    // Below the reserve every read goes on.
    acks.push(kept_draft);
    let read = Instant::now();
    assert_eq!(
        read_all(&base, &acks).await,
        0,
        "a read refused with the disk at its reserve"
    );
    let read_1 = read.elapsed();

    // The operator makes room: writes are taken again, without a restart.
    tmpfs.resize(GROWN_SIZE);
    assert_eq!(health(&http, &base).await, (200, "ok".to_string()));
    acks.push(
        submit_one(&http, &base)
            .await
            .expect("a write with room again"),
    );
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "{logs}");

    // Phase 2: no reserve; sled itself meets the full disk.
    let server = spawn_process_with(
        &data,
        &small_questionnaires(),
        &["--reserve-mb", "0", "--create-rate", UNLIMITED],
    );
    let base = server.address.clone();
    let started = Instant::now();
    let acks_2 = fill(&base).await;
    let fill_2 = (acks_2.len(), started.elapsed());
    acks.extend(acks_2);

    assert_eq!(health(&http, &base).await, (503, DEGRADED.to_string()));
    every_write_is_refused(&http, &base, (&draft_id, &draft_edit)).await;
    // sled also writes while reading (it splits nodes on the way): after its failed write
    // some reads are refused too, with 503, never a 500.
    let refused_reads = read_all(&base, &acks).await;
    assert!(refused_reads < acks.len(), "no read works at all");

    // It stops without a panic, and says that its last flush failed.
    let (code, logs) = server.terminate();
    assert!(!logs.contains("panicked"), "{logs}");
    assert_eq!(code, Some(1), "{logs}");
    assert!(logs.contains("storage unavailable (disk full)"), "{logs}");

    // Full to the last block, it does not start, and says why.
    tmpfs.fill_up();
    let refused = start_on_a_full_disk(&data);
    assert!(refused.contains("the disk is full"), "{refused}");

    // A restart with room: every acknowledged write is there, as acknowledged.
    tmpfs.resize(ROOMY_SIZE);
    let server = spawn_process_with(
        &data,
        &small_questionnaires(),
        &["--reserve-mb", RESERVE_MB, "--create-rate", UNLIMITED],
    );
    let base = server.address.clone();
    let read = Instant::now();
    assert_eq!(
        read_all(&base, &acks).await,
        0,
        "a read refused after the restart"
    );
    let read_all_time = read.elapsed();
    assert_eq!(health(&http, &base).await, (200, "ok".to_string()));
    submit_one(&http, &base)
        .await
        .expect("a write after the restart");
    let (code, logs) = server.terminate();
    assert_eq!(code, Some(0), "{logs}");

    // Every stored record reads back whole.
    let store = shindan::store::Store::open(&data).unwrap();
    assert!(
        store.records().all(|r| r.is_ok()),
        "a record does not decode"
    );
    drop(store);

    let count = |f: fn(&Ack) -> bool| acks.iter().filter(|a| f(a)).count();
    report(&format!(
        "storage_faults: {FULL_SIZE} tmpfs. Phase 1 (reserve {RESERVE_MB} MiB): {} writes \
         acknowledged before the first 503, in {:.1} s; all read back while degraded ({:.1} s); \
         writes taken again once grown to {GROWN_SIZE}. Phase 2 (no reserve, sled meets \
         ENOSPC): {} more in {:.1} s; then {} of {} reads refused with 503. After a restart with \
         {ROOMY_SIZE}, all {} acknowledged writes found ({} one-request submissions, {} drafts of \
         which {} patched and {} submitted, {} form starts) in {:.1} s.",
        fill_1.0,
        fill_1.1.as_secs_f64(),
        read_1.as_secs_f64(),
        fill_2.0,
        fill_2.1.as_secs_f64(),
        refused_reads,
        acks.len(),
        acks.len(),
        count(|a| matches!(a, Ack::Submitted { .. })),
        count(|a| matches!(a, Ack::Draft { .. })),
        count(|a| matches!(a, Ack::Draft { patched: true, .. })),
        count(|a| matches!(
            a,
            Ack::Draft {
                submitted: true,
                ..
            }
        )),
        count(|a| matches!(a, Ack::Form { .. })),
        read_all_time.as_secs_f64(),
    ));
}
