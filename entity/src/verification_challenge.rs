//! An e-mail one-time code sent to verify a requester (only its hash is kept). One per
//! request (unique): its counters of codes compared and codes sent are the request's
//! and go on across resends.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "verification_challenge")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub identity_id: Uuid,
    pub code_hash: String,
    pub expires_at: DateTimeUtc,
    /// Codes compared so far (each takes its slot before it is compared).
    pub attempts: i32,
    /// Codes sent so far, the first one included.
    pub sent_count: i32,
    pub last_sent_at: DateTimeUtc,
    pub consumed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
