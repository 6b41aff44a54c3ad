//! One value a task found about the subject (sealed at rest), in the record (row,
//! object, upload) named by `record_key`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "collected_record")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub task_id: Uuid,
    pub source_id: Uuid,
    pub field_id: Option<Uuid>,
    pub data_category_id: Option<Uuid>,
    pub location: String,
    /// The record the value belongs to, e.g. `customers(id=42)` or `/contacts/0`;
    /// values of one record share it. `None`: the value is a record of its own.
    pub record_key: Option<String>,
    /// Sealed with the key for data at rest.
    pub value: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
