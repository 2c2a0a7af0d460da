//! Application readiness: which of the items an insurer's application form (告知書) asks
//! for a client has answered, so that a broker knows what to ask before preparing one.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::questionnaire::{has_value, ProfileField, Questionnaire};

/// The application-form items of a questionnaire, split into answered and missing, each
/// in file order.
#[derive(Debug)]
pub struct Readiness<'q> {
    /// The items the client gave a value for.
    pub answered: Vec<&'q ProfileField>,
    /// The items still without one.
    pub missing: Vec<&'q ProfileField>,
}

impl Readiness<'_> {
    /// How many items the questionnaire marks as application-form items.
    pub fn total(&self) -> usize {
        self.answered.len() + self.missing.len()
    }

    /// Whether the questionnaire asks for any application-form item at all.
    pub fn applies(&self) -> bool {
        self.total() > 0
    }
}

/// Splits the questionnaire's application-form items by `answered(field id)`.
pub fn application_readiness<'q>(
    q: &'q Questionnaire,
    answered: impl Fn(&str) -> bool,
) -> Readiness<'q> {
    let (answered, missing) = q.application_fields().partition(|f| answered(&f.id));
    Readiness { answered, missing }
}

/// Each application-form item with the client's answer (`None` when missing), in file
/// order: what a broker needs to fill in the insurer's application form.
pub fn application_answers<'q, 'r>(
    q: &'q Questionnaire,
    profile: &'r BTreeMap<String, Value>,
) -> Vec<(&'q ProfileField, Option<&'r Value>)> {
    q.application_fields()
        .map(|f| (f, profile.get(&f.id).filter(|v| has_value(v))))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::questionnaire::parse_file;

    const SOURCE: &str = include_str!("../../tests/fixtures/small/fixture-1.toml");

    fn questionnaire() -> Questionnaire {
        let source = SOURCE.replace(
            "[[profile]]\nid = \"certs\"",
            "[[profile]]\nid = \"revenue\"\nlabel = { ja = \"売上高\", en = \"Revenue\" }\nkind = \"number\"\napplication = true\n\n[[profile]]\nid = \"note\"\nlabel = { ja = \"備考\", en = \"Note\" }\nkind = \"text\"\n\n[[profile]]\nid = \"certs\"\napplication = true",
        );
        parse_file(Path::new("q.toml"), &source).expect("valid")
    }

    #[test]
    fn only_application_items_count_and_keep_file_order() {
        let q = questionnaire();
        let r = application_readiness(&q, |id| id == "certs");
        let ids = |v: &[&ProfileField]| v.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&r.answered), ["certs"]);
        assert_eq!(ids(&r.missing), ["revenue"]);
        assert_eq!(r.total(), 2);
        assert!(r.applies());
        let none = application_readiness(&q, |_| false);
        assert_eq!(ids(&none.missing), ["revenue", "certs"]);
    }

    #[test]
    fn a_questionnaire_without_application_items_does_not_apply() {
        let q = parse_file(Path::new("q.toml"), SOURCE).unwrap();
        assert!(!application_readiness(&q, |_| true).applies());
    }
}
