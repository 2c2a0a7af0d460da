//! The risk-diagnosis report: what it says (`analysis`), the radar chart (`radar`), the
//! HTML page and its self-contained download (`page`) and the CSV exports (`csv`).
//! Everything here is pure: it is handed the questionnaire, the record and the peer
//! statistics, and never reads the database.

pub mod analysis;
pub mod csv;
pub mod page;
pub mod radar;

pub use analysis::{analyse, Analysis, Comparison, Level};

use crate::i18n::Lang;

/// The radar chart of an analysis, in one language.
pub fn radar_svg(a: &Analysis, lang: Lang) -> String {
    let ui = lang.ui();
    let axes =
        a.q.domains
            .iter()
            .zip(&a.scores.domains)
            .map(|(d, s)| radar::Axis {
                label: d.label.get(lang),
                score: s.score,
            })
            .collect();
    let name = comparison_name(a, lang);
    let second = a.comparison.as_ref().map(|c| radar::Series {
        name: name.as_deref().unwrap_or(""),
        values: c.values(),
    });
    radar::svg(&radar::Radar {
        lang,
        axes,
        name: ui.your_company,
        second,
    })
}

/// The legend name of the comparison series.
pub fn comparison_name(a: &Analysis, lang: Lang) -> Option<String> {
    let ui = lang.ui();
    Some(match a.comparison.as_ref()? {
        Comparison::Peers {
            companies,
            segment: None,
            ..
        } => ui.peer_average.replace("{n}", &companies.to_string()),
        Comparison::Peers {
            companies,
            segment: Some(segment),
            ..
        } => ui
            .segment_average
            .replace("{segment}", &segment_label(a, segment, lang))
            .replace("{n}", &companies.to_string()),
        Comparison::Previous { submitted, .. } => ui.previous_label.replace(
            "{date}",
            &submitted
                .map(|d| d.format("%Y-%m-%d").to_string())
                .unwrap_or_default(),
        ),
    })
}

/// A rank band in words: "上位20%以内" ... "下位20%" / "top 20%" ... "bottom 20%".
pub fn band_words(band: crate::peers::Band, lang: Lang) -> String {
    let ui = lang.ui();
    if band.is_bottom() {
        let width = 100 / crate::peers::BANDS;
        ui.band_bottom.replace("{n}", &width.to_string())
    } else {
        ui.band_top.replace("{n}", &band.top_percent().to_string())
    }
}

/// The label of a business-type segment in the questionnaire's words.
pub(crate) fn segment_label(a: &Analysis, segment: &str, lang: Lang) -> String {
    a.q.profile_field(crate::store::SEGMENT_FIELD)
        .and_then(|f| f.options.iter().find(|o| o.id == segment))
        .map(|o| o.label.get(lang).to_string())
        .unwrap_or_else(|| segment.to_string())
}
