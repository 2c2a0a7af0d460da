//! Peer snapshots, in their own tree (`peer-snapshots-v1`): the key `current` holds the
//! latest [`PeerSnapshot`] (JSON). Only the latest is kept: reports compare with it alone,
//! and it carries what the next one needs (each segment's members as last published).
//!
//! Taking one reads every stored record (a company counts with its latest submission,
//! whatever order it arrived in), so it runs on the caller's thread, one at a time, and
//! never on a request worker (the admin API hands it to a blocking thread). What reports
//! show is derived once per snapshot ([`Published`]) and kept in memory, so a report costs
//! a lookup, not a scan.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::{Store, StoreError, RECORD};
use crate::assessment::COMPANY_NAME_FIELD;
use crate::peers::{
    next_snapshot, CompanyKey, CompanyScores, PeerSnapshot, Published, Submission, TooFewChanges,
};
use crate::record::{QuestionnaireRef, Status, SEGMENT_FIELD};
use crate::scoring::Scores;

const TREE: &str = "peer-snapshots-v1";
const CURRENT: &[u8] = b"current";

/// The snapshot tree and what is derived from it.
pub(super) struct Snapshots {
    tree: sled::Tree,
    published: RwLock<Option<Arc<Published>>>,
    /// Held while a snapshot is taken: two at once would both compare with the same
    /// previous one.
    taking: Mutex<()>,
    attempts: AtomicU64,
}

impl Snapshots {
    pub(super) fn open(db: &sled::Db) -> Result<Snapshots, StoreError> {
        let tree = db.open_tree(TREE)?;
        let published = read(&tree)?.map(|s| Arc::new(Published::of(&s)));
        Ok(Snapshots {
            tree,
            published: RwLock::new(published),
            taking: Mutex::new(()),
            attempts: AtomicU64::new(0),
        })
    }

    fn set(&self, snapshot: &PeerSnapshot) -> Result<Arc<Published>, StoreError> {
        let value = serde_json::to_vec(snapshot).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.tree.insert(CURRENT, value)?;
        let published = Arc::new(Published::of(snapshot));
        *self
            .published
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(published.clone());
        Ok(published)
    }
}

fn read(tree: &sled::Tree) -> Result<Option<PeerSnapshot>, StoreError> {
    tree.get(CURRENT)?
        .map(|v| {
            serde_json::from_slice(&v)
                .map_err(|e| StoreError::Corrupt(format!("the peer snapshot: {e}")))
        })
        .transpose()
}

/// The part of a stored record that the statistics read.
#[derive(Deserialize)]
struct Counted {
    id: Uuid,
    questionnaire: QuestionnaireRef,
    status: Status,
    #[serde(default)]
    profile: BTreeMap<String, Value>,
    #[serde(default)]
    submitted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    scores: Option<Scores>,
}

/// A stored record as a submission to count, or `None` for a draft.
fn submission(bytes: &[u8]) -> Result<Option<Submission>, StoreError> {
    let r: Counted =
        serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let (Status::Submitted, Some(scores)) = (r.status, &r.scores) else {
        return Ok(None);
    };
    let text = |field: &str| r.profile.get(field).and_then(Value::as_str);
    Ok(Some(Submission {
        company: CompanyKey::of(text(COMPANY_NAME_FIELD), r.id),
        scores: CompanyScores::new(
            r.id,
            r.submitted_at,
            text(SEGMENT_FIELD).map(str::to_string),
            scores,
        ),
        questionnaire: r.questionnaire.id,
        version: r.questionnaire.version,
    }))
}

impl Store {
    /// What the latest peer snapshot publishes; `None` before the first one.
    pub fn published_peers(&self) -> Option<Arc<Published>> {
        self.snapshots
            .published
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The latest peer snapshot as stored.
    pub fn peer_snapshot(&self) -> Result<Option<PeerSnapshot>, StoreError> {
        read(&self.snapshots.tree)
    }

    /// Takes a peer snapshot dated `now` from every submitted assessment and makes it
    /// durable, or refuses when too few companies changed since the last one (then nothing
    /// is written). Reads every record: call it off the request workers.
    #[tracing::instrument(skip_all)]
    pub fn take_peer_snapshot(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Result<Arc<Published>, TooFewChanges>, StoreError> {
        let _one_at_a_time = self
            .snapshots
            .taking
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let result = self.try_snapshot(now);
        self.snapshots.attempts.fetch_add(1, Ordering::Release);
        result
    }

    fn try_snapshot(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Result<Arc<Published>, TooFewChanges>, StoreError> {
        let previous = self.peer_snapshot()?;
        let mut failure = None;
        let submissions = self.tree.scan_prefix([RECORD]).filter_map(|item| {
            match item
                .map_err(StoreError::from)
                .and_then(|(_, v)| submission(&v))
            {
                Ok(s) => s,
                Err(e) => {
                    failure.get_or_insert(e);
                    None
                }
            }
        });
        let next = next_snapshot(previous.as_ref(), submissions, Uuid::new_v4(), now);
        if let Some(e) = failure {
            return Err(e);
        }
        let snapshot = match next {
            Ok(s) => s,
            Err(few) => return Ok(Err(few)),
        };
        // Through `write`: refused below the reserve or after a failure, like every write.
        let published = self.write(|| self.snapshots.set(&snapshot))?;
        self.flush_now()?;
        Ok(Ok(published))
    }

    /// How many snapshots were attempted since the store opened, taken or refused (for
    /// tests and monitoring: the scheduler's work can be counted, not timed).
    pub fn peer_snapshot_attempts(&self) -> u64 {
        self.snapshots.attempts.load(Ordering::Acquire)
    }

    /// Stores a snapshot read from a backup.
    pub(super) fn restore_peer_snapshot(&self, snapshot: &PeerSnapshot) -> Result<(), StoreError> {
        self.snapshots.set(snapshot).map(|_| ())
    }
}
