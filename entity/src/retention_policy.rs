//! How long data is kept and what happens then.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_policy")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// ISO 8601 duration, e.g. `P10Y`.
    pub duration: String,
    /// When the period starts.
    pub trigger: String,
    pub trigger_description: Option<String>,
    /// E.g. `§ 147 AO`.
    pub legal_reference: Option<String>,
    /// DELETE, ANONYMIZE or REVIEW.
    pub action_at_expiry: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
