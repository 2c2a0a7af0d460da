//! Everything sled: the tree, the key layout, the record encoding, the flush policy and the
//! token indexes. Callers see [`Store`] and [`AssessmentRecord`], never a sled type, so a
//! second backend can be added behind the same API.
//!
//! Key layout (tree `assessments-v1`):
//! - `a` + creation time (8-byte big-endian microseconds) + 16-byte uuid -> the record (JSON)
//! - `i` + 16-byte uuid -> the record key (24 bytes after the `a`)
//! - `e` + 32-byte SHA-256 of the edit token -> the record key
//! - `r` + 32-byte SHA-256 of the report token -> the record key
//! - `q` + content hash -> the questionnaire file's text, for reports whose file changed
//! - `B` + broker id -> [`Broker`]; `T` + SHA-256 of a broker token -> broker id
//!   (`brokers.rs`)
//! - `b` + broker id + [`Position`] -> [`PortfolioEntry`]; `m` + broker id + assessment id
//!   -> its position (`portfolio.rs`)
//!
//! and tree `peer-snapshots-v1`: `current` -> the latest [`crate::peers::PeerSnapshot`]
//! (`snapshots.rs`). (Versions before snapshots kept running peer statistics under `p` +
//! questionnaire id + version + segment; nothing reads them any more.)
//!
//! Records are keyed by creation time so that new records append to the end of the tree:
//! random uuid keys spread every write over every leaf, which here cost half the write
//! rate and let memory grow with the data. Lookups by id go through the small `i` index.
//!
//! Durability: a write is acknowledged only after it is on disk. A single flusher thread
//! groups the waiting requests, commits the group's submissions in one transaction, runs sled's flush and then `fdatasync`s the database
//! file, because sled 0.34 flushes with `sync_file_range`, which leaves data in the disk's
//! write cache (sled issue 1452). Drafts are written by the request's own thread, indexes
//! first and the record last, and then wait for the next flush.
//!
//! Files: the data directory is its owner's only, 0700 with every file 0600
//! (`owner_only.rs`); backups are replaced by rename, never rewritten, and a restore lands
//! whole by renaming a staging directory into place (`backup.rs`).
//!
//! Faults (`health.rs`): an I/O error from sled is [`StoreError::Unavailable`] with its
//! [`Fault`] (a full disk is told apart), never a generic error. Writes are refused while
//! the disk has less free space than the reserve ([`Store::with_reserve`]), so that sled
//! never meets a full disk and every read goes on; they resume once there is room. The
//! first write or flush that fails anyway sets a latch: from then on every write is refused
//! before it changes anything, until the process restarts. [`Store::fault`] says why.

mod backup;
mod brokers;
mod flusher;
mod health;
pub mod owner_only;
mod portfolio;
mod snapshots;
mod sweep;

pub use crate::record::{
    AssessmentRecord, Invitation, Membership, PortfolioStatus, QuestionnaireRef, Status,
    SCHEMA_VERSION, SEGMENT_FIELD,
};
pub use backup::{
    read_backup, record_subject, Archived, BackupContents, BackupProblem, Lined, BACKUP_FORMAT,
    BACKUP_VERSION,
};
pub use brokers::{Broker, BrokerStatus};
pub use health::Fault;
pub use portfolio::{
    PortfolioEntry, PortfolioFilter, PortfolioItem, PortfolioPage, Position, RecordSummary,
};

use std::fs::File;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use thiserror::Error;
use uuid::Uuid;

use crate::metrics::StoreMetrics;
use crate::tokens::TokenDigest;
use flusher::{metrics_of, Commit, Flusher, MetricsSlot, Outcome, Refusal};
use health::{Health, Reserve};
use snapshots::Snapshots;

/// sled's page cache. Its default (1 GiB) would let the process grow with the data.
pub const CACHE_CAPACITY_BYTES: u64 = 16 * 1024 * 1024;
/// The name of the lock file in the data directory.
pub const LOCK_FILE: &str = "shindan.lock";
const TREE: &str = "assessments-v1";
const RECORD: u8 = b'a';
const ID: u8 = b'i';
const ARCHIVE: u8 = b'q';
const EDIT: u8 = b'e';
const REPORT: u8 = b'r';

/// What can go wrong in the store.
#[derive(Debug, Clone, Error)]
pub enum StoreError {
    #[error("the data directory {0} is in use by another shindan process; stop it first or choose another --data-dir")]
    InUse(PathBuf),
    #[error("cannot open the data directory {path}: {message}")]
    Open { path: PathBuf, message: String },
    /// The disk is full or the store has failed: nothing can be written until a restart
    /// (with room). Reads may still work.
    #[error("storage unavailable ({fault}): {detail}")]
    Unavailable { fault: Fault, detail: String },
    #[error("storage error: {0}")]
    Storage(String),
    #[error("a stored record cannot be read: {0}")]
    Corrupt(String),
    #[error("the data directory is not empty: restore needs an empty one")]
    NotEmpty,
    #[error("the backup cannot be restored; nothing was written. {}", problem_list(.0))]
    InvalidBackup(Vec<BackupProblem>),
    #[error("cannot write the backup: {0}")]
    BackupFile(String),
}

impl From<crate::record::CorruptRecord> for StoreError {
    fn from(e: crate::record::CorruptRecord) -> Self {
        StoreError::Corrupt(e.0)
    }
}

/// A stored record from its bytes, a corrupt one being a store error.
pub(crate) fn decode_record(bytes: &[u8]) -> Result<AssessmentRecord, StoreError> {
    Ok(AssessmentRecord::decode(bytes)?)
}

/// How many problems of a backup an error message lists.
pub const PROBLEMS_SHOWN: usize = 20;

/// The problems of a backup, one per line, the first [`PROBLEMS_SHOWN`] of them.
fn problem_list(problems: &[BackupProblem]) -> String {
    let mut out = format!("{} problem(s):", problems.len());
    for p in problems.iter().take(PROBLEMS_SHOWN) {
        out.push_str(&format!("\n  {p}"));
    }
    if problems.len() > PROBLEMS_SHOWN {
        out.push_str(&format!(
            "\n  ... and {} more",
            problems.len() - PROBLEMS_SHOWN
        ));
    }
    out
}

impl From<sled::Error> for StoreError {
    /// I/O errors are storage faults, told apart by kind (a full disk above all); the
    /// others (a bug or corruption reported by sled) are plain storage errors.
    fn from(e: sled::Error) -> Self {
        match &e {
            sled::Error::Io(_) => StoreError::Unavailable {
                fault: Fault::of_sled(&e),
                detail: e.to_string(),
            },
            _ => StoreError::Storage(e.to_string()),
        }
    }
}

impl From<std::io::Error> for StoreError {
    fn from(e: std::io::Error) -> Self {
        StoreError::Unavailable {
            fault: Fault::of_io(&e),
            detail: e.to_string(),
        }
    }
}

/// What the operator reads when the data directory cannot be opened: a full disk is said
/// in words.
fn open_message(fault: Fault, e: &dyn std::fmt::Display) -> String {
    match fault {
        Fault::DiskFull => format!("the disk is full ({e}); make room, then start again"),
        _ => e.to_string(),
    }
}

/// Why an update did not happen.
#[derive(Debug, Error)]
pub enum UpdateError<E> {
    #[error("no such assessment")]
    NotFound,
    /// The caller's closure refused the change.
    #[error("refused")]
    Refused(E),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The assessment store.
pub struct Store {
    tree: sled::Tree,
    db: sled::Db,
    flusher: Flusher,
    snapshots: Snapshots,
    /// Set by the first failed write or flush; shared with the flusher.
    health: Arc<Health>,
    /// Free space kept on the disk (none unless [`Store::with_reserve`] sets one).
    reserve: Reserve,
    /// Durable writes are recorded here once [`Store::with_metrics`] gave a handle.
    metrics: MetricsSlot,
    _lock: File,
}

/// The part of a record's key after its prefix: creation time, then id.
fn record_key(record: &AssessmentRecord) -> [u8; 24] {
    let micros = u64::try_from(record.created_at.timestamp_micros()).unwrap_or(0);
    let mut k = [0u8; 24];
    k[..8].copy_from_slice(&micros.to_be_bytes());
    k[8..].copy_from_slice(record.id.as_bytes());
    k
}

/// One key and its value.
type Entry = (Vec<u8>, Vec<u8>);

fn key(prefix: u8, bytes: &[u8]) -> Vec<u8> {
    let mut k = Vec::with_capacity(1 + bytes.len());
    k.push(prefix);
    k.extend_from_slice(bytes);
    k
}

impl Store {
    /// Opens (or creates) the store in `dir`. Fails at once, with a clear message, when
    /// another process holds the directory.
    #[tracing::instrument]
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let open_err = |message: String| StoreError::Open {
            path: dir.to_path_buf(),
            message,
        };
        let io_err = |e: std::io::Error| open_err(open_message(Fault::of_io(&e), &e));
        let sled_err = |e: sled::Error| open_err(open_message(Fault::of_sled(&e), &e));
        owner_only::prepare_dir(dir).map_err(io_err)?;
        let lock = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(owner_only::FILE_MODE)
            .open(dir.join(LOCK_FILE))
            .map_err(io_err)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::InUse(dir.to_path_buf()))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(e)),
        }
        let db = sled::Config::new()
            .path(dir.join("sled"))
            .cache_capacity(CACHE_CAPACITY_BYTES)
            .open()
            .map_err(sled_err)?;
        let tree = db.open_tree(TREE).map_err(sled_err)?;
        let snapshots = Snapshots::open(&db).map_err(|e| open_err(e.to_string()))?;
        // sled creates its files with the process's umask (0077 in the `shindan` binary,
        // the caller's in a library user): make the new ones owner-only too.
        owner_only::tighten(dir).map_err(io_err)?;
        // Make the directory entries of a new database durable too.
        for d in [dir.to_path_buf(), dir.join("sled")] {
            File::open(&d).and_then(|f| f.sync_all()).map_err(io_err)?;
        }
        let db_file = File::open(dir.join("sled").join("db")).map_err(io_err)?;
        let health = Arc::new(Health::default());
        let metrics = MetricsSlot::default();
        let flusher = Flusher::start(
            db.clone(),
            tree.clone(),
            db_file,
            health.clone(),
            metrics.clone(),
        )
        .map_err(io_err)?;
        Ok(Store {
            tree,
            db,
            flusher,
            snapshots,
            health,
            reserve: Reserve::new(dir.to_path_buf(), 0),
            metrics,
            _lock: lock,
        })
    }

    /// Records durable writes, flush groups, submissions and invitations through
    /// `metrics` from now on. The first handle given stays.
    pub fn set_metrics(&self, metrics: StoreMetrics) {
        let _ = self.metrics.set(metrics);
    }

    fn metrics(&self) -> &StoreMetrics {
        metrics_of(&self.metrics)
    }

    /// Keeps `bytes` free on the data directory's file system: below that, writes are
    /// refused with [`Fault::DiskFull`] (and taken again once there is room), so that
    /// sled never meets a full disk. 0 keeps none.
    pub fn with_reserve(mut self, bytes: u64) -> Store {
        let dir = self.reserve.dir().to_path_buf();
        self.reserve = Reserve::new(dir, bytes);
        self
    }

    /// Whether a write may start: the store has not failed and the disk has room.
    fn writable(&self) -> Result<(), StoreError> {
        self.health.check()?;
        self.reserve.check()
    }

    /// Runs a write of this thread: refused at once when the store has failed (so a
    /// refused write changes nothing), and a storage fault it meets fails the store.
    fn write<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.writable()?;
        f().map_err(|e| self.health.note(e))
    }

    /// Why the store refuses writes, or `None` while it accepts them. A failed store stays
    /// failed until a restart; a disk below the reserve accepts writes again once there is
    /// room.
    pub fn fault(&self) -> Option<Fault> {
        self.health
            .fault()
            .or_else(|| self.reserve.check().err().map(|_| Fault::DiskFull))
    }

    /// The keys and values a new record is stored under: indexes first, record last.
    fn entries(record: &AssessmentRecord) -> Result<Vec<Entry>, StoreError> {
        let edit = record.edit_digest()?;
        let report = record.report_digest()?;
        let value = serde_json::to_vec(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let rk = record_key(record);
        Ok(vec![
            (key(ID, record.id.as_bytes()), rk.to_vec()),
            (key(EDIT, &edit.0), rk.to_vec()),
            (key(REPORT, &report.0), rk.to_vec()),
            (key(RECORD, &rk), value),
        ])
    }

    /// Stores a new record and its indexes, without waiting for the disk (drafts, restore).
    #[tracing::instrument(skip_all, fields(id = %record.id))]
    pub fn insert(&self, record: &AssessmentRecord) -> Result<(), StoreError> {
        // Indexes first, the record last, so the record's insert is the commit point.
        // sled recovers a prefix of the writes after a crash, so a stored record always
        // has its index entries; an index entry whose record never landed finds nothing.
        let entries = Self::entries(record)?;
        self.write(|| {
            for (k, v) in entries {
                self.tree.insert(k, v)?;
            }
            Ok(())
        })
    }

    /// Stores a new record durably. A submitted one is committed by the flusher, in its
    /// group's transaction.
    pub async fn create(&self, record: &AssessmentRecord) -> Result<(), StoreError> {
        if record.status != Status::Submitted {
            self.insert(record)?;
            return self.durable().await;
        }
        self.writable()?;
        let commit = Commit::Insert {
            entries: Self::entries(record)?,
            record: Box::new(record.clone()),
        };
        match self.flusher.commit(commit).await? {
            Outcome::Done(_) => {
                self.metrics().submission();
                Ok(())
            }
            Outcome::Failed(e) => Err(StoreError::Corrupt(e)),
            Outcome::NotFound | Outcome::Refused(_) => {
                Err(StoreError::Storage("an insert cannot be refused".into()))
            }
        }
    }

    /// Submits a draft durably: `change` sees the current record and either marks it
    /// submitted or refuses. The flusher thread commits it in its group's transaction, so
    /// two submissions of one draft cannot both succeed.
    pub async fn submit<E: Send + 'static>(
        &self,
        id: Uuid,
        mut change: impl FnMut(&mut AssessmentRecord) -> Result<(), E> + Send + 'static,
    ) -> Result<AssessmentRecord, UpdateError<E>> {
        self.writable()?;
        let Some(k) = self.record_key_of(id)? else {
            return Err(UpdateError::NotFound);
        };
        let commit = Commit::Submit {
            record_key: k,
            change: Box::new(move |r| change(r).map_err(|e| Box::new(e) as Refusal)),
        };
        match self.flusher.commit(commit).await? {
            Outcome::Done(record) => {
                self.metrics().submission();
                Ok(*record)
            }
            Outcome::NotFound => Err(UpdateError::NotFound),
            Outcome::Failed(e) => Err(StoreError::Corrupt(e).into()),
            Outcome::Refused(refusal) => match refusal.downcast::<E>() {
                Ok(e) => Err(UpdateError::Refused(*e)),
                Err(_) => Err(StoreError::Storage("unexpected refusal type".into()).into()),
            },
        }
    }

    /// Keeps the text of a questionnaire under its content hash (once).
    pub fn archive_questionnaire(&self, hash: &str, source: &str) -> Result<(), StoreError> {
        let k = key(ARCHIVE, hash.as_bytes());
        // Usually there already: then a start writes nothing, even on a full disk.
        if self.tree.get(&k)?.is_some() {
            return Ok(());
        }
        self.write(|| {
            let _ =
                self.tree
                    .compare_and_swap(k, None as Option<&[u8]>, Some(source.as_bytes()))?;
            Ok(())
        })
    }

    /// Every archived questionnaire text with its hash, in hash order.
    pub fn archived_questionnaires(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.tree
            .scan_prefix([ARCHIVE])
            .map(|item| {
                let (k, v) = item?;
                Ok((
                    String::from_utf8_lossy(&k[1..]).into_owned(),
                    String::from_utf8_lossy(&v).into_owned(),
                ))
            })
            .collect()
    }

    /// The text of an archived questionnaire by content hash.
    pub fn archived_questionnaire(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .tree
            .get(key(ARCHIVE, hash.as_bytes()))?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Waits until every write made before this call is on disk. Never blocks the caller's
    /// thread: the flush runs on the flusher thread, shared by every concurrent waiter.
    pub async fn durable(&self) -> Result<(), StoreError> {
        self.flusher.wait().await
    }

    /// How many `fdatasync`s of the database file have completed (for tests and monitoring:
    /// an acknowledged write always comes after one more).
    pub fn syncs(&self) -> u64 {
        self.flusher.syncs()
    }

    /// Flushes synchronously (shutdown, command-line tools).
    pub fn flush_now(&self) -> Result<(), StoreError> {
        self.flusher.flush_now()
    }

    /// A record by id.
    pub fn get(&self, id: Uuid) -> Result<Option<AssessmentRecord>, StoreError> {
        match self.record_key_of(id)? {
            Some(k) => self.tree.get(k)?.map(|v| decode_record(&v)).transpose(),
            None => Ok(None),
        }
    }

    /// The full tree key of a record, through the id index.
    fn record_key_of(&self, id: Uuid) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .tree
            .get(key(ID, id.as_bytes()))?
            .map(|rk| key(RECORD, &rk)))
    }

    fn get_by_key(&self, rk: &[u8]) -> Result<Option<AssessmentRecord>, StoreError> {
        self.tree
            .get(key(RECORD, rk))?
            .map(|v| decode_record(&v))
            .transpose()
    }

    fn by_index(
        &self,
        prefix: u8,
        digest: &TokenDigest,
    ) -> Result<Option<AssessmentRecord>, StoreError> {
        match self.tree.get(key(prefix, &digest.0))? {
            Some(rk) => self.get_by_key(&rk),
            None => Ok(None),
        }
    }

    /// The record whose edit token has this digest.
    pub fn find_by_edit(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<AssessmentRecord>, StoreError> {
        self.by_index(EDIT, digest)
    }

    /// The record whose report token has this digest.
    pub fn find_by_report(
        &self,
        digest: &TokenDigest,
    ) -> Result<Option<AssessmentRecord>, StoreError> {
        self.by_index(REPORT, digest)
    }

    /// Changes a record atomically: `change` sees the current record and either edits it or
    /// refuses; a concurrent writer makes it run again on the newer record (compare and
    /// swap), so two requests never both submit the same draft.
    #[tracing::instrument(skip(self, change))]
    pub fn update<E>(
        &self,
        id: Uuid,
        mut change: impl FnMut(&mut AssessmentRecord) -> Result<(), E>,
    ) -> Result<AssessmentRecord, UpdateError<E>> {
        self.writable()?;
        let Some(k) = self.record_key_of(id)? else {
            return Err(UpdateError::NotFound);
        };
        loop {
            let Some(old) = self.tree.get(&k).map_err(StoreError::from)? else {
                return Err(UpdateError::NotFound);
            };
            let mut record = decode_record(&old)?;
            change(&mut record).map_err(UpdateError::Refused)?;
            let new =
                serde_json::to_vec(&record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            match self.tree.compare_and_swap(&k, Some(&old), Some(new)) {
                Ok(Ok(())) => return Ok(record),
                Ok(Err(_)) => continue,
                Err(e) => return Err(self.health.note(e.into()).into()),
            }
        }
    }

    /// How many assessments are stored.
    pub fn count(&self) -> usize {
        self.tree.scan_prefix([RECORD]).count()
    }

    /// Every record, oldest first.
    pub fn records(&self) -> impl Iterator<Item = Result<AssessmentRecord, StoreError>> + '_ {
        self.tree.scan_prefix([RECORD]).map(|item| {
            let (_, v) = item?;
            decode_record(&v)
        })
    }

    /// Bytes on disk, as sled counts them.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

#[cfg(test)]
mod tests;
