//! Brokers' portfolios: which assessments each broker may see, newest first.
//!
//! Keys:
//! - `b` + broker id (16) + [`Position`] (24: the time the item joined the portfolio as
//!   big-endian microseconds, then the assessment id) -> [`PortfolioEntry`] (JSON)
//! - `m` + broker id (16) + assessment id (16) -> the [`Position`] (membership, for access
//!   checks and for attaching an assessment only once)
//!
//! A page is a reverse range scan of one broker's `b` keys that starts just before the
//! cursor, so it costs the page size whatever the portfolio holds, and items added while a
//! client pages (always newer) never shift the pages still to come. An invitation's record,
//! its token indexes and both portfolio keys are written in one batch; an attachment's two
//! keys in one transaction. A crash therefore never leaves one without the other.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use uuid::Uuid;

use super::{key, record_key, AssessmentRecord, Store, StoreError, EDIT, RECORD};
use crate::record::{Membership, PortfolioStatus, QuestionnaireRef, Status};
use crate::scoring::Scores;
use crate::tokens::TokenDigest;

const PORTFOLIO: u8 = b'b';
const MEMBER: u8 = b'm';
/// A filtered page looks at most at this many entries per item asked for, and at least
/// `MIN_SCAN`, then ends early with a cursor (a page may then hold fewer items than asked
/// while more may follow).
pub const SCAN_PER_ITEM: usize = 40;
pub const MIN_SCAN: usize = 2_000;

/// Where an item sits in a portfolio; the API's cursor is its base64url form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position([u8; 24]);

impl Position {
    fn new(at: DateTime<Utc>, id: Uuid) -> Position {
        let micros = u64::try_from(at.timestamp_micros()).unwrap_or(0);
        let mut p = [0u8; 24];
        p[..8].copy_from_slice(&micros.to_be_bytes());
        p[8..].copy_from_slice(id.as_bytes());
        Position(p)
    }

    /// The opaque cursor text.
    pub fn to_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// The id of the assessment at this position.
    pub fn assessment(&self) -> Uuid {
        Uuid::from_slice(&self.0[8..]).unwrap_or_default()
    }

    /// Reads a cursor back; `None` for anything that is not one.
    pub fn from_cursor(s: &str) -> Option<Position> {
        let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
        Some(Position(bytes.try_into().ok()?))
    }
}

/// One portfolio entry as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortfolioEntry {
    /// Hex of the record's key (creation time and id).
    record: String,
    pub client_name: String,
    #[serde(default)]
    pub proposal_ref: Option<String>,
    pub membership: Membership,
    pub added_at: DateTime<Utc>,
}

impl PortfolioEntry {
    /// The key of the record this entry stands for (creation time and id).
    pub(super) fn record_key(&self) -> Option<Vec<u8>> {
        hex::decode(&self.record).ok()
    }
}

/// The part of a record a portfolio shows; decoding skips the answers, and keeps of the
/// profile only which fields hold a value. Its `Debug` leaves out the report token.
#[derive(Clone, Deserialize)]
pub struct RecordSummary {
    pub id: Uuid,
    pub questionnaire: QuestionnaireRef,
    pub report_token: String,
    pub status: Status,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(default)]
    pub submitted_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub scores: Option<Scores>,
    #[serde(default)]
    pub previous: Option<String>,
    /// The profile fields that hold a value (an empty list does not count); the values
    /// themselves are skipped while decoding.
    #[serde(default, rename = "profile", deserialize_with = "answered_fields")]
    pub answered_profile: BTreeSet<String>,
}

/// Decodes a profile object into the ids of its fields that hold a value, without keeping
/// the values.
fn answered_fields<'de, D: serde::Deserializer<'de>>(d: D) -> Result<BTreeSet<String>, D::Error> {
    /// Whether one value counts as an answer (see `questionnaire::has_value`).
    struct Answered(bool);
    impl<'de> Deserialize<'de> for Answered {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let v = serde_json::Value::deserialize(d)?;
            Ok(Answered(crate::questionnaire::has_value(&v)))
        }
    }
    let fields: BTreeMap<String, Answered> = BTreeMap::deserialize(d)?;
    Ok(fields
        .into_iter()
        .filter_map(|(id, Answered(yes))| yes.then_some(id))
        .collect())
}

impl std::fmt::Debug for RecordSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordSummary")
            .field("id", &self.id)
            .field("questionnaire", &self.questionnaire)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

impl RecordSummary {
    pub fn portfolio_status(&self) -> PortfolioStatus {
        match self.status {
            Status::Submitted => PortfolioStatus::Submitted,
            Status::Draft if self.updated_at > self.created_at => PortfolioStatus::InProgress,
            Status::Draft => PortfolioStatus::Invited,
        }
    }
}

/// One item of a portfolio: the entry and the current state of its assessment.
#[derive(Debug, Clone)]
pub struct PortfolioItem {
    pub position: Position,
    pub entry: PortfolioEntry,
    pub record: RecordSummary,
}

/// A page of a portfolio and the position to continue after, when more items match.
#[derive(Debug, Clone, Default)]
pub struct PortfolioPage {
    pub items: Vec<PortfolioItem>,
    pub next: Option<Position>,
}

/// Which items a page keeps. `entry` runs before the record is read, so a filter on what
/// the entry holds (the client name) costs no record reads for the items it drops.
pub trait PortfolioFilter {
    fn entry(&self, _entry: &PortfolioEntry) -> bool {
        true
    }
    fn item(&self, item: &PortfolioItem) -> bool;
}

impl<F: Fn(&PortfolioItem) -> bool> PortfolioFilter for F {
    fn item(&self, item: &PortfolioItem) -> bool {
        self(item)
    }
}

fn portfolio_prefix(broker: Uuid) -> Vec<u8> {
    key(PORTFOLIO, broker.as_bytes())
}

fn member_key(broker: Uuid, id: Uuid) -> Vec<u8> {
    let mut k = key(MEMBER, broker.as_bytes());
    k.extend_from_slice(id.as_bytes());
    k
}

fn entry_key(broker: Uuid, position: &Position) -> Vec<u8> {
    let mut k = portfolio_prefix(broker);
    k.extend_from_slice(&position.0);
    k
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn decode<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// Stores a new invited draft (its `invitation` names the broker) with its token
    /// indexes and its portfolio entry, all in one batch, and waits for the disk.
    pub async fn create_invitation(&self, record: &AssessmentRecord) -> Result<(), StoreError> {
        self.insert_invitation(record)?;
        self.durable().await?;
        self.metrics().invitation();
        Ok(())
    }

    /// [`Store::create_invitation`] without waiting for the disk (restore, bulk loads).
    pub fn insert_invitation(&self, record: &AssessmentRecord) -> Result<(), StoreError> {
        let Some(invitation) = &record.invitation else {
            return Err(StoreError::Storage("an invitation needs its broker".into()));
        };
        let position = Position::new(record.created_at, record.id);
        let entry = PortfolioEntry {
            record: hex::encode(record_key(record)),
            client_name: invitation.client_name.clone(),
            proposal_ref: invitation.proposal_ref.clone(),
            membership: Membership::Invited,
            added_at: record.created_at,
        };
        let mut batch = sled::Batch::default();
        for (k, v) in Self::entries(record)? {
            batch.insert(k, v);
        }
        batch.insert(entry_key(invitation.broker, &position), encode(&entry)?);
        batch.insert(member_key(invitation.broker, record.id), &position.0);
        self.write(|| Ok(self.tree.apply_batch(batch)?))
    }

    /// Adds the assessment whose report token has this digest to a broker's portfolio,
    /// read-only, if `allowed` accepts it. Returns the item and whether it was new; `None`
    /// for an unknown token or a refused assessment. Attaching twice changes nothing.
    pub async fn attach(
        &self,
        broker: Uuid,
        report: &TokenDigest,
        allowed: impl Fn(&AssessmentRecord) -> bool,
        name: impl Fn(&AssessmentRecord) -> String,
        proposal_ref: Option<String>,
    ) -> Result<Option<(PortfolioItem, bool)>, StoreError> {
        let Some(record) = self.find_by_report(report)? else {
            return Ok(None);
        };
        if !allowed(&record) {
            return Ok(None);
        }
        let now = Utc::now();
        let position = Position::new(now, record.id);
        let entry = PortfolioEntry {
            record: hex::encode(record_key(&record)),
            client_name: name(&record),
            proposal_ref,
            membership: Membership::Attached,
            added_at: now,
        };
        let member = member_key(broker, record.id);
        let value = encode(&entry)?;
        let existing = self.write(|| {
            let existing: Result<Option<Vec<u8>>, TransactionError<StoreError>> =
                self.tree.transaction(|tx| {
                    if let Some(p) = tx.get(&member)? {
                        return Ok(Some(p.to_vec()));
                    }
                    tx.insert(entry_key(broker, &position), value.as_slice())?;
                    tx.insert(member.as_slice(), &position.0)?;
                    Ok(None)
                });
            existing.map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })
        })?;
        let added = existing.is_none();
        // Also when it was there already: the first attach may still be waiting for the
        // disk, and this answer must not come before it.
        self.durable().await?;
        Ok(self
            .portfolio_item(broker, record.id)?
            .map(|item| (item, added)))
    }

    /// Gives a draft a new edit token digest, in one transaction with its edit index (the
    /// old token stops working at once), if `allowed` accepts the stored record. The draft
    /// is otherwise unchanged. `Ok(None)` for an unknown id; `Err(record)` when refused.
    pub async fn replace_edit_digest(
        &self,
        id: Uuid,
        new: &TokenDigest,
        allowed: impl Fn(&AssessmentRecord) -> bool,
    ) -> Result<Option<Result<AssessmentRecord, AssessmentRecord>>, StoreError> {
        let Some(rk) = self.record_key_of(id)? else {
            return Ok(None);
        };
        let abort = |e: StoreError| ConflictableTransactionError::Abort(e);
        let outcome = self.write(|| {
            let result: Result<_, TransactionError<StoreError>> = self.tree.transaction(|tx| {
                let Some(v) = tx.get(&rk)? else {
                    return Ok(None);
                };
                let mut record = AssessmentRecord::decode(&v).map_err(|e| abort(e.into()))?;
                if !allowed(&record) {
                    return Ok(Some(Err(record)));
                }
                let old = record.edit_digest().map_err(|e| abort(e.into()))?;
                record.edit_token_sha256 = new.to_hex();
                tx.remove(key(EDIT, &old.0))?;
                tx.insert(key(EDIT, &new.0), &rk[1..])?;
                tx.insert(rk.as_slice(), encode(&record).map_err(abort)?)?;
                Ok(Some(Ok(record)))
            });
            result.map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })
        })?;
        if matches!(outcome, Some(Ok(_))) {
            self.durable().await?;
        }
        Ok(outcome)
    }

    /// One item of a broker's portfolio; `None` when the assessment is not in it.
    pub fn portfolio_item(
        &self,
        broker: Uuid,
        id: Uuid,
    ) -> Result<Option<PortfolioItem>, StoreError> {
        let Some(p) = self.tree.get(member_key(broker, id))? else {
            return Ok(None);
        };
        let position = Position(
            p.as_ref()
                .try_into()
                .map_err(|_| StoreError::Corrupt("portfolio membership".into()))?,
        );
        match self.tree.get(entry_key(broker, &position))? {
            Some(v) => self.item(position, &v),
            None => Ok(None),
        }
    }

    fn item(&self, position: Position, entry: &[u8]) -> Result<Option<PortfolioItem>, StoreError> {
        self.item_of(position, decode(entry)?)
    }

    fn item_of(
        &self,
        position: Position,
        entry: PortfolioEntry,
    ) -> Result<Option<PortfolioItem>, StoreError> {
        let rk = entry
            .record_key()
            .ok_or_else(|| StoreError::Corrupt("portfolio entry".into()))?;
        let Some(v) = self.tree.get(key(RECORD, &rk))? else {
            return Ok(None);
        };
        Ok(Some(PortfolioItem {
            position,
            entry,
            record: decode(&v)?,
        }))
    }

    /// A page of a broker's portfolio, newest first: at most `limit` items that `keep`
    /// accepts, starting after `after` (a previous page's `next`). It looks at no more than
    /// `limit × SCAN_PER_ITEM` (at least `MIN_SCAN`) entries, so a filter that matches
    /// little returns a short page with a `next` to go on from.
    pub fn portfolio_page(
        &self,
        broker: Uuid,
        after: Option<Position>,
        limit: usize,
        keep: &impl PortfolioFilter,
    ) -> Result<PortfolioPage, StoreError> {
        let prefix = portfolio_prefix(broker);
        let end = match after {
            Some(p) => entry_key(broker, &p),
            None => {
                let mut e = prefix.clone();
                e.extend_from_slice(&[0xff; 25]);
                e
            }
        };
        // A filter that matches little must not read a whole portfolio for one page: past
        // the budget the page ends early, with a cursor to go on from.
        let budget = limit.saturating_mul(SCAN_PER_ITEM).max(MIN_SCAN);
        let mut page = PortfolioPage::default();
        let mut last_scanned = None;
        for (scanned, kv) in self.tree.range(prefix.clone()..end).rev().enumerate() {
            let (k, v) = kv?;
            let position = Position(
                k[prefix.len()..]
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("portfolio key".into()))?,
            );
            if scanned == budget {
                // The next page starts below the last entry looked at, that is here.
                page.next = last_scanned;
                break;
            }
            last_scanned = Some(position);
            let entry: PortfolioEntry = decode(&v)?;
            if !keep.entry(&entry) {
                continue;
            }
            let Some(item) = self.item_of(position, entry)? else {
                tracing::warn!("portfolio entry without its record");
                continue;
            };
            if !keep.item(&item) {
                continue;
            }
            if page.items.len() == limit {
                page.next = page.items.last().map(|i| i.position);
                break;
            }
            page.items.push(item);
        }
        Ok(page)
    }

    /// Every portfolio entry of every broker with its broker id (backups).
    pub(super) fn portfolio_entries(
        &self,
    ) -> impl Iterator<Item = Result<(Uuid, Position, PortfolioEntry), StoreError>> + '_ {
        self.tree.scan_prefix([PORTFOLIO]).map(|kv| {
            let (k, v) = kv?;
            let bad = || StoreError::Corrupt("portfolio key".into());
            let broker = Uuid::from_slice(&k[1..17]).map_err(|_| bad())?;
            let position = Position(k[17..].try_into().map_err(|_| bad())?);
            Ok((broker, position, decode(&v)?))
        })
    }

    /// Puts back a portfolio entry from a backup.
    pub(super) fn restore_entry(
        &self,
        broker: Uuid,
        position: Position,
        entry: &PortfolioEntry,
    ) -> Result<(), StoreError> {
        let id = position.assessment();
        let mut batch = sled::Batch::default();
        batch.insert(entry_key(broker, &position), encode(entry)?);
        batch.insert(member_key(broker, id), &position.0);
        self.write(|| Ok(self.tree.apply_batch(batch)?))
    }
}
