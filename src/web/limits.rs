//! Rate limits, each in its own bucket so that one kind of traffic never starves another:
//!
//! - **failed authentication** (a wrong sign-in token, a wrong broker or admin bearer
//!   token) per client address: strict, since this is where tokens would be guessed;
//! - **authenticated work** per broker (its token or session) and for the operator (the
//!   admin token): junk from a shared address can never lock a real broker out;
//! - **new assessments** (drafts and one-request submissions, API and forms) per client
//!   address, since anyone may create them.
//!
//! Over a limit, the answer is 429 with `Retry-After`, as JSON under `/api/` and as a page
//! elsewhere, and the refusal is counted in `shindan_rate_limited_total` by limit.
//!
//! The client address is the connection's peer address. Only when that address is a
//! configured reverse proxy does the `X-Forwarded-For` header count (its last address that
//! is not a trusted proxy): from anyone else the header is the client's own word and would
//! let it pick a fresh key per request. IPv6 clients are keyed by their /64 network, which
//! one subscriber usually holds whole.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use uuid::Uuid;

use super::error::{describe, ApiError, ErrorCode};
use super::lang::negotiate;
use super::pages;
use crate::config::RateLimits;
use crate::metrics::Metrics;

/// Forget idle addresses after this many checks, so the table does not grow forever.
const RETAIN_EVERY: u64 = 10_000;

/// Which bucket a request is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// A failed sign-in or a wrong broker or admin token, per client address.
    FailedAuth,
    /// A request of one authenticated broker (token or session), per broker.
    Broker(Uuid),
    /// A request with the admin token (one bucket: there is one operator).
    Admin,
    /// A new assessment (a draft or a one-request submission), per client address.
    Create,
}

impl Limit {
    /// The limit's name in metrics (one of [`crate::metrics::LIMITS`]; never a broker's id).
    pub fn label(self) -> &'static str {
        match self {
            Limit::FailedAuth => "failed_auth",
            Limit::Broker(_) => "broker",
            Limit::Admin => "admin",
            Limit::Create => "create",
        }
    }
}

/// The limiters of the running server.
pub struct Limiters {
    failed: DefaultKeyedRateLimiter<IpAddr>,
    work: DefaultKeyedRateLimiter<Uuid>,
    create: DefaultKeyedRateLimiter<IpAddr>,
    checks: AtomicU64,
    trusted_proxies: Vec<IpAddr>,
    metrics: Metrics,
}

/// The key of an address: IPv4 as it is, IPv6 by its /64 network.
fn key_of(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut s = v6.segments();
                s[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(s))
            }
        },
    }
}

/// The client address of a request: the peer, or behind a trusted proxy the last
/// `X-Forwarded-For` address that is not itself a trusted proxy.
pub fn client_address(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    // IPv4 peers of a server listening on [::] arrive as ::ffff:a.b.c.d.
    let peer = req.peer_addr()?.ip().to_canonical();
    let trusted = |ip: &IpAddr| trusted_proxies.iter().any(|t| t.to_canonical() == *ip);
    if !trusted(&peer) {
        return Some(peer);
    }
    // A hop is an address, or an address with a port ("1.2.3.4:5678", "[2001:db8::1]:443").
    let parse = |hop: &str| {
        hop.parse::<IpAddr>()
            .or_else(|_| hop.parse::<std::net::SocketAddr>().map(|s| s.ip()))
            .ok()
            .map(|ip| ip.to_canonical())
    };
    let forwarded = req
        .headers()
        .get_all(header::X_FORWARDED_FOR)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|a| parse(a.trim()))
        .collect::<Vec<_>>();
    for hop in forwarded.into_iter().rev() {
        match hop {
            Some(ip) if trusted(&ip) => continue,
            Some(ip) => return Some(ip),
            // An address the proxy would not write: stop trusting the header here.
            None => break,
        }
    }
    Some(peer)
}

fn quota(per_period: u32, period: Duration, burst: u32) -> Quota {
    let n = NonZeroU32::new(per_period.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(burst.max(1)).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(period / n.get())
        .unwrap_or_else(|| Quota::per_second(n))
        .allow_burst(burst)
}

impl Limiters {
    pub fn new(limits: &RateLimits, trusted_proxies: &[IpAddr], metrics: Metrics) -> Limiters {
        Limiters {
            failed: RateLimiter::keyed(quota(
                limits.login_per_minute,
                Duration::from_secs(60),
                limits.login_burst,
            )),
            work: RateLimiter::keyed(quota(
                limits.token_per_second,
                Duration::from_secs(1),
                limits.token_burst,
            )),
            create: RateLimiter::keyed(quota(
                limits.create_per_minute,
                Duration::from_secs(60),
                limits.create_burst,
            )),
            checks: AtomicU64::new(0),
            trusted_proxies: trusted_proxies.to_vec(),
            metrics,
        }
    }

    /// Whether the request's connection comes from a configured reverse proxy, whose
    /// forwarded headers may then be believed.
    pub fn from_trusted_proxy(&self, req: &HttpRequest) -> bool {
        req.peer_addr().is_some_and(|peer| {
            let peer = peer.ip().to_canonical();
            self.trusted_proxies
                .iter()
                .any(|t| t.to_canonical() == peer)
        })
    }

    /// Counts one request against `limit`; refuses it when over.
    pub fn check(&self, req: &HttpRequest, limit: Limit) -> Result<(), RateLimited> {
        if self.checks.fetch_add(1, Ordering::Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            self.failed.retain_recent();
            self.work.retain_recent();
            self.create.retain_recent();
        }
        let address = || client_address(req, &self.trusted_proxies).map(key_of);
        let verdict = match limit {
            Limit::Broker(id) => self.work.check_key(&id),
            Limit::Admin => self.work.check_key(&Uuid::nil()),
            Limit::FailedAuth => match address() {
                Some(ip) => self.failed.check_key(&ip),
                None => Ok(()),
            },
            Limit::Create => match address() {
                Some(ip) => self.create.check_key(&ip),
                None => Ok(()),
            },
        };
        verdict.map_err(|not_until| {
            self.metrics.rate_limited(limit.label());
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
                format!("too many requests; retry in {seconds} s"),
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(peer: &str, forwarded: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:4000").parse().unwrap());
        if let Some(f) = forwarded {
            r = r.insert_header((header::X_FORWARDED_FOR, f));
        }
        r.to_http_request()
    }

    #[test]
    fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let trusted = [proxy];
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            client_address(&req("192.0.2.9", Some("1.2.3.4")), &trusted),
            ip("192.0.2.9")
        );
        assert_eq!(
            client_address(&req("10.0.0.1", Some("1.2.3.4")), &trusted),
            ip("1.2.3.4")
        );
        // The client's own claim comes first; the proxy appends the real address last.
        assert_eq!(
            client_address(&req("10.0.0.1", Some("6.6.6.6, 1.2.3.4")), &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_address(&req("10.0.0.1", Some("1.2.3.4, 10.0.0.1")), &trusted),
            ip("1.2.3.4")
        );
        assert_eq!(
            client_address(&req("10.0.0.1", Some("junk")), &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_address(&req("10.0.0.1", None), &trusted),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn every_limit_has_a_metrics_label() {
        for limit in [
            Limit::FailedAuth,
            Limit::Broker(Uuid::new_v4()),
            Limit::Admin,
            Limit::Create,
        ] {
            assert!(crate::metrics::LIMITS.contains(&limit.label()), "{limit:?}");
        }
    }

    #[test]
    fn ipv6_clients_share_a_key_per_64_network() {
        let a = key_of("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = key_of("2001:db8:1:2:bbbb::2".parse().unwrap());
        let c = key_of("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            key_of("::ffff:192.0.2.1".parse().unwrap()),
            key_of("192.0.2.1".parse().unwrap())
        );
    }
}
