//! The friendly error page.

use maud::{html, Markup};

use super::layout;
use crate::i18n::Lang;

/// An error page with its title and explanation.
pub fn page(lang: Lang, title: &str, body: &str) -> Markup {
    page_with_id(lang, title, body, None)
}

/// An error page that also shows the id of the logged error, for the operator.
pub fn page_with_id(lang: Lang, title: &str, body: &str, error_id: Option<&str>) -> Markup {
    let ui = lang.ui();
    layout::page(
        lang,
        title,
        &layout::with_lang("/", lang.other()),
        html! {
            section.card.error {
                h1 { (title) }
                p { (body) }
                @if let Some(id) = error_id {
                    p.error-id { (ui.err_id_label) (ui.label_separator) code { (id) } }
                }
                p { a.button href="/" { (ui.back_to_start) } }
            }
        },
    )
}
