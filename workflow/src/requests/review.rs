//! Legal review and request handling that is no state transition: the review queue,
//! claiming, comments, redactions, assignment and deadline extension.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use uuid::Uuid;

use entity::{api_key, collected_record, redaction, subject_request};

use super::TimelineKind;
use super::machine::RequestState;
use super::view::RequestView;
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::outbox;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::error::{Error, Result, Validator};
use crate::{Workflow, now};

/// How a request's place in the review queue changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueChange {
    /// It entered the queue (submitted for review).
    Entered,
    /// It left the queue (approved, sent back, rejected, cancelled).
    Left,
    /// It is in the queue and changed (claimed, commented, redacted).
    Updated,
}

impl QueueChange {
    /// How a change of a request that was / is in review affects the queue.
    pub fn of(was_in_review: bool, is_in_review: bool) -> Option<Self> {
        match (was_in_review, is_in_review) {
            (false, true) => Some(Self::Entered),
            (true, false) => Some(Self::Left),
            (true, true) => Some(Self::Updated),
            (false, false) => None,
        }
    }
}

impl Workflow {
    /// Requests waiting for review, earliest deadline first.
    pub async fn review_queue(
        &self,
        principal: &Principal,
        page: &PageRequest<String>,
    ) -> Result<Page<RequestView>> {
        use subject_request::Column as C;
        let select = subject_request::Entity::find()
            .filter(C::OrgId.eq(principal.org_id))
            .filter(C::State.eq(RequestState::InReview.as_str()));
        paginate(self.store.conn(), select, C::DueSortKey, page)
            .await?
            .try_map(RequestView::try_from)
    }

    /// Claims a request in review so that no other reviewer works on it.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn claim_request(&self, principal: &Principal, id: Uuid) -> Result<RequestView> {
        let tx = self.store.begin().await?;
        let request = super::find_request(tx.conn(), principal.org_id, id).await?;
        if request.state != RequestState::InReview.as_str() {
            return Err(Error::Conflict(format!(
                "only requests IN_REVIEW can be claimed; this one is {}",
                request.state
            )));
        }
        if request.claimed_by == Some(principal.key_id) {
            return request.try_into();
        }
        use subject_request::Column as C;
        let at = now();
        let claimed = subject_request::Entity::update_many()
            .col_expr(C::ClaimedBy, Expr::value(principal.key_id))
            .col_expr(C::ClaimedAt, Expr::value(at))
            .filter(C::Id.eq(id))
            .filter(C::ClaimedBy.is_null())
            .filter(C::State.eq(RequestState::InReview.as_str()))
            .exec(tx.conn())
            .await?;
        if claimed.rows_affected == 0 {
            return Err(Error::Conflict(
                "another reviewer has claimed this request".into(),
            ));
        }
        let request = super::find_request(tx.conn(), principal.org_id, id).await?;
        self.commit_note(
            tx,
            principal,
            &request,
            TimelineKind::Claimed,
            format!("claimed by {}", principal.key_name),
            "claimRequest",
        )
        .await?;
        request.try_into()
    }

    /// Releases a claim; only the claimer can.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn unclaim_request(&self, principal: &Principal, id: Uuid) -> Result<RequestView> {
        let tx = self.store.begin().await?;
        let request = super::find_request(tx.conn(), principal.org_id, id).await?;
        match request.claimed_by {
            None => return request.try_into(),
            Some(k) if k != principal.key_id => {
                return Err(Error::Conflict(
                    "another reviewer has claimed this request; only they can release it".into(),
                ));
            }
            Some(_) => {}
        }
        // Released only if it is still this reviewer's claim (one conditional statement).
        use subject_request::Column as C;
        let released = subject_request::Entity::update_many()
            .col_expr(C::ClaimedBy, Expr::value(Option::<Uuid>::None))
            .col_expr(
                C::ClaimedAt,
                Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
            )
            .filter(C::Id.eq(id))
            .filter(C::ClaimedBy.eq(principal.key_id))
            .exec(tx.conn())
            .await?;
        if released.rows_affected == 0 {
            return super::find_request(tx.conn(), principal.org_id, id)
                .await?
                .try_into();
        }
        let request = super::find_request(tx.conn(), principal.org_id, id).await?;
        self.commit_note(
            tx,
            principal,
            &request,
            TimelineKind::Unclaimed,
            format!("released by {}", principal.key_name),
            "unclaimRequest",
        )
        .await?;
        request.try_into()
    }

    /// Adds a comment to the timeline. Not on requests whose content is final.
    pub async fn add_request_comment(
        &self,
        principal: &Principal,
        id: Uuid,
        text: String,
    ) -> Result<RequestView> {
        self.comment(
            principal,
            id,
            text,
            TimelineKind::Comment,
            "addRequestComment",
        )
        .await
    }

    /// Adds a reviewer's comment to the timeline (marked as such).
    pub async fn add_review_comment(
        &self,
        principal: &Principal,
        id: Uuid,
        text: String,
    ) -> Result<RequestView> {
        self.comment(
            principal,
            id,
            text,
            TimelineKind::ReviewComment,
            "addReviewComment",
        )
        .await
    }

    #[tracing::instrument(skip(self, text), fields(org = %principal.org_id), err(level = "debug"))]
    async fn comment(
        &self,
        principal: &Principal,
        id: Uuid,
        text: String,
        kind: TimelineKind,
        operation: &str,
    ) -> Result<RequestView> {
        let mut v = Validator::default();
        let text = v.multiline_text(&text, &["input", "text"], 10_000);
        v.finish()?;
        let tx = self.store.begin().await?;
        let request = super::find_request(tx.conn(), principal.org_id, id).await?;
        let state: RequestState = request.state.parse()?;
        if state.content_is_final() {
            return Err(Error::Conflict(format!(
                "the request is {state}: its content is final"
            )));
        }
        self.commit_note(tx, principal, &request, kind, text, operation)
            .await?;
        request.try_into()
    }

    /// Records that a collected record is left out of the answer (applied when the
    /// answer is built), or withdraws that decision (`reason == None`). Only while the
    /// request is IN_REVIEW; changes the request's version. Redacting a redacted
    /// record, or withdrawing a redaction that does not exist, is a conflict.
    #[tracing::instrument(skip(self, reason), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn redact_record(
        &self,
        principal: &Principal,
        record_id: Uuid,
        reason: Option<String>,
    ) -> Result<RequestView> {
        let mut v = Validator::default();
        let reason = reason.map(|r| v.multiline_text(&r, &["input", "reason"], 2000));
        v.finish()?;
        let mut tx = self.store.begin().await?;
        let record = collected_record::Entity::find_by_id(record_id)
            .filter(collected_record::Column::OrgId.eq(principal.org_id))
            .one(tx.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "collected record",
            })?;
        let request = super::find_request(tx.conn(), principal.org_id, record.request_id).await?;
        if request.state != RequestState::InReview.as_str() {
            return Err(Error::Conflict(format!(
                "redactions are decided while the request is IN_REVIEW; it is {}",
                request.state
            )));
        }
        super::ensure_not_claimed_by_other(&request, principal)?;
        let existing = redaction::Entity::find()
            .filter(redaction::Column::RecordId.eq(record.id))
            .one(tx.conn())
            .await?;
        let message = match (&reason, existing) {
            // A decision stands until it is withdrawn: a second redaction would
            // silently replace the reason the first reviewer gave.
            (Some(_), Some(existing)) => {
                return Err(Error::Conflict(format!(
                    "record {} is redacted already ({}); withdraw that redaction first to give another reason",
                    record.id, existing.reason
                )));
            }
            (None, None) => {
                return Err(Error::Conflict(format!(
                    "record {} is not redacted: there is no redaction to withdraw",
                    record.id
                )));
            }
            (None, Some(existing)) => {
                redaction::Entity::delete_many()
                    .filter(redaction::Column::RecordId.eq(record.id))
                    .exec(tx.conn())
                    .await?;
                format!(
                    "redaction of record {} ({}) withdrawn (it said: {})",
                    record.id, record.location, existing.reason
                )
            }
            (Some(reason), None) => {
                crate::collection::leaks::redaction_row(
                    principal,
                    request.id,
                    record.id,
                    reason.clone(),
                    now(),
                )
                .insert(tx.conn())
                .await?;
                format!(
                    "record {} ({}) redacted: {reason}",
                    record.id, record.location
                )
            }
        };
        let updated = self
            .review_decision(&mut tx, principal, request, message)
            .await?;
        self.commit_audited(
            tx,
            principal,
            // The audit names what was done: a withdrawal puts data back into the
            // answer and must not read as one more redaction.
            Entry::success(
                if reason.is_some() {
                    "redactRecord"
                } else {
                    "unredactRecord"
                },
                "CollectedRecord",
                record.id,
            ),
        )
        .await?;
        updated.try_into()
    }

    /// Assigns a request to a person or an API key of the organization, or
    /// unassigns it. A revoked key or a deactivated person is refused.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn assign_request(
        &self,
        principal: &Principal,
        id: Uuid,
        assignee: Option<Uuid>,
    ) -> Result<RequestView> {
        let tx = self.store.begin().await?;
        let request = super::find_request(tx.conn(), principal.org_id, id).await?;
        let name = match assignee {
            Some(actor_id) => Some(assignable_name(tx.conn(), principal.org_id, actor_id).await?),
            None => None,
        };
        if request.state.parse::<RequestState>()?.is_final() {
            return Err(Error::Conflict(format!(
                "the request is {}: nothing to assign",
                request.state
            )));
        }
        let mut active = request.into_active_model();
        active.assignee_id = Set(assignee);
        active.updated_at = Set(now());
        let request = active.update(tx.conn()).await?;
        let message = match name {
            Some(n) => format!("assigned to {n}"),
            None => "unassigned".into(),
        };
        self.commit_note(
            tx,
            principal,
            &request,
            TimelineKind::Assigned,
            message,
            "assignRequest",
        )
        .await?;
        request.try_into()
    }

    /// Assigns each request; each item on its own.
    pub async fn bulk_assign(
        &self,
        principal: &Principal,
        ids: &[Uuid],
        assignee: Option<Uuid>,
    ) -> Result<Vec<super::BulkOutcome>> {
        self.bulk("bulkAssign", ids, |id| async move {
            self.assign_request(principal, id, assignee).await
        })
        .await
    }

    /// Extends the deadline by two further months (Art. 12(3) sentence 2): reason
    /// required, only before the original deadline, once; the subject is told.
    #[tracing::instrument(skip(self, reason), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn extend_deadline(
        &self,
        principal: &Principal,
        id: Uuid,
        version: i32,
        reason: String,
    ) -> Result<RequestView> {
        let mut v = Validator::default();
        let reason = v.multiline_text(&reason, &["input", "reason"], 5000);
        v.finish()?;
        let mut tx = self.store.begin().await?;
        let request = super::find_request(tx.conn(), principal.org_id, id).await?;
        super::check_version(&request, version)?;
        let state: RequestState = request.state.parse()?;
        if !state.is_open() {
            return Err(Error::Conflict(format!(
                "the request is {state}: no deadline runs"
            )));
        }
        if request.extended_due_date.is_some() {
            return Err(Error::Conflict(
                "the deadline was extended already; Art. 12(3) allows one extension of two months"
                    .into(),
            ));
        }
        let (Some(start), Some(due)) = (request.deadline_start, request.due_date) else {
            return Err(Error::Conflict(
                "the deadline has not started yet (it runs from verification)".into(),
            ));
        };
        let settings = super::settings::load(tx.conn(), principal.org_id).await?;
        // The deadline ends with the organization's local day.
        let today = settings.clock().today();
        if today > due {
            return Err(Error::Conflict(format!(
                "the deadline ended on {due}: an extension must be declared before it ends"
            )));
        }
        let extended = settings.calendar().extended_due_date(start);
        let mut active = request.clone().into_active_model();
        active.extended_due_date = Set(Some(extended));
        active.extension_reason = Set(Some(reason.clone()));
        active.extended_at = Set(Some(now()));
        active.due_sort_key = Set(super::due_sort_key(Some(extended), request.id));
        let updated = super::update_versioned(tx.conn(), active, version).await?;
        let sent = outbox::notify_subject(
            tx.conn(),
            &self.cipher,
            &updated,
            outbox::Notice::Extended {
                until: extended,
                reason: &reason,
            },
        )
        .await?;
        let message = format!(
            "deadline extended from {due} to {extended}: {reason}; {}",
            outbox::notice_note(sent)
        );
        self.note(
            &mut tx,
            principal,
            &updated,
            TimelineKind::Extended,
            message,
        )
        .await?;
        let audit = Entry::success("extendDeadline", "SubjectRequest", id)
            .before(super::request_state(&request))
            .after(super::request_state(&updated));
        self.commit_audited(tx, principal, audit).await?;
        updated.try_into()
    }
}

/// The name of a person or API key a request can be assigned to.
async fn assignable_name<C: crate::core::store::Conn>(
    conn: &C,
    org_id: Uuid,
    actor_id: Uuid,
) -> Result<String> {
    if let Some(key) = api_key::Entity::find_by_id(actor_id)
        .filter(api_key::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
    {
        if key.revoked_at.is_some() {
            return Err(Error::invalid(
                &["input", "assigneeId"],
                "the key is revoked",
            ));
        }
        return Ok(key.name);
    }
    let person = crate::entity::person::Entity::find_by_id(actor_id)
        .filter(crate::entity::person::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound { what: "assignee" })?;
    if !person.active {
        return Err(Error::invalid(
            &["input", "assigneeId"],
            "the person is deactivated",
        ));
    }
    Ok(person.name)
}
