//! Backup and restore: a header line that names the format, then every archived
//! questionnaire file (`{"archived_questionnaire": {"hash", "source"}}`, so that restored
//! reports keep the questionnaire they were scored with), then every record, one JSON
//! line each, then every broker account (`{"broker": {...}}`, with its token's digest, never
//! the token) and every portfolio entry (`{"portfolio_entry": {"broker", "position",
//! "entry"}}`), then the latest peer snapshot (`{"peer_snapshot": {...}}`, when there is
//! one, so that restored reports show the same peer figures). The file is plain text,
//! readable by any tool and by later versions.
//!
//! Reading a backup ([`read_backup`]) checks everything the store itself relies on and
//! names the line of every problem; what the records mean (their questionnaires and scores)
//! is checked above the store, by `crate::restore`. [`Store::restore_into`] then writes
//! the checked contents into a new data directory beside the target and renames it into
//! place, so a restore is whole or absent. [`Store::backup_to`] replaces its file only once
//! the new one is complete (`owner_only::replace_file`).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::io::{BufRead, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde::{Deserialize, Serialize};

use uuid::Uuid;

use super::owner_only::{self, ReplaceError};
use super::{AssessmentRecord, Broker, PortfolioEntry, Position, Status, Store, StoreError};
use crate::peers::PeerSnapshot;
use crate::record::Membership;

/// The value of the header's `format` field.
pub const BACKUP_FORMAT: &str = "shindan-backup";
/// The version of the backup file layout.
pub const BACKUP_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    records: usize,
    /// Archived questionnaire files (absent in backups of earlier versions).
    #[serde(default)]
    questionnaires: usize,
    /// Broker accounts and portfolio entries (absent in backups of earlier versions).
    #[serde(default)]
    brokers: usize,
    #[serde(default)]
    portfolio_entries: usize,
    /// 0 or 1 (absent in backups of earlier versions).
    #[serde(default)]
    peer_snapshots: usize,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotLine {
    peer_snapshot: PeerSnapshot,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct BrokerLine {
    broker: Broker,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryLine {
    portfolio_entry: SavedEntry,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedEntry {
    broker: Uuid,
    position: String,
    entry: PortfolioEntry,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ArchiveLine {
    archived_questionnaire: Archived,
}

/// An archived questionnaire file as a backup holds it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archived {
    /// The content hash the backup claims (`sha256:...`); not yet verified.
    pub hash: String,
    /// The file's text.
    pub source: String,
}

/// What is wrong with one line of a backup, and what the line is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupProblem {
    /// 1-based; line 1 is the header.
    pub line: usize,
    /// What the line holds: `assessment <id>`, `questionnaire <hash>`, `broker <id>`, ...
    /// Empty when the line could not be read.
    pub subject: String,
    pub message: String,
}

impl BackupProblem {
    pub fn new(line: usize, subject: impl Into<String>, message: impl Into<String>) -> Self {
        BackupProblem {
            line,
            subject: subject.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for BackupProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}", self.line)?;
        if !self.subject.is_empty() {
            write!(f, ": {}", self.subject)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// One item of a backup and the line it came from.
#[derive(Debug, Clone)]
pub struct Lined<T> {
    pub line: usize,
    pub value: T,
}

/// What a backup holds, read and checked line by line ([`read_backup`]).
#[derive(Debug, Default)]
pub struct BackupContents {
    pub questionnaires: Vec<Lined<Archived>>,
    pub records: Vec<Lined<AssessmentRecord>>,
    brokers: Vec<Lined<Broker>>,
    entries: Vec<Lined<(Uuid, Position, PortfolioEntry)>>,
    snapshots: Vec<Lined<PeerSnapshot>>,
}

/// `assessment <id>`: how problems name a record.
pub fn record_subject(r: &AssessmentRecord) -> String {
    format!("assessment {}", r.id)
}

impl Store {
    /// Writes every record to `out`; returns how many.
    pub fn export(&self, out: &mut impl Write) -> Result<usize, StoreError> {
        let records = self.records().collect::<Result<Vec<_>, _>>()?;
        let archived = self.archived_questionnaires()?;
        let brokers = self.brokers()?;
        let entries = self.portfolio_entries().collect::<Result<Vec<_>, _>>()?;
        let snapshot = self.peer_snapshot()?;
        let header = Header {
            format: BACKUP_FORMAT.into(),
            version: BACKUP_VERSION,
            records: records.len(),
            questionnaires: archived.len(),
            brokers: brokers.len(),
            portfolio_entries: entries.len(),
            peer_snapshots: usize::from(snapshot.is_some()),
        };
        out.write_all(&json_line(&header)?)?;
        for (hash, source) in archived {
            let line = ArchiveLine {
                archived_questionnaire: Archived { hash, source },
            };
            out.write_all(&json_line(&line)?)?;
        }
        for r in &records {
            out.write_all(&json_line(r)?)?;
        }
        for broker in brokers {
            out.write_all(&json_line(&BrokerLine { broker })?)?;
        }
        for (broker, position, entry) in entries {
            let line = EntryLine {
                portfolio_entry: SavedEntry {
                    broker,
                    position: position.to_cursor(),
                    entry,
                },
            };
            out.write_all(&json_line(&line)?)?;
        }
        if let Some(peer_snapshot) = snapshot {
            out.write_all(&json_line(&SnapshotLine { peer_snapshot })?)?;
        }
        out.flush()?;
        Ok(records.len())
    }

    /// Writes the backup file `path` safely: into a new owner-only file beside it, synced
    /// and then renamed over it, so an existing backup stays whole until the new one is
    /// complete. A symbolic link as `path` is refused. Returns how many records.
    pub fn backup_to(&self, path: &Path) -> Result<usize, StoreError> {
        owner_only::replace_file(path, |out| self.export(out)).map_err(|e| match e {
            ReplaceError::Write(e) => e,
            other => StoreError::BackupFile(other.to_string()),
        })
    }

    /// Restores checked contents into `dir`, which must be absent or empty: they are
    /// written into a new directory beside it (0700), flushed, and that directory is then
    /// renamed to `dir`, so `dir` never holds half a restore. Returns how many records.
    pub fn restore_into(dir: &Path, contents: &BackupContents) -> Result<usize, StoreError> {
        // A link to the real directory (a volume, say) is restored where it points.
        let dir = match std::fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(dir)?,
            _ => dir.to_path_buf(),
        };
        Self::check_restore_target(&dir)?;
        let parent = match dir.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)?;
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let staging = tempfile::Builder::new()
            .prefix(&format!(".{name}.restore-"))
            .permissions(std::fs::Permissions::from_mode(owner_only::DIR_MODE))
            .tempdir_in(&parent)?;
        let n = {
            let store = Store::open(staging.path())?;
            let n = store.load(contents)?;
            store.flush_now()?;
            n
        };
        owner_only::sync_dir(&staging.path().join("sled"))?;
        owner_only::sync_dir(staging.path())?;
        // From here the staging directory is ours to rename or remove.
        let staged = staging.keep();
        if let Err(e) = std::fs::rename(&staged, &dir) {
            let _ = std::fs::remove_dir_all(&staged);
            return Err(StoreError::Storage(format!(
                "cannot move the restored data into {}: {e} (restore needs an absent or empty \
                 directory on the same file system as its parent, not a mount point)",
                dir.display()
            )));
        }
        owner_only::sync_dir(&parent)?;
        Ok(n)
    }

    /// Loads a backup into this store, which must hold no assessment. Checks what the
    /// store needs only (see [`read_backup`]); restores go through `crate::restore`.
    #[cfg(test)]
    pub(crate) fn import(&self, input: impl BufRead) -> Result<usize, StoreError> {
        if self.count() > 0 {
            return Err(StoreError::NotEmpty);
        }
        let (contents, problems) = read_backup(input);
        if !problems.is_empty() {
            return Err(StoreError::InvalidBackup(problems));
        }
        self.load(&contents)
    }

    /// Writes checked contents into this (empty) store, with the published peer snapshot.
    fn load(&self, contents: &BackupContents) -> Result<usize, StoreError> {
        if self.count() > 0 {
            return Err(StoreError::NotEmpty);
        }
        for a in &contents.questionnaires {
            self.archive_questionnaire(&a.value.hash, &a.value.source)?;
        }
        for Lined { value: r, .. } in &contents.records {
            self.insert(r)?;
        }
        for b in &contents.brokers {
            self.restore_broker(&b.value)?;
        }
        for Lined {
            value: (broker, position, entry),
            ..
        } in &contents.entries
        {
            self.restore_entry(*broker, *position, entry)?;
        }
        for s in &contents.snapshots {
            self.write(|| self.restore_peer_snapshot(&s.value))?;
        }
        self.flush_now()?;
        Ok(contents.records.len())
    }
}

impl BackupContents {
    /// The broker accounts, with their lines.
    pub fn brokers(&self) -> &[Lined<Broker>] {
        &self.brokers
    }
}

impl Store {
    /// Whether a restore may go into `dir`: it is absent or an empty directory, else
    /// [`StoreError::NotEmpty`].
    pub fn check_restore_target(dir: &Path) -> Result<(), StoreError> {
        ensure_empty(dir)
    }
}

/// `dir` is absent or an empty directory.
fn ensure_empty(dir: &Path) -> Result<(), StoreError> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(StoreError::NotEmpty),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Open {
            path: dir.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// Reads a whole backup and checks what the store relies on: the header and its counts,
/// every line's shape, token digests, no assessment, token or broker twice, and every
/// portfolio entry against its broker and record. Returns what could be read and every
/// problem, each with its line (sorted); nothing is written. Only contents read without
/// a problem may be restored.
pub fn read_backup(input: impl BufRead) -> (BackupContents, Vec<BackupProblem>) {
    let mut problems = Vec::new();
    let mut contents = BackupContents::default();
    let mut lines = input.lines().enumerate();
    let not_backup = |message: String| {
        let problem = BackupProblem::new(1, "header", message);
        (BackupContents::default(), vec![problem])
    };
    let header: Header = match lines.next() {
        Some((_, Ok(l))) => match serde_json::from_str(&l) {
            Ok(h) => h,
            Err(e) => return not_backup(format!("not a shindan backup: {e}")),
        },
        Some((_, Err(e))) => return not_backup(e.to_string()),
        None => return not_backup("the file is empty".into()),
    };
    if header.format != BACKUP_FORMAT || header.version != BACKUP_VERSION {
        return not_backup(format!("not a shindan backup (version {BACKUP_VERSION})"));
    }
    let mut ids = HashSet::new();
    let mut digests = HashSet::new();
    for (i, line) in lines {
        let n = i + 1;
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                problems.push(BackupProblem::new(n, "", e.to_string()));
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        if let Ok(a) = serde_json::from_str::<ArchiveLine>(&line) {
            contents.questionnaires.push(Lined {
                line: n,
                value: a.archived_questionnaire,
            });
            continue;
        }
        if let Ok(b) = serde_json::from_str::<BrokerLine>(&line) {
            contents.brokers.push(Lined {
                line: n,
                value: b.broker,
            });
            continue;
        }
        if let Ok(s) = serde_json::from_str::<SnapshotLine>(&line) {
            contents.snapshots.push(Lined {
                line: n,
                value: s.peer_snapshot,
            });
            continue;
        }
        if let Ok(e) = serde_json::from_str::<EntryLine>(&line) {
            let e = e.portfolio_entry;
            match Position::from_cursor(&e.position) {
                Some(position) => contents.entries.push(Lined {
                    line: n,
                    value: (e.broker, position, e.entry),
                }),
                None => problems.push(BackupProblem::new(
                    n,
                    format!("portfolio entry of broker {}", e.broker),
                    "bad portfolio position",
                )),
            }
            continue;
        }
        let r: AssessmentRecord = match serde_json::from_str(&line) {
            Ok(r) => r,
            Err(e) => {
                problems.push(BackupProblem::new(n, "", e.to_string()));
                continue;
            }
        };
        let subject = record_subject(&r);
        for digest in [r.edit_digest(), r.report_digest()] {
            match digest {
                Ok(d) if !digests.insert(d.0) => problems.push(BackupProblem::new(
                    n,
                    &subject,
                    "its token digest is another assessment's",
                )),
                Ok(_) => {}
                Err(e) => problems.push(BackupProblem::new(n, &subject, e.to_string())),
            }
        }
        if !ids.insert(r.id) {
            problems.push(BackupProblem::new(n, &subject, "appears twice"));
        }
        contents.records.push(Lined { line: n, value: r });
    }
    let counts = [
        (
            "questionnaires",
            header.questionnaires,
            contents.questionnaires.len(),
        ),
        ("records", header.records, contents.records.len()),
        ("brokers", header.brokers, contents.brokers.len()),
        (
            "portfolio entries",
            header.portfolio_entries,
            contents.entries.len(),
        ),
        (
            "peer snapshots",
            header.peer_snapshots,
            contents.snapshots.len(),
        ),
    ];
    for (what, announced, found) in counts {
        if announced != found {
            problems.push(BackupProblem::new(
                1,
                "header",
                format!("announces {announced} {what} but the file holds {found}"),
            ));
        }
    }
    if let Some(extra) = contents.snapshots.get(1) {
        problems.push(BackupProblem::new(
            extra.line,
            "peer snapshot",
            "a backup holds at most one peer snapshot",
        ));
    }
    check_portfolios(&contents, &mut problems);
    problems.sort_by_key(|p| p.line);
    (contents, problems)
}

/// Checks brokers and portfolio entries against each other and against the records: every
/// active broker has a token digest, no broker appears twice, every entry names a broker
/// and a record of the file, at its own position, once; an invited entry is the inviting
/// broker's, an attached one a company's own submitted assessment; and every invited
/// record is in its broker's portfolio.
fn check_portfolios(contents: &BackupContents, problems: &mut Vec<BackupProblem>) {
    let mut known = HashSet::new();
    for Lined { line, value: b } in &contents.brokers {
        let subject = format!("broker {}", b.id);
        if !known.insert(b.id) {
            problems.push(BackupProblem::new(*line, &subject, "appears twice"));
        }
        if b.status() == super::BrokerStatus::Active && b.token_digest().is_none() {
            problems.push(BackupProblem::new(
                *line,
                &subject,
                "has no valid token digest",
            ));
        }
    }
    let records: HashMap<Uuid, &AssessmentRecord> = contents
        .records
        .iter()
        .map(|r| (r.value.id, &r.value))
        .collect();
    let mut members = HashSet::new();
    for Lined {
        line,
        value: (broker, position, entry),
    } in &contents.entries
    {
        let id = position.assessment();
        let subject = format!("portfolio entry of broker {broker} for assessment {id}");
        let mut bad = |message: String| problems.push(BackupProblem::new(*line, &subject, message));
        if !known.contains(broker) {
            bad("names an unknown broker".into());
        }
        let Some(r) = records.get(&id) else {
            bad("names an unknown assessment".into());
            continue;
        };
        if entry.record_key().as_deref() != Some(&super::record_key(r)[..]) {
            bad("does not point at its assessment's record".into());
        }
        if !members.insert((*broker, id)) {
            bad("appears twice".into());
        }
        match entry.membership {
            Membership::Invited => {
                if r.invitation.as_ref().map(|i| i.broker) != Some(*broker) {
                    bad("says invited, but this broker did not invite the assessment".into());
                }
            }
            Membership::Attached => {
                if r.invitation.is_some() || r.status != Status::Submitted {
                    bad(
                        "says attached, but the assessment is not a company's own submitted one"
                            .into(),
                    );
                }
            }
        }
    }
    for Lined { line, value: r } in &contents.records {
        if let Some(inv) = &r.invitation {
            if !members.contains(&(inv.broker, r.id)) {
                problems.push(BackupProblem::new(
                    *line,
                    record_subject(r),
                    format!(
                        "was invited by broker {} but is not in its portfolio",
                        inv.broker
                    ),
                ));
            }
        }
    }
}

/// One value as one line of JSON.
fn json_line<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut v = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    v.push(b'\n');
    Ok(v)
}
