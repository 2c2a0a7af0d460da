//! Reading an HTML form body: `application/x-www-form-urlencoded`, at most
//! `MAX_BODY_BYTES`, as ordered key/value pairs so that repeated keys (checkboxes of a
//! multiselect) are kept. Failures become the friendly error page.

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderName};
use actix_web::{web::BytesMut, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;

use super::error::{ErrorCode, PageError};
use super::lang::negotiate;
use crate::config::MAX_BODY_BYTES;

/// The fields of a submitted form, in order. Its `Debug` names the fields only: a form
/// may carry a token.
#[derive(Default)]
pub struct FormData(pub Vec<(String, String)>);

impl std::fmt::Debug for FormData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(k, _)| k))
            .finish()
    }
}

impl FormData {
    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a field.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Whether a browser says this form was posted from another site: its `Origin` names
/// another host than the request's, or `Sec-Fetch-Site` says `cross-site`. Clients that
/// send neither header (scripts, old browsers) are not browsers a page could misuse.
fn is_cross_origin(req: &HttpRequest) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = header(header::ORIGIN) {
        let host = header(header::HOST).unwrap_or("");
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        return origin == "null" || !origin_host.eq_ignore_ascii_case(host);
    }
    header(HeaderName::from_static("sec-fetch-site")).is_some_and(|v| v == "cross-site")
}

impl FromRequest for FormData {
    type Error = actix_web::Error;
    type Future = LocalBoxFuture<'static, Result<FormData, actix_web::Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let lang = negotiate(req).lang;
        let fail = move |code| -> actix_web::Error { PageError::new(lang, code).into() };
        let cross_origin = is_cross_origin(req);
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| {
                v.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            });
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if cross_origin {
                return Err(fail(ErrorCode::CrossOrigin));
            }
            if !is_form {
                return Err(fail(ErrorCode::UnsupportedMediaType));
            }
            if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
                return Err(fail(ErrorCode::PayloadTooLarge));
            }
            let mut body = BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|_| fail(ErrorCode::InvalidBody))?;
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(fail(ErrorCode::PayloadTooLarge));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(FormData(
                form_urlencoded::parse(&body)
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect(),
            ))
        })
    }
}
