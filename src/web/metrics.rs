//! `GET /metrics`: the Prometheus text of [`crate::metrics`], and the middleware that counts
//! every request by its route pattern.
//!
//! Two ways in:
//! - on the main port, only with the admin token (`Authorization: Bearer
//!   <SHINDAN_ADMIN_TOKEN>`, checked by [`Admin`] like the admin API: 401 `unauthorized`
//!   without it, 404 `admin_disabled` when no admin token is configured);
//! - on the optional `--metrics-bind` listener, which serves `/metrics` and nothing else,
//!   without authentication: bind it to an address only the monitoring network reaches.
//!
//! With metrics off (`--metrics off`) nothing is counted and `/metrics` is 404 `not_found`.
//! Requests for `/metrics` itself are not counted. The storage state and the peer
//! snapshot's age are read at each scrape.

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, HttpResponse};

use super::auth::Admin;
use super::error::{ApiError, ErrorCode};
use super::AppState;
use crate::metrics::{Metrics, ScrapeGauges, CONTENT_TYPE};
use crate::store::Store;

/// Where the metrics are served, on the main port and on the metrics listener.
pub const METRICS_PATH: &str = "/metrics";

/// What the metrics listener's handler reaches.
pub struct Scrape {
    pub metrics: Metrics,
    pub store: Arc<Store>,
}

/// Registers `/metrics` on the main port (behind the admin token).
pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(METRICS_PATH, web::get().to(with_admin_token));
}

/// Registers the metrics listener's only route; anything else there is 404.
pub fn listener_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("")
            .wrap(super::security_headers())
            .route(METRICS_PATH, web::get().to(open))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(ApiError::new(
                    ErrorCode::NotFound,
                    "this listener serves /metrics only",
                ))
            })),
    );
}

async fn with_admin_token(
    state: web::Data<AppState>,
    admin: Result<Admin, actix_web::Error>,
) -> actix_web::Result<HttpResponse> {
    if !state.metrics.is_on() {
        return Err(off().into());
    }
    admin?;
    Ok(render(&state.metrics, &state.store)?)
}

async fn open(scrape: web::Data<Scrape>) -> Result<HttpResponse, ApiError> {
    render(&scrape.metrics, &scrape.store)
}

fn off() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "metrics are off; start the server without --metrics off to collect them",
    )
}

/// The gauges read at a scrape: whether the store takes writes, and the age of the
/// published peer snapshot (none when there is no snapshot).
fn gauges(store: &Store) -> ScrapeGauges {
    ScrapeGauges {
        storage_writable: store.fault().is_none(),
        peer_snapshot_age: store.published_peers().map(|p| {
            let age = chrono::Utc::now() - p.created_at;
            age.num_milliseconds().max(0) as f64 / 1000.0
        }),
    }
}

fn render(metrics: &Metrics, store: &Store) -> Result<HttpResponse, ApiError> {
    let text = metrics
        .encode(&gauges(store))
        .ok_or_else(off)?
        .map_err(|e| {
            tracing::error!(error = %e, "the metrics could not be encoded");
            ApiError::new(ErrorCode::Internal, "the metrics could not be encoded")
        })?;
    Ok(HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(text))
}

/// Counts a request and its latency by method, route pattern (never its path) and status.
pub(super) async fn count_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|s| s.metrics.clone())
        .filter(Metrics::is_on);
    let Some(metrics) = metrics else {
        return next.call(req).await;
    };
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.call(req).await?;
    let route = res.request().match_pattern();
    if route.as_deref() != Some(METRICS_PATH) {
        metrics.request(
            method.as_str(),
            route.as_deref(),
            res.status().as_u16(),
            started.elapsed(),
        );
    }
    Ok(res)
}
