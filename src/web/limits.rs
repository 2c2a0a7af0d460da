//! Rate limits per client address for the routes that take a secret: the broker login form
//! (strict: it is where tokens would be guessed) and every route that carries a broker or
//! admin token or a broker session. Over the limit, the answer is 429 with `Retry-After`,
//! as JSON under `/api/` and as a page elsewhere.
//!
//! The client address is the connection's peer address: a forwarded-for header is set by
//! the client and would let anyone pick a fresh key per request.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::{describe, ApiError, ErrorCode};
use super::lang::negotiate;
use super::pages;
use crate::config::RateLimits;

/// Forget idle addresses after this many checks, so the table does not grow forever.
const RETAIN_EVERY: u64 = 10_000;

/// Which limit a route falls under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The broker login form.
    Login,
    /// Routes with a broker or admin token or a broker session.
    Token,
}

/// The limiters of the running server.
pub struct Limiters {
    login: DefaultKeyedRateLimiter<IpAddr>,
    token: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
}

fn quota(per_period: u32, period: Duration, burst: u32) -> Quota {
    let n = NonZeroU32::new(per_period.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period / n.get())
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(burst)
}

impl Limiters {
    pub fn new(limits: &RateLimits) -> Limiters {
        Limiters {
            login: RateLimiter::keyed(quota(
                limits.login_per_minute,
                Duration::from_secs(60),
                limits.login_burst,
            )),
            token: RateLimiter::keyed(quota(
                limits.token_per_second,
                Duration::from_secs(1),
                limits.token_burst,
            )),
            checks: AtomicU64::new(0),
        }
    }

    /// Counts one request of this client against `limit`; refuses it when over.
    pub fn check(&self, req: &HttpRequest, limit: Limit) -> Result<(), RateLimited> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            self.login.retain_recent();
            self.token.retain_recent();
        }
        let Some(ip) = req.peer_addr().map(|a| a.ip()) else {
            return Ok(());
        };
        let limiter = match limit {
            Limit::Login => &self.login,
            Limit::Token => &self.token,
        };
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            RateLimited {
                retry_after: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                page: !req.path().starts_with("/api/"),
                lang: negotiate(req).lang,
            }
        })
    }
}

/// A refused request: too many from this address.
#[derive(Debug)]
pub struct RateLimited {
    /// Whole seconds until a request would be accepted (at least 1).
    pub retry_after: u64,
    page: bool,
    lang: crate::i18n::Lang,
}

impl std::fmt::Display for RateLimited {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rate limited for {} s", self.retry_after)
    }
}

impl ResponseError for RateLimited {
    fn status_code(&self) -> actix_web::http::StatusCode {
        ErrorCode::RateLimited.status()
    }

    fn error_response(&self) -> HttpResponse {
        let seconds = self.retry_after.max(1);
        let mut res = if self.page {
            let (title, body) = describe(self.lang, ErrorCode::RateLimited);
            HttpResponse::build(self.status_code())
                .content_type("text/html; charset=utf-8")
                .body(pages::error::page(self.lang, title, body).into_string())
        } else {
            ApiError::new(
                ErrorCode::RateLimited,
                format!("too many requests from this address; retry in {seconds} s"),
            )
            .error_response()
        };
        res.headers_mut()
            .insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
        res.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        res
    }
}
