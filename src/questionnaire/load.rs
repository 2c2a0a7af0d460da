//! Reading questionnaire files: TOML -> raw serde types -> validated [`Questionnaire`].
//!
//! Validation collects every problem of every file, so an operator fixes a folder in one
//! pass instead of one error per start-up.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use super::model::*;

mod conditions;
mod fields;

use conditions::{parse_condition, ConditionScope};
use fields::parse_profile;

/// The fewest and most domains a questionnaire may have (the radar's axes).
pub const MIN_DOMAINS: usize = 3;
pub const MAX_DOMAINS: usize = 16;
/// The fewest and most options of a question.
pub const MIN_OPTIONS: usize = 2;
pub const MAX_OPTIONS: usize = 6;

/// One problem in a questionnaire file.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: PathBuf,
    pub line: Option<usize>,
    /// The path of the field, such as `questions[3].options[1].score`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// All loaded questionnaires, every version of every id.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    items: Vec<Arc<Questionnaire>>,
}

impl Catalog {
    /// Builds a catalog from already validated questionnaires.
    pub fn new(items: Vec<Questionnaire>) -> Self {
        Catalog {
            items: items.into_iter().map(Arc::new).collect(),
        }
    }

    /// Every loaded questionnaire.
    pub fn all(&self) -> &[Arc<Questionnaire>] {
        &self.items
    }

    /// The latest version of each id, ordered by id.
    pub fn latest_all(&self) -> Vec<Arc<Questionnaire>> {
        let mut ids: Vec<&str> = self.items.iter().map(|q| q.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().filter_map(|id| self.latest(id)).collect()
    }

    /// The latest version of a questionnaire id.
    pub fn latest(&self, id: &str) -> Option<Arc<Questionnaire>> {
        self.items
            .iter()
            .filter(|q| q.id == id)
            .max_by(|a, b| compare_versions(&a.version, &b.version))
            .cloned()
    }

    /// One version of a questionnaire id.
    pub fn get(&self, id: &str, version: &str) -> Option<Arc<Questionnaire>> {
        self.items
            .iter()
            .find(|q| q.id == id && q.version == version)
            .cloned()
    }

    /// The given version, or the latest when `version` is `None`.
    pub fn find(&self, id: &str, version: Option<&str>) -> Option<Arc<Questionnaire>> {
        match version {
            Some(v) => self.get(id, v),
            None => self.latest(id),
        }
    }
}

/// Orders versions like people read them: numeric runs by value, `2026.10` after `2026.9`.
pub fn compare_versions(a: &str, b: &str) -> std::cmp::Ordering {
    fn chunks(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ca, cb) = (chunks(a), chunks(b));
    for (x, y) in ca.iter().zip(cb.iter()) {
        let ord = match (x, y) {
            ((true, x), (true, y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            ((_, x), (_, y)) => x.cmp(y),
        };
        if ord.is_ne() {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

/// Loads every `*.toml` file of a folder. Any problem in any file fails the whole load.
pub fn load_dir(dir: &Path) -> Result<Catalog, Vec<Problem>> {
    let whole = |message: String| Problem {
        file: dir.to_path_buf(),
        line: None,
        field: String::new(),
        message,
    };
    let entries = std::fs::read_dir(dir)
        .map_err(|e| vec![whole(format!("cannot read the questionnaires folder: {e}"))])?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml") && p.is_file())
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(vec![whole("no questionnaire (*.toml) files found".into())]);
    }
    let mut problems = Vec::new();
    let mut loaded: Vec<Questionnaire> = Vec::new();
    let mut seen: HashMap<(String, String), PathBuf> = HashMap::new();
    for file in files {
        let source = match std::fs::read_to_string(&file) {
            Ok(s) => s,
            Err(e) => {
                problems.push(Problem {
                    file: file.clone(),
                    line: None,
                    field: String::new(),
                    message: format!("cannot read the file: {e}"),
                });
                continue;
            }
        };
        match parse_file(&file, &source) {
            Ok(q) => {
                let key = (q.id.clone(), q.version.clone());
                if let Some(first) = seen.get(&key) {
                    problems.push(Problem {
                        file: file.clone(),
                        line: None,
                        field: "version".into(),
                        message: format!(
                            "id \"{}\" version \"{}\" is also defined in {}",
                            q.id,
                            q.version,
                            first.display()
                        ),
                    });
                } else {
                    seen.insert(key, file.clone());
                    loaded.push(q);
                }
            }
            Err(mut p) => problems.append(&mut p),
        }
    }
    if problems.is_empty() {
        Ok(Catalog::new(loaded))
    } else {
        Err(problems)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    id: Spanned<String>,
    version: Spanned<String>,
    title: Spanned<RawText>,
    description: Option<Spanned<RawText>>,
    grades: Option<Spanned<BTreeMap<String, f64>>>,
    #[serde(default)]
    profile_groups: Vec<RawGroup>,
    #[serde(default)]
    profile: Vec<RawProfile>,
    domains: Option<Spanned<Vec<RawDomain>>>,
    #[serde(default)]
    questions: Vec<RawQuestion>,
    #[serde(default)]
    findings: Vec<RawFinding>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawText {
    ja: Option<String>,
    en: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: Spanned<String>,
    label: Option<RawText>,
    kind: Spanned<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    options: Vec<RawChoice>,
    help: Option<RawText>,
    group: Option<Spanned<String>>,
    #[serde(default)]
    application: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    id: Spanned<String>,
    label: Option<RawText>,
    help: Option<RawText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChoice {
    id: Spanned<String>,
    label: Option<RawText>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDomain {
    id: Spanned<String>,
    label: Option<RawText>,
    weight: Option<Spanned<f64>>,
    #[serde(default)]
    coverage: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    domain: Spanned<String>,
    text: Option<RawText>,
    help: Option<RawText>,
    weight: Option<Spanned<f64>>,
    #[serde(default)]
    allow_na: bool,
    recommendation: Option<RawText>,
    #[serde(default)]
    options: Vec<RawOption>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOption {
    id: Spanned<String>,
    label: Option<RawText>,
    score: Spanned<f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFinding {
    id: Spanned<String>,
    kind: Spanned<String>,
    when: Spanned<RawWhen>,
    text: Option<RawText>,
    exclusion: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    question: Option<String>,
    profile: Option<String>,
    #[serde(rename = "in")]
    any_of: Option<Vec<String>>,
    any: Option<Vec<RawWhen>>,
}

/// Collects problems for one file, turning byte offsets into line numbers.
struct Checker<'a> {
    file: &'a Path,
    source: &'a str,
    problems: Vec<Problem>,
}

impl Checker<'_> {
    fn line_of(&self, offset: usize) -> usize {
        let end = offset.min(self.source.len());
        self.source.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    }

    fn report(&mut self, span: Option<std::ops::Range<usize>>, field: String, message: &str) {
        let line = span.map(|s| self.line_of(s.start));
        self.problems.push(Problem {
            file: self.file.to_path_buf(),
            line,
            field,
            message: message.to_string(),
        });
    }

    /// A text that must have non-empty `ja` and `en`.
    fn text(&mut self, raw: Option<&RawText>, span: std::ops::Range<usize>, field: &str) -> Text {
        let empty = RawText::default();
        let raw = raw.unwrap_or(&empty);
        let mut get = |lang: &str, value: &Option<String>| match value {
            Some(v) if !v.trim().is_empty() => v.clone(),
            _ => {
                self.report(
                    Some(span.clone()),
                    format!("{field}.{lang}"),
                    "missing text: every text needs both ja and en",
                );
                String::new()
            }
        };
        let ja = get("ja", &raw.ja);
        let en = get("en", &raw.en);
        Text { ja, en }
    }

    fn weight(&mut self, raw: &Option<Spanned<f64>>, field: String) -> f64 {
        match raw {
            None => 1.0,
            Some(w) if w.get_ref().is_finite() && *w.get_ref() > 0.0 => *w.get_ref(),
            Some(w) => {
                self.report(Some(w.span()), field, "weight must be greater than 0");
                1.0
            }
        }
    }

    fn unique<'s>(
        &mut self,
        seen: &mut HashSet<&'s str>,
        id: &'s Spanned<String>,
        field: String,
    ) -> bool {
        if id.get_ref().trim().is_empty() {
            self.report(Some(id.span()), field, "id must not be empty");
            return false;
        }
        if !seen.insert(id.get_ref().as_str()) {
            self.report(
                Some(id.span()),
                field,
                &format!("duplicate id \"{}\"", id.get_ref()),
            );
            return false;
        }
        true
    }
}

/// The content hash of a questionnaire file's text (`sha256:` and 64 hex digits), which
/// names the exact file an assessment was scored with.
pub fn content_hash(source: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(source.as_bytes())))
}

/// Parses and validates one questionnaire file's contents.
pub fn parse_file(file: &Path, source: &str) -> Result<Questionnaire, Vec<Problem>> {
    let mut c = Checker {
        file,
        source,
        problems: Vec::new(),
    };
    let raw: RawFile = match toml::from_str(source) {
        Ok(raw) => raw,
        Err(e) => {
            c.report(e.span(), String::new(), e.message());
            return Err(c.problems);
        }
    };

    let id = raw.id.get_ref().clone();
    let id_ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !id_ok {
        c.report(
            Some(raw.id.span()),
            "id".into(),
            "id must be made of a-z, 0-9 and '-'",
        );
    }
    if raw.version.get_ref().trim().is_empty() {
        c.report(
            Some(raw.version.span()),
            "version".into(),
            "version must not be empty",
        );
    }
    let title = c.text(Some(raw.title.get_ref()), raw.title.span(), "title");
    let description = raw
        .description
        .as_ref()
        .map(|d| c.text(Some(d.get_ref()), d.span(), "description"));

    let grades = match &raw.grades {
        None => Grades::default(),
        Some(g) => {
            let mut pairs = Vec::new();
            for (letter, t) in g.get_ref() {
                if !t.is_finite() {
                    c.report(
                        Some(g.span()),
                        format!("grades.{letter}"),
                        "threshold must be a number",
                    );
                }
                pairs.push((letter.clone(), *t));
            }
            if pairs.is_empty() {
                c.report(
                    Some(g.span()),
                    "grades".into(),
                    "grades must name at least one letter",
                );
                Grades::default()
            } else {
                Grades::new(pairs)
            }
        }
    };

    let (profile_groups, profile) = parse_profile(&mut c, &raw.profile_groups, &raw.profile);

    // Domains.
    let no_domains = Vec::new();
    let raw_domains = raw.domains.as_ref().map_or(&no_domains, |d| d.get_ref());
    let n = raw_domains.len();
    if !(MIN_DOMAINS..=MAX_DOMAINS).contains(&n) {
        c.report(
            raw.domains.as_ref().map(|d| d.span()),
            "domains".into(),
            &format!("a questionnaire needs {MIN_DOMAINS} to {MAX_DOMAINS} domains, found {n}"),
        );
    }
    let mut domains = Vec::new();
    let mut domain_pos: HashMap<String, usize> = HashMap::new();
    let mut seen = HashSet::new();
    for (i, d) in raw_domains.iter().enumerate() {
        let field = format!("domains[{i}]");
        if c.unique(&mut seen, &d.id, format!("{field}.id")) {
            domain_pos.insert(d.id.get_ref().clone(), i);
        }
        let label = c.text(d.label.as_ref(), d.id.span(), &format!("{field}.label"));
        let weight = c.weight(&d.weight, format!("{field}.weight"));
        let mut coverage = Vec::new();
        for (j, item) in d.coverage.iter().enumerate() {
            match Coverage::parse(item.get_ref()) {
                Some(cv) if !coverage.contains(&cv) => coverage.push(cv),
                Some(_) => {}
                None => c.report(
                    Some(item.span()),
                    format!("{field}.coverage[{j}]"),
                    "coverage items are a, b, c or d",
                ),
            }
        }
        domains.push(Domain {
            id: d.id.get_ref().clone(),
            label,
            weight,
            coverage,
        });
    }

    // Questions.
    let mut questions = Vec::new();
    let mut question_index = HashMap::new();
    let mut seen = HashSet::new();
    let mut domain_has_question = vec![false; domains.len()];
    for (i, q) in raw.questions.iter().enumerate() {
        let field = format!("questions[{i}]");
        if c.unique(&mut seen, &q.id, format!("{field}.id")) {
            question_index.insert(q.id.get_ref().clone(), i);
        }
        let domain_index = match domain_pos.get(q.domain.get_ref()) {
            Some(&d) => {
                domain_has_question[d] = true;
                d
            }
            None => {
                c.report(
                    Some(q.domain.span()),
                    format!("{field}.domain"),
                    &format!("unknown domain \"{}\"", q.domain.get_ref()),
                );
                0
            }
        };
        let text = c.text(q.text.as_ref(), q.id.span(), &format!("{field}.text"));
        let help = q
            .help
            .as_ref()
            .map(|h| c.text(Some(h), q.id.span(), &format!("{field}.help")));
        let recommendation = q
            .recommendation
            .as_ref()
            .map(|r| c.text(Some(r), q.id.span(), &format!("{field}.recommendation")));
        let weight = c.weight(&q.weight, format!("{field}.weight"));
        if !(MIN_OPTIONS..=MAX_OPTIONS).contains(&q.options.len()) {
            c.report(
                Some(q.id.span()),
                format!("{field}.options"),
                &format!(
                    "a question needs {MIN_OPTIONS} to {MAX_OPTIONS} options, found {}",
                    q.options.len()
                ),
            );
        }
        let mut options = Vec::new();
        let mut seen_opt = HashSet::new();
        for (j, o) in q.options.iter().enumerate() {
            let of = format!("{field}.options[{j}]");
            c.unique(&mut seen_opt, &o.id, format!("{of}.id"));
            if o.id.get_ref() == super::NA {
                c.report(
                    Some(o.id.span()),
                    format!("{of}.id"),
                    "\"na\" is reserved for \"not applicable\"; use allow_na = true",
                );
            }
            let score = *o.score.get_ref();
            if !score.is_finite() || score < 0.0 {
                c.report(
                    Some(o.score.span()),
                    format!("{of}.score"),
                    "score must not be negative",
                );
            }
            let label = c.text(o.label.as_ref(), o.id.span(), &format!("{of}.label"));
            options.push(AnswerOption {
                id: o.id.get_ref().clone(),
                label,
                score: if score.is_finite() {
                    score.max(0.0)
                } else {
                    0.0
                },
            });
        }
        let max_score = options.iter().map(|o| o.score).fold(0.0, f64::max);
        questions.push(Question {
            id: q.id.get_ref().clone(),
            domain: q.domain.get_ref().clone(),
            text,
            help,
            weight,
            allow_na: q.allow_na,
            recommendation,
            options,
            domain_index,
            max_score,
        });
    }
    for (i, d) in raw_domains.iter().enumerate() {
        if !domain_has_question[i] {
            c.report(
                Some(d.id.span()),
                format!("domains[{i}]"),
                &format!("domain \"{}\" has no question", d.id.get_ref()),
            );
        }
    }

    // Findings.
    let profile_index: HashMap<String, usize> = profile
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.clone(), i))
        .collect();
    let mut findings = Vec::new();
    let mut seen = HashSet::new();
    for (i, f) in raw.findings.iter().enumerate() {
        let field = format!("findings[{i}]");
        c.unique(&mut seen, &f.id, format!("{field}.id"));
        let kind = FindingKind::parse(f.kind.get_ref()).unwrap_or_else(|| {
            c.report(
                Some(f.kind.span()),
                format!("{field}.kind"),
                "kind must be one of exclusion, discount, coverage, info",
            );
            FindingKind::Info
        });
        let text = c.text(f.text.as_ref(), f.id.span(), &format!("{field}.text"));
        let scope = ConditionScope {
            questions: &questions,
            question_index: &question_index,
            profile: &profile,
            profile_index: &profile_index,
        };
        let when = parse_condition(
            &mut c,
            &scope,
            f.when.get_ref(),
            f.when.span(),
            &format!("{field}.when"),
            true,
        );
        let exclusion = f.exclusion.as_ref().and_then(|e| {
            let parsed = GeneralExclusion::parse(e.get_ref());
            if parsed.is_none() {
                let keys: Vec<&str> = GeneralExclusion::ALL.iter().map(|e| e.key()).collect();
                c.report(
                    Some(e.span()),
                    format!("{field}.exclusion"),
                    &format!("exclusion must be one of {}", keys.join(", ")),
                );
            }
            parsed
        });
        findings.push(Finding {
            id: f.id.get_ref().clone(),
            kind,
            when,
            text,
            exclusion,
        });
    }

    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    let hash = content_hash(source);
    Ok(Questionnaire {
        id,
        version: raw.version.into_inner(),
        title,
        description,
        grades,
        profile_groups,
        profile,
        domains,
        questions,
        findings,
        hash,
        source: source.into(),
        question_index,
        profile_index,
    })
}
