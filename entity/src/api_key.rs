//! API keys: `ak_<prefix>_<secret>`; only the SHA-256 digest of the secret is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_key")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// Public lookup prefix (unique), shown in listings so people can tell keys apart.
    #[sea_orm(unique)]
    pub prefix: String,
    /// Lower-case hex SHA-256 of the secret part of the key.
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub last_used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub revoked_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
