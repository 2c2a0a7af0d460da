//! Language negotiation and the words of the user interface, in Japanese and English.
//!
//! Every user-facing string lives in [`Ui`], once per language, so a page built from one
//! `Ui` value never shows the other language by accident. Knows nothing of HTTP types: the
//! web layer passes the query, cookie and `Accept-Language` values in as plain strings.

mod basics;
mod broker;
mod strings;

pub use basics::Basics;
pub use broker::BrokerUi;
pub use strings::Ui;

use serde::{Deserialize, Serialize};

/// A language of the interface. Japanese is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    /// Parses a language code (`ja`, `en`, `ja-JP`, `en-US`...), ignoring case.
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ja" => Some(Lang::Ja),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The BCP 47 code used in `lang` attributes and links.
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ja => "ja",
            Lang::En => "en",
        }
    }

    /// The other language, for the language switch.
    pub fn other(self) -> Lang {
        match self {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        }
    }

    /// The interface strings of this language.
    pub fn ui(self) -> &'static Ui {
        match self {
            Lang::Ja => &strings::JA,
            Lang::En => &strings::EN,
        }
    }

    /// The report's coverage basics in this language.
    pub fn basics(self) -> &'static Basics {
        match self {
            Lang::Ja => &basics::JA,
            Lang::En => &basics::EN,
        }
    }

    /// The broker pages' strings of this language.
    pub fn broker(self) -> &'static BrokerUi {
        match self {
            Lang::Ja => &broker::JA,
            Lang::En => &broker::EN,
        }
    }

    /// Picks the language: an explicit choice (`?lang=`), then the cookie, then the
    /// `Accept-Language` header (by q-value), then Japanese.
    pub fn negotiate(query: Option<&str>, cookie: Option<&str>, accept: Option<&str>) -> Lang {
        query
            .and_then(Lang::parse)
            .or_else(|| cookie.and_then(Lang::parse))
            .or_else(|| accept.and_then(from_accept_language))
            .unwrap_or_default()
    }
}

/// The supported language with the highest q-value in an `Accept-Language` header.
fn from_accept_language(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let Some(lang) = pieces.next().and_then(Lang::parse) else {
            continue;
        };
        let q = pieces
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|v| v.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_beats_cookie_beats_header() {
        assert_eq!(
            Lang::negotiate(Some("en"), Some("ja"), Some("ja")),
            Lang::En
        );
        assert_eq!(Lang::negotiate(None, Some("en"), Some("ja")), Lang::En);
        assert_eq!(Lang::negotiate(Some("xx"), None, Some("en-US")), Lang::En);
        assert_eq!(Lang::negotiate(None, None, None), Lang::Ja);
    }

    #[test]
    fn accept_language_honours_q_values() {
        assert_eq!(from_accept_language("en;q=0.5, ja;q=0.9"), Some(Lang::Ja));
        assert_eq!(from_accept_language("fr, en-GB;q=0.8"), Some(Lang::En));
        assert_eq!(from_accept_language("fr, de"), None);
        assert_eq!(from_accept_language("en;q=0"), None);
    }
}
