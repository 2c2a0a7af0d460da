//! The broker API under `/api/v1/broker`: invitations, the portfolio (paged, filtered, as
//! CSV), one item with its scores, and attaching a company's own report. Every route takes
//! the broker's bearer token ([`ApiBroker`]); an assessment outside the broker's portfolio
//! is 404, exactly as an unknown one.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::api::{peers_json, report_url, scores_json};
use super::auth::ApiBroker;
use super::error::{ApiError, ErrorCode};
use super::lang::PageLang;
use super::AppState;
use crate::assessment::{
    self, application_readiness, AssessmentError, ClientName, Readiness, Reissue,
};
use crate::report::csv;
use crate::scoring::{format1, round1};
use crate::store::{
    PortfolioEntry, PortfolioFilter, PortfolioItem, PortfolioPage, PortfolioStatus, Position,
    Status,
};

/// Items per page when the client does not say.
pub const DEFAULT_PAGE_SIZE: usize = 25;
/// The most items one page may hold.
pub const MAX_PAGE_SIZE: usize = 100;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/broker")
            .route("/invitations", web::post().to(invite))
            .route("/assessments", web::get().to(list))
            .route("/assessments.csv", web::get().to(list_csv))
            .route("/assessments/attach", web::post().to(attach))
            .route("/assessments/{id}", web::get().to(detail))
            .route("/assessments/{id}/invitation", web::post().to(reissue))
            .route("/assessments/{id}/report.pdf", web::get().to(report_pdf))
            .default_service(web::to(super::not_found)),
    );
}

/// A portfolio query as the API and the pages take it, raw.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub status: Option<String>,
    pub q: Option<String>,
    pub limit: Option<String>,
    pub cursor: Option<String>,
}

/// A checked portfolio query.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub status: Option<PortfolioStatus>,
    /// The client name to look for, folded; empty means any.
    pub name: String,
    pub limit: usize,
    pub after: Option<Position>,
}

impl ListQuery {
    /// Checks every parameter; the error names the first bad one.
    pub fn parse(&self) -> Result<Filter, ApiError> {
        let bad = |field: &str, message: &str| {
            ApiError::new(ErrorCode::InvalidQuery, message).with_field(field)
        };
        let status = match self.status.as_deref().map(str::trim) {
            None | Some("") | Some("all") => None,
            Some(s) => Some(PortfolioStatus::parse(s).ok_or_else(|| {
                bad("status", "status must be invited, in_progress or submitted")
            })?),
        };
        let limit = match self.limit.as_deref() {
            None | Some("") => DEFAULT_PAGE_SIZE,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                .ok_or_else(|| bad("limit", "limit must be a whole number from 1 to 100"))?,
        };
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => Some(
                Position::from_cursor(c)
                    .ok_or_else(|| bad("cursor", "cursor is not one this API returned"))?,
            ),
        };
        let name = crate::names::fold(self.q.as_deref().unwrap_or(""));
        if name.chars().count() > assessment::MAX_CLIENT_NAME_CHARS {
            return Err(bad("q", "q is longer than any client name"));
        }
        Ok(Filter {
            status,
            name,
            limit,
            after,
        })
    }
}

impl PortfolioFilter for Filter {
    /// The name filter, on the entry alone.
    fn entry(&self, entry: &PortfolioEntry) -> bool {
        self.name.is_empty() || crate::names::fold(&entry.client_name).contains(&self.name)
    }

    /// The status filter, which needs the record.
    fn item(&self, item: &PortfolioItem) -> bool {
        self.status
            .is_none_or(|s| item.record.portfolio_status() == s)
    }
}

/// One page of a broker's portfolio.
pub fn page(
    state: &AppState,
    broker: Uuid,
    filter: &Filter,
) -> Result<PortfolioPage, AssessmentError> {
    Ok(state
        .store
        .portfolio_page(broker, filter.after, filter.limit, filter)?)
}

/// What `f` makes of the application readiness of a submitted item, when its
/// questionnaire asks for application-form items at all. A draft shows none: the client
/// is told its answers reach the broker once submitted.
pub fn with_readiness<T>(
    state: &AppState,
    item: &PortfolioItem,
    f: impl FnOnce(&Readiness) -> T,
) -> Option<T> {
    let r = &item.record;
    if r.status != Status::Submitted {
        return None;
    }
    let q = state.questionnaire_of(&r.questionnaire, r.status)?;
    let readiness = application_readiness(&q, |id| r.answered_profile.contains(id));
    readiness.applies().then(|| f(&readiness))
}

/// An item as the API shows it.
pub fn item_json(state: &AppState, item: &PortfolioItem) -> Value {
    let r = &item.record;
    let scores = r.scores.as_ref();
    let ids = |fields: &[&crate::questionnaire::ProfileField]| {
        fields.iter().map(|f| f.id.clone()).collect::<Vec<_>>()
    };
    let application = with_readiness(
        state,
        item,
        |a| json!({"answered": ids(&a.answered), "missing": ids(&a.missing)}),
    );
    json!({
        "id": r.id,
        "client_name": item.entry.client_name,
        "proposal_ref": item.entry.proposal_ref,
        "membership": item.entry.membership,
        "status": item.record.portfolio_status(),
        "questionnaire": {"id": r.questionnaire.id, "version": r.questionnaire.version},
        "created_at": r.created_at,
        "submitted_at": r.submitted_at,
        "overall": scores.and_then(|s| s.overall).map(round1),
        "grade": scores.and_then(|s| s.grade.clone()),
        "report_token": r.report_token,
        "report_url": (r.status == Status::Submitted).then(|| report_url(&r.report_token)),
        "application": application,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteRequest {
    questionnaire: String,
    version: Option<String>,
    client_name: String,
    proposal_ref: Option<String>,
    previous: Option<String>,
}

#[tracing::instrument(skip_all, fields(broker = %broker.0.id))]
async fn invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    broker: ApiBroker,
    body: web::Json<InviteRequest>,
) -> Result<HttpResponse, ApiError> {
    let q = state
        .catalog
        .find(&body.questionnaire, body.version.as_deref())
        .ok_or(AssessmentError::UnknownQuestionnaire)?;
    let client = ClientName::parse(&body.client_name)?;
    let proposal_ref = assessment::parse_proposal_ref(body.proposal_ref.as_deref())?;
    let created = assessment::invite(
        &state.store,
        &q,
        broker.0.id,
        &client,
        proposal_ref,
        body.previous.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "id": created.record.id,
            "edit_token": created.edit_token.expose(),
            "invite_url": state.answer_link(&req, &created.edit_token),
            "report_token": created.report_token.expose(),
            "client_name": client.as_str(),
            "status": PortfolioStatus::Invited,
        })))
}

async fn list(
    state: web::Data<AppState>,
    broker: ApiBroker,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.parse()?;
    let page = page(&state, broker.0.id, &filter)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(json!({
            "items": page.items.iter().map(|i| item_json(&state, i)).collect::<Vec<_>>(),
            "next_cursor": page.next.map(|p| p.to_cursor()),
        })))
}

/// The item of the broker's portfolio with the id in the path: 404 `not_found` for a
/// malformed id, an unknown one and one outside the portfolio alike.
fn own_item(state: &AppState, broker: &ApiBroker, id: &str) -> Result<PortfolioItem, ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, "no such assessment");
    let id = Uuid::parse_str(id).map_err(|_| not_found())?;
    state
        .store
        .portfolio_item(broker.0.id, id)
        .map_err(AssessmentError::from)?
        .ok_or_else(not_found)
}

async fn detail(
    state: web::Data<AppState>,
    broker: ApiBroker,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let item = own_item(&state, &broker, &id)?;
    let mut out = item_json(&state, &item);
    let r = &item.record;
    let q = state.questionnaire_of(&r.questionnaire, r.status);
    out["scores"] = match (&r.scores, &q) {
        (Some(s), Some(q)) => scores_json(q, s),
        _ => Value::Null,
    };
    // The summary lacks the profile, which names the company and its business type.
    let full = match (&q, r.status) {
        (Some(_), Status::Submitted) => state.store.get(r.id).map_err(AssessmentError::from)?,
        _ => None,
    };
    out["peers"] = match (&q, &full) {
        (Some(q), Some(full)) => peers_json(q, state.peers_for(full).view.as_ref()),
        _ => Value::Null,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// The PDF of a submitted assessment in the broker's portfolio, in `?lang=` (else the
/// language cookie, else `Accept-Language`, else Japanese): 404 outside the portfolio, 409 before submission.
async fn report_pdf(
    state: web::Data<AppState>,
    req: HttpRequest,
    broker: ApiBroker,
    lang: PageLang,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_submitted = || {
        ApiError::new(
            ErrorCode::NotSubmitted,
            "the assessment is not submitted yet",
        )
    };
    let item = own_item(&state, &broker, &id)?;
    if item.record.status != Status::Submitted {
        return Err(not_submitted());
    }
    // An API answer sets no language cookie.
    let lang = PageLang {
        explicit: false,
        ..lang
    };
    super::report::portfolio_pdf(&state, &req, &lang, &item.record.report_token)
        .await?
        .ok_or_else(not_submitted)
}

/// A new answering link for a draft the broker invited; the old link stops working.
#[tracing::instrument(skip_all, fields(broker = %broker.0.id))]
async fn reissue(
    state: web::Data<AppState>,
    req: HttpRequest,
    broker: ApiBroker,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, "no draft of yours has this id");
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    match assessment::reissue(&state.store, broker.0.id, id).await? {
        Reissue::Done(token) => Ok(HttpResponse::Ok()
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .json(json!({
                "id": id,
                "edit_token": token.expose(),
                "invite_url": state.answer_link(&req, &token),
            }))),
        Reissue::Submitted => Err(AssessmentError::AlreadySubmitted.into()),
        Reissue::NotFound => Err(not_found()),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AttachRequest {
    report_token: String,
    proposal_ref: Option<String>,
}

#[tracing::instrument(skip_all, fields(broker = %broker.0.id))]
async fn attach(
    state: web::Data<AppState>,
    broker: ApiBroker,
    body: web::Json<AttachRequest>,
) -> Result<HttpResponse, ApiError> {
    let proposal_ref = assessment::parse_proposal_ref(body.proposal_ref.as_deref())?;
    let (item, added) =
        assessment::attach(&state.store, broker.0.id, &body.report_token, proposal_ref)
            .await?
            .ok_or_else(|| {
                ApiError::new(
                    ErrorCode::NotFound,
                    "no submitted assessment of the company's own has this report token",
                )
            })?;
    let mut res = if added {
        HttpResponse::Created()
    } else {
        HttpResponse::Ok()
    };
    Ok(res
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(item_json(&state, &item)))
}

/// Every item of the portfolio (or those the filters keep), newest first.
pub fn all_items(
    state: &AppState,
    broker: Uuid,
    filter: &Filter,
) -> Result<Vec<PortfolioItem>, AssessmentError> {
    let all = Filter {
        limit: usize::MAX,
        after: None,
        ..filter.clone()
    };
    Ok(page(state, broker, &all)?.items)
}

/// The rows of a portfolio CSV, with absolute report links.
pub fn csv_rows(state: &AppState, items: &[PortfolioItem], base: &str) -> Vec<csv::PortfolioRow> {
    items
        .iter()
        .map(|i| {
            let r = &i.record;
            let application = with_readiness(state, i, |a| csv::Application {
                answered: a.answered.len(),
                total: a.total(),
                missing: a
                    .missing
                    .iter()
                    .map(|f| (f.id.clone(), f.label.clone()))
                    .collect(),
            });
            let scores = r.scores.as_ref();
            csv::PortfolioRow {
                id: r.id.to_string(),
                client_name: i.entry.client_name.clone(),
                proposal_ref: i.entry.proposal_ref.clone().unwrap_or_default(),
                membership: i.entry.membership,
                status: r.portfolio_status(),
                questionnaire: format!("{} {}", r.questionnaire.id, r.questionnaire.version),
                created_at: r.created_at.to_rfc3339(),
                submitted_at: r.submitted_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                overall: scores
                    .and_then(|s| s.overall)
                    .map(format1)
                    .unwrap_or_default(),
                grade: scores.and_then(|s| s.grade.clone()).unwrap_or_default(),
                report_url: if r.status == Status::Submitted {
                    format!("{base}{}", report_url(&r.report_token))
                } else {
                    String::new()
                },
                application,
            }
        })
        .collect()
}

async fn list_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    broker: ApiBroker,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.parse()?;
    let items = all_items(&state, broker.0.id, &filter)?;
    let body = csv::portfolio(&csv_rows(&state, &items, &state.base_url(&req)), None);
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"portfolio.csv\"",
        ))
        .body(body))
}
