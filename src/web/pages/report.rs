//! The report page of a submitted assessment.

use maud::{html, Markup};

use super::layout;
use super::steps::{fmt_score, score_table};
use crate::i18n::Lang;
use crate::questionnaire::{FindingKind, Questionnaire};
use crate::store::AssessmentRecord;

/// The report of a submitted assessment. `path` is the page's own path.
pub fn page(lang: Lang, q: &Questionnaire, record: &AssessmentRecord, path: &str) -> Markup {
    let ui = lang.ui();
    let company = record
        .profile
        .get("company_name")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let submitted = record
        .submitted_at
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let findings: Vec<_> = record
        .findings
        .iter()
        .filter_map(|id| q.findings.iter().find(|f| &f.id == id))
        .collect();
    let kind_label = |k: FindingKind| match k {
        FindingKind::Exclusion => ui.finding_exclusion,
        FindingKind::Discount => ui.finding_discount,
        FindingKind::Coverage => ui.finding_coverage,
        FindingKind::Info => ui.finding_info,
    };
    layout::page(
        lang,
        ui.report_title,
        &layout::with_lang(path, lang.other()),
        html! {
            header.report-head {
                p.questionnaire-title { (q.title.get(lang)) " · " (ui.version) " " (q.version) }
                h1 { (ui.report_title) }
                dl.meta {
                    dt { (ui.company) } dd { (company) }
                    dt { (ui.submitted_on) } dd { (submitted) }
                    dt { (ui.report_id) } dd { code { (record.id) } }
                }
            }
            @if let Some(s) = &record.scores {
                section.card.summary {
                    p.overall {
                        span.label { (ui.overall) }
                        span.value { (fmt_score(s.overall)) }
                        span.grade { (ui.grade) " " (s.grade.as_deref().unwrap_or("—")) }
                    }
                    (score_table(lang, q, s))
                }
            }
            @if !findings.is_empty() {
                section.card {
                    h2 { (ui.findings) }
                    ul.findings {
                        @for f in findings {
                            li { span.kind { (kind_label(f.kind)) } " " (f.text.get(lang)) }
                        }
                    }
                }
            }
            p.disclaimer { (ui.report_disclaimer) }
        },
    )
}

/// The page shown for a report link whose assessment is still a draft.
pub fn not_submitted(lang: Lang, path: &str) -> Markup {
    let ui = lang.ui();
    layout::page(
        lang,
        ui.err_not_submitted_title,
        &layout::with_lang(path, lang.other()),
        html! {
            section.card.error {
                h1 { (ui.err_not_submitted_title) }
                p { (ui.err_not_submitted_body) }
            }
        },
    )
}
