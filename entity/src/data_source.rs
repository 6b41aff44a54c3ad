//! A system that holds personal data, and how Auskunft reaches it.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_source")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// Responsible team or person.
    pub owner: Option<String>,
    /// Where the data is stored (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// The processor operating the system, if any (a recipient).
    pub processor_id: Option<Uuid>,
    /// POSTGRES, MYSQL, SQLITE, HTTP or MANUAL.
    pub connector_kind: String,
    /// The connector configuration without its secrets.
    pub connector_config: Json,
    /// The secret properties (JSON object), AES-256-GCM encrypted; never returned.
    pub secrets: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
