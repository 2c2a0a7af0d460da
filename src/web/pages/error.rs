//! The friendly error page.

use maud::{html, Markup};

use super::layout;
use crate::i18n::Lang;

/// An error page with its title and explanation.
pub fn page(lang: Lang, title: &str, body: &str) -> Markup {
    let ui = lang.ui();
    layout::page(
        lang,
        title,
        &layout::with_lang("/", lang.other()),
        html! {
            section.card.error {
                h1 { (title) }
                p { (body) }
                p { a.button href="/" { (ui.back_to_start) } }
            }
        },
    )
}
