//! CSV exports, UTF-8 with a byte order mark so that Excel opens Japanese correctly.

use super::analysis::Analysis;
use crate::i18n::Lang;
use crate::scoring::format1;

/// The byte order mark Excel needs to read UTF-8.
pub const BOM: &str = "\u{feff}";

fn finish(mut w: csv::Writer<Vec<u8>>) -> String {
    let _ = w.flush();
    let body = w.into_inner().unwrap_or_default();
    format!("{BOM}{}", String::from_utf8_lossy(&body))
}

/// A text cell that a spreadsheet will not run as a formula: one starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return gets a leading apostrophe (OWASP's advice on CSV
/// injection).
pub fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

/// One row per domain: id, label, score (empty when not assessed), answered, not applicable.
pub fn domains(a: &Analysis, lang: Lang) -> String {
    let ui = lang.ui();
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        ui.csv_id,
        ui.domain,
        ui.score,
        ui.answered,
        ui.not_applicable_short,
    ]);
    for (d, s) in a.q.domains.iter().zip(&a.scores.domains) {
        let _ = w.write_record([
            text(&d.id),
            text(d.label.get(lang)),
            s.score.map(format1).unwrap_or_default(),
            s.answered.to_string(),
            s.not_applicable.to_string(),
        ]);
    }
    finish(w)
}

/// The improvement plan: one row per answer below its maximum, most valuable first.
pub fn actions(a: &Analysis, lang: Lang) -> String {
    let ui = lang.ui();
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        ui.domain,
        ui.question,
        ui.current_answer,
        ui.recommendation,
        ui.csv_points,
    ]);
    for action in &a.actions {
        let q = action.question;
        let _ = w.write_record([
            text(a.q.domains[action.domain_index].label.get(lang)),
            text(q.text.get(lang)),
            text(q.options[action.given].label.get(lang)),
            text(q.recommendation.as_ref().map(|r| r.get(lang)).unwrap_or("")),
            format1(action.overall_gain),
        ]);
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    #[test]
    fn cells_that_look_like_formulas_are_defused() {
        assert_eq!(super::text("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::text("@SUM(1+1)"), "'@SUM(1+1)");
        assert_eq!(super::text("-1"), "'-1");
        assert_eq!(super::text("アクセス管理"), "アクセス管理");
    }
}
