//! The page of a report link whose assessment is not submitted yet. The report itself is
//! rendered by `crate::report::page`.

use maud::{html, Markup};

use super::layout;
use crate::i18n::Lang;

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
