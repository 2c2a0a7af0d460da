//! The page language of a request: `?lang=`, then the `lang` cookie, then
//! `Accept-Language`, then Japanese. An explicit `?lang=` is remembered in the cookie.

use std::future::{ready, Ready};

use actix_web::cookie::{time::Duration, Cookie, SameSite};
use actix_web::http::header;
use actix_web::{dev::Payload, FromRequest, HttpRequest, HttpResponseBuilder};

use crate::i18n::Lang;

/// The name of the language cookie.
pub const LANG_COOKIE: &str = "lang";

/// The negotiated language, and whether the request chose it explicitly.
#[derive(Debug, Clone, Copy)]
pub struct PageLang {
    pub lang: Lang,
    pub explicit: bool,
}

impl PageLang {
    /// Remembers an explicit choice in the cookie.
    pub fn remember(&self, res: &mut HttpResponseBuilder) {
        if self.explicit {
            res.cookie(
                Cookie::build(LANG_COOKIE, self.lang.code())
                    .path("/")
                    .same_site(SameSite::Lax)
                    .http_only(true)
                    .max_age(Duration::days(365))
                    .finish(),
            );
        }
    }
}

/// The `lang` value of the query string, if any.
fn query_lang(req: &HttpRequest) -> Option<Lang> {
    form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "lang")
        .and_then(|(_, v)| Lang::parse(&v))
}

/// Negotiates the language of a request.
pub fn negotiate(req: &HttpRequest) -> PageLang {
    let query = query_lang(req);
    let cookie = req.cookie(LANG_COOKIE);
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let lang = Lang::negotiate(
        query.map(Lang::code),
        cookie.as_ref().map(|c| c.value()),
        accept,
    );
    PageLang {
        lang,
        explicit: query.is_some(),
    }
}

impl FromRequest for PageLang {
    type Error = actix_web::Error;
    type Future = Ready<Result<PageLang, actix_web::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(negotiate(req)))
    }
}
