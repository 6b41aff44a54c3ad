//! Carrying out an erasure (Art. 17) in the sources, with legal holds, a re-check
//! and a report.
//!
//! When an approved erasure request enters EXECUTING, every mapped source gets an
//! EXECUTE task. A worker claims it like a collection task (lease, heartbeat,
//! retries) when the source's connector can write (`readOnly: false` on a SQL
//! source); the others are carried out by a steward by hand. For a claimed task:
//!
//! 1. The source is searched again for the subject, exactly as collection does, so
//!    what is erased is what the source holds now. Records the reviewer left out
//!    Only records that were collected and approved are changed: one found now
//!    that the reviewer never saw (the register changed since, new data) is
//!    reported FAILED. Values the reviewer redacted stay (LEFT_OUT), and their row
//!    is not deleted. Records the leak check flags as possibly another person's are
//!    not touched and reported FAILED.
//! 2. Each field of each record follows its erasure strategy: the row is deleted
//!    when every mapped field of its table says DELETE_ROW; otherwise fields are
//!    set to NULL, masked, or anonymized deterministically (the same value gives
//!    the same replacement, so business records stay consistent: the order stays,
//!    name and e-mail go). Primary keys are never changed.
//! 3. Fields kept under a legal hold (KEEP_UNDER_HOLD) stay, restricted, with the
//!    retention duty of the register that requires them (the activity using the
//!    source and the field's category, with its retention policy's legal ground,
//!    e.g. § 147 AO) and the day it ends at the latest (Art. 17(3)(b)). A held
//!    field with no such duty in the register is refused: nothing is written.
//! 4. What will be done is stored before the source is changed; the changes go to
//!    the source in one transaction. A task taken over after a crash searches
//!    again, finds what is left, and adds to the plan: every step is idempotent.
//! 5. The source is searched again: any value of the subject that was to go and is
//!    still found is reported FAILED, and the task fails, visible to stewards.
//! 6. The outcomes per record and field are the erasure report; the subject's
//!    identities go on the suppression list as keyed fingerprints.
//!
//! A test request runs the same way up to the plan, which becomes its report
//! ("test request, not carried out"): the source is never changed and nobody goes
//! on the suppression list.

pub(crate) mod duties;
pub mod notices;
pub mod report;
pub mod suppression;

use std::collections::{HashMap, HashSet};

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use uuid::Uuid;

use entity::{collected_record, data_field, erasure_outcome, redaction, request_task};

use crate::access::audit::{self, Entry};
use crate::access::principal::Principal;
use crate::collection::{Pass, Phases, WorkerOptions, still_held};
use crate::connectors::{CollectError, CollectJob, ConnectorKind, Found, RowChange, connector};
use crate::core::crypto::Cipher;
use crate::error::{Error, Result};
use crate::register::fields::ErasureStrategy;
use crate::requests::{RequestKind, TimelineKind};
use crate::{Workflow, new_id, now};

pub use duties::Duty;

stored_enum! {
    /// What became of a field of a record when an erasure was carried out.
    ErasureResult {
        /// Deleted with its row, or set to NULL.
        Erased => "ERASED",
        /// Replaced by a value that no longer identifies the person (anonymized or
        /// masked); or a primary key kept while the rest of its row was.
        Anonymized => "ANONYMIZED",
        /// Kept under a legal duty to retain it, restricted until the duty ends.
        Retained => "RETAINED",
        /// Not erased: see the detail.
        Failed => "FAILED",
        /// Not erased: the reviewer left the value out of the answer as not the
        /// subject's (redacted).
        LeftOut => "LEFT_OUT",
        /// Carried out by a steward outside Auskunft (a source no worker reaches);
        /// the task's note says how.
        ByHand => "BY_HAND",
    }
}

/// What is planned for one field of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned {
    pub record_key: String,
    pub field_id: Uuid,
    pub location: String,
    pub strategy: ErasureStrategy,
    pub result: ErasureResult,
    pub duty: Option<Duty>,
    pub detail: Option<String>,
    /// For RETAINED: the value kept (sealed when stored).
    pub value: Option<String>,
}

/// The plan for the records a search found.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub changes: Vec<RowChange>,
    pub outcomes: Vec<Planned>,
    /// Values the reviewer redacted (left alone).
    pub left_out: usize,
}

/// The table part of a location (`customers` of `customers.email`) or of a record
/// key (`customers` of `customers(id=42)`).
fn table_of_location(location: &str) -> &str {
    location.rsplit_once('.').map_or(location, |(t, _)| t)
}

fn table_of_key(key: &str) -> &str {
    key.split_once('(').map_or(key, |(t, _)| t)
}

/// The replacement of `value` under `strategy` (`None`: NULL): anonymized values are
/// keyed fingerprints of the value with a `salt` of the run, so equal values stay
/// equal within it (and unique columns unique) without being readable, and nobody can
/// compute them again later (the salt is not kept); e-mail addresses keep their
/// shape. A mask keeps the first character.
pub(crate) fn replacement(
    cipher: &Cipher,
    salt: &[u8],
    strategy: ErasureStrategy,
    value: &str,
) -> Option<String> {
    match strategy {
        ErasureStrategy::Anonymize => {
            let scope = [b"anonymize:".as_slice(), salt].concat();
            let token = &cipher.fingerprint(&scope, value.as_bytes())[..20];
            Some(if value.contains('@') {
                format!("anon-{token}@anonymized.invalid")
            } else {
                format!("anon-{token}")
            })
        }
        ErasureStrategy::Mask => {
            let mut chars = value.chars();
            let first = chars.next().map(String::from).unwrap_or_default();
            Some(format!("{first}{}", "*".repeat(chars.count().clamp(3, 31))))
        }
        ErasureStrategy::SetNull | ErasureStrategy::DeleteRow | ErasureStrategy::KeepUnderHold => {
            None
        }
    }
}

/// Plans the erasure of the records a search found.
///
/// `duties` holds the duty of every held field; a held field without one is an
/// error naming it. Only records among `approved` (collected and approved) are
/// changed: a record found now that the reviewer never saw is reported FAILED.
/// Values in `redacted` (record, field) stay; their row is not deleted. `replace`
/// gives a field's new value.
pub(crate) fn plan(
    found: &[Found],
    fields: &[data_field::Model],
    key_fields: &HashSet<Uuid>,
    duties: &duties::Duties,
    approved: &HashSet<String>,
    redacted: &HashSet<(String, Uuid)>,
    replace: &dyn Fn(ErasureStrategy, &str) -> Option<String>,
) -> std::result::Result<Plan, String> {
    let strategy = |f: &data_field::Model| {
        f.erasure_strategy
            .parse::<ErasureStrategy>()
            .unwrap_or(ErasureStrategy::KeepUnderHold)
    };
    let by_id: HashMap<Uuid, &data_field::Model> = fields.iter().map(|f| (f.id, f)).collect();
    let mut out = Plan::default();
    for record in found {
        let table = table_of_key(&record.key);
        let present: Vec<(&data_field::Model, &str)> = record
            .values
            .iter()
            .filter_map(|v| by_id.get(&v.field_id).map(|f| (*f, v.value.as_str())))
            .collect();
        let row_fields: Vec<&data_field::Model> = fields
            .iter()
            .filter(|f| {
                table_of_location(&f.location) == table || present.iter().any(|(p, _)| p.id == f.id)
            })
            .collect();
        let planned =
            |f: &data_field::Model, result, duty: Option<Duty>, detail: Option<&str>| Planned {
                record_key: record.key.clone(),
                field_id: f.id,
                location: f.location.clone(),
                strategy: strategy(f),
                result,
                duty,
                detail: detail.map(str::to_owned),
                value: None,
            };
        let refused = if !record.flags.is_empty() {
            Some("the record may be another person's (leak check): erase it by hand after checking")
        } else if !approved.contains(&record.key) {
            Some(
                "found now but not among the records collected and approved: not touched; \
                 collect and review again, or check it by hand",
            )
        } else {
            None
        };
        if let Some(why) = refused {
            for (f, _) in &present {
                out.outcomes
                    .push(planned(f, ErasureResult::Failed, None, Some(why)));
            }
            continue;
        }
        let is_redacted = |f: &data_field::Model| redacted.contains(&(record.key.clone(), f.id));
        let any_redacted = present.iter().any(|(f, _)| is_redacted(f));
        // Each held field's duty in this record; one that has already ended holds
        // nothing, and the field goes the way its policy's action says.
        let mut held: HashMap<Uuid, Duty> = HashMap::new();
        let mut ended: HashMap<Uuid, Duty> = HashMap::new();
        for f in row_fields.iter().filter(|f| {
            strategy(f) == ErasureStrategy::KeepUnderHold && !key_fields.contains(&f.id)
        }) {
            let duty = duties.of(f.id, record, found).ok_or_else(|| {
                format!(
                    "`{}` is to be kept under a legal hold, but no retention policy with a legal \
                     reference covers its category in an activity using this source; nothing was \
                     erased",
                    f.location
                )
            })?;
            if duty.until < duties.today && duty.ended() != ErasureStrategy::KeepUnderHold {
                ended.insert(f.id, duty);
            } else {
                held.insert(f.id, duty);
            }
        }
        // What each field is to become: a hold that ended gives way to its action.
        let effective =
            |f: &data_field::Model| ended.get(&f.id).map_or_else(|| strategy(f), |d| d.ended());
        // The row's hold: the longest duty of its held fields.
        let hold: Option<Duty> = held.values().max_by_key(|d| d.until).cloned();
        // A key column held only for its row's sake does not keep a row whose
        // holds have all ended.
        let delete = hold.is_none()
            && !any_redacted
            && row_fields.iter().any(|f| !key_fields.contains(&f.id))
            && row_fields.iter().all(|f| {
                effective(f) == ErasureStrategy::DeleteRow
                    || (key_fields.contains(&f.id) && strategy(f) == ErasureStrategy::KeepUnderHold)
            });
        let mut set = Vec::new();
        for (f, value) in &present {
            let s = effective(f);
            let (result, duty, detail) = if is_redacted(f) {
                out.left_out += 1;
                (
                    ErasureResult::LeftOut,
                    None,
                    Some("left out by the reviewer as not the subject's: not erased"),
                )
            } else if key_fields.contains(&f.id) {
                match (&hold, delete) {
                    (_, true) => (ErasureResult::Erased, None, Some("row deleted")),
                    (Some(h), _) => (
                        ErasureResult::Retained,
                        Some(h.clone()),
                        Some("primary key of a row kept under a legal hold"),
                    ),
                    (None, _) => (
                        ErasureResult::Anonymized,
                        None,
                        Some("primary key kept: the row it names no longer identifies the person"),
                    ),
                }
            } else if delete {
                (ErasureResult::Erased, None, Some("row deleted"))
            } else {
                match s {
                    ErasureStrategy::KeepUnderHold => match held.get(&f.id) {
                        Some(duty) => (ErasureResult::Retained, Some(duty.clone()), None),
                        None => (
                            ErasureResult::Failed,
                            None,
                            Some("kept under a legal hold, but no duty was found for it"),
                        ),
                    },
                    ErasureStrategy::Anonymize => {
                        set.push((f.id, replace(s, value)));
                        (ErasureResult::Anonymized, None, Some("anonymized"))
                    }
                    ErasureStrategy::Mask => {
                        set.push((f.id, replace(s, value)));
                        (ErasureResult::Anonymized, None, Some("masked"))
                    }
                    ErasureStrategy::SetNull | ErasureStrategy::DeleteRow => {
                        set.push((f.id, None));
                        (ErasureResult::Erased, None, Some("set to NULL"))
                    }
                }
            };
            let detail = match (&duty, ended.get(&f.id)) {
                (Some(duty), _) if result == ErasureResult::Retained => Some(match detail {
                    Some(d) => format!("{d}; {}", duty.reason()),
                    None => duty.reason(),
                }),
                (_, Some(gone)) => Some(format!(
                    "{}: the hold under «{}» ({}) ended on {}",
                    detail.unwrap_or("erased"),
                    gone.policy,
                    gone.legal_reference,
                    gone.until
                )),
                _ => detail.map(str::to_owned),
            };
            let mut outcome = planned(f, result, duty, detail.as_deref());
            if result == ErasureResult::Retained {
                outcome.value = Some((*value).to_owned());
            }
            out.outcomes.push(outcome);
        }
        if delete || !set.is_empty() {
            out.changes.push(RowChange {
                key: record.key.clone(),
                delete,
                set,
                typed: false,
                expect: Vec::new(),
            });
        }
    }
    Ok(out)
}

/// Values of the subject still found after the erasure that were to go: for each
/// record found again, the values of fields neither held nor keys that equal what
/// was there before (or any such value of a record not seen before). Values left
/// out (redacted) and records refused before are not counted again.
pub(crate) fn leftovers(
    before: &[Found],
    after: &[Found],
    plan: &Plan,
    key_fields: &HashSet<Uuid>,
) -> Vec<(String, Uuid)> {
    // Values meant to stay: held, or left out by the reviewer.
    let held: HashSet<(&str, Uuid)> = plan
        .outcomes
        .iter()
        .filter(|o| matches!(o.result, ErasureResult::Retained | ErasureResult::LeftOut))
        .map(|o| (o.record_key.as_str(), o.field_id))
        .collect();
    let failed: HashSet<&str> = plan
        .outcomes
        .iter()
        .filter(|o| o.result == ErasureResult::Failed)
        .map(|o| o.record_key.as_str())
        .collect();
    let earlier: HashMap<&str, &Found> = before.iter().map(|f| (f.key.as_str(), f)).collect();
    let mut out = Vec::new();
    for record in after {
        if failed.contains(record.key.as_str()) {
            continue;
        }
        for v in &record.values {
            if key_fields.contains(&v.field_id) || held.contains(&(record.key.as_str(), v.field_id))
            {
                continue;
            }
            let still = match earlier.get(record.key.as_str()) {
                Some(was) => was
                    .values
                    .iter()
                    .any(|w| w.field_id == v.field_id && w.value == v.value),
                None => true,
            };
            if still {
                out.push((record.key.clone(), v.field_id));
            }
        }
    }
    out
}

impl Workflow {
    /// Runs a claimed EXECUTE task of an erasure request (see the module docs).
    pub(crate) async fn run_erasure(
        &self,
        owner: &str,
        options: &WorkerOptions,
        task: request_task::Model,
    ) -> Result<Pass> {
        let conn = self.store.conn();
        let request = crate::requests::find_request(conn, task.org_id, task.request_id).await?;
        if request.kind != RequestKind::Erasure.as_str() {
            return Err(Error::Internal(format!(
                "task {} of a {} request was claimed for erasure",
                task.id, request.kind
            )));
        }
        let source = entity::data_source::Entity::find_by_id(task.source_id)
            .one(conn)
            .await?
            .ok_or(Error::NotFound {
                what: "data source",
            })?;
        let fields = data_field::Entity::find()
            .filter(data_field::Column::SourceId.eq(task.source_id))
            .all(conn)
            .await?;
        let identities = crate::collection::search_identities(conn, &request).await?;
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
        let approved = Approved::read(conn, &request, source.id).await?;
        let duties = duties::of_source(conn, request.org_id, source.id, &fields).await?;
        // Replacements are fixed within one run (the same value, the same
        // replacement: joins and unique columns keep working) and cannot be computed
        // again afterwards: the salt is never stored.
        let cipher = self.cipher.clone();
        let mut salt = Vec::with_capacity(48);
        salt.extend_from_slice(request.org_id.as_bytes());
        salt.extend_from_slice(request.id.as_bytes());
        salt.extend_from_slice(new_id().as_bytes());
        let replace = move |s: ErasureStrategy, v: &str| replacement(&cipher, &salt, s, v);

        let work = async {
            let key_fields = c.erase(&job, &[]).await?.key_fields;
            let before = c.collect(&job).await?;
            let plan = plan(
                &before,
                &fields,
                &key_fields,
                &duties,
                &approved.keys,
                &approved.redacted,
                &replace,
            )
            .map_err(CollectError::Mapping)?;
            Ok::<_, CollectError>((key_fields, before, plan))
        };
        let prepared = tokio::select! {
            r = work => Some(r),
            () = self.heartbeat(owner, task.id, options) => None,
        };
        let (key_fields, before, mut plan) = match prepared {
            None => return Ok(Pass::Lost { task_id: task.id }),
            Some(Err(e)) => return self.fail(owner, options, &task, e).await,
            Some(Ok(p)) => p,
        };
        // A test request runs end to end without touching the source: the plan is
        // the report, marked as such.
        if request.is_test {
            for o in &mut plan.outcomes {
                o.detail = Some(format!(
                    "test request, not carried out: {}",
                    o.detail.as_deref().unwrap_or("planned")
                ));
            }
            plan.changes.clear();
        }
        // What will be done is stored before the source changes.
        if !self.store_plan(owner, &task, &plan).await? {
            return Ok(Pass::Lost { task_id: task.id });
        }
        let work = async {
            if request.is_test {
                return Ok((crate::connectors::Erased::default(), before.clone()));
            }
            let erased = c.erase(&job, &plan.changes).await?;
            let after = c.collect(&job).await?;
            Ok::<_, CollectError>((erased, after))
        };
        let done = tokio::select! {
            r = work => Some(r),
            () = self.heartbeat(owner, task.id, options) => None,
        };
        let (erased, after) = match done {
            None => return Ok(Pass::Lost { task_id: task.id }),
            Some(Err(e)) => return self.fail(owner, options, &task, e).await,
            Some(Ok(p)) => p,
        };
        let left = if request.is_test {
            Vec::new()
        } else {
            leftovers(&before, &after, &plan, &key_fields)
        };
        self.finish_erasure(
            owner,
            &task,
            &source.name,
            &plan,
            &erased.nulled,
            &left,
            &identities,
        )
        .await
    }

    /// Stores the plan's outcomes of records not planned before by this task; false
    /// when the lease was lost.
    async fn store_plan(
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
        // Records found again are planned afresh (the register may have changed
        // since an attempt the source refused); what an earlier run planned for
        // records no longer found stays: that run carried it out before it was lost.
        let keys: Vec<String> = plan
            .outcomes
            .iter()
            .map(|o| o.record_key.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for chunk in keys.chunks(500) {
            erasure_outcome::Entity::delete_many()
                .filter(erasure_outcome::Column::TaskId.eq(task.id))
                .filter(erasure_outcome::Column::CarriedOutAt.is_null())
                .filter(erasure_outcome::Column::RecordKey.is_in(chunk.iter().cloned()))
                .exec(conn)
                .await?;
        }
        let stored: HashSet<(String, Option<Uuid>)> = erasure_outcome::Entity::find()
            .filter(erasure_outcome::Column::TaskId.eq(task.id))
            .all(conn)
            .await?
            .into_iter()
            .map(|o| (o.record_key, o.field_id))
            .collect();
        let at = now();
        let mut rows: Vec<erasure_outcome::ActiveModel> = Vec::new();
        for o in plan
            .outcomes
            .iter()
            .filter(|o| !stored.contains(&(o.record_key.clone(), Some(o.field_id))))
        {
            let held_value = match &o.value {
                Some(v) => Some(self.cipher.encrypt(v.as_bytes())?),
                None => None,
            };
            rows.push(erasure_outcome::ActiveModel {
                id: Set(new_id()),
                org_id: Set(task.org_id),
                request_id: Set(task.request_id),
                task_id: Set(task.id),
                source_id: Set(task.source_id),
                field_id: Set(Some(o.field_id)),
                location: Set(o.location.clone()),
                record_key: Set(o.record_key.clone()),
                strategy: Set(o.strategy.as_str().to_owned()),
                outcome: Set(o.result.as_str().to_owned()),
                legal_reference: Set(o.duty.as_ref().map(|d| d.legal_reference.clone())),
                held_until: Set(o.duty.as_ref().map(|d| d.until)),
                detail: Set(o.detail.clone()),
                created_at: Set(at),
                carried_out_at: Set(None),
                released_at: Set(None),
                hold_action: Set(o.duty.as_ref().map(|d| d.action.as_str().to_owned())),
                held_value: Set(held_value),
            });
        }
        for chunk in rows.chunks(500) {
            erasure_outcome::Entity::insert_many(chunk.to_vec())
                .exec(conn)
                .await?;
        }
        tx.commit(&self.bus).await?;
        Ok(true)
    }

    /// Completes the task (or fails it, when values are left), notes the nulled
    /// replacements and the leftovers in its outcomes, puts the subject's
    /// identities on the suppression list; one transaction under the request's lock.
    #[allow(clippy::too_many_arguments)]
    async fn finish_erasure(
        &self,
        owner: &str,
        task: &request_task::Model,
        source_name: &str,
        plan: &Plan,
        nulled: &HashSet<Uuid>,
        left: &[(String, Uuid)],
        identities: &[crate::connectors::SearchIdentity],
    ) -> Result<Pass> {
        let worker = Principal::worker(task.org_id);
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let Some((request, current)) = still_held(conn, task, owner).await? else {
            return Ok(Pass::Lost { task_id: task.id });
        };
        use erasure_outcome::Column as O;
        for field in nulled {
            erasure_outcome::Entity::update_many()
                .col_expr(
                    O::Detail,
                    sea_orm::sea_query::Expr::value("set to NULL: the column holds no text"),
                )
                .filter(O::TaskId.eq(task.id))
                .filter(O::FieldId.eq(*field))
                .filter(O::Outcome.eq(ErasureResult::Anonymized.as_str()))
                .exec(conn)
                .await?;
        }
        let at = now();
        for (key, field) in left {
            let updated = erasure_outcome::Entity::update_many()
                .col_expr(
                    O::Outcome,
                    sea_orm::sea_query::Expr::value(ErasureResult::Failed.as_str()),
                )
                .col_expr(
                    O::Detail,
                    sea_orm::sea_query::Expr::value("still found after the erasure"),
                )
                .filter(O::TaskId.eq(task.id))
                .filter(O::RecordKey.eq(key.as_str()))
                .filter(O::FieldId.eq(*field))
                .exec(conn)
                .await?
                .rows_affected;
            if updated == 0 {
                let location = plan
                    .outcomes
                    .iter()
                    .find(|o| o.field_id == *field)
                    .map(|o| o.location.clone())
                    .unwrap_or_default();
                erasure_outcome::ActiveModel {
                    id: Set(new_id()),
                    org_id: Set(task.org_id),
                    request_id: Set(task.request_id),
                    task_id: Set(task.id),
                    source_id: Set(task.source_id),
                    field_id: Set(Some(*field)),
                    location: Set(location),
                    record_key: Set(key.clone()),
                    strategy: Set(String::new()),
                    outcome: Set(ErasureResult::Failed.as_str().to_owned()),
                    legal_reference: Set(None),
                    held_until: Set(None),
                    detail: Set(Some(
                        "found after the erasure; not there when it was planned".to_owned(),
                    )),
                    created_at: Set(at),
                    carried_out_at: Set(Some(at)),
                    released_at: Set(None),
                    hold_action: Set(None),
                    held_value: Set(None),
                }
                .insert(conn)
                .await?;
            }
        }
        // Everything the task planned is carried out now, including what a run
        // before a crash planned and did (the re-check found it gone).
        erasure_outcome::Entity::update_many()
            .col_expr(O::CarriedOutAt, sea_orm::sea_query::Expr::value(at))
            .filter(O::TaskId.eq(task.id))
            .filter(O::CarriedOutAt.is_null())
            .exec(conn)
            .await?;
        let failed = erasure_outcome::Entity::find()
            .filter(O::TaskId.eq(task.id))
            .filter(O::Outcome.eq(ErasureResult::Failed.as_str()))
            .all(conn)
            .await?;
        let counts = report::count(
            erasure_outcome::Entity::find()
                .filter(O::TaskId.eq(task.id))
                .all(conn)
                .await?
                .iter(),
        );
        let note;
        let mut error = None;
        if failed.is_empty() {
            note = format!(
                "EXECUTE task for `{source_name}`: {} ({counts}{})",
                if request.is_test {
                    "test request: erasure planned, the source was not changed"
                } else {
                    "erasure carried out and checked"
                },
                if plan.left_out > 0 {
                    format!(
                        "; {} value(s) the reviewer left out untouched",
                        plan.left_out
                    )
                } else {
                    String::new()
                }
            );
            if !request.is_test {
                suppression::add(conn, &self.cipher, &request, identities, at).await?;
            }
        } else {
            let locations: std::collections::BTreeSet<&str> =
                failed.iter().map(|o| o.location.as_str()).collect();
            let message = format!(
                "{} value(s) not erased in {}: see the erasure report; carry them out by hand, \
                 then complete the task",
                failed.len(),
                locations.into_iter().collect::<Vec<_>>().join(", ")
            );
            note = format!("EXECUTE task for `{source_name}` failed: {message} ({counts})");
            error = Some(message);
        }
        crate::execution::worker_ended(current, at, error)
            .update(conn)
            .await?;
        let updated = crate::requests::update_versioned(
            conn,
            request.clone().into_active_model(),
            request.version,
        )
        .await?;
        self.note(&mut tx, &worker, &updated, TimelineKind::Task, note)
            .await?;
        let mut entry = Entry::success("executeTask", "RequestTask", task.id);
        if !failed.is_empty() {
            entry.outcome = audit::Outcome::Failed;
            entry.error_code = Some("ERASURE_INCOMPLETE".to_owned());
        }
        self.commit_audited(tx, &worker, entry).await?;
        metrics::counter!("auskunft_erasure_tasks_total", "outcome" => if failed.is_empty() { "done" } else { "failed" }).increment(1);
        Ok(if failed.is_empty() {
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

/// A steward completed an EXECUTE task of an erasure by hand. What the worker
/// reported FAILED stays FAILED (the steward's completion says the task is done, not
/// what became of each value); what a worker planned but never carried out is
/// reported FAILED too; a source no worker reached gets one BY_HAND line (the
/// steward's note is on the task, readable with the request's data, not in the
/// report).
pub(crate) async fn done_by_hand<C: crate::core::store::Conn>(
    conn: &C,
    task: &request_task::Model,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    use erasure_outcome::Column as O;
    use sea_orm::sea_query::Expr;
    let request = entity::subject_request::Entity::find_by_id(task.request_id)
        .one(conn)
        .await?;
    if request.is_none_or(|r| r.kind != RequestKind::Erasure.as_str()) {
        return Ok(());
    }
    erasure_outcome::Entity::update_many()
        .col_expr(O::Outcome, Expr::value(ErasureResult::Failed.as_str()))
        .col_expr(
            O::Detail,
            Expr::value(
                "planned by the worker but not carried out; the task was completed by hand",
            ),
        )
        .col_expr(O::CarriedOutAt, Expr::value(at))
        .filter(O::TaskId.eq(task.id))
        .filter(O::CarriedOutAt.is_null())
        .exec(conn)
        .await?;
    let any = erasure_outcome::Entity::find()
        .filter(O::TaskId.eq(task.id))
        .one(conn)
        .await?
        .is_some();
    if !any {
        erasure_outcome::ActiveModel {
            id: Set(new_id()),
            org_id: Set(task.org_id),
            request_id: Set(task.request_id),
            task_id: Set(task.id),
            source_id: Set(task.source_id),
            field_id: Set(None),
            location: Set("(whole source)".to_owned()),
            record_key: Set(String::new()),
            strategy: Set(String::new()),
            outcome: Set(ErasureResult::ByHand.as_str().to_owned()),
            legal_reference: Set(None),
            held_until: Set(None),
            detail: Set(Some(
                "carried out by a steward outside Auskunft; see the task's note".to_owned(),
            )),
            created_at: Set(at),
            carried_out_at: Set(Some(at)),
            released_at: Set(None),
            hold_action: Set(None),
            held_value: Set(None),
        }
        .insert(conn)
        .await?;
    }
    Ok(())
}

/// What the reviewer approved of a source: the records collected (their keys) and
/// the values redacted (record, field). A register changed since (a field moved, a
/// reference added) cannot reach further than these records; a changed strategy
/// applies (register changes are audited).
pub(crate) struct Approved {
    pub(crate) keys: HashSet<String>,
    pub(crate) redacted: HashSet<(String, Uuid)>,
}

impl Approved {
    pub(crate) async fn read<C: crate::core::store::Conn>(
        conn: &C,
        request: &entity::subject_request::Model,
        source_id: Uuid,
    ) -> Result<Self> {
        let records = collected_record::Entity::find()
            .filter(collected_record::Column::RequestId.eq(request.id))
            .filter(collected_record::Column::SourceId.eq(source_id))
            .all(conn)
            .await?;
        let redactions: HashSet<Uuid> = redaction::Entity::find()
            .filter(redaction::Column::RequestId.eq(request.id))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| r.record_id)
            .collect();
        Ok(Self {
            keys: records
                .iter()
                .filter_map(|r| r.record_key.clone())
                .collect(),
            redacted: records
                .iter()
                .filter(|r| redactions.contains(&r.id))
                .filter_map(|r| Some((r.record_key.clone()?, r.field_id?)))
                .collect(),
        })
    }
}

/// The held-until day of a duty, for tests.
#[cfg(test)]
pub(crate) fn day(s: &str) -> chrono::NaiveDate {
    s.parse().unwrap()
}

#[cfg(test)]
pub(crate) mod tests;
