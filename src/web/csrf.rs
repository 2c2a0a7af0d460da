//! Anti-forgery tokens of the broker forms, for browsers that send neither
//! `Sec-Fetch-Site` nor `Origin` (`web::form` refuses the others when they come from
//! another site). A token lives in a hidden field named [`FIELD`]:
//!
//! - signed-in forms carry an HMAC of the session cookie's value under the session key,
//!   so it needs no storage, changes with every sign-in and dies with the session;
//! - the sign-in form carries a random nonce that must equal the one in a signed,
//!   `SameSite=Strict` cookie set with the form (a double submit: another site cannot read
//!   the nonce, nor sign a cookie of its own; a sibling subdomain could plant one signed
//!   for itself, but its posts are refused as `same-site` by `web::form` anyway).
//!
//! Tokens are compared in constant time and never logged.

use actix_web::cookie::{Cookie, Key};
use actix_web::HttpRequest;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::session;

/// The hidden form field that carries the token.
pub const FIELD: &str = "csrf";
/// The cookie that carries the sign-in form's nonce.
pub const LOGIN_COOKIE: &str = "shindan_login";
/// The only path the sign-in cookie is sent to.
const LOGIN_PATH: &str = "/broker/login";
/// Starts the sign-in cookie's value. The signature covers the value, not the cookie's
/// name, so this keeps a signed session value from passing for a nonce, and back.
const NONCE_PREFIX: &str = "login.";
/// Separates these MACs from any other use of the session key.
const CONTEXT: &[u8] = b"shindan broker form v1\0";
const NONCE_BYTES: usize = 32;
/// The length of a nonce in base64url without padding.
const NONCE_CHARS: usize = (NONCE_BYTES * 4).div_ceil(3);

/// The anti-forgery token of the forms of the session whose (verified) cookie value is
/// `session_value`.
pub fn session_token(key: &Key, session_value: &str) -> String {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key.signing())
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(CONTEXT);
    mac.update(session_value.as_bytes());
    URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
}

/// Whether the presented token is the expected one, in constant time.
pub fn matches(expected: &str, presented: Option<&str>) -> bool {
    let presented = presented.unwrap_or("");
    presented.len() == expected.len() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// The nonce of the request's sign-in cookie, when its signature holds.
pub fn login_nonce(req: &HttpRequest, key: &Key) -> Option<String> {
    let value = session::verified_value(req, key, LOGIN_COOKIE)?;
    let nonce = value.strip_prefix(NONCE_PREFIX)?;
    (nonce.len() == NONCE_CHARS).then(|| nonce.to_string())
}

/// A fresh sign-in nonce from the OS's CSPRNG.
pub fn new_login_nonce() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; NONCE_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The signed cookie that carries `nonce` to the sign-in post, for as long as a session
/// lasts; `secure` when the site is served over HTTPS.
pub fn login_cookie(key: &Key, nonce: &str, secure: bool) -> Cookie<'static> {
    let value = format!("{NONCE_PREFIX}{nonce}");
    session::signed_cookie(key, (LOGIN_COOKIE, LOGIN_PATH), value, secure)
}

/// The cookie that removes the sign-in nonce once it has been used.
pub fn login_cookie_removal() -> Cookie<'static> {
    session::removal_of((LOGIN_COOKIE, LOGIN_PATH))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_token_is_bound_to_its_session_and_key() {
        let key = Key::generate();
        let a = session_token(&key, "broker.1.0.100");
        assert_eq!(a, session_token(&key, "broker.1.0.100"));
        assert_ne!(a, session_token(&key, "broker.1.0.101"), "another sign-in");
        assert_ne!(
            a,
            session_token(&Key::generate(), "broker.1.0.100"),
            "another key"
        );
        assert_eq!(a.len(), 43, "256 bits, base64url");
    }

    #[test]
    fn tokens_match_only_exactly() {
        assert!(matches("abc", Some("abc")));
        assert!(!matches("abc", Some("abd")));
        assert!(!matches("abc", Some("ab")));
        assert!(!matches("abc", Some("")));
        assert!(!matches("abc", None));
    }

    #[test]
    fn nonces_are_fresh_and_256_bits() {
        let a = new_login_nonce().unwrap();
        assert_eq!(a.len(), 43);
        assert_ne!(a, new_login_nonce().unwrap());
    }
}
