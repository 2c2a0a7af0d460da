//! Broker accounts as operators manage them, from the command line or the admin API: the
//! rules for a broker's name and the durable add / revoke / rotate operations. Knows no
//! HTTP type; the store keeps the accounts.

use thiserror::Error;
use uuid::Uuid;

use crate::store::{Broker, BrokerStatus, Store, StoreError};
use crate::tokens::BrokerToken;

/// The longest broker name, in characters.
pub const MAX_BROKER_NAME_CHARS: usize = 100;

/// Why an account operation was refused.
#[derive(Debug, Error)]
pub enum AccountError {
    #[error(
        "the name must have 1 to {MAX_BROKER_NAME_CHARS} characters and no control characters"
    )]
    InvalidName,
    #[error("no broker has the id {0}")]
    NotFound(String),
    #[error("broker {0} is revoked; add a new broker instead")]
    Revoked(Uuid),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A broker's display name: trimmed, 1 to [`MAX_BROKER_NAME_CHARS`] characters.
pub fn parse_name(raw: &str) -> Result<String, AccountError> {
    crate::names::clean(raw, MAX_BROKER_NAME_CHARS).ok_or(AccountError::InvalidName)
}

/// A broker id as typed by an operator.
pub fn parse_id(raw: &str) -> Result<Uuid, AccountError> {
    Uuid::parse_str(raw.trim()).map_err(|_| AccountError::NotFound(raw.to_string()))
}

/// Creates a broker; its token is returned once.
pub async fn add(store: &Store, name: &str) -> Result<(Broker, BrokerToken), AccountError> {
    let name = parse_name(name)?;
    let created = store.add_broker(&name)?;
    store.durable().await?;
    Ok(created)
}

/// Disables a broker at once.
pub async fn revoke(store: &Store, id: Uuid) -> Result<Broker, AccountError> {
    let broker = store
        .revoke_broker(id)?
        .ok_or_else(|| AccountError::NotFound(id.to_string()))?;
    store.durable().await?;
    Ok(broker)
}

/// Gives a broker a new token; the old one and its sessions stop working.
pub async fn rotate(store: &Store, id: Uuid) -> Result<(Broker, BrokerToken), AccountError> {
    match store.rotate_broker(id)? {
        Some(rotated) => {
            store.durable().await?;
            Ok(rotated)
        }
        None => match store.broker(id)? {
            Some(b) if b.status() == BrokerStatus::Revoked => Err(AccountError::Revoked(id)),
            _ => Err(AccountError::NotFound(id.to_string())),
        },
    }
}
