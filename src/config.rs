//! Run-time configuration of the server, with the embedded defaults that make
//! `cargo run --release` work with no arguments.

use std::path::PathBuf;
use std::str::FromStr;
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
/// Free space (MiB) kept on the data directory's file system when nothing else is said:
/// below it, writes are refused with 503 `storage_unavailable` and reads go on. Room for
/// sled's own housekeeping (a 512 KiB segment at a time, and the nodes it reorganises
/// while reading) and for a restart.
pub const DEFAULT_RESERVE_MB: u64 = 64;

/// How often the server tries to take a peer snapshot when nothing else is said.
pub const DEFAULT_PEER_SNAPSHOT_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// How often the server tries to take a peer snapshot, as people write it: `24h`, `30m`,
/// `1h30m`, `90s`, `500ms`, `2d`; `off` for never (then only the admin API and
/// `shindan peers snapshot` take them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotInterval(pub Option<Duration>);

impl FromStr for SnapshotInterval {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let s = raw.trim().to_ascii_lowercase();
        if s == "off" {
            return Ok(SnapshotInterval(None));
        }
        let bad = || format!("{raw:?} is not an interval: write e.g. 24h, 30m, 1h30m, 90s or off");
        let mut total = Duration::ZERO;
        let mut rest = s.as_str();
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
            let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
            rest = &rest[digits..];
            let unit = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let millis = match &rest[..unit] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                _ => return Err(bad()),
            };
            rest = &rest[unit..];
            let part = n.checked_mul(millis).ok_or_else(bad)?;
            total = total
                .checked_add(Duration::from_millis(part))
                .ok_or_else(bad)?;
        }
        if total.is_zero() {
            return Err(format!(
                "{raw:?}: the interval must be longer than zero (or off)"
            ));
        }
        Ok(SnapshotInterval(Some(total)))
    }
}

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
    /// How often the server tries to take a peer snapshot; `None` never.
    pub peer_snapshot_interval: Option<Duration>,
    /// Free space kept on the data directory's file system, in MiB (0: none).
    pub reserve_mb: u64,
    /// Whether Prometheus metrics are collected (and served at `/metrics`).
    pub metrics: bool,
    /// A second address serving only `/metrics`, without authentication (for a private
    /// monitoring network); `None` for none (then only the main port serves it, behind
    /// the admin token).
    pub metrics_bind: Option<String>,
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
            peer_snapshot_interval: Some(DEFAULT_PEER_SNAPSHOT_INTERVAL),
            reserve_mb: DEFAULT_RESERVE_MB,
            metrics: true,
            metrics_bind: None,
        }
    }
}

/// A number of days as a duration.
pub fn days(n: u32) -> Duration {
    Duration::from_secs(u64::from(n) * 24 * 3600)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Option<Duration>, String> {
        s.parse::<SnapshotInterval>().map(|i| i.0)
    }

    #[test]
    fn intervals_are_written_as_people_write_them() {
        let h = |n: u64| Ok(Some(Duration::from_secs(n * 3600)));
        assert_eq!(parse("24h"), h(24));
        assert_eq!(parse(" 1D "), h(24));
        assert_eq!(parse("30m"), Ok(Some(Duration::from_secs(1800))));
        assert_eq!(parse("1h30m"), Ok(Some(Duration::from_secs(5400))));
        assert_eq!(parse("90s"), Ok(Some(Duration::from_secs(90))));
        assert_eq!(parse("250ms"), Ok(Some(Duration::from_millis(250))));
        assert_eq!(parse("off"), Ok(None));
        for bad in [
            "",
            "24",
            "h",
            "1x",
            "1h 30m",
            "-1h",
            "0s",
            "0h0m",
            "99999999999999999d",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }
}
