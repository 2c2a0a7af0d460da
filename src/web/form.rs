//! Reading an HTML form body: `application/x-www-form-urlencoded`, at most
//! `MAX_BODY_BYTES`, as ordered key/value pairs so that repeated keys (checkboxes of a
//! multiselect) are kept. Posts that a browser says come from another site are refused
//! before the body is read. Failures become the friendly error page.

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderName};
use actix_web::{web, web::BytesMut, FromRequest, HttpRequest};
use futures_util::future::LocalBoxFuture;
use futures_util::StreamExt;

use super::error::{ErrorCode, PageError};
use super::lang::negotiate;
use super::AppState;
use crate::config::MAX_BODY_BYTES;

/// The fetch-metadata header browsers send with every request (Chromium, Firefox, Safari
/// 16.4 and later): how the request's initiator relates to its target.
const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

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

/// Whether a form post comes from one of our own pages, as the browser tells it.
///
/// - `Sec-Fetch-Site` decides when present: `same-origin` (our page) and `none` (the user
///   themselves, e.g. a reload) pass; `same-site` (another port or a sibling host) and
///   `cross-site` are refused. It is sent even where `Origin` is `null`.
/// - Without it (older browsers), `Origin` must be our own origin: scheme, host and port.
///   `null` (an opaque origin: a sandboxed frame, a `data:` page) is refused.
/// - With neither, no browser sent it (a script, `curl`): nothing a page could misuse.
///   Broker forms still need their anti-forgery token (`web::csrf`).
pub fn is_own_post(fetch_site: Option<&str>, origin: Option<&str>, own: &url::Origin) -> bool {
    if let Some(site) = fetch_site {
        let site = site.trim();
        return site.eq_ignore_ascii_case("same-origin") || site.eq_ignore_ascii_case("none");
    }
    match origin {
        None => true,
        Some(origin) => url::Url::parse(origin.trim()).is_ok_and(|u| u.origin() == *own),
    }
}

/// The origin our pages are served from ([`AppState::base_url`]). Unparsable hosts give an
/// opaque origin, equal to none.
fn own_origin(req: &HttpRequest) -> url::Origin {
    let Some(state) = req.app_data::<web::Data<AppState>>() else {
        return url::Origin::new_opaque();
    };
    url::Url::parse(&state.base_url(req))
        .map(|u| u.origin())
        .unwrap_or_else(|_| url::Origin::new_opaque())
}

fn is_cross_origin(req: &HttpRequest) -> bool {
    let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
    let (site, origin, own) = (
        header(SEC_FETCH_SITE),
        header(header::ORIGIN),
        own_origin(req),
    );
    let foreign = !is_own_post(site, origin, &own);
    if foreign {
        // Neither value is secret; an operator behind a proxy without --public-url sees
        // here why every form is refused.
        tracing::info!(
            sec_fetch_site = site.unwrap_or("-"),
            origin = origin.unwrap_or("-"),
            expected = %own.ascii_serialization(),
            "form refused: posted from elsewhere"
        );
    }
    foreign
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
                let chunk = chunk.map_err(|e| {
                    fail(if super::deadline::is_deadline(&e) {
                        ErrorCode::RequestTimeout
                    } else {
                        ErrorCode::InvalidBody
                    })
                })?;
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

#[cfg(test)]
mod tests {
    use super::is_own_post;

    fn own() -> url::Origin {
        url::Url::parse("http://127.0.0.1:8080").unwrap().origin()
    }

    fn allowed(site: Option<&str>, origin: Option<&str>) -> bool {
        is_own_post(site, origin, &own())
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        // Chromium under `Referrer-Policy: no-referrer` sends `Origin: null` on our own posts.
        assert!(allowed(Some("same-origin"), Some("null")));
        assert!(allowed(Some("same-origin"), Some("http://127.0.0.1:8080")));
        assert!(allowed(Some("none"), None), "the user's own navigation");
        assert!(allowed(Some("Same-Origin"), None), "case does not matter");
        assert!(!allowed(Some("same-site"), Some("http://127.0.0.1:9090")));
        assert!(!allowed(Some("cross-site"), Some("https://evil.example")));
        assert!(
            !allowed(Some("cross-site"), Some("http://127.0.0.1:8080")),
            "fetch metadata wins over a matching Origin"
        );
        assert!(!allowed(Some("bogus"), None));
    }

    #[test]
    fn without_fetch_metadata_the_origin_must_be_ours() {
        assert!(allowed(None, Some("http://127.0.0.1:8080")));
        assert!(allowed(None, Some("HTTP://127.0.0.1:8080")), "scheme case");
        assert!(!allowed(None, Some("null")), "an opaque origin");
        assert!(
            !allowed(None, Some("http://127.0.0.1:9090")),
            "another port"
        );
        assert!(
            !allowed(None, Some("http://localhost:8080")),
            "another host"
        );
        assert!(
            !allowed(None, Some("https://127.0.0.1:8080")),
            "https against http"
        );
        assert!(
            !allowed(None, Some("http://127.0.0.1")),
            "default port 80 is another port"
        );
        assert!(!allowed(None, Some("not a url")));
    }

    #[test]
    fn default_ports_are_the_same_origin() {
        let own = url::Url::parse("https://shindan.example.jp")
            .unwrap()
            .origin();
        assert!(is_own_post(None, Some("https://shindan.example.jp"), &own));
        assert!(is_own_post(
            None,
            Some("https://shindan.example.jp:443"),
            &own
        ));
        assert!(
            !is_own_post(None, Some("http://shindan.example.jp"), &own),
            "http against https"
        );
        assert!(!is_own_post(
            None,
            Some("https://evil.shindan.example.jp"),
            &own
        ));
    }

    #[test]
    fn no_headers_is_not_a_browser() {
        assert!(allowed(None, None));
    }
}
