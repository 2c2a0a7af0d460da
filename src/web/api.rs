//! The JSON API under `/api/v1`, as `API.md` fixes it.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use serde_json::{json, Value};
use uuid::Uuid;

use super::error::{ApiError, ErrorCode};
use super::limits::Limit;
use super::AppState;
use crate::assessment::{self, AssessmentError, Changes};
use crate::peers::PeerView;
use crate::questionnaire::{Questionnaire, Text};
use crate::report::analysis::local_day;
use crate::scoring::{round1, Scores};
use crate::store::{AssessmentRecord, Status};
use crate::tokens::{EditToken, ReportToken};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .route("/questionnaires", web::get().to(list_questionnaires))
            .route("/questionnaires/{id}", web::get().to(get_questionnaire))
            .route("/assessments", web::post().to(create_assessment))
            .route("/assessments/{id}", web::get().to(get_assessment))
            .route("/assessments/{id}", web::patch().to(patch_assessment))
            .route(
                "/assessments/{id}/submit",
                web::post().to(submit_assessment),
            )
            .route("/reports/{token}", web::get().to(get_report))
            .default_service(web::to(super::not_found)),
    );
}

/// The path of a report page.
pub fn report_url(token: &str) -> String {
    format!("/r/{token}")
}

async fn list_questionnaires(state: web::Data<AppState>) -> HttpResponse {
    let list: Vec<Value> = state
        .catalog
        .latest_all()
        .iter()
        .map(|q| {
            json!({
                "id": q.id,
                "version": q.version,
                "title": q.title,
                "domains": q.domains.iter().map(|d| json!({"id": d.id, "label": d.label})).collect::<Vec<_>>(),
            })
        })
        .collect();
    HttpResponse::Ok().json(list)
}

#[derive(Deserialize)]
struct VersionQuery {
    version: Option<String>,
}

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateRequest {
    questionnaire: String,
    version: Option<String>,
    #[serde(default)]
    profile: BTreeMap<String, Value>,
    #[serde(default)]
    answers: BTreeMap<String, Value>,
    #[serde(default)]
    submit: bool,
    /// The report token of an earlier assessment of the same company to compare with.
    previous: Option<String>,
}

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
    let mut out = json!({
        "id": created.record.id,
        "edit_token": created.edit_token.expose(),
        "report_token": created.report_token.expose(),
        "status": created.record.status,
        "report_url": report_url(created.report_token.expose()),
    });
    if let Some(scores) = &created.record.scores {
        out["scores"] = scores_json(&q, scores);
    }
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

async fn get_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (record, q) = authorized(&state, &req, &id)?;
    Ok(private_json(assessment_json(&q, &record)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchRequest {
    #[serde(default)]
    profile: BTreeMap<String, Value>,
    #[serde(default)]
    answers: BTreeMap<String, Value>,
}

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
    Ok(private_json(assessment_json(&q, &record)))
}

async fn submit_assessment(
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let (record, q) = authorized(&state, &req, &id)?;
    let record = assessment::submit(&state.store, q.clone(), &record).await?;
    let scores = record.scores.as_ref().map(|s| scores_json(&q, s));
    Ok(private_json(json!({
        "status": record.status,
        "scores": scores,
        "report_url": report_url(&record.report_token),
    })))
}

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
    let findings: Vec<Value> = record
        .findings
        .iter()
        .filter_map(|id| q.findings.iter().find(|f| &f.id == id))
        .map(|f| json!({"id": f.id, "kind": f.kind, "text": f.text}))
        .collect();
    Ok(private_json(json!({
        "id": record.id,
        "questionnaire": record.questionnaire,
        "profile": record.profile,
        "submitted_at": record.submitted_at,
        "scores": scores_json(&q, scores),
        "findings": findings,
        "peers": peers_json(&q, state.peers_for(&record).view.as_ref()),
    })))
}

fn private_json(body: Value) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((super::X_ROBOTS_TAG, "noindex"))
        .json(body)
}

fn label_of(q: &Questionnaire, domain: &str) -> Option<Text> {
    q.domains
        .iter()
        .find(|d| d.id == domain)
        .map(|d| d.label.clone())
}

/// Scores as the API reports them: rounded to one decimal, labels in both languages.
pub fn scores_json(q: &Questionnaire, s: &Scores) -> Value {
    json!({
        "domains": s.domains.iter().map(|d| json!({
            "id": d.id,
            "label": label_of(q, &d.id),
            "score": d.score.map(round1),
            "answered": d.answered,
            "not_applicable": d.not_applicable,
        })).collect::<Vec<_>>(),
        "overall": s.overall.map(round1),
        "grade": s.grade,
    })
}

/// The peer comparison as the API shows it: what the report page shows, by the same
/// rules (`null` when the page shows none).
pub fn peers_json(q: &Questionnaire, view: Option<&PeerView>) -> Value {
    let Some(v) = view else {
        return Value::Null;
    };
    json!({
        "snapshot_date": local_day(v.as_of),
        "companies": v.companies,
        "segment": v.segment,
        "domains": q.domains.iter().map(|d| json!({
            "id": d.id,
            "average": v.averages.get(&d.id).copied().map(round1),
        })).collect::<Vec<_>>(),
        "overall_average": v.overall_average.map(round1),
        "rank_band": v.band.map(|b| b.code()),
    })
}

fn assessment_json(q: &Questionnaire, r: &AssessmentRecord) -> Value {
    json!({
        "id": r.id,
        "questionnaire": r.questionnaire,
        "status": r.status,
        "profile": r.profile,
        "answers": r.answers,
        "progress": {"answered": r.answers.len(), "total": q.questions.len()},
        "created_at": r.created_at,
        "updated_at": r.updated_at,
        "submitted_at": r.submitted_at,
        "scores": r.scores.as_ref().map(|s| scores_json(q, s)),
        "report_url": report_url(&r.report_token),
    })
}
