//! What one run of the retention sweep found: a record past its period (with its
//! identities, sealed), or a policy or source it could not sweep.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_finding")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub run_id: Uuid,
    /// Order within the run.
    pub seq: i32,
    /// The policy whose period ended last (or that could not be swept).
    pub policy_id: Option<Uuid>,
    pub source_id: Option<Uuid>,
    /// The record (`customers(id=4)`): a pointer, no value.
    pub record_key: Option<String>,
    /// The identities found in the record, sealed JSON (`[{"kind","value"}]`).
    pub identities: Option<String>,
    /// The latest trigger date of the record.
    pub last_event_at: Option<DateTimeUtc>,
    /// The day the last period covering the record ended.
    pub expired_on: Option<Date>,
    /// EXPIRED, ERASURE_REQUESTED, ALREADY_REQUESTED, REVIEW_DUE, ... (see workflow).
    pub outcome: String,
    /// The erasure request created or found.
    pub request_id: Option<Uuid>,
    /// Why, in words.
    pub detail: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
