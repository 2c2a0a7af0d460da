//! The applicant's HTML flow: landing, start, profile, one step per domain, review,
//! submit, done. Every step saves before it moves on; `/a/{token}` resumes where the
//! applicant stopped.

use std::collections::BTreeMap;
use std::sync::Arc;

use actix_web::http::{header, StatusCode};
use actix_web::middleware::DefaultHeaders;
use actix_web::{web, HttpRequest, HttpResponse};
use maud::Markup;
use serde_json::Value;

use super::error::{classify, ErrorCode, PageError};
use super::form::FormData;
use super::lang::PageLang;
use super::limits::Limit;
use super::pages;
use super::pages::steps::{self, Alert, Flow, Step};
use super::AppState;
use crate::assessment::{self, AssessmentError, Changes};
use crate::i18n::Lang;
use crate::questionnaire::{FieldKind, Questionnaire};
use crate::store::{AssessmentRecord, Status};
use crate::tokens::EditToken;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(landing))
        .route("/start", web::post().to(start))
        .service(
            web::scope("/a/{token}")
                .wrap(
                    DefaultHeaders::new()
                        .add((header::CACHE_CONTROL, "no-store"))
                        .add((super::X_ROBOTS_TAG, "noindex")),
                )
                .route("", web::get().to(resume))
                .route("/profile", web::get().to(profile_get))
                .route("/profile", web::post().to(profile_post))
                .route("/d/{n}", web::get().to(domain_get))
                .route("/d/{n}", web::post().to(domain_post))
                .route("/review", web::get().to(review_get))
                .route("/submit", web::post().to(submit_post))
                .route("/done", web::get().to(done_get))
                .default_service(web::to(super::not_found)),
        );
}

fn html(lang: &PageLang, status: StatusCode, markup: Markup) -> HttpResponse {
    let mut res = HttpResponse::build(status);
    lang.remember(&mut res);
    res.content_type("text/html; charset=utf-8")
        .body(markup.into_string())
}

/// A redirect after a form or to the right step; an explicit language choice is kept.
fn see_other(lang: &PageLang, location: &str) -> HttpResponse {
    let mut res = HttpResponse::SeeOther();
    lang.remember(&mut res);
    res.insert_header((header::LOCATION, location)).finish()
}

/// Whether the query string asks to show the "saved" notice. Read by hand so that no
/// query string can fail the page.
fn saved_notice(req: &HttpRequest) -> bool {
    form_urlencoded::parse(req.query_string().as_bytes()).any(|(k, _)| k == "saved")
}

/// Sends the applicant to the result of a submission made by another request, once that
/// submission is on disk, so that nothing is shown that a crash could still take back.
async fn done_when_durable(
    state: &AppState,
    lang: &PageLang,
    draft: &Draft,
) -> Result<HttpResponse, PageError> {
    state
        .store
        .durable()
        .await
        .map_err(|e| PageError::from_assessment(lang.lang, e.into()))?;
    Ok(see_other(lang, &draft.done_href()))
}

async fn landing(state: web::Data<AppState>, lang: PageLang) -> HttpResponse {
    let list = state.catalog.latest_all();
    html(
        &lang,
        StatusCode::OK,
        pages::landing::page(lang.lang, &list),
    )
}

/// Creates a draft and sends the applicant to its first step.
async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    form: FormData,
) -> actix_web::Result<HttpResponse> {
    state.limiters.check(&req, Limit::Create)?;
    let l = lang.lang;
    let q = state
        .catalog
        .find(
            form.get("questionnaire").unwrap_or(""),
            form.get("version").filter(|v| !v.is_empty()),
        )
        .ok_or_else(|| PageError::new(l, ErrorCode::UnknownQuestionnaire))?;
    let created = assessment::create(&state.store, &q, &Changes::default(), false, None)
        .await
        .map_err(|e| PageError::from_assessment(l, e))?;
    // The redirect names the new private link: it is not to be kept anywhere.
    let mut res = see_other(&lang, &Step::Profile.href(created.edit_token.expose()));
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// A draft found by its edit token, with its questionnaire.
struct Draft {
    token: EditToken,
    record: AssessmentRecord,
    q: Arc<Questionnaire>,
    resume_url: String,
    /// The name of the broker who invited the company, if one did.
    invited_by: Option<String>,
}

impl Draft {
    fn load(
        state: &AppState,
        req: &HttpRequest,
        lang: Lang,
        token: &str,
    ) -> Result<Draft, PageError> {
        let not_found = || PageError::new(lang, ErrorCode::NotFound);
        let token = EditToken::parse(token).ok_or_else(not_found)?;
        let record = state
            .store
            .find_by_edit(&token.digest())
            .map_err(|e| PageError::from_assessment(lang, e.into()))?
            .ok_or_else(not_found)?;
        let q = state
            .questionnaire_for(&record)
            .ok_or_else(|| PageError::new(lang, ErrorCode::QuestionnaireUnavailable))?;
        let resume_url = state.answer_link(req, &token);
        let invited_by = match &record.invitation {
            Some(i) => state
                .store
                .broker(i.broker)
                .map_err(|e| PageError::from_assessment(lang, e.into()))?
                .filter(|b| b.status() == crate::store::BrokerStatus::Active)
                .map(|b| b.name),
            None => None,
        };
        Ok(Draft {
            token,
            record,
            q,
            resume_url,
            invited_by,
        })
    }

    fn flow(&self, lang: Lang) -> Flow<'_> {
        Flow {
            lang,
            q: &self.q,
            token: self.token.expose(),
            resume_url: &self.resume_url,
            record: &self.record,
            invited_by: self.invited_by.as_deref(),
        }
    }

    fn submitted(&self) -> bool {
        self.record.status == Status::Submitted
    }

    fn done_href(&self) -> String {
        format!("/a/{}/done", self.token.expose())
    }

    /// The first step with something missing, or the review.
    fn first_incomplete(&self) -> Step {
        let profile_missing = self
            .q
            .profile
            .iter()
            .any(|f| f.required && !self.record.has_profile_value(&f.id));
        if profile_missing {
            return Step::Profile;
        }
        (0..self.q.domains.len())
            .find(|&d| {
                self.q
                    .questions_of(d)
                    .any(|(_, question)| !self.record.answers.contains_key(&question.id))
            })
            .map(Step::Domain)
            .unwrap_or(Step::Review)
    }
}

async fn resume(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let draft = Draft::load(&state, &req, lang.lang, &token)?;
    if draft.submitted() {
        return Ok(see_other(&lang, &draft.done_href()));
    }
    Ok(see_other(
        &lang,
        &draft.first_incomplete().href(draft.token.expose()),
    ))
}

async fn profile_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let draft = Draft::load(&state, &req, lang.lang, &token)?;
    if draft.submitted() {
        return Ok(see_other(&lang, &draft.done_href()));
    }
    let values = steps::stored_profile_values(&draft.record);
    let page = steps::profile(&draft.flow(lang.lang), &values, None, saved_notice(&req));
    Ok(html(&lang, StatusCode::OK, page))
}

/// Where the navigation button of a step leads.
fn next_location(draft: &Draft, current: Step, nav: Option<&str>) -> String {
    let token = draft.token.expose();
    let last = draft.q.domains.len() - 1;
    let target = match (nav, current) {
        (Some("prev"), Step::Domain(0)) => Step::Profile,
        (Some("prev"), Step::Domain(d)) => Step::Domain(d - 1),
        (Some("next"), Step::Profile) => Step::Domain(0),
        (Some("next"), Step::Domain(d)) if d < last => Step::Domain(d + 1),
        (Some("next"), Step::Domain(_)) => Step::Review,
        _ => return format!("{}?saved=1", current.href(token)),
    };
    target.href(token)
}

/// A user-facing sentence for a refused change, in the page's language.
fn alert_for(lang: Lang, q: &Questionnaire, e: &AssessmentError) -> Alert {
    let ui = lang.ui();
    let (code, _) = classify(e);
    let field_label = |id: &str| {
        q.profile_field(id)
            .map(|f| f.label.get(lang).to_string())
            .unwrap_or_else(|| id.to_string())
    };
    let question_label = |id: &str| {
        q.question_position(id)
            .map(|i| q.questions[i].text.get(lang).to_string())
            .unwrap_or_else(|| id.to_string())
    };
    let message = match e {
        AssessmentError::InvalidProfileValue { field, error } => {
            let template = match error {
                crate::questionnaire::ProfileError::Number => ui.invalid_number,
                crate::questionnaire::ProfileError::Date => ui.invalid_date,
                crate::questionnaire::ProfileError::Text => ui.invalid_text,
                _ => ui.invalid_choice,
            };
            template.replace("{field}", &field_label(field))
        }
        AssessmentError::MissingProfileField(field) => {
            ui.missing_field.replace("{field}", &field_label(field))
        }
        AssessmentError::Unanswered(question) => ui
            .missing_answer
            .replace("{question}", &question_label(question)),
        AssessmentError::Answer(a) => ui
            .invalid_answer
            .replace("{question}", &question_label(a.question())),
        _ => super::error::describe(lang, code).1.to_string(),
    };
    Alert {
        message,
        link: None,
    }
}

async fn profile_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
    form: FormData,
) -> Result<HttpResponse, PageError> {
    let l = lang.lang;
    let draft = Draft::load(&state, &req, l, &token)?;
    if draft.submitted() {
        return Ok(see_other(&lang, &draft.done_href()));
    }
    let mut changes = Changes::default();
    let mut typed = BTreeMap::new();
    for field in &draft.q.profile {
        let name = format!("p.{}", field.id);
        let values: Vec<String> = form.all(&name).map(str::to_string).collect();
        let value = match field.kind {
            FieldKind::Multiselect => {
                Value::Array(values.iter().cloned().map(Value::String).collect())
            }
            _ => Value::String(values.first().cloned().unwrap_or_default()),
        };
        changes.profile.insert(field.id.clone(), value);
        typed.insert(field.id.clone(), values);
    }
    match assessment::update(&state.store, &draft.q, &draft.record, &changes).await {
        Ok(_) => Ok(see_other(
            &lang,
            &next_location(&draft, Step::Profile, form.get("nav")),
        )),
        Err(AssessmentError::AlreadySubmitted) => done_when_durable(&state, &lang, &draft).await,
        Err(e @ (AssessmentError::Store(_) | AssessmentError::Random(_))) => {
            Err(PageError::from_assessment(l, e))
        }
        Err(e) => {
            let alert = alert_for(l, &draft.q, &e);
            let page = steps::profile(&draft.flow(l), &typed, Some(&alert), false);
            Ok(html(&lang, StatusCode::UNPROCESSABLE_ENTITY, page))
        }
    }
}

fn domain_index(q: &Questionnaire, n: usize, lang: Lang) -> Result<usize, PageError> {
    (1..=q.domains.len())
        .contains(&n)
        .then(|| n - 1)
        .ok_or_else(|| PageError::new(lang, ErrorCode::NotFound))
}

async fn domain_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    path: web::Path<(String, usize)>,
) -> Result<HttpResponse, PageError> {
    let (token, n) = path.into_inner();
    let draft = Draft::load(&state, &req, lang.lang, &token)?;
    if draft.submitted() {
        return Ok(see_other(&lang, &draft.done_href()));
    }
    let d = domain_index(&draft.q, n, lang.lang)?;
    let page = steps::domain(
        &draft.flow(lang.lang),
        d,
        &draft.record.answers,
        None,
        saved_notice(&req),
    );
    Ok(html(&lang, StatusCode::OK, page))
}

async fn domain_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    path: web::Path<(String, usize)>,
    form: FormData,
) -> Result<HttpResponse, PageError> {
    let l = lang.lang;
    let (token, n) = path.into_inner();
    let draft = Draft::load(&state, &req, l, &token)?;
    if draft.submitted() {
        return Ok(see_other(&lang, &draft.done_href()));
    }
    let d = domain_index(&draft.q, n, l)?;
    let mut changes = Changes::default();
    for (_, question) in draft.q.questions_of(d) {
        if let Some(v) = form.get(&format!("q.{}", question.id)) {
            changes
                .answers
                .insert(question.id.clone(), Value::String(v.to_string()));
        }
    }
    match assessment::update(&state.store, &draft.q, &draft.record, &changes).await {
        Ok(_) => Ok(see_other(
            &lang,
            &next_location(&draft, Step::Domain(d), form.get("nav")),
        )),
        Err(AssessmentError::AlreadySubmitted) => done_when_durable(&state, &lang, &draft).await,
        Err(e @ (AssessmentError::Store(_) | AssessmentError::Random(_))) => {
            Err(PageError::from_assessment(l, e))
        }
        Err(e) => {
            let alert = alert_for(l, &draft.q, &e);
            let mut shown = draft.record.answers.clone();
            for (k, v) in &changes.answers {
                if let Value::String(s) = v {
                    shown.insert(k.clone(), s.clone());
                }
            }
            let page = steps::domain(&draft.flow(l), d, &shown, Some(&alert), false);
            Ok(html(&lang, StatusCode::UNPROCESSABLE_ENTITY, page))
        }
    }
}

async fn review_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let draft = Draft::load(&state, &req, lang.lang, &token)?;
    if draft.submitted() {
        return Ok(see_other(&lang, &draft.done_href()));
    }
    let alert = missing_alert(&draft, lang.lang);
    Ok(html(
        &lang,
        StatusCode::OK,
        steps::review(&draft.flow(lang.lang), alert.as_ref()),
    ))
}

/// What still blocks submission, with a link to the step that fixes it.
fn missing_alert(draft: &Draft, lang: Lang) -> Option<Alert> {
    let e = assessment::first_missing(&draft.q, &draft.record).err()?;
    let step = match &e {
        AssessmentError::MissingProfileField(_) => Step::Profile,
        AssessmentError::Unanswered(q) => draft
            .q
            .question_position(q)
            .map(|i| Step::Domain(draft.q.questions[i].domain_index))
            .unwrap_or(Step::Review),
        _ => Step::Review,
    };
    let mut alert = alert_for(lang, &draft.q, &e);
    alert.link = Some((
        step.href(draft.token.expose()),
        lang.ui().fix_it.to_string(),
    ));
    Some(alert)
}

async fn submit_post(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
    // Empty, but read so that a post from another site is refused like every form's.
    _form: FormData,
) -> Result<HttpResponse, PageError> {
    let l = lang.lang;
    let draft = Draft::load(&state, &req, l, &token)?;
    match assessment::submit(&state.store, draft.q.clone(), &draft.record).await {
        Ok(_) => Ok(see_other(&lang, &draft.done_href())),
        Err(AssessmentError::AlreadySubmitted) => done_when_durable(&state, &lang, &draft).await,
        Err(e @ (AssessmentError::MissingProfileField(_) | AssessmentError::Unanswered(_))) => {
            let _ = e;
            let alert = missing_alert(&draft, l);
            Ok(html(
                &lang,
                StatusCode::UNPROCESSABLE_ENTITY,
                steps::review(&draft.flow(l), alert.as_ref()),
            ))
        }
        Err(e) => Err(PageError::from_assessment(l, e)),
    }
}

async fn done_get(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let draft = Draft::load(&state, &req, lang.lang, &token)?;
    if !draft.submitted() {
        return Ok(see_other(&lang, &Step::Review.href(draft.token.expose())));
    }
    Ok(html(
        &lang,
        StatusCode::OK,
        steps::done(&draft.flow(lang.lang)),
    ))
}
