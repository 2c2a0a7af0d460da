//! Short names that people type and others read on their pages (a client's name, a broker's
//! name, a proposal reference): one rule for all of them, and one rule for when two names
//! are the same company. Pure; no I/O.

use unicode_normalization::UnicodeNormalization;

/// Characters that reorder how text is displayed (bidirectional marks, overrides and
/// isolates): in a name they could make one client or broker look like another.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// `raw` trimmed, when it has 1 to `max` characters and no control or bidirectional
/// formatting character; `None` otherwise.
pub fn clean(raw: &str, max: usize) -> Option<String> {
    let s = raw.trim();
    let n = s.chars().count();
    let ok = n > 0 && n <= max && !s.chars().any(|c| c.is_control() || is_bidi_control(c));
    ok.then(|| s.to_string())
}

/// The form under which two names count as the same company: trimmed, NFKC-normalised
/// (full-width letters and half-width katakana become their usual forms) and lower case,
/// so ＡＢＣ株式会社, abc株式会社 and ABC株式会社 match, as do ｶﾌﾞｼｷｶﾞｲｼｬ and カブシキガイシャ
/// (a company type written in kana still differs from 株式会社). Brokers' client
/// names and the companies of the peer statistics both fold with it.
pub fn fold(raw: &str) -> String {
    raw.trim().nfkc().flat_map(char::to_lowercase).collect()
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn names_are_trimmed_bounded_and_free_of_control_and_bidi_characters() {
        assert_eq!(clean("  株式会社A  ", 10).as_deref(), Some("株式会社A"));
        assert_eq!(clean("字字字", 3).as_deref(), Some("字字字"));
        assert_eq!(clean("字字字字", 3), None);
        for bad in ["", "   ", "a\tb", "a\nb", "\u{202E}evil", "a\u{2066}b"] {
            assert_eq!(clean(bad, 100), None, "{bad:?}");
        }
    }
}
