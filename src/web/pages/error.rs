//! The friendly error page.

use maud::{html, Markup};

use super::layout;
use crate::i18n::Lang;
use crate::web::error::ErrorCode;

/// The title and explanation of an error, in the reader's language.
pub fn describe(lang: Lang, code: ErrorCode) -> (&'static str, &'static str) {
    let ui = lang.ui();
    match code {
        ErrorCode::NotFound | ErrorCode::Unauthorized => {
            (ui.err_not_found_title, ui.err_not_found_body)
        }
        ErrorCode::CrossOrigin => (ui.err_cross_origin_title, ui.err_cross_origin_body),
        ErrorCode::UnknownQuestionnaire | ErrorCode::QuestionnaireUnavailable => {
            (ui.err_questionnaire_title, ui.err_questionnaire_body)
        }
        ErrorCode::AlreadySubmitted => (ui.err_submitted_title, ui.err_submitted_body),
        ErrorCode::NotSubmitted => (ui.err_not_submitted_title, ui.err_not_submitted_body),
        ErrorCode::PayloadTooLarge => (ui.err_too_large_title, ui.err_too_large_body),
        ErrorCode::Internal => (ui.err_internal_title, ui.err_internal_body),
        _ => (ui.err_bad_request_title, ui.err_bad_request_body),
    }
}

/// An error page.
pub fn page(lang: Lang, code: ErrorCode) -> Markup {
    let ui = lang.ui();
    let (title, body) = describe(lang, code);
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
