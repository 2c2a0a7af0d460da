//! Who is asking: the bearer token of the `Authorization` header, and the extractors of the
//! broker API (a broker's token), the broker pages (a broker's session cookie) and the
//! admin API (the operator's token). A valid credential counts against its owner's rate
//! limit, a wrong one against the client address's limit of failed authentications, so
//! guessing costs time and junk from a shared address never locks a real broker out.

use std::future::{ready, Ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::{ApiError, ErrorCode, PageError};
use super::form::FormData;
use super::lang::negotiate;
use super::limits::Limit;
use super::{csrf, session, AppState};
use crate::assessment::AssessmentError;
use crate::i18n::Lang;
use crate::store::{Broker, StoreError};
use crate::tokens::BrokerToken;

/// The token of an `Authorization: Bearer <token>` header.
pub fn bearer(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        })
}

fn state(req: &HttpRequest) -> Result<&web::Data<AppState>, actix_web::Error> {
    req.app_data::<web::Data<AppState>>()
        .ok_or_else(|| ApiError::new(ErrorCode::Internal, "no application state").into())
}

/// A store error of the API, mapped by `web::error` like every other.
fn store_failed(e: StoreError) -> actix_web::Error {
    ApiError::from(AssessmentError::Store(e)).into()
}

/// A broker API request with a valid, active broker token.
pub struct ApiBroker(pub Broker);

fn api_broker(req: &HttpRequest) -> Result<ApiBroker, actix_web::Error> {
    let state = state(req)?;
    let found = match bearer(req).and_then(BrokerToken::parse) {
        Some(token) => state
            .store
            .authenticate_broker(&token)
            .map_err(store_failed)?,
        None => None,
    };
    let Some(broker) = found else {
        state.limiters.check(req, Limit::FailedAuth)?;
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "a valid broker token is required (Authorization: Bearer <broker token>)",
        )
        .into());
    };
    state.limiters.check(req, Limit::Broker(broker.id))?;
    Ok(ApiBroker(broker))
}

impl FromRequest for ApiBroker {
    type Error = actix_web::Error;
    type Future = Ready<Result<ApiBroker, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(api_broker(req))
    }
}

/// A broker page request with a valid session, and the page language.
pub struct PageBroker {
    pub broker: Broker,
    pub lang: Lang,
    /// The anti-forgery token this session's forms carry.
    pub form_token: String,
}

/// No valid session: back to the login form. A cookie that was sent (expired, altered, of
/// an ended session) is removed; none is touched when the browser sent none, which it also
/// does when following a link from another site (`SameSite=Strict`): that must never sign
/// the broker out.
#[derive(Debug)]
pub struct SignInFirst {
    remove_cookie: bool,
}

impl std::fmt::Display for SignInFirst {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("sign in first")
    }
}

impl ResponseError for SignInFirst {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::SEE_OTHER
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::SeeOther();
        res.insert_header((header::LOCATION, "/broker/login"))
            .insert_header((header::CACHE_CONTROL, "no-store"));
        if self.remove_cookie {
            res.cookie(session::removal());
        }
        res.finish()
    }
}

fn page_broker(req: &HttpRequest) -> Result<PageBroker, actix_web::Error> {
    let state = state(req)?;
    let lang = negotiate(req).lang;
    // A session cookie is signed: a wrong one is not a guess worth counting.
    match session::signed_in(req, &state.session_key, &state.store) {
        Ok(Some(s)) => {
            state.limiters.check(req, Limit::Broker(s.broker.id))?;
            Ok(PageBroker {
                form_token: csrf::session_token(&state.session_key, &s.value),
                broker: s.broker,
                lang,
            })
        }
        Ok(None) => Err(SignInFirst {
            remove_cookie: req.cookie(session::SESSION_COOKIE).is_some(),
        }
        .into()),
        Err(e) => Err(PageError::from_assessment(lang, e.into()).into()),
    }
}

impl FromRequest for PageBroker {
    type Error = actix_web::Error;
    type Future = Ready<Result<PageBroker, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(page_broker(req))
    }
}

/// A broker form post: a valid session, a post from our own pages ([`FormData`]) and the
/// session's anti-forgery token in its [`csrf::FIELD`]. Every broker form but sign-in
/// takes this, so none can forget a check.
pub struct BrokerForm {
    pub broker: PageBroker,
    pub form: FormData,
}

impl FromRequest for BrokerForm {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<BrokerForm, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        // The body is read only for a valid session.
        let parts = page_broker(req).map(|b| (b, FormData::from_request(req, payload)));
        Box::pin(async move {
            let (broker, form) = parts?;
            let form = form.await?;
            if !csrf::matches(&broker.form_token, form.get(csrf::FIELD)) {
                tracing::info!(broker = %broker.broker.id, "broker form without its anti-forgery token");
                return Err(PageError::new(broker.lang, ErrorCode::FormExpired).into());
            }
            Ok(BrokerForm { broker, form })
        })
    }
}

/// The digest the admin token is compared by (fixed length, so the comparison takes the
/// same time whatever is presented).
pub fn admin_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// An admin API request with the operator's token.
pub struct Admin;

fn admin(req: &HttpRequest) -> Result<Admin, actix_web::Error> {
    let state = state(req)?;
    let Some(expected) = &state.admin_digest else {
        return Err(ApiError::new(
            ErrorCode::AdminDisabled,
            "the admin API is off; start the server with SHINDAN_ADMIN_TOKEN set to use it",
        )
        .into());
    };
    let presented = admin_digest(bearer(req).unwrap_or(""));
    if bool::from(presented.ct_eq(expected)) {
        state.limiters.check(req, Limit::Admin)?;
        Ok(Admin)
    } else {
        state.limiters.check(req, Limit::FailedAuth)?;
        Err(ApiError::new(
            ErrorCode::Unauthorized,
            "the admin token is required (Authorization: Bearer <SHINDAN_ADMIN_TOKEN>)",
        )
        .into())
    }
}

impl FromRequest for Admin {
    type Error = actix_web::Error;
    type Future = Ready<Result<Admin, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(admin(req))
    }
}
