//! Claiming tasks (collection, and erasures carried out by a worker) with a lease. PostgreSQL claims with
//! `FOR UPDATE SKIP LOCKED` (workers of several processes never wait for each
//! other's rows) and gets the claimed row back in the same statement; SQLite and MariaDB/MySQL with a portable compare-and-set: read a
//! few candidates, then take one with an `UPDATE … WHERE` that only matches while it
//! is still claimable.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use entity::{request_task, subject_request};

use crate::core::store::Store;
use crate::error::Result;
use crate::requests::{RequestState, TaskKind, TaskState};

/// How a backend hands out claimable tasks.
#[async_trait::async_trait]
pub(crate) trait Claimer: Send + Sync {
    /// Claims one claimable task for `owner` until `until`; `None` when there is none.
    async fn claim(
        &self,
        store: &Store,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        kind: TaskKind,
        state: RequestState,
    ) -> Result<Option<request_task::Model>>;
}

/// The claimer of the store's backend.
pub(crate) fn claimer(store: &Store) -> &'static dyn Claimer {
    match store.backend() {
        DatabaseBackend::Postgres => &SkipLocked,
        _ => &CompareAndSet,
    }
}

/// PostgreSQL: one statement.
struct SkipLocked;

#[async_trait::async_trait]
impl Claimer for SkipLocked {
    async fn claim(
        &self,
        store: &Store,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        kind: TaskKind,
        state: RequestState,
    ) -> Result<Option<request_task::Model>> {
        // The open tasks are read in claim order from `request_task_claim_order_idx`
        // and each one's request by its key: a join let the planner, with statistics
        // of a table that was small, compare every open task with every collecting
        // request (15-28 ms per claim with 400 tasks waiting).
        // The claim commits without waiting for the WAL flush (`set_config`, local to
        // this statement's transaction, evaluated only when a task was claimed): a
        // claim lost in a server crash leaves the task claimable, which is where it
        // was, and the finish checks the lease again.
        let sql = "UPDATE request_task SET lease_owner = $1, lease_until = $2, heartbeat_at = $3, \
                   attempts = attempts + 1, updated_at = $3 \
                   WHERE id = (SELECT t.id FROM request_task t \
                     WHERE t.state = $4 AND t.automatic AND t.kind = $5 \
                       AND (t.run_after IS NULL OR t.run_after <= $3) \
                       AND (t.lease_until IS NULL OR t.lease_until < $3) \
                       AND (SELECT r.state FROM subject_request r WHERE r.id = t.request_id) = $6 \
                     ORDER BY t.created_at, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED) \
                   RETURNING *, set_config('synchronous_commit', 'off', true)";
        let row = store
            .conn()
            .query_one_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                sql,
                [
                    owner.into(),
                    until.into(),
                    now.into(),
                    TaskState::Open.as_str().into(),
                    kind.as_str().into(),
                    state.as_str().into(),
                ],
            ))
            .await?;
        Ok(match row {
            Some(row) => Some(request_task::Model::from_query_result(&row, "")?),
            None => None,
        })
    }
}

/// SQLite, MariaDB/MySQL: candidates, then a conditional update.
struct CompareAndSet;

/// Candidates read per attempt: more than one, so that workers racing for the first
/// one still find work.
const CANDIDATES: u64 = 8;

#[async_trait::async_trait]
impl Claimer for CompareAndSet {
    async fn claim(
        &self,
        store: &Store,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
        kind: TaskKind,
        state: RequestState,
    ) -> Result<Option<request_task::Model>> {
        use request_task::Column as T;
        let collecting = Query::select()
            .column(subject_request::Column::Id)
            .from(subject_request::Entity)
            .and_where(subject_request::Column::State.eq(state.as_str()))
            .to_owned();
        let claimable = || {
            sea_orm::Condition::all()
                .add(T::State.eq(TaskState::Open.as_str()))
                .add(T::Automatic.eq(true))
                .add(T::Kind.eq(kind.as_str()))
                .add(
                    sea_orm::Condition::any()
                        .add(T::RunAfter.is_null())
                        .add(T::RunAfter.lte(now)),
                )
                .add(
                    sea_orm::Condition::any()
                        .add(T::LeaseUntil.is_null())
                        .add(T::LeaseUntil.lt(now)),
                )
        };
        let candidates: Vec<Uuid> = request_task::Entity::find()
            .select_only()
            .column(T::Id)
            .filter(claimable())
            .filter(T::RequestId.in_subquery(collecting))
            .order_by_asc(T::CreatedAt)
            .order_by_asc(T::Id)
            .limit(CANDIDATES)
            .into_tuple()
            .all(store.conn())
            .await?;
        // Start at a different candidate per owner, so racing workers spread out.
        let start = owner
            .bytes()
            .fold(0usize, |a, b| a.wrapping_add(b as usize));
        let n = candidates.len();
        for i in 0..n {
            let id = candidates[(start + i) % n];
            let tx = store.begin().await?;
            let taken = request_task::Entity::update_many()
                .col_expr(T::LeaseOwner, Expr::value(owner))
                .col_expr(T::LeaseUntil, Expr::value(until))
                .col_expr(T::HeartbeatAt, Expr::value(now))
                .col_expr(T::Attempts, Expr::col(T::Attempts).add(1))
                .col_expr(T::UpdatedAt, Expr::value(now))
                .filter(T::Id.eq(id))
                .filter(claimable())
                .exec(tx.conn())
                .await?
                .rows_affected;
            tx.commit(&Default::default()).await?;
            if taken == 1 {
                return Ok(request_task::Entity::find_by_id(id)
                    .one(store.conn())
                    .await?);
            }
        }
        Ok(None)
    }
}
