//! Broker sessions for the pages: a cookie signed with a key kept in the data directory
//! (generated on first start, readable by its owner only), naming the broker, the
//! generation of its token and when it was issued. A rotated or revoked token, an expired
//! or altered cookie, all mean "sign in again".

use std::io::Write;
use std::path::Path;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, CookieJar, Key, SameSite};
use actix_web::HttpRequest;
use chrono::Utc;
use uuid::Uuid;

use crate::store::{Broker, BrokerStatus, Store, StoreError};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "shindan_broker";
/// The file that holds the signing key, in the data directory.
pub const KEY_FILE: &str = "session.key";
/// How long a session lasts.
pub const SESSION_HOURS: i64 = 12;
/// The paths the cookie is sent to.
const COOKIE_PATH: &str = "/broker";
const KEY_BYTES: usize = 64;

/// Reads the signing key of `dir`, creating it on first start.
pub fn load_or_create_key(dir: &Path) -> std::io::Result<Key> {
    use std::os::unix::fs::OpenOptionsExt;
    let path = dir.join(KEY_FILE);
    match std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
    {
        Ok(mut file) => {
            let mut bytes = [0u8; KEY_BYTES];
            getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
            file.write_all(&bytes)?;
            file.sync_all()?;
            Ok(Key::from(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let bytes = std::fs::read(&path)?;
            if bytes.len() != KEY_BYTES {
                return Err(std::io::Error::other(format!(
                    "{} must hold {KEY_BYTES} bytes; delete it to make a new one (this signs every broker out)",
                    path.display()
                )));
            }
            Ok(Key::from(&bytes))
        }
        Err(e) => Err(e),
    }
}

/// A new session cookie for `broker`. `secure` when the site is served over HTTPS.
pub fn issue(key: &Key, broker: &Broker, secure: bool) -> Cookie<'static> {
    let value = format!(
        "{}.{}.{}.{}",
        broker.id,
        broker.generation,
        broker.sessions,
        Utc::now().timestamp()
    );
    let cookie = Cookie::build(SESSION_COOKIE, value)
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::hours(SESSION_HOURS))
        .finish();
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(cookie);
    jar.get(SESSION_COOKIE)
        .cloned()
        .unwrap_or_else(|| Cookie::new(SESSION_COOKIE, ""))
}

/// The cookie that ends a session.
pub fn removal() -> Cookie<'static> {
    let mut c = Cookie::build(SESSION_COOKIE, "")
        .path(COOKIE_PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    c.make_removal();
    c
}

/// The active broker the request's session cookie names, if it is valid.
pub fn broker_of(
    req: &HttpRequest,
    key: &Key,
    store: &Store,
) -> Result<Option<Broker>, StoreError> {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else {
        return Ok(None);
    };
    let mut jar = CookieJar::new();
    jar.add_original(cookie);
    let Some(verified) = jar.signed(key).get(SESSION_COOKIE) else {
        return Ok(None);
    };
    let mut parts = verified.value().split('.');
    let (Some(id), Some(generation), Some(sessions), Some(issued), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Ok(None);
    };
    let (Ok(id), Ok(generation), Ok(sessions), Ok(issued)) = (
        Uuid::parse_str(id),
        generation.parse::<u32>(),
        sessions.parse::<u32>(),
        issued.parse::<i64>(),
    ) else {
        return Ok(None);
    };
    let age = Utc::now().timestamp() - issued;
    if !(0..SESSION_HOURS * 3600).contains(&age) {
        return Ok(None);
    }
    Ok(store.broker(id)?.filter(|b| {
        b.status() == BrokerStatus::Active && b.generation == generation && b.sessions == sessions
    }))
}
