//! An Art. 19 notice: a recipient of the register told that a request was carried
//! out (erasure, rectification, restriction), by e-mail or by staff.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recipient_notice")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub recipient_id: Uuid,
    /// EMAIL or MANUAL.
    pub channel: String,
    /// The address it went to (EMAIL).
    pub sent_to: Option<String>,
    /// Its outbox message (EMAIL).
    pub outbox_id: Option<Uuid>,
    /// When staff confirmed it done (MANUAL), or the mail was delivered.
    pub done_at: Option<DateTimeUtc>,
    /// Who confirmed it.
    pub done_by: Option<Uuid>,
    /// How it was done.
    pub note: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
