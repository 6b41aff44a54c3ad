//! The collection engine: workers claim the automatic collection tasks of requests
//! in COLLECTING with a lease, search the task's source through its connector, and
//! store what they found. A task's result replaces what it stored before. A lease
//! that runs out (a crashed or stalled worker) makes the task claimable again; a
//! failed attempt is retried with exponential backoff, and after the last attempt
//! the task is FAILED with its error, until a steward retries it. When the last task
//! of a request is done, the request moves to IN_REVIEW through the state machine,
//! with the worker as the actor.

mod claim;
pub mod found;
pub mod grouped;
pub mod leaks;

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use tokio::sync::watch;
use uuid::Uuid;

use entity::{data_field, data_source, request_task, subject_identity, subject_request};

use crate::access::audit::{self, Entry};
use crate::access::principal::{Principal, WORKER_ID};
use crate::connectors::{
    CollectError, CollectJob, ConnectorKind, Found, SearchIdentity, connector,
};
use crate::error::{Error, Result};
use crate::register::fields::IdentityType;
use crate::requests::VerificationMethod;
use crate::requests::tasks::NewValue;
use crate::requests::{RequestEvent, RequestState, TaskKind, TaskState, TimelineKind};
use crate::{Workflow, now};

/// How workers behave (from the configuration).
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Workers per process.
    pub workers: usize,
    /// How long a claim holds without a heartbeat.
    pub lease: Duration,
    /// Attempts before a task is FAILED.
    pub max_attempts: i32,
    /// Wait after the first failed attempt; doubles with every further one.
    pub backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// How often an idle worker looks for work (it also wakes on new requests).
    pub poll: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            workers: 4,
            lease: Duration::from_secs(60),
            max_attempts: 5,
            backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(600),
            poll: Duration::from_secs(1),
        }
    }
}

impl WorkerOptions {
    /// The wait before attempt `attempts + 1`.
    pub fn backoff_after(&self, attempts: i32) -> Duration {
        let exp = attempts.saturating_sub(1).clamp(0, 20) as u32;
        self.backoff
            .checked_mul(2u32.saturating_pow(exp))
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff)
    }
}

/// What one pass of a worker did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pass {
    /// Nothing was claimable.
    Idle,
    /// A task was collected and stored.
    Done {
        /// The task.
        task_id: Uuid,
        /// Whether its request moved to IN_REVIEW.
        to_review: bool,
        /// Where the time went (for benchmarks).
        phases: Phases,
    },
    /// The attempt failed; retried later or FAILED.
    Failed {
        /// The task.
        task_id: Uuid,
        /// Whether that was the last attempt.
        last: bool,
    },
    /// The lease was lost (taken over, completed by hand, request moved on): the
    /// result was discarded.
    Lost {
        /// The task.
        task_id: Uuid,
    },
}

/// Where the time of one collected task went, after the claim.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    /// Reading the task's request, source, fields and identities from the store.
    pub prepare: Duration,
    /// The connector's search of the source (for SQL: the traversal).
    pub search: Duration,
    /// Storing the result in one transaction: sealing, identities found on the way,
    /// timeline, audit and, for the last task, the leak scan and the transition.
    pub store: Duration,
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

/// The identities a request gave, in a stable order.
async fn given_identities<C: crate::core::store::Conn>(
    conn: &C,
    org_id: Uuid,
    request_id: Uuid,
) -> Result<Vec<subject_identity::Model>> {
    Ok(crate::requests::identities_of(org_id, request_id)
        .order_by_asc(subject_identity::Column::Id)
        .all(conn)
        .await?)
}

/// The identities a request's sources are searched with: those the request gave
/// (only the verified ones when each identity is verified on its own, by a code sent
/// to it; every one when staff confirmed the request as a whole), then those found
/// on the way.
fn merge_identities(
    request: &subject_request::Model,
    given: Vec<subject_identity::Model>,
    found: Vec<(SearchIdentity, Uuid, Uuid)>,
) -> Result<Vec<SearchIdentity>> {
    let per_identity = request.verification_method.as_deref()
        == Some(VerificationMethod::EmailCode.as_str())
        || request.verification_method.is_none();
    let mut out: Vec<SearchIdentity> = given
        .into_iter()
        .filter(|i| !per_identity || i.verified_at.is_some())
        .map(|i| {
            Ok(SearchIdentity {
                kind: i.kind.parse::<IdentityType>()?,
                as_given: (i.value_as_given != i.value).then_some(i.value_as_given),
                value: i.value,
            })
        })
        .collect::<Result<_>>()?;
    for (identity, _, _) in found {
        if !out
            .iter()
            .any(|i| i.kind == identity.kind && i.value == identity.value)
        {
            out.push(identity);
        }
    }
    Ok(out)
}

/// Under the request's lock (finishes of one request run one after another): the
/// request and the task as stored, while `owner` still holds the task's lease and it
/// is open; `None` when the lease was lost (taken over, completed by hand).
pub(crate) async fn still_held<C: crate::core::store::Conn>(
    conn: &C,
    task: &request_task::Model,
    owner: &str,
) -> Result<Option<(subject_request::Model, request_task::Model)>> {
    let request = crate::requests::find_request_locked(conn, task.org_id, task.request_id).await?;
    let current = request_task::Entity::find_by_id(task.id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound { what: "task" })?;
    Ok(
        (current.lease_owner.as_deref() == Some(owner)
            && current.state == TaskState::Open.as_str())
        .then_some((request, current)),
    )
}

/// [`merge_identities`] read from the store.
pub(crate) async fn search_identities<C: crate::core::store::Conn>(
    conn: &C,
    request: &subject_request::Model,
) -> Result<Vec<SearchIdentity>> {
    let given = given_identities(conn, request.org_id, request.id).await?;
    let found = found::search_identities(conn, request.id).await?;
    merge_identities(request, given, found)
}

/// What a task's finish needs besides the connector's result, read before the search.
struct Inputs<'a> {
    source_name: &'a str,
    /// The fields of the task's source.
    fields: &'a [data_field::Model],
    /// The identities the source was searched with.
    searched: &'a [SearchIdentity],
    /// The identities the request gave.
    given: Vec<subject_identity::Model>,
    /// The organization's phone region.
    region: identity::PhoneRegion,
}

/// A connector's result with the CPU work its storing needs done: the values
/// sealed, and what the leak scan and the search for identities found on the way
/// read from them.
struct Ahead {
    found: Vec<Found>,
    /// Per record, per value: sealed, or `None` for a value of no field of the
    /// source (it is not stored).
    sealed: Vec<Vec<Option<String>>>,
    readings: leaks::Readings,
}

impl Ahead {
    fn of(
        cipher: &crate::core::crypto::Cipher,
        fields: &[data_field::Model],
        region: identity::PhoneRegion,
        found: Vec<Found>,
    ) -> Result<Self> {
        let sealed = found
            .iter()
            .map(|record| {
                record
                    .values
                    .iter()
                    .map(|v| {
                        fields
                            .iter()
                            .any(|f| f.id == v.field_id)
                            .then(|| cipher.encrypt(v.value.as_bytes()))
                            .transpose()
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        let readings = leaks::Readings::of(&found, fields, region);
        Ok(Self {
            found,
            sealed,
            readings,
        })
    }
}

impl Workflow {
    /// Runs `options.workers` workers until `stop` turns true.
    pub fn spawn_workers(
        &self,
        options: WorkerOptions,
        stop: watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let process = format!(
            "{}-{}",
            std::process::id(),
            &crate::new_id().simple().to_string()[24..]
        );
        (0..options.workers)
            .map(|n| {
                let workflow = self.clone();
                let options = options.clone();
                let stop = stop.clone();
                let owner = format!("worker-{process}-{n}");
                tokio::spawn(async move { workflow.work(owner, options, stop).await })
            })
            .collect()
    }

    /// One worker's loop: claim, collect, store; wait when idle.
    async fn work(&self, owner: String, options: WorkerOptions, mut stop: watch::Receiver<bool>) {
        let mut events = self.bus.subscribe();
        while !*stop.borrow() {
            match self.collect_once(&owner, &options).await {
                Ok(Pass::Idle) => {
                    tokio::select! {
                        _ = tokio::time::sleep(options.poll) => {}
                        _ = events.recv() => {}
                        changed = stop.changed() => if changed.is_err() { return },
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(worker = %owner, error = %e, "collection worker pass failed");
                    tokio::select! {
                        _ = tokio::time::sleep(options.poll) => {}
                        changed = stop.changed() => if changed.is_err() { return },
                    }
                }
            }
        }
    }

    /// Claims one task and runs it (for workers, tests and benchmarks).
    pub async fn collect_once(&self, owner: &str, options: &WorkerOptions) -> Result<Pass> {
        let at = now();
        let claimer = claim::claimer(&self.store);
        let until = at + to_chrono(options.lease);
        if let Some(task) = claimer
            .claim(
                &self.store,
                owner,
                at,
                until,
                TaskKind::Collect,
                RequestState::Collecting,
            )
            .await?
        {
            metrics::counter!("auskunft_collection_claims_total").increment(1);
            return self.run_task(owner, options, task).await;
        }
        // What an approved request asks for, carried out by a worker (see
        // `execution`).
        match claimer
            .claim(
                &self.store,
                owner,
                at,
                until,
                TaskKind::Execute,
                RequestState::Executing,
            )
            .await?
        {
            Some(task) => self.run_execution(owner, options, task).await,
            None => Ok(Pass::Idle),
        }
    }

    /// Runs a claimed task: collects, then stores the result or the failure.
    async fn run_task(
        &self,
        owner: &str,
        options: &WorkerOptions,
        task: request_task::Model,
    ) -> Result<Pass> {
        let task_id = task.id;
        let conn = self.store.conn();
        let began = std::time::Instant::now();
        // Independent reads at once (one round trip instead of six on a server).
        let (request, source, fields, given, found_before, region) = tokio::try_join!(
            crate::requests::find_request(conn, task.org_id, task.request_id),
            async {
                data_source::Entity::find_by_id(task.source_id)
                    .one(conn)
                    .await?
                    .ok_or(Error::NotFound {
                        what: "data source",
                    })
            },
            async {
                Ok(data_field::Entity::find()
                    .filter(data_field::Column::SourceId.eq(task.source_id))
                    .order_by_asc(data_field::Column::Id)
                    .all(conn)
                    .await?)
            },
            given_identities(conn, task.org_id, task.request_id),
            found::search_identities(conn, task.request_id),
            // Phone numbers are read with the organization's region.
            crate::requests::settings::phone_region(conn, task.org_id),
        )?;
        let identities = merge_identities(&request, given.clone(), found_before)?;
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
        let started = std::time::Instant::now();
        let outcome = {
            let collect = connector(kind).collect(&job);
            let heartbeat = self.heartbeat(owner, task_id, options);
            tokio::select! {
                outcome = collect => Some(outcome),
                () = heartbeat => None,
            }
        };
        let search = started.elapsed();
        metrics::histogram!("auskunft_collection_seconds").record(search.as_secs_f64());
        match outcome {
            None => Ok(Pass::Lost { task_id }),
            Some(Ok(found)) => {
                // Sealing and reading the values is CPU work: it runs on a blocking
                // thread while the finish's transaction takes its first round trips.
                let ahead = {
                    let (cipher, fields) = (self.cipher.clone(), fields.clone());
                    tokio::task::spawn_blocking(move || Ahead::of(&cipher, &fields, region, found))
                };
                let inputs = Inputs {
                    source_name: &source.name,
                    fields: &fields,
                    searched: &identities,
                    given,
                    region,
                };
                let pass = self.finish(owner, &task, inputs, ahead).await?;
                Ok(match pass {
                    Pass::Done {
                        task_id, to_review, ..
                    } => Pass::Done {
                        task_id,
                        to_review,
                        phases: Phases {
                            prepare: started.duration_since(began),
                            search,
                            store: started.elapsed() - search,
                        },
                    },
                    other => other,
                })
            }
            Some(Err(e)) => self.fail(owner, options, &task, e).await,
        }
    }

    /// Keeps the lease alive while a task runs; returns when the lease is lost.
    pub(crate) async fn heartbeat(&self, owner: &str, task_id: Uuid, options: &WorkerOptions) {
        let every = options.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let at = now();
            use request_task::Column as T;
            let kept = request_task::Entity::update_many()
                .col_expr(T::LeaseUntil, Expr::value(at + to_chrono(options.lease)))
                .col_expr(T::HeartbeatAt, Expr::value(at))
                .filter(T::Id.eq(task_id))
                .filter(T::LeaseOwner.eq(owner))
                .filter(T::State.eq(TaskState::Open.as_str()))
                .exec(self.store.conn())
                .await;
            match kept {
                Ok(r) if r.rows_affected == 1 => {}
                Ok(_) => return,
                Err(e) => tracing::warn!(task = %task_id, error = %e, "heartbeat failed"),
            }
        }
    }

    /// Stores a task's result, completes it, and hands the request to review when it
    /// was the last open task: one transaction, retried when another worker's finish
    /// of the same request got there first.
    async fn finish(
        &self,
        owner: &str,
        task: &request_task::Model,
        inputs: Inputs<'_>,
        ahead: tokio::task::JoinHandle<Result<Ahead>>,
    ) -> Result<Pass> {
        let Inputs {
            source_name,
            fields,
            searched,
            given,
            region,
        } = inputs;
        let worker = Principal::worker(task.org_id);
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        // The request row first: finishes of one request run one after another, so
        // the last one sees every other task done. A finish lost in a server crash is
        // done again: the task stays claimed by a lease that expires, and the result
        // replaces whatever the task stored.
        let request =
            crate::requests::find_request_locked_redone_if_lost(conn, task.org_id, task.request_id)
                .await?;
        let at = now();
        use request_task::Column as T;
        // Identities found on the way: kept for the request; this source is searched
        // again when one it was not searched with concerns it, and so are the other
        // sources' finished tasks.
        // Read again under the request's lock: another source's finish may have found
        // some since this task started.
        let found_now = found::search_identities(conn, request.id).await?;
        // The requester's own identities, for the leak scan: given, found before and
        // found now.
        let mut own: HashSet<String> = merge_identities(&request, given, found_now.clone())?
            .into_iter()
            .map(|i| i.value)
            .collect();
        let mut known: Vec<SearchIdentity> = searched.to_vec();
        let mut again = false;
        for (identity, source_id, field_id) in found_now {
            if known
                .iter()
                .any(|k| k.kind == identity.kind && k.value == identity.value)
            {
                continue;
            }
            let read_here = (source_id == task.source_id).then_some(field_id);
            again |= found::concerns(fields, identity.kind, read_here);
            known.push(identity);
        }
        let Ahead {
            mut found,
            sealed,
            readings,
        } = ahead
            .await
            .map_err(|e| Error::Internal(format!("sealing the collected values failed: {e}")))??;
        let discovered = found::discover(&found, fields, &known, region, &readings);
        let adopted = found::adopt(conn, &request, task.id, task.source_id, discovered, at).await?;
        own.extend(adopted.iter().map(|d| d.value.clone()));
        again |= adopted
            .iter()
            .any(|d| found::concerns(fields, d.kind, Some(d.field_id)));
        let records = found.len();
        let values: usize = found.iter().map(|f| f.values.len()).sum();
        let note = if again {
            format!(
                "collected automatically: {records} record(s), {values} value(s); searching \
                 again with identities found on the way"
            )
        } else {
            format!("collected automatically: {records} record(s), {values} value(s)")
        };
        let (state, completed_by, completed_at) = if again {
            (TaskState::Open, None, None)
        } else {
            (TaskState::Done, Some(WORKER_ID), Some(at))
        };
        let completed = request_task::Entity::update_many()
            .col_expr(T::State, Expr::value(state.as_str()))
            .col_expr(T::Note, Expr::value(note.clone()))
            .col_expr(T::Error, Expr::value(Option::<String>::None))
            .col_expr(T::CompletedBy, Expr::value(completed_by))
            .col_expr(T::CompletedAt, Expr::value(completed_at))
            .col_expr(T::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(T::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(T::RunAfter, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(T::UpdatedAt, Expr::value(at))
            .filter(T::Id.eq(task.id))
            .filter(T::LeaseOwner.eq(owner))
            .filter(T::State.eq(TaskState::Open.as_str()))
            .exec(conn)
            .await?
            .rows_affected;
        if completed != 1 || request.state != RequestState::Collecting.as_str() {
            drop(tx);
            return Ok(Pass::Lost { task_id: task.id });
        }
        if again {
            // A new search, not a failed attempt.
            request_task::Entity::update_many()
                .col_expr(T::Attempts, Expr::value(0))
                .filter(T::Id.eq(task.id))
                .exec(conn)
                .await?;
        }
        let reopened = self.search_again(conn, task, &adopted, at).await?;
        let flags: Vec<(String, leaks::LeakKind, String)> = found
            .iter_mut()
            .flat_map(|f| {
                let key = f.key.clone();
                std::mem::take(&mut f.flags)
                    .into_iter()
                    .map(move |(kind, detail)| (key.clone(), kind, detail))
            })
            .collect();
        let rows = found
            .into_iter()
            .zip(sealed)
            .flat_map(|(record, sealed)| {
                let key = record.key;
                record
                    .values
                    .into_iter()
                    .zip(sealed)
                    .filter_map(move |(v, sealed)| {
                        let field = fields.iter().find(|f| f.id == v.field_id)?;
                        Some(NewValue {
                            field: Some(field),
                            location: field.location.clone(),
                            record_key: Some(key.clone()),
                            value: v.value,
                            sealed,
                        })
                    })
            })
            .collect();
        let task_findings = flags.len();
        let replaced = self
            .replace_task_results(conn, task, rows, flags, at)
            .await?;
        // The request's other tasks: how many collections are still open, and
        // whether any other task may have stored something.
        let others: Vec<(String, String)> = request_task::Entity::find()
            .select_only()
            .columns([T::Kind, T::State])
            .filter(T::RequestId.eq(task.request_id))
            .filter(T::Id.ne(task.id))
            .into_tuple()
            .all(conn)
            .await?;
        let open = usize::from(again)
            + others
                .iter()
                .filter(|(kind, state)| {
                    kind == TaskKind::Collect.as_str() && state != TaskState::Done.as_str()
                })
                .count();
        // The request's content changed: its version moves, here or, when this was
        // the last task, with the transition to review.
        let updated = if open == 0 {
            request
        } else {
            crate::requests::update_versioned(
                conn,
                request.clone().into_active_model(),
                request.version,
            )
            .await?
        };
        self.note(
            &mut tx,
            &worker,
            &updated,
            TimelineKind::Task,
            format!("COLLECT task for `{source_name}` {note}"),
        )
        .await?;
        self.note_dropped(&mut tx, &worker, &updated, &replaced.dropped)
            .await?;
        if !adopted.is_empty() {
            let what: Vec<String> = adopted
                .iter()
                .map(|d| format!("{} in `{}`", d.kind.as_str(), d.record_key))
                .collect();
            self.note(
                &mut tx,
                &worker,
                &updated,
                TimelineKind::Task,
                format!(
                    "identities found on the way in `{source_name}`: {}; {} other source(s) \
                     searched again",
                    what.join(", "),
                    reopened
                ),
            )
            .await?;
        }
        let collected = Entry::success("collectTask", "RequestTask", task.id);
        let (to_review, entry) = if open == 0 {
            let scan = leaks::Known {
                region,
                own,
                task_id: task.id,
                records: replaced.records,
                fields,
                alone: others.is_empty(),
                task_findings,
                readings,
            };
            let (_, entry) = self
                .transition_counted(
                    &mut tx,
                    &worker,
                    updated,
                    RequestEvent::SubmitForReview,
                    None,
                    None,
                    None,
                    0,
                    Some(scan),
                )
                .await?;
            (true, entry)
        } else {
            let entry = Entry::success("storeCollection", "SubjectRequest", task.request_id);
            (false, entry)
        };
        self.commit_audited_all(tx, &worker, vec![collected, entry])
            .await?;
        metrics::counter!("auskunft_collection_tasks_total", "outcome" => "done").increment(1);
        Ok(Pass::Done {
            task_id: task.id,
            to_review,
            phases: Phases::default(),
        })
    }

    /// Opens again the request's other finished automatic collection tasks whose
    /// source has an identifying field of a type just found; returns how many.
    async fn search_again<C: crate::core::store::Conn>(
        &self,
        conn: &C,
        task: &request_task::Model,
        adopted: &[found::Discovered],
        at: DateTime<Utc>,
    ) -> Result<usize> {
        if adopted.is_empty() {
            return Ok(0);
        }
        use request_task::Column as T;
        let done = request_task::Entity::find()
            .filter(T::RequestId.eq(task.request_id))
            .filter(T::Kind.eq(TaskKind::Collect.as_str()))
            .filter(T::Automatic.eq(true))
            .filter(T::State.eq(TaskState::Done.as_str()))
            .filter(T::Id.ne(task.id))
            .all(conn)
            .await?;
        if done.is_empty() {
            return Ok(0);
        }
        let fields = data_field::Entity::find()
            .filter(data_field::Column::SourceId.is_in(done.iter().map(|t| t.source_id)))
            .all(conn)
            .await?;
        let again: Vec<Uuid> = done
            .iter()
            .filter(|t| {
                let of_source: Vec<data_field::Model> = fields
                    .iter()
                    .filter(|f| f.source_id == t.source_id)
                    .cloned()
                    .collect();
                adopted
                    .iter()
                    .any(|d| found::concerns(&of_source, d.kind, None))
            })
            .map(|t| t.id)
            .collect();
        if again.is_empty() {
            return Ok(0);
        }
        request_task::Entity::update_many()
            .col_expr(T::State, Expr::value(TaskState::Open.as_str()))
            .col_expr(T::CompletedBy, Expr::value(Option::<Uuid>::None))
            .col_expr(T::CompletedAt, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(T::Attempts, Expr::value(0))
            .col_expr(T::RunAfter, Expr::value(Option::<DateTime<Utc>>::None))
            .col_expr(
                T::Note,
                Expr::value("searching again with identities found on the way"),
            )
            .col_expr(T::UpdatedAt, Expr::value(at))
            .filter(T::Id.is_in(again.iter().copied()))
            .filter(T::State.eq(TaskState::Done.as_str()))
            .exec(conn)
            .await?;
        Ok(again.len())
    }

    /// Records a failed attempt: retried after a backoff, or FAILED after the last.
    pub(crate) async fn fail(
        &self,
        owner: &str,
        options: &WorkerOptions,
        task: &request_task::Model,
        error: CollectError,
    ) -> Result<Pass> {
        let worker = Principal::worker(task.org_id);
        let message = error.to_string();
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let Some((request, current)) = still_held(conn, task, owner).await? else {
            return Ok(Pass::Lost { task_id: task.id });
        };
        let last = current.attempts >= options.max_attempts;
        let at = now();
        let mut active = current.clone().into_active_model();
        active.error = Set(Some(message.clone()));
        active.lease_owner = Set(None);
        active.lease_until = Set(None);
        active.updated_at = Set(at);
        if last {
            active.state = Set(TaskState::Failed.as_str().to_owned());
            active.run_after = Set(None);
        } else {
            active.run_after = Set(Some(
                at + to_chrono(options.backoff_after(current.attempts)),
            ));
        }
        active.update(conn).await?;
        metrics::counter!("auskunft_collection_tasks_total", "outcome" => if last { "failed" } else { "retry" }).increment(1);
        if last {
            let updated = crate::requests::update_versioned(
                conn,
                request.clone().into_active_model(),
                request.version,
            )
            .await?;
            self.note(
                &mut tx,
                &worker,
                &updated,
                TimelineKind::Task,
                format!(
                    "{} task failed after {} attempt(s): {message}",
                    current.kind, current.attempts
                ),
            )
            .await?;
            let execute = current.kind == TaskKind::Execute.as_str();
            let operation = if execute {
                "executeTask"
            } else {
                "collectTask"
            };
            let mut entry = Entry::success(operation, "RequestTask", task.id);
            entry.outcome = audit::Outcome::Failed;
            entry.error_code = Some(
                if execute {
                    "ERASURE_FAILED"
                } else {
                    "COLLECTION_FAILED"
                }
                .to_owned(),
            );
            self.commit_audited(tx, &worker, entry).await?;
        } else {
            tx.commit(&self.bus).await?;
        }
        Ok(Pass::Failed {
            task_id: task.id,
            last,
        })
    }

    /// Restarts a FAILED, waiting or finished automatic task now, with fresh
    /// attempts; a finished one searches its source again and its new result
    /// replaces the earlier one.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn retry_task(
        &self,
        principal: &Principal,
        task_id: Uuid,
    ) -> Result<(crate::requests::TaskView, crate::requests::RequestView)> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                crate::Object::Request,
                crate::Action::Collect,
            )
            .await?;
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let task = request_task::Entity::find_by_id(task_id)
            .filter(request_task::Column::OrgId.eq(principal.org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound { what: "task" })?;
        let kind: TaskKind = task.kind.parse()?;
        // Erasures carried out by a worker are retried in EXECUTING, by whoever may
        // carry them out.
        let state = match kind {
            TaskKind::Collect => RequestState::Collecting,
            TaskKind::Execute => {
                self.authz
                    .require(
                        principal.key_id,
                        principal.org_id,
                        crate::Object::Request,
                        crate::Action::Execute,
                    )
                    .await?;
                RequestState::Executing
            }
        };
        let request =
            crate::requests::find_request_locked(conn, principal.org_id, task.request_id).await?;
        if request.state != state.as_str() {
            return Err(Error::Conflict(format!(
                "{} tasks can only be retried while the request is {}; it is {}",
                kind.as_str(),
                state.as_str(),
                request.state
            )));
        }
        if !task.automatic {
            return Err(Error::invalid(
                &["input", "taskId"],
                "only tasks a worker carries out are retried; complete this one by hand",
            ));
        }
        // A finished task collects again (after the reviewer requested changes, say):
        // its new result replaces the earlier one.
        let again = task.state == TaskState::Done.as_str();
        let at = now();
        let mut active = task.clone().into_active_model();
        active.state = Set(TaskState::Open.as_str().to_owned());
        active.completed_by = Set(None);
        active.completed_at = Set(None);
        active.attempts = Set(0);
        active.run_after = Set(None);
        active.lease_owner = Set(None);
        active.lease_until = Set(None);
        active.updated_at = Set(at);
        let task = active.update(conn).await?;
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
            TimelineKind::Task,
            match (kind, again) {
                (TaskKind::Collect, true) => {
                    "COLLECT task restarted: its source is searched again".to_owned()
                }
                (TaskKind::Execute, true) => {
                    "EXECUTE task restarted: the erasure is carried out and checked again"
                        .to_owned()
                }
                (kind, false) => format!("{} task restarted", kind.as_str()),
            },
        )
        .await?;
        let entry = Entry::success("retryTask", "RequestTask", task.id);
        self.commit_audited(tx, principal, entry).await?;
        Ok((task.try_into()?, updated.try_into()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_limit() {
        let o = WorkerOptions {
            backoff: Duration::from_secs(5),
            max_backoff: Duration::from_secs(60),
            ..Default::default()
        };
        assert_eq!(o.backoff_after(1), Duration::from_secs(5));
        assert_eq!(o.backoff_after(2), Duration::from_secs(10));
        assert_eq!(o.backoff_after(3), Duration::from_secs(20));
        assert_eq!(o.backoff_after(5), Duration::from_secs(60));
        assert_eq!(o.backoff_after(i32::MAX), Duration::from_secs(60));
    }
}
