//! The one thread that makes writes durable, and the only one that commits submissions.
//!
//! Handlers send it jobs: "flush what I wrote" (drafts), or a submission to commit. It
//! takes every job waiting, commits all submissions of the group in one sled transaction,
//! runs sled's flush, `fdatasync`s the database file, then answers every job of the group.
//! One transaction per group keeps sled's transaction lock (which serialises everything)
//! to a few short moments per flush.

use std::any::Any;
use std::cell::RefCell;
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::thread;

use sled::transaction::{ConflictableTransactionError, TransactionError};
use tokio::sync::oneshot;

use super::record::AssessmentRecord;
use super::StoreError;

/// A refusal from a submission's change, passed through the thread untyped.
pub(super) type Refusal = Box<dyn Any + Send>;
/// The change that turns a draft into a submitted record, or refuses.
pub(super) type Change = Box<dyn FnMut(&mut AssessmentRecord) -> Result<(), Refusal> + Send>;

/// A submission to commit.
pub(super) enum Commit {
    /// A new record that is already submitted, with every key it is stored under.
    Insert {
        entries: Vec<super::Entry>,
        record: Box<AssessmentRecord>,
    },
    /// An existing record (by its key) to submit.
    Submit { record_key: Vec<u8>, change: Change },
}

/// What became of one submission.
pub(super) enum Outcome {
    Done(Box<AssessmentRecord>),
    NotFound,
    Refused(Refusal),
    /// The stored record could not be read.
    Failed(String),
}

type FlushReply = oneshot::Sender<Result<(), String>>;
type CommitReply = oneshot::Sender<Result<Outcome, String>>;

enum Job {
    Flush(FlushReply),
    Commit(Commit, CommitReply),
}

pub(super) struct Flusher {
    jobs: mpsc::Sender<Job>,
    db: sled::Db,
    db_file: std::sync::Arc<File>,
    syncs: std::sync::Arc<AtomicU64>,
}

/// sled's flush, then `fdatasync` of its database file; counts the syncs that succeeded.
fn flush(db: &sled::Db, db_file: &File, syncs: &AtomicU64) -> Result<(), String> {
    db.flush().map_err(|e| e.to_string())?;
    db_file.sync_data().map_err(|e| e.to_string())?;
    syncs.fetch_add(1, Ordering::Release);
    Ok(())
}

/// Commits a group of submissions in one transaction; one outcome per submission.
fn commit_group(tree: &sled::Tree, commits: Vec<Commit>) -> Result<Vec<Outcome>, String> {
    let commits = RefCell::new(commits);
    let result = tree.transaction(|tx| {
        let mut commits = commits.borrow_mut();
        let mut outcomes = Vec::with_capacity(commits.len());
        for commit in commits.iter_mut() {
            match commit {
                Commit::Insert { entries, record } => {
                    for (k, v) in entries.iter() {
                        tx.insert(k.as_slice(), v.as_slice())?;
                    }
                    outcomes.push(Outcome::Done(record.clone()));
                }
                Commit::Submit { record_key, change } => {
                    let Some(old) = tx.get(record_key.as_slice())? else {
                        outcomes.push(Outcome::NotFound);
                        continue;
                    };
                    // A record that cannot be read fails its own submission, not the group.
                    let mut record = match AssessmentRecord::decode(&old) {
                        Ok(r) => r,
                        Err(e) => {
                            tracing::error!(error = %e, "unreadable record at submission");
                            outcomes.push(Outcome::Failed(e.to_string()));
                            continue;
                        }
                    };
                    if let Err(refusal) = change(&mut record) {
                        outcomes.push(Outcome::Refused(refusal));
                        continue;
                    }
                    let value = serde_json::to_vec(&record)
                        .map_err(|e| ConflictableTransactionError::Abort(e.to_string()))?;
                    tx.insert(record_key.as_slice(), value)?;
                    outcomes.push(Outcome::Done(Box::new(record)));
                }
            }
        }
        Ok(outcomes)
    });
    result.map_err(|e: TransactionError<String>| match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => e.to_string(),
    })
}

impl Flusher {
    pub(super) fn start(db: sled::Db, tree: sled::Tree, db_file: File) -> std::io::Result<Flusher> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let db_file = std::sync::Arc::new(db_file);
        let syncs = std::sync::Arc::new(AtomicU64::new(0));
        let (thread_db, thread_file, thread_syncs) = (db.clone(), db_file.clone(), syncs.clone());
        thread::Builder::new()
            .name("shindan-flusher".into())
            .spawn(move || {
                // After a failed flush the kernel may have dropped dirty pages, so a later
                // successful fdatasync would prove nothing: every write is refused from
                // then on, until the process restarts and sled recovers from its log.
                let mut failed: Option<String> = None;
                // Ends when every sender is gone, that is when the store is dropped.
                while let Ok(first) = rx.recv() {
                    let mut flushes = Vec::new();
                    let mut commits = Vec::new();
                    let mut replies = Vec::new();
                    for job in std::iter::once(first).chain(rx.try_iter()) {
                        match job {
                            Job::Flush(reply) => flushes.push(reply),
                            Job::Commit(commit, reply) => {
                                commits.push(commit);
                                replies.push(reply);
                            }
                        }
                    }
                    let outcomes = if let Some(e) = &failed {
                        Err(e.clone())
                    } else if commits.is_empty() {
                        Ok(Vec::new())
                    } else {
                        // A panic in one group must not stop every later write.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            commit_group(&tree, commits)
                        }))
                        .unwrap_or_else(|_| Err("the commit panicked".to_string()))
                    };
                    let flushed = match &failed {
                        Some(e) => Err(e.clone()),
                        None => flush(&thread_db, &thread_file, &thread_syncs),
                    };
                    if let (Err(e), None) = (&flushed, &failed) {
                        tracing::error!(error = %e, "flush failed; refusing writes until restart");
                        failed = Some(format!("an earlier flush failed: {e}"));
                    }
                    for reply in flushes {
                        let _ = reply.send(flushed.clone());
                    }
                    match outcomes.and_then(|o| flushed.clone().map(|()| o)) {
                        Ok(outcomes) => {
                            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                                let _ = reply.send(Ok(outcome));
                            }
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "commit failed");
                            for reply in replies {
                                let _ = reply.send(Err(e.clone()));
                            }
                        }
                    }
                }
            })?;
        Ok(Flusher {
            jobs,
            db,
            db_file,
            syncs,
        })
    }

    fn stopped() -> StoreError {
        StoreError::Storage("the flusher has stopped".into())
    }

    /// Resolves once a flush that started after this call has completed.
    pub(super) async fn wait(&self) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Flush(tx))
            .map_err(|_| Self::stopped())?;
        rx.await
            .map_err(|_| Self::stopped())?
            .map_err(StoreError::Storage)
    }

    /// Commits a submission with its group and resolves once it is on disk.
    pub(super) async fn commit(&self, commit: Commit) -> Result<Outcome, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Commit(commit, tx))
            .map_err(|_| Self::stopped())?;
        rx.await
            .map_err(|_| Self::stopped())?
            .map_err(StoreError::Storage)
    }

    pub(super) fn flush_now(&self) -> Result<(), StoreError> {
        flush(&self.db, &self.db_file, &self.syncs).map_err(StoreError::Storage)
    }

    pub(super) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Acquire)
    }
}
