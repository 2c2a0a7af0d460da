use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};

use super::*;
use crate::assessment::{new_draft, submit_record, Changes};
use crate::questionnaire::{parse_file, FieldKind, Questionnaire};

/// The shipped questionnaire the service starts with.
const SHIPPED: &str = "questionnaires/it-liability-2026.2.toml";

fn shipped() -> Questionnaire {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(SHIPPED);
    let source = std::fs::read_to_string(&path).unwrap();
    parse_file(&path, &source).unwrap()
}

/// Picks an option by question index and option count.
type Pick = fn(usize, usize) -> usize;

/// Every profile field filled and every question answered with option `pick(i, len)`.
fn submitted(q: &Questionnaire, company: &str, pick: Pick) -> AssessmentRecord {
    let profile: BTreeMap<String, Value> = q
        .profile
        .iter()
        .map(|field| {
            let value = match field.kind {
                FieldKind::Text if field.id == "company_name" => json!(company),
                FieldKind::Text => json!("x"),
                FieldKind::Number => json!(30),
                FieldKind::Date => json!("2027-04-01"),
                FieldKind::Select => json!(field.options[0].id),
                FieldKind::Multiselect => json!([field.options[0].id]),
            };
            (field.id.clone(), value)
        })
        .collect();
    let answers = q
        .questions
        .iter()
        .enumerate()
        .map(|(i, question)| {
            let option = &question.options[pick(i, question.options.len())];
            (question.id.clone(), json!(option.id))
        })
        .collect();
    let changes = Changes { profile, answers };
    let mut r = new_draft(q, &changes).unwrap().record;
    submit_record(q, &mut r).unwrap();
    r
}

fn pdf(q: &Questionnaire, record: &AssessmentRecord, lang: Lang) -> Vec<u8> {
    let a = crate::report::analyse(q, record, None, None);
    let radar = crate::report::radar_svg(&a, lang);
    render(&ReportPdf {
        lang,
        analysis: &a,
        record,
        radar: &radar,
    })
    .unwrap_or_else(|e| panic!("{lang:?}: {e}"))
}

#[test]
fn a_report_renders_as_a_pdf_in_both_languages() {
    let q = shipped();
    let record = submitted(&q, "株式会社テスト", |i, len| i % len);
    for lang in [Lang::Ja, Lang::En] {
        let bytes = pdf(&q, &record, lang);
        assert!(bytes.starts_with(b"%PDF-"), "{lang:?}");
    }
}

#[test]
fn the_same_report_gives_the_same_bytes() {
    let q = shipped();
    let record = submitted(&q, "Acme KK", |i, len| i % len);
    assert_eq!(pdf(&q, &record, Lang::En), pdf(&q, &record, Lang::En));
}

#[test]
fn hostile_company_names_are_only_text() {
    let q = shipped();
    for name in [
        "<script>alert(1)</script>&\"'",
        "#panic(\"x\") *b* $z$ _i_ `c` <l> @r = h \\ // c /* c",
        "]) #{ } [",
    ] {
        let record = submitted(&q, name, |_, _| 0);
        for lang in [Lang::Ja, Lang::En] {
            assert!(pdf(&q, &record, lang).starts_with(b"%PDF-"), "{name}");
        }
    }
}

/// Writes sample PDFs for a look: `SHINDAN_PDF_SAMPLES=/tmp/dir cargo test --lib
/// report::pdf -- --ignored`.
#[test]
#[ignore]
fn write_samples() {
    let Ok(dir) = std::env::var("SHINDAN_PDF_SAMPLES") else {
        return;
    };
    let q = shipped();
    let picks: [(&str, Pick); 3] = [
        ("best", |_, _| 0),
        ("mixed", |i, len| i % len),
        ("worst", |_, len| len - 1),
    ];
    for (name, pick) in picks {
        let record = submitted(&q, "株式会社テスト", pick);
        for lang in [Lang::Ja, Lang::En] {
            let path = Path::new(&dir).join(format!("{name}-{}.pdf", lang.code()));
            std::fs::write(path, pdf(&q, &record, lang)).unwrap();
        }
    }
}
