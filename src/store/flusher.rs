//! The one thread that makes writes durable, and the only one that commits submissions.
//!
//! Handlers send it jobs: "flush what I wrote" (drafts), or a submission to commit. It
//! takes every job waiting, commits all submissions of the group in one sled transaction,
//! runs sled's flush, `fdatasync`s the database file, then answers every job of the group.
//! One transaction per group keeps sled's transaction lock (which serialises everything)
//! to a few short moments per flush.
//!
//! A failed flush fails the store (`health.rs`): that group and every later job is
//! answered [`StoreError::Unavailable`], with the fault that caused it.

use std::any::Any;
use std::cell::RefCell;
use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, OnceLock};
use std::thread;
use std::time::Instant;

use sled::transaction::{ConflictableTransactionError, TransactionError};
use tokio::sync::oneshot;

use super::health::{Fault, Health};
use super::{decode_record, StoreError};
use crate::metrics::StoreMetrics;
use crate::record::AssessmentRecord;

/// Where the store records durable writes: set once, by [`super::Store::set_metrics`];
/// until then nothing is recorded.
pub(super) type MetricsSlot = Arc<OnceLock<StoreMetrics>>;

/// What records nothing, for a store without metrics.
static NO_METRICS: StoreMetrics = StoreMetrics::OFF;

pub(super) fn metrics_of(slot: &MetricsSlot) -> &StoreMetrics {
    slot.get().unwrap_or(&NO_METRICS)
}

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

type FlushReply = oneshot::Sender<Result<(), StoreError>>;
type CommitReply = oneshot::Sender<Result<Outcome, StoreError>>;

enum Job {
    Flush(FlushReply),
    Commit(Commit, CommitReply),
}

pub(super) struct Flusher {
    jobs: mpsc::Sender<Job>,
    db: sled::Db,
    db_file: Arc<File>,
    syncs: Arc<AtomicU64>,
    health: Arc<Health>,
    metrics: MetricsSlot,
}

/// sled's flush, then `fdatasync` of its database file; counts the syncs that succeeded.
/// Refused at once when the store has failed; a failure fails the store.
fn flush(
    db: &sled::Db,
    db_file: &File,
    syncs: &AtomicU64,
    health: &Health,
) -> Result<(), StoreError> {
    health.check()?;
    let flushed = db
        .flush()
        .map(|_| ())
        .map_err(StoreError::from)
        .and_then(|()| db_file.sync_data().map_err(StoreError::from));
    match flushed {
        Ok(()) => {
            syncs.fetch_add(1, Ordering::Release);
            Ok(())
        }
        Err(e) => Err(health.fail(&e)),
    }
}

/// Commits a group of submissions in one transaction; one outcome per submission.
fn commit_group(tree: &sled::Tree, commits: Vec<Commit>) -> Result<Vec<Outcome>, StoreError> {
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
                    let mut record = match decode_record(&old) {
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
        TransactionError::Abort(e) => StoreError::Corrupt(e),
        TransactionError::Storage(e) => e.into(),
    })
}

impl Flusher {
    pub(super) fn start(
        db: sled::Db,
        tree: sled::Tree,
        db_file: File,
        health: Arc<Health>,
        metrics: MetricsSlot,
    ) -> std::io::Result<Flusher> {
        let (jobs, rx) = mpsc::channel::<Job>();
        let db_file = Arc::new(db_file);
        let syncs = Arc::new(AtomicU64::new(0));
        let (thread_db, thread_file, thread_syncs, thread_health, thread_metrics) = (
            db.clone(),
            db_file.clone(),
            syncs.clone(),
            health.clone(),
            metrics.clone(),
        );
        thread::Builder::new()
            .name("shindan-flusher".into())
            .spawn(move || {
                let health = thread_health;
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
                    let outcomes = if let Err(e) = health.check() {
                        Err(e)
                    } else if commits.is_empty() {
                        Ok(Vec::new())
                    } else {
                        // A panic in one group must not stop every later write.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            commit_group(&tree, commits)
                        }))
                        .unwrap_or_else(|_| Err(StoreError::Storage("the commit panicked".into())))
                        .map_err(|e| health.note(e))
                    };
                    // After a failed flush the kernel may have dropped dirty pages, so a
                    // later successful fdatasync would prove nothing: `flush` fails the
                    // store, and every later job is refused until the process restarts
                    // and sled recovers from its log.
                    let flushed = flush(&thread_db, &thread_file, &thread_syncs, &health);
                    if flushed.is_ok() {
                        metrics_of(&thread_metrics).flush_group(flushes.len() + replies.len());
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
                            if !replies.is_empty() {
                                tracing::warn!(error = %e, "submissions not committed");
                            }
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
            health,
            metrics,
        })
    }

    /// The thread is gone (it only ends with the store, or by a panic outside a commit):
    /// nothing can be made durable any more.
    fn stopped(&self) -> StoreError {
        self.health.fail(&StoreError::Unavailable {
            fault: Fault::Failed,
            detail: "the flusher has stopped".into(),
        })
    }

    /// Resolves once a flush that started after this call has completed.
    pub(super) async fn wait(&self) -> Result<(), StoreError> {
        let started = Instant::now();
        let (tx, rx) = oneshot::channel();
        self.jobs.send(Job::Flush(tx)).map_err(|_| self.stopped())?;
        rx.await.map_err(|_| self.stopped())??;
        metrics_of(&self.metrics).durable_write(started.elapsed());
        Ok(())
    }

    /// Commits a submission with its group and resolves once it is on disk.
    pub(super) async fn commit(&self, commit: Commit) -> Result<Outcome, StoreError> {
        let started = Instant::now();
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Commit(commit, tx))
            .map_err(|_| self.stopped())?;
        let outcome = rx.await.map_err(|_| self.stopped())??;
        metrics_of(&self.metrics).durable_write(started.elapsed());
        Ok(outcome)
    }

    pub(super) fn flush_now(&self) -> Result<(), StoreError> {
        flush(&self.db, &self.db_file, &self.syncs, &self.health)
    }

    pub(super) fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Acquire)
    }
}
