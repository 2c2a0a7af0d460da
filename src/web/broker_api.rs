//! The broker API under `/api/v1/broker`: invitations, the portfolio (paged, filtered, as
//! CSV), one item with its scores, and attaching a company's own report. Every route takes
//! the broker's bearer token ([`ApiBroker`]); an assessment outside the broker's portfolio
//! is 404, exactly as an unknown one.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::api::report_url;
use super::auth::ApiBroker;
use super::error::{ApiError, ErrorCode};
use super::lang::PageLang;
use super::schema::{
    ApplicationView, Invitation, PeersView, PortfolioDetailView, PortfolioItemView,
    PortfolioPageView, QuestionnaireVersion, Reissued, ScoresView,
};
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

/// The `/api/v1/broker` scope.
pub fn routes() -> super::api_scope!() {
    utoipa_actix_web::scope("/api/v1/broker")
        .service(invite)
        .service(list)
        .service(list_csv)
        .service(attach)
        .service(detail)
        .service(reissue)
        .service(report_pdf)
        .default_service(web::to(super::not_found))
}

/// A portfolio query as the API and the pages take it, raw.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only items in this state (default: all).
    #[param(value_type = Option<String>, pattern = r"^\s*(all|invited|in_progress|submitted)?\s*$")]
    pub status: Option<String>,
    /// Only clients whose name contains this (width and case folded).
    pub q: Option<String>,
    /// Items per page, 1 to 100 (default 25).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// The `next_cursor` of the previous page.
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
pub fn item_view(state: &AppState, item: &PortfolioItem) -> PortfolioItemView {
    let r = &item.record;
    let scores = r.scores.as_ref();
    let ids = |fields: &[&crate::questionnaire::ProfileField]| {
        fields.iter().map(|f| f.id.clone()).collect::<Vec<_>>()
    };
    PortfolioItemView {
        id: r.id,
        client_name: item.entry.client_name.clone(),
        proposal_ref: item.entry.proposal_ref.clone(),
        membership: item.entry.membership,
        status: r.portfolio_status(),
        questionnaire: QuestionnaireVersion {
            id: r.questionnaire.id.clone(),
            version: r.questionnaire.version.clone(),
        },
        created_at: r.created_at,
        submitted_at: r.submitted_at,
        overall: scores.and_then(|s| s.overall).map(round1),
        grade: scores.and_then(|s| s.grade.clone()),
        report_token: r.report_token.clone(),
        report_url: (r.status == Status::Submitted).then(|| report_url(&r.report_token)),
        application: with_readiness(state, item, |a| ApplicationView {
            answered: ids(&a.answered),
            missing: ids(&a.missing),
        }),
    }
}

/// An invitation of a client to answer.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct InviteRequest {
    /// The questionnaire's id, e.g. `it-liability`.
    questionnaire: String,
    /// Its version (default: the latest).
    version: Option<String>,
    /// The client's name as the broker files it (1 to 120 characters, no control
    /// characters).
    #[schema(
        min_length = 1,
        max_length = 120,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*\S[^\x00-\x1f\x7f-\x9f]*$"
    )]
    client_name: String,
    /// The broker's own reference of the proposal (up to 64 characters).
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    proposal_ref: Option<String>,
    /// The report token of a submitted assessment of the same client (by folded name) in
    /// this portfolio, to compare with.
    previous: Option<String>,
}

/// Invites a client: a new draft in the portfolio and the link to send.
#[utoipa::path(
    operation_id = "broker_invite",
    tag = "broker",
    security(("broker_token" = [])),
    request_body = InviteRequest,
    responses(
        (status = 201, description = "Invited.", body = Invitation,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, description = "`unknown_questionnaire`: no questionnaire (or version) has this id"),
        (status = 409, description = "`questionnaire_unavailable`: the compared assessment's questionnaire is no longer served"),
        (status = 422, description = "`invalid_field`: `client_name` or `proposal_ref` is empty or too long; `invalid_previous`: `previous` is not a submitted assessment of this client in the portfolio"),
    ),
)]
#[post("/invitations")]
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
        .json(Invitation {
            id: created.record.id,
            edit_token: created.edit_token.expose().to_string(),
            invite_url: state.answer_link(&req, &created.edit_token),
            report_token: created.report_token.expose().to_string(),
            client_name: client.as_str().to_string(),
            status: PortfolioStatus::Invited,
        }))
}

/// One page of the portfolio, newest first.
#[utoipa::path(
    operation_id = "broker_list_assessments",
    tag = "broker",
    security(("broker_token" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "One page.", body = PortfolioPageView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 400, description = "`invalid_query`: the named `field` (`status`, `q`, `limit`, `cursor`) is not valid"),
    ),
)]
#[get("/assessments")]
async fn list(
    state: web::Data<AppState>,
    broker: ApiBroker,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let filter = query.parse()?;
    let page = page(&state, broker.0.id, &filter)?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(PortfolioPageView {
            items: page.items.iter().map(|i| item_view(&state, i)).collect(),
            next_cursor: page.next.map(|p| p.to_cursor()),
        }))
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

/// One item of the portfolio with its scores and peer comparison.
#[utoipa::path(
    operation_id = "broker_get_assessment",
    tag = "broker",
    security(("broker_token" = [])),
    params(("id" = String, Path, description = "The assessment's id (a uuid).")),
    responses(
        (status = 200, description = "The item.", body = PortfolioDetailView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, description = "`not_found`: no assessment of this portfolio has this id"),
    ),
)]
#[get("/assessments/{id}")]
async fn detail(
    state: web::Data<AppState>,
    broker: ApiBroker,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let item = own_item(&state, &broker, &id)?;
    let r = &item.record;
    let q = state.questionnaire_of(&r.questionnaire, r.status);
    let scores = match (&r.scores, &q) {
        (Some(s), Some(q)) => Some(ScoresView::of(q, s)),
        _ => None,
    };
    // The summary lacks the profile, which names the company and its business type.
    let full = match (&q, r.status) {
        (Some(_), Status::Submitted) => state.store.get(r.id).map_err(AssessmentError::from)?,
        _ => None,
    };
    let peers = match (&q, &full) {
        (Some(q), Some(full)) => PeersView::of(q, state.peers_for(full).view.as_ref()),
        _ => None,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(PortfolioDetailView {
            item: item_view(&state, &item),
            scores,
            peers,
        }))
}

/// The PDF of a submitted assessment in the broker's portfolio, in `?lang=` (else the
/// language cookie, else `Accept-Language`, else Japanese): 404 outside the portfolio, 409 before submission.
#[utoipa::path(
    operation_id = "broker_get_report_pdf",
    tag = "broker",
    security(("broker_token" = [])),
    params(
        ("id" = String, Path, description = "The assessment's id (a uuid)."),
        ("lang" = Option<String>, Query, description = "`ja` or `en` (default: the language cookie, else `Accept-Language`, else `ja`)."),
    ),
    responses(
        (status = 200, description = "The report as an A4 PDF: the same file as `/r/{report_token}.pdf`.",
            content_type = "application/pdf", body = Vec<u8>,
            headers(
                ("ETag" = String, description = "Changes with the report's content and language."),
                ("Content-Disposition" = String, description = "`attachment; filename=\"shindan-report-<id>-<date>-<lang>.pdf\"`"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 304, description = "Not modified: the `If-None-Match` ETag is current.",
            headers(("ETag" = String, description = "The current ETag."))),
        (status = 404, description = "`not_found`: no assessment of this portfolio has this id"),
        (status = 409, description = "`not_submitted`: the assessment is still a draft; `questionnaire_unavailable`: its questionnaire is no longer served"),
    ),
)]
#[get("/assessments/{id}/report.pdf")]
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
#[utoipa::path(
    operation_id = "broker_reissue_invitation",
    tag = "broker",
    security(("broker_token" = [])),
    params(("id" = String, Path, description = "The assessment's id (a uuid).")),
    responses(
        (status = 200, description = "The new link; answers so far are kept.", body = Reissued,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, description = "`not_found`: no draft this broker invited has this id"),
        (status = 409, description = "`already_submitted`: the assessment is submitted"),
    ),
)]
#[post("/assessments/{id}/invitation")]
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
            .json(Reissued {
                id,
                edit_token: token.expose().to_string(),
                invite_url: state.answer_link(&req, &token),
            })),
        Reissue::Submitted => Err(AssessmentError::AlreadySubmitted.into()),
        Reissue::NotFound => Err(not_found()),
    }
}

/// A company's own report to file in the portfolio.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AttachRequest {
    /// The report token (or the report's link) the company shared.
    report_token: String,
    /// The broker's own reference of the proposal (up to 64 characters).
    #[schema(max_length = 64, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    proposal_ref: Option<String>,
}

/// Files a company's own submitted report in the portfolio, read-only.
#[utoipa::path(
    operation_id = "broker_attach",
    tag = "broker",
    security(("broker_token" = [])),
    request_body = AttachRequest,
    responses(
        (status = 201, description = "Attached.", body = PortfolioItemView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 200, description = "Already in the portfolio.", body = PortfolioItemView,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, description = "`not_found`: no submitted assessment of a company's own has this report token"),
        (status = 422, description = "`invalid_field`: `proposal_ref` is too long"),
    ),
)]
#[post("/assessments/attach")]
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
        .json(item_view(&state, &item)))
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

/// The portfolio (or what the filters keep) as CSV, for a spreadsheet.
#[utoipa::path(
    operation_id = "broker_list_assessments_csv",
    tag = "broker",
    security(("broker_token" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "UTF-8 CSV with a byte-order mark, one row per assessment, newest first; its last columns `application_answered`, `application_total` and `application_missing` (field ids joined by `;`).",
            content_type = "text/csv", body = String,
            headers(
                ("Content-Disposition" = String, description = "`attachment; filename=\"portfolio.csv\"`"),
                ("Cache-Control" = String, description = "`no-store`"),
            )),
        (status = 400, description = "`invalid_query`: the named `field` (`status`, `q`, `limit`, `cursor`) is not valid"),
    ),
)]
#[get("/assessments.csv")]
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
