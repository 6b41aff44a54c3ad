//! A subject's expiring link to download a dispatched answer package. Only the
//! SHA-256 of the random token is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "download_link")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub dispatch_id: Uuid,
    pub package_id: Uuid,
    /// SHA-256 (hex) of the token.
    pub token_hash: String,
    pub expires_at: DateTimeUtc,
    pub max_downloads: i32,
    pub downloads: i32,
    pub last_download_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
