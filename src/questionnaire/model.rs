//! The validated questionnaire. Serialises to the same structure as the file.

use std::collections::HashMap;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::i18n::Lang;

/// A text in both languages of the interface.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Text {
    pub ja: String,
    pub en: String,
}

impl Text {
    /// The text in the given language.
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

/// One questionnaire version, validated.
#[derive(Debug, Clone, Serialize)]
pub struct Questionnaire {
    pub id: String,
    pub version: String,
    pub title: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    pub grades: Grades,
    /// Titled groups of profile fields, shown after the ungrouped fields in this order.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub profile_groups: Vec<ProfileGroup>,
    pub profile: Vec<ProfileField>,
    pub domains: Vec<Domain>,
    pub questions: Vec<Question>,
    pub findings: Vec<Finding>,
    /// `sha256:` and the hex SHA-256 of the file's bytes.
    #[serde(skip)]
    pub hash: String,
    /// The file's text, archived by the store so that every report can be rendered with
    /// the exact questionnaire it was scored with.
    #[serde(skip)]
    pub source: std::sync::Arc<str>,
    #[serde(skip)]
    pub(crate) question_index: HashMap<String, usize>,
    #[serde(skip)]
    pub(crate) profile_index: HashMap<String, usize>,
}

impl Questionnaire {
    /// The index of a question by id.
    pub fn question_position(&self, id: &str) -> Option<usize> {
        self.question_index.get(id).copied()
    }

    /// A profile field by id.
    pub fn profile_field(&self, id: &str) -> Option<&ProfileField> {
        self.profile_index.get(id).map(|&i| &self.profile[i])
    }

    /// The fields an insurer's application form asks for, in file order.
    pub fn application_fields(&self) -> impl Iterator<Item = &ProfileField> {
        self.profile.iter().filter(|f| f.application)
    }

    /// The questions of one domain, in file order, with their indexes.
    pub fn questions_of(&self, domain: usize) -> impl Iterator<Item = (usize, &Question)> {
        self.questions
            .iter()
            .enumerate()
            .filter(move |(_, q)| q.domain_index == domain)
    }
}

/// Grade thresholds, highest first. Below the lowest threshold the grade is the letter
/// after the lowest one (`E` after `D` with the defaults).
#[derive(Debug, Clone, PartialEq)]
pub struct Grades {
    pub(crate) thresholds: Vec<(String, f64)>,
}

impl Default for Grades {
    fn default() -> Self {
        Grades {
            thresholds: vec![
                ("A".into(), 80.0),
                ("B".into(), 60.0),
                ("C".into(), 40.0),
                ("D".into(), 20.0),
            ],
        }
    }
}

impl Grades {
    /// Builds grades from letter -> threshold pairs in any order.
    pub fn new(mut thresholds: Vec<(String, f64)>) -> Self {
        thresholds.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Grades { thresholds }
    }

    /// The highest letter whose threshold `overall` reaches.
    pub fn grade(&self, overall: f64) -> String {
        if let Some((letter, _)) = self.thresholds.iter().find(|(_, t)| overall >= *t) {
            return letter.clone();
        }
        match self.thresholds.last() {
            Some((letter, _)) => {
                let mut chars = letter.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => char::from_u32(c as u32 + 1)
                        .map(String::from)
                        .unwrap_or_else(|| "-".into()),
                    _ => "-".into(),
                }
            }
            None => "-".into(),
        }
    }

    /// Letter -> threshold, highest first.
    pub fn thresholds(&self) -> &[(String, f64)] {
        &self.thresholds
    }
}

impl Serialize for Grades {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.thresholds.len()))?;
        for (letter, t) in &self.thresholds {
            map.serialize_entry(letter, t)?;
        }
        map.end()
    }
}

/// The kind of a profile field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    Text,
    Number,
    Date,
    Select,
    Multiselect,
}

impl FieldKind {
    pub(crate) fn parse(s: &str) -> Option<FieldKind> {
        Some(match s {
            "text" => FieldKind::Text,
            "number" => FieldKind::Number,
            "date" => FieldKind::Date,
            "select" => FieldKind::Select,
            "multiselect" => FieldKind::Multiselect,
            _ => return None,
        })
    }
}

/// A company profile field, asked before the domains.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileField {
    pub id: String,
    pub label: Text,
    pub kind: FieldKind,
    pub required: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<FieldOption>,
    /// A sentence shown under the field.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    /// The id of the [`ProfileGroup`] the field is shown in; `None` for the company
    /// profile proper, shown first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Whether insurers' application forms (告知書) ask for this item: brokers see which
    /// of these a client has answered.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub application: bool,
}

/// A titled group of profile fields.
#[derive(Debug, Clone, Serialize)]
pub struct ProfileGroup {
    /// What fields name in their `group`.
    pub id: String,
    /// The group's title (a fieldset legend).
    pub label: Text,
    /// A sentence under the title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
}

/// An option of a select or multiselect profile field.
#[derive(Debug, Clone, Serialize)]
pub struct FieldOption {
    pub id: String,
    pub label: Text,
}

/// A coverage item of IT liability insurance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Coverage {
    /// Information leak through unauthorised access or software defects.
    A,
    /// Loss of third parties' data through a virus in a delivered program.
    B,
    /// Third parties' economic loss from a stop of network functions.
    C,
    /// Damage to reputation by provided content.
    D,
}

impl Coverage {
    pub(crate) fn parse(s: &str) -> Option<Coverage> {
        Some(match s {
            "a" => Coverage::A,
            "b" => Coverage::B,
            "c" => Coverage::C,
            "d" => Coverage::D,
            _ => return None,
        })
    }
}

/// A control domain: one axis of the radar.
#[derive(Debug, Clone, Serialize)]
pub struct Domain {
    pub id: String,
    pub label: Text,
    pub weight: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub coverage: Vec<Coverage>,
}

/// A question of one domain.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub id: String,
    pub domain: String,
    pub text: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<Text>,
    pub weight: f64,
    pub allow_na: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<Text>,
    pub options: Vec<AnswerOption>,
    #[serde(skip)]
    pub domain_index: usize,
    /// The highest option score.
    #[serde(skip)]
    pub max_score: f64,
}

impl Question {
    /// The index of an option by id.
    pub fn option_position(&self, id: &str) -> Option<usize> {
        self.options.iter().position(|o| o.id == id)
    }
}

/// An answer option of a question.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerOption {
    pub id: String,
    pub label: Text,
    pub score: f64,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingKind {
    Exclusion,
    Discount,
    Coverage,
    Info,
}

impl FindingKind {
    pub(crate) fn parse(s: &str) -> Option<FindingKind> {
        Some(match s {
            "exclusion" => FindingKind::Exclusion,
            "discount" => FindingKind::Discount,
            "coverage" => FindingKind::Coverage,
            "info" => FindingKind::Info,
            _ => return None,
        })
    }
}

/// A rule-based note for the report.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub id: String,
    pub kind: FindingKind,
    pub when: Condition,
    pub text: Text,
    /// The general exclusion of the report's coverage basics that this note makes
    /// concrete for the company.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclusion: Option<GeneralExclusion>,
}

/// The main exclusions of IT liability insurance as the seed lists them
/// (保険金をお支払いできない主な場合), in its order. The report's coverage basics show every
/// one; a finding may name the one it makes concrete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GeneralExclusion {
    Intentional,
    War,
    Earthquake,
    Nuclear,
    PoliticalEconomic,
    NetworkCapacity,
    SpecialTerms,
    ResultGuarantee,
    EmployeeDishonesty,
    CriminalActs,
    NonPerformance,
    BodilyInjuryProperty,
    IpInfringement,
    UntestedSoftware,
}

impl GeneralExclusion {
    /// Every exclusion, in the seed's order.
    pub const ALL: [GeneralExclusion; 14] = [
        GeneralExclusion::Intentional,
        GeneralExclusion::War,
        GeneralExclusion::Earthquake,
        GeneralExclusion::Nuclear,
        GeneralExclusion::PoliticalEconomic,
        GeneralExclusion::NetworkCapacity,
        GeneralExclusion::SpecialTerms,
        GeneralExclusion::ResultGuarantee,
        GeneralExclusion::EmployeeDishonesty,
        GeneralExclusion::CriminalActs,
        GeneralExclusion::NonPerformance,
        GeneralExclusion::BodilyInjuryProperty,
        GeneralExclusion::IpInfringement,
        GeneralExclusion::UntestedSoftware,
    ];

    /// The key written in questionnaire files.
    pub fn key(self) -> &'static str {
        match self {
            GeneralExclusion::Intentional => "intentional",
            GeneralExclusion::War => "war",
            GeneralExclusion::Earthquake => "earthquake",
            GeneralExclusion::Nuclear => "nuclear",
            GeneralExclusion::PoliticalEconomic => "political-economic",
            GeneralExclusion::NetworkCapacity => "network-capacity",
            GeneralExclusion::SpecialTerms => "special-terms",
            GeneralExclusion::ResultGuarantee => "result-guarantee",
            GeneralExclusion::EmployeeDishonesty => "employee-dishonesty",
            GeneralExclusion::CriminalActs => "criminal-acts",
            GeneralExclusion::NonPerformance => "non-performance",
            GeneralExclusion::BodilyInjuryProperty => "bodily-injury-property",
            GeneralExclusion::IpInfringement => "ip-infringement",
            GeneralExclusion::UntestedSoftware => "untested-software",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<GeneralExclusion> {
        GeneralExclusion::ALL.into_iter().find(|e| e.key() == s)
    }
}

/// When a finding applies.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Condition {
    /// The answer to `question` is one of `in`.
    Question {
        question: String,
        #[serde(rename = "in")]
        any_of: Vec<String>,
    },
    /// The profile field's value (or, for a multiselect, any of its values) is one of `in`.
    Profile {
        profile: String,
        #[serde(rename = "in")]
        any_of: Vec<String>,
    },
    /// Any of the conditions holds (each a question or profile condition).
    Any { any: Vec<Condition> },
}
