//! `GET /api/v1/openapi.json`: an OpenAPI 3.1 document that matches the committed copy and
//! describes every `/api/v1` route of the README, and only those.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::helpers::spawn_app;

/// The committed copy, for client generators that do not run the server. Update it with
/// `SHINDAN_BLESS=1 cargo test --test api openapi`.
const GOLDEN: &str = "openapi.json";

async fn served() -> (String, Value) {
    let app = spawn_app().await;
    let res = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json")
    );
    let text = res.text().await.expect("body");
    let doc: Value = serde_json::from_str(&text).expect("the document is JSON");
    (text, doc)
}

/// Every (method, path) the document describes.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// Every `/api/v1` route of the README's API table (`| \`METHOD /api/v1/...\` |`), with
/// `[/{id}]` spelled out.
fn readme_routes() -> BTreeSet<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let mut routes = BTreeSet::new();
    for line in readme.lines() {
        let Some(cell) = line.strip_prefix("| `") else {
            continue;
        };
        let Some((route, _)) = cell.split_once('`') else {
            continue;
        };
        let Some((method, path)) = route.split_once(' ') else {
            continue;
        };
        if !path.starts_with("/api/v1") {
            continue;
        }
        let path = path.replace("{report_token}", "{token}");
        if let Some(base) = path.strip_suffix("[/{id}]") {
            routes.insert((method.to_string(), base.to_string()));
            routes.insert((method.to_string(), format!("{base}/{{id}}")));
        } else {
            routes.insert((method.to_string(), path));
        }
    }
    routes
}

#[tokio::test]
async fn the_served_document_is_the_committed_one() {
    // Act
    let (text, _) = served().await;

    // Assert
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var_os("SHINDAN_BLESS").is_some() {
        std::fs::write(&path, &text).expect("write the committed copy");
    }
    let committed = std::fs::read_to_string(&path).expect("the committed openapi.json");
    assert!(
        text == committed,
        "GET /api/v1/openapi.json differs from {GOLDEN}: if the change is meant, update it with \
         `SHINDAN_BLESS=1 cargo test --test api openapi` and commit it"
    );
}

#[tokio::test]
async fn the_document_is_openapi_3_1_and_names_its_security_schemes() {
    let (_, doc) = served().await;

    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["info"]["title"].is_string());
    for scheme in ["edit_token", "broker_token", "admin_token"] {
        let s = &doc["components"]["securitySchemes"][scheme];
        assert_eq!(s["type"], "http", "{scheme}");
        assert_eq!(s["scheme"], "bearer", "{scheme}");
    }
    assert!(doc["components"]["schemas"]["Error"].is_object());
}

#[tokio::test]
async fn every_api_route_of_the_readme_is_described_and_nothing_else() {
    let (_, doc) = served().await;

    let described = operations(&doc);
    let readme = readme_routes();
    assert!(
        readme.len() >= 20,
        "the README table was not read: {readme:?}"
    );
    let missing: Vec<_> = readme.difference(&described).collect();
    let unlisted: Vec<_> = described.difference(&readme).collect();
    assert!(
        missing.is_empty(),
        "in the README, not in the document: {missing:?}"
    );
    assert!(
        unlisted.is_empty(),
        "in the document, not in the README: {unlisted:?}"
    );
}

#[tokio::test]
async fn every_operation_has_an_id_a_success_and_the_error_shape_for_its_refusals() {
    let (_, doc) = served().await;

    let error_ref = "#/components/schemas/Error";
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let at = format!("{method} {path}");
            assert!(op["operationId"].is_string(), "{at}: no operationId");
            let responses = op["responses"].as_object().expect("responses");
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{at}: no success response"
            );
            for (status, r) in responses {
                if !(status.starts_with('4') || status.starts_with('5')) {
                    continue;
                }
                let schema = &r["content"]["application/json"]["schema"];
                assert_eq!(schema["allOf"][0]["$ref"], error_ref, "{at} {status}");
                let codes =
                    &schema["allOf"][1]["properties"]["error"]["properties"]["code"]["enum"];
                assert!(
                    codes.as_array().is_some_and(|c| !c.is_empty()),
                    "{at} {status}: no error code named"
                );
            }
        }
    }
}

#[tokio::test]
async fn a_created_assessment_links_to_the_calls_that_use_its_tokens() {
    let (_, doc) = served().await;

    let links = &doc["paths"]["/api/v1/assessments"]["post"]["responses"]["201"]["links"];
    assert_eq!(
        links["SubmitAssessment"]["operationId"],
        "submit_assessment"
    );
    assert_eq!(
        links["SubmitAssessment"]["parameters"]["header.Authorization"],
        "Bearer {$response.body#/edit_token}"
    );
    assert_eq!(
        links["GetReport"]["parameters"]["token"],
        "$response.body#/report_token"
    );
    // Every link names an operation of the document.
    let ids: BTreeSet<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("item").values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for op in item.as_object().expect("item").values() {
            for r in op["responses"].as_object().expect("responses").values() {
                for (name, link) in r["links"].as_object().into_iter().flatten() {
                    let target = link["operationId"].as_str().unwrap_or("");
                    assert!(ids.contains(target), "{path}: link {name} to {target}");
                }
            }
        }
    }
}

#[tokio::test]
async fn a_method_a_described_route_lacks_is_405_with_its_allowed_methods() {
    let app = spawn_app().await;

    for (method, path, allow) in [
        ("DELETE", "/api/v1/assessments", "POST"),
        (
            "PUT",
            "/api/v1/assessments/0b3f0a52-3c55-4f7e-9d43-1b2ad0a1c111",
            "GET, PATCH",
        ),
        ("POST", "/api/v1/questionnaires", "GET"),
    ] {
        let res = app
            .client
            .request(method.parse().expect("method"), app.url(path))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 405, "{method} {path}");
        assert_eq!(
            res.headers().get("allow").and_then(|v| v.to_str().ok()),
            Some(allow),
            "{method} {path}"
        );
        let body: Value = res.json().await.expect("JSON");
        assert_eq!(
            body["error"]["code"], "method_not_allowed",
            "{method} {path}"
        );
    }
    // A path no route has is still 404.
    let res = app
        .client
        .delete(app.url("/api/v1/nothing"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "not_found");
}

/// A route added with `route()` to a file of the API would be served but not described:
/// the files of the API register operations with `service()` only.
#[test]
fn the_api_files_register_no_route_that_escapes_the_document() {
    for file in [
        "src/web/api.rs",
        "src/web/broker_api.rs",
        "src/web/admin.rs",
        "src/web/openapi.rs",
    ] {
        let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
            .expect("source file");
        assert!(
            !text.contains(".route("),
            "{file} registers a route with route(): use service() and a #[utoipa::path]"
        );
    }
}
