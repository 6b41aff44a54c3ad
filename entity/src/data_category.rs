//! A category of personal data, keyed hierarchically (`contact.email`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_category")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// Dot-separated key; the parent of `contact.email` is `contact`.
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// ORDINARY, SPECIAL_ART9 or CRIMINAL_ART10.
    pub sensitivity: String,
    /// Seeded from the shipped default taxonomy.
    pub is_default: bool,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
