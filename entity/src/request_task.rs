//! One collection or execution job of a request in one data source.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_task")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub source_id: Uuid,
    /// COLLECT or EXECUTE.
    pub kind: String,
    /// OPEN, DONE or FAILED.
    pub state: String,
    pub note: Option<String>,
    pub error: Option<String>,
    pub completed_by: Option<Uuid>,
    pub completed_at: Option<DateTimeUtc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub attempts: i32,
    /// Last sign of life of the worker holding the lease.
    pub heartbeat_at: Option<DateTimeUtc>,
    /// Not retried before this time (backoff after a failed attempt).
    pub run_after: Option<DateTimeUtc>,
    /// Done by a worker (SQL, HTTP sources) rather than a person (MANUAL).
    pub automatic: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
