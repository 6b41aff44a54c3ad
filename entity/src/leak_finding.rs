//! A value or record of a collected answer that may belong to someone else (the
//! leak guard), with its reason and resolution.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "leak_finding")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    /// The task whose collection reported it (structural findings).
    pub task_id: Option<Uuid>,
    /// SCAN (the value scan before review) or TASK (reported by a connector).
    pub origin: String,
    /// FOREIGN_IDENTIFIER, OTHER_SUBJECT_IDENTITY, SHARED_REFERENCE or FAN_OUT.
    pub kind: String,
    /// The record it concerns.
    pub record_key: Option<String>,
    /// The collected value it concerns (a `collected_record` row).
    pub record_id: Option<Uuid>,
    pub field_id: Option<Uuid>,
    pub location: Option<String>,
    /// Why, without repeating the value.
    pub detail: String,
    /// SHA-256 of kind, place and value: a dismissal carries over to the same
    /// finding after collection runs again.
    pub fingerprint: String,
    /// OPEN or DISMISSED (redaction is read from the record's redaction).
    pub status: String,
    pub resolution: Option<String>,
    pub resolved_by: Option<Uuid>,
    pub resolved_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
