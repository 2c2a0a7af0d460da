//! The JSON API under `/api/v1`, as `API.md` fixes it.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::error::{ApiError, ErrorCode};
use super::limits::Limit;
use super::schema::{
    AssessmentView, Created, FindingView, PeersView, Progress, QuestionnaireSummary, ReportView,
    ScoresView, SubmittedView,
};
use super::AppState;
use crate::assessment::{self, AssessmentError, Changes};
use crate::questionnaire::Questionnaire;
use crate::store::{AssessmentRecord, Status};
use crate::tokens::{EditToken, ReportToken};

/// The `/api/v1` scope: this file's operations, the document describing all of them, and
/// JSON 404s for the rest.
pub fn routes() -> super::api_scope!() {
    utoipa_actix_web::scope("/api/v1")
        .service(list_questionnaires)
        .service(get_questionnaire)
        .service(create_assessment)
        .service(get_assessment)
        .service(patch_assessment)
        .service(submit_assessment)
        .service(get_report)
        .configure(super::openapi::routes)
        .default_service(web::to(super::not_found))
}

/// The path of a report page.
pub fn report_url(token: &str) -> String {
    format!("/r/{token}")
}

/// The latest version of each questionnaire served.
#[utoipa::path(
    operation_id = "list_questionnaires",
    tag = "questionnaires",
    responses((status = 200, description = "The latest version of each questionnaire.", body = Vec<QuestionnaireSummary>)),
)]
#[get("/questionnaires")]
async fn list_questionnaires(state: web::Data<AppState>) -> HttpResponse {
    let list: Vec<QuestionnaireSummary> = state
        .catalog
        .latest_all()
        .iter()
        .map(|q| QuestionnaireSummary::of(q))
        .collect();
    HttpResponse::Ok().json(list)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct VersionQuery {
    /// A version of the questionnaire (default: the latest).
    version: Option<String>,
}

/// A whole questionnaire, as its file holds it (see QUESTIONNAIRE_FORMAT.md).
#[utoipa::path(
    operation_id = "get_questionnaire",
    tag = "questionnaires",
    params(("id" = String, Path, description = "The questionnaire's id, e.g. `it-liability`."), VersionQuery),
    responses(
        (status = 200, description = "The questionnaire: profile fields, domains, questions with their options and weights, grades, findings.", body = Object),
        (status = 400, description = "`invalid_query`: a query parameter is malformed"),
        (status = 404, description = "`unknown_questionnaire`: no questionnaire (or version) has this id"),
    ),
)]
#[get("/questionnaires/{id}")]
async fn get_questionnaire(
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<VersionQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = state
        .catalog
        .find(&id, query.version.as_deref())
        .ok_or_else(|| ApiError::from(AssessmentError::UnknownQuestionnaire))?;
    Ok(HttpResponse::Ok().json(q.as_ref()))
}

/// A new assessment: a draft, or with `"submit": true` a submitted one.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    /// The questionnaire's id, e.g. `it-liability`.
    questionnaire: String,
    /// Its version (default: the latest).
    version: Option<String>,
    /// Company profile values by field id.
    #[serde(default)]
    profile: BTreeMap<String, Value>,
    /// An option id (or `na`) by question id.
    #[serde(default)]
    answers: BTreeMap<String, Value>,
    /// Validate and submit in this request.
    #[serde(default)]
    submit: bool,
    /// The report token of an earlier submitted assessment of the same company to compare with.
    previous: Option<String>,
}

/// Creates an assessment. The response carries the edit token, the only credential for
/// the draft: keep it.
#[utoipa::path(
    operation_id = "create_assessment",
    tag = "assessments",
    request_body = CreateRequest,
    responses(
        (status = 201, description = "Created; `scores` when submitted in the same request.", body = Created,
            headers(("Cache-Control" = String, description = "`no-store`"))),
        (status = 404, description = "`unknown_questionnaire`: no questionnaire (or version) has this id"),
        (status = 409, description = "`questionnaire_unavailable`: the compared assessment's questionnaire is no longer served"),
        (status = 422, description = "`unknown_profile_field`, `invalid_profile_value`, `unknown_question`, `unknown_option`, `na_not_allowed`, `invalid_answer`, `invalid_previous`, `missing_profile_field`, `unanswered_question`: the named `field` is wrong or, when submitting, missing"),
        (status = 429, description = "`rate_limited`: too many new assessments from this address; see `Retry-After`"),
    ),
)]
#[post("/assessments")]
async fn create_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CreateRequest>,
) -> actix_web::Result<HttpResponse> {
    state.limiters.check(&req, Limit::Create)?;
    let body = body.into_inner();
    let q = state
        .catalog
        .find(&body.questionnaire, body.version.as_deref())
        .ok_or_else(|| ApiError::from(AssessmentError::UnknownQuestionnaire))?;
    let changes = Changes {
        profile: body.profile,
        answers: body.answers,
    };
    let created = assessment::create(
        &state.store,
        &q,
        &changes,
        body.submit,
        body.previous.as_deref(),
    )
    .await
    .map_err(ApiError::from)?;
    let out = Created {
        id: created.record.id,
        edit_token: created.edit_token.expose().to_string(),
        report_token: created.report_token.expose().to_string(),
        status: created.record.status,
        report_url: report_url(created.report_token.expose()),
        scores: created
            .record
            .scores
            .as_ref()
            .map(|s| ScoresView::of(&q, s)),
    };
    Ok(HttpResponse::Created()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(out))
}

/// The assessment behind an id, if the request carries its edit token. A missing or
/// malformed token is 401; an unknown id is 404 (ids are random and grant nothing); a
/// well-formed token that is not this assessment's is 401.
fn authorized(
    state: &AppState,
    req: &HttpRequest,
    id: &str,
) -> Result<(AssessmentRecord, Arc<Questionnaire>), ApiError> {
    let token = super::auth::bearer(req).and_then(EditToken::parse);
    let unauthorized = || {
        ApiError::new(
            ErrorCode::Unauthorized,
            "a valid edit token is required (Authorization: Bearer <edit_token>)",
        )
    };
    let token = token.ok_or_else(unauthorized)?;
    let id = Uuid::parse_str(id)
        .map_err(|_| ApiError::new(ErrorCode::NotFound, "no such assessment"))?;
    let record = state
        .store
        .get(id)
        .map_err(AssessmentError::from)?
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "no such assessment"))?;
    let stored = record.edit_digest().map_err(AssessmentError::from)?;
    if !stored.matches(&token.digest()) {
        return Err(unauthorized());
    }
    let q = questionnaire_of(state, &record)?;
    Ok((record, q))
}

fn questionnaire_of(
    state: &AppState,
    record: &AssessmentRecord,
) -> Result<Arc<Questionnaire>, ApiError> {
    state
        .questionnaire_for(record)
        .ok_or_else(|| AssessmentError::QuestionnaireGone.into())
}

/// An assessment: its profile, answers, progress and, once submitted, scores.
#[utoipa::path(
    operation_id = "get_assessment",
    tag = "assessments",
    params(("id" = String, Path, description = "The assessment's id (a uuid).")),
    security(("edit_token" = [])),
    responses(
        (status = 200, description = "The assessment.", body = AssessmentView,
            headers(
                ("Cache-Control" = String, description = "`no-store`"),
                ("X-Robots-Tag" = String, description = "`noindex`"),
            )),
        (status = 404, description = "`not_found`: no assessment has this id"),
        (status = 409, description = "`questionnaire_unavailable`: its questionnaire is no longer served"),
    ),
)]
#[get("/assessments/{id}")]
async fn get_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (record, q) = authorized(&state, &req, &id)?;
    Ok(private_json(assessment_view(&q, &record)))
}

/// Changes to a draft, merged into it; `null` clears a value.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PatchRequest {
    /// Company profile values by field id.
    #[serde(default)]
    profile: BTreeMap<String, Value>,
    /// An option id (or `na`) by question id.
    #[serde(default)]
    answers: BTreeMap<String, Value>,
}

/// Saves answers and profile values into a draft.
#[utoipa::path(
    operation_id = "patch_assessment",
    tag = "assessments",
    params(("id" = String, Path, description = "The assessment's id (a uuid).")),
    security(("edit_token" = [])),
    request_body = PatchRequest,
    responses(
        (status = 200, description = "The assessment after the change.", body = AssessmentView,
            headers(
                ("Cache-Control" = String, description = "`no-store`"),
                ("X-Robots-Tag" = String, description = "`noindex`"),
            )),
        (status = 404, description = "`not_found`: no assessment has this id"),
        (status = 409, description = "`already_submitted`: a submitted assessment cannot change; `questionnaire_unavailable`: its questionnaire is no longer served"),
        (status = 422, description = "`unknown_profile_field`, `invalid_profile_value`, `unknown_question`, `unknown_option`, `na_not_allowed`, `invalid_answer`: the named `field` is wrong"),
    ),
)]
#[patch("/assessments/{id}")]
async fn patch_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<PatchRequest>,
) -> Result<HttpResponse, ApiError> {
    let (record, q) = authorized(&state, &req, &id)?;
    let body = body.into_inner();
    let changes = Changes {
        profile: body.profile,
        answers: body.answers,
    };
    let record = assessment::update(&state.store, &q, &record, &changes).await?;
    Ok(private_json(assessment_view(&q, &record)))
}

/// Submits a complete draft; it cannot change afterwards.
#[utoipa::path(
    operation_id = "submit_assessment",
    tag = "assessments",
    params(("id" = String, Path, description = "The assessment's id (a uuid).")),
    security(("edit_token" = [])),
    responses(
        (status = 200, description = "Submitted, durably stored, with its scores.", body = SubmittedView,
            headers(
                ("Cache-Control" = String, description = "`no-store`"),
                ("X-Robots-Tag" = String, description = "`noindex`"),
            )),
        (status = 404, description = "`not_found`: no assessment has this id"),
        (status = 409, description = "`already_submitted`: it was submitted before; `questionnaire_unavailable`: its questionnaire is no longer served"),
        (status = 422, description = "`missing_profile_field`, `unanswered_question`: the first missing `field`; `invalid_previous`: the compared report is not of the same company"),
    ),
)]
#[post("/assessments/{id}/submit")]
async fn submit_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (record, q) = authorized(&state, &req, &id)?;
    let record = assessment::submit(&state.store, q.clone(), &record).await?;
    Ok(private_json(SubmittedView {
        status: record.status,
        scores: record.scores.as_ref().map(|s| ScoresView::of(&q, s)),
        report_url: report_url(&record.report_token),
    }))
}

/// A submitted assessment's report as data: scores, findings and the peer comparison.
#[utoipa::path(
    operation_id = "get_report",
    tag = "reports",
    params(("token" = String, Path, description = "The report token (43 characters).")),
    responses(
        (status = 200, description = "The report.", body = ReportView,
            headers(
                ("Cache-Control" = String, description = "`no-store`"),
                ("X-Robots-Tag" = String, description = "`noindex`"),
            )),
        (status = 404, description = "`not_found`: no report has this token"),
        (status = 409, description = "`not_submitted`: the assessment is still a draft; `questionnaire_unavailable`: its questionnaire is no longer served"),
    ),
)]
#[get("/reports/{token}")]
async fn get_report(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let not_found = || ApiError::new(ErrorCode::NotFound, "no such report");
    let token = ReportToken::parse(&token).ok_or_else(not_found)?;
    let record = state
        .store
        .find_by_report(&token.digest())
        .map_err(AssessmentError::from)?
        .ok_or_else(not_found)?;
    let q = questionnaire_of(&state, &record)?;
    let Some(scores) = record
        .scores
        .as_ref()
        .filter(|_| record.status == Status::Submitted)
    else {
        return Err(ApiError::new(
            ErrorCode::NotSubmitted,
            "this assessment has not been submitted yet",
        ));
    };
    crate::report::check(&q, &record).map_err(|e| super::error::inconsistent_record(&e))?;
    let findings = record
        .findings
        .iter()
        .filter_map(|id| q.findings.iter().find(|f| &f.id == id))
        .map(|f| FindingView {
            id: f.id.clone(),
            kind: f.kind,
            text: f.text.clone(),
        })
        .collect();
    let peers = PeersView::of(&q, state.peers_for(&record).view.as_ref());
    Ok(private_json(ReportView {
        id: record.id,
        scores: ScoresView::of(&q, scores),
        questionnaire: record.questionnaire,
        profile: record.profile,
        submitted_at: record.submitted_at,
        findings,
        peers,
    }))
}

fn private_json(body: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((super::X_ROBOTS_TAG, "noindex"))
        .json(body)
}

fn assessment_view(q: &Questionnaire, r: &AssessmentRecord) -> AssessmentView {
    AssessmentView {
        id: r.id,
        questionnaire: r.questionnaire.clone(),
        status: r.status,
        profile: r.profile.clone(),
        answers: r.answers.clone(),
        progress: Progress {
            answered: r.answers.len(),
            total: q.questions.len(),
        },
        created_at: r.created_at,
        updated_at: r.updated_at,
        submitted_at: r.submitted_at,
        scores: r.scores.as_ref().map(|s| ScoresView::of(q, s)),
        report_url: report_url(&r.report_token),
    }
}
