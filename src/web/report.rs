//! Report pages and exports behind a report token: the page, its self-contained download,
//! the PDF, the radar SVG and the CSV files. A report changes only when its comparison series
//! does, that is when a new peer snapshot refreshes its questionnaire version (never with
//! a submission), so every response carries an ETag and `If-None-Match` gets a 304.

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use actix_web::http::{header, StatusCode};
use actix_web::web::Bytes;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use lru::LruCache;
use sha2::{Digest, Sha256};

use super::error::{ErrorCode, PageError};
use super::lang::PageLang;
use super::pages;
use super::sized_cache::SizedCache;
use super::{AppState, PeerLookup};
use crate::i18n::Lang;
use crate::metrics::{Metrics, ReportCache};
use crate::questionnaire::Questionnaire;
use crate::report::{self, page::ReportPage, pdf::ReportPdf};
use crate::store::{AssessmentRecord, Status, Store, StoreError};
use crate::tokens::{ReportToken, TokenDigest};

/// Rendered representations kept in memory.
pub const RENDER_CACHE_ENTRIES: usize = 512;

/// The most bytes of rendered PDFs kept in memory. A PDF weighs tens to hundreds of
/// kilobytes (its font subsets), so its cache is bounded by size, not count.
pub const PDF_CACHE_BYTES: usize = 16 * 1024 * 1024;

/// Rendered reports by ETag, and submitted records by report-token digest. An ETag names
/// the exact bytes (record, language, kind, comparison inputs) and a submitted record
/// never changes, so no entry ever goes stale: a changed report has a new key.
pub struct RenderCache {
    bodies: Mutex<LruCache<String, Bytes>>,
    pdfs: Mutex<SizedCache>,
    /// One permit per core: PDFs typeset at once. More would only share the cores and
    /// hold more typesetting memory at a time (each compile holds tens of MiB).
    typesetters: Arc<tokio::sync::Semaphore>,
    records: Mutex<LruCache<[u8; 32], Arc<AssessmentRecord>>>,
    /// Counts hits and misses of the rendered representations.
    metrics: Metrics,
}

impl Default for RenderCache {
    fn default() -> Self {
        let entries = NonZeroUsize::new(RENDER_CACHE_ENTRIES).unwrap_or(NonZeroUsize::MIN);
        RenderCache {
            bodies: Mutex::new(LruCache::new(entries)),
            pdfs: Mutex::new(SizedCache::new(PDF_CACHE_BYTES)),
            typesetters: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
            records: Mutex::new(LruCache::new(entries)),
            metrics: Metrics::off(),
        }
    }
}

impl RenderCache {
    /// An empty cache that counts its hits and misses in `metrics`.
    pub fn with_metrics(metrics: Metrics) -> RenderCache {
        RenderCache {
            metrics,
            ..RenderCache::default()
        }
    }

    /// A report's record: from the cache when it is submitted (and so immutable).
    fn record(
        &self,
        store: &Store,
        digest: &TokenDigest,
    ) -> Result<Option<Arc<AssessmentRecord>>, StoreError> {
        if let Some(hit) = self
            .records
            .lock()
            .ok()
            .and_then(|mut c| c.get(&digest.0).cloned())
        {
            return Ok(Some(hit));
        }
        let Some(record) = store.find_by_report(digest)? else {
            return Ok(None);
        };
        let record = Arc::new(record);
        if record.status == Status::Submitted {
            if let Ok(mut c) = self.records.lock() {
                c.put(digest.0, record.clone());
            }
        }
        Ok(Some(record))
    }

    fn pdf(&self, key: &str) -> Option<Bytes> {
        self.pdfs.lock().ok().and_then(|mut c| c.get(key))
    }

    fn put_pdf(&self, key: &str, body: Bytes) {
        if let Ok(mut c) = self.pdfs.lock() {
            c.put(key.to_string(), body);
        }
    }

    fn get_or_render(&self, key: &str, render: impl FnOnce() -> String) -> Bytes {
        if let Some(hit) = self
            .bodies
            .lock()
            .ok()
            .and_then(|mut c| c.get(key).cloned())
        {
            self.metrics.report_cache(ReportCache::Render, true);
            return hit;
        }
        self.metrics.report_cache(ReportCache::Render, false);
        let body = Bytes::from(render());
        if let Ok(mut c) = self.bodies.lock() {
            c.put(key.to_string(), body.clone());
        }
        body
    }
}

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/r/{token}.csv", web::get().to(domains_csv))
        .route("/r/{token}.pdf", web::get().to(report_pdf))
        .route("/r/{token}", web::get().to(report_page))
        .route("/r/{token}/download", web::get().to(download))
        .route("/r/{token}/radar.svg", web::get().to(radar_svg))
        .route("/r/{token}/actions.csv", web::get().to(actions_csv));
}

/// A submitted report and what its analysis needs.
struct Loaded {
    token: ReportToken,
    record: Arc<AssessmentRecord>,
    q: Arc<Questionnaire>,
    /// What the published peer snapshot lets this report show (nothing when it compares
    /// with a previous assessment).
    peers: PeerLookup,
    previous: Option<Arc<AssessmentRecord>>,
}

impl Loaded {
    fn path(&self) -> String {
        format!("/r/{}", self.token.expose())
    }

    /// Changes whenever the bytes of any representation would.
    fn etag(&self, lang: Lang, kind: &str) -> String {
        let mut h = Sha256::new();
        h.update(env!("CARGO_PKG_VERSION"));
        h.update(kind);
        h.update(lang.code());
        h.update(self.record.id.as_bytes());
        h.update(self.record.updated_at.to_rfc3339());
        h.update(&self.q.hash);
        if kind == "pdf" {
            h.update(report::pdf::template_digest());
        }
        // The view is a function of the record and the section's revision alone.
        if let Some(revision) = self.peers.revision {
            h.update(revision.as_bytes());
        }
        if let Some(p) = &self.previous {
            h.update(p.id.as_bytes());
        }
        let digest = h.finalize();
        format!("\"{}\"", hex::encode(&digest[..12]))
    }

    /// Runs `f` on the report's analysis.
    fn with_analysis<R>(&self, f: impl FnOnce(&report::Analysis) -> R) -> R {
        let analysis = report::analyse(
            &self.q,
            &self.record,
            self.peers.view.as_ref(),
            self.previous.as_deref(),
        );
        f(&analysis)
    }
}

/// Finds a submitted report; a draft is a 409 page, an unknown token a 404.
fn load(
    state: &AppState,
    lang: Lang,
    token: &str,
) -> Result<Result<Loaded, HttpResponse>, PageError> {
    let not_found = || PageError::new(lang, ErrorCode::NotFound);
    let store_err = |e: StoreError| PageError::from_assessment(lang, e.into());
    let token = ReportToken::parse(token).ok_or_else(not_found)?;
    let record = state
        .renders
        .record(&state.store, &token.digest())
        .map_err(store_err)?
        .ok_or_else(not_found)?;
    if record.status != Status::Submitted {
        let page = pages::report::not_submitted(lang, &format!("/r/{}", token.expose()));
        return Ok(Err(HttpResponse::build(StatusCode::CONFLICT)
            .content_type("text/html; charset=utf-8")
            .insert_header((super::X_ROBOTS_TAG, "noindex"))
            .body(page.into_string())));
    }
    let q = state
        .questionnaire_for(&record)
        .ok_or_else(|| PageError::new(lang, ErrorCode::QuestionnaireUnavailable))?;
    // Stored data that does not fit its questionnaire is refused whole, never shown wrong.
    report::check(&q, &record).map_err(|e| PageError::inconsistent_record(lang, &e))?;
    let previous = match record.previous.as_deref().and_then(ReportToken::parse) {
        Some(t) => state
            .renders
            .record(&state.store, &t.digest())
            .map_err(store_err)?,
        None => None,
    };
    let peers = state.peers_for(&record);
    Ok(Ok(Loaded {
        token,
        record,
        q,
        peers,
        previous,
    }))
}

/// The head every representation shares (ETag, no-store, noindex, the file name of an
/// attachment), and whether the client already holds this version.
fn head(
    req: &HttpRequest,
    lang: &PageLang,
    etag: &str,
    attachment: Option<String>,
) -> (HttpResponseBuilder, bool) {
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if fresh {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    lang.remember(&mut res);
    res.insert_header((header::ETAG, etag.to_string()))
        // Reached by a token: never kept by a browser or a proxy. Clients that keep the
        // ETag themselves still get 304.
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((super::X_ROBOTS_TAG, "noindex"))
        .insert_header((header::VARY, "Cookie, Accept-Language"));
    if let Some(name) = attachment {
        res.insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ));
    }
    (res, fresh)
}

/// Answers 304 when the client holds this version, else the cached or new body.
fn respond(
    cache: &RenderCache,
    req: &HttpRequest,
    lang: &PageLang,
    etag: String,
    content_type: &str,
    attachment: Option<String>,
    body: impl FnOnce() -> String,
) -> HttpResponse {
    let (mut res, fresh) = head(req, lang, &etag, attachment);
    if fresh {
        return res.finish();
    }
    let bytes = cache.get_or_render(&etag, body);
    res.content_type(content_type).body(bytes)
}

/// The representations of a report.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Page,
    Download,
    Svg,
    DomainsCsv,
    ActionsCsv,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::Download => "download",
            Kind::Svg => "svg",
            Kind::DomainsCsv => "csv",
            Kind::ActionsCsv => "actions",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Kind::Page | Kind::Download => "text/html; charset=utf-8",
            Kind::Svg => "image/svg+xml",
            Kind::DomainsCsv | Kind::ActionsCsv => "text/csv; charset=utf-8",
        }
    }

    /// The file name of a representation sent as an attachment.
    fn attachment(self, l: &Loaded, lang: Lang) -> Option<String> {
        let id = l.record.id;
        match self {
            Kind::Page | Kind::Svg => None,
            Kind::Download => Some(format!("shindan-report-{id}-{}.html", lang.code())),
            Kind::DomainsCsv => Some(format!("shindan-scores-{id}.csv")),
            Kind::ActionsCsv => Some(format!("shindan-actions-{id}.csv")),
        }
    }

    fn render(self, l: &Loaded, lang: Lang) -> String {
        l.with_analysis(|analysis| match self {
            Kind::Page | Kind::Download => {
                let radar = report::radar_svg(analysis, lang);
                let path = l.path();
                report::page::render(&ReportPage {
                    lang,
                    analysis,
                    record: &l.record,
                    radar: &radar,
                    path: &path,
                    self_contained: matches!(self, Kind::Download),
                })
                .into_string()
            }
            Kind::Svg => report::radar_svg(analysis, lang),
            Kind::DomainsCsv => report::csv::domains(analysis, lang),
            Kind::ActionsCsv => report::csv::actions(analysis, lang),
        })
    }
}

/// Serves one representation of a report: 409 for a draft, 304 when the client holds
/// it, else from the cache or freshly rendered.
fn serve(
    state: &AppState,
    req: &HttpRequest,
    lang: &PageLang,
    token: &str,
    kind: Kind,
) -> Result<HttpResponse, PageError> {
    let l = match load(state, lang.lang, token)? {
        Ok(l) => l,
        Err(draft) => return Ok(draft),
    };
    let etag = l.etag(lang.lang, kind.name());
    Ok(respond(
        &state.renders,
        req,
        lang,
        etag,
        kind.content_type(),
        kind.attachment(&l, lang.lang),
        || kind.render(&l, lang.lang),
    ))
}

async fn report_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    serve(&state, &req, &lang, &token, Kind::Page)
}

async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    serve(&state, &req, &lang, &token, Kind::Download)
}

async fn radar_svg(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    serve(&state, &req, &lang, &token, Kind::Svg)
}

async fn domains_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    serve(&state, &req, &lang, &token, Kind::DomainsCsv)
}

async fn actions_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    serve(&state, &req, &lang, &token, Kind::ActionsCsv)
}

/// The report as a PDF file.
async fn report_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    match load(&state, lang.lang, &token)? {
        Ok(l) => pdf(&state, &req, &lang, l).await,
        Err(draft) => Ok(draft),
    }
}

/// The PDF of a submitted report that a broker's portfolio holds, for the broker API:
/// `None` when the report is not submitted (a draft has no PDF).
pub(super) async fn portfolio_pdf(
    state: &AppState,
    req: &HttpRequest,
    lang: &PageLang,
    token: &str,
) -> Result<Option<HttpResponse>, PageError> {
    match load(state, lang.lang, token)? {
        Ok(l) => pdf(state, req, lang, l).await.map(Some),
        Err(_draft) => Ok(None),
    }
}

/// Answers 304 when the client holds this PDF, else the cached one or one typeset on a
/// blocking thread, so that workers never wait on typesetting.
async fn pdf(
    state: &AppState,
    req: &HttpRequest,
    lang: &PageLang,
    l: Loaded,
) -> Result<HttpResponse, PageError> {
    let etag = l.etag(lang.lang, "pdf");
    let name = format!(
        "shindan-report-{}-{}-{}.pdf",
        l.record.id,
        report::analysis::submitted_day(&l.record),
        lang.lang.code()
    );
    let (mut res, fresh) = head(req, lang, &etag, Some(name));
    if fresh {
        return Ok(res.finish());
    }
    if let Some(hit) = state.renders.pdf(&etag) {
        state.renders.metrics.report_cache(ReportCache::Pdf, true);
        return Ok(res.content_type("application/pdf").body(hit));
    }
    let language = lang.lang;
    let fail = |e: &dyn std::fmt::Display| {
        PageError::internal(language, "a report could not be typeset as PDF", e)
    };
    // The semaphore is never closed, so acquiring only ever waits.
    let permit = state
        .renders
        .typesetters
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| fail(&e))?;
    // Typeset by a request that held the permit while this one waited.
    if let Some(hit) = state.renders.pdf(&etag) {
        state.renders.metrics.report_cache(ReportCache::Pdf, true);
        return Ok(res.content_type("application/pdf").body(hit));
    }
    state.renders.metrics.report_cache(ReportCache::Pdf, false);
    let rendered = web::block(move || {
        // Held by the typesetting itself, so that a client going away while it runs
        // cannot free the core it uses.
        let _permit = permit;
        l.with_analysis(|analysis| {
            let radar = report::radar_svg(analysis, language);
            report::pdf::render(&ReportPdf {
                lang: language,
                analysis,
                record: &l.record,
                radar: &radar,
            })
        })
    })
    .await;
    let pdf = rendered.map_err(|e| fail(&e))?.map_err(|e| fail(&e))?;
    let body = Bytes::from(pdf);
    state.renders.put_pdf(&etag, body.clone());
    Ok(res.content_type("application/pdf").body(body))
}
