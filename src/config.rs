//! Run-time configuration of the server, with the embedded defaults that make
//! `cargo run --release` work with no arguments.

use std::path::PathBuf;
use std::time::Duration;

/// Where the server listens when nothing else is said.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The data directory when nothing else is said.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// The questionnaires folder when nothing else is said.
pub const DEFAULT_QUESTIONNAIRES: &str = "./questionnaires";
/// The largest request body accepted, JSON or form.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// How long a request's body may take to arrive after its head, when nothing else is said.
pub const DEFAULT_BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a client may take to send a request's head (actix's client request timeout).
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a connection is kept after its response to let the client close it first.
pub const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a company's own draft may stay untouched before the sweep deletes it.
pub const DEFAULT_DRAFT_DAYS: u32 = 90;
/// How often the server looks for abandoned drafts.
pub const DEFAULT_SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// Open connections per worker thread; more wait in the listen queue.
pub const MAX_CONNECTIONS_PER_WORKER: usize = 2048;

/// The rate limits of `web::limits`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Failed authentications (sign-ins and wrong tokens) per minute and client address,
    /// after a burst of `login_burst`.
    pub login_per_minute: u32,
    pub login_burst: u32,
    /// Requests per second of one broker (token or session) or of the admin token, after
    /// a burst of `token_burst`.
    pub token_per_second: u32,
    pub token_burst: u32,
    /// New assessments per minute and client address, after a burst of `create_burst`:
    /// enough for an office behind one NAT.
    pub create_per_minute: u32,
    pub create_burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            login_per_minute: 6,
            login_burst: 10,
            token_per_second: 20,
            token_burst: 100,
            create_per_minute: 60,
            create_burst: 60,
        }
    }
}

/// The operator's secret for the admin API. Its `Debug` prints nothing secret.
#[derive(Clone)]
pub struct AdminToken(pub String);

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(..)")
    }
}

/// What the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub data_dir: PathBuf,
    pub questionnaires: PathBuf,
    /// actix worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// The address users reach the site at (`https://shindan.example.jp`), for the private
    /// links shown on pages; `None` takes it from the request.
    pub public_url: Option<String>,
    /// Turns the admin API on; off when `None`.
    pub admin_token: Option<AdminToken>,
    pub rate_limits: RateLimits,
    /// Reverse proxies whose `X-Forwarded-For` names the client for rate limits; a request
    /// from any other address is keyed by that address.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a request's body may take to arrive after its head (then 408).
    pub body_timeout: Duration,
    /// Drafts that no broker invited, untouched this long, are deleted.
    pub draft_ttl: Duration,
    /// How often the sweep of abandoned drafts runs.
    pub sweep_every: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: DEFAULT_BIND.into(),
            data_dir: DEFAULT_DATA_DIR.into(),
            questionnaires: DEFAULT_QUESTIONNAIRES.into(),
            workers: None,
            public_url: None,
            admin_token: None,
            rate_limits: RateLimits::default(),
            trusted_proxies: Vec::new(),
            body_timeout: DEFAULT_BODY_TIMEOUT,
            draft_ttl: days(DEFAULT_DRAFT_DAYS),
            sweep_every: DEFAULT_SWEEP_EVERY,
        }
    }
}

/// A number of days as a duration.
pub fn days(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * 24 * 3600)
}
