//! The risk-diagnosis report: what it says (`analysis`), the radar chart (`radar`), the
//! HTML page and its self-contained download (`page`) and the CSV exports (`csv`).
//! Everything here is pure: it is handed the questionnaire, the record and the peer
//! statistics, and never reads the database.

pub mod analysis;
pub mod basics;
pub mod csv;
pub mod page;
pub mod pdf;
pub mod radar;

pub use analysis::{analyse, Analysis, Comparison, Level};

use crate::i18n::Lang;
use crate::questionnaire::{Answers, Questionnaire};
use crate::record::AssessmentRecord;

/// A record that cannot be shown with its questionnaire: its stored data does not fit it
/// (edited by hand, restored from a doctored file, or a bug). Reports refuse it whole
/// rather than show wrong numbers.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("assessment {record} does not fit questionnaire {questionnaire}: {reason}")]
pub struct Inconsistent {
    pub record: uuid::Uuid,
    pub questionnaire: String,
    pub reason: String,
}

/// Checks that a submitted record can be shown with `q`: its scores have `q`'s domains in
/// its order and are scores, its answers are `q`'s, its findings are `q`'s. The analysis,
/// the page, the radar and the exports rely on it.
pub fn check(q: &Questionnaire, record: &AssessmentRecord) -> Result<(), Inconsistent> {
    let fail = |reason: String| Inconsistent {
        record: record.id,
        questionnaire: format!("{} {} ({})", q.id, q.version, q.hash),
        reason,
    };
    if let Some(scores) = &record.scores {
        scores.check_shape(q).map_err(|e| fail(e.to_string()))?;
    }
    Answers::parse(q, &record.answers).map_err(|e| fail(e.to_string()))?;
    if let Some(f) = record
        .findings
        .iter()
        .find(|id| !q.findings.iter().any(|f| &&f.id == id))
    {
        return Err(fail(format!("unknown finding \"{f}\"")));
    }
    Ok(())
}

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
    a.q.profile_field(crate::record::SEGMENT_FIELD)
        .and_then(|f| f.options.iter().find(|o| o.id == segment))
        .map(|o| o.label.get(lang).to_string())
        .unwrap_or_else(|| segment.to_string())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;
    use crate::assessment::{new_draft, submit_record, Changes};

    fn submitted() -> (Questionnaire, AssessmentRecord) {
        let src = include_str!("../../tests/fixtures/small/fixture-1.toml");
        let q = crate::questionnaire::parse_file(Path::new("f.toml"), src).unwrap();
        let answers = [("q1", "no"), ("q2", "partly"), ("q3", "no"), ("q4", "b")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), json!(v)))
            .collect();
        let changes = Changes {
            profile: Default::default(),
            answers,
        };
        let mut r = new_draft(&q, &changes).unwrap().record;
        submit_record(&q, &mut r).unwrap();
        (q, r)
    }

    #[test]
    fn a_record_that_fits_its_questionnaire_passes_and_one_that_does_not_is_named() {
        let (q, r) = submitted();
        assert_eq!(check(&q, &r), Ok(()));

        let mut more = r.clone();
        let extra = more.scores.as_ref().unwrap().domains[0].clone();
        more.scores.as_mut().unwrap().domains.push(extra);
        let e = check(&q, &more).unwrap_err();
        assert_eq!(e.record, r.id);
        assert!(e.reason.contains("scores.domains"), "{e}");

        let mut finding = r.clone();
        finding.findings.push("f-nope".into());
        assert!(check(&q, &finding).unwrap_err().reason.contains("f-nope"));

        let mut answer = r.clone();
        answer.answers.insert("q9".into(), "yes".into());
        assert!(check(&q, &answer).is_err());
    }
}
