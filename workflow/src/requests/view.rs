//! Typed views of a request and what belongs to it, as the API shows them: stored
//! strings parsed once, here (an unknown one is an INTERNAL error, which only
//! hand-edited data can produce), and the rules that derive from a request (its
//! effective deadline, whether it is open or overdue, the events its state allows)
//! computed in one place.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use entity::{request_event, request_task, subject_identity, subject_request};

use super::machine::{self, RequestEvent, RequestKind, RequestState};
use super::review::QueueChange;
use super::{
    Channel, DeadlineBasis, RejectionGround, TaskKind, TaskState, TimelineKind, VerificationMethod,
};
use crate::access::principal::WORKER_ID;
use crate::error::{Error, Result};
use crate::register::fields::IdentityType;

/// Parses an optional stored string.
fn parse_opt<T: std::str::FromStr<Err = Error>>(s: Option<&str>) -> Result<Option<T>> {
    s.map(str::parse).transpose()
}

/// Converts stored rows to their views.
pub(crate) fn views<M, V: TryFrom<M, Error = Error>>(rows: Vec<M>) -> Result<Vec<V>> {
    rows.into_iter().map(V::try_from).collect()
}

/// A data-subject request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestView {
    /// Its id.
    pub id: Uuid,
    /// The organization it belongs to.
    pub org_id: Uuid,
    /// The data subject (whose identities are known).
    pub subject_id: Uuid,
    /// What is asked for.
    pub kind: RequestKind,
    /// Where it stands.
    pub state: RequestState,
    /// How it arrived.
    pub channel: Channel,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// From when the deadline runs, as configured when it arrived.
    pub deadline_basis: DeadlineBasis,
    /// The day the deadline started (none until verification when it runs from there).
    pub deadline_start: Option<NaiveDate>,
    /// The Art. 12(3) deadline.
    pub due_date: Option<NaiveDate>,
    /// The extended deadline, if extended.
    pub extended_due_date: Option<NaiveDate>,
    /// Why the deadline was extended.
    pub extension_reason: Option<String>,
    /// Keyset position in the review queue (effective due date, then id).
    pub due_sort_key: String,
    /// The API key it is assigned to.
    pub assignee_id: Option<Uuid>,
    /// The reviewer's API key that claimed it in the review queue.
    pub claimed_by: Option<Uuid>,
    /// When it was claimed.
    pub claimed_at: Option<DateTime<Utc>>,
    /// A test request.
    pub is_test: bool,
    /// Optimistic locking: every change increments it.
    pub version: i32,
    /// The request as received, verbatim.
    pub request_text: Option<String>,
    /// An open request of the same kind by the same subject this one possibly duplicates.
    pub duplicate_of: Option<Uuid>,
    /// More requests by this subject within 12 months than the threshold.
    pub possibly_excessive: bool,
    /// When the identity was verified.
    pub verified_at: Option<DateTime<Utc>>,
    /// How it was verified.
    pub verification_method: Option<VerificationMethod>,
    /// What staff checked.
    pub verification_evidence: Option<String>,
    /// The API key that submitted it for review (may not approve it).
    pub submitted_for_review_by: Option<Uuid>,
    /// Why it was refused.
    pub rejection_ground: Option<RejectionGround>,
    /// Reason given with the last transition that needed one.
    pub state_reason: Option<String>,
    /// When the state last changed.
    pub state_changed_at: DateTime<Utc>,
    /// When it was created here.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl RequestView {
    /// The deadline that applies: the extended one if the deadline was extended.
    pub fn effective_due_date(&self) -> Option<NaiveDate> {
        effective_due_date(self.due_date, self.extended_due_date)
    }

    /// Whether the deadline still runs for it (not done, refused or withdrawn).
    pub fn is_open(&self) -> bool {
        self.state.is_open()
    }

    /// Whether it is open and its effective deadline ended before `today`, the
    /// organization's local day (see [`super::LocalClock::today`]), not UTC's.
    pub fn is_overdue(&self, today: NaiveDate) -> bool {
        self.is_open() && self.effective_due_date().is_some_and(|d| d < today)
    }

    /// The events its state allows for its kind (permissions and guards aside).
    pub fn allowed_events(&self) -> Vec<RequestEvent> {
        machine::allowed_events(self.state, self.kind)
    }

    /// Whether it waits in the review queue.
    pub fn is_in_review(&self) -> bool {
        self.state == RequestState::InReview
    }
}

/// The deadline that applies: the extended one if the deadline was extended.
pub(crate) fn effective_due_date(
    due: Option<NaiveDate>,
    extended: Option<NaiveDate>,
) -> Option<NaiveDate> {
    extended.or(due)
}

impl TryFrom<subject_request::Model> for RequestView {
    type Error = Error;
    fn try_from(m: subject_request::Model) -> Result<Self> {
        Ok(Self {
            kind: m.kind.parse()?,
            state: m.state.parse()?,
            channel: m.channel.parse()?,
            deadline_basis: m.deadline_basis.parse()?,
            verification_method: parse_opt(m.verification_method.as_deref())?,
            rejection_ground: parse_opt(m.rejection_ground.as_deref())?,
            id: m.id,
            org_id: m.org_id,
            subject_id: m.subject_id,
            received_at: m.received_at,
            deadline_start: m.deadline_start,
            due_date: m.due_date,
            extended_due_date: m.extended_due_date,
            extension_reason: m.extension_reason,
            due_sort_key: m.due_sort_key,
            assignee_id: m.assignee_id,
            claimed_by: m.claimed_by,
            claimed_at: m.claimed_at,
            is_test: m.is_test,
            version: m.version,
            request_text: m.request_text,
            duplicate_of: m.duplicate_of,
            possibly_excessive: m.possibly_excessive,
            verified_at: m.verified_at,
            verification_evidence: m.verification_evidence,
            submitted_for_review_by: m.submitted_for_review_by,
            state_reason: m.state_reason,
            state_changed_at: m.state_changed_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// One way a data subject can be identified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityView {
    /// The identity.
    pub id: Uuid,
    /// The data subject.
    pub subject_id: Uuid,
    /// Kind of identifier.
    pub kind: IdentityType,
    /// Canonical value (what matching, filters and duplicate detection compare).
    pub value: String,
    /// The value as the requester first gave it.
    pub value_as_given: String,
    /// When it was verified.
    pub verified_at: Option<DateTime<Utc>>,
    /// How it was verified.
    pub verification_method: Option<VerificationMethod>,
}

impl TryFrom<subject_identity::Model> for IdentityView {
    type Error = Error;
    fn try_from(m: subject_identity::Model) -> Result<Self> {
        Ok(Self {
            kind: m.kind.parse()?,
            verification_method: parse_opt(m.verification_method.as_deref())?,
            id: m.id,
            subject_id: m.subject_id,
            value: m.value,
            value_as_given: m.value_as_given,
            verified_at: m.verified_at,
        })
    }
}

/// A collection or execution job of a request in one data source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskView {
    /// Its id.
    pub id: Uuid,
    /// The request.
    pub request_id: Uuid,
    /// The data source.
    pub source_id: Uuid,
    /// Collect or execute.
    pub kind: TaskKind,
    /// Where it stands.
    pub state: TaskState,
    /// A note of who completed it.
    pub note: Option<String>,
    /// What went wrong, if it failed.
    pub error: Option<String>,
    /// The API key that completed it (none when the collection engine did).
    pub completed_by: Option<Uuid>,
    /// Whether the collection engine completed it.
    pub completed_by_worker: bool,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// How often it was attempted.
    pub attempts: i32,
    /// Whether a worker collects it (MANUAL sources are searched by a steward).
    pub automatic: bool,
    /// Until when a worker holds it.
    pub lease_until: Option<DateTime<Utc>>,
    /// The last sign of life of the worker holding it.
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// Not retried before this time (backoff after a failed attempt).
    pub retry_after: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<request_task::Model> for TaskView {
    type Error = Error;
    fn try_from(m: request_task::Model) -> Result<Self> {
        Ok(Self {
            kind: m.kind.parse()?,
            state: m.state.parse()?,
            completed_by: m.completed_by.filter(|k| *k != WORKER_ID),
            completed_by_worker: m.completed_by == Some(WORKER_ID),
            id: m.id,
            request_id: m.request_id,
            source_id: m.source_id,
            note: m.note,
            error: m.error,
            completed_at: m.completed_at,
            attempts: m.attempts,
            automatic: m.automatic,
            lease_until: m.lease_until,
            heartbeat_at: m.heartbeat_at,
            retry_after: m.run_after,
            created_at: m.created_at,
        })
    }
}

/// One entry of a request's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineEntryView {
    /// Its id.
    pub id: Uuid,
    /// The request.
    pub request_id: Uuid,
    /// What it records.
    pub kind: TimelineKind,
    /// The state-machine event (transitions only).
    pub event: Option<RequestEvent>,
    /// State before (transitions only).
    pub from_state: Option<RequestState>,
    /// State after (transitions only).
    pub to_state: Option<RequestState>,
    /// The acting API key.
    pub actor_id: Option<Uuid>,
    /// Name of the acting API key.
    pub actor_name: String,
    /// Reason, comment or details.
    pub message: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl TryFrom<request_event::Model> for TimelineEntryView {
    type Error = Error;
    fn try_from(m: request_event::Model) -> Result<Self> {
        Ok(Self {
            kind: m.kind.parse()?,
            event: parse_opt(m.event.as_deref())?,
            from_state: parse_opt(m.from_state.as_deref())?,
            to_state: parse_opt(m.to_state.as_deref())?,
            id: m.id,
            request_id: m.request_id,
            actor_id: m.actor_id,
            actor_name: m.actor_name,
            message: m.message,
            at: m.at,
        })
    }
}

/// A committed change of a request, as subscribers see it.
#[derive(Debug, Clone)]
pub struct RequestChange {
    /// The request after the change.
    pub request: RequestView,
    /// The timeline entry of the change.
    pub entry: TimelineEntryView,
    /// The request was in the review queue (IN_REVIEW) before the change.
    pub was_in_review: bool,
}

impl RequestChange {
    /// How the change moved the request in or out of the review queue (none: it
    /// was not in review before and is not now).
    pub fn queue_change(&self) -> Option<QueueChange> {
        QueueChange::of(self.was_in_review, self.request.is_in_review())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::requests::RequestSettings;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn stored(state: &str, due: &str) -> subject_request::Model {
        let t = at("2026-11-01T00:30:00+01:00");
        subject_request::Model {
            id: Uuid::from_u128(1),
            org_id: Uuid::from_u128(2),
            subject_id: Uuid::from_u128(3),
            kind: "ACCESS".into(),
            state: state.into(),
            channel: "WEB_FORM".into(),
            received_at: t,
            deadline_basis: "RECEIPT".into(),
            deadline_start: Some(t.date_naive()),
            due_date: Some(day(due)),
            extended_due_date: None,
            extension_reason: None,
            extended_at: None,
            due_sort_key: String::new(),
            assignee_id: None,
            claimed_by: None,
            claimed_at: None,
            is_test: false,
            version: 1,
            request_text: None,
            idempotency_key: None,
            duplicate_of: None,
            possibly_excessive: false,
            verified_at: None,
            verification_method: None,
            verification_evidence: None,
            submitted_for_review_by: None,
            rejection_ground: None,
            state_reason: None,
            state_changed_at: t,
            created_by: None,
            created_at: t,
            updated_at: t,
        }
    }

    #[test]
    fn a_request_is_overdue_from_the_organizations_next_local_day() {
        let request = RequestView::try_from(stored("COLLECTING", "2026-12-01")).unwrap();
        let clock = RequestSettings::default().clock();
        let overdue_at = |instant: &str| request.is_overdue(clock.date_of(at(instant)));
        assert!(
            !overdue_at("2026-12-01T22:59:59Z"),
            "still 1 December in Berlin"
        );
        assert!(
            overdue_at("2026-12-01T23:00:00Z"),
            "already 2 December in Berlin"
        );
        // In UTC, 23:30 on 1 December is still the due day, yet it is overdue.
        assert_eq!(at("2026-12-01T23:30:00Z").date_naive(), day("2026-12-01"));
        assert!(overdue_at("2026-12-01T23:30:00Z"));
    }

    #[test]
    fn only_open_requests_are_overdue_and_an_extension_moves_the_deadline() {
        let today = day("2027-01-10");
        for (state, open) in [
            ("RECEIVED", true),
            ("IN_REVIEW", true),
            ("CLOSED", false),
            ("REJECTED", false),
            ("CANCELLED", false),
        ] {
            let r = RequestView::try_from(stored(state, "2026-12-01")).unwrap();
            assert_eq!(r.is_open(), open, "{state}");
            assert_eq!(r.is_overdue(today), open, "{state}");
        }
        let mut m = stored("COLLECTING", "2026-12-01");
        m.extended_due_date = Some(day("2027-02-01"));
        let r = RequestView::try_from(m).unwrap();
        assert_eq!(r.effective_due_date(), Some(day("2027-02-01")));
        assert!(!r.is_overdue(today), "the extended deadline applies");
        assert!(r.is_overdue(day("2027-02-02")));
    }

    #[test]
    fn allowed_events_follow_the_state_machine() {
        let r = RequestView::try_from(stored("IN_REVIEW", "2026-12-01")).unwrap();
        assert_eq!(
            r.allowed_events(),
            machine::allowed_events(RequestState::InReview, RequestKind::Access)
        );
        assert!(r.allowed_events().contains(&RequestEvent::Approve));
        assert!(r.is_in_review());
    }

    #[test]
    fn unknown_stored_values_are_internal_errors_not_panics() {
        type Spoil = fn(&mut subject_request::Model);
        let cases: [(&str, Spoil); 6] = [
            ("kind", |m| m.kind = "ACCES".into()),
            ("state", |m| m.state = "open".into()),
            ("channel", |m| m.channel = "FAX".into()),
            ("deadline basis", |m| m.deadline_basis = "".into()),
            ("verification method", |m| {
                m.verification_method = Some("PASSPORT".into())
            }),
            ("rejection ground", |m| {
                m.rejection_ground = Some("BORED".into())
            }),
        ];
        for (what, spoil) in cases {
            let mut m = stored("RECEIVED", "2026-12-01");
            spoil(&mut m);
            let err = RequestView::try_from(m).expect_err(what);
            assert_eq!(err.code(), ErrorCode::Internal, "{what}: {err}");
        }
        let task = request_task::Model {
            id: Uuid::from_u128(5),
            org_id: Uuid::from_u128(2),
            request_id: Uuid::from_u128(1),
            source_id: Uuid::from_u128(6),
            kind: "COLLECT".into(),
            state: "RUNNING".into(),
            note: None,
            error: None,
            completed_by: None,
            completed_at: None,
            lease_owner: None,
            lease_until: None,
            attempts: 0,
            heartbeat_at: None,
            run_after: None,
            automatic: true,
            created_at: at("2026-11-01T00:00:00Z"),
            updated_at: at("2026-11-01T00:00:00Z"),
        };
        let err = TaskView::try_from(task).expect_err("task state");
        assert_eq!(err.code(), ErrorCode::Internal);
        let entry = request_event::Model {
            id: Uuid::from_u128(7),
            org_id: Uuid::from_u128(2),
            request_id: Uuid::from_u128(1),
            kind: "TRANSITION".into(),
            event: Some("APPROVE".into()),
            from_state: Some("IN_REVIEW".into()),
            to_state: Some("DONE".into()),
            actor_id: None,
            actor_name: "x".into(),
            message: None,
            at: at("2026-11-01T00:00:00Z"),
        };
        let err = TimelineEntryView::try_from(entry).expect_err("to state");
        assert_eq!(err.code(), ErrorCode::Internal);
        let identity = subject_identity::Model {
            id: Uuid::from_u128(8),
            org_id: Uuid::from_u128(2),
            subject_id: Uuid::from_u128(3),
            kind: "FAX".into(),
            value: "x".into(),
            value_as_given: "x".into(),
            verified_at: None,
            verification_method: None,
            created_at: at("2026-11-01T00:00:00Z"),
        };
        let err = IdentityView::try_from(identity).expect_err("identity kind");
        assert_eq!(err.code(), ErrorCode::Internal);
    }

    #[test]
    fn tasks_tell_the_worker_from_the_key_that_completed_them() {
        let key = Uuid::from_u128(9);
        let task = |completed_by: Option<Uuid>| request_task::Model {
            id: Uuid::from_u128(5),
            org_id: Uuid::from_u128(2),
            request_id: Uuid::from_u128(1),
            source_id: Uuid::from_u128(6),
            kind: "COLLECT".into(),
            state: "DONE".into(),
            note: None,
            error: None,
            completed_by,
            completed_at: None,
            lease_owner: None,
            lease_until: None,
            attempts: 1,
            heartbeat_at: None,
            run_after: None,
            automatic: true,
            created_at: at("2026-11-01T00:00:00Z"),
            updated_at: at("2026-11-01T00:00:00Z"),
        };
        let by_worker = TaskView::try_from(task(Some(WORKER_ID))).unwrap();
        assert!(by_worker.completed_by_worker);
        assert_eq!(by_worker.completed_by, None);
        let by_key = TaskView::try_from(task(Some(key))).unwrap();
        assert!(!by_key.completed_by_worker);
        assert_eq!(by_key.completed_by, Some(key));
    }
}
