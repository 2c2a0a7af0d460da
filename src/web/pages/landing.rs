//! The landing page: what shindan does, and the questionnaires to start.

use maud::{html, Markup};

use super::layout;
use crate::i18n::Lang;
use crate::questionnaire::Questionnaire;

/// The landing page for the latest version of each questionnaire.
pub fn page(lang: Lang, questionnaires: &[std::sync::Arc<Questionnaire>]) -> Markup {
    let ui = lang.ui();
    layout::page(
        lang,
        ui.landing_title,
        &layout::with_lang("/", lang.other()),
        html! {
            section.hero {
                h1 { (ui.landing_title) }
                p.lead { (ui.landing_lead) }
                ul.points {
                    @for point in ui.landing_points { li { (point) } }
                }
            }
            @for q in questionnaires {
                section.card.questionnaire {
                    h2 { (q.title.get(lang)) }
                    @if let Some(d) = &q.description { p { (d.get(lang)) } }
                    p.meta {
                        (ui.domains_count.replace("{n}", &q.domains.len().to_string()))
                        (ui.separator)
                        (ui.questions_count.replace("{n}", &q.questions.len().to_string()))
                        (ui.separator)
                        (ui.version) " " (q.version)
                    }
                    form method="post" action="/start" {
                        input type="hidden" name="questionnaire" value=(q.id);
                        input type="hidden" name="version" value=(q.version);
                        button.primary type="submit" { (ui.start) }
                    }
                }
            }
            p.note { (ui.landing_private_link_note) }
        },
    )
}
