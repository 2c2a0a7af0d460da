//! The frame every page shares: head, header with the language switch, footer.

use maud::{html, Markup, DOCTYPE};

use crate::i18n::Lang;

/// A whole page. `switch_href` is this page's address in the other language.
pub fn page(lang: Lang, title: &str, switch_href: &str, body: Markup) -> Markup {
    let ui = lang.ui();
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " | " (ui.brand) }
                link rel="stylesheet" href=(crate::assets::style_href());
                link rel="icon" type="image/svg+xml" href=(crate::assets::FAVICON_PATH);
            }
            body {
                header.site {
                    a.brand href="/" { (ui.brand) }
                    nav.lang aria-label=(ui.language) {
                        a href=(switch_href) hreflang=(lang.other().code()) lang=(lang.other().code()) {
                            (lang.other().ui().language_name)
                        }
                    }
                }
                main { (body) }
                footer.site {
                    p { (ui.footer_disclaimer) }
                }
            }
        }
    }
}

/// `path` (which may have a query already) with `lang=` set to `lang`, for language
/// switch links.
pub fn with_lang(path: &str, lang: Lang) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}lang={}", lang.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_added_to_a_query_that_is_already_there() {
        assert_eq!(with_lang("/broker", Lang::En), "/broker?lang=en");
        assert_eq!(
            with_lang("/broker/clients?name=A%26B", Lang::Ja),
            "/broker/clients?name=A%26B&lang=ja"
        );
    }
}
