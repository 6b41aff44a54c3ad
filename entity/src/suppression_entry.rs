//! One identity of an erased person, kept only as a keyed fingerprint so importers
//! and CRM syncs can refuse to bring the person back (`suppressionCheck`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "suppression_entry")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// The identity's kind (EMAIL, PHONE ...).
    pub kind: String,
    /// HMAC-SHA256 (hex) of the canonical value, keyed per organization.
    pub fingerprint: String,
    /// The erasure request that put it here.
    pub request_id: Uuid,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
