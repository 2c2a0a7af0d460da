//! The life of an assessment: create a draft, merge changes into it, submit it once.
//! Holds the rules (what may change, what submission requires, that a submitted
//! assessment never changes) between the input parsed by `web` and the records of `store`.
//! Knows no HTTP type.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use serde_json::Value;
use thiserror::Error;
use uuid::Uuid;

use crate::questionnaire::{
    parse_profile_value, AnswerError, Answers, ProfileError, Questionnaire,
};
use crate::scoring;
use crate::store::{
    AssessmentRecord, QuestionnaireRef, Status, Store, StoreError, UpdateError, SCHEMA_VERSION,
};
use crate::tokens::{EditToken, RandomError, ReportToken};

/// Changes to a draft: profile values and answers by id. `null` clears a value.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub profile: BTreeMap<String, Value>,
    pub answers: BTreeMap<String, Value>,
}

/// Why an assessment operation was refused.
#[derive(Debug, Error)]
pub enum AssessmentError {
    #[error("unknown questionnaire")]
    UnknownQuestionnaire,
    #[error("unknown profile field \"{0}\"")]
    UnknownProfileField(String),
    #[error("profile field \"{field}\" {error}")]
    InvalidProfileValue { field: String, error: ProfileError },
    #[error("{0}")]
    Answer(AnswerError),
    #[error("the answer to \"{0}\" must be an option id or \"na\"")]
    InvalidAnswer(String),
    #[error("required profile field \"{0}\" is missing")]
    MissingProfileField(String),
    #[error("question \"{0}\" is not answered")]
    Unanswered(String),
    #[error("this assessment has already been submitted")]
    AlreadySubmitted,
    #[error("no such assessment")]
    NotFound,
    #[error("the questionnaire version of this assessment is no longer available")]
    QuestionnaireGone,
    #[error(
        "previous must be the report token of a submitted assessment of the same questionnaire"
    )]
    InvalidPrevious,
    #[error("client_name must have 1 to 120 characters and no control characters")]
    InvalidClientName,
    #[error("proposal_ref must have at most 64 characters and no control characters")]
    InvalidProposalRef,
    #[error(transparent)]
    Random(#[from] RandomError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<crate::record::CorruptRecord> for AssessmentError {
    fn from(e: crate::record::CorruptRecord) -> Self {
        AssessmentError::Store(e.into())
    }
}

impl From<UpdateError<AssessmentError>> for AssessmentError {
    fn from(e: UpdateError<AssessmentError>) -> Self {
        match e {
            UpdateError::NotFound => AssessmentError::NotFound,
            UpdateError::Refused(e) => e,
            UpdateError::Store(e) => AssessmentError::Store(e),
        }
    }
}

/// A new assessment and its two secrets, which are shown to its creator once.
#[derive(Debug)]
pub struct Created {
    pub record: AssessmentRecord,
    pub edit_token: EditToken,
    pub report_token: ReportToken,
}

/// Checks every change against the questionnaire, then applies them all, or none.
pub fn apply_changes(
    q: &Questionnaire,
    record: &mut AssessmentRecord,
    changes: &Changes,
) -> Result<(), AssessmentError> {
    let mut profile = Vec::with_capacity(changes.profile.len());
    for (field_id, value) in &changes.profile {
        let field = q
            .profile_field(field_id)
            .ok_or_else(|| AssessmentError::UnknownProfileField(field_id.clone()))?;
        let parsed = parse_profile_value(field, value).map_err(|error| {
            AssessmentError::InvalidProfileValue {
                field: field_id.clone(),
                error,
            }
        })?;
        profile.push((field_id, parsed));
    }
    let mut answers = Vec::with_capacity(changes.answers.len());
    for (question, value) in &changes.answers {
        match value {
            Value::Null => {
                if q.question_position(question).is_none() {
                    return Err(AssessmentError::Answer(AnswerError::UnknownQuestion(
                        question.clone(),
                    )));
                }
                answers.push((question, None));
            }
            Value::String(option) => {
                Answers::parse_one(q, question, option).map_err(AssessmentError::Answer)?;
                answers.push((question, Some(option.clone())));
            }
            _ => return Err(AssessmentError::InvalidAnswer(question.clone())),
        }
    }
    for (field, value) in profile {
        match value {
            Some(v) => record.profile.insert(field.clone(), v),
            None => record.profile.remove(field),
        };
    }
    for (question, option) in answers {
        match option {
            Some(o) => record.answers.insert(question.clone(), o),
            None => record.answers.remove(question),
        };
    }
    Ok(())
}

/// A new draft for `q` with `changes` applied; not yet stored.
pub fn new_draft(q: &Questionnaire, changes: &Changes) -> Result<Created, AssessmentError> {
    let edit_token = EditToken::generate()?;
    let report_token = ReportToken::generate()?;
    let now = Utc::now();
    let mut record = AssessmentRecord {
        schema: SCHEMA_VERSION,
        id: Uuid::new_v4(),
        questionnaire: QuestionnaireRef {
            id: q.id.clone(),
            version: q.version.clone(),
            hash: q.hash.clone(),
        },
        edit_token_sha256: edit_token.digest().to_hex(),
        report_token: report_token.expose().to_string(),
        status: Status::Draft,
        profile: BTreeMap::new(),
        answers: BTreeMap::new(),
        created_at: now,
        updated_at: now,
        submitted_at: None,
        scores: None,
        findings: Vec::new(),
        previous: None,
        invitation: None,
    };
    apply_changes(q, &mut record, changes)?;
    Ok(Created {
        record,
        edit_token,
        report_token,
    })
}

/// Parses a record's stored answers. They were checked when written, so an error here
/// means the questionnaire file changed under the same version.
pub fn parsed_answers(
    q: &Questionnaire,
    record: &AssessmentRecord,
) -> Result<Answers, AssessmentError> {
    Answers::parse(q, &record.answers).map_err(AssessmentError::Answer)
}

/// The first thing submission still needs: a required profile field, then an unanswered
/// question, both in questionnaire order.
pub fn first_missing(q: &Questionnaire, record: &AssessmentRecord) -> Result<(), AssessmentError> {
    if let Some(field) = q
        .profile
        .iter()
        .find(|f| f.required && !record.has_profile_value(&f.id))
    {
        return Err(AssessmentError::MissingProfileField(field.id.clone()));
    }
    let answers = parsed_answers(q, record)?;
    if let Some(question) = answers.first_unanswered(q) {
        return Err(AssessmentError::Unanswered(question.to_string()));
    }
    Ok(())
}

/// Checks that every stored profile value is a field of `q` with a value it accepts.
pub fn check_profile(q: &Questionnaire, record: &AssessmentRecord) -> Result<(), AssessmentError> {
    for (field_id, value) in &record.profile {
        let field = q
            .profile_field(field_id)
            .ok_or_else(|| AssessmentError::UnknownProfileField(field_id.clone()))?;
        parse_profile_value(field, value).map_err(|error| {
            AssessmentError::InvalidProfileValue {
                field: field_id.clone(),
                error,
            }
        })?;
    }
    Ok(())
}

/// Checks a stored draft against a questionnaire: its profile and answers fit `q`.
pub fn check_draft(q: &Questionnaire, record: &AssessmentRecord) -> Result<(), AssessmentError> {
    check_profile(q, record)?;
    parsed_answers(q, record).map(|_| ())
}

/// What a submitted record's answers give with its questionnaire: its scores and the ids
/// of its findings, computed again, so that stored ones need not be believed (a restore
/// checks every record with it). Fails when the record could not have been submitted with
/// `q`: a profile value or answer `q` refuses, a required field or a question left empty.
pub fn recompute(
    q: &Questionnaire,
    record: &AssessmentRecord,
) -> Result<(scoring::Scores, Vec<String>), AssessmentError> {
    check_profile(q, record)?;
    first_missing(q, record)?;
    let answers = parsed_answers(q, record)?;
    let findings = scoring::findings(q, &answers, &record.profile)
        .into_iter()
        .map(|f| f.id.clone())
        .collect();
    Ok((scoring::score(q, &answers), findings))
}

/// Validates, scores and marks a draft submitted.
pub fn submit_record(
    q: &Questionnaire,
    record: &mut AssessmentRecord,
) -> Result<(), AssessmentError> {
    if record.status == Status::Submitted {
        return Err(AssessmentError::AlreadySubmitted);
    }
    first_missing(q, record)?;
    let answers = parsed_answers(q, record)?;
    let scores = scoring::score(q, &answers);
    record.findings = scoring::findings(q, &answers, &record.profile)
        .into_iter()
        .map(|f| f.id.clone())
        .collect();
    record.scores = Some(scores);
    record.status = Status::Submitted;
    let now = Utc::now();
    record.submitted_at = Some(now);
    record.updated_at = now;
    record.questionnaire.hash = q.hash.clone();
    Ok(())
}

/// Creates (and with `submit`, submits) an assessment, durably.
pub async fn create(
    store: &Store,
    q: &Questionnaire,
    changes: &Changes,
    submit: bool,
    previous: Option<&str>,
) -> Result<Created, AssessmentError> {
    let mut created = new_draft(q, changes)?;
    if let Some(token) = previous {
        created.record.previous = Some(check_previous(store, q, token)?);
    }
    if submit {
        submit_record(q, &mut created.record)?;
    }
    store.create(&created.record).await?;
    Ok(created)
}

/// The report token of an earlier assessment to compare with, if it is one: submitted,
/// and of the same questionnaire id (any version).
fn check_previous(
    store: &Store,
    q: &Questionnaire,
    token: &str,
) -> Result<String, AssessmentError> {
    previous_record(store, q, token).map(|r| r.report_token)
}

/// The earlier assessment a report token names, if it can be compared with: submitted, and
/// of the same questionnaire id (any version).
pub(crate) fn previous_record(
    store: &Store,
    q: &Questionnaire,
    token: &str,
) -> Result<AssessmentRecord, AssessmentError> {
    let token = ReportToken::parse(token).ok_or(AssessmentError::InvalidPrevious)?;
    match store.find_by_report(&token.digest())? {
        Some(r) if r.status == Status::Submitted && r.questionnaire.id == q.id => Ok(r),
        _ => Err(AssessmentError::InvalidPrevious),
    }
}

/// Merges changes into a draft, durably. A submitted assessment is refused. `draft` is the
/// record as the caller authorised it: if its edit token was replaced meanwhile (a new
/// answering link), the change is refused as if the draft were unknown.
pub async fn update(
    store: &Store,
    q: &Questionnaire,
    draft: &AssessmentRecord,
    changes: &Changes,
) -> Result<AssessmentRecord, AssessmentError> {
    let edit = &draft.edit_token_sha256;
    let record = store.update(draft.id, |r| {
        if &r.edit_token_sha256 != edit {
            return Err(AssessmentError::NotFound);
        }
        if r.status == Status::Submitted {
            return Err(AssessmentError::AlreadySubmitted);
        }
        apply_changes(q, r, changes)?;
        r.updated_at = Utc::now();
        Ok(())
    })?;
    store.durable().await?;
    Ok(record)
}

/// Submits a draft, durably. Exactly one of two concurrent submissions succeeds. As with
/// [`update`], a draft whose edit token was replaced since `draft` was read is refused.
pub async fn submit(
    store: &Store,
    q: Arc<Questionnaire>,
    draft: &AssessmentRecord,
) -> Result<AssessmentRecord, AssessmentError> {
    let edit = draft.edit_token_sha256.clone();
    Ok(store
        .submit(draft.id, move |r| {
            if r.edit_token_sha256 != edit {
                return Err(AssessmentError::NotFound);
            }
            submit_record(&q, r)
        })
        .await?)
}

mod invite;
mod readiness;
pub use invite::{
    attach, attachable, invite, parse_proposal_ref, reissue, ClientName, Reissue,
    COMPANY_NAME_FIELD, MAX_CLIENT_NAME_CHARS, MAX_PROPOSAL_REF_CHARS,
};
pub use readiness::{application_answers, application_readiness, Readiness};

#[cfg(test)]
mod tests;
