//! A record (or a whole source) whose processing is restricted (Art. 18) or objected
//! to (Art. 21), for one purpose or for all, until lifted.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "processing_restriction")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// The RESTRICTION or OBJECTION request that asked for it.
    pub request_id: Uuid,
    pub subject_id: Uuid,
    pub source_id: Uuid,
    /// The record (`customers(id=42)`); `None`: everything of the subject in the
    /// source (a source searched by hand).
    pub record_key: Option<String>,
    /// RESTRICTION or OBJECTION.
    pub ground: String,
    /// The purpose it stops; `None`: every purpose (storage only).
    pub purpose_id: Option<Uuid>,
    pub since: DateTimeUtc,
    pub lifted_at: Option<DateTimeUtc>,
    /// Who lifted it (an API key or person).
    pub lifted_by: Option<Uuid>,
    #[sea_orm(column_type = "Text", nullable)]
    pub lift_reason: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
