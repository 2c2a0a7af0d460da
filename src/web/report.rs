//! Report pages and exports behind a report token: the page, its self-contained download,
//! the radar SVG and the CSV files. A report changes only when its comparison series
//! does, so every response carries an ETag and `If-None-Match` gets a 304.

use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use sha2::{Digest, Sha256};

use super::error::{ErrorCode, PageError};
use super::lang::PageLang;
use super::pages;
use super::AppState;
use crate::i18n::Lang;
use crate::questionnaire::Questionnaire;
use crate::report::{self, page::ReportPage};
use crate::store::{AssessmentRecord, PeerStats, Status};
use crate::tokens::ReportToken;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/r/{token}.csv", web::get().to(domains_csv))
        .route("/r/{token}", web::get().to(report_page))
        .route("/r/{token}/download", web::get().to(download))
        .route("/r/{token}/radar.svg", web::get().to(radar_svg))
        .route("/r/{token}/actions.csv", web::get().to(actions_csv));
}

/// A submitted report and what its analysis needs.
struct Loaded {
    token: ReportToken,
    record: AssessmentRecord,
    q: Arc<Questionnaire>,
    peers: Option<PeerStats>,
    segment: Option<PeerStats>,
    previous: Option<AssessmentRecord>,
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
        for stats in [&self.peers, &self.segment].into_iter().flatten() {
            h.update(stats.count.to_le_bytes());
        }
        if let Some(p) = &self.previous {
            h.update(p.id.as_bytes());
        }
        let digest = h.finalize();
        let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        format!("\"{hex}\"")
    }

    fn analysis(&self) -> report::Analysis<'_> {
        report::analyse(
            &self.q,
            &self.record,
            self.peers.as_ref(),
            self.segment.as_ref(),
            self.previous.as_ref(),
        )
    }
}

/// Finds a submitted report; a draft is a 409 page, an unknown token a 404.
fn load(
    state: &AppState,
    lang: Lang,
    token: &str,
) -> Result<Result<Loaded, HttpResponse>, PageError> {
    let not_found = || PageError::new(lang, ErrorCode::NotFound);
    let store_err = |e: crate::store::StoreError| PageError::from_assessment(lang, e.into());
    let token = ReportToken::parse(token).ok_or_else(not_found)?;
    let record = state
        .store
        .find_by_report(&token.digest())
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
        .catalog
        .get(&record.questionnaire.id, &record.questionnaire.version)
        .ok_or_else(|| PageError::new(lang, ErrorCode::QuestionnaireUnavailable))?;
    let previous = match record.previous.as_deref().and_then(ReportToken::parse) {
        Some(t) => state.store.find_by_report(&t.digest()).map_err(store_err)?,
        None => None,
    };
    let (peers, segment) = if previous.is_some() {
        (None, None)
    } else {
        let qr = &record.questionnaire;
        let all = state
            .store
            .peer_stats(&qr.id, &qr.version, None)
            .map_err(store_err)?;
        let seg = match record.segment() {
            Some(s) => Some(
                state
                    .store
                    .peer_stats(&qr.id, &qr.version, Some(s))
                    .map_err(store_err)?,
            ),
            None => None,
        };
        (Some(all), seg)
    };
    Ok(Ok(Loaded {
        token,
        record,
        q,
        peers,
        segment,
        previous,
    }))
}

/// Answers 304 when the client holds this version, else builds the body.
fn respond(
    req: &HttpRequest,
    lang: &PageLang,
    etag: String,
    content_type: &str,
    attachment: Option<String>,
    body: impl FnOnce() -> String,
) -> HttpResponse {
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
    res.insert_header((header::ETAG, etag))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .insert_header((super::X_ROBOTS_TAG, "noindex"))
        .insert_header((header::VARY, "Cookie, Accept-Language"));
    if let Some(name) = attachment {
        res.insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ));
    }
    if fresh {
        return res.finish();
    }
    res.content_type(content_type).body(body())
}

macro_rules! loaded {
    ($state:expr, $lang:expr, $token:expr) => {
        match load(&$state, $lang.lang, &$token)? {
            Ok(l) => l,
            Err(draft) => return Ok(draft),
        }
    };
}

async fn report_page(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let l = loaded!(state, lang, token);
    let etag = l.etag(lang.lang, "page");
    Ok(respond(
        &req,
        &lang,
        etag,
        "text/html; charset=utf-8",
        None,
        || render(&l, lang.lang, false),
    ))
}

async fn download(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let l = loaded!(state, lang, token);
    let etag = l.etag(lang.lang, "download");
    let name = format!("shindan-report-{}-{}.html", l.record.id, lang.lang.code());
    Ok(respond(
        &req,
        &lang,
        etag,
        "text/html; charset=utf-8",
        Some(name),
        || render(&l, lang.lang, true),
    ))
}

fn render(l: &Loaded, lang: Lang, self_contained: bool) -> String {
    let analysis = l.analysis();
    let radar = report::radar_svg(&analysis, lang);
    let path = l.path();
    report::page::render(&ReportPage {
        lang,
        analysis: &analysis,
        record: &l.record,
        radar: &radar,
        path: &path,
        self_contained,
    })
    .into_string()
}

async fn radar_svg(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let l = loaded!(state, lang, token);
    let etag = l.etag(lang.lang, "svg");
    Ok(respond(&req, &lang, etag, "image/svg+xml", None, || {
        report::radar_svg(&l.analysis(), lang.lang)
    }))
}

async fn domains_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let l = loaded!(state, lang, token);
    let etag = l.etag(lang.lang, "csv");
    let name = format!("shindan-scores-{}.csv", l.record.id);
    Ok(respond(
        &req,
        &lang,
        etag,
        "text/csv; charset=utf-8",
        Some(name),
        || report::csv::domains(&l.analysis(), lang.lang),
    ))
}

async fn actions_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let l = loaded!(state, lang, token);
    let etag = l.etag(lang.lang, "actions");
    let name = format!("shindan-actions-{}.csv", l.record.id);
    Ok(respond(
        &req,
        &lang,
        etag,
        "text/csv; charset=utf-8",
        Some(name),
        || report::csv::actions(&l.analysis(), lang.lang),
    ))
}
