//! HTTP: actix-web routes, forms, the JSON API, errors -> responses, security headers and
//! request logs. Handlers are thin: parse the input, call `assessment` and `store`, render.
//! No business rule lives here.

mod admin;
mod api;
mod applicant;
mod assets;
pub mod auth;
mod broker;
mod broker_api;
pub mod csrf;
mod deadline;
mod error;
mod form;
mod lang;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod pages;
pub mod report;
pub mod schema;
pub mod session;
mod sized_cache;

use std::sync::Arc;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::{from_fn, DefaultHeaders, Next};
use actix_web::{web, HttpResponse};

pub use error::{ApiError, ErrorCode};
pub use lang::PageLang;

use crate::config::MAX_BODY_BYTES;
use crate::questionnaire::{parse_file, Catalog, Questionnaire};
use crate::store::Store;
use crate::store::{AssessmentRecord, Status};

/// The type a file of the JSON API returns its scope as (`-> api_scope!()`): a scope of
/// utoipa-actix-web, whose operations describe themselves in [`openapi`].
macro_rules! api_scope {
    () => {
        utoipa_actix_web::scope::Scope<
            impl actix_web::dev::ServiceFactory<
                actix_web::dev::ServiceRequest,
                Config = (),
                Response = actix_web::dev::ServiceResponse,
                Error = actix_web::Error,
                InitError = (),
            >,
        >
    };
}
use api_scope;

/// What the published peer snapshot lets one submitted record see.
#[derive(Debug, Clone, Default)]
pub struct PeerLookup {
    /// The revision of the snapshot's section of the record's questionnaire version:
    /// reports name it in their ETag, since what they show changes only with it.
    pub revision: Option<uuid::Uuid>,
    /// The comparison, when the section allows one for this record.
    pub view: Option<crate::peers::PeerView>,
}

/// What every handler can reach.
pub struct AppState {
    pub catalog: Catalog,
    pub store: Arc<Store>,
    /// Rendered reports by ETag.
    pub renders: report::RenderCache,
    /// Questionnaires of the archive (by content hash) that reports needed.
    pub archived: std::sync::Mutex<std::collections::HashMap<String, Arc<Questionnaire>>>,
    /// The configured public address: an http(s) origin as `url` serialises it (lower
    /// case, no default port, no trailing slash), checked at start.
    pub public_url: Option<String>,
    /// Signs broker session cookies.
    pub session_key: actix_web::cookie::Key,
    /// SHA-256 of the admin token; the admin API is off when `None`.
    pub admin_digest: Option<[u8; 32]>,
    pub limiters: limits::Limiters,
    /// How long a request's body may take to arrive after its head.
    pub body_timeout: std::time::Duration,
    /// The Prometheus metrics (off when switched off).
    pub metrics: crate::metrics::Metrics,
}

impl AppState {
    /// The peers a submitted record is compared with, by the rules of [`crate::peers`]:
    /// none for a draft or a record compared with a previous assessment.
    pub fn peers_for(&self, record: &AssessmentRecord) -> PeerLookup {
        if record.status != Status::Submitted || record.previous.is_some() {
            return PeerLookup::default();
        }
        let Some(published) = self.store.published_peers() else {
            return PeerLookup::default();
        };
        let qr = &record.questionnaire;
        let Some(section) = published.section(&qr.id, &qr.version) else {
            return PeerLookup::default();
        };
        PeerLookup {
            revision: Some(section.revision),
            view: section.view(&record.company(), record.id, record.segment()),
        }
    }

    /// The questionnaire a record was answered with: the loaded file when it is the same
    /// one (same content hash; any hash for a draft, which follows its version's file),
    /// else the archived text of the exact file a submitted record was scored with.
    pub fn questionnaire_for(&self, record: &AssessmentRecord) -> Option<Arc<Questionnaire>> {
        self.questionnaire_of(&record.questionnaire, record.status)
    }

    /// [`AppState::questionnaire_for`] by the record's questionnaire and status.
    pub fn questionnaire_of(
        &self,
        r: &crate::store::QuestionnaireRef,
        status: Status,
    ) -> Option<Arc<Questionnaire>> {
        if let Some(q) = self.catalog.get(&r.id, &r.version) {
            if q.hash == r.hash || status != Status::Submitted {
                return Some(q);
            }
        }
        if let Some(q) = self.archived.lock().ok()?.get(&r.hash) {
            return Some(q.clone());
        }
        let source = self.store.archived_questionnaire(&r.hash).ok()??;
        let name = format!("archive/{}", r.hash);
        let q = Arc::new(parse_file(std::path::Path::new(&name), &source).ok()?);
        if let Ok(mut cache) = self.archived.lock() {
            cache.insert(r.hash.clone(), q.clone());
        }
        Some(q)
    }
}

impl AppState {
    /// Whether the configured public address is served over HTTPS (cookies are then
    /// `Secure`).
    pub fn is_https(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }

    /// The absolute private link of a draft: where its company answers and comes back.
    pub fn answer_link(
        &self,
        req: &actix_web::HttpRequest,
        token: &crate::tokens::EditToken,
    ) -> String {
        format!("{}/a/{}", self.base_url(req), token.expose())
    }

    /// The address users reach the site at: the configured one; else, from a trusted
    /// reverse proxy, what its `Forwarded`/`X-Forwarded-Host`/`X-Forwarded-Proto` say; else
    /// the request's own `Host` over plain HTTP (what this server speaks). Forwarded
    /// headers from anyone else are the client's own word and never name our links.
    pub fn base_url(&self, req: &actix_web::HttpRequest) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        if self.limiters.from_trusted_proxy(req) {
            let info = req.connection_info();
            return format!("{}://{}", info.scheme(), info.host());
        }
        let host = req
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| req.uri().authority().map(|a| a.as_str()))
            .filter(|h| url::Url::parse(&format!("http://{h}")).is_ok_and(|u| u.path() == "/"))
            .map(str::to_string)
            .unwrap_or_else(|| req.app_config().local_addr().to_string());
        format!("http://{host}")
    }
}

/// The Referrer-Policy of every response. `same-origin`: a token URL never reaches another
/// site in a `Referer`, while our own form posts still carry a real `Origin` (under
/// `no-referrer` Chromium sends `Origin: null`, which cannot be told from a sandboxed page).
pub const REFERRER_POLICY: &str = "same-origin";

/// Asks search engines not to index pages behind a token.
pub const X_ROBOTS_TAG: &str = "x-robots-tag";

/// The Content-Security-Policy of every response: no script at all, styles from our own
/// stylesheet only.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Registers every route, extractor limit and middleware. The one place routes are listed.
/// Operations registered with `service` carry their OpenAPI description ([`openapi`]);
/// pages and files are registered with `route` and are not part of the API document.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.app_data(error::json_config())
        .app_data(error::path_config())
        .app_data(error::query_config())
        .app_data(web::PayloadConfig::new(MAX_BODY_BYTES))
        .service(
            utoipa_actix_web::scope("")
                .wrap(from_fn(deadline::body_deadline))
                .wrap(from_fn(log_request))
                .wrap(from_fn(metrics::count_request))
                .wrap(security_headers())
                .route("/healthz", web::get().to(healthz))
                .map(|scope| scope.configure(metrics::routes).configure(assets::routes))
                .service(broker_api::routes())
                .service(admin::routes())
                .service(api::routes())
                .map(|scope| {
                    scope
                        .configure(applicant::routes)
                        .configure(report::routes)
                        .configure(broker::routes)
                })
                .default_service(web::to(not_found)),
        );
}

/// The security headers every response carries.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::REFERRER_POLICY, REFERRER_POLICY))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY))
        .add((header::X_FRAME_OPTIONS, "DENY"))
}

/// Health in one plain-text line, for probes and people: 200 `ok`, or 503
/// `degraded: storage unavailable (disk full)` (or `I/O error`, `store failed`) once the
/// store refuses writes. Reads still work then; only a restart with a working disk clears
/// it, so one endpoint serves both alerting and a readiness probe (see the README).
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.fault() {
        None => HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ok"),
        Some(fault) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .insert_header((header::RETRY_AFTER, error::STORAGE_RETRY_AFTER_SECS))
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body(format!("degraded: storage unavailable ({fault})")),
    }
}

/// Unknown routes: JSON under the API, a page elsewhere.
pub(super) async fn not_found(
    req: actix_web::HttpRequest,
    lang: PageLang,
) -> actix_web::Result<HttpResponse> {
    if req.path().starts_with("/api/") {
        if let Some(allow) = openapi::methods_of(req.path()) {
            let mut e = ApiError::new(
                ErrorCode::MethodNotAllowed,
                format!(
                    "{} is not a method of this route (Allow: {allow})",
                    req.method()
                ),
            );
            e.allow = Some(allow);
            return Err(e.into());
        }
        Err(ApiError::new(ErrorCode::NotFound, "no such route").into())
    } else {
        Err(error::PageError::new(lang.lang, ErrorCode::NotFound).into())
    }
}

/// One log line per request, naming the route pattern (`/r/{token}`), never the path,
/// so that tokens never reach the logs.
async fn log_request(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().clone();
    let res = next.call(req).await?;
    let route = res
        .request()
        .match_pattern()
        .unwrap_or_else(|| "(no route)".into());
    tracing::info!(
        method = %method,
        route = %route,
        status = res.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    Ok(res)
}
