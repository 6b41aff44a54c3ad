//! The purge of a request's collected data after it ended: when, and how much went.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_purge")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub request_id: Uuid,
    pub org_id: Uuid,
    pub purged_at: DateTimeUtc,
    /// Collected records deleted.
    pub records: i64,
    /// Uploaded files emptied.
    pub attachments: i64,
    /// Answer packages emptied (their digests stay).
    pub packages: i64,
    /// Message bodies emptied.
    pub messages: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
