//! An identity found on the way: an identifying value read from one of the subject's
//! own records during collection, searched for in the request's other sources too.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "found_identity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    /// The task whose collection read it.
    pub task_id: Uuid,
    pub source_id: Uuid,
    /// The identifying field it was read from.
    pub field_id: Uuid,
    /// The record it was read from, e.g. `customers(id=42)`.
    pub record_key: String,
    /// The identity type (as `subject_identity.kind`).
    pub kind: String,
    /// The canonical value (as `subject_identity.value`).
    pub value: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
