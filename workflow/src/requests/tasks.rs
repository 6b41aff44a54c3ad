//! Tasks of a request: one per mapped source, completed by hand here (a steward
//! enters what the source holds, or uploads it: see `uploads`); the collection
//! engine completes them automatically. What a task found is stored as sealed
//! collected records, replacing what it stored before.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseBackend, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, Set, Statement,
};
use uuid::Uuid;

use entity::{
    collected_record, data_field, redaction, request_attachment, request_task, subject_request,
};

use super::TimelineKind;
use super::machine::RequestState;
use super::view::{RequestView, TaskView};
use crate::access::audit::Entry;
use crate::access::authz::{Action, Object};
use crate::access::principal::Principal;
use crate::core::store::{Conn, Tx};
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

stored_enum! {
    /// What a task does in its source.
    TaskKind {
        /// Find everything the source holds about the subject.
        Collect => "COLLECT",
        /// Carry out erasure, restriction or rectification in the source.
        Execute => "EXECUTE",
    }
}

stored_enum! {
    /// Where a task stands.
    TaskState {
        /// Not done yet.
        Open => "OPEN",
        /// Done.
        Done => "DONE",
        /// Failed; shows up in stalled requests until done by hand.
        Failed => "FAILED",
    }
}

/// One value found in a source.
#[derive(Debug, Clone)]
pub struct CollectedValue {
    /// The mapped field it comes from (its location and category are taken over).
    pub field_id: Option<Uuid>,
    /// Where it was found, when no field is named (e.g. `customers.email`).
    pub location: Option<String>,
    /// The value as found.
    pub value: String,
}

/// How a task ended.
#[derive(Debug, Clone)]
pub enum TaskOutcome {
    /// Done; for COLLECT tasks, with what was found (replacing earlier results).
    Done {
        /// Values found (empty: the source holds nothing about the subject).
        values: Vec<CollectedValue>,
        /// A note, e.g. how it was searched.
        note: Option<String>,
    },
    /// It failed (e.g. the source was unreachable).
    Failed {
        /// What went wrong.
        error: String,
    },
}

/// Why a collected value given by a person is refused: a NUL, an escape sequence or
/// another control character is no data of the subject, and would travel into the
/// answer's letter and files.
pub(crate) const CONTROL_CHARACTERS: &str =
    "must not contain control characters (tabs and line breaks are fine)";

/// Whether a value given by a person holds no control characters but tabs and line
/// breaks.
pub(crate) fn is_plain_text(value: &str) -> bool {
    !value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// Checks the values entered for a task against the fields of its source: each
/// names a field of that source or a location, and holds a non-empty value.
fn checked_values<'f>(
    v: &mut Validator,
    values: Vec<CollectedValue>,
    fields: &'f [data_field::Model],
) -> Vec<NewValue<'f>> {
    v.check(
        values.len() <= 1000,
        &["input", "values"],
        "at most 1000 values per task",
    );
    let mut rows = Vec::with_capacity(values.len());
    for (i, value) in values.into_iter().enumerate() {
        let index = i.to_string();
        let field = value
            .field_id
            .and_then(|id| fields.iter().find(|f| f.id == id));
        v.check(
            value.field_id.is_none() || field.is_some(),
            &["input", "values", &index, "fieldId"],
            "is not a field of this task's source",
        );
        let location_path = ["input", "values", index.as_str(), "location"];
        let (field, location) = match (field, value.location) {
            (Some(f), _) => (Some(f), f.location.clone()),
            (None, Some(l)) => {
                let l = v.text(&l, &location_path, 300);
                // A location a field of the source maps IS that field, however it was
                // named: the record is at the same place (its redaction carries over)
                // and has the field's category.
                (fields.iter().find(|f| f.location == l), l)
            }
            (None, None) => {
                v.check(false, &location_path, "name a fieldId or a location");
                (None, String::new())
            }
        };
        let value_path = ["input", "values", index.as_str(), "value"];
        v.check(
            !value.value.trim().is_empty(),
            &value_path,
            "must not be empty",
        );
        v.check(
            value.value.chars().count() <= 10_000,
            &value_path,
            "must be at most 10000 characters",
        );
        v.check(is_plain_text(&value.value), &value_path, CONTROL_CHARACTERS);
        rows.push(NewValue {
            field,
            location,
            record_key: None,
            value: value.value,
            sealed: None,
        });
    }
    rows
}

/// One value to store as a task's result: its field (whose location and category
/// are taken over) or a location, and the record it belongs to.
#[derive(Debug, Clone)]
pub(crate) struct NewValue<'f> {
    /// The mapped field it comes from.
    pub field: Option<&'f data_field::Model>,
    /// Where it was found.
    pub location: String,
    /// The record (row, object, upload) it belongs to; `None`: a record of its own.
    pub record_key: Option<String>,
    /// The value as found (sealed when stored).
    pub value: String,
    /// The value already sealed (by a worker, ahead of its transaction).
    pub sealed: Option<String>,
}

/// What replacing a task's results did.
pub(crate) struct Replaced {
    /// Redactions carried over to values collected again at the same place.
    pub kept: usize,
    /// Redactions whose value is gone, with the record they were on.
    pub dropped: Vec<(collected_record::Model, redaction::Model)>,
    /// What was stored, with the plain values.
    pub records: Vec<(collected_record::Model, String)>,
}

/// How a task ends: its changed columns, the timeline message, and the redactions
/// dropped with the results it replaced.
pub(crate) struct TaskEnd {
    pub active: request_task::ActiveModel,
    pub message: String,
    pub dropped: Vec<(collected_record::Model, redaction::Model)>,
}

/// A task that may be completed now, with its request.
pub(crate) struct OpenTask {
    pub task: request_task::Model,
    pub kind: TaskKind,
    pub request: subject_request::Model,
}

impl Workflow {
    /// Loads a task of the principal's organization and checks that it may be
    /// completed now: COLLECT tasks need `request:collect` and a request in
    /// COLLECTING; EXECUTE tasks need `request:execute` and EXECUTING.
    pub(crate) async fn open_task<C: Conn>(
        &self,
        conn: &C,
        principal: &Principal,
        task_id: Uuid,
    ) -> Result<OpenTask> {
        let task = request_task::Entity::find_by_id(task_id)
            .filter(request_task::Column::OrgId.eq(principal.org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound { what: "task" })?;
        let kind: TaskKind = task.kind.parse()?;
        let (action, needed) = match kind {
            TaskKind::Collect => (Action::Collect, RequestState::Collecting),
            TaskKind::Execute => (Action::Execute, RequestState::Executing),
        };
        self.authz
            .require(principal.key_id, principal.org_id, Object::Request, action)
            .await?;
        let request = super::find_request(conn, principal.org_id, task.request_id).await?;
        let state: RequestState = request.state.parse()?;
        if state != needed {
            return Err(Error::Conflict(format!(
                "{} tasks can only be completed while the request is {needed}; it is {state}",
                kind.as_str()
            )));
        }
        Ok(OpenTask {
            task,
            kind,
            request,
        })
    }

    /// Replaces what a task stored before (its collected records and uploaded files)
    /// by `values`, sealed. Results are idempotent per task. A reviewer's redaction
    /// goes with its record (the foreign key cascades) unless the same value is
    /// collected again at the same place: then it is carried over to the new record;
    /// the others are returned as dropped, for the timeline.
    ///
    /// `flags` are what the connector noticed about the records (leak findings of
    /// the task); they replace the task's earlier ones.
    pub(crate) async fn replace_task_results<C: Conn>(
        &self,
        conn: &C,
        task: &request_task::Model,
        values: Vec<NewValue<'_>>,
        flags: Vec<(String, crate::collection::leaks::LeakKind, String)>,
        at: DateTime<Utc>,
    ) -> Result<Replaced> {
        // A task that never ended (no note, never completed; a note is written with
        // every result and every reopening) has stored nothing: no records, findings,
        // redactions or files to read or clear.
        let first = task.note.is_none() && task.completed_at.is_none();
        if !first || !flags.is_empty() {
            self.replace_task_findings(conn, task, flags, first).await?;
        }
        let old = if first {
            Vec::new()
        } else {
            collected_record::Entity::find()
                .filter(collected_record::Column::TaskId.eq(task.id))
                .order_by_asc(collected_record::Column::Id)
                .all(conn)
                .await?
        };
        // A task that stored nothing yet has no redactions and no files either (every
        // file comes with its record): its first result needs no clearing.
        let redacted_old = if old.is_empty() {
            Vec::new()
        } else {
            let old_redactions = redaction::Entity::find()
                .filter(redaction::Column::RequestId.eq(task.request_id))
                .filter(redaction::Column::RecordId.is_in(old.iter().map(|r| r.id)))
                .all(conn)
                .await?;
            let redacted_old = old_redactions
                .into_iter()
                .filter_map(|d| Some((old.iter().find(|r| r.id == d.record_id)?, d)))
                .map(|(r, d)| Ok((r.clone(), self.open_value(r)?, d)))
                .collect::<Result<Vec<_>>>()?;
            collected_record::Entity::delete_many()
                .filter(collected_record::Column::TaskId.eq(task.id))
                .exec(conn)
                .await?;
            request_attachment::Entity::delete_many()
                .filter(request_attachment::Column::TaskId.eq(task.id))
                .exec(conn)
                .await?;
            redacted_old
        };
        let records = values
            .into_iter()
            .map(|v| {
                let model = collected_record::Model {
                    id: new_id(),
                    org_id: task.org_id,
                    request_id: task.request_id,
                    task_id: task.id,
                    source_id: task.source_id,
                    field_id: v.field.map(|f| f.id),
                    data_category_id: v.field.and_then(|f| f.data_category_id),
                    location: v.location,
                    record_key: v.record_key,
                    value: match v.sealed {
                        Some(sealed) => sealed,
                        None => self.cipher.encrypt(v.value.as_bytes())?,
                    },
                    created_at: at,
                };
                Ok((model, v.value))
            })
            .collect::<Result<Vec<_>>>()?;
        let (carried, dropped) = super::changes::carry_redactions(redacted_old, &records);
        let kept = carried.len();
        insert_records(conn, &records).await?;
        if !carried.is_empty() {
            redaction::Entity::insert_many(carried).exec(conn).await?;
        }
        Ok(Replaced {
            kept,
            dropped,
            records,
        })
    }

    /// Names the redactions a new result dropped in the timeline.
    pub(crate) async fn note_dropped(
        &self,
        tx: &mut Tx,
        principal: &Principal,
        request: &subject_request::Model,
        dropped: &[(collected_record::Model, redaction::Model)],
    ) -> Result<()> {
        if dropped.is_empty() {
            return Ok(());
        }
        let list = dropped
            .iter()
            .map(|(r, d)| format!("record {} ({}; redacted: {})", r.id, r.location, d.reason))
            .collect::<Vec<_>>()
            .join(", ");
        self.note(
            tx,
            principal,
            request,
            TimelineKind::Redaction,
            format!(
                "{} redaction(s) dropped: the value is no longer collected at the same place: {list}",
                dropped.len()
            ),
        )
        .await
    }

    /// Stores a task's new state, counts the attempt, changes the request's version
    /// (its content changed), writes the timeline (with the redactions dropped) and
    /// commits with an audit record of `operation`.
    pub(crate) async fn finish_task(
        &self,
        mut tx: Tx,
        principal: &Principal,
        open: OpenTask,
        end: TaskEnd,
        operation: &'static str,
    ) -> Result<(TaskView, RequestView)> {
        let TaskEnd {
            mut active,
            message,
            dropped,
        } = end;
        let conn = tx.conn();
        active.updated_at = Set(now());
        let mut task = active.update(conn).await?;
        // Counted in the statement, never read-then-write.
        request_task::Entity::update_many()
            .col_expr(
                request_task::Column::Attempts,
                Expr::col(request_task::Column::Attempts).add(1),
            )
            .filter(request_task::Column::Id.eq(task.id))
            .exec(conn)
            .await?;
        task.attempts += 1;
        let expected = open.request.version;
        let updated =
            super::update_versioned(conn, open.request.into_active_model(), expected).await?;
        self.note(&mut tx, principal, &updated, TimelineKind::Task, message)
            .await?;
        self.note_dropped(&mut tx, principal, &updated, &dropped)
            .await?;
        let audit = Entry::success(operation, "RequestTask", task.id);
        self.commit_audited(tx, principal, audit).await?;
        Ok((task.try_into()?, updated.try_into()?))
    }

    /// Completes or fails a task by hand. COLLECT tasks need `request:collect` and a
    /// request in COLLECTING; EXECUTE tasks need `request:execute` and EXECUTING.
    /// Changes the request's version (its content changed).
    #[tracing::instrument(skip(self, outcome), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn complete_task(
        &self,
        principal: &Principal,
        task_id: Uuid,
        outcome: TaskOutcome,
    ) -> Result<(TaskView, RequestView)> {
        let tx = self.store.begin().await?;
        let conn = tx.conn();
        let open = self.open_task(conn, principal, task_id).await?;
        let kind = open.kind;
        let mut v = Validator::default();
        let at = now();
        let mut active = open.task.clone().into_active_model();
        let message;
        let mut dropped = Vec::new();
        // The audit names the mutation that ended the task.
        let operation = match outcome {
            TaskOutcome::Done { .. } => "completeTask",
            TaskOutcome::Failed { .. } => "failTask",
        };
        match outcome {
            TaskOutcome::Done { values, note } => {
                let note = v.optional_text(note, &["input", "note"], 5000);
                if kind == TaskKind::Execute {
                    v.check(
                        values.is_empty(),
                        &["input", "values"],
                        "execution tasks record a note, not values",
                    );
                    v.check(
                        note.is_some(),
                        &["input", "note"],
                        "say what was done in the source",
                    );
                }
                let fields = data_field::Entity::find()
                    .filter(data_field::Column::SourceId.eq(open.task.source_id))
                    .all(conn)
                    .await?;
                let rows = checked_values(&mut v, values, &fields);
                v.finish()?;
                let count = rows.len();
                let replaced = self
                    .replace_task_results(conn, &open.task, rows, Vec::new(), at)
                    .await?;
                dropped = replaced.dropped;
                let kept = replaced.kept;
                if kind == TaskKind::Execute {
                    crate::execution::done_by_hand(conn, &open.task, at).await?;
                }
                active.state = Set(TaskState::Done.as_str().to_owned());
                active.note = Set(note);
                active.error = Set(None);
                active.completed_by = Set(Some(principal.key_id));
                active.completed_at = Set(Some(at));
                message = if kept > 0 {
                    format!(
                        "{} task done by hand: {count} value(s); {kept} redaction(s) kept for values collected again at the same place",
                        kind.as_str()
                    )
                } else {
                    format!("{} task done by hand: {count} value(s)", kind.as_str())
                };
            }
            TaskOutcome::Failed { error } => {
                let error = v.multiline_text(&error, &["input", "error"], 5000);
                v.finish()?;
                active.state = Set(TaskState::Failed.as_str().to_owned());
                active.error = Set(Some(error.clone()));
                active.completed_by = Set(None);
                active.completed_at = Set(None);
                message = format!("{} task failed: {error}", kind.as_str());
            }
        }
        let end = TaskEnd {
            active,
            message,
            dropped,
        };
        self.finish_task(tx, principal, open, end, operation).await
    }

    /// The tasks of these requests, in one query (for DataLoaders).
    pub async fn tasks_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<TaskView>> {
        super::view::views(
            request_task::Entity::find()
                .filter(request_task::Column::OrgId.eq(principal.org_id))
                .filter(request_task::Column::RequestId.is_in(ids.iter().copied()))
                .order_by_asc(request_task::Column::Id)
                .all(self.store.conn())
                .await?,
        )
    }

    /// The collected records of these requests (values opened), in one query.
    pub async fn records_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<(collected_record::Model, String)>> {
        let rows = collected_record::Entity::find()
            .filter(collected_record::Column::OrgId.eq(principal.org_id))
            .filter(collected_record::Column::RequestId.is_in(ids.iter().copied()))
            .order_by_asc(collected_record::Column::Id)
            .all(self.store.conn())
            .await?;
        rows.into_iter()
            .map(|r| {
                let value = self.open_value(&r)?;
                Ok((r, value))
            })
            .collect()
    }

    /// The redactions of these requests, in one query.
    pub async fn redactions_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<redaction::Model>> {
        Ok(redaction::Entity::find()
            .filter(redaction::Column::OrgId.eq(principal.org_id))
            .filter(redaction::Column::RequestId.is_in(ids.iter().copied()))
            .order_by_asc(redaction::Column::Id)
            .all(self.store.conn())
            .await?)
    }
}

/// Rows per INSERT of collected values: the largest power of two up to 256 that is
/// not more than `left`. A collection stores a few hundred values; a statement per
/// exact count would be a new text each time, parsed and planned anew (2-4 ms on
/// PostgreSQL, a prepare of thousands of placeholders on SQLite), while these nine
/// texts stay prepared, at a few more statements (170 values: 128 + 32 + 8 + 2).
/// Inserts collected values. On PostgreSQL in one statement however many there are
/// (the rows travel as one JSON parameter, so the statement stays the same and
/// prepared); elsewhere in power-of-two chunks, so that few distinct statements are
/// prepared.
async fn insert_records<C: Conn>(
    conn: &C,
    records: &[(collected_record::Model, String)],
) -> Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        // One fixed statement whatever the number of values, with each column sent
        // as one binary array (no text to parse: a JSON document of the rows cost
        // about 2 ms per 170 values to decode). Arrays cannot hold NULL through the
        // driver, so the nullable columns travel as the nil UUID or with a flag.
        const SQL: &str = "INSERT INTO collected_record (id, org_id, request_id, task_id, \
            source_id, field_id, data_category_id, location, record_key, value, created_at) \
            SELECT id, org_id, request_id, task_id, source_id, NULLIF(field_id, $12), \
            NULLIF(data_category_id, $12), location, CASE WHEN keyed THEN record_key END, \
            value, created_at FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], \
            $5::uuid[], $6::uuid[], $7::uuid[], $8::text[], $9::text[], $10::bool[], \
            $11::text[], $13::timestamptz[]) AS x(id, org_id, request_id, task_id, source_id, \
            field_id, data_category_id, location, record_key, keyed, value, created_at)";
        use sea_orm::sea_query::{ArrayType, Value};
        let column = |ty: ArrayType, f: &dyn Fn(&collected_record::Model) -> Value| {
            Value::Array(
                ty,
                Some(Box::new(records.iter().map(|(r, _)| f(r)).collect())),
            )
        };
        let uuid = |f: fn(&collected_record::Model) -> Uuid| {
            column(ArrayType::Uuid, &|r| Value::Uuid(Some(f(r))))
        };
        let nullable = |f: fn(&collected_record::Model) -> Option<Uuid>| {
            column(ArrayType::Uuid, &|r| {
                Value::Uuid(Some(f(r).unwrap_or(Uuid::nil())))
            })
        };
        let values = vec![
            uuid(|r| r.id),
            uuid(|r| r.org_id),
            uuid(|r| r.request_id),
            uuid(|r| r.task_id),
            uuid(|r| r.source_id),
            nullable(|r| r.field_id),
            nullable(|r| r.data_category_id),
            column(ArrayType::String, &|r| {
                Value::String(Some(r.location.clone()))
            }),
            column(ArrayType::String, &|r| {
                Value::String(Some(r.record_key.clone().unwrap_or_default()))
            }),
            column(ArrayType::Bool, &|r| {
                Value::Bool(Some(r.record_key.is_some()))
            }),
            column(ArrayType::String, &|r| Value::String(Some(r.value.clone()))),
            Value::Uuid(Some(Uuid::nil())),
            column(ArrayType::ChronoDateTimeUtc, &|r| {
                Value::ChronoDateTimeUtc(Some(r.created_at))
            }),
        ];
        let inserted = conn
            .execute_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                SQL,
                values,
            ))
            .await?
            .rows_affected();
        if inserted != records.len() as u64 {
            return Err(Error::Internal(format!(
                "stored {inserted} of {} collected values",
                records.len()
            )));
        }
        return Ok(());
    }
    let mut left = records.len();
    let mut records = records.iter().map(|(r, _)| r.clone().into_active_model());
    while left > 0 {
        let chunk: Vec<_> = records.by_ref().take(insert_chunk(left)).collect();
        left -= chunk.len();
        collected_record::Entity::insert_many(chunk)
            .exec(conn)
            .await?;
    }
    Ok(())
}

fn insert_chunk(left: usize) -> usize {
    const MAX: usize = 256;
    let n = left.clamp(1, MAX);
    1 << (usize::BITS - 1 - n.leading_zeros())
}

#[cfg(test)]
mod tests {
    use super::insert_chunk;

    #[test]
    fn values_are_inserted_in_power_of_two_chunks() {
        let chunks = |mut left: usize| {
            let mut out = Vec::new();
            while left > 0 {
                let n = insert_chunk(left);
                out.push(n);
                left -= n;
            }
            out
        };
        assert_eq!(chunks(170), [128, 32, 8, 2]);
        assert_eq!(chunks(1), [1]);
        assert_eq!(chunks(256), [256]);
        assert_eq!(chunks(700), [256, 256, 128, 32, 16, 8, 4]);
    }
}
