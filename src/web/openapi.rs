//! The OpenAPI 3.1 document of `/api/v1`, made from the code: every operation comes from
//! the `#[utoipa::path]` annotation of the handler that [`super::configure`] registers, so
//! a route cannot be served without being described. This module adds what is common to
//! all of them: the bearer schemes, the error shape with the codes each status can carry,
//! the refusals every body, token or write can meet, and the links that tie a created
//! assessment to the calls that follow it.
//!
//! It must not describe a route by hand: what is not registered is not in the document.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::{get, HttpResponse};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, Ref, Schema, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, HeaderBuilder, OpenApi, RefOr};
use utoipa::OpenApi as _;
use utoipa_actix_web::AppExt;

use super::error::{ErrorBody, ErrorCode, STORAGE_RETRY_AFTER_SECS};
use crate::config::MAX_BODY_BYTES;

/// The scheme of an assessment's edit token (`Authorization: Bearer <edit_token>`).
pub const EDIT_TOKEN: &str = "edit_token";
/// The scheme of a broker's API token.
pub const BROKER_TOKEN: &str = "broker_token";
/// The scheme of the operator's admin token (`SHINDAN_ADMIN_TOKEN`).
pub const ADMIN_TOKEN: &str = "admin_token";

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "shindan API",
        description = "IT liability insurance risk self-assessment (IT業務賠償責任保険の簡易リスク診断): \
questionnaires, assessments and their reports, the broker portfolio and the operator's admin \
API. Every refusal is JSON `{\"error\": {\"code\", \"message\", \"field\"?}}`; each response below \
names the codes its status can carry.",
        license(name = "MIT"),
    ),
    components(schemas(ErrorBody, ErrorCode)),
    tags(
        (name = "questionnaires", description = "The questionnaires served (latest version of each, or a named version)."),
        (name = "assessments", description = "A company's own assessment: created, saved as a draft, submitted. The edit token is its only credential."),
        (name = "reports", description = "A submitted assessment's report, by its report token."),
        (name = "broker", description = "A broker's portfolio: invitations, attached reports, scores and PDFs (broker token)."),
        (name = "admin", description = "The operator's API (admin token; off unless SHINDAN_ADMIN_TOKEN is set)."),
        (name = "meta", description = "This document."),
    )
)]
struct Base;

/// The whole document: the base above, every registered `/api/v1` operation, and what is
/// common to them.
pub fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(described()).unwrap_or_default();
    add_links(&mut doc);
    describe_files(&mut doc);
    doc
}

/// Answers that are files (the PDF, the CSV) are strings of their media type, as OpenAPI 3.1
/// describes raw bodies; utoipa describes `Vec<u8>` as an array of integers.
fn describe_files(doc: &mut serde_json::Value) {
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut().filter_map(|i| i.as_object_mut()) {
        for op in item.values_mut() {
            let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut()) else {
                continue;
            };
            for response in responses.values_mut() {
                let Some(content) = response.get_mut("content").and_then(|c| c.as_object_mut())
                else {
                    continue;
                };
                for (media, body) in content.iter_mut() {
                    if media.starts_with("application/pdf") || media.starts_with("text/csv") {
                        body["schema"] =
                            serde_json::json!({"type": "string", "contentMediaType": media});
                    }
                }
            }
        }
    }
}

/// The operations as utoipa describes them, with the common refusals added.
fn described() -> OpenApi {
    let (_, described) = actix_web::App::new()
        .into_utoipa_app()
        .configure(super::configure)
        .split_for_parts();
    let mut doc = Base::openapi();
    doc.merge(described);
    add_security_schemes(&mut doc);
    for (_, item) in doc.paths.paths.iter_mut() {
        for (_, op) in operations(item) {
            add_common_refusals(op);
            narrow_error_codes(op);
        }
    }
    doc
}

/// The document, made once per process (the served text and the 405 lookup share it).
fn built() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(document)
}

/// The document as served: made once, pretty-printed with a final newline (the committed
/// copy is this text).
pub fn document_json() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        let mut text = serde_json::to_string_pretty(built())
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        text.push('\n');
        text
    })
}

/// The methods the document gives a concrete path (`/api/v1/assessments/1234`), as an
/// `Allow` header value (`GET, PATCH`); `None` when no described route has that shape.
pub fn methods_of(path: &str) -> Option<String> {
    static ROUTES: OnceLock<Vec<(Vec<String>, Vec<String>)>> = OnceLock::new();
    let routes = ROUTES.get_or_init(|| {
        built()["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(template, item)| {
                let segments = template.split('/').map(str::to_string).collect();
                let mut methods: Vec<String> = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(m, _)| m.to_uppercase())
                    .collect();
                methods.sort();
                (segments, methods)
            })
            .collect()
    });
    let asked: Vec<&str> = path.split('/').collect();
    let mut allowed = BTreeSet::new();
    for (segments, methods) in routes {
        let fits = segments.len() == asked.len()
            && segments
                .iter()
                .zip(&asked)
                .all(|(t, a)| (t.starts_with('{') && t.ends_with('}') && !a.is_empty()) || t == a);
        if fits {
            allowed.extend(methods.iter().cloned());
        }
    }
    (!allowed.is_empty()).then(|| allowed.into_iter().collect::<Vec<_>>().join(", "))
}

/// This document.
#[utoipa::path(
    operation_id = "openapi",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document of every `/api/v1` route.", content_type = "application/json", body = Object)),
)]
#[get("/openapi.json")]
async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(document_json())
}

/// Registers [`openapi_json`] in the `/api/v1` scope.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(openapi_json);
}

fn add_security_schemes(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for (name, what) in [
        (
            EDIT_TOKEN,
            "The edit token returned when the assessment was created (43 characters, base64url).",
        ),
        (
            BROKER_TOKEN,
            "A broker's API token, as `shindan broker add` or the admin API printed it.",
        ),
        (
            ADMIN_TOKEN,
            "The operator's token, the value of SHINDAN_ADMIN_TOKEN.",
        ),
    ] {
        components.add_security_scheme(
            name,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(what))
                    .build(),
            ),
        );
    }
}

fn operations(item: &mut utoipa::openapi::PathItem) -> Vec<(HttpMethod, &mut Operation)> {
    [
        (HttpMethod::Get, item.get.as_mut()),
        (HttpMethod::Post, item.post.as_mut()),
        (HttpMethod::Patch, item.patch.as_mut()),
        (HttpMethod::Put, item.put.as_mut()),
        (HttpMethod::Delete, item.delete.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
    .collect()
}

/// The security schemes an operation names.
fn schemes(op: &Operation) -> BTreeSet<String> {
    let Ok(value) = serde_json::to_value(&op.security) else {
        return BTreeSet::new();
    };
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_object())
        .flat_map(|r| r.keys().cloned())
        .collect()
}

/// Adds the codes of `more` to the operation's response for `status`, creating it when the
/// handler's annotation has none.
fn refuse(op: &mut Operation, status: u16, more: &str) {
    let key = status.to_string();
    let responses = &mut op.responses.responses;
    match responses.get_mut(&key) {
        Some(RefOr::T(r)) => {
            r.description = format!("{}; {more}", r.description);
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            responses.insert(key, RefOr::T(Response::new(more)));
        }
    }
}

/// What any operation of its kind can meet, whatever its handler does: a bad or slow body,
/// a missing token, a full disk, the rate limits.
fn add_common_refusals(op: &mut Operation) {
    let schemes = schemes(op);
    let reads_store = !op
        .tags
        .iter()
        .flatten()
        .any(|t| t == "questionnaires" || t == "meta");
    if op.request_body.is_some() {
        refuse(op, 400, "`malformed_json`: the body is not valid JSON");
        refuse(
            op,
            408,
            "`request_timeout`: the body did not arrive in time",
        );
        let limit = format!(
            "`payload_too_large`: the body is over {} KiB",
            MAX_BODY_BYTES / 1024
        );
        refuse(op, 413, &limit);
        refuse(
            op,
            415,
            "`unsupported_media_type`: the body is not `application/json`",
        );
        refuse(
            op,
            422,
            "`invalid_body`: a field has the wrong type or is not known",
        );
    }
    if !schemes.is_empty() {
        refuse(
            op,
            401,
            "`unauthorized`: the bearer token is missing or wrong",
        );
    }
    if schemes.contains(ADMIN_TOKEN) {
        refuse(
            op,
            404,
            "`admin_disabled`: the server runs without SHINDAN_ADMIN_TOKEN",
        );
    }
    if schemes.contains(ADMIN_TOKEN) || schemes.contains(BROKER_TOKEN) {
        refuse(op, 429, "`rate_limited`: too many requests of this token, or too many wrong tokens from this address; see `Retry-After`");
    }
    if reads_store {
        refuse(op, 503, "`storage_unavailable`: the disk is full or failing (a write stored nothing); see `Retry-After`");
    }
    refuse(op, 500, "`internal`: a fault of the server, logged with detail; `inconsistent_record`: a stored record no longer matches its questionnaire");
}

/// Gives every error response the error shape, with `code` narrowed to the codes its
/// description names (in backquotes), and `Retry-After` where the codes send one.
fn narrow_error_codes(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        let RefOr::T(response) = response else {
            continue;
        };
        if !status.starts_with('4') && !status.starts_with('5') {
            continue;
        }
        let codes = codes_named(&response.description);
        let narrowed = ObjectBuilder::new().property(
            "error",
            ObjectBuilder::new().property(
                "code",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(codes.iter().map(|c| c.as_str()))),
            ),
        );
        let body = AllOfBuilder::new()
            .item(Ref::from_schema_name("Error"))
            .item(narrowed)
            .build();
        let mut built = ResponseBuilder::new()
            .description(response.description.clone())
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::T(Schema::AllOf(body))))
                    .build(),
            );
        if codes
            .iter()
            .any(|c| matches!(c, ErrorCode::RateLimited | ErrorCode::StorageUnavailable))
        {
            built = built.header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::Integer))
                    .description(Some(format!(
                        "Seconds to wait before trying again ({STORAGE_RETRY_AFTER_SECS} for storage)."
                    )))
                    .build(),
            );
        }
        if codes.contains(&ErrorCode::Unauthorized) {
            built = built.header(
                "WWW-Authenticate",
                HeaderBuilder::new()
                    .schema(ObjectBuilder::new().schema_type(Type::String))
                    .description(Some("`Bearer`"))
                    .build(),
            );
        }
        for (name, h) in &response.headers {
            built = built.header(name.clone(), h.clone());
        }
        *response = built.build();
    }
}

/// The error codes a description names in backquotes, in order.
pub fn codes_named(description: &str) -> Vec<ErrorCode> {
    description
        .split('`')
        .skip(1)
        .step_by(2)
        .filter_map(ErrorCode::parse)
        .fold(Vec::new(), |mut all, c| {
            if !all.contains(&c) {
                all.push(c);
            }
            all
        })
}

/// The calls a created or invited assessment leads to, with the values they take from the
/// response, so that a client (or a stateful test) can follow them. Written as JSON:
/// utoipa 5's `Link` serialises its `operationId` as `operation_id`.
fn add_links(doc: &mut serde_json::Value) {
    use serde_json::json;
    let edit = "Bearer {$response.body#/edit_token}";
    let id = "$response.body#/id";
    let with_edit_token = |target: &str| json!({"operationId": target, "parameters": {"id": id, "header.Authorization": edit}});
    let created = json!({
        "GetAssessment": with_edit_token("get_assessment"),
        "PatchAssessment": with_edit_token("patch_assessment"),
        "SubmitAssessment": with_edit_token("submit_assessment"),
        "GetReport": {"operationId": "get_report", "parameters": {"token": "$response.body#/report_token"}},
    });
    let mut invited = created.clone();
    for (name, target) in [
        ("GetItem", "broker_get_assessment"),
        ("ReissueInvitation", "broker_reissue_invitation"),
        ("GetPdf", "broker_get_report_pdf"),
    ] {
        invited[name] = json!({"operationId": target, "parameters": {"id": id}});
    }
    let broker = |target: &str| json!({"operationId": target, "parameters": {"id": id}});
    let added = json!({
        "GetBroker": broker("admin_get_broker"),
        "RotateBrokerToken": broker("admin_rotate_broker_token"),
        "RevokeBroker": broker("admin_revoke_broker"),
    });
    let Some(paths) = doc.get_mut("paths").and_then(|p| p.as_object_mut()) else {
        return;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            let links = match op.get("operationId").and_then(|v| v.as_str()) {
                Some("create_assessment") => &created,
                Some("broker_invite") => &invited,
                Some("admin_add_broker") => &added,
                _ => continue,
            };
            if let Some(response) = op.pointer_mut("/responses/201") {
                response["links"] = links.clone();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_methods_of_a_path_are_those_of_every_template_it_fits() {
        assert_eq!(
            methods_of("/api/v1/assessments/0b3f").as_deref(),
            Some("GET, PATCH")
        );
        assert_eq!(methods_of("/api/v1/assessments").as_deref(), Some("POST"));
        assert_eq!(methods_of("/api/v1/assessments/").as_deref(), None);
        assert_eq!(methods_of("/api/v1/nothing").as_deref(), None);
        // `attach` fits the item's `{id}` too.
        assert_eq!(
            methods_of("/api/v1/broker/assessments/attach").as_deref(),
            Some("GET, POST")
        );
    }

    #[test]
    fn every_code_reads_back_from_its_name_and_serialises_as_it() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert_eq!(
                serde_json::to_value(code).expect("JSON"),
                serde_json::Value::from(code.as_str())
            );
        }
    }

    #[test]
    fn codes_are_read_from_backquotes_once_each() {
        assert_eq!(
            codes_named("`not_found`: x; `unknown_thing`; `not_found` and `rate_limited`"),
            vec![ErrorCode::NotFound, ErrorCode::RateLimited]
        );
    }

    #[test]
    fn every_error_response_names_codes_of_its_own_status() {
        let doc = described();
        for (path, item) in doc.paths.paths.clone().iter_mut() {
            for (_, op) in operations(item) {
                for (status, response) in &op.responses.responses {
                    let RefOr::T(r) = response else { continue };
                    if status.starts_with('2') || status.starts_with('3') {
                        continue;
                    }
                    let codes = codes_named(&r.description);
                    assert!(!codes.is_empty(), "{path} {status} names no error code");
                    for c in codes {
                        assert_eq!(
                            c.status().as_str(),
                            status,
                            "{path}: `{}` is not a {status}",
                            c.as_str()
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_code_a_description_names_before_its_colon_exists() {
        let doc = described();
        for (path, item) in doc.paths.paths.clone().iter_mut() {
            for (_, op) in operations(item) {
                for (status, response) in &op.responses.responses {
                    let RefOr::T(r) = response else { continue };
                    if !(status.starts_with('4') || status.starts_with('5')) {
                        continue;
                    }
                    for clause in r.description.split("; ") {
                        let Some((named, _)) = clause.split_once(':') else {
                            continue;
                        };
                        for token in named.split('`').skip(1).step_by(2) {
                            assert!(
                                ErrorCode::parse(token).is_some(),
                                "{path} {status}: `{token}` is no error code"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn every_code_is_in_the_list_of_all() {
        for code in ErrorCode::ALL {
            // A new variant fails to compile here until it is listed in `ALL`.
            let listed = match code {
                ErrorCode::MalformedJson
                | ErrorCode::InvalidBody
                | ErrorCode::InvalidQuery
                | ErrorCode::PayloadTooLarge
                | ErrorCode::UnsupportedMediaType
                | ErrorCode::NotFound
                | ErrorCode::MethodNotAllowed
                | ErrorCode::UnknownQuestionnaire
                | ErrorCode::UnknownProfileField
                | ErrorCode::InvalidProfileValue
                | ErrorCode::UnknownQuestion
                | ErrorCode::UnknownOption
                | ErrorCode::NaNotAllowed
                | ErrorCode::InvalidAnswer
                | ErrorCode::InvalidPrevious
                | ErrorCode::MissingProfileField
                | ErrorCode::UnansweredQuestion
                | ErrorCode::Unauthorized
                | ErrorCode::CrossOrigin
                | ErrorCode::FormExpired
                | ErrorCode::RequestTimeout
                | ErrorCode::AlreadySubmitted
                | ErrorCode::NotSubmitted
                | ErrorCode::QuestionnaireUnavailable
                | ErrorCode::InvalidField
                | ErrorCode::AdminDisabled
                | ErrorCode::BrokerRevoked
                | ErrorCode::TooFewChanges
                | ErrorCode::RateLimited
                | ErrorCode::InconsistentRecord
                | ErrorCode::StorageUnavailable
                | ErrorCode::Internal => 1,
            };
            assert_eq!(listed, 1);
        }
        let distinct: BTreeSet<&str> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(distinct.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn name_limits_in_the_document_are_those_of_the_code() {
        let doc = document();
        let schemas = &doc["components"]["schemas"];
        assert_eq!(
            schemas["AddRequest"]["properties"]["name"]["maxLength"],
            crate::accounts::MAX_BROKER_NAME_CHARS
        );
        assert_eq!(
            schemas["InviteRequest"]["properties"]["client_name"]["maxLength"],
            crate::assessment::MAX_CLIENT_NAME_CHARS
        );
        for (schema, field) in [
            ("InviteRequest", "proposal_ref"),
            ("AttachRequest", "proposal_ref"),
        ] {
            assert_eq!(
                schemas[schema]["properties"][field]["maxLength"],
                crate::assessment::MAX_PROPOSAL_REF_CHARS,
                "{schema}.{field}"
            );
        }
    }

    #[test]
    fn every_operation_has_a_unique_id() {
        let doc = described();
        let mut seen = BTreeSet::new();
        for (path, item) in doc.paths.paths.clone().iter_mut() {
            for (_, op) in operations(item) {
                let id = op.operation_id.clone().unwrap_or_default();
                assert!(seen.insert(id.clone()), "{path}: operation id {id} twice");
            }
        }
    }
}
