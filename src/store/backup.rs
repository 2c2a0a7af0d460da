//! Backup and restore: every record as one JSON line, after a header line that names the
//! format. The file is plain text, readable by any tool and by later versions of shindan.

use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use super::{AssessmentRecord, Store, StoreError};

/// The value of the header's `format` field.
pub const BACKUP_FORMAT: &str = "shindan-backup";
/// The version of the backup file layout.
pub const BACKUP_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Header {
    format: String,
    version: u32,
    records: usize,
}

impl Store {
    /// Writes every record to `out`; returns how many.
    pub fn export(&self, out: &mut impl Write) -> Result<usize, StoreError> {
        let records = self.records().collect::<Result<Vec<_>, _>>()?;
        let header = Header {
            format: BACKUP_FORMAT.into(),
            version: BACKUP_VERSION,
            records: records.len(),
        };
        out.write_all(&json_line(&header)?)?;
        for r in &records {
            out.write_all(&json_line(r)?)?;
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
        let mut ids = std::collections::HashSet::new();
        for (i, line) in lines {
            let line = line.map_err(|e| bad(i + 1, e.to_string()))?;
            if line.trim().is_empty() {
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
        let mut stats: std::collections::BTreeMap<Vec<u8>, super::PeerStats> = Default::default();
        for r in &records {
            self.insert(r)?;
            if let (super::Status::Submitted, Some(scores)) = (r.status, &r.scores) {
                for k in super::peers::peer_keys(r) {
                    stats.entry(k).or_default().add(scores);
                }
            }
        }
        // The backup holds records only; their peer statistics are rebuilt here once.
        for (k, s) in stats {
            let value = serde_json::to_vec(&s).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.tree.insert(k, value)?;
        }
        self.flush_now()?;
        Ok(records.len())
    }
}

/// One value as one line of JSON.
fn json_line<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut v = serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    v.push(b'\n');
    Ok(v)
}
