//! Run-time configuration of the server, with the embedded defaults that make
//! `cargo run --release` work with no arguments.

use std::path::PathBuf;

/// Where the server listens when nothing else is said.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// The data directory when nothing else is said.
pub const DEFAULT_DATA_DIR: &str = "./data";
/// The questionnaires folder when nothing else is said.
pub const DEFAULT_QUESTIONNAIRES: &str = "./questionnaires";
/// The largest request body accepted, JSON or form.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Free space (MiB) kept on the data directory's file system when nothing else is said:
/// below it, writes are refused with 503 `storage_unavailable` and reads go on. Room for
/// sled's own housekeeping (a 512 KiB segment at a time, and the nodes it reorganises
/// while reading) and for a restart.
pub const DEFAULT_RESERVE_MB: u64 = 64;

/// Requests allowed per client address on the routes that take a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Broker login attempts per minute, after a burst of `login_burst`.
    pub login_per_minute: u32,
    pub login_burst: u32,
    /// Requests per second with a broker or admin token or a broker session, after a
    /// burst of `token_burst`.
    pub token_per_second: u32,
    pub token_burst: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            login_per_minute: 6,
            login_burst: 10,
            token_per_second: 20,
            token_burst: 100,
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
    /// Free space kept on the data directory's file system, in MiB (0: none).
    pub reserve_mb: u64,
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
            reserve_mb: DEFAULT_RESERVE_MB,
        }
    }
}
