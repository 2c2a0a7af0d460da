//! Capability tokens: 32 random bytes from the OS CSPRNG, base64url without padding
//! (43 characters, 256 bits). Their types print nothing secret. The store finds records
//! by the tokens' SHA-256 digests; it keeps no edit token at all, only its digest
//! (compared in constant time), and keeps the report token so the report link can be
//! shown again.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Random bytes per token.
pub const TOKEN_BYTES: usize = 32;
/// Length of a token's text form.
pub const TOKEN_CHARS: usize = 43;

/// Why a token could not be generated.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed: {0}")]
pub struct RandomError(String);

/// The digest under which a token is stored; never the token itself.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenDigest(pub [u8; 32]);

impl TokenDigest {
    /// Constant-time equality, for checking a presented token against a stored digest.
    pub fn matches(&self, other: &TokenDigest) -> bool {
        self.0.ct_eq(&other.0).into()
    }

    /// Hex form, for storage in records.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses the hex form.
    pub fn from_hex(s: &str) -> Option<TokenDigest> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(s, &mut out).ok()?;
        Some(TokenDigest(out))
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenDigest(..)")
    }
}

macro_rules! token_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(String);

        impl $name {
            /// A new random token.
            pub fn generate() -> Result<Self, RandomError> {
                let mut bytes = [0u8; TOKEN_BYTES];
                getrandom::fill(&mut bytes).map_err(|e| RandomError(e.to_string()))?;
                Ok($name(URL_SAFE_NO_PAD.encode(bytes)))
            }

            /// Accepts exactly the text form of a token; anything else is `None`.
            pub fn parse(s: &str) -> Option<Self> {
                let ok = s.len() == TOKEN_CHARS
                    && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                    && URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == TOKEN_BYTES);
                ok.then(|| $name(s.to_string()))
            }

            /// The secret text, for links and responses only: never log it.
            pub fn expose(&self) -> &str {
                &self.0
            }

            /// The digest under which the store knows this token.
            pub fn digest(&self) -> TokenDigest {
                TokenDigest(Sha256::digest(self.0.as_bytes()).into())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }
    };
}

token_type!(
    /// Lets its holder edit a draft assessment and submit it.
    EditToken
);
token_type!(
    /// Lets its holder read a submitted assessment's report.
    ReportToken
);
token_type!(
    /// Signs a broker in: to the broker API as a bearer token, to the broker pages
    /// through the login form. Stored only as its digest.
    BrokerToken
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_43_chars_and_parse_back() {
        let t = EditToken::generate().unwrap();
        assert_eq!(t.expose().len(), TOKEN_CHARS);
        assert_eq!(EditToken::parse(t.expose()), Some(t.clone()));
        assert_ne!(t, EditToken::generate().unwrap());
    }

    #[test]
    fn debug_never_prints_the_secret() {
        let t = ReportToken::generate().unwrap();
        assert!(!format!("{t:?}").contains(t.expose()));
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        assert!(EditToken::parse("short").is_none());
        assert!(EditToken::parse(&"a".repeat(44)).is_none());
        assert!(EditToken::parse(&format!("{}=", "a".repeat(42))).is_none());
        assert!(EditToken::parse(&"/".repeat(43)).is_none());
    }

    #[test]
    fn digest_round_trips_through_hex() {
        let d = ReportToken::generate().unwrap().digest();
        assert!(TokenDigest::from_hex(&d.to_hex()).unwrap().matches(&d));
    }
}
