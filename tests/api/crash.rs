//! `kill -9` under load, twenty times in a row: the store reopens every time and every
//! submission that was acknowledged with a 201 is still there.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{client, small_questionnaires, spawn_process};

const ROUNDS: u64 = 20;
const WRITERS: usize = 8;

#[tokio::test]
async fn every_acknowledged_submission_survives_kill_9_twenty_times() {
    let data = tempfile::tempdir().unwrap();
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    for round in 0..ROUNDS {
        let server = spawn_process(data.path(), &small_questionnaires());
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|_| {
                let (stop, acknowledged) = (stop.clone(), acknowledged.clone());
                let url = format!("{}/api/v1/assessments", server.address);
                tokio::spawn(async move {
                    let client = client();
                    let body = json!({"questionnaire": "fixture", "answers": {"q1": "yes", "q2": "no", "q3": "na", "q4": "b"}, "submit": true});
                    while !stop.load(Ordering::Relaxed) {
                        let Ok(res) = client.post(&url).json(&body).send().await else { break };
                        if res.status() != 201 {
                            break;
                        }
                        let Ok(created) = res.json::<Value>().await else { break };
                        acknowledged.lock().unwrap().push(created["report_token"].as_str().unwrap().to_string());
                    }
                })
            })
            .collect();
        // Kill at a different moment each round, while requests are in flight.
        tokio::time::sleep(Duration::from_millis(60 + (round * 37) % 240)).await;
        server.kill_hard();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            let _ = w.await;
        }
    }

    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > ROUNDS as usize * 10,
        "the load did reach the server: {}",
        acknowledged.len()
    );
    let server = spawn_process(data.path(), &small_questionnaires());
    let client = client();
    for token in &acknowledged {
        let res = client
            .get(format!("{}/api/v1/reports/{token}", server.address))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "acknowledged report {token} is lost");
    }
    server.terminate();

    // The peer statistics count exactly the submitted records: they were never torn apart.
    let store = shindan::store::Store::open(data.path()).unwrap();
    let submitted = store
        .records()
        .filter(|r| r.as_ref().unwrap().status == shindan::store::Status::Submitted)
        .count();
    assert!(submitted >= acknowledged.len());
    let stats = store.peer_stats("fixture", "1", None).unwrap();
    assert_eq!(stats.count as usize, submitted);
}
