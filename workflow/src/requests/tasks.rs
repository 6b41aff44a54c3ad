//! Tasks of a request: one per mapped source, completed by hand here (a steward
//! enters what the source holds); the collection engine will complete them
//! automatically. What a task found is stored as sealed collected records.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use entity::{collected_record, data_field, redaction, request_task, subject_request};

use super::TimelineKind;
use super::machine::RequestState;
use crate::audit::Entry;
use crate::authz::{Action, Object};
use crate::error::{Error, Result, Validator};
use crate::principal::Principal;
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

/// Checks the values entered for a task against the fields of its source: each
/// names a field of that source or a location, and holds a non-empty value.
fn checked_values<'f>(
    v: &mut Validator,
    values: Vec<CollectedValue>,
    fields: &'f [data_field::Model],
) -> Vec<(Option<&'f data_field::Model>, String, String)> {
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
        let location = match (field, value.location) {
            (Some(f), _) => f.location.clone(),
            (None, Some(l)) => v.text(&l, &location_path, 300),
            (None, None) => {
                v.check(false, &location_path, "name a fieldId or a location");
                String::new()
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
        rows.push((field, location, value.value));
    }
    rows
}

impl Workflow {
    /// Completes or fails a task by hand. COLLECT tasks need `request:collect` and a
    /// request in COLLECTING; EXECUTE tasks need `request:execute` and EXECUTING.
    /// Changes the request's version (its content changed).
    #[tracing::instrument(skip(self, outcome), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn complete_task(
        &self,
        principal: &Principal,
        task_id: Uuid,
        outcome: TaskOutcome,
    ) -> Result<(request_task::Model, subject_request::Model)> {
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
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
        let mut v = Validator::default();
        let at = now();
        let mut active = task.clone().into_active_model();
        let message;
        match outcome {
            TaskOutcome::Done { values, note } => {
                let note = v.optional_text(note, &["input", "note"], 5000);
                if kind == TaskKind::Execute {
                    v.check(
                        values.is_empty(),
                        &["input", "values"],
                        "execution tasks record a note, not values",
                    );
                }
                let fields = data_field::Entity::find()
                    .filter(data_field::Column::SourceId.eq(task.source_id))
                    .all(conn)
                    .await?;
                let rows = checked_values(&mut v, values, &fields);
                v.finish()?;
                // Results are idempotent per task: completing again replaces them
                // (their redactions go with them: the foreign key cascades).
                collected_record::Entity::delete_many()
                    .filter(collected_record::Column::TaskId.eq(task.id))
                    .exec(conn)
                    .await?;
                let count = rows.len();
                let records = rows
                    .into_iter()
                    .map(|(field, location, value)| {
                        Ok(collected_record::ActiveModel {
                            id: Set(new_id()),
                            org_id: Set(principal.org_id),
                            request_id: Set(request.id),
                            task_id: Set(task.id),
                            source_id: Set(task.source_id),
                            field_id: Set(field.map(|f| f.id)),
                            data_category_id: Set(field.and_then(|f| f.data_category_id)),
                            location: Set(location),
                            value: Set(self.cipher.encrypt(value.as_bytes())?),
                            created_at: Set(at),
                        })
                    })
                    .collect::<Result<Vec<_>>>()?;
                if !records.is_empty() {
                    collected_record::Entity::insert_many(records)
                        .exec(conn)
                        .await?;
                }
                active.state = Set(TaskState::Done.as_str().to_owned());
                active.note = Set(note);
                active.error = Set(None);
                active.completed_by = Set(Some(principal.key_id));
                active.completed_at = Set(Some(at));
                message = format!("{} task done by hand: {count} value(s)", kind.as_str());
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
        active.attempts = Set(task.attempts + 1);
        active.updated_at = Set(at);
        let task = active.update(conn).await?;
        let expected = request.version;
        let updated =
            super::update_versioned(conn, request.clone().into_active_model(), expected).await?;
        self.note(&mut tx, principal, &updated, TimelineKind::Task, message)
            .await?;
        let audit = Entry::success("completeTask", "RequestTask", task.id);
        self.commit_audited(tx, principal, audit).await?;
        Ok((task, updated))
    }

    /// The tasks of these requests, in one query (for DataLoaders).
    pub async fn tasks_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<request_task::Model>> {
        Ok(request_task::Entity::find()
            .filter(request_task::Column::OrgId.eq(principal.org_id))
            .filter(request_task::Column::RequestId.is_in(ids.iter().copied()))
            .order_by_asc(request_task::Column::Id)
            .all(self.store.conn())
            .await?)
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
                let value = String::from_utf8(self.cipher.decrypt(&r.value)?)
                    .map_err(|e| Error::Internal(format!("collected value: {e}")))?;
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
