use std::path::Path;

use proptest::prelude::*;

use super::load::compare_versions;
use super::*;

const VALID: &str = include_str!("../../tests/fixtures/small/fixture-1.toml");

fn problems(src: &str) -> Vec<Problem> {
    parse_file(Path::new("q.toml"), src).expect_err("should be invalid")
}

/// Asserts one problem names `field` (and `line`, when given) with `message` in it.
fn assert_problem(src: &str, field: &str, line: Option<usize>, message: &str) {
    let found = problems(src);
    assert!(
        found.iter().any(|p| p.field == field
            && p.message.contains(message)
            && (line.is_none() || p.line == line)
            && p.file == Path::new("q.toml")),
        "expected {field} at {line:?}: {message}; got {found:#?}"
    );
}

#[test]
fn the_fixture_is_valid_and_keeps_file_order() {
    let q = parse_file(Path::new("q.toml"), VALID).unwrap();
    assert_eq!(
        q.domains.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(),
        ["d1", "d2", "d3"]
    );
    assert_eq!(q.questions[1].weight, 3.0);
    assert_eq!(q.questions[1].max_score, 2.0);
    assert!(q.hash.starts_with("sha256:") && q.hash.len() == 71);
}

#[test]
fn duplicate_ids_are_reported_at_their_line() {
    let src = VALID.replace("id = \"q2\"", "id = \"q1\"");
    assert_problem(&src, "questions[1].id", Some(31), "duplicate id \"q1\"");
    let src = VALID.replace("id = \"d2\"", "id = \"d1\"");
    assert_problem(&src, "domains[1].id", None, "duplicate id \"d1\"");
    let src = VALID.replace("{ id = \"partly\"", "{ id = \"yes\"");
    assert_problem(
        &src,
        "questions[1].options[1].id",
        None,
        "duplicate id \"yes\"",
    );
    let src = VALID.replace("id = \"f-cert\"", "id = \"f-q1\"");
    assert_problem(&src, "findings[1].id", None, "duplicate id");
    let src = VALID.replace("{ id = \"pmark\"", "{ id = \"isms\"");
    assert_problem(&src, "profile[0].options[1].id", None, "duplicate id");
}

#[test]
fn a_question_of_an_unknown_domain_and_a_domain_without_questions_are_reported() {
    let src = VALID.replace("domain = \"d3\"", "domain = \"d7\"");
    assert_problem(&src, "questions[3].domain", None, "unknown domain \"d7\"");
    assert_problem(&src, "domains[2]", None, "has no question");
}

#[test]
fn fewer_than_three_or_more_than_sixteen_domains_are_reported() {
    let two = VALID
        .replace(
            "[[domains]]\nid = \"d3\"\nlabel = { ja = \"三\", en = \"Three\" }\n",
            "",
        )
        .replace("domain = \"d3\"", "domain = \"d2\"");
    assert_problem(&two, "domains", None, "3 to 16 domains, found 2");
    let mut many = VALID.to_string();
    for i in 4..=17 {
        many.push_str(&format!(
            "\n[[domains]]\nid = \"x{i}\"\nlabel = {{ ja = \"x\", en = \"x\" }}\n\n[[questions]]\nid = \"xq{i}\"\ndomain = \"x{i}\"\ntext = {{ ja = \"x\", en = \"x\" }}\noptions = [{{ id = \"a\", label = {{ ja = \"a\", en = \"a\" }}, score = 1 }}, {{ id = \"b\", label = {{ ja = \"b\", en = \"b\" }}, score = 0 }}]\n"
        ));
    }
    assert_problem(&many, "domains", None, "found 17");
}

#[test]
fn a_missing_language_is_reported_with_its_path() {
    let src = VALID.replace(
        "text = { ja = \"問2\", en = \"Q2\" }",
        "text = { ja = \"問2\" }",
    );
    assert_problem(&src, "questions[1].text.en", None, "both ja and en");
    let src = VALID.replace(
        "title = { ja = \"テスト\", en = \"Test\" }",
        "title = { en = \"Test\" }",
    );
    assert_problem(&src, "title.ja", Some(3), "both ja and en");
}

#[test]
fn negative_scores_and_non_positive_weights_are_reported() {
    let src = VALID.replace("score = 3 }", "score = -3 }");
    assert_problem(
        &src,
        "questions[3].options[0].score",
        None,
        "must not be negative",
    );
    let src = VALID.replace("weight = 3.0", "weight = 0.0");
    assert_problem(&src, "questions[1].weight", None, "greater than 0");
    let src = VALID.replace("weight = 2.0", "weight = -1.0");
    assert_problem(&src, "domains[0].weight", None, "greater than 0");
}

#[test]
fn findings_naming_unknown_things_are_reported() {
    let src = VALID.replace(
        "question = \"q1\", in = [\"no\"]",
        "question = \"q9\", in = [\"no\"]",
    );
    assert_problem(
        &src,
        "findings[0].when.question",
        None,
        "unknown question \"q9\"",
    );
    let src = VALID.replace(
        "question = \"q1\", in = [\"no\"]",
        "question = \"q1\", in = [\"never\"]",
    );
    assert_problem(&src, "findings[0].when.in", None, "no option \"never\"");
    let src = VALID.replace("profile = \"certs\"", "profile = \"size\"");
    assert_problem(
        &src,
        "findings[1].when.profile",
        None,
        "unknown profile field \"size\"",
    );
    let src = VALID.replace("in = [\"isms\"]", "in = [\"iso9001\"]");
    assert_problem(&src, "findings[1].when.in", None, "no option \"iso9001\"");
}

#[test]
fn unknown_keys_and_syntax_errors_are_reported_with_a_line() {
    let src = VALID.replace("allow_na = true", "allow_na = true\nalow_na = true");
    let found = problems(&src);
    assert_eq!(found.len(), 1);
    assert!(
        found[0].message.contains("unknown field `alow_na`"),
        "{found:?}"
    );
    assert_eq!(found[0].line, Some(41));
    let found = problems("id = \"x\"\nversion = ");
    assert_eq!(found[0].line, Some(2));
}

#[test]
fn two_files_with_the_same_id_and_version_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), VALID).unwrap();
    std::fs::write(dir.path().join("b.toml"), VALID).unwrap();
    let found = load_dir(dir.path()).unwrap_err();
    assert_eq!(found.len(), 1);
    assert!(found[0].file.ends_with("b.toml"));
    assert!(found[0].message.contains("also defined in"));
}

#[test]
fn problem_display_names_file_line_and_field() {
    let p = Problem {
        file: "qs/it.toml".into(),
        line: Some(12),
        field: "questions[3].domain".into(),
        message: "unknown domain \"x\"".into(),
    };
    assert_eq!(
        p.to_string(),
        "qs/it.toml:12: questions[3].domain: unknown domain \"x\""
    );
}

#[test]
fn the_latest_version_is_chosen_numerically() {
    let dir = tempfile::tempdir().unwrap();
    for v in ["2026.9", "2026.10", "2026.2"] {
        std::fs::write(
            dir.path().join(format!("{v}.toml")),
            VALID.replace("version = \"1\"", &format!("version = \"{v}\"")),
        )
        .unwrap();
    }
    let catalog = load_dir(dir.path()).unwrap();
    assert_eq!(catalog.latest("fixture").unwrap().version, "2026.10");
    assert_eq!(catalog.get("fixture", "2026.2").unwrap().version, "2026.2");
    assert_eq!(catalog.latest_all().len(), 1);
}

#[test]
fn the_shipped_questionnaire_is_valid() {
    let catalog = load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("questionnaires")).unwrap();
    let q = catalog.latest("it-liability").unwrap();
    assert!((8..=10).contains(&q.domains.len()));
    assert!((40..=60).contains(&q.questions.len()));
    assert!(q.questions.iter().all(|q| q.recommendation.is_some()));
    assert!(q.findings.len() >= 8);
}

proptest! {
    #[test]
    fn parsing_never_panics_on_arbitrary_text(src in "\\PC{0,400}") {
        let _ = parse_file(Path::new("fuzz.toml"), &src);
    }

    #[test]
    fn parsing_never_panics_on_mutated_valid_files(cut in 0usize..2000, insert in "[\\[\\]={}\",a-z0-9 \n-]{0,12}") {
        let at = VALID.char_indices().map(|(i, _)| i).nth(cut % VALID.chars().count()).unwrap_or(0);
        let src = format!("{}{}{}", &VALID[..at], insert, &VALID[at..]);
        if let Err(problems) = parse_file(Path::new("fuzz.toml"), &src) {
            prop_assert!(!problems.is_empty());
            for p in problems {
                prop_assert!(p.line.is_none_or(|l| l >= 1 && l <= src.lines().count() + 1));
            }
        }
    }

    #[test]
    fn version_order_is_a_total_order(a in "[0-9.a-z]{0,8}", b in "[0-9.a-z]{0,8}") {
        prop_assert_eq!(compare_versions(&a, &b), compare_versions(&b, &a).reverse());
        prop_assert_eq!(compare_versions(&a, &a), std::cmp::Ordering::Equal);
    }
}

mod profile_values {
    use serde_json::json;

    use super::super::*;
    use proptest::prelude::*;

    fn field(kind: FieldKind) -> ProfileField {
        let opt = |id: &str| FieldOption {
            id: id.into(),
            label: Text {
                ja: id.into(),
                en: id.into(),
            },
        };
        ProfileField {
            id: "f".into(),
            label: Text {
                ja: "f".into(),
                en: "f".into(),
            },
            kind,
            required: false,
            options: vec![opt("a"), opt("b")],
            help: None,
            group: None,
            application: false,
        }
    }

    #[test]
    fn values_take_one_canonical_form() {
        let number = field(FieldKind::Number);
        assert_eq!(
            parse_profile_value(&number, &json!("30")),
            Ok(Some(json!(30)))
        );
        assert_eq!(
            parse_profile_value(&number, &json!("1,200")),
            Ok(Some(json!(1200)))
        );
        assert_eq!(
            parse_profile_value(&number, &json!(2.5)),
            Ok(Some(json!(2.5)))
        );
        assert_eq!(
            parse_profile_value(&number, &json!("NaN")),
            Err(ProfileError::Number)
        );
        for negative in [json!(-5), json!("-1"), json!(-0.5)] {
            assert_eq!(
                parse_profile_value(&number, &negative),
                Err(ProfileError::Number),
                "{negative}: profile numbers count things"
            );
        }
        assert_eq!(
            parse_profile_value(&number, &json!("0")),
            Ok(Some(json!(0)))
        );
        let date = field(FieldKind::Date);
        assert_eq!(
            parse_profile_value(&date, &json!(" 2027-04-01 ")),
            Ok(Some(json!("2027-04-01")))
        );
        assert_eq!(
            parse_profile_value(&date, &json!("2027-02-30")),
            Err(ProfileError::Date)
        );
        let multi = field(FieldKind::Multiselect);
        assert_eq!(
            parse_profile_value(&multi, &json!(["b", "a", "b"])),
            Ok(Some(json!(["a", "b"])))
        );
        assert_eq!(parse_profile_value(&multi, &json!([])), Ok(Some(json!([]))));
        let select = field(FieldKind::Select);
        assert_eq!(parse_profile_value(&select, &json!("")), Ok(None));
        assert_eq!(
            parse_profile_value(&select, &json!("c")),
            Err(ProfileError::Select)
        );
        let text = field(FieldKind::Text);
        let long = "あ".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            parse_profile_value(&text, &json!(long)),
            Err(ProfileError::Text)
        );
        assert_eq!(parse_profile_value(&text, &json!(null)), Ok(None));
    }

    proptest! {
        #[test]
        fn any_real_date_is_accepted_and_kept(y in 1900i32..2200, m in 1u32..=12, d in 1u32..=28) {
            let s = format!("{y:04}-{m:02}-{d:02}");
            prop_assert_eq!(parse_profile_value(&field(FieldKind::Date), &json!(s.clone())), Ok(Some(json!(s))));
        }

        #[test]
        fn integers_written_as_text_read_back_as_integers(n in 0i64..1_000_000_000) {
            prop_assert_eq!(parse_profile_value(&field(FieldKind::Number), &json!(n.to_string())), Ok(Some(json!(n))));
        }

        #[test]
        fn arbitrary_values_never_panic(s in "\\PC{0,40}") {
            for kind in [FieldKind::Text, FieldKind::Number, FieldKind::Date, FieldKind::Select, FieldKind::Multiselect] {
                let _ = parse_profile_value(&field(kind), &json!(s.clone()));
            }
        }
    }
}

/// The fixture with a profile group, field help, an application item, a finding tied to a
/// general exclusion and a finding with alternatives.
fn with_extensions() -> String {
    VALID
        .replace(
            "[[profile]]\nid = \"certs\"",
            "[[profile_groups]]\nid = \"app\"\nlabel = { ja = \"告知書\", en = \"Application\" }\nhelp = { ja = \"任意\", en = \"Optional\" }\n\n[[profile]]\nid = \"certs\"\ngroup = \"app\"\napplication = true\nhelp = { ja = \"ヘルプ\", en = \"Help\" }",
        )
        .replace(
            "when = { question = \"q1\", in = [\"no\"] }",
            "when = { any = [{ question = \"q1\", in = [\"no\"] }, { profile = \"certs\", in = [\"pmark\"] }] }\nexclusion = \"untested-software\"",
        )
}

#[test]
fn profile_groups_help_application_items_and_exclusions_load() {
    let q = parse_file(Path::new("q.toml"), &with_extensions()).unwrap();
    assert_eq!(q.profile_groups[0].id, "app");
    assert_eq!(q.profile[0].group.as_deref(), Some("app"));
    assert_eq!(q.profile[0].help.as_ref().unwrap().en, "Help");
    assert_eq!(q.application_fields().count(), 1);
    assert_eq!(
        q.findings[0].exclusion,
        Some(GeneralExclusion::UntestedSoftware)
    );
    assert!(matches!(&q.findings[0].when, Condition::Any { any } if any.len() == 2));
    // The JSON keeps the file's keys.
    let json = serde_json::to_value(&q).unwrap();
    assert_eq!(json["profile_groups"][0]["help"]["ja"], "任意");
    assert_eq!(json["profile"][0]["application"], true);
    assert_eq!(json["findings"][0]["exclusion"], "untested-software");
    assert_eq!(json["findings"][0]["when"]["any"][1]["profile"], "certs");
}

#[test]
fn files_without_the_new_keys_serialise_as_before() {
    let json = serde_json::to_value(parse_file(Path::new("q.toml"), VALID).unwrap()).unwrap();
    assert!(json.get("profile_groups").is_none());
    for key in ["help", "group", "application"] {
        assert!(json["profile"][0].get(key).is_none(), "{key}");
    }
    assert!(json["findings"][0].get("exclusion").is_none());
}

#[test]
fn bad_groups_exclusions_and_alternatives_are_reported() {
    let src = with_extensions().replace("group = \"app\"", "group = \"nope\"");
    assert_problem(
        &src,
        "profile[0].group",
        None,
        "unknown profile group \"nope\"",
    );
    assert_problem(&src, "profile_groups[0]", None, "has no field");
    let src = with_extensions().replace("\"untested-software\"", "\"untested\"");
    assert_problem(
        &src,
        "findings[0].exclusion",
        None,
        "exclusion must be one of",
    );
    let src = with_extensions().replace("in = [\"pmark\"]", "in = [\"nope\"]");
    assert_problem(
        &src,
        "findings[0].when.any[1].in",
        None,
        "has no option \"nope\"",
    );
    let src = with_extensions().replace("{ question = \"q1\", in = [\"no\"] }, ", "");
    let q = parse_file(Path::new("q.toml"), &src).unwrap();
    assert!(matches!(&q.findings[0].when, Condition::Any { any } if any.len() == 1));
    let src = with_extensions().replace("any = [{", "any = [{ any = [], ");
    assert_problem(
        &src,
        "findings[0].when.any[0]",
        None,
        "each alternative of any needs exactly one of question or profile",
    );
    let src = with_extensions().replace(
        "when = { any = [{ question = \"q1\", in = [\"no\"] }, { profile = \"certs\", in = [\"pmark\"] }] }",
        "when = { any = [] }",
    );
    assert_problem(&src, "findings[0].when.any", None, "at least one condition");
    let src = VALID.replace(", in = [\"no\"]", "");
    assert_problem(&src, "findings[0].when.in", None, "in is missing");
    // An empty list loads, as it always did, and never fires.
    let src = VALID.replace("in = [\"no\"]", "in = []");
    assert!(parse_file(Path::new("q.toml"), &src).is_ok());
}

#[test]
fn empty_profile_values_are_not_answers() {
    use serde_json::json;
    for empty in [json!(null), json!(""), json!("  "), json!([])] {
        assert!(!has_value(&empty), "{empty}");
    }
    for value in [json!(0), json!("x"), json!(["isms"]), json!("2027-04-01")] {
        assert!(has_value(&value), "{value}");
    }
}
