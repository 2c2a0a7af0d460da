//! CSV exports, UTF-8 with a byte order mark so that Excel opens Japanese correctly.

use super::analysis::Analysis;
use crate::i18n::{BrokerUi, Lang};
use crate::questionnaire::Text;
use crate::record::{Membership, PortfolioStatus};
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

/// How far a client has answered the application-form items of its questionnaire.
pub struct Application {
    /// Items answered.
    pub answered: usize,
    /// Items the questionnaire marks as application-form items.
    pub total: usize,
    /// The items still missing: id and label.
    pub missing: Vec<(String, Text)>,
}

/// One assessment of a broker's portfolio, as the portfolio CSV shows it.
pub struct PortfolioRow {
    pub id: String,
    pub client_name: String,
    pub proposal_ref: String,
    pub membership: Membership,
    pub status: PortfolioStatus,
    pub questionnaire: String,
    pub created_at: String,
    pub submitted_at: String,
    pub overall: String,
    pub grade: String,
    pub report_url: String,
    /// `None` when the questionnaire asks for no application-form item.
    pub application: Option<Application>,
}

/// A broker's portfolio, one row per assessment. With a language, the headers and the
/// status words are that language's (for people); without, they are the API's codes (for
/// systems).
pub fn portfolio(rows: &[PortfolioRow], lang: Option<Lang>) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let b = lang.map(Lang::broker);
    let _ = w.write_record(match b {
        Some(b) => [
            "ID",
            b.col_client,
            b.col_proposal,
            b.col_kind,
            b.col_status,
            b.col_questionnaire,
            b.col_created,
            b.col_submitted,
            b.col_overall,
            b.col_grade,
            b.col_report_url,
            b.col_application,
            b.col_application_total,
            b.col_application_missing,
        ],
        None => [
            "id",
            "client_name",
            "proposal_ref",
            "membership",
            "status",
            "questionnaire",
            "created_at",
            "submitted_at",
            "overall",
            "grade",
            "report_url",
            "application_answered",
            "application_total",
            "application_missing",
        ],
    });
    for r in rows {
        let (membership, status) = match b {
            Some(b) => (membership_word(b, r.membership), status_word(b, r.status)),
            None => (
                match r.membership {
                    Membership::Invited => "invited",
                    Membership::Attached => "attached",
                },
                r.status.as_str(),
            ),
        };
        let (answered, total, missing) = match &r.application {
            Some(a) => (
                a.answered.to_string(),
                a.total.to_string(),
                a.missing
                    .iter()
                    .map(|(id, label)| match lang {
                        Some(l) => text(label.get(l)),
                        None => id.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(match lang {
                        Some(l) => l.ui().list_separator,
                        None => ";",
                    }),
            ),
            None => (String::new(), String::new(), String::new()),
        };
        let _ = w.write_record([
            r.id.as_str(),
            &text(&r.client_name),
            &text(&r.proposal_ref),
            membership,
            status,
            &text(&r.questionnaire),
            &r.created_at,
            &r.submitted_at,
            &r.overall,
            &r.grade,
            &r.report_url,
            &answered,
            &total,
            &missing,
        ]);
    }
    finish(w)
}

/// How a broker page names a status.
pub fn status_word(b: &BrokerUi, status: PortfolioStatus) -> &'static str {
    match status {
        PortfolioStatus::Invited => b.status_invited,
        PortfolioStatus::InProgress => b.status_in_progress,
        PortfolioStatus::Submitted => b.status_submitted,
    }
}

/// How a broker page names the way an item joined the portfolio.
pub fn membership_word(b: &BrokerUi, m: Membership) -> &'static str {
    match m {
        Membership::Invited => b.membership_invited,
        Membership::Attached => b.membership_attached,
    }
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
