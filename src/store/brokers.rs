//! Broker accounts: `B` + broker id -> [`Broker`] (JSON), and `T` + SHA-256 of the broker's
//! token -> broker id. Only the token's digest is kept. Every change of an account writes
//! both keys in one batch, so the token index and the account never disagree after a crash.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sled::transaction::{ConflictableTransactionError, TransactionError};
use uuid::Uuid;

use super::{key, Store, StoreError};
use crate::tokens::{BrokerToken, TokenDigest};

pub(super) const BROKER: u8 = b'B';
pub(super) const BROKER_TOKEN: u8 = b'T';

/// Whether a broker may sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BrokerStatus {
    Active,
    Revoked,
}

impl BrokerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BrokerStatus::Active => "active",
            BrokerStatus::Revoked => "revoked",
        }
    }
}

/// A broker account as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Broker {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Hex SHA-256 of the current token.
    pub token_sha256: String,
    /// Counts token rotations; a session signed for an older generation is void.
    #[serde(default)]
    pub generation: u32,
    /// Counts sign-outs; a session signed before the last one is void.
    #[serde(default)]
    pub sessions: u32,
    #[serde(default)]
    pub rotated_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Broker {
    pub fn status(&self) -> BrokerStatus {
        if self.revoked_at.is_some() {
            BrokerStatus::Revoked
        } else {
            BrokerStatus::Active
        }
    }

    pub(super) fn token_digest(&self) -> Option<TokenDigest> {
        TokenDigest::from_hex(&self.token_sha256)
    }
}

fn encode(broker: &Broker) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(broker).map_err(|e| StoreError::Corrupt(e.to_string()))
}

impl Store {
    /// Creates a broker with a new token; the token is returned once and never stored.
    #[tracing::instrument(skip(self))]
    pub fn add_broker(&self, name: &str) -> Result<(Broker, BrokerToken), StoreError> {
        let token = BrokerToken::generate().map_err(|e| StoreError::Storage(e.to_string()))?;
        let broker = Broker {
            id: Uuid::new_v4(),
            name: name.to_string(),
            created_at: Utc::now(),
            token_sha256: token.digest().to_hex(),
            generation: 0,
            sessions: 0,
            rotated_at: None,
            revoked_at: None,
        };
        let mut batch = sled::Batch::default();
        batch.insert(key(BROKER_TOKEN, &token.digest().0), broker.id.as_bytes());
        batch.insert(key(BROKER, broker.id.as_bytes()), encode(&broker)?);
        self.write(|| Ok(self.tree.apply_batch(batch)?))?;
        Ok((broker, token))
    }

    /// Every broker, in id order.
    pub fn brokers(&self) -> Result<Vec<Broker>, StoreError> {
        self.tree
            .scan_prefix([BROKER])
            .map(|item| {
                let (_, v) = item?;
                serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(e.to_string()))
            })
            .collect()
    }

    /// One broker by id.
    pub fn broker(&self, id: Uuid) -> Result<Option<Broker>, StoreError> {
        self.tree
            .get(key(BROKER, id.as_bytes()))?
            .map(|v| serde_json::from_slice(&v).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    /// The active broker this token belongs to, if any. The lookup goes by the token's
    /// digest and the stored digest is compared in constant time.
    pub fn authenticate_broker(&self, token: &BrokerToken) -> Result<Option<Broker>, StoreError> {
        let digest = token.digest();
        let Some(id) = self.tree.get(key(BROKER_TOKEN, &digest.0))? else {
            return Ok(None);
        };
        let Ok(id) = Uuid::from_slice(&id) else {
            return Err(StoreError::Corrupt("broker token index".into()));
        };
        Ok(self.broker(id)?.filter(|b| {
            b.status() == BrokerStatus::Active
                && b.token_digest().is_some_and(|d| d.matches(&digest))
        }))
    }

    /// Changes a broker in one transaction: `change` sees the stored account and edits it
    /// or declines (`false`). The token index follows the account: only an active broker's
    /// current digest is in it. Two concurrent changes cannot undo each other (a revoke
    /// racing a rotation stays revoked). `None` for an unknown id; the flag says whether
    /// the change was made.
    fn change_broker(
        &self,
        id: Uuid,
        change: impl Fn(&mut Broker) -> bool,
    ) -> Result<Option<(Broker, bool)>, StoreError> {
        let k = key(BROKER, id.as_bytes());
        let abort = |e: StoreError| ConflictableTransactionError::Abort(e);
        self.write(|| {
            let result: Result<_, TransactionError<StoreError>> = self.tree.transaction(|tx| {
                let Some(v) = tx.get(&k)? else {
                    return Ok(None);
                };
                let old: Broker = serde_json::from_slice(&v)
                    .map_err(|e| abort(StoreError::Corrupt(e.to_string())))?;
                let mut new = old.clone();
                if !change(&mut new) {
                    return Ok(Some((old, false)));
                }
                if let Some(d) = old.token_digest() {
                    tx.remove(key(BROKER_TOKEN, &d.0))?;
                }
                if new.status() == BrokerStatus::Active {
                    if let Some(d) = new.token_digest() {
                        tx.insert(key(BROKER_TOKEN, &d.0), id.as_bytes())?;
                    }
                }
                tx.insert(k.as_slice(), encode(&new).map_err(abort)?)?;
                Ok(Some((new, true)))
            });
            result.map_err(|e| match e {
                TransactionError::Abort(e) => e,
                TransactionError::Storage(e) => e.into(),
            })
        })
    }

    /// Disables a broker at once: its token stops working. `None` for an unknown id.
    #[tracing::instrument(skip(self))]
    pub fn revoke_broker(&self, id: Uuid) -> Result<Option<Broker>, StoreError> {
        let now = Utc::now();
        let changed = self.change_broker(id, |b| {
            if b.revoked_at.is_some() {
                return false;
            }
            b.revoked_at = Some(now);
            true
        })?;
        Ok(changed.map(|(b, _)| b))
    }

    /// Gives an active broker a new token; the old one stops working, and so do the
    /// sessions signed in with it. `None` for an unknown or revoked broker.
    #[tracing::instrument(skip(self))]
    pub fn rotate_broker(&self, id: Uuid) -> Result<Option<(Broker, BrokerToken)>, StoreError> {
        let token = BrokerToken::generate().map_err(|e| StoreError::Storage(e.to_string()))?;
        let digest = token.digest().to_hex();
        let now = Utc::now();
        let changed = self.change_broker(id, |b| {
            if b.status() == BrokerStatus::Revoked {
                return false;
            }
            b.token_sha256 = digest.clone();
            b.generation += 1;
            b.rotated_at = Some(now);
            true
        })?;
        Ok(match changed {
            Some((b, true)) => Some((b, token)),
            _ => None,
        })
    }

    /// Ends every session of a broker (signing out), without changing its token.
    pub fn end_sessions(&self, id: Uuid) -> Result<(), StoreError> {
        self.change_broker(id, |b| {
            b.sessions = b.sessions.wrapping_add(1);
            true
        })?;
        Ok(())
    }

    /// Stores a broker from a backup as it was (its token digest included).
    pub(super) fn restore_broker(&self, broker: &Broker) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        if broker.status() == BrokerStatus::Active {
            let d = broker
                .token_digest()
                .ok_or_else(|| StoreError::Corrupt(format!("broker {}: bad digest", broker.id)))?;
            batch.insert(key(BROKER_TOKEN, &d.0), broker.id.as_bytes());
        }
        batch.insert(key(BROKER, broker.id.as_bytes()), encode(broker)?);
        self.write(|| Ok(self.tree.apply_batch(batch)?))
    }
}
