//! The report's fixed coverage basics block (`DESIGN.md`, "Rules of the domain"): the
//! same on every report, with the main exclusions that this company's notes make
//! concrete marked and linked to those notes.

use maud::{html, Markup};

use super::analysis::Analysis;
use crate::i18n::Lang;
use crate::questionnaire::GeneralExclusion;

/// The anchor of a finding in the report, for links from the basics block.
pub fn finding_anchor(id: &str) -> String {
    format!("finding-{id}")
}

/// The notes of this report that make an exclusion concrete, in report order.
fn related<'a>(a: &'a Analysis, e: GeneralExclusion) -> impl Iterator<Item = &'a str> {
    a.findings
        .iter()
        .filter(move |f| f.exclusion == Some(e))
        .map(|f| f.id.as_str())
}

/// The block.
pub fn render(lang: Lang, a: &Analysis) -> Markup {
    let b = lang.basics();
    html! {
        section.card.basics {
            h2 { (b.heading) }
            p.note { (b.lead) }
            h3 { (b.basis_heading) }
            p { (b.basis) }
            ul.items { @for item in &b.items { li { (item) } } }
            p { (b.losses) }
            h3 { (b.costs_heading) }
            p { (b.costs_lead) }
            dl.costs {
                @for (name, what) in &b.costs { dt { (name) } dd { (what) } }
            }
            h3 { (b.exclusions_heading) }
            p {
                (b.exclusions_lead)
                @if a.findings.iter().any(|f| f.exclusion.is_some()) { @if lang == Lang::En { " " } (b.related_lead) }
            }
            ul.exclusions {
                @for e in GeneralExclusion::ALL {
                    @let ids: Vec<&str> = related(a, e).collect();
                    li class=[(!ids.is_empty()).then_some("relevant")] {
                        (b.exclusion(e))
                        @if let Some(first) = ids.first() {
                            " " a.related href=(format!("#{}", finding_anchor(first))) { (b.related) }
                        }
                    }
                }
            }
            h3 { (b.documents_heading) }
            p.documents { (b.documents) }
        }
    }
}
