//! The admin API under `/api/v1/admin`: the command line's broker operations, for adding
//! brokers without stopping the server, and taking a peer snapshot. Off unless
//! `SHINDAN_ADMIN_TOKEN` is set; every route takes that token as a bearer token ([`Admin`]).

use actix_web::http::header;
use actix_web::{delete, get, post, web, HttpResponse};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Admin;
use super::error::{ApiError, ErrorCode};
use super::schema::BrokerStatusSchema;
use super::AppState;
use crate::accounts::{self, AccountError};
use crate::assessment::AssessmentError;
use crate::peers::Published;
use crate::store::{Broker, StoreError};

/// The `/api/v1/admin` scope.
pub fn routes() -> super::api_scope!() {
    utoipa_actix_web::scope("/api/v1/admin")
        .service(add)
        .service(list)
        .service(one)
        .service(revoke)
        .service(rotate)
        .service(peer_snapshot)
        .default_service(web::to(super::not_found))
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

/// A broker account as the admin API shows it: never its token or the token's digest.
#[derive(Serialize, ToSchema)]
struct BrokerView {
    id: Uuid,
    name: String,
    created_at: DateTime<Utc>,
    #[schema(value_type = BrokerStatusSchema)]
    status: &'static str,
    #[schema(required = true)]
    rotated_at: Option<DateTime<Utc>>,
    #[schema(required = true)]
    revoked_at: Option<DateTime<Utc>>,
}

impl BrokerView {
    fn of(b: &Broker) -> Self {
        BrokerView {
            id: b.id,
            name: b.name.clone(),
            created_at: b.created_at,
            status: b.status().as_str(),
            rotated_at: b.rotated_at,
            revoked_at: b.revoked_at,
        }
    }
}

/// A broker account with its new API token: only in the answer that made the token
/// (adding, rotating). Give it to the broker privately; it is never shown again.
#[derive(Serialize, ToSchema)]
struct NewBrokerView {
    #[serde(flatten)]
    broker: BrokerView,
    token: String,
}

fn no_store(mut res: actix_web::HttpResponseBuilder, body: impl Serialize) -> HttpResponse {
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body)
}

/// A new broker account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddRequest {
    /// The broker's name (1 to 100 characters, no control characters).
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*\S[^\x00-\x1f\x7f-\x9f]*$"
    )]
    name: String,
}

/// Adds a broker; the answer is the only place its token is shown.
#[utoipa::path(
    operation_id = "admin_add_broker",
    tag = "admin",
    security(("admin_token" = [])),
    request_body = AddRequest,
    responses(
        (status = 201, description = "Added, with its `token`.", body = NewBrokerView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 422, description = "`invalid_field`: `name` is empty or too long"),
    ),
)]
#[post("/brokers")]
#[tracing::instrument(skip_all)]
async fn add(
    state: web::Data<AppState>,
    _admin: Admin,
    body: web::Json<AddRequest>,
) -> Result<HttpResponse, ApiError> {
    let (broker, token) = accounts::add(&state.store, &body.name).await?;
    let out = NewBrokerView {
        broker: BrokerView::of(&broker),
        token: token.expose().to_string(),
    };
    Ok(no_store(HttpResponse::Created(), out))
}

/// Every broker account, revoked ones included.
#[utoipa::path(
    operation_id = "admin_list_brokers",
    tag = "admin",
    security(("admin_token" = [])),
    responses(
        (status = 200, description = "The brokers, never a token.", body = Vec<BrokerView>,
            headers(("Cache-Control" = String, description = "`no-store`"))),
    ),
)]
#[get("/brokers")]
async fn list(state: web::Data<AppState>, _admin: Admin) -> Result<HttpResponse, ApiError> {
    let brokers = state.store.brokers().map_err(AccountError::from)?;
    let out: Vec<BrokerView> = brokers.iter().map(BrokerView::of).collect();
    Ok(no_store(HttpResponse::Ok(), out))
}

/// One broker account.
#[utoipa::path(
    operation_id = "admin_get_broker",
    tag = "admin",
    security(("admin_token" = [])),
    params(("id" = String, Path, description = "The broker's id (a uuid).")),
    responses(
        (status = 200, description = "The broker, never its token.", body = BrokerView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, description = "`not_found`: no broker has this id"),
    ),
)]
#[get("/brokers/{id}")]
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
    Ok(no_store(HttpResponse::Ok(), BrokerView::of(&broker)))
}

/// Revokes a broker: its token and sessions stop working at once; its portfolio is kept.
#[utoipa::path(
    operation_id = "admin_revoke_broker",
    tag = "admin",
    security(("admin_token" = [])),
    params(("id" = String, Path, description = "The broker's id (a uuid).")),
    responses(
        (status = 200, description = "The broker, revoked.", body = BrokerView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, description = "`not_found`: no broker has this id"),
    ),
)]
#[delete("/brokers/{id}")]
#[tracing::instrument(skip_all)]
async fn revoke(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = accounts::parse_id(&id)?;
    let broker = accounts::revoke(&state.store, id).await?;
    Ok(no_store(HttpResponse::Ok(), BrokerView::of(&broker)))
}

/// Gives a broker a new token; the old one and its sessions stop working.
#[utoipa::path(
    operation_id = "admin_rotate_broker_token",
    tag = "admin",
    security(("admin_token" = [])),
    params(("id" = String, Path, description = "The broker's id (a uuid).")),
    responses(
        (status = 200, description = "The broker with its new `token`.", body = NewBrokerView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, description = "`not_found`: no broker has this id"),
        (status = 409, description = "`broker_revoked`: a revoked broker gets no new token"),
    ),
)]
#[post("/brokers/{id}/rotate")]
#[tracing::instrument(skip_all)]
async fn rotate(
    state: web::Data<AppState>,
    _admin: Admin,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = accounts::parse_id(&id)?;
    let (broker, token) = accounts::rotate(&state.store, id).await?;
    let out = NewBrokerView {
        broker: BrokerView::of(&broker),
        token: token.expose().to_string(),
    };
    Ok(no_store(HttpResponse::Ok(), out))
}

/// An empty object: a snapshot takes no parameter.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct SnapshotRequest {}

/// A published peer snapshot.
#[derive(Serialize, ToSchema)]
struct SnapshotView {
    id: Uuid,
    created_at: DateTime<Utc>,
    /// Companies counted (each once, by its latest submitted assessment).
    companies: usize,
}

/// Takes a peer snapshot now: 201 with it, or 409 `too_few_changes` (nothing stored). The
/// scan of every record runs on a blocking thread, never on a request worker.
#[utoipa::path(
    operation_id = "admin_take_peer_snapshot",
    tag = "admin",
    security(("admin_token" = [])),
    request_body = SnapshotRequest,
    responses(
        (status = 201, description = "Taken and published.", body = SnapshotView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 409, description = "`too_few_changes`: fewer than 5 companies changed in every questionnaire version since the last snapshot; nothing was stored"),
    ),
)]
#[post("/peer-snapshots")]
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
            Ok(no_store(
                HttpResponse::Created(),
                SnapshotView::of(&published),
            ))
        }
        Err(few) => Err(ApiError::new(ErrorCode::TooFewChanges, few.to_string())),
    }
}

impl SnapshotView {
    /// A snapshot as the admin API and the command line show it.
    pub fn of(p: &Published) -> Self {
        SnapshotView {
            id: p.id,
            created_at: p.created_at,
            companies: p.companies,
        }
    }
}
