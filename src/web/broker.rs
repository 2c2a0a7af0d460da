//! The broker pages under `/broker`: sign-in and sign-out, the portfolio dashboard,
//! invitations, shared reports, a client's history and the portfolio as CSV. Every page
//! but sign-in takes a session ([`PageBroker`]); every form goes through [`FormData`], which
//! refuses cross-site posts.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use maud::Markup;

use super::auth::{BrokerForm, PageBroker};
use super::broker_api::{all_items, csv_rows, page, with_readiness, Filter, ListQuery};
use super::error::{ErrorCode, PageError};
use super::form::FormData;
use super::lang::PageLang;
use super::limits::Limit;
use super::pages::broker::{self as pages, Change, Dashboard, History, Row, Typed};
use super::{csrf, session, AppState, X_ROBOTS_TAG};
use crate::assessment::{self, AssessmentError, ClientName, Reissue};
use crate::i18n::Lang;
use crate::report::analysis::local_day;
use crate::report::{csv, radar};
use crate::store::{PortfolioEntry, PortfolioFilter, PortfolioItem, Status};
use crate::tokens::BrokerToken;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/broker", web::get().to(dashboard))
        .route("/broker/login", web::get().to(login_form))
        .route("/broker/login", web::post().to(login))
        .route("/broker/logout", web::post().to(logout))
        .route("/broker/invitations", web::post().to(invite))
        .route("/broker/attach", web::post().to(attach))
        .route(
            "/broker/assessments/{id}/invitation",
            web::post().to(reissue),
        )
        .route("/broker/clients", web::get().to(history))
        .route("/broker/portfolio.csv", web::get().to(portfolio_csv));
}

/// Headers of every broker page: private, never stored, never indexed.
fn private(mut res: HttpResponseBuilder) -> HttpResponseBuilder {
    res.insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((X_ROBOTS_TAG, "noindex"));
    res
}

fn html(mut res: HttpResponseBuilder, lang: PageLang, body: Markup) -> HttpResponse {
    lang.remember(&mut res);
    private(res)
        .content_type("text/html; charset=utf-8")
        .body(body.into_string())
}

/// A failure of the store or of an assessment operation, mapped by `web::error` like
/// every other (a full disk is a 503 page, not a 500).
fn failed(lang: Lang, e: impl Into<AssessmentError>) -> PageError {
    PageError::from_assessment(lang, e.into())
}

fn secure(state: &AppState) -> bool {
    state.is_https()
}

async fn login_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
) -> Result<HttpResponse, PageError> {
    if let Ok(Some(_)) = session::broker_of(&req, &state.session_key, &state.store) {
        return Ok(private(HttpResponse::SeeOther())
            .insert_header((header::LOCATION, "/broker"))
            .finish());
    }
    let nonce = csrf::login_nonce(&req, &state.session_key);
    login_page(&state, nonce, lang, HttpResponse::Ok(), None)
}

/// The sign-in form with `nonce` (the one of the request's sign-in cookie, so that several
/// tabs share one), or a new one, then set in the cookie.
fn login_page(
    state: &AppState,
    nonce: Option<String>,
    lang: PageLang,
    mut res: HttpResponseBuilder,
    error: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let nonce = match nonce {
        Some(nonce) => nonce,
        None => {
            let nonce = csrf::new_login_nonce().map_err(|e| {
                tracing::error!(error = %e, "no random nonce for the sign-in form");
                PageError::new(lang.lang, ErrorCode::Internal)
            })?;
            res.cookie(csrf::login_cookie(
                &state.session_key,
                &nonce,
                secure(state),
            ));
            nonce
        }
    };
    Ok(html(res, lang, pages::login(lang.lang, error, &nonce)))
}

#[tracing::instrument(skip_all)]
async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    form: FormData,
) -> actix_web::Result<HttpResponse> {
    let nonce = csrf::login_nonce(&req, &state.session_key);
    if !nonce
        .as_deref()
        .is_some_and(|n| csrf::matches(n, form.get(csrf::FIELD)))
    {
        // A form older than its cookie (another tab, a restarted browser) or another
        // site's: the form again, with a fresh nonce, and nothing else happens.
        tracing::info!("broker sign-in without its anti-forgery nonce");
        let expired = Some(lang.lang.broker().login_expired);
        return Ok(login_page(
            &state,
            None,
            lang,
            HttpResponse::Forbidden(),
            expired,
        )?);
    }
    let broker = match form.get("token").and_then(|t| BrokerToken::parse(t.trim())) {
        Some(token) => state
            .store
            .authenticate_broker(&token)
            .map_err(|e| failed(lang.lang, e))?,
        None => None,
    };
    let Some(broker) = broker else {
        state.limiters.check(&req, Limit::FailedAuth)?;
        tracing::info!("broker sign-in refused");
        let failed = Some(lang.lang.broker().login_failed);
        return Ok(login_page(
            &state,
            nonce,
            lang,
            HttpResponse::Unauthorized(),
            failed,
        )?);
    };
    tracing::info!(broker = %broker.id, "broker signed in");
    Ok(private(HttpResponse::SeeOther())
        .cookie(session::issue(&state.session_key, &broker, secure(&state)))
        .cookie(csrf::login_cookie_removal())
        .insert_header((header::LOCATION, "/broker"))
        .finish())
}

/// Signs out: ends the broker's sessions on the server too, so a copied cookie stops
/// working (on every device: a sign-out is meant to be safe, not selective).
#[tracing::instrument(skip_all, fields(broker = %post.broker.broker.id))]
async fn logout(state: web::Data<AppState>, post: BrokerForm) -> Result<HttpResponse, PageError> {
    let (broker, lang) = (&post.broker.broker, post.broker.lang);
    state
        .store
        .end_sessions(broker.id)
        .map_err(|e| failed(lang, e))?;
    state.store.durable().await.map_err(|e| failed(lang, e))?;
    tracing::info!(broker = %broker.id, "broker signed out");
    Ok(private(HttpResponse::SeeOther())
        .cookie(session::removal())
        .insert_header((header::LOCATION, "/broker/login"))
        .finish())
}

/// Messages a dashboard may carry besides the portfolio.
#[derive(Default)]
struct Messages<'a> {
    notice: Option<&'a str>,
    invite_error: Option<&'a str>,
    attach_error: Option<&'a str>,
    typed: Typed<'a>,
}

/// The thumbnail of a submitted item, titled with its client and overall score.
fn thumbnail(item: &PortfolioItem, lang: Lang) -> Option<String> {
    let scores = item.record.scores.as_ref()?;
    let values: Vec<Option<f64>> = scores.domains.iter().map(|d| d.score).collect();
    let title = format!(
        "{} {}",
        lang.broker()
            .chart_of
            .replace("{client}", &item.entry.client_name),
        scores
            .overall
            .map(crate::scoring::format1)
            .unwrap_or_default()
    );
    Some(radar::thumbnail(&values, &title))
}

fn rows<'a>(state: &AppState, items: &'a [PortfolioItem], lang: Lang) -> Vec<Row<'a>> {
    items
        .iter()
        .map(|item| Row {
            item,
            thumbnail: thumbnail(item, lang),
            application: with_readiness(state, item, |a| pages::ApplicationCell {
                answered: a.answered.len(),
                total: a.total(),
                missing: a
                    .missing
                    .iter()
                    .map(|f| f.label.get(lang))
                    .collect::<Vec<_>>()
                    .join(lang.ui().list_separator),
            }),
        })
        .collect()
}

/// `/broker` or `path` with the filters (and a cursor) as query.
fn filtered_href(path: &str, filter: &Filter, raw_name: &str, cursor: Option<String>) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(s) = filter.status {
        q.append_pair("status", s.as_str());
    }
    if !raw_name.trim().is_empty() {
        q.append_pair("q", raw_name.trim());
    }
    if let Some(c) = cursor {
        q.append_pair("cursor", &c);
    }
    let q = q.finish();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{q}")
    }
}

fn render_dashboard(
    state: &AppState,
    broker: &PageBroker,
    query: &ListQuery,
    messages: Messages,
) -> Result<Markup, PageError> {
    let lang = broker.lang;
    let filter = query
        .parse()
        .map_err(|_| PageError::new(lang, ErrorCode::InvalidQuery))?;
    let page = page(state, broker.broker.id, &filter).map_err(|e| failed(lang, e))?;
    let raw_name = query.q.as_deref().unwrap_or("");
    let questionnaires = state.catalog.latest_all();
    let view = Dashboard {
        broker_name: &broker.broker.name,
        csrf: &broker.form_token,
        questionnaires: &questionnaires,
        rows: rows(state, &page.items, lang),
        status: filter.status,
        name: raw_name,
        next_href: page
            .next
            .map(|p| filtered_href("/broker", &filter, raw_name, Some(p.to_cursor()))),
        first_href: filter
            .after
            .map(|_| filtered_href("/broker", &filter, raw_name, None)),
        csv_href: filtered_href("/broker/portfolio.csv", &filter, raw_name, None),
        notice: messages.notice,
        invite_error: messages.invite_error,
        attach_error: messages.attach_error,
        typed: messages.typed,
    };
    Ok(pages::dashboard(lang, &view))
}

async fn dashboard(
    state: web::Data<AppState>,
    broker: PageBroker,
    lang: PageLang,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let body = render_dashboard(&state, &broker, &query, Messages::default())?;
    Ok(html(HttpResponse::Ok(), lang, body))
}

#[tracing::instrument(skip_all, fields(broker = %post.broker.broker.id))]
async fn invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    post: BrokerForm,
) -> Result<HttpResponse, PageError> {
    let BrokerForm { broker, form } = post;
    let l = broker.lang;
    let refused = |message: &str| -> Result<HttpResponse, PageError> {
        let body = render_dashboard(
            &state,
            &broker,
            &ListQuery::default(),
            Messages {
                invite_error: Some(message),
                typed: Typed {
                    client_name: form.get("client_name").unwrap_or(""),
                    proposal_ref: form.get("proposal_ref").unwrap_or(""),
                    questionnaire: form.get("questionnaire").unwrap_or(""),
                    report: "",
                },
                ..Messages::default()
            },
        )?;
        Ok(html(HttpResponse::UnprocessableEntity(), lang, body))
    };
    let b = l.broker();
    let Some(q) = state
        .catalog
        .find(form.get("questionnaire").unwrap_or(""), None)
    else {
        return refused(l.ui().err_questionnaire_body);
    };
    let Ok(client) = ClientName::parse(form.get("client_name").unwrap_or("")) else {
        return refused(b.err_client_name);
    };
    let Ok(proposal_ref) = assessment::parse_proposal_ref(form.get("proposal_ref")) else {
        return refused(b.err_proposal_ref);
    };
    let previous = form.get("previous").filter(|p| !p.is_empty());
    let created = match assessment::invite(
        &state.store,
        &q,
        broker.broker.id,
        &client,
        proposal_ref,
        previous,
    )
    .await
    {
        Ok(c) => c,
        Err(AssessmentError::InvalidPrevious) => return refused(b.err_previous),
        Err(AssessmentError::InvalidClientName) => return refused(b.err_client_name),
        Err(AssessmentError::UnknownQuestionnaire) => {
            return refused(l.ui().err_questionnaire_body)
        }
        Err(e) => return Err(failed(l, e)),
    };
    let link = state.answer_link(&req, &created.edit_token);
    let page = pages::invited(
        l,
        &broker.broker.name,
        &broker.form_token,
        client.as_str(),
        &link,
        false,
    );
    Ok(html(HttpResponse::Created(), lang, page))
}

/// A new answering link for an invited draft, shown once like the first.
#[tracing::instrument(skip_all, fields(broker = %post.broker.broker.id))]
async fn reissue(
    state: web::Data<AppState>,
    req: HttpRequest,
    lang: PageLang,
    id: web::Path<String>,
    post: BrokerForm,
) -> Result<HttpResponse, PageError> {
    let broker = post.broker;
    let l = broker.lang;
    let not_found = || PageError::new(l, ErrorCode::NotFound);
    let id = uuid::Uuid::parse_str(&id).map_err(|_| not_found())?;
    let client = state
        .store
        .portfolio_item(broker.broker.id, id)
        .map_err(|e| failed(l, e))?
        .map(|i| i.entry.client_name)
        .ok_or_else(not_found)?;
    let token = match assessment::reissue(&state.store, broker.broker.id, id)
        .await
        .map_err(|e| failed(l, e))?
    {
        Reissue::Done(token) => token,
        Reissue::Submitted => return Err(PageError::new(l, ErrorCode::AlreadySubmitted)),
        Reissue::NotFound => return Err(not_found()),
    };
    let link = state.answer_link(&req, &token);
    let page = pages::invited(
        l,
        &broker.broker.name,
        &broker.form_token,
        &client,
        &link,
        true,
    );
    Ok(html(HttpResponse::Ok(), lang, page))
}

/// The report token in what a broker pastes: a report link or the bare token.
fn report_token_in(pasted: &str) -> &str {
    let s = pasted.trim();
    let s = s.split(['?', '#']).next().unwrap_or(s);
    let s = s.trim_end_matches('/');
    let token = match s.rsplit_once("/r/") {
        Some((_, rest)) => rest.split('/').next().unwrap_or(rest),
        None => s,
    };
    // The link of the report's PDF or CSV names the same report.
    token
        .strip_suffix(".pdf")
        .or_else(|| token.strip_suffix(".csv"))
        .unwrap_or(token)
}

#[tracing::instrument(skip_all, fields(broker = %post.broker.broker.id))]
async fn attach(
    state: web::Data<AppState>,
    lang: PageLang,
    post: BrokerForm,
) -> Result<HttpResponse, PageError> {
    let BrokerForm { broker, form } = post;
    let l = broker.lang;
    let token = report_token_in(form.get("report").unwrap_or(""));
    let attached = assessment::attach(&state.store, broker.broker.id, token, None)
        .await
        .map_err(|e| failed(l, e))?;
    let (status, messages) = match attached {
        Some(_) => (
            HttpResponse::Ok(),
            Messages {
                notice: Some(l.broker().attach_done),
                ..Messages::default()
            },
        ),
        None => (
            HttpResponse::NotFound(),
            Messages {
                attach_error: Some(l.broker().attach_not_found),
                typed: Typed {
                    report: form.get("report").unwrap_or(""),
                    ..Typed::default()
                },
                ..Messages::default()
            },
        ),
    };
    let body = render_dashboard(&state, &broker, &ListQuery::default(), messages)?;
    Ok(html(status, lang, body))
}

/// The entries of one client (by folded name), decided before any record is read.
struct SameClient(String);

impl PortfolioFilter for SameClient {
    fn entry(&self, entry: &PortfolioEntry) -> bool {
        crate::names::fold(&entry.client_name) == self.0
    }

    fn item(&self, _: &PortfolioItem) -> bool {
        true
    }
}

#[derive(serde::Deserialize)]
struct HistoryQuery {
    name: Option<String>,
}

async fn history(
    state: web::Data<AppState>,
    broker: PageBroker,
    lang: PageLang,
    query: web::Query<HistoryQuery>,
) -> Result<HttpResponse, PageError> {
    let l = broker.lang;
    let not_found = || PageError::new(l, ErrorCode::NotFound);
    let client = SameClient(crate::names::fold(query.name.as_deref().unwrap_or("")));
    if client.0.is_empty() {
        return Err(not_found());
    }
    let items = state
        .store
        .portfolio_page(broker.broker.id, None, usize::MAX, &client)
        .map_err(|e| failed(l, e))?
        .items;
    let Some(first) = items.first() else {
        return Err(not_found());
    };
    let client = first.entry.client_name.clone();
    let submitted: Vec<&PortfolioItem> = items
        .iter()
        .filter(|i| i.record.status == Status::Submitted)
        .collect();
    let (radar, changes) = match submitted
        .first()
        .and_then(|latest| history_chart(&state, l, latest, submitted.get(1).copied()))
    {
        Some((svg, changes)) => (Some(svg), changes),
        None => (None, Vec::new()),
    };
    let reinvite = submitted.first().and_then(|latest| {
        let r = &latest.record;
        let q = state.catalog.find(&r.questionnaire.id, None)?;
        Some((q, r.report_token.clone()))
    });
    let application = match submitted.first() {
        Some(latest) => application_view(&state, latest, l).map_err(|e| failed(l, e))?,
        None => None,
    };
    let view = History {
        broker_name: &broker.broker.name,
        csrf: &broker.form_token,
        client: &client,
        application,
        rows: rows(&state, &items, l),
        radar,
        changes,
        reinvite,
    };
    Ok(html(HttpResponse::Ok(), lang, pages::history(l, &view)))
}

/// The application-form items of a client's latest submitted assessment with what the
/// client answered, when its questionnaire asks for any.
fn application_view(
    state: &AppState,
    latest: &PortfolioItem,
    lang: Lang,
) -> Result<Option<pages::ApplicationView>, crate::store::StoreError> {
    let r = &latest.record;
    let Some(q) = state.questionnaire_of(&r.questionnaire, r.status) else {
        return Ok(None);
    };
    if q.application_fields().next().is_none() {
        return Ok(None);
    }
    let Some(record) = state.store.get(r.id)? else {
        return Ok(None);
    };
    let items = assessment::application_answers(&q, &record.profile)
        .into_iter()
        .map(|(f, value)| {
            let shown = value.map(|v| crate::web::pages::steps::value_text(f, v, lang));
            (f.label.get(lang).to_string(), shown)
        })
        .collect();
    Ok(Some(pages::ApplicationView {
        submitted: local_day(r.submitted_at.unwrap_or(r.updated_at)),
        items,
    }))
}

/// The latest submission's radar with the previous one dashed, and per domain of the
/// latest's questionnaire, then overall, the latest and the previous score (lined up by
/// domain id, as the questionnaire may have changed between the two).
fn history_chart(
    state: &AppState,
    lang: Lang,
    latest: &PortfolioItem,
    previous: Option<&PortfolioItem>,
) -> Option<(String, Vec<Change>)> {
    let r = &latest.record;
    let q = state.questionnaire_of(&r.questionnaire, r.status)?;
    let scores = r.scores.as_ref()?;
    let previous_scores = previous.and_then(|p| p.record.scores.as_ref());
    let now = scores.lined_up(&q);
    let before = previous_scores.map(|p| p.lined_up(&q));
    let b = lang.broker();
    let dated = |word: &str, item: &PortfolioItem| {
        let day = item.record.submitted_at.map(local_day).unwrap_or_default();
        format!("{word} {day}")
    };
    let name = dated(b.history_latest, latest);
    let second_name = previous.map(|p| dated(b.history_previous, p));
    let svg = radar::svg(&radar::Radar {
        lang,
        axes: q
            .domains
            .iter()
            .zip(&now)
            .map(|(d, score)| radar::Axis {
                label: d.label.get(lang),
                score: *score,
            })
            .collect(),
        name: &name,
        second: match (&second_name, &before) {
            (Some(name), Some(values)) => Some(radar::Series { name, values }),
            _ => None,
        },
    });
    let mut changes: Vec<_> = q
        .domains
        .iter()
        .enumerate()
        .map(|(i, d)| Change {
            label: d.label.get(lang).to_string(),
            latest: now[i],
            previous: before.as_ref().and_then(|v| v[i]),
        })
        .collect();
    changes.push(Change {
        label: b.overall_row.to_string(),
        latest: scores.overall,
        previous: previous_scores.and_then(|p| p.overall),
    });
    Some((svg, changes))
}

async fn portfolio_csv(
    state: web::Data<AppState>,
    req: HttpRequest,
    broker: PageBroker,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let l = broker.lang;
    let filter = query
        .parse()
        .map_err(|_| PageError::new(l, ErrorCode::InvalidQuery))?;
    let items = all_items(&state, broker.broker.id, &filter).map_err(|e| failed(l, e))?;
    let body = csv::portfolio(&csv_rows(&state, &items, &state.base_url(&req)), Some(l));
    Ok(private(HttpResponse::Ok())
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"portfolio.csv\"",
        ))
        .body(body))
}

#[cfg(test)]
mod tests {
    use super::report_token_in;

    #[test]
    fn a_pasted_report_link_of_any_kind_gives_its_token() {
        let token = "A".repeat(43);
        for pasted in [
            token.clone(),
            format!("  https://shindan.example/r/{token}?lang=ja "),
            format!("https://shindan.example/r/{token}/"),
            format!("https://shindan.example/r/{token}.pdf?lang=en"),
            format!("/r/{token}.csv"),
            format!("https://shindan.example/r/{token}/radar.svg#x"),
        ] {
            assert_eq!(report_token_in(&pasted), token, "{pasted}");
        }
    }
}
