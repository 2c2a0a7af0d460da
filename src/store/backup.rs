//! Backup and restore: a header line that names the format, then every archived
//! questionnaire file (`{"archived_questionnaire": {"hash", "source"}}`, so that restored
//! reports keep the questionnaire they were scored with), then every record, one JSON
//! line each, then every broker account (`{"broker": {...}}`, with its token's digest, never
//! the token) and every portfolio entry (`{"portfolio_entry": {"broker", "position",
//! "entry"}}`). The file is plain text, readable by any tool and by later versions.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use uuid::Uuid;

use super::{AssessmentRecord, Broker, PortfolioEntry, Position, Store, StoreError};

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

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Archived {
    hash: String,
    source: String,
}

impl Store {
    /// Writes every record to `out`; returns how many.
    pub fn export(&self, out: &mut impl Write) -> Result<usize, StoreError> {
        let records = self.records().collect::<Result<Vec<_>, _>>()?;
        let archived = self.archived_questionnaires()?;
        let brokers = self.brokers()?;
        let entries = self.portfolio_entries().collect::<Result<Vec<_>, _>>()?;
        let header = Header {
            format: BACKUP_FORMAT.into(),
            version: BACKUP_VERSION,
            records: records.len(),
            questionnaires: archived.len(),
            brokers: brokers.len(),
            portfolio_entries: entries.len(),
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
        out.flush()?;
        Ok(records.len())
    }

    /// Loads a backup into this store, which must hold no assessment. Every line is checked
    /// before anything is written, so a damaged file changes nothing.
    pub fn import(&self, input: impl BufRead) -> Result<usize, StoreError> {
        if self.count() > 0 {
            return Err(StoreError::NotEmpty);
        }
        let bad = |line: usize, message: String| StoreError::Backup { line, message };
        let mut lines = input.lines().enumerate();
        let header: Header = match lines.next() {
            Some((_, Ok(l))) => serde_json::from_str(&l).map_err(|e| bad(1, e.to_string()))?,
            Some((_, Err(e))) => return Err(bad(1, e.to_string())),
            None => return Err(bad(1, "the file is empty".into())),
        };
        if header.format != BACKUP_FORMAT || header.version != BACKUP_VERSION {
            return Err(bad(1, "not a shindan backup (version 1)".into()));
        }
        let mut records: Vec<AssessmentRecord> = Vec::new();
        let mut archived: Vec<Archived> = Vec::new();
        let mut brokers: Vec<Broker> = Vec::new();
        let mut entries: Vec<(Uuid, Position, PortfolioEntry)> = Vec::new();
        let mut ids = std::collections::HashSet::new();
        for (i, line) in lines {
            let line = line.map_err(|e| bad(i + 1, e.to_string()))?;
            if line.trim().is_empty() {
                continue;
            }
            if let Ok(a) = serde_json::from_str::<ArchiveLine>(&line) {
                archived.push(a.archived_questionnaire);
                continue;
            }
            if let Ok(b) = serde_json::from_str::<BrokerLine>(&line) {
                brokers.push(b.broker);
                continue;
            }
            if let Ok(e) = serde_json::from_str::<EntryLine>(&line) {
                let e = e.portfolio_entry;
                let position = Position::from_cursor(&e.position)
                    .ok_or_else(|| bad(i + 1, "bad portfolio position".into()))?;
                entries.push((e.broker, position, e.entry));
                continue;
            }
            let r: AssessmentRecord =
                serde_json::from_str(&line).map_err(|e| bad(i + 1, e.to_string()))?;
            r.edit_digest().map_err(|e| bad(i + 1, e.to_string()))?;
            r.report_digest().map_err(|e| bad(i + 1, e.to_string()))?;
            if !ids.insert(r.id) {
                return Err(bad(i + 1, format!("assessment {} appears twice", r.id)));
            }
            records.push(r);
        }
        if archived.len() != header.questionnaires {
            return Err(bad(
                1,
                format!(
                    "the header announces {} questionnaires but the file holds {}",
                    header.questionnaires,
                    archived.len()
                ),
            ));
        }
        if records.len() != header.records {
            return Err(bad(
                1,
                format!(
                    "the header announces {} records but the file holds {}",
                    header.records,
                    records.len()
                ),
            ));
        }
        if brokers.len() != header.brokers || entries.len() != header.portfolio_entries {
            return Err(bad(
                1,
                "the header's broker or portfolio counts differ from the file".into(),
            ));
        }
        check_portfolios(&brokers, &entries, &records).map_err(|m| bad(1, m))?;
        let mut stats: std::collections::BTreeMap<Vec<u8>, super::PeerStats> = Default::default();
        for a in &archived {
            self.archive_questionnaire(&a.hash, &a.source)?;
        }
        for r in &records {
            self.insert(r)?;
            if let (super::Status::Submitted, Some(scores)) = (r.status, &r.scores) {
                for k in super::peers::peer_keys(r) {
                    stats.entry(k).or_default().add(scores);
                }
            }
        }
        for b in &brokers {
            self.restore_broker(b)?;
        }
        for (broker, position, entry) in &entries {
            self.restore_entry(*broker, *position, entry)?;
        }
        // The backup holds records only; their peer statistics are rebuilt here once.
        for (k, s) in stats {
            let value = serde_json::to_vec(&s).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.write(|| Ok(self.tree.insert(k, value)?))?;
        }
        self.flush_now()?;
        Ok(records.len())
    }
}

/// Checks brokers and portfolio entries before anything is written: every active broker
/// has a token digest, no broker appears twice, and every entry names a broker and a record
/// of the file, at its own position, once.
fn check_portfolios(
    brokers: &[Broker],
    entries: &[(Uuid, Position, PortfolioEntry)],
    records: &[AssessmentRecord],
) -> Result<(), String> {
    let mut known = std::collections::HashSet::new();
    for b in brokers {
        if !known.insert(b.id) {
            return Err(format!("broker {} appears twice", b.id));
        }
        if b.status() == super::BrokerStatus::Active && b.token_digest().is_none() {
            return Err(format!("broker {} has no valid token digest", b.id));
        }
    }
    let keys: std::collections::HashMap<Uuid, [u8; 24]> = records
        .iter()
        .map(|r| (r.id, super::record_key(r)))
        .collect();
    let mut members = std::collections::HashSet::new();
    for (broker, position, entry) in entries {
        if !known.contains(broker) {
            return Err(format!(
                "a portfolio entry names the unknown broker {broker}"
            ));
        }
        let id = position.assessment();
        match keys.get(&id) {
            Some(rk) if entry.record_key().as_deref() == Some(&rk[..]) => {}
            _ => {
                return Err(format!(
                    "a portfolio entry names the unknown assessment {id}"
                ))
            }
        }
        if !members.insert((*broker, id)) {
            return Err(format!(
                "assessment {id} is in broker {broker}'s portfolio twice"
            ));
        }
    }
    Ok(())
}

/// One value as one line of JSON.
fn json_line<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut v = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    v.push(b'\n');
    Ok(v)
}
