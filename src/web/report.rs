//! Report pages behind a report token.

use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpResponse};

use super::error::{ErrorCode, PageError};
use super::lang::PageLang;
use super::pages;
use super::AppState;
use crate::store::Status;
use crate::tokens::ReportToken;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/r/{token}", web::get().to(report_page));
}

async fn report_page(
    state: web::Data<AppState>,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let l = lang.lang;
    let not_found = || PageError::new(l, ErrorCode::NotFound);
    let token = ReportToken::parse(&token).ok_or_else(not_found)?;
    let record = state
        .store
        .find_by_report(&token.digest())
        .map_err(|e| PageError::from_assessment(l, e.into()))?
        .ok_or_else(not_found)?;
    let path = format!("/r/{}", token.expose());
    let (status, markup) = if record.status == Status::Submitted {
        let q = state
            .catalog
            .get(&record.questionnaire.id, &record.questionnaire.version)
            .ok_or_else(|| PageError::new(l, ErrorCode::QuestionnaireUnavailable))?;
        (StatusCode::OK, pages::report::page(l, &q, &record, &path))
    } else {
        (StatusCode::CONFLICT, pages::report::not_submitted(l, &path))
    };
    let mut res = HttpResponse::build(status);
    lang.remember(&mut res);
    Ok(res
        .content_type("text/html; charset=utf-8")
        .insert_header((super::X_ROBOTS_TAG, "noindex"))
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .body(markup.into_string()))
}
