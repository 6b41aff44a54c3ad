//! Data-subject requests: intake, identity verification, the state machine with
//! optimistic locking, tasks done by hand, legal review, deadlines and the outbox.
//!
//! Every change is one transaction that checks the request's `version`, appends to
//! the request timeline and the audit chain, and raises a [`crate::DomainEvent`]
//! for subscriptions after commit.

pub mod deadline;
pub mod machine;

mod changes;
mod intake;
mod parts;
mod purge;
mod queries;
mod review;
pub(crate) mod settings;
pub(crate) mod tasks;
mod transitions;
mod uploads;
mod verification;
mod view;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set, TryIntoModel};
use serde_json::json;
use uuid::Uuid;

use entity::{request_event, subject_request};

use crate::access::principal::Principal;
use crate::core::store::Conn;
use crate::error::{Error, Result};
use crate::{new_id, now};

pub use changes::{RecordChange, ReviewChanges};
pub use deadline::{Calendar, GermanState};
pub(crate) use intake::normalize_identity as intake_normalize;
pub(crate) use intake::subject_of;
pub use intake::{NewAttachment, NewIdentity, NewRequest, Submitted};
pub use machine::{RequestEvent, RequestKind, RequestState, Transition, TransitionError};
pub use parts::{PartView, RequestPart};
pub use purge::PurgeReport;
pub(crate) use queries::overdue_requests;
pub use queries::{AttachmentFile, RequestFilter, RequestGauges, StalledReason};
pub use review::QueueChange;
pub(crate) use settings::load as load_settings;
pub use settings::{DEFAULT_TIME_ZONE, LocalClock, RequestSettings, RequestSettingsPatch};
pub use tasks::{CollectedValue, TaskKind, TaskOutcome, TaskState};
pub use transitions::{BulkOutcome, Fire};
pub use uploads::{MAX_UPLOAD_RECORDS, MAX_UPLOAD_VALUES, TaskUpload, UploadFormat};
pub use verification::{CODE_TTL_MINUTES, MAX_CODE_ATTEMPTS, MAX_CODE_SENDS, RESEND_AFTER_SECONDS};
pub use view::{IdentityView, RequestChange, RequestView, TaskView, TimelineEntryView};

/// The identities one request gave, as a query. Identities belong to the subject and
/// are shared by its requests; a request is searched, verified, written to and
/// answered only with its own: another request of the same subject may have added
/// one that nobody verified for this requester.
///
/// The organization is checked on the link, never on `subject_identity` itself:
/// with both, PostgreSQL without statistics (a new installation, a fresh table)
/// read every identity of the organization through its unique index and probed
/// the links for each (1.6 ms at 1,500 identities, growing with the organization);
/// from the link it is two key lookups.
pub(crate) fn identities_of(
    org_id: uuid::Uuid,
    request_id: uuid::Uuid,
) -> sea_orm::Select<entity::subject_identity::Entity> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait};
    let given = entity::request_identity::Entity::find()
        .select_only()
        .column(entity::request_identity::Column::IdentityId)
        .filter(entity::request_identity::Column::RequestId.eq(request_id))
        .filter(entity::request_identity::Column::OrgId.eq(org_id));
    entity::subject_identity::Entity::find()
        .filter(entity::subject_identity::Column::Id.in_subquery(given.into_query()))
}

stored_enum! {
    /// How the request reached the organization.
    Channel {
        /// The organization's web form.
        WebForm => "WEB_FORM",
        /// An e-mail.
        Email => "EMAIL",
        /// A letter.
        Letter => "LETTER",
        /// A phone call.
        Phone => "PHONE",
        /// An integration through the API.
        Api => "API",
        /// Opened by the retention sweep: the controller's own erasure of a record
        /// whose retention period ended (Art. 5(1)(e), Art. 17(1)(a)). Set by the
        /// sweep only.
        Retention => "RETENTION",
    }
}

stored_enum! {
    /// When the one-month deadline starts.
    DeadlineBasis {
        /// On receipt of the request (the default reading of Art. 12(3)).
        Receipt => "RECEIPT",
        /// On successful identity verification.
        Verification => "VERIFICATION",
    }
}

stored_enum! {
    /// How a requester's identity was verified.
    VerificationMethod {
        /// A one-time code sent to a known e-mail address.
        EmailCode => "EMAIL_CODE",
        /// Staff checked an identity document (name which one in the evidence).
        DocumentCheck => "DOCUMENT_CHECK",
        /// Staff matched the request to a known customer (e.g. by customer number and address).
        KnownCustomer => "KNOWN_CUSTOMER",
        /// The requester was logged in to their account (asserted by an integrator).
        AuthenticatedAccount => "AUTHENTICATED_ACCOUNT",
        /// Another method, described in the evidence.
        Other => "OTHER",
    }
}

stored_enum! {
    /// Why a request was refused.
    RejectionGround {
        /// The requester's identity could not be verified (Art. 12(6)).
        IdentityNotVerified => "IDENTITY_NOT_VERIFIED",
        /// Art. 12(5): manifestly unfounded.
        ManifestlyUnfounded => "MANIFESTLY_UNFOUNDED",
        /// Art. 12(5): excessive, in particular because of its repetitive character.
        Excessive => "EXCESSIVE",
    }
}

stored_enum! {
    /// What a timeline entry records.
    TimelineKind {
        /// The request was received.
        Received => "RECEIVED",
        /// A state transition.
        Transition => "TRANSITION",
        /// A comment by whoever works on the request.
        Comment => "COMMENT",
        /// A reviewer's comment.
        ReviewComment => "REVIEW_COMMENT",
        /// The request was assigned or unassigned.
        Assigned => "ASSIGNED",
        /// A reviewer claimed it in the review queue.
        Claimed => "CLAIMED",
        /// A reviewer released it.
        Unclaimed => "UNCLAIMED",
        /// The deadline was extended.
        Extended => "EXTENDED",
        /// Something happened in identity verification (code sent, wrong code ...).
        Verification => "VERIFICATION",
        /// A task was completed or failed.
        Task => "TASK",
        /// A record was redacted or the redaction withdrawn.
        Redaction => "REDACTION",
        /// The answer was dispatched (channel, digest), downloaded by the subject,
        /// or its download link withdrawn.
        Dispatch => "DISPATCH",
        /// The collected data was purged after the request ended (minimization).
        Purge => "PURGE",
        /// A correction was proposed, withdrawn or written to a source.
        Correction => "CORRECTION",
        /// Records were marked restricted or objected to, or the marks lifted.
        Restriction => "RESTRICTION",
    }
}

/// The sort key of the review queue and the due filters: effective due date, then id.
pub(crate) fn due_sort_key(due: Option<NaiveDate>, id: Uuid) -> String {
    match due {
        Some(d) => format!("{}/{id}", d.format("%Y-%m-%d")),
        None => format!("9999-12-31/{id}"),
    }
}

/// Stored forms of the states that count against the deadline (open ones).
pub(crate) fn open_states() -> Vec<&'static str> {
    RequestState::ALL
        .iter()
        .filter(|s| s.is_open())
        .map(|s| s.as_str())
        .collect()
}

/// The deadline that applies to a stored request (see [`RequestView::effective_due_date`]).
pub(crate) fn effective_due_date(r: &subject_request::Model) -> Option<NaiveDate> {
    view::effective_due_date(r.due_date, r.extended_due_date)
}

/// The request with this id in the caller's organization, or NOT_FOUND.
pub(crate) async fn find_request<C: Conn>(
    conn: &C,
    org_id: Uuid,
    id: Uuid,
) -> Result<subject_request::Model> {
    use subject_request::Column as C;
    crate::register::find_in_org::<subject_request::Entity, _>(
        conn,
        (C::OrgId, C::Id),
        org_id,
        id,
        "request",
    )
    .await
}

/// [`find_request`] with the row locked for the rest of the transaction
/// (`SELECT ... FOR UPDATE`; SQLite has one writer anyway), read fresh: nothing can
/// change the request between this read and the caller's versioned update.
pub(crate) async fn find_request_locked<C: Conn>(
    conn: &C,
    org_id: Uuid,
    id: Uuid,
) -> Result<subject_request::Model> {
    lock_request(conn, org_id, id, false).await
}

/// [`find_request_locked`] for work that is done again when it is lost: the
/// transaction commits without waiting for the disk
/// ([`crate::core::store::redo_if_lost`]).
pub(crate) async fn find_request_locked_redone_if_lost<C: Conn>(
    conn: &C,
    org_id: Uuid,
    id: Uuid,
) -> Result<subject_request::Model> {
    lock_request(conn, org_id, id, true).await
}

async fn lock_request<C: Conn>(
    conn: &C,
    org_id: Uuid,
    id: Uuid,
    redo_if_lost: bool,
) -> Result<subject_request::Model> {
    use sea_orm::QuerySelect;
    use subject_request::Column as C;
    let select = subject_request::Entity::find()
        .filter(C::OrgId.eq(org_id))
        .filter(C::Id.eq(id))
        .lock_exclusive();
    let select = if redo_if_lost {
        crate::core::store::redo_if_lost(conn.get_database_backend(), select)
    } else {
        select
    };
    select
        .one(conn)
        .await?
        .ok_or(Error::NotFound { what: "request" })
}

/// CONFLICT unless the client saw the current version.
pub(crate) fn check_version(r: &subject_request::Model, expected: i32) -> Result<()> {
    if r.version == expected {
        Ok(())
    } else {
        Err(stale(r.version, expected))
    }
}

fn stale(current: i32, expected: i32) -> Error {
    Error::Conflict(format!(
        "the request was changed meanwhile (it is at version {current}, you sent {expected}): reload it and decide again"
    ))
}

/// CONFLICT when another reviewer has claimed the request: only the claimer decides.
pub(crate) fn ensure_not_claimed_by_other(
    r: &subject_request::Model,
    principal: &Principal,
) -> Result<()> {
    match r.claimed_by {
        Some(claimer) if claimer != principal.key_id => Err(Error::Conflict(
            "another reviewer has claimed this request; ask them or wait until they release it"
                .into(),
        )),
        _ => Ok(()),
    }
}

/// Writes `active` if the row is still at `expected` version, bumping the version
/// (`UPDATE ... WHERE id = ? AND version = ?`); CONFLICT when someone else won.
pub(crate) async fn update_versioned<C: Conn>(
    conn: &C,
    mut active: subject_request::ActiveModel,
    expected: i32,
) -> Result<subject_request::Model> {
    active.version = Set(expected + 1);
    active.updated_at = Set(now());
    let id = active.id.clone().unwrap();
    let result = subject_request::Entity::update_many()
        .set(active.clone())
        .filter(subject_request::Column::Id.eq(id))
        .filter(subject_request::Column::Version.eq(expected))
        .exec(conn)
        .await?;
    if result.rows_affected == 0 {
        return Err(stale(expected + 1, expected));
    }
    Ok(active.try_into_model()?)
}

/// One timeline entry to append.
pub(crate) struct TimelineEntry {
    pub kind: TimelineKind,
    pub transition: Option<Transition>,
    pub message: Option<String>,
}

impl TimelineEntry {
    pub(crate) fn note(kind: TimelineKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            transition: None,
            message: Some(message.into()),
        }
    }
}

/// A row of a request's timeline.
fn timeline_row(
    principal: &Principal,
    request_id: Uuid,
    entry: TimelineEntry,
    at: DateTime<Utc>,
) -> request_event::Model {
    request_event::Model {
        id: new_id(),
        org_id: principal.org_id,
        request_id,
        kind: entry.kind.as_str().to_owned(),
        event: entry.transition.map(|t| t.event.as_str().to_owned()),
        from_state: entry.transition.map(|t| t.from.as_str().to_owned()),
        to_state: entry.transition.map(|t| t.to.as_str().to_owned()),
        actor_id: Some(principal.key_id),
        actor_name: principal.key_name.clone(),
        message: entry.message,
        at,
    }
}

/// What the audit trail keeps of a request (no personal data: its digest only).
pub(crate) fn request_state(r: &subject_request::Model) -> serde_json::Value {
    json!({"kind": r.kind, "state": r.state, "version": r.version, "dueDate": r.due_date,
           "extendedDueDate": r.extended_due_date, "assigneeId": r.assignee_id,
           "claimedBy": r.claimed_by, "isTest": r.is_test})
}

impl crate::Workflow {
    /// Appends `entry` to the timeline of `request` (as it is after the change) and
    /// raises the change for subscribers; the caller commits.
    pub(crate) async fn record_change(
        &self,
        tx: &mut crate::core::store::Tx,
        principal: &Principal,
        request: &subject_request::Model,
        entry: TimelineEntry,
        was_in_review: bool,
    ) -> Result<()> {
        let received = entry.kind == TimelineKind::Received;
        self.queue_request_webhooks(tx.conn(), request, received, entry.transition.as_ref())
            .await?;
        let entry = timeline_row(principal, request.id, entry, now());
        tx.append_timeline(entry.clone().into_active_model());
        // A row that does not read back (hand-edited data) is not raised: the change
        // itself stands, subscribers just do not see it.
        match (
            RequestView::try_from(request.clone()),
            TimelineEntryView::try_from(entry),
        ) {
            (Ok(request), Ok(entry)) => tx.raise(crate::DomainEvent::RequestChanged(Box::new(
                RequestChange {
                    request,
                    entry,
                    was_in_review,
                },
            ))),
            (Err(e), _) | (_, Err(e)) => {
                tracing::warn!(request_id = %request.id, error = %e, "request change not raised");
            }
        }
        Ok(())
    }

    /// A reviewer's decision on the collected data (a redaction, a dismissed
    /// finding): the request's version moves, so an approval of what the reviewer saw
    /// before conflicts, and the timeline says what was decided. The caller commits.
    pub(crate) async fn review_decision(
        &self,
        tx: &mut crate::core::store::Tx,
        principal: &Principal,
        request: subject_request::Model,
        message: String,
    ) -> Result<subject_request::Model> {
        let expected = request.version;
        let updated = update_versioned(tx.conn(), request.into_active_model(), expected).await?;
        self.note(tx, principal, &updated, TimelineKind::Redaction, message)
            .await?;
        Ok(updated)
    }

    /// Requires `request:read` and reads the organization's request (NOT_FOUND for
    /// another organization's): the start of every read about one request.
    pub(crate) async fn readable_request(
        &self,
        principal: &Principal,
        request_id: Uuid,
    ) -> Result<subject_request::Model> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                crate::Object::Request,
                crate::Action::Read,
            )
            .await?;
        find_request(self.store.conn(), principal.org_id, request_id).await
    }

    /// A timeline note about a change that left the state as it was.
    pub(crate) async fn note(
        &self,
        tx: &mut crate::core::store::Tx,
        principal: &Principal,
        request: &subject_request::Model,
        kind: TimelineKind,
        message: String,
    ) -> Result<()> {
        let in_review = request.state == RequestState::InReview.as_str();
        self.record_change(
            tx,
            principal,
            request,
            TimelineEntry::note(kind, message),
            in_review,
        )
        .await
    }

    /// [`Self::note`], then commits with a successful audit entry of `operation`.
    pub(crate) async fn commit_note(
        &self,
        mut tx: crate::core::store::Tx,
        principal: &Principal,
        request: &subject_request::Model,
        kind: TimelineKind,
        message: String,
        operation: &str,
    ) -> Result<()> {
        self.note(&mut tx, principal, request, kind, message)
            .await?;
        self.commit_audited(
            tx,
            principal,
            crate::access::audit::Entry::success(operation, "SubjectRequest", request.id),
        )
        .await
    }
}
