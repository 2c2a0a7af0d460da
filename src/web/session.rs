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
    let path = dir.join(KEY_FILE);
    match read_key(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_key(dir, &path),
        read => read,
    }
}

fn read_key(path: &Path) -> std::io::Result<Key> {
    let bytes = std::fs::read(path)?;
    if bytes.len() != KEY_BYTES {
        return Err(std::io::Error::other(format!(
            "{} must hold {KEY_BYTES} bytes; delete it to make a new one (this signs every broker out)",
            path.display()
        )));
    }
    Ok(Key::from(&bytes))
}

/// Writes a new key whole to a temporary file (0600), then links it into place: a write
/// that fails half-way (a full disk) leaves no empty or short key behind to stop every
/// later start. A key that appeared meanwhile wins.
fn create_key(dir: &Path, path: &Path) -> std::io::Result<Key> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut bytes = [0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!("{KEY_FILE}.tmp"));
    let written = (|| {
        // A leftover of a start that failed before it could remove it.
        match std::fs::remove_file(&tmp) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let mut file = std::fs::File::options()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        std::fs::hard_link(&tmp, path)
    })();
    let _ = std::fs::remove_file(&tmp);
    match written {
        Ok(()) => {
            std::fs::File::open(dir)?.sync_all()?;
            Ok(Key::from(&bytes))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_key(path),
        Err(e) => Err(e),
    }
}

/// What a session cookie says, before its signature: the broker, the generation of its
/// token, its sign-out count and the issue time (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Session {
    broker: Uuid,
    generation: u32,
    sessions: u32,
    issued: i64,
}

impl Session {
    fn of(broker: &Broker, now: i64) -> Session {
        Session {
            broker: broker.id,
            generation: broker.generation,
            sessions: broker.sessions,
            issued: now,
        }
    }

    fn value(&self) -> String {
        format!(
            "{}.{}.{}.{}",
            self.broker, self.generation, self.sessions, self.issued
        )
    }

    fn parse(value: &str) -> Option<Session> {
        let mut parts = value.split('.');
        let session = Session {
            broker: Uuid::parse_str(parts.next()?).ok()?,
            generation: parts.next()?.parse().ok()?,
            sessions: parts.next()?.parse().ok()?,
            issued: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(session)
    }

    /// Issued at most `SESSION_HOURS` before `now`, and not in the future.
    fn is_fresh(&self, now: i64) -> bool {
        (0..SESSION_HOURS * 3600).contains(&(now - self.issued))
    }

    /// Whether the broker's account still accepts it.
    fn admits(&self, broker: &Broker) -> bool {
        broker.status() == BrokerStatus::Active
            && broker.generation == self.generation
            && broker.sessions == self.sessions
    }
}

/// A cookie of ours, signed with `key`: `HttpOnly`, `SameSite=Strict`, lasting a session's
/// hours, sent only to `path`; `secure` when the site is served over HTTPS. The session
/// and the sign-in form's nonce (`web::csrf`) both use it.
pub(super) fn signed_cookie(
    key: &Key,
    (name, path): (&'static str, &'static str),
    value: String,
    secure: bool,
) -> Cookie<'static> {
    let cookie = Cookie::build(name, value)
        .path(path)
        .http_only(true)
        .secure(secure)
        .same_site(SameSite::Strict)
        .max_age(CookieDuration::hours(SESSION_HOURS))
        .finish();
    let mut jar = CookieJar::new();
    jar.signed_mut(key).add(cookie);
    jar.get(name)
        .cloned()
        .unwrap_or_else(|| Cookie::new(name, ""))
}

/// The value of the request's cookie `name`, when its signature under `key` holds.
pub(super) fn verified_value(req: &HttpRequest, key: &Key, name: &str) -> Option<String> {
    let mut jar = CookieJar::new();
    jar.add_original(req.cookie(name)?);
    Some(jar.signed(key).get(name)?.value().to_string())
}

/// The cookie that removes our cookie `name` at `path`.
pub(super) fn removal_of((name, path): (&'static str, &'static str)) -> Cookie<'static> {
    let mut c = Cookie::build(name, "")
        .path(path)
        .http_only(true)
        .same_site(SameSite::Strict)
        .finish();
    c.make_removal();
    c
}

/// A new session cookie for `broker`. `secure` when the site is served over HTTPS.
pub fn issue(key: &Key, broker: &Broker, secure: bool) -> Cookie<'static> {
    let value = Session::of(broker, Utc::now().timestamp()).value();
    signed_cookie(key, (SESSION_COOKIE, COOKIE_PATH), value, secure)
}

/// The cookie that ends a session.
pub fn removal() -> Cookie<'static> {
    removal_of((SESSION_COOKIE, COOKIE_PATH))
}

/// A valid session: its broker and the (verified) value of its cookie, which the
/// anti-forgery token of its forms is derived from (`web::csrf::session_token`).
pub struct SignedIn {
    pub broker: Broker,
    pub value: String,
}

/// The active broker the request's session cookie names, if it is valid.
pub fn broker_of(
    req: &HttpRequest,
    key: &Key,
    store: &Store,
) -> Result<Option<Broker>, StoreError> {
    Ok(signed_in(req, key, store)?.map(|s| s.broker))
}

/// The request's valid session, if any: [`broker_of`] with the cookie's value.
pub fn signed_in(
    req: &HttpRequest,
    key: &Key,
    store: &Store,
) -> Result<Option<SignedIn>, StoreError> {
    let Some(value) = verified_value(req, key, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = Session::parse(&value) else {
        return Ok(None);
    };
    if !session.is_fresh(Utc::now().timestamp()) {
        return Ok(None);
    }
    Ok(store
        .broker(session.broker)?
        .filter(|b| session.admits(b))
        .map(|broker| SignedIn { broker, value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_key_is_kept_and_a_failed_start_leaves_nothing_in_the_way() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        // What a start that failed half-way through writing used to leave.
        std::fs::write(dir.path().join(format!("{KEY_FILE}.tmp")), b"").unwrap();
        let key = load_or_create_key(dir.path()).unwrap();
        let path = dir.path().join(KEY_FILE);
        assert_eq!(std::fs::read(&path).unwrap().len(), KEY_BYTES);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert!(!dir.path().join(format!("{KEY_FILE}.tmp")).exists());
        let again = load_or_create_key(dir.path()).unwrap();
        assert_eq!(key.master(), again.master());
    }

    #[test]
    fn a_short_key_stops_the_start_with_a_message() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(KEY_FILE), b"").unwrap();
        let Err(e) = load_or_create_key(dir.path()) else {
            panic!("a short key was accepted");
        };
        assert!(e.to_string().contains("must hold 64 bytes"), "{e}");
    }

    fn broker() -> Broker {
        Broker {
            id: Uuid::new_v4(),
            name: "A".into(),
            created_at: Utc::now(),
            token_sha256: "00".repeat(32),
            generation: 2,
            sessions: 5,
            rotated_at: None,
            revoked_at: None,
        }
    }

    #[test]
    fn a_session_reads_back_and_lasts_twelve_hours() {
        let b = broker();
        let s = Session::of(&b, 1_000_000);
        assert_eq!(Session::parse(&s.value()), Some(s));
        assert!(s.is_fresh(1_000_000));
        assert!(s.is_fresh(1_000_000 + SESSION_HOURS * 3600 - 1));
        assert!(!s.is_fresh(1_000_000 + SESSION_HOURS * 3600), "expired");
        assert!(!s.is_fresh(999_999), "issued in the future");
    }

    #[test]
    fn a_session_ends_with_a_rotation_a_sign_out_or_a_revocation() {
        let mut b = broker();
        let s = Session::of(&b, 0);
        assert!(s.admits(&b));
        b.generation += 1;
        assert!(!s.admits(&b), "rotated");
        b.generation -= 1;
        b.sessions += 1;
        assert!(!s.admits(&b), "signed out");
        b.sessions -= 1;
        b.revoked_at = Some(Utc::now());
        assert!(!s.admits(&b), "revoked");
    }

    #[test]
    fn malformed_session_values_are_refused() {
        let id = Uuid::new_v4();
        for bad in [
            String::new(),
            format!("{id}.1.2"),
            format!("{id}.1.2.3.4"),
            format!("{id}.x.2.3"),
            "not-a-uuid.1.2.3".to_string(),
        ] {
            assert_eq!(Session::parse(&bad), None, "{bad}");
        }
    }
}
