//! `kill -9` under load, twenty times in a row: the store reopens every time and every
//! submission that was acknowledged (a 201 for a one-request submission, a 200 for a
//! draft's submit) is still there, submitted and counted in the peer statistics.
//!
//! Each round kills the server once it has acknowledged a counted number of writes, never
//! after a fixed time: the load a round carries is the same on a fast machine and on a
//! slow one.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;

use crate::helpers::{client, small_questionnaires, spawn_process, PATIENCE};

const ROUNDS: u64 = 20;
const WRITERS: usize = 8;
/// The fewest writes a round has the server acknowledge before the kill.
const ACKS_PER_ROUND: u64 = 11;

/// How many acknowledged writes round `round` waits for, and how long it then waits more
/// before the kill: both vary, so that the kill lands at a different point of the
/// write-and-sync cycle each round. The extra delay is short enough that writes are still
/// in flight when it ends, whatever the speed. At most 23 writes, well under the burst of
/// token requests the server allows a client (100), which the broker's invitations meet.
fn kill_point(round: u64) -> (u64, Duration) {
    let acks = ACKS_PER_ROUND + (round * 7) % 13;
    let extra = Duration::from_millis((round * 3) % 8);
    (acks, extra)
}

/// Starts the server on `data` `rounds` times; each time `WRITERS` tasks repeat `write`
/// (given the writer's number, a count and the server's address; it returns what the
/// server acknowledged, or `None` to stop) until the server is killed with `kill -9` at a
/// different point each round (see `kill_point`). Returns everything acknowledged.
async fn acknowledged_under_kill_9<F, Fut>(data: &Path, rounds: u64, write: F) -> Vec<String>
where
    F: Fn(usize, usize, String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Option<String>> + Send,
{
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    for round in 0..rounds {
        let server = spawn_process(data, &small_questionnaires());
        let stop = Arc::new(AtomicBool::new(false));
        // The writes acknowledged in this round. The writers hold the only sender, so the
        // wait below ends at once if they all stop before reaching the count.
        let (acks, mut acked) = watch::channel(0u64);
        let acks = Arc::new(acks);
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (stop, acknowledged, acks) = (stop.clone(), acknowledged.clone(), acks.clone());
                let (base, write) = (server.address.clone(), write.clone());
                tokio::spawn(async move {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let Some(ack) = write(w, n, base.clone()).await else {
                            break;
                        };
                        acknowledged.lock().unwrap().push(ack);
                        acks.send_modify(|count| *count += 1);
                    }
                })
            })
            .collect();
        drop(acks);

        let (target, extra) = kill_point(round);
        let reached = tokio::time::timeout(PATIENCE, acked.wait_for(|count| *count >= target))
            .await
            .map(|waited| waited.is_ok());
        let count = *acked.borrow();
        match reached {
            Ok(true) => {}
            Ok(false) => panic!(
                "round {round}: the writers stopped after {count} of {target} \
                 acknowledged writes; the server refused or failed: {}",
                server.logs.lock().unwrap()
            ),
            Err(_) => panic!(
                "round {round}: only {count} of {target} writes were acknowledged \
                 within {PATIENCE:?}"
            ),
        }
        // Kill while requests are in flight: the writers never pause between writes.
        tokio::time::sleep(extra).await;
        server.kill_hard();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            let _ = w.await;
        }
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > rounds as usize * 10,
        "the load did reach the server: {}",
        acknowledged.len()
    );
    acknowledged
}

/// One submission, in one request (even writers) or as a draft then its submit (odd ones);
/// its report token once acknowledged.
async fn submit_one(w: usize, base: &str) -> Option<String> {
    let client = client();
    let answers = json!({"q1": "yes", "q2": "no", "q3": "na", "q4": "b"});
    if w.is_multiple_of(2) {
        let body = json!({"questionnaire": "fixture", "answers": answers, "submit": true});
        let res = client
            .post(format!("{base}/api/v1/assessments"))
            .json(&body)
            .send()
            .await
            .ok()?;
        if res.status() != 201 {
            return None;
        }
        let created = res.json::<Value>().await.ok()?;
        return Some(created["report_token"].as_str()?.to_string());
    }
    let body = json!({"questionnaire": "fixture", "answers": answers});
    let res = client
        .post(format!("{base}/api/v1/assessments"))
        .json(&body)
        .send()
        .await
        .ok()?;
    let created = res.json::<Value>().await.ok()?;
    let (id, edit) = (created["id"].as_str()?, created["edit_token"].as_str()?);
    let res = client
        .post(format!("{base}/api/v1/assessments/{id}/submit"))
        .bearer_auth(edit)
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    Some(created["report_token"].as_str()?.to_string())
}

#[tokio::test]
async fn every_acknowledged_submission_survives_kill_9_twenty_times() {
    let data = tempfile::tempdir().unwrap();
    let acknowledged = acknowledged_under_kill_9(data.path(), ROUNDS, |w, _, base| async move {
        submit_one(w, &base).await
    })
    .await;

    let server = spawn_process(data.path(), &small_questionnaires());
    let client = client();
    for token in &acknowledged {
        let res = client
            .get(format!("{}/api/v1/reports/{token}", server.address))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "acknowledged report {token} is lost or not submitted"
        );
    }
    server.terminate();

    // A peer snapshot counts exactly the submitted records (the fixture names no company,
    // so each is its own).
    let store = shindan::store::Store::open(data.path()).unwrap();
    let submitted = store
        .records()
        .filter(|r| r.as_ref().unwrap().status == shindan::store::Status::Submitted)
        .count();
    assert!(submitted >= acknowledged.len());
    match store.take_peer_snapshot(chrono::Utc::now()).unwrap() {
        Ok(published) => assert_eq!(published.companies, submitted),
        Err(few) => assert!(submitted < shindan::peers::MIN_CHANGES, "{few}"),
    }
}

/// `kill -9` while a broker invites clients: every acknowledged invitation is in the
/// portfolio afterwards, and no portfolio entry is ever without its assessment or the
/// reverse (they are written in one batch).
#[tokio::test]
async fn invitations_and_their_portfolio_entries_are_never_torn_apart_by_kill_9() {
    const INVITE_ROUNDS: u64 = 8;
    let data = tempfile::tempdir().unwrap();
    let token = crate::helpers::cli_add_broker("A", data.path());
    let acknowledged = acknowledged_under_kill_9(data.path(), INVITE_ROUNDS, move |w, n, base| {
        let token = token.clone();
        async move {
            let body =
                json!({"questionnaire": "fixture", "client_name": format!("client {w}-{n}")});
            let res = client()
                .post(format!("{base}/api/v1/broker/invitations"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .ok()?;
            if res.status() != 201 {
                return None;
            }
            let created = res.json::<Value>().await.ok()?;
            Some(created["id"].as_str()?.to_string())
        }
    })
    .await;
    let store = shindan::store::Store::open(data.path()).unwrap();
    let broker = store.brokers().unwrap()[0].id;
    let invited: Vec<_> = store
        .records()
        .map(|r| r.unwrap())
        .filter(|r| r.invitation.is_some())
        .collect();
    for r in &invited {
        assert!(
            store.portfolio_item(broker, r.id).unwrap().is_some(),
            "invited record {} has no portfolio entry",
            r.id
        );
    }
    for id in &acknowledged {
        let id = uuid::Uuid::parse_str(id).unwrap();
        assert!(
            store.portfolio_item(broker, id).unwrap().is_some(),
            "acknowledged invitation {id} is lost"
        );
    }
    // The backup's header counts the raw portfolio entries: one per invited record, so no
    // entry lost its record either.
    let mut backup = Vec::new();
    store.export(&mut backup).unwrap();
    let header: Value =
        serde_json::from_slice(backup.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(
        header["portfolio_entries"].as_u64().unwrap() as usize,
        invited.len()
    );
}
