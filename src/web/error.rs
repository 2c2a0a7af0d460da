//! Errors -> responses, in one place. Every refusal has a stable machine code and a status;
//! the API answers `{"error": {"code", "message", "field"}}`, the pages show the same problem
//! as a friendly page in the reader's language. Extractor failures (JSON, form, path, query)
//! are mapped here too, so actix-web's plain-text errors never reach a client. Store errors
//! are told apart by the store itself: [`StoreError::Unavailable`] (a full disk, a failed
//! store) is 503 `storage_unavailable` with `Retry-After`, anything else a 500 `internal`.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse, ResponseError};
use serde::Serialize;

use super::pages;
use crate::assessment::AssessmentError;
use crate::config::MAX_BODY_BYTES;
use crate::i18n::Lang;
use crate::questionnaire::AnswerError;
use crate::store::StoreError;

/// The `Retry-After` of a 503 `storage_unavailable`, in seconds. A failed store needs an
/// operator (room on the disk, a restart), so clients are asked to wait a while, not to
/// hammer it.
pub const STORAGE_RETRY_AFTER_SECS: u32 = 60;

/// The stable machine codes of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    InvalidBody,
    InvalidQuery,
    PayloadTooLarge,
    UnsupportedMediaType,
    NotFound,
    MethodNotAllowed,
    UnknownQuestionnaire,
    UnknownProfileField,
    InvalidProfileValue,
    UnknownQuestion,
    UnknownOption,
    NaNotAllowed,
    InvalidAnswer,
    InvalidPrevious,
    MissingProfileField,
    UnansweredQuestion,
    Unauthorized,
    CrossOrigin,
    FormExpired,
    RequestTimeout,
    AlreadySubmitted,
    NotSubmitted,
    QuestionnaireUnavailable,
    InvalidField,
    AdminDisabled,
    BrokerRevoked,
    TooFewChanges,
    RateLimited,
    InconsistentRecord,
    StorageUnavailable,
    Internal,
}

impl ErrorCode {
    /// The HTTP status of this code.
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            MalformedJson | InvalidQuery => StatusCode::BAD_REQUEST,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            NotFound | UnknownQuestionnaire | AdminDisabled => StatusCode::NOT_FOUND,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Unauthorized => StatusCode::UNAUTHORIZED,
            CrossOrigin | FormExpired => StatusCode::FORBIDDEN,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            AlreadySubmitted
            | NotSubmitted
            | QuestionnaireUnavailable
            | BrokerRevoked
            | TooFewChanges => StatusCode::CONFLICT,
            InvalidBody | UnknownProfileField | InvalidProfileValue | UnknownQuestion
            | UnknownOption | NaNotAllowed | InvalidAnswer | InvalidPrevious
            | MissingProfileField | UnansweredQuestion | InvalidField => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            StorageUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            InconsistentRecord | Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Every code, in the order of the enum.
    pub const ALL: [ErrorCode; 32] = {
        use ErrorCode::*;
        [
            MalformedJson,
            InvalidBody,
            InvalidQuery,
            PayloadTooLarge,
            UnsupportedMediaType,
            NotFound,
            MethodNotAllowed,
            UnknownQuestionnaire,
            UnknownProfileField,
            InvalidProfileValue,
            UnknownQuestion,
            UnknownOption,
            NaNotAllowed,
            InvalidAnswer,
            InvalidPrevious,
            MissingProfileField,
            UnansweredQuestion,
            Unauthorized,
            CrossOrigin,
            FormExpired,
            RequestTimeout,
            AlreadySubmitted,
            NotSubmitted,
            QuestionnaireUnavailable,
            InvalidField,
            AdminDisabled,
            BrokerRevoked,
            TooFewChanges,
            RateLimited,
            InconsistentRecord,
            StorageUnavailable,
            Internal,
        ]
    };

    /// The code of its JSON name.
    pub fn parse(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The code as it appears in JSON.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            MalformedJson => "malformed_json",
            InvalidBody => "invalid_body",
            InvalidQuery => "invalid_query",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            UnknownQuestionnaire => "unknown_questionnaire",
            UnknownProfileField => "unknown_profile_field",
            InvalidProfileValue => "invalid_profile_value",
            UnknownQuestion => "unknown_question",
            UnknownOption => "unknown_option",
            NaNotAllowed => "na_not_allowed",
            InvalidAnswer => "invalid_answer",
            InvalidPrevious => "invalid_previous",
            MissingProfileField => "missing_profile_field",
            UnansweredQuestion => "unanswered_question",
            Unauthorized => "unauthorized",
            CrossOrigin => "cross_origin",
            FormExpired => "form_expired",
            RequestTimeout => "request_timeout",
            AlreadySubmitted => "already_submitted",
            NotSubmitted => "not_submitted",
            QuestionnaireUnavailable => "questionnaire_unavailable",
            InvalidField => "invalid_field",
            AdminDisabled => "admin_disabled",
            BrokerRevoked => "broker_revoked",
            TooFewChanges => "too_few_changes",
            RateLimited => "rate_limited",
            InconsistentRecord => "inconsistent_record",
            StorageUnavailable => "storage_unavailable",
            Internal => "internal",
        }
    }
}

/// The JSON of every refusal under `/api/v1`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody<'a> {
    pub error: ErrorDetail<'a>,
}

/// What went wrong: a stable machine code, a sentence for people and, where one field is
/// at fault, its path (`profile.employees`, `answers.q1`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail<'a> {
    pub code: ErrorCode,
    pub message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'a str>,
}

/// A refusal of the JSON API.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// The methods of the path, for a 405 (its `Allow` header).
    pub allow: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: None,
            allow: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.message)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if self.code == ErrorCode::Unauthorized {
            res.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        if self.code == ErrorCode::RequestTimeout {
            // The rest of a late body is not worth waiting for.
            res.force_close();
        }
        if let Some(allow) = &self.allow {
            res.insert_header((header::ALLOW, allow.as_str()));
        }
        retry_later(self.code, &mut res);
        res.json(ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
                field: self.field.as_deref(),
            },
        })
    }
}

/// A 503 `storage_unavailable` says when to come back, and is never cached.
fn retry_later(code: ErrorCode, res: &mut actix_web::HttpResponseBuilder) {
    if code == ErrorCode::StorageUnavailable {
        res.insert_header((header::RETRY_AFTER, STORAGE_RETRY_AFTER_SECS))
            .insert_header((header::CACHE_CONTROL, "no-store"));
    }
}

/// The code of a store error, logged here (with its detail, which the client never sees).
pub fn store_code(e: &StoreError) -> ErrorCode {
    match e {
        StoreError::Unavailable { fault, .. } => {
            // The store logs the failure, or the lack of room, once when it starts.
            tracing::debug!(%fault, error = %e, "refused: storage unavailable");
            ErrorCode::StorageUnavailable
        }
        _ => {
            tracing::error!(error = %e, "storage failed");
            ErrorCode::Internal
        }
    }
}

/// The code, message and field of an assessment error. Storage failures are logged here
/// and reported without detail.
pub fn classify(e: &AssessmentError) -> (ErrorCode, Option<String>) {
    use AssessmentError as E;
    match e {
        E::UnknownQuestionnaire => (
            ErrorCode::UnknownQuestionnaire,
            Some("questionnaire".into()),
        ),
        E::UnknownProfileField(f) => (ErrorCode::UnknownProfileField, Some(format!("profile.{f}"))),
        E::InvalidProfileValue { field, .. } => (
            ErrorCode::InvalidProfileValue,
            Some(format!("profile.{field}")),
        ),
        E::Answer(a) => {
            let code = match a {
                AnswerError::UnknownQuestion(_) => ErrorCode::UnknownQuestion,
                AnswerError::UnknownOption { .. } => ErrorCode::UnknownOption,
                AnswerError::NaNotAllowed(_) => ErrorCode::NaNotAllowed,
            };
            (code, Some(format!("answers.{}", a.question())))
        }
        E::InvalidAnswer(q) => (ErrorCode::InvalidAnswer, Some(format!("answers.{q}"))),
        E::MissingProfileField(f) => (ErrorCode::MissingProfileField, Some(format!("profile.{f}"))),
        E::Unanswered(q) => (ErrorCode::UnansweredQuestion, Some(format!("answers.{q}"))),
        E::AlreadySubmitted => (ErrorCode::AlreadySubmitted, None),
        E::NotFound => (ErrorCode::NotFound, None),
        E::QuestionnaireGone => (ErrorCode::QuestionnaireUnavailable, None),
        E::InvalidPrevious => (ErrorCode::InvalidPrevious, Some("previous".into())),
        E::InvalidClientName => (ErrorCode::InvalidField, Some("client_name".into())),
        E::InvalidProposalRef => (ErrorCode::InvalidField, Some("proposal_ref".into())),
        E::Random(err) => {
            tracing::error!(error = %err, "token generation failed");
            (ErrorCode::Internal, None)
        }
        E::Store(err) => (store_code(err), None),
    }
}

impl From<AssessmentError> for ApiError {
    fn from(e: AssessmentError) -> Self {
        let (code, field) = classify(&e);
        let message = match code {
            ErrorCode::Internal => "the server could not complete the request".to_string(),
            ErrorCode::StorageUnavailable => format!(
                "the server cannot store anything at the moment; this request was not \
                 acknowledged: retry in {STORAGE_RETRY_AFTER_SECS} s"
            ),
            _ => e.to_string(),
        };
        ApiError {
            code,
            message,
            field,
            allow: None,
        }
    }
}

/// The title and explanation of an error, in the reader's language.
pub fn describe(lang: Lang, code: ErrorCode) -> (&'static str, &'static str) {
    let ui = lang.ui();
    match code {
        ErrorCode::NotFound | ErrorCode::Unauthorized => {
            (ui.err_not_found_title, ui.err_not_found_body)
        }
        ErrorCode::CrossOrigin => (ui.err_cross_origin_title, ui.err_cross_origin_body),
        ErrorCode::FormExpired => (ui.err_form_expired_title, ui.err_form_expired_body),
        ErrorCode::RequestTimeout => (ui.err_timeout_title, ui.err_timeout_body),
        ErrorCode::RateLimited => (ui.err_rate_title, ui.err_rate_body),
        ErrorCode::UnknownQuestionnaire | ErrorCode::QuestionnaireUnavailable => {
            (ui.err_questionnaire_title, ui.err_questionnaire_body)
        }
        ErrorCode::AlreadySubmitted => (ui.err_submitted_title, ui.err_submitted_body),
        ErrorCode::NotSubmitted => (ui.err_not_submitted_title, ui.err_not_submitted_body),
        ErrorCode::PayloadTooLarge => (ui.err_too_large_title, ui.err_too_large_body),
        ErrorCode::StorageUnavailable => (ui.err_storage_title, ui.err_storage_body),
        ErrorCode::Internal => (ui.err_internal_title, ui.err_internal_body),
        ErrorCode::InconsistentRecord => (ui.err_inconsistent_title, ui.err_inconsistent_body),
        _ => (ui.err_bad_request_title, ui.err_bad_request_body),
    }
}

/// The id of one logged error, shown to the reader so that the operator can find the log
/// line: 12 hex digits, random.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorId(String);

impl ErrorId {
    /// A new id, logged with `error` at the error level; `what` says what failed.
    pub fn log(what: &str, error: &dyn std::fmt::Display) -> ErrorId {
        let id = ErrorId(uuid::Uuid::new_v4().simple().to_string()[..12].to_string());
        tracing::error!(error_id = %id.0, error = %error, "{what}");
        id
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A stored record that cannot be shown as it is (it does not fit its questionnaire): a
/// 500 `inconsistent_record` whose message names the id logged with the problem.
pub fn inconsistent_record(error: &dyn std::fmt::Display) -> ApiError {
    let id = ErrorId::log("a stored assessment is inconsistent", error);
    ApiError::new(
        ErrorCode::InconsistentRecord,
        format!(
            "the stored assessment is inconsistent and cannot be shown (error id {})",
            id.as_str()
        ),
    )
}

/// A refusal on an HTML page, shown in the reader's language.
#[derive(Debug)]
pub struct PageError {
    pub lang: Lang,
    pub code: ErrorCode,
    /// The id of the logged error, shown on the page.
    pub error_id: Option<ErrorId>,
}

impl PageError {
    pub fn new(lang: Lang, code: ErrorCode) -> Self {
        PageError {
            lang,
            code,
            error_id: None,
        }
    }

    pub fn from_assessment(lang: Lang, e: AssessmentError) -> Self {
        PageError::new(lang, classify(&e).0)
    }

    /// A stored record that cannot be shown as it is: a 500 page with the id of the log
    /// line that says why.
    pub fn inconsistent_record(lang: Lang, error: &dyn std::fmt::Display) -> Self {
        PageError {
            error_id: Some(ErrorId::log("a stored assessment is inconsistent", error)),
            ..PageError::new(lang, ErrorCode::InconsistentRecord)
        }
    }

    /// A failure of ours (`what` failed), logged with an id the page shows.
    pub fn internal(lang: Lang, what: &str, error: &dyn std::fmt::Display) -> Self {
        PageError {
            error_id: Some(ErrorId::log(what, error)),
            ..PageError::new(lang, ErrorCode::Internal)
        }
    }
}

/// A page's failure told to an API client: the same code, the English title as the
/// message, and the id of the logged error when there is one.
impl From<PageError> for ApiError {
    fn from(e: PageError) -> Self {
        let (title, _) = describe(Lang::En, e.code);
        let message = match &e.error_id {
            Some(id) => format!("{title} (error id {})", id.as_str()),
            None => title.to_string(),
        };
        ApiError::new(e.code, message)
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code.as_str())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status_code());
        if self.code == ErrorCode::RequestTimeout {
            res.force_close();
        }
        retry_later(self.code, &mut res);
        res.content_type("text/html; charset=utf-8")
            .insert_header((header::CACHE_CONTROL, "no-store"))
            .body({
                let (title, body) = describe(self.lang, self.code);
                let id = self.error_id.as_ref().map(ErrorId::as_str);
                pages::error::page_with_id(self.lang, title, body, id).into_string()
            })
    }
}

fn json_error(err: &JsonPayloadError) -> ApiError {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::new(
                ErrorCode::PayloadTooLarge,
                format!("the body is larger than {MAX_BODY_BYTES} bytes"),
            )
        }
        JsonPayloadError::ContentType => ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as Content-Type: application/json",
        ),
        JsonPayloadError::Deserialize(e) if e.is_data() => ApiError::new(
            ErrorCode::InvalidBody,
            format!(
                "the JSON does not have the expected shape (line {}, column {})",
                e.line(),
                e.column()
            ),
        ),
        JsonPayloadError::Deserialize(e) => ApiError::new(
            ErrorCode::MalformedJson,
            format!(
                "the body is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        ),
        JsonPayloadError::Payload(e) if super::deadline::is_deadline(e) => ApiError::new(
            ErrorCode::RequestTimeout,
            "the request body did not arrive in time",
        ),
        JsonPayloadError::Payload(actix_web::error::PayloadError::Overflow) => ApiError::new(
            ErrorCode::PayloadTooLarge,
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        ),
        _ => ApiError::new(ErrorCode::MalformedJson, "the body could not be read"),
    }
}

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_BODY_BYTES)
        .error_handler(|err, _req: &HttpRequest| json_error(&err).into())
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_err: PathError, req: &HttpRequest| {
        if req.path().starts_with("/api/") {
            ApiError::new(ErrorCode::NotFound, "no such resource").into()
        } else {
            PageError::new(super::lang::negotiate(req).lang, ErrorCode::NotFound).into()
        }
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|_err: QueryPayloadError, req: &HttpRequest| {
        if req.path().starts_with("/api/") {
            ApiError::new(ErrorCode::InvalidQuery, "the query string is not valid").into()
        } else {
            PageError::new(super::lang::negotiate(req).lang, ErrorCode::InvalidQuery).into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Fault;

    fn disk_full() -> AssessmentError {
        AssessmentError::Store(StoreError::Unavailable {
            fault: Fault::DiskFull,
            detail: "IO error: No space left on device (os error 28)".into(),
        })
    }

    async fn body_of(res: HttpResponse) -> String {
        let bytes = actix_web::body::to_bytes(res.into_body()).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn an_unavailable_store_is_storage_unavailable_and_anything_else_internal() {
        assert_eq!(classify(&disk_full()).0, ErrorCode::StorageUnavailable);
        for fault in [Fault::Io, Fault::Failed] {
            let e = AssessmentError::Store(StoreError::Unavailable {
                fault,
                detail: "x".into(),
            });
            assert_eq!(classify(&e).0, ErrorCode::StorageUnavailable);
        }
        for e in [
            StoreError::Storage("x".into()),
            StoreError::Corrupt("x".into()),
        ] {
            assert_eq!(classify(&AssessmentError::Store(e)).0, ErrorCode::Internal);
        }
        assert_eq!(
            ErrorCode::StorageUnavailable.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            ErrorCode::StorageUnavailable.as_str(),
            "storage_unavailable"
        );
    }

    #[actix_web::test]
    async fn the_api_answers_503_json_with_retry_after_and_no_detail() {
        let res = ApiError::from(disk_full()).error_response();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let headers = res.headers().clone();
        assert_eq!(
            headers.get(header::RETRY_AFTER).unwrap().to_str().unwrap(),
            STORAGE_RETRY_AFTER_SECS.to_string()
        );
        assert_eq!(
            headers.get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let body: serde_json::Value = serde_json::from_str(&body_of(res).await).unwrap();
        assert_eq!(body["error"]["code"], "storage_unavailable");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("not acknowledged"), "{message}");
        assert!(!message.contains("No space"), "no detail leaks: {message}");
    }

    #[actix_web::test]
    async fn a_page_answers_503_in_the_readers_language_with_retry_after() {
        for (lang, title) in [
            (Lang::Ja, "ただいま保存できません"),
            (Lang::En, "Saving is unavailable"),
        ] {
            let res = PageError::from_assessment(lang, disk_full()).error_response();
            assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(
                res.headers()
                    .get(header::RETRY_AFTER)
                    .unwrap()
                    .to_str()
                    .unwrap(),
                STORAGE_RETRY_AFTER_SECS.to_string()
            );
            assert_eq!(
                res.headers().get(header::CACHE_CONTROL).unwrap(),
                "no-store"
            );
            let body = body_of(res).await;
            assert!(body.contains(title), "{lang:?}: {body}");
            assert!(!body.contains("No space"), "no detail leaks");
        }
    }

    #[test]
    fn other_errors_send_no_retry_after() {
        let res = ApiError::new(ErrorCode::Internal, "x").error_response();
        assert!(!res.headers().contains_key(header::RETRY_AFTER));
        let res = PageError::new(Lang::En, ErrorCode::NotFound).error_response();
        assert!(!res.headers().contains_key(header::RETRY_AFTER));
    }
}
