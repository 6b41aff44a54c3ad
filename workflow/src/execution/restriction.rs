//! Restriction (Art. 18) and objection (Art. 21) carried out.
//!
//! An approved RESTRICTION request marks each record the reviewer approved, source
//! by source, as restricted for every purpose: from then on it may only be stored.
//! An approved OBJECTION request marks them as objected to for each purpose that
//! rests on legitimate interests or a public task (Art. 21(1)) in the activities
//! using the source, and for direct marketing (Art. 21(2), absolute: no purpose
//! named). Sources searched by hand are marked as a whole when the steward completes
//! the task.
//!
//! What a mark does: the campaign checks of the consent ledger leave the person out
//! (RESTRICTED, OBJECTED); the retention sweep does not open an erasure for a
//! restricted record (Art. 18(1)(c): the subject may need it for legal claims). A
//! restriction stands until a reviewer lifts it with a reason; the subject is told
//! before (Art. 18(3)) by a notice through the outbox.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use entity::{
    activity_purpose, activity_source, collected_record, processing_restriction, purpose,
    redaction, request_task, subject_request,
};

use crate::access::audit::Entry;
use crate::collection::{Pass, Phases, still_held};
use crate::core::outbox;
use crate::error::{Error, Result, Validator};
use crate::register::purposes::LegalBasis;
use crate::requests::{RequestKind, TaskState, TimelineKind};
use crate::{Action, Object, Principal, Workflow, new_id, now};

stored_enum! {
    /// Why processing of a record is limited.
    RestrictionGround {
        /// Art. 18: restricted; only stored, for every purpose.
        Restriction => "RESTRICTION",
        /// Art. 21: objected to, for the purpose named (none: direct marketing).
        Objection => "OBJECTION",
    }
}

/// A mark on a record (or a source) that its processing is restricted or objected to.
#[derive(Debug, Clone)]
pub struct RestrictionView {
    /// Id.
    pub id: Uuid,
    /// The request that asked for it.
    pub request_id: Uuid,
    /// The source.
    pub source_id: Uuid,
    /// The record (`customers(id=42)`); `None`: all of the subject in the source.
    pub record_key: Option<String>,
    /// Restriction or objection.
    pub ground: RestrictionGround,
    /// The purpose it stops; `None`: every purpose (restriction) or direct marketing
    /// (objection).
    pub purpose_id: Option<Uuid>,
    /// Since when.
    pub since: DateTime<Utc>,
    /// When it was lifted.
    pub lifted_at: Option<DateTime<Utc>>,
    /// Who lifted it.
    pub lifted_by: Option<Uuid>,
    /// Why.
    pub lift_reason: Option<String>,
}

impl TryFrom<processing_restriction::Model> for RestrictionView {
    type Error = Error;

    fn try_from(m: processing_restriction::Model) -> Result<Self> {
        Ok(Self {
            id: m.id,
            request_id: m.request_id,
            source_id: m.source_id,
            record_key: m.record_key,
            ground: m.ground.parse()?,
            purpose_id: m.purpose_id,
            since: m.since,
            lifted_at: m.lifted_at,
            lifted_by: m.lifted_by,
            lift_reason: m.lift_reason,
        })
    }
}

fn ground_of(kind: RequestKind) -> Result<RestrictionGround> {
    match kind {
        RequestKind::Restriction => Ok(RestrictionGround::Restriction),
        RequestKind::Objection => Ok(RestrictionGround::Objection),
        other => Err(Error::Internal(format!(
            "a {} request restricts nothing",
            other.as_str()
        ))),
    }
}

/// The purposes a mark names: for a restriction every purpose (`None`); for an
/// objection each purpose on legitimate interests or a public task of an activity
/// using the source, and direct marketing (`None`).
async fn purposes_of<C: crate::core::store::Conn>(
    conn: &C,
    ground: RestrictionGround,
    source_id: Uuid,
) -> Result<Vec<Option<Uuid>>> {
    if ground == RestrictionGround::Restriction {
        return Ok(vec![None]);
    }
    let activities: Vec<Uuid> = activity_source::Entity::find()
        .filter(activity_source::Column::SourceId.eq(source_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| a.activity_id)
        .collect();
    let purpose_ids: BTreeSet<Uuid> = activity_purpose::Entity::find()
        .filter(activity_purpose::Column::ActivityId.is_in(activities))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.purpose_id)
        .collect();
    let objectable: BTreeSet<Uuid> = purpose::Entity::find()
        .filter(purpose::Column::Id.is_in(purpose_ids))
        .filter(purpose::Column::LegalBasis.is_in([
            LegalBasis::LegitimateInterests.as_str(),
            LegalBasis::PublicTask.as_str(),
        ]))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| p.id)
        .collect();
    Ok(std::iter::once(None)
        .chain(objectable.into_iter().map(Some))
        .collect())
}

/// The records of the request in the source the reviewer approved as the subject's:
/// collected, none of their values redacted.
async fn approved_records<C: crate::core::store::Conn>(
    conn: &C,
    request_id: Uuid,
    source_id: Uuid,
) -> Result<BTreeSet<String>> {
    let records = collected_record::Entity::find()
        .filter(collected_record::Column::RequestId.eq(request_id))
        .filter(collected_record::Column::SourceId.eq(source_id))
        .all(conn)
        .await?;
    let redacted: HashSet<Uuid> = redaction::Entity::find()
        .filter(redaction::Column::RequestId.eq(request_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.record_id)
        .collect();
    let left_out: HashSet<&str> = records
        .iter()
        .filter(|r| redacted.contains(&r.id))
        .filter_map(|r| r.record_key.as_deref())
        .collect();
    Ok(records
        .iter()
        .filter_map(|r| r.record_key.as_deref())
        .filter(|k| !left_out.contains(k))
        .map(str::to_owned)
        .collect())
}

/// Inserts the marks of `keys` (`None`: the whole source) for each purpose, unless
/// the request marked them already; how many were new.
async fn mark<C: crate::core::store::Conn>(
    conn: &C,
    request: &subject_request::Model,
    source_id: Uuid,
    keys: &[Option<String>],
    at: DateTime<Utc>,
) -> Result<usize> {
    let ground = ground_of(request.kind.parse()?)?;
    let purposes = purposes_of(conn, ground, source_id).await?;
    let existing: HashSet<(Option<String>, Option<Uuid>)> = processing_restriction::Entity::find()
        .filter(processing_restriction::Column::RequestId.eq(request.id))
        .filter(processing_restriction::Column::SourceId.eq(source_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.record_key, m.purpose_id))
        .collect();
    let rows: Vec<processing_restriction::ActiveModel> = keys
        .iter()
        .flat_map(|key| purposes.iter().map(move |p| (key.clone(), *p)))
        .filter(|pair| !existing.contains(pair))
        .map(
            |(record_key, purpose_id)| processing_restriction::ActiveModel {
                id: Set(new_id()),
                org_id: Set(request.org_id),
                request_id: Set(request.id),
                subject_id: Set(request.subject_id),
                source_id: Set(source_id),
                record_key: Set(record_key),
                ground: Set(ground.as_str().to_owned()),
                purpose_id: Set(purpose_id),
                since: Set(at),
                lifted_at: Set(None),
                lifted_by: Set(None),
                lift_reason: Set(None),
            },
        )
        .collect();
    let n = rows.len();
    for chunk in rows.chunks(500) {
        processing_restriction::Entity::insert_many(chunk.to_vec())
            .exec(conn)
            .await?;
    }
    Ok(n)
}

/// A steward completed the EXECUTE task of a source searched by hand: the whole
/// source is marked for the subject (the steward's note says how it was restricted
/// in the system itself).
pub(super) async fn done_by_hand<C: crate::core::store::Conn>(
    conn: &C,
    request: &subject_request::Model,
    task: &request_task::Model,
    at: DateTime<Utc>,
) -> Result<()> {
    if request.is_test {
        return Ok(());
    }
    let keys: Vec<Option<String>> = approved_records(conn, request.id, task.source_id)
        .await?
        .into_iter()
        .map(Some)
        .chain(std::iter::once(None))
        .collect();
    mark(conn, request, task.source_id, &keys, at).await?;
    Ok(())
}

/// Who a campaign must leave out in an organization, for identities of one kind.
#[derive(Debug, Default)]
pub(crate) struct Standing {
    /// People with a restriction standing, or an erasure not carried out yet.
    pub restricted: HashSet<Uuid>,
    /// People with an objection standing.
    pub objected: HashSet<Uuid>,
    /// Identities of the kind that collection found on the way for those
    /// requests (a phone number read from the person's own record): they name the
    /// same person, even where the ledger files them under another.
    pub restricted_values: HashSet<String>,
    /// The same for objections.
    pub objected_values: HashSet<String>,
}

/// Who stands restricted or objected in `org_id`: requests of those kinds neither
/// rejected nor cancelled, unless every mark they made was lifted; and erasures not
/// yet carried out (once carried out, the suppression list speaks for the person).
pub(crate) async fn standing<C: crate::core::store::Conn>(
    conn: &C,
    org_id: Uuid,
    kind: crate::register::fields::IdentityType,
) -> Result<Standing> {
    use crate::requests::RequestState;
    let requests: Vec<(Uuid, Uuid, String, String)> = subject_request::Entity::find()
        .select_only()
        .column(subject_request::Column::Id)
        .column(subject_request::Column::SubjectId)
        .column(subject_request::Column::Kind)
        .column(subject_request::Column::State)
        .filter(subject_request::Column::OrgId.eq(org_id))
        .filter(subject_request::Column::IsTest.eq(false))
        .filter(subject_request::Column::Kind.is_in([
            RequestKind::Restriction.as_str(),
            RequestKind::Objection.as_str(),
            RequestKind::Erasure.as_str(),
        ]))
        .filter(subject_request::Column::State.is_not_in([
            RequestState::Rejected.as_str(),
            RequestState::Cancelled.as_str(),
        ]))
        .into_tuple()
        .all(conn)
        .await?;
    // Requests whose marks are all lifted.
    let marks: Vec<(Uuid, Option<DateTime<Utc>>)> = processing_restriction::Entity::find()
        .select_only()
        .column(processing_restriction::Column::RequestId)
        .column(processing_restriction::Column::LiftedAt)
        .filter(processing_restriction::Column::OrgId.eq(org_id))
        .into_tuple()
        .all(conn)
        .await?;
    let mut marked: HashSet<Uuid> = HashSet::new();
    let mut active: HashSet<Uuid> = HashSet::new();
    for (request, lifted) in marks {
        marked.insert(request);
        if lifted.is_none() {
            active.insert(request);
        }
    }
    let mut out = Standing::default();
    let mut objecting: HashSet<Uuid> = HashSet::new();
    let mut restricting: HashSet<Uuid> = HashSet::new();
    for (id, subject, request_kind, state) in requests {
        if request_kind == RequestKind::Erasure.as_str() {
            if state == RequestState::Dispatched.as_str() || state == RequestState::Closed.as_str()
            {
                continue;
            }
        } else if marked.contains(&id) && !active.contains(&id) {
            continue;
        }
        if request_kind == RequestKind::Objection.as_str() {
            out.objected.insert(subject);
            objecting.insert(id);
        } else {
            out.restricted.insert(subject);
            restricting.insert(id);
        }
    }
    let ids: Vec<Uuid> = objecting.iter().chain(&restricting).copied().collect();
    for chunk in ids.chunks(500) {
        let found: Vec<(Uuid, String)> = entity::found_identity::Entity::find()
            .select_only()
            .column(entity::found_identity::Column::RequestId)
            .column(entity::found_identity::Column::Value)
            .filter(entity::found_identity::Column::RequestId.is_in(chunk.iter().copied()))
            .filter(entity::found_identity::Column::Kind.eq(kind.as_str()))
            .into_tuple()
            .all(conn)
            .await?;
        for (request, value) in found {
            if objecting.contains(&request) {
                out.objected_values.insert(value);
            } else {
                out.restricted_values.insert(value);
            }
        }
    }
    Ok(out)
}

/// `(source, record)` of every record under a restriction that stands (for the
/// retention sweep).
pub(crate) async fn restricted_keys<C: crate::core::store::Conn>(
    conn: &C,
    org_id: Uuid,
) -> Result<HashSet<(Uuid, String)>> {
    Ok(processing_restriction::Entity::find()
        .filter(processing_restriction::Column::OrgId.eq(org_id))
        .filter(processing_restriction::Column::Ground.eq(RestrictionGround::Restriction.as_str()))
        .filter(processing_restriction::Column::LiftedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|m| Some((m.source_id, m.record_key?)))
        .collect())
}

use sea_orm::QuerySelect;

impl Workflow {
    /// Runs a claimed EXECUTE task of a restriction or objection: marks the records
    /// the reviewer approved in the task's source and completes the task, in one
    /// transaction.
    pub(crate) async fn run_restriction(
        &self,
        owner: &str,
        task: request_task::Model,
        request: subject_request::Model,
    ) -> Result<Pass> {
        let worker = Principal::worker(task.org_id);
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let Some((request_now, current)) = still_held(conn, &task, owner).await? else {
            return Ok(Pass::Lost { task_id: task.id });
        };
        let source = entity::data_source::Entity::find_by_id(task.source_id)
            .one(conn)
            .await?
            .ok_or(Error::NotFound {
                what: "data source",
            })?;
        let at = now();
        let keys: Vec<Option<String>> = approved_records(conn, request.id, source.id)
            .await?
            .into_iter()
            .map(Some)
            .collect();
        let what = if request.kind == RequestKind::Objection.as_str() {
            "objected to"
        } else {
            "restricted"
        };
        let note = if request.is_test {
            format!(
                "EXECUTE task for `{}`: test request, {} record(s) would be {what}; nothing recorded",
                source.name,
                keys.len()
            )
        } else {
            let marks = mark(conn, &request, source.id, &keys, at).await?;
            format!(
                "EXECUTE task for `{}`: {} record(s) {what} ({marks} mark(s) recorded)",
                source.name,
                keys.len()
            )
        };
        super::worker_ended(current, at, None).update(conn).await?;
        let updated = crate::requests::update_versioned(
            conn,
            request_now.clone().into_active_model(),
            request_now.version,
        )
        .await?;
        self.note(&mut tx, &worker, &updated, TimelineKind::Restriction, note)
            .await?;
        self.commit_audited(
            tx,
            &worker,
            Entry::success("executeTask", "RequestTask", task.id),
        )
        .await?;
        metrics::counter!("auskunft_restriction_tasks_total").increment(1);
        Ok(Pass::Done {
            task_id: task.id,
            to_review: false,
            phases: Phases::default(),
        })
    }

    /// The restriction and objection marks of these requests, in one query.
    pub async fn restrictions_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<RestrictionView>> {
        processing_restriction::Entity::find()
            .filter(processing_restriction::Column::OrgId.eq(principal.org_id))
            .filter(processing_restriction::Column::RequestId.is_in(ids.iter().copied()))
            .order_by_asc(processing_restriction::Column::Since)
            .order_by_asc(processing_restriction::Column::Id)
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(RestrictionView::try_from)
            .collect()
    }

    /// Lifts every standing mark of a restriction or objection request, with a
    /// reason (`request:review`). The subject is told first (Art. 18(3)): a notice
    /// goes to their e-mail address through the outbox, in the same transaction.
    /// CONFLICT when nothing stands to be lifted.
    #[tracing::instrument(skip(self, reason), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn lift_restriction(
        &self,
        principal: &Principal,
        request_id: Uuid,
        reason: &str,
    ) -> Result<(Vec<RestrictionView>, crate::requests::RequestView)> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Request,
                Action::Review,
            )
            .await?;
        let mut v = Validator::default();
        let reason = v.multiline_text(reason, &["input", "reason"], 2000);
        v.finish()?;
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let request =
            crate::requests::find_request_locked(conn, principal.org_id, request_id).await?;
        let kind: RequestKind = request.kind.parse()?;
        if !matches!(kind, RequestKind::Restriction | RequestKind::Objection) {
            return Err(Error::invalid(
                &["input", "requestId"],
                format!(
                    "only RESTRICTION and OBJECTION requests are lifted; this one is {}",
                    request.kind
                ),
            ));
        }
        // Lifted only once carried out everywhere: a mark made after the lift (a
        // steward completing a task later) would bring it back unnoticed.
        let open_tasks = request_task::Entity::find()
            .filter(request_task::Column::RequestId.eq(request.id))
            .filter(request_task::Column::Kind.eq(crate::requests::TaskKind::Execute.as_str()))
            .filter(request_task::Column::State.ne(TaskState::Done.as_str()))
            .count(conn)
            .await?;
        if open_tasks > 0 {
            return Err(Error::Conflict(format!(
                "{open_tasks} execution task(s) of the request are not done yet: lift the \
                 restriction once it is carried out in every source"
            )));
        }
        use processing_restriction::Column as R;
        let standing = processing_restriction::Entity::find()
            .filter(R::RequestId.eq(request.id))
            .filter(R::LiftedAt.is_null())
            .count(conn)
            .await?;
        if standing == 0 {
            return Err(Error::Conflict(format!(
                "request {} has no restriction standing to lift (not carried out yet, or lifted already)",
                request.id
            )));
        }
        let at = now();
        processing_restriction::Entity::update_many()
            .col_expr(R::LiftedAt, sea_orm::sea_query::Expr::value(at))
            .col_expr(
                R::LiftedBy,
                sea_orm::sea_query::Expr::value(principal.key_id),
            )
            .col_expr(
                R::LiftReason,
                sea_orm::sea_query::Expr::value(reason.clone()),
            )
            .filter(R::RequestId.eq(request.id))
            .filter(R::LiftedAt.is_null())
            .exec(conn)
            .await?;
        let queued = outbox::notify_subject(
            conn,
            &self.cipher,
            &request,
            outbox::Notice::RestrictionLifted {
                objection: kind == RequestKind::Objection,
                reason: &reason,
            },
        )
        .await?;
        let updated = crate::requests::update_versioned(
            conn,
            request.clone().into_active_model(),
            request.version,
        )
        .await?;
        self.note(
            &mut tx,
            principal,
            &updated,
            TimelineKind::Restriction,
            format!(
                "{standing} mark(s) lifted: {reason}; {}",
                outbox::notice_note(queued)
            ),
        )
        .await?;
        self.commit_audited(
            tx,
            principal,
            Entry::success("liftRestriction", "SubjectRequest", request.id),
        )
        .await?;
        let marks = self
            .restrictions_of_requests(principal, &[request.id])
            .await?;
        Ok((marks, updated.try_into()?))
    }
}

use sea_orm::PaginatorTrait;
