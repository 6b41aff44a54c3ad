//! Append-only audit log, hash-chained per organization:
//! `hash = sha256(prev_hash || canonical row)`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// Position in the organization's chain, starting at 1.
    pub seq: i64,
    pub occurred_at: DateTimeUtc,
    pub actor_id: Option<Uuid>,
    pub actor_name: String,
    pub operation: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    /// SUCCESS, DENIED or FAILED.
    pub outcome: String,
    pub error_code: Option<String>,
    pub before_digest: Option<String>,
    pub after_digest: Option<String>,
    pub prev_hash: String,
    pub hash: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
