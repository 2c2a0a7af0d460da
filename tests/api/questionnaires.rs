//! Questionnaire routes, and a second questionnaire with another number of domains.

use serde_json::{json, Value};

use crate::helpers::{glossary_breaches, small_questionnaires, spawn_app, spawn_app_with};

#[tokio::test]
async fn list_shows_the_latest_version_of_each_questionnaire() {
    let app = spawn_app().await;
    let list: Value = app
        .get("/api/v1/questionnaires")
        .await
        .json()
        .await
        .unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], "it-liability");
    assert_eq!(list[0]["version"], "2026.2");
    assert!(list[0]["title"]["ja"].is_string() && list[0]["title"]["en"].is_string());
    let domains = list[0]["domains"].as_array().unwrap();
    assert!((8..=10).contains(&domains.len()));
    assert!(domains[0]["id"].is_string() && domains[0]["label"]["ja"].is_string());
}

#[tokio::test]
async fn the_shipped_questionnaire_meets_the_content_bar() {
    let app = spawn_app().await;
    let q = app.questionnaire("it-liability").await;
    let questions = q["questions"].as_array().unwrap();
    assert!((40..=60).contains(&questions.len()));
    assert!(questions
        .iter()
        .all(|q| q["recommendation"]["ja"].is_string() && q["recommendation"]["en"].is_string()));
    assert!(q["findings"].as_array().unwrap().len() >= 8);
    let profile: Vec<&str> = q["profile"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    for field in [
        "company_name",
        "business_type",
        "employees",
        "certifications",
        "liability_cap_share",
        "overseas_customers",
        "policy_start",
    ] {
        assert!(profile.contains(&field), "profile asks {field}");
    }
}

#[tokio::test]
async fn a_questionnaire_is_served_whole_and_by_version() {
    let app = spawn_app().await;
    let res = app
        .get("/api/v1/questionnaires/it-liability?version=2026.1")
        .await;
    assert_eq!(res.status(), 200);
    let q: Value = res.json().await.unwrap();
    assert_eq!(
        q["grades"],
        json!({"A": 80.0, "B": 60.0, "C": 40.0, "D": 20.0})
    );
    assert!(q["questions"][0]["options"][0]["score"].is_number());
    let res = app
        .get("/api/v1/questionnaires/it-liability?version=1999")
        .await;
    assert_eq!(res.status(), 404);
    let res = app.get("/api/v1/questionnaires/nope").await;
    assert_eq!(res.status(), 404);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "unknown_questionnaire");
}

#[tokio::test]
async fn a_second_questionnaire_with_five_domains_works_end_to_end() {
    let app = spawn_app_with(&small_questionnaires()).await;
    let list: Value = app
        .get("/api/v1/questionnaires")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["fixture", "small-five"]);
    let q = app.questionnaire("small-five").await;
    assert_eq!(q["domains"].as_array().unwrap().len(), 5);
    let (profile, answers) = crate::helpers::complete_answers(&q);
    let res = app
        .create_assessment(&json!({"questionnaire": "small-five", "profile": profile, "answers": answers, "submit": true}))
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["scores"]["domains"].as_array().unwrap().len(), 5);
}

/// Every `{"ja", "en"}` text of a questionnaire's JSON, with the path it sits at.
fn texts<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a str, &'a str)>) {
    match v {
        Value::Object(map) => {
            if let (Some(Value::String(ja)), Some(Value::String(en))) =
                (map.get("ja"), map.get("en"))
            {
                out.push((path.clone(), ja, en));
            }
            for (k, child) in map {
                texts(child, format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                texts(child, format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_2026_2_texts_follow_the_glossary() {
    // docs/GLOSSARY.md: the terms a report to a client company uses, and those it never does.
    let app = spawn_app().await;
    let q = app.questionnaire_version("2026.2").await;
    let mut all = Vec::new();
    texts(&q, String::new(), &mut all);
    assert!(all.len() > 300, "{}", all.len());
    for (path, ja, en) in &all {
        let breaches = glossary_breaches(ja);
        assert!(breaches.is_empty(), "{path}: {breaches:?} in {ja}");
        for banned in ["身元信用保険", "リリースの頻度"] {
            assert!(!ja.contains(banned), "{path}: {banned:?} in {ja}");
        }
        assert!(
            !ja.contains(['(', ')']),
            "{path}: half-width brackets in {ja}"
        );
        assert!(
            !en.to_lowercase().contains("countermeasure"),
            "{path}: {en}"
        );
        let advice = path.ends_with(".recommendation")
            || (path.starts_with(".findings") && path.ends_with(".text"));
        if advice {
            assert!(
                ja.ends_with("お勧めします。") || ja.ends_with("ご検討ください。"),
                "{path}: advice to a client company ends politely: {ja}"
            );
        }
    }
}
