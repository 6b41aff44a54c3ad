//! Rectification (Art. 16) carried out.
//!
//! While a RECTIFICATION request is collected and reviewed, staff record what the
//! subject says is wrong: for a field of a record collected for the request, the
//! corrected value (`proposeCorrection`, sealed at rest). The reviewer approves them
//! with the request. In EXECUTING, a worker writes them to each source its connector
//! can write to (a SQL source with `readOnly: false`), all of a source in one
//! transaction, each value in its column's own type:
//!
//! 1. The source is searched again (with the corrected identities too, so a
//!    corrected e-mail address is found again after it was written). Only records
//!    collected and approved, not flagged by the leak check, are written; a primary
//!    key is never changed (it names the row).
//! 2. The keyed digest of the value found before is stored before anything is
//!    written, so a run taken over after a crash still proves what was there.
//! 3. After writing, the source is searched again: a value that does not read back
//!    as written is FAILED, and the task fails, visible to stewards.
//! 4. The audit log gets one `rectifyValue` entry per correction with the digests
//!    before and after, never the values.
//!
//! Sources no worker can write to are corrected by a steward, who completes the
//! task by hand (the corrections are then BY_HAND). A test request plans and
//! reports, and writes nothing.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{collected_record, correction, data_field, data_source, request_task};

use crate::access::audit::{self, Entry};
use crate::collection::{Pass, Phases, WorkerOptions, still_held};
use crate::connectors::{
    CollectError, CollectJob, ConnectorKind, Found, RowChange, SearchIdentity, connector,
};
use crate::error::{Error, Result, Validator};
use crate::register::fields::IdentityType;
use crate::requests::{RequestKind, RequestState, TimelineKind};
use crate::{Action, Object, Principal, Workflow, new_id, now};

stored_enum! {
    /// What became of a correction.
    CorrectionOutcome {
        /// Written to the source and read back as written.
        Applied => "APPLIED",
        /// The source held the corrected value already; nothing was written.
        Unchanged => "UNCHANGED",
        /// Not written: see the detail; correct it by hand and complete the task.
        Failed => "FAILED",
        /// Carried out by a steward outside Auskunft (see the task's note).
        ByHand => "BY_HAND",
    }
}

/// A correction the subject asked for, and what became of it.
#[derive(Debug, Clone)]
pub struct CorrectionView {
    /// Id.
    pub id: Uuid,
    /// The request.
    pub request_id: Uuid,
    /// The source.
    pub source_id: Uuid,
    /// The field.
    pub field_id: Uuid,
    /// The field's location when proposed.
    pub location: String,
    /// The record.
    pub record_key: String,
    /// The corrected value (personal data).
    pub value: String,
    /// Keyed digest of the corrected value.
    pub value_digest: String,
    /// Who proposed it.
    pub proposed_by: Option<Uuid>,
    /// When.
    pub proposed_at: DateTime<Utc>,
    /// What became of it; `None` until carried out.
    pub outcome: Option<CorrectionOutcome>,
    /// Keyed digest of the value found before (none: the field was empty).
    pub before_digest: Option<String>,
    /// Keyed digest of the value read back after writing.
    pub after_digest: Option<String>,
    /// How it was done or why it failed.
    pub detail: Option<String>,
    /// When it was carried out.
    pub carried_out_at: Option<DateTime<Utc>>,
}

/// A corrected value for one field of one collected record.
#[derive(Debug, Clone)]
pub struct NewCorrection {
    /// The RECTIFICATION request.
    pub request_id: Uuid,
    /// The field to correct.
    pub field_id: Uuid,
    /// The record (`customers(id=42)`), as collected for the request.
    pub record_key: String,
    /// The corrected value.
    pub value: String,
}

/// The table of a SQL record key (`customers` of `customers(id=42)`).
fn table_of_key(key: &str) -> Option<&str> {
    key.split_once('(').map(|(t, _)| t)
}

/// The table of a SQL field location (`customers` of `customers.email`).
fn table_of_location(location: &str) -> Option<&str> {
    location.rsplit_once('.').map(|(t, _)| t)
}

/// States in which corrections may be proposed or withdrawn: after collection found
/// the records, before approval.
const OPEN_FOR_CORRECTIONS: [RequestState; 3] = [
    RequestState::Collecting,
    RequestState::InReview,
    RequestState::ChangesRequested,
];

impl Workflow {
    /// Keyed digest of a value of a correction (before, after, corrected): equal
    /// values give equal digests within the organization; nobody without the key
    /// can test a guess against them.
    fn correction_digest(&self, org_id: Uuid, value: &str) -> String {
        let scope = [b"correction:".as_slice(), org_id.as_bytes()].concat();
        self.cipher.fingerprint(&scope, value.as_bytes())
    }

    fn correction_view(&self, m: correction::Model) -> Result<CorrectionView> {
        let value = String::from_utf8(self.cipher.decrypt(&m.value)?)
            .map_err(|e| Error::Internal(format!("correction value: {e}")))?;
        Ok(CorrectionView {
            id: m.id,
            request_id: m.request_id,
            source_id: m.source_id,
            field_id: m.field_id,
            location: m.location,
            record_key: m.record_key,
            value,
            value_digest: m.value_digest,
            proposed_by: m.proposed_by,
            proposed_at: m.proposed_at,
            outcome: m.outcome.as_deref().map(str::parse).transpose()?,
            before_digest: m.before_digest,
            after_digest: m.after_digest,
            detail: m.detail,
            carried_out_at: m.carried_out_at,
        })
    }

    /// The corrections of these requests, values opened, in one query.
    pub async fn corrections_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<CorrectionView>> {
        correction::Entity::find()
            .filter(correction::Column::OrgId.eq(principal.org_id))
            .filter(correction::Column::RequestId.is_in(ids.iter().copied()))
            .order_by_asc(correction::Column::ProposedAt)
            .order_by_asc(correction::Column::Id)
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(|m| self.correction_view(m))
            .collect()
    }

    /// Records a corrected value for a field of a record collected for a
    /// RECTIFICATION request (`request:update`), while it is COLLECTING, IN_REVIEW or
    /// CHANGES_REQUESTED; proposing again for the same field and record replaces the
    /// value. Changes the request's version.
    #[tracing::instrument(skip(self, input), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn propose_correction(
        &self,
        principal: &Principal,
        input: NewCorrection,
    ) -> Result<CorrectionView> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Request,
                Action::Update,
            )
            .await?;
        let mut v = Validator::default();
        let value = v.multiline_text(&input.value, &["input", "value"], 10_000);
        let record_key = v.text(&input.record_key, &["input", "recordKey"], 1000);
        v.finish()?;
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let request =
            crate::requests::find_request_locked(conn, principal.org_id, input.request_id).await?;
        editable(&request)?;
        let field = data_field::Entity::find_by_id(input.field_id)
            .filter(data_field::Column::OrgId.eq(principal.org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound { what: "data field" })?;
        let collected = collected_record::Entity::find()
            .filter(collected_record::Column::RequestId.eq(request.id))
            .filter(collected_record::Column::SourceId.eq(field.source_id))
            .filter(collected_record::Column::RecordKey.eq(record_key.as_str()))
            .one(conn)
            .await?;
        let referenced = data_field::Entity::find()
            .filter(data_field::Column::ReferencesId.eq(field.id))
            .one(conn)
            .await?
            .is_some();
        let mut v = Validator::default();
        v.check(
            collected.is_some(),
            &["input", "recordKey"],
            "no record with this key was collected for the request in the field's source",
        );
        v.check(
            field.references_id.is_none() && !referenced,
            &["input", "fieldId"],
            format!(
                "`{}` links records to each other (a declared reference): changing it would \
                 move records between people; correct it by hand",
                field.location
            ),
        );
        // An identifying value of somebody else would merge two people.
        if let Some(kind) = field
            .identity_type
            .as_deref()
            .and_then(|t| t.parse::<IdentityType>().ok())
        {
            let region = crate::requests::settings::phone_region(conn, principal.org_id).await?;
            let mut n = Validator::default();
            let canonical = crate::requests::intake_normalize(&mut n, kind, &value, &[], region);
            let other = entity::subject_identity::Entity::find()
                .filter(entity::subject_identity::Column::OrgId.eq(principal.org_id))
                .filter(entity::subject_identity::Column::Kind.eq(kind.as_str()))
                .filter(entity::subject_identity::Column::Value.eq(canonical))
                .filter(entity::subject_identity::Column::SubjectId.ne(request.subject_id))
                .one(conn)
                .await?;
            v.check(
                other.is_none(),
                &["input", "value"],
                format!(
                    "this {} identifies another person known to Auskunft: check it by hand",
                    kind.as_str()
                ),
            );
        }
        if let (Some(t), Some(f)) = (
            table_of_key(&record_key),
            table_of_location(&field.location),
        ) {
            v.check(
                t == f,
                &["input", "fieldId"],
                format!(
                    "`{}` is not a field of the record's table `{t}`",
                    field.location
                ),
            );
        }
        v.finish()?;
        let at = now();
        let digest = self.correction_digest(principal.org_id, &value);
        let sealed = self.cipher.encrypt(value.as_bytes())?;
        let existing = correction::Entity::find()
            .filter(correction::Column::RequestId.eq(request.id))
            .filter(correction::Column::FieldId.eq(field.id))
            .filter(correction::Column::RecordKey.eq(record_key.as_str()))
            .one(conn)
            .await?;
        let (model, verb) = match existing {
            Some(e) => {
                let mut a = e.into_active_model();
                a.value = Set(sealed);
                a.value_digest = Set(digest.clone());
                a.proposed_by = Set(Some(principal.key_id));
                a.proposed_at = Set(at);
                (a.update(conn).await?, "replaced")
            }
            None => (
                correction::ActiveModel {
                    id: Set(new_id()),
                    org_id: Set(principal.org_id),
                    request_id: Set(request.id),
                    source_id: Set(field.source_id),
                    field_id: Set(field.id),
                    location: Set(field.location.clone()),
                    record_key: Set(record_key.clone()),
                    value: Set(sealed),
                    value_digest: Set(digest.clone()),
                    proposed_by: Set(Some(principal.key_id)),
                    proposed_at: Set(at),
                    task_id: Set(None),
                    outcome: Set(None),
                    before_digest: Set(None),
                    after_digest: Set(None),
                    detail: Set(None),
                    carried_out_at: Set(None),
                }
                .insert(conn)
                .await?,
                "proposed",
            ),
        };
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
            TimelineKind::Correction,
            format!("correction {verb} for `{}` of {record_key}", field.location),
        )
        .await?;
        let mut entry = Entry::success("proposeCorrection", "Correction", model.id);
        entry.after =
            Some(json!({"location": field.location, "recordKey": record_key, "digest": digest}));
        self.commit_audited(tx, principal, entry).await?;
        self.correction_view(model)
    }

    /// Withdraws a correction not carried out yet (`request:update`), while the
    /// request is COLLECTING, IN_REVIEW or CHANGES_REQUESTED. Changes the request's
    /// version.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn withdraw_correction(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<crate::requests::RequestView> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Request,
                Action::Update,
            )
            .await?;
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let found = correction::Entity::find_by_id(id)
            .filter(correction::Column::OrgId.eq(principal.org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound { what: "correction" })?;
        let request =
            crate::requests::find_request_locked(conn, principal.org_id, found.request_id).await?;
        editable(&request)?;
        correction::Entity::delete_by_id(found.id)
            .exec(conn)
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
            TimelineKind::Correction,
            format!(
                "correction for `{}` of {} withdrawn",
                found.location, found.record_key
            ),
        )
        .await?;
        self.commit_audited(
            tx,
            principal,
            Entry::success("withdrawCorrection", "Correction", found.id),
        )
        .await?;
        updated.try_into()
    }

    /// Runs a claimed EXECUTE task of a rectification (see the module docs).
    pub(crate) async fn run_rectification(
        &self,
        owner: &str,
        options: &WorkerOptions,
        task: request_task::Model,
        request: entity::subject_request::Model,
    ) -> Result<Pass> {
        let conn = self.store.conn();
        let corrections: Vec<correction::Model> = correction::Entity::find()
            .filter(correction::Column::RequestId.eq(request.id))
            .filter(correction::Column::SourceId.eq(task.source_id))
            .order_by_asc(correction::Column::Id)
            .all(conn)
            .await?;
        let source = data_source::Entity::find_by_id(task.source_id)
            .one(conn)
            .await?
            .ok_or(Error::NotFound {
                what: "data source",
            })?;
        if corrections.is_empty() {
            return self
                .finish_rectification(owner, &task, &source.name, &[], &request)
                .await;
        }
        let fields = data_field::Entity::find()
            .filter(data_field::Column::SourceId.eq(task.source_id))
            .all(conn)
            .await?;
        let values: HashMap<Uuid, String> = corrections
            .iter()
            .map(|c| {
                let v = String::from_utf8(self.cipher.decrypt(&c.value)?)
                    .map_err(|e| Error::Internal(format!("correction value: {e}")))?;
                Ok((c.id, v))
            })
            .collect::<Result<_>>()?;
        // Corrected identities are searched for too: a corrected e-mail address
        // must still find its record once it is written.
        let mut identities = crate::collection::search_identities(conn, &request).await?;
        let region = crate::requests::settings::phone_region(conn, request.org_id).await?;
        for c in &corrections {
            let kind = fields
                .iter()
                .find(|f| f.id == c.field_id)
                .and_then(|f| f.identity_type.as_deref())
                .and_then(|t| t.parse::<IdentityType>().ok());
            if let Some(kind) = kind {
                let mut v = Validator::default();
                let value =
                    crate::requests::intake_normalize(&mut v, kind, &values[&c.id], &[], region);
                if v.finish().is_ok()
                    && !identities
                        .iter()
                        .any(|i| i.kind == kind && i.value == value)
                {
                    identities.push(SearchIdentity {
                        kind,
                        value,
                        as_given: None,
                    });
                }
            }
        }
        let kind: ConnectorKind = source.connector_kind.parse()?;
        let config = crate::register::sources::connection_config(&self.cipher, &source)?;
        let job = CollectJob {
            source: &source,
            config: &config,
            fields: &fields,
            identities: &identities,
            guard: &self.sources,
            pools: &self.pools,
        };
        let c = connector(kind);
        let approved = crate::erasure::Approved::read(conn, &request, source.id).await?;
        let work = async {
            let key_fields = c.erase(&job, &[]).await?.key_fields;
            let before = c.collect(&job).await?;
            Ok::<_, CollectError>((key_fields, before))
        };
        let prepared = tokio::select! {
            r = work => Some(r),
            () = self.heartbeat(owner, task.id, options) => None,
        };
        let (key_fields, before) = match prepared {
            None => return Ok(Pass::Lost { task_id: task.id }),
            Some(Err(e)) => return self.fail(owner, options, &task, e).await,
            Some(Ok(p)) => p,
        };
        let links: HashSet<Uuid> = fields
            .iter()
            .filter(|f| {
                f.references_id.is_some() || fields.iter().any(|g| g.references_id == Some(f.id))
            })
            .map(|f| f.id)
            .collect();
        let mut plan = plan(
            &corrections,
            &values,
            &before,
            &key_fields,
            &links,
            &approved.keys,
            &|v| self.correction_digest(request.org_id, v),
        );
        if request.is_test {
            for o in &mut plan.outcomes {
                o.detail = format!("test request, not carried out: {}", o.detail);
            }
            plan.changes.clear();
        }
        // The digests of what was there are stored before the source changes.
        if !self.store_correction_plan(owner, &task, &plan).await? {
            return Ok(Pass::Lost { task_id: task.id });
        }
        let work = async {
            let mut refused: Vec<(String, String)> = Vec::new();
            if !plan.changes.is_empty()
                && let Err(batch) = c.erase(&job, &plan.changes).await
            {
                // One value the source refuses (a type, a constraint) must not block
                // the others: each record on its own, the refused ones named.
                for change in &plan.changes {
                    if let Err(e) = c.erase(&job, std::slice::from_ref(change)).await {
                        refused.push((change.key.clone(), e.to_string()));
                    }
                }
                if refused.len() == plan.changes.len() {
                    return Err(batch);
                }
            }
            Ok::<_, CollectError>((refused, c.collect(&job).await?))
        };
        let done = tokio::select! {
            r = work => Some(r),
            () = self.heartbeat(owner, task.id, options) => None,
        };
        let (refused, after) = match done {
            None => return Ok(Pass::Lost { task_id: task.id }),
            Some(Err(e)) => return self.fail(owner, options, &task, e).await,
            Some(Ok(a)) => a,
        };
        if !request.is_test {
            check(&mut plan, &after, &|v| {
                self.correction_digest(request.org_id, v)
            });
            for o in plan.outcomes.iter_mut().filter(|o| o.written) {
                if let Some((_, e)) = refused.iter().find(|(k, _)| *k == o.record_key) {
                    o.result = CorrectionOutcome::Failed;
                    let mut why: String = e.chars().take(500).collect();
                    if why.len() < e.len() {
                        why.push('…');
                    }
                    o.detail = format!(
                        "the source refused the record's corrections (nothing of the record \
                         was written): {why}"
                    );
                }
            }
        }
        self.finish_rectification(owner, &task, &source.name, &plan.outcomes, &request)
            .await
    }

    /// Notes the task and the digests before anything is written; false when the
    /// lease was lost. A digest stored by an earlier attempt stays (it saw the
    /// value before that attempt wrote).
    async fn store_correction_plan(
        &self,
        owner: &str,
        task: &request_task::Model,
        plan: &Plan,
    ) -> Result<bool> {
        let tx = self.store.begin().await?;
        let conn = tx.conn();
        if still_held(conn, task, owner).await?.is_none() {
            return Ok(false);
        }
        use correction::Column as C;
        for o in &plan.outcomes {
            correction::Entity::update_many()
                .col_expr(C::TaskId, sea_orm::sea_query::Expr::value(task.id))
                .col_expr(
                    C::BeforeDigest,
                    sea_orm::sea_query::Expr::value(o.before_digest.clone()),
                )
                .filter(C::Id.eq(o.id))
                .filter(C::TaskId.is_null())
                .exec(conn)
                .await?;
        }
        tx.commit(&self.bus).await?;
        Ok(true)
    }

    /// Stores the outcomes, completes the task (or fails it when any correction
    /// failed), with one audit entry per correction; one transaction under the
    /// request's lock.
    async fn finish_rectification(
        &self,
        owner: &str,
        task: &request_task::Model,
        source_name: &str,
        outcomes: &[Planned],
        request: &entity::subject_request::Model,
    ) -> Result<Pass> {
        let worker = Principal::worker(task.org_id);
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let Some((locked, current)) = still_held(conn, task, owner).await? else {
            return Ok(Pass::Lost { task_id: task.id });
        };
        let at = now();
        let stored: HashMap<Uuid, correction::Model> = correction::Entity::find()
            .filter(correction::Column::TaskId.eq(task.id))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let mut entries = Vec::new();
        for o in outcomes {
            // The digest before is the one stored before the first write.
            let before = stored
                .get(&o.id)
                .map_or(o.before_digest.clone(), |s| s.before_digest.clone());
            let result = match (o.result, &before) {
                // An earlier attempt wrote it and was lost before it could say so.
                (CorrectionOutcome::Unchanged, Some(b)) if *b != o.value_digest => {
                    CorrectionOutcome::Applied
                }
                (r, _) => r,
            };
            use correction::Column as C;
            use sea_orm::sea_query::Expr;
            correction::Entity::update_many()
                .col_expr(C::TaskId, Expr::value(task.id))
                .col_expr(C::Outcome, Expr::value(result.as_str()))
                .col_expr(C::BeforeDigest, Expr::value(before.clone()))
                .col_expr(C::AfterDigest, Expr::value(o.after_digest.clone()))
                .col_expr(C::Detail, Expr::value(o.detail.clone()))
                .col_expr(C::CarriedOutAt, Expr::value(at))
                .filter(C::Id.eq(o.id))
                .exec(conn)
                .await?;
            let mut entry = Entry::success("rectifyValue", "Correction", o.id);
            if result == CorrectionOutcome::Failed {
                entry.outcome = audit::Outcome::Failed;
                entry.error_code = Some("RECTIFICATION_FAILED".to_owned());
            }
            entry.before =
                Some(json!({"location": o.location, "recordKey": o.record_key, "digest": before}));
            entry.after = Some(
                json!({"location": o.location, "recordKey": o.record_key, "digest": o.after_digest}),
            );
            entries.push(entry);
        }
        let count = |r: CorrectionOutcome| outcomes.iter().filter(|o| o.result == r).count();
        let failed = count(CorrectionOutcome::Failed);
        let summary = format!(
            "{} applied, {} unchanged, {failed} failed",
            count(CorrectionOutcome::Applied),
            count(CorrectionOutcome::Unchanged)
        );
        let (note, error) = if outcomes.is_empty() {
            (
                format!("EXECUTE task for `{source_name}`: nothing to correct in this source"),
                None,
            )
        } else if failed == 0 {
            (
                format!(
                    "EXECUTE task for `{source_name}`: {} ({summary})",
                    if request.is_test {
                        "test request: corrections planned, the source was not changed"
                    } else {
                        "corrections written and read back"
                    }
                ),
                None,
            )
        } else {
            let locations: BTreeSet<&str> = outcomes
                .iter()
                .filter(|o| o.result == CorrectionOutcome::Failed)
                .map(|o| o.location.as_str())
                .collect();
            let message = format!(
                "{failed} correction(s) not written in {}: see the corrections; carry them out by \
                 hand, then complete the task",
                locations.into_iter().collect::<Vec<_>>().join(", ")
            );
            (
                format!("EXECUTE task for `{source_name}` failed: {message} ({summary})"),
                Some(message),
            )
        };
        super::worker_ended(current, at, error).update(conn).await?;
        let updated = crate::requests::update_versioned(
            conn,
            locked.clone().into_active_model(),
            locked.version,
        )
        .await?;
        self.note(&mut tx, &worker, &updated, TimelineKind::Correction, note)
            .await?;
        let mut task_entry = Entry::success("executeTask", "RequestTask", task.id);
        if failed > 0 {
            task_entry.outcome = audit::Outcome::Failed;
            task_entry.error_code = Some("RECTIFICATION_INCOMPLETE".to_owned());
        }
        entries.push(task_entry);
        self.commit_audited_all(tx, &worker, entries).await?;
        metrics::counter!("auskunft_rectification_tasks_total", "outcome" => if failed == 0 { "done" } else { "failed" }).increment(1);
        Ok(if failed == 0 {
            Pass::Done {
                task_id: task.id,
                to_review: false,
                phases: Phases::default(),
            }
        } else {
            Pass::Failed {
                task_id: task.id,
                last: true,
            }
        })
    }
}

/// Corrections may change only before approval, after collection began.
fn editable(request: &entity::subject_request::Model) -> Result<()> {
    if request.kind != RequestKind::Rectification.as_str() {
        return Err(Error::invalid(
            &["input", "requestId"],
            format!(
                "corrections belong to RECTIFICATION requests; this one is {}",
                request.kind
            ),
        ));
    }
    if !OPEN_FOR_CORRECTIONS
        .iter()
        .any(|s| s.as_str() == request.state)
    {
        return Err(Error::Conflict(format!(
            "corrections are proposed or withdrawn while the request is COLLECTING, IN_REVIEW \
             or CHANGES_REQUESTED; it is {}",
            request.state
        )));
    }
    Ok(())
}

/// What is planned for one correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    pub id: Uuid,
    pub location: String,
    pub record_key: String,
    pub field_id: Uuid,
    pub value_digest: String,
    pub result: CorrectionOutcome,
    pub before_digest: Option<String>,
    pub after_digest: Option<String>,
    pub detail: String,
    /// Whether a change is written for it.
    pub written: bool,
}

/// The plan for a source's corrections.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub changes: Vec<RowChange>,
    pub outcomes: Vec<Planned>,
}

/// Plans the corrections against what a search found now (`values`: each
/// correction's value by id; `digest`: the keyed digest of a value). Primary keys
/// (`key_fields`) and `links` (declared references and the fields they point to:
/// changing one would move records between people) are refused.
pub(crate) fn plan(
    corrections: &[correction::Model],
    values: &HashMap<Uuid, String>,
    found: &[Found],
    key_fields: &HashSet<Uuid>,
    links: &HashSet<Uuid>,
    approved: &HashSet<String>,
    digest: &dyn Fn(&str) -> String,
) -> Plan {
    let by_key: HashMap<&str, &Found> = found.iter().map(|f| (f.key.as_str(), f)).collect();
    let mut out = Plan::default();

    // Not carried out yet, or failed before (a retry tries again).
    let open = |c: &&correction::Model| {
        c.carried_out_at.is_none()
            || c.outcome.as_deref() == Some(CorrectionOutcome::Failed.as_str())
    };
    for c in corrections.iter().filter(open) {
        let value = &values[&c.id];
        let record = by_key.get(c.record_key.as_str());
        let before = record.and_then(|r| {
            r.values
                .iter()
                .find(|v| v.field_id == c.field_id)
                .map(|v| v.value.as_str())
        });
        let mut planned = Planned {
            id: c.id,
            location: c.location.clone(),
            record_key: c.record_key.clone(),
            field_id: c.field_id,
            value_digest: c.value_digest.clone(),
            result: CorrectionOutcome::Failed,
            before_digest: before.map(digest),
            after_digest: before.map(digest),
            detail: String::new(),
            written: false,
        };
        let refused = if key_fields.contains(&c.field_id) {
            Some("a primary key names its row and is never changed: correct it by hand")
        } else if links.contains(&c.field_id) {
            Some(
                "a declared reference links records: changing it would move records between \
                 people; correct it by hand",
            )
        } else if !approved.contains(&c.record_key) {
            Some("the record is not among those collected and approved: not touched")
        } else if record.is_some_and(|r| !r.flags.is_empty()) {
            Some(
                "the record may be another person's (leak check): correct it by hand after checking",
            )
        } else if record.is_none() {
            Some("the record is no longer found in the source")
        } else {
            None
        };
        if let Some(why) = refused {
            planned.detail = why.to_owned();
        } else if before == Some(value.as_str()) {
            planned.result = CorrectionOutcome::Unchanged;
            planned.detail = "the source holds the corrected value already".to_owned();
        } else {
            planned.result = CorrectionOutcome::Applied;
            planned.detail = "written".to_owned();
            planned.written = true;
            let set = (c.field_id, Some(value.clone()));
            match out.changes.iter_mut().find(|ch| ch.key == c.record_key) {
                Some(change) => change.set.push(set),
                None => out.changes.push(RowChange {
                    key: c.record_key.clone(),
                    delete: false,
                    set: vec![set],
                    typed: true,
                    expect: Vec::new(),
                }),
            }
        }
        out.outcomes.push(planned);
    }
    out
}

/// Compares what was written with what a search reads back now: a correction that
/// does not read back as written is FAILED.
fn check(plan: &mut Plan, after: &[Found], digest: &dyn Fn(&str) -> String) {
    let by_key: HashMap<&str, &Found> = after.iter().map(|f| (f.key.as_str(), f)).collect();
    for o in plan.outcomes.iter_mut().filter(|o| o.written) {
        let now = by_key.get(o.record_key.as_str()).and_then(|r| {
            r.values
                .iter()
                .find(|v| v.field_id == o.field_id)
                .map(|v| v.value.as_str())
        });
        o.after_digest = now.map(digest);
        if o.after_digest.as_deref() != Some(o.value_digest.as_str()) {
            o.result = CorrectionOutcome::Failed;
            o.detail = if now.is_none() {
                "written, but the record or value is no longer found".to_owned()
            } else {
                "written, but the source reads back another value (its own format?): check it by hand"
                    .to_owned()
            };
        }
    }
}

/// A steward completed the EXECUTE task by hand: its corrections not carried out
/// are BY_HAND (the steward's note says how).
pub(super) async fn done_by_hand<C: crate::core::store::Conn>(
    conn: &C,
    task: &request_task::Model,
    at: DateTime<Utc>,
) -> Result<()> {
    use correction::Column as C;
    use sea_orm::sea_query::Expr;
    correction::Entity::update_many()
        .col_expr(C::TaskId, Expr::value(task.id))
        .col_expr(C::Outcome, Expr::value(CorrectionOutcome::ByHand.as_str()))
        .col_expr(
            C::Detail,
            Expr::value("carried out by a steward outside Auskunft; see the task's note"),
        )
        .col_expr(C::CarriedOutAt, Expr::value(at))
        .filter(C::RequestId.eq(task.request_id))
        .filter(C::SourceId.eq(task.source_id))
        // Those a worker failed to write: the task said to carry them out by hand,
        // then complete it.
        .filter(
            sea_orm::Condition::any()
                .add(C::Outcome.is_null())
                .add(C::Outcome.eq(CorrectionOutcome::Failed.as_str())),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// Sources with corrections of a request (their EXECUTE tasks need a writer).
pub(crate) async fn corrected_sources<C: crate::core::store::Conn>(
    conn: &C,
    request_id: Uuid,
) -> Result<HashSet<Uuid>> {
    Ok(correction::Entity::find()
        .filter(correction::Column::RequestId.eq(request_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| c.source_id)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collection::leaks::LeakKind;
    use crate::connectors::FoundValue;

    fn correction(n: u128, field: u128, key: &str) -> correction::Model {
        correction::Model {
            id: Uuid::from_u128(n),
            org_id: Uuid::nil(),
            request_id: Uuid::nil(),
            source_id: Uuid::nil(),
            field_id: Uuid::from_u128(field),
            location: format!("t.f{field}"),
            record_key: key.to_owned(),
            value: String::new(),
            value_digest: format!("d({n})"),
            proposed_by: None,
            proposed_at: Utc::now(),
            task_id: None,
            outcome: None,
            before_digest: None,
            after_digest: None,
            detail: None,
            carried_out_at: None,
        }
    }

    fn found(key: &str, values: &[(u128, &str)]) -> Found {
        Found {
            key: key.to_owned(),
            values: values
                .iter()
                .map(|(f, v)| FoundValue {
                    field_id: Uuid::from_u128(*f),
                    value: (*v).to_owned(),
                })
                .collect(),
            flags: Vec::new(),
        }
    }

    #[test]
    fn corrections_are_planned_per_record_and_refused_where_they_must_not_go() {
        let corrections = [
            correction(1, 10, "t(id=1)"),
            correction(2, 11, "t(id=1)"),
            correction(3, 10, "t(id=2)"),
            correction(4, 12, "t(id=1)"),
            correction(5, 10, "t(id=3)"),
            correction(6, 10, "t(id=4)"),
            correction(7, 10, "t(id=5)"),
            correction(8, 13, "t(id=1)"),
        ];
        let values: HashMap<Uuid, String> = [
            (1, "Neu"),
            (2, "x@example.com"),
            (3, "Gleich"),
            (4, "7"),
            (5, "a"),
            (6, "b"),
            (7, "c"),
            (8, "2"),
        ]
        .into_iter()
        .map(|(n, v)| (Uuid::from_u128(n), v.to_owned()))
        .collect();
        let mut flagged = found("t(id=4)", &[(10, "old")]);
        flagged
            .flags
            .push((LeakKind::OtherSubjectIdentity, "shared".into()));
        let now = [
            found("t(id=1)", &[(10, "Alt"), (12, "1")]),
            found("t(id=2)", &[(10, "Gleich")]),
            flagged,
            found("t(id=5)", &[(10, "old")]),
        ];
        let keys: HashSet<Uuid> = [Uuid::from_u128(12)].into();
        let approved: HashSet<String> = ["t(id=1)", "t(id=2)", "t(id=3)", "t(id=4)"]
            .into_iter()
            .map(String::from)
            .collect();
        let links: HashSet<Uuid> = [Uuid::from_u128(13)].into();
        let plan = plan(
            &corrections,
            &values,
            &now,
            &keys,
            &links,
            &approved,
            &|v| format!("h({v})"),
        );
        assert_eq!(
            plan.changes,
            [RowChange {
                key: "t(id=1)".into(),
                delete: false,
                set: vec![
                    (Uuid::from_u128(10), Some("Neu".into())),
                    (Uuid::from_u128(11), Some("x@example.com".into()))
                ],
                typed: true,
                expect: Vec::new(),
            }],
            "one statement per record; an empty field is filled"
        );
        let by_id = |n: u128| {
            plan.outcomes
                .iter()
                .find(|o| o.id == Uuid::from_u128(n))
                .unwrap()
        };
        assert_eq!(by_id(1).result, CorrectionOutcome::Applied);
        assert_eq!(by_id(1).before_digest.as_deref(), Some("h(Alt)"));
        assert_eq!(by_id(2).before_digest, None, "the field was empty");
        assert_eq!(by_id(3).result, CorrectionOutcome::Unchanged);
        for (n, why) in [
            (4, "primary key"),
            (5, "no longer found"),
            (6, "leak check"),
            (7, "not among those collected and approved"),
            (8, "declared reference"),
        ] {
            assert_eq!(by_id(n).result, CorrectionOutcome::Failed, "{n}");
            assert!(by_id(n).detail.contains(why), "{n}: {}", by_id(n).detail);
        }
    }

    #[test]
    fn a_value_that_does_not_read_back_fails() {
        let corrections = [correction(1, 10, "t(id=1)"), correction(2, 11, "t(id=1)")];
        let values: HashMap<Uuid, String> = [(1, "12.5"), (2, "Neu")]
            .into_iter()
            .map(|(n, v)| (Uuid::from_u128(n), v.to_owned()))
            .collect();
        let digest = |v: &str| format!("h({v})");
        let mut corrections = corrections.to_vec();
        corrections[0].value_digest = digest("12.5");
        corrections[1].value_digest = digest("Neu");
        let approved: HashSet<String> = ["t(id=1)".to_owned()].into();
        let mut plan = plan(
            &corrections,
            &values,
            &[found("t(id=1)", &[(10, "1"), (11, "Alt")])],
            &HashSet::new(),
            &HashSet::new(),
            &approved,
            &digest,
        );
        check(
            &mut plan,
            &[found("t(id=1)", &[(10, "12.50"), (11, "Neu")])],
            &digest,
        );
        assert_eq!(plan.outcomes[0].result, CorrectionOutcome::Failed);
        assert_eq!(plan.outcomes[0].after_digest.as_deref(), Some("h(12.50)"));
        assert_eq!(plan.outcomes[1].result, CorrectionOutcome::Applied);
        assert_eq!(plan.outcomes[1].after_digest.as_deref(), Some("h(Neu)"));
    }
}
