//! Firing state-machine events against stored requests: authorize the event's
//! action, check the version, apply the pure machine, write the side effects, and
//! commit with the timeline entry and the audit event in one transaction.

use std::collections::BTreeSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use entity::{data_field, data_source, request_task, subject_identity, subject_request};

use super::machine::{self, Context, RequestEvent, RequestKind, RequestState, TransitionError};
use super::tasks::{TaskKind, TaskState};
use super::view::RequestView;
use super::{
    DeadlineBasis, RejectionGround, TimelineEntry, TimelineKind, VerificationMethod, settings,
};
use crate::access::audit::Entry;
use crate::access::authz::Object;
use crate::access::principal::Principal;
use crate::connectors::ConnectorKind;
use crate::core::outbox;
use crate::core::store::{Conn, Tx};
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

/// An event to fire at a request the caller saw at `version`.
#[derive(Debug, Clone)]
pub struct Fire {
    /// The request.
    pub request_id: Uuid,
    /// The version the caller decided on; CONFLICT if it moved on meanwhile.
    pub version: i32,
    /// The event.
    pub event: RequestEvent,
    /// Reason (required for REJECT, FAIL_VERIFICATION, REQUEST_CHANGES).
    pub reason: Option<String>,
    /// Ground of a rejection (REJECT); FAIL_VERIFICATION implies IDENTITY_NOT_VERIFIED.
    pub ground: Option<RejectionGround>,
}

/// How the identity was verified, when firing CONFIRM_IDENTITY.
#[derive(Debug, Clone)]
pub(crate) struct Verified {
    pub method: VerificationMethod,
    pub evidence: Option<String>,
    /// The identity a code was sent to, if that was the method.
    pub identity_id: Option<Uuid>,
}

/// One item of a bulk action.
#[derive(Debug)]
pub struct BulkOutcome {
    /// The request the item was about.
    pub request_id: Uuid,
    /// The request after the action, or why the action did not apply to it.
    pub result: Result<RequestView>,
}

impl From<TransitionError> for Error {
    fn from(err: TransitionError) -> Self {
        let message = err.to_string();
        match err {
            TransitionError::NotAllowed { state, allowed, .. }
            | TransitionError::Guard { state, allowed, .. } => Error::InvalidTransition {
                message,
                state: state.as_str().to_owned(),
                allowed: allowed.iter().map(|e| e.as_str().to_owned()).collect(),
            },
            TransitionError::FourEyes => Error::NotPermitted(message),
            TransitionError::ReasonRequired(_) => Error::invalid(&["input", "reason"], message),
        }
    }
}

/// The sources a request collects from: every source with at least one mapped field,
/// with whether a worker reaches it (every kind but MANUAL).
async fn mapped_sources<C: Conn>(conn: &C, org_id: Uuid) -> Result<Vec<(Uuid, bool)>> {
    let mapped: Vec<Uuid> = data_field::Entity::find()
        .select_only()
        .column(data_field::Column::SourceId)
        .distinct()
        .filter(data_field::Column::OrgId.eq(org_id))
        .order_by_asc(data_field::Column::SourceId)
        .into_tuple()
        .all(conn)
        .await?;
    let kinds: Vec<(Uuid, String)> = data_source::Entity::find()
        .select_only()
        .column(data_source::Column::Id)
        .column(data_source::Column::ConnectorKind)
        .filter(data_source::Column::OrgId.eq(org_id))
        .filter(data_source::Column::Id.is_in(mapped.iter().copied()))
        .into_tuple()
        .all(conn)
        .await?;
    mapped
        .into_iter()
        .map(|id| {
            let kind = kinds
                .iter()
                .find(|(k, _)| *k == id)
                .ok_or(Error::Internal(format!(
                    "source {id} of a mapped field is missing"
                )))?
                .1
                .parse::<ConnectorKind>()?;
            Ok((id, kind != ConnectorKind::Manual))
        })
        .collect()
}

/// Creates the tasks of `kind` for every mapped source, unless they exist.
async fn create_tasks<C: Conn>(
    conn: &C,
    r: &subject_request::Model,
    kind: TaskKind,
) -> Result<usize> {
    let existing = request_task::Entity::find()
        .filter(request_task::Column::RequestId.eq(r.id))
        .filter(request_task::Column::Kind.eq(kind.as_str()))
        .count(conn)
        .await?;
    if existing > 0 {
        return Ok(0);
    }
    let mut sources = mapped_sources(conn, r.org_id).await?;
    if sources.is_empty() {
        return Ok(0);
    }
    if kind == TaskKind::Execute {
        // Carried out by a worker where it can (see `execution::automatic`), by
        // hand elsewhere.
        let request_kind: RequestKind = r.kind.parse()?;
        let corrected = crate::execution::rectification::corrected_sources(conn, r.id).await?;
        let models = data_source::Entity::find()
            .filter(data_source::Column::OrgId.eq(r.org_id))
            .filter(data_source::Column::Id.is_in(sources.iter().map(|s| s.0)))
            .all(conn)
            .await?;
        for (id, automatic) in &mut sources {
            *automatic = models
                .iter()
                .find(|m| m.id == *id)
                .is_some_and(|m| crate::execution::automatic(request_kind, m, &corrected));
        }
    }
    let at = now();
    let tasks = sources
        .iter()
        .map(|&(source_id, automatic)| request_task::ActiveModel {
            id: Set(new_id()),
            org_id: Set(r.org_id),
            request_id: Set(r.id),
            source_id: Set(source_id),
            kind: Set(kind.as_str().to_owned()),
            state: Set(TaskState::Open.as_str().to_owned()),
            note: Set(None),
            error: Set(None),
            completed_by: Set(None),
            completed_at: Set(None),
            lease_owner: Set(None),
            lease_until: Set(None),
            attempts: Set(0),
            heartbeat_at: Set(None),
            run_after: Set(None),
            automatic: Set(automatic),
            created_at: Set(at),
            updated_at: Set(at),
        });
    request_task::Entity::insert_many(tasks).exec(conn).await?;
    Ok(sources.len())
}

/// Tasks of `kind` of the request that are not done, and who completed the rest.
async fn task_facts<C: Conn>(
    conn: &C,
    request_id: Uuid,
    kind: TaskKind,
) -> Result<(usize, Vec<Uuid>)> {
    let tasks = request_task::Entity::find()
        .filter(request_task::Column::RequestId.eq(request_id))
        .filter(request_task::Column::Kind.eq(kind.as_str()))
        .all(conn)
        .await?;
    let open = tasks
        .iter()
        .filter(|t| t.state != TaskState::Done.as_str())
        .count();
    let done_by = tasks
        .iter()
        .filter_map(|t| t.completed_by)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    Ok((open, done_by))
}

impl Workflow {
    /// Fires a state-machine event at a request.
    #[tracing::instrument(skip(self, fire), fields(org = %principal.org_id, event = fire.event.as_str()), err(level = "debug"))]
    pub async fn fire(&self, principal: &Principal, fire: Fire) -> Result<RequestView> {
        let mut tx = self.store.begin().await?;
        let r = super::find_request(tx.conn(), principal.org_id, fire.request_id).await?;
        super::check_version(&r, fire.version)?;
        let (updated, audit) = self
            .transition_in(
                &mut tx,
                principal,
                r,
                fire.event,
                fire.reason,
                fire.ground,
                None,
            )
            .await?;
        if fire.event == RequestEvent::Dispatch {
            // Allowed, but the channel and the proof come with it: the transaction is
            // dropped (nothing written) and the caller is sent to `dispatch`.
            return Err(Error::invalid(
                &["input", "channel"],
                "a dispatch names its channel: use dispatchRequest",
            ));
        }
        self.commit_audited(tx, principal, audit).await?;
        updated.try_into()
    }

    /// The core of every transition, inside the caller's transaction (the caller
    /// commits with the returned audit entry). `r` is the request as read in `tx`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn transition_in(
        &self,
        tx: &mut Tx,
        principal: &Principal,
        r: subject_request::Model,
        event: RequestEvent,
        reason: Option<String>,
        ground: Option<RejectionGround>,
        verified: Option<Verified>,
    ) -> Result<(subject_request::Model, Entry)> {
        // Once an erasure changed a source, the request is answered, not withdrawn:
        // the subject is told what was done (and the recipients, Art. 19).
        if event == RequestEvent::Cancel && r.state == RequestState::Executing.as_str() {
            let carried = entity::erasure_outcome::Entity::find()
                .filter(entity::erasure_outcome::Column::RequestId.eq(r.id))
                .filter(entity::erasure_outcome::Column::CarriedOutAt.is_not_null())
                .one(tx.conn())
                .await?;
            if carried.is_some() {
                return Err(Error::Conflict(
                    "the erasure was carried out in a source already: the request cannot be \
                     cancelled; finish it and dispatch the notice"
                        .to_owned(),
                ));
            }
        }
        let open_tasks = match event {
            RequestEvent::SubmitForReview => {
                task_facts(tx.conn(), r.id, TaskKind::Collect).await?.0
            }
            RequestEvent::Dispatch => task_facts(tx.conn(), r.id, TaskKind::Execute).await?.0,
            _ => 0,
        };
        self.transition_counted(
            tx, principal, r, event, reason, ground, verified, open_tasks, None,
        )
        .await
    }

    /// [`Self::transition_in`] for a caller that has just counted the request's open
    /// tasks of the kind the event needs done (collection before review, execution
    /// before dispatch) in the same transaction; `scan` is what such a caller holds
    /// already of what the leak scan on the way to review reads.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn transition_counted(
        &self,
        tx: &mut Tx,
        principal: &Principal,
        r: subject_request::Model,
        event: RequestEvent,
        reason: Option<String>,
        ground: Option<RejectionGround>,
        verified: Option<Verified>,
        open_tasks: usize,
        scan: Option<crate::collection::leaks::Known<'_>>,
    ) -> Result<(subject_request::Model, Entry)> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Request,
                event.action(),
            )
            .await?;
        let mut v = Validator::default();
        let reason = v.optional_text(reason, &["input", "reason"], 5000);
        v.finish()?;
        let state: RequestState = r.state.parse()?;
        let kind: RequestKind = r.kind.parse()?;
        let conn = tx.conn();
        let (_, collected_by) = if event == RequestEvent::Approve {
            task_facts(conn, r.id, TaskKind::Collect).await?
        } else {
            (0, Vec::new())
        };
        let open_findings = if event == RequestEvent::Approve {
            crate::collection::leaks::unresolved(conn, r.id).await?
        } else {
            0
        };
        let ctx = Context {
            actor: principal.key_id,
            kind,
            open_tasks,
            submitted_by: r.submitted_for_review_by,
            collected_by: &collected_by,
            reason: reason.as_deref(),
            open_findings,
        };
        let transition = machine::apply(state, event, &ctx)?;
        // Four-eyes also sees through API keys a person made: a person who collected or
        // submitted cannot approve with a key they minted, nor approve what such a key
        // did (the machine compares principals; this compares the people behind them).
        if event == RequestEvent::Approve {
            let others: Vec<Uuid> = collected_by
                .iter()
                .copied()
                .chain(r.submitted_for_review_by)
                .collect();
            if crate::access::oidc::same_person_behind(conn, principal.key_id, &others).await? {
                return Err(TransitionError::FourEyes.into());
            }
        }
        if state == RequestState::InReview
            && matches!(
                event,
                RequestEvent::Approve | RequestEvent::RequestChanges | RequestEvent::Reject
            )
        {
            super::ensure_not_claimed_by_other(&r, principal)?;
        }
        let at = now();
        let expected = r.version;
        let mut active = r.clone().into_active_model();
        active.state = Set(transition.to.as_str().to_owned());
        active.state_changed_at = Set(at);
        if reason.is_some() {
            active.state_reason = Set(reason.clone());
        }
        if transition.to != RequestState::InReview && transition.to != RequestState::Approved {
            active.claimed_by = Set(None);
            active.claimed_at = Set(None);
        }
        let mut notes: Vec<String> = Vec::new();
        match transition.to {
            RequestState::Collecting if event == RequestEvent::ConfirmIdentity => {
                let verified = verified.unwrap_or(Verified {
                    method: VerificationMethod::Other,
                    evidence: None,
                    identity_id: None,
                });
                active.verified_at = Set(Some(at));
                active.verification_method = Set(Some(verified.method.as_str().to_owned()));
                active.verification_evidence = Set(verified.evidence.clone());
                if r.deadline_basis == DeadlineBasis::Verification.as_str() && r.due_date.is_none()
                {
                    let settings = settings::load(conn, r.org_id).await?;
                    // The organization's local day of verification.
                    let (start, due) = settings.deadline_from(at);
                    active.deadline_start = Set(Some(start));
                    active.due_date = Set(Some(due));
                    active.due_sort_key = Set(super::due_sort_key(Some(due), r.id));
                    notes.push(format!("deadline runs from verification: due {due}"));
                }
                if let Some(identity_id) = verified.identity_id {
                    let mut identity = subject_identity::ActiveModel {
                        id: Set(identity_id),
                        ..Default::default()
                    };
                    identity.verified_at = Set(Some(at));
                    identity.verification_method = Set(Some(verified.method.as_str().to_owned()));
                    identity.update(conn).await?;
                }
                if let Some(e) = &verified.evidence {
                    notes.push(format!("verified by {}: {e}", verified.method.as_str()));
                } else {
                    notes.push(format!("verified by {}", verified.method.as_str()));
                }
            }
            RequestState::InReview => {
                active.submitted_for_review_by = Set(Some(principal.key_id));
                // The leak guard scans everything collected before a reviewer sees it.
                let open = self.scan_leaks(conn, &r, scan).await?;
                if open > 0 {
                    notes.push(format!(
                        "leak guard: {open} finding(s) to redact or dismiss before approval"
                    ));
                }
            }
            RequestState::Rejected => {
                let ground = if event == RequestEvent::FailVerification {
                    RejectionGround::IdentityNotVerified
                } else {
                    ground.unwrap_or(RejectionGround::ManifestlyUnfounded)
                };
                active.rejection_ground = Set(Some(ground.as_str().to_owned()));
            }
            _ => {}
        }
        let updated = super::update_versioned(conn, active, expected).await?;
        match (event, transition.to) {
            (RequestEvent::ConfirmIdentity, RequestState::Collecting) => {
                let n = create_tasks(conn, &updated, TaskKind::Collect).await?;
                notes.push(format!(
                    "{n} collection task(s) created, one per mapped source"
                ));
            }
            (_, RequestState::Executing) => {
                let n = create_tasks(conn, &updated, TaskKind::Execute).await?;
                notes.push(format!(
                    "{n} execution task(s) created, one per mapped source"
                ));
            }
            (RequestEvent::RequestChanges, _) => {
                // What the reviewer saw: the next review shows what changed since.
                let n = self.take_review_baseline(conn, &updated).await?;
                notes.push(format!(
                    "{n} record(s) kept as the baseline to show the next review what changed"
                ));
                if state == RequestState::Approved
                    && self.supersede_answer_in(conn, updated.id).await? > 0
                {
                    notes.push(
                        "the answer package frozen at approval no longer applies; the next approval freezes a new one"
                            .into(),
                    );
                }
            }
            (RequestEvent::Approve, RequestState::Approved) => {
                // The answer is frozen with the approval, in its transaction.
                if let Some(package) = self.freeze_answer_in(conn, principal, &updated).await? {
                    notes.push(format!(
                        "answer package frozen: {} bytes, SHA-256 {}",
                        package.size_bytes, package.digest
                    ));
                }
            }
            (_, RequestState::Rejected) => {
                let why = reason.clone().unwrap_or_default();
                let queued = outbox::notify_subject(
                    conn,
                    &self.cipher,
                    &updated,
                    outbox::Notice::Rejected { reason: &why },
                )
                .await?;
                notes.push(outbox::notice_note(queued));
            }
            _ => {}
        }
        let mut message = reason.clone().unwrap_or_default();
        for n in notes {
            if !message.is_empty() {
                message.push_str("; ");
            }
            message.push_str(&n);
        }
        let entry = TimelineEntry {
            kind: TimelineKind::Transition,
            transition: Some(transition),
            message: (!message.is_empty()).then_some(message),
        };
        self.record_change(
            tx,
            principal,
            &updated,
            entry,
            state == RequestState::InReview,
        )
        .await?;
        let audit = Entry::success(event.operation(), "SubjectRequest", updated.id)
            .before(super::request_state(&r))
            .after(super::request_state(&updated));
        Ok((updated, audit))
    }

    /// Runs `one` for each id in its own transaction; every item gets its own result
    /// and nothing is half-applied for any item. At most 100 ids.
    /// Each item's audit entries are recorded under `operation` (the bulk mutation),
    /// as its denial or failure as a whole would be.
    pub(crate) async fn bulk<F, Fut>(
        &self,
        operation: &'static str,
        ids: &[Uuid],
        one: F,
    ) -> Result<Vec<BulkOutcome>>
    where
        F: Fn(Uuid) -> Fut,
        Fut: std::future::Future<Output = Result<RequestView>>,
    {
        let mut v = Validator::default();
        v.check(
            !ids.is_empty(),
            &["input", "requestIds"],
            "name at least one request",
        );
        v.check(
            ids.len() <= 100,
            &["input", "requestIds"],
            "at most 100 requests at once",
        );
        let distinct: BTreeSet<&Uuid> = ids.iter().collect();
        v.check(
            distinct.len() == ids.len(),
            &["input", "requestIds"],
            "lists a request twice",
        );
        v.finish()?;
        let mut outcomes = Vec::with_capacity(ids.len());
        for id in ids {
            outcomes.push(BulkOutcome {
                request_id: *id,
                result: crate::access::audit::as_part_of(operation, one(*id)).await,
            });
        }
        Ok(outcomes)
    }

    /// Cancels each request (withdrawn by the subject), at its current version.
    pub async fn bulk_cancel(
        &self,
        principal: &Principal,
        ids: &[Uuid],
        reason: Option<String>,
    ) -> Result<Vec<BulkOutcome>> {
        self.bulk("bulkCancel", ids, |id| {
            let reason = reason.clone();
            async move {
                let current = super::find_request(self.store.conn(), principal.org_id, id).await?;
                self.fire(
                    principal,
                    Fire {
                        request_id: id,
                        version: current.version,
                        event: RequestEvent::Cancel,
                        reason,
                        ground: None,
                    },
                )
                .await
            }
        })
        .await
    }
}
