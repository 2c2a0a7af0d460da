//! Broker invitations: a draft owned by a broker, with the client's company name filled
//! in, and read-only attachments of a company's own submitted assessment.

use uuid::Uuid;

use super::{new_draft, previous_record, AssessmentError, Changes, Created};
use crate::names::{clean, fold};
use crate::questionnaire::Questionnaire;
use crate::store::{AssessmentRecord, Invitation, PortfolioItem, Status, Store};
use crate::tokens::{EditToken, ReportToken};

/// The profile field an invitation fills with the client's name.
pub const COMPANY_NAME_FIELD: &str = "company_name";
/// The longest client name a broker may give, in characters.
pub const MAX_CLIENT_NAME_CHARS: usize = 120;
/// The longest proposal reference, in characters.
pub const MAX_PROPOSAL_REF_CHARS: usize = 64;

/// A client's name as a broker files it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientName(String);

impl ClientName {
    pub fn parse(raw: &str) -> Result<ClientName, AssessmentError> {
        clean(raw, MAX_CLIENT_NAME_CHARS)
            .map(ClientName)
            .ok_or(AssessmentError::InvalidClientName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An optional proposal reference: empty means none.
pub fn parse_proposal_ref(raw: Option<&str>) -> Result<Option<String>, AssessmentError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => clean(s, MAX_PROPOSAL_REF_CHARS)
            .map(Some)
            .ok_or(AssessmentError::InvalidProposalRef),
    }
}

/// Creates a draft for `q` owned by `broker`, durably, and files it in the broker's
/// portfolio. `previous` must be a submitted assessment of the same questionnaire that is
/// in this broker's portfolio under the same client (folded name).
pub async fn invite(
    store: &Store,
    q: &Questionnaire,
    broker: Uuid,
    client: &ClientName,
    proposal_ref: Option<String>,
    previous: Option<&str>,
) -> Result<Created, AssessmentError> {
    let mut changes = Changes::default();
    if q.profile_field(COMPANY_NAME_FIELD).is_some() {
        changes.profile.insert(
            COMPANY_NAME_FIELD.to_string(),
            serde_json::Value::String(client.as_str().to_string()),
        );
    }
    let mut created = new_draft(q, &changes).map_err(|e| match e {
        AssessmentError::InvalidProfileValue { .. } => AssessmentError::InvalidClientName,
        e => e,
    })?;
    if let Some(token) = previous {
        let earlier = previous_record(store, q, token)?;
        // Only the same client's earlier assessment: a report compared with another
        // company's would show this client someone else's scores.
        let same_client = store
            .portfolio_item(broker, earlier.id)?
            .is_some_and(|item| fold(&item.entry.client_name) == fold(client.as_str()));
        if !same_client {
            return Err(AssessmentError::InvalidPrevious);
        }
        created.record.previous = Some(earlier.report_token);
    }
    created.record.invitation = Some(Invitation {
        broker,
        client_name: client.as_str().to_string(),
        proposal_ref,
    });
    store.create_invitation(&created.record).await?;
    Ok(created)
}

/// Whether a broker may attach this assessment: a submitted one that no broker invited
/// (a broker's own invitations are in its portfolio already; another broker's never are).
pub fn attachable(record: &AssessmentRecord) -> bool {
    record.status == Status::Submitted && record.invitation.is_none()
}

/// Adds a company's own submitted assessment to a broker's portfolio by its report token.
/// `None` when the token is unknown or the assessment cannot be attached. The flag says
/// whether the item is new.
pub async fn attach(
    store: &Store,
    broker: Uuid,
    report_token: &str,
    proposal_ref: Option<String>,
) -> Result<Option<(PortfolioItem, bool)>, AssessmentError> {
    let Some(token) = ReportToken::parse(report_token) else {
        return Ok(None);
    };
    let name = |r: &AssessmentRecord| {
        r.profile
            .get(COMPANY_NAME_FIELD)
            .and_then(serde_json::Value::as_str)
            .and_then(|s| clean(s, MAX_CLIENT_NAME_CHARS))
            .unwrap_or_else(|| "-".to_string())
    };
    Ok(store
        .attach(broker, &token.digest(), attachable, name, proposal_ref)
        .await?)
}

/// Why a new invitation link was refused.
#[derive(Debug)]
pub enum Reissue {
    /// A new link: the old one no longer works.
    Done(EditToken),
    /// Not a draft this broker invited (or no such assessment).
    NotFound,
    /// The company has submitted: there is nothing left to answer.
    Submitted,
}

/// A new answering link for a draft the broker invited, for a client who lost the first:
/// the old link stops working at once. Answers saved so far are kept.
pub async fn reissue(store: &Store, broker: Uuid, id: Uuid) -> Result<Reissue, AssessmentError> {
    let token = EditToken::generate()?;
    let owned = |r: &AssessmentRecord| r.invitation.as_ref().is_some_and(|i| i.broker == broker);
    let outcome = store
        .replace_edit_digest(id, &token.digest(), |r| {
            owned(r) && r.status == Status::Draft
        })
        .await?;
    Ok(match outcome {
        Some(Ok(_)) => Reissue::Done(token),
        Some(Err(r)) if owned(&r) => Reissue::Submitted,
        _ => Reissue::NotFound,
    })
}
