//! The admin API under `/api/v1/admin`: the command line's broker operations, for adding
//! brokers without stopping the server, and taking a peer snapshot. Off unless
//! `SHINDAN_ADMIN_TOKEN` is set; every route takes that token as a bearer token ([`Admin`]).

use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Admin;
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::accounts::{self, AccountError};
use crate::assessment::AssessmentError;
use crate::peers::Published;
use crate::store::{Broker, StoreError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/admin")
            .route("/brokers", web::post().to(add))
            .route("/brokers", web::get().to(list))
            .route("/brokers/{id}", web::get().to(one))
            .route("/brokers/{id}", web::delete().to(revoke))
            .route("/brokers/{id}/rotate", web::post().to(rotate))
            .route("/peer-snapshots", web::post().to(peer_snapshot))
            .default_service(web::to(super::not_found)),
    );
}

impl From<AccountError> for ApiError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::InvalidName => {
                ApiError::new(ErrorCode::InvalidField, e.to_string()).with_field("name")
            }
            AccountError::NotFound(_) => ApiError::new(ErrorCode::NotFound, "no such broker"),
            AccountError::Revoked(_) => ApiError::new(ErrorCode::BrokerRevoked, e.to_string()),
            AccountError::Store(e) => crate::assessment::AssessmentError::Store(e).into(),
        }
    }
}

/// A broker as the admin API shows it: never its token or the token's digest.
fn broker_json(b: &Broker) -> Value {
    json!({
        "id": b.id,
        "name": b.name,
        "created_at": b.created_at,
        "status": b.status().as_str(),
        "rotated_at": b.rotated_at,
        "revoked_at": b.revoked_at,
    })
}

fn no_store(mut res: actix_web::HttpResponseBuilder, body: Value) -> HttpResponse {
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddRequest {
    name: String,
}

#[tracing::instrument(skip_all)]
async fn add(
    state: web::Data<AppState>,
    _admin: Admin,
    body: web::Json<AddRequest>,
) -> Result<HttpResponse, ApiError> {
    let (broker, token) = accounts::add(&state.store, &body.name).await?;
    let mut out = broker_json(&broker);
    out["token"] = token.expose().into();
    Ok(no_store(HttpResponse::Created(), out))
}

async fn list(state: web::Data<AppState>, _admin: Admin) -> Result<HttpResponse, ApiError> {
    let brokers = state.store.brokers().map_err(AccountError::from)?;
    Ok(no_store(
        HttpResponse::Ok(),
        brokers.iter().map(broker_json).collect(),
    ))
}

async fn one(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = accounts::parse_id(&id)?;
    let broker = state
        .store
        .broker(id)
        .map_err(AccountError::from)?
        .ok_or_else(|| AccountError::NotFound(id.to_string()))?;
    Ok(no_store(HttpResponse::Ok(), broker_json(&broker)))
}

#[tracing::instrument(skip_all)]
async fn revoke(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = accounts::parse_id(&id)?;
    let broker = accounts::revoke(&state.store, id).await?;
    Ok(no_store(HttpResponse::Ok(), broker_json(&broker)))
}

#[tracing::instrument(skip_all)]
async fn rotate(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = accounts::parse_id(&id)?;
    let (broker, token) = accounts::rotate(&state.store, id).await?;
    let mut out = broker_json(&broker);
    out["token"] = token.expose().into();
    Ok(no_store(HttpResponse::Ok(), out))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotRequest {}

/// A snapshot as the admin API and the command line show it.
fn snapshot_json(p: &Published) -> Value {
    json!({"id": p.id, "created_at": p.created_at, "companies": p.companies})
}

/// Takes a peer snapshot now: 201 with it, or 409 `too_few_changes` (nothing stored). The
/// scan of every record runs on a blocking thread, never on a request worker.
#[tracing::instrument(skip_all)]
async fn peer_snapshot(
    state: web::Data<AppState>,
    _admin: Admin,
    _body: web::Json<SnapshotRequest>,
) -> Result<HttpResponse, ApiError> {
    let store = state.store.clone();
    let taken = web::block(move || store.take_peer_snapshot(chrono::Utc::now()))
        .await
        .map_err(|e| StoreError::Storage(e.to_string()))
        .and_then(|r| r)
        .map_err(AssessmentError::from)?;
    match taken {
        Ok(published) => {
            tracing::info!(id = %published.id, companies = published.companies, "peer snapshot taken");
            Ok(no_store(HttpResponse::Created(), snapshot_json(&published)))
        }
        Err(few) => Err(ApiError::new(ErrorCode::TooFewChanges, few.to_string())),
    }
}
