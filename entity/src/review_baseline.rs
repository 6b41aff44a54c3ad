//! One record as a reviewer saw it when they sent the request back (REQUEST_CHANGES):
//! the baseline for showing what changed since the last review. Holds no value, only
//! a keyed fingerprint of it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "review_baseline")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    /// The collected record's id then (it may be gone since).
    pub record_id: Uuid,
    pub task_id: Uuid,
    pub source_id: Uuid,
    pub field_id: Option<Uuid>,
    pub location: String,
    /// HMAC-SHA256 of the value under a key derived from the key for data at rest.
    pub fingerprint: String,
    /// Whether the reviewer had redacted it.
    pub redacted: bool,
    pub taken_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
