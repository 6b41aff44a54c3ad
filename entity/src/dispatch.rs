//! How a request's answer left the organization, and what exactly left: the proof of
//! dispatch. One per request; never changed afterwards.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "dispatch")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    /// `EMAIL`, `POSTAL` or `PORTAL`.
    pub channel: String,
    /// The e-mail or postal address it went to; none for the portal.
    pub recipient: Option<String>,
    /// The frozen answer package that was sent, if the request has one.
    pub package_id: Option<Uuid>,
    /// SHA-256 (hex) of what was sent: the package, or the notice.
    pub digest: String,
    pub size_bytes: i64,
    /// The notice of a request answered by carrying it out, sealed with the key for
    /// data at rest (requests with a package: none).
    pub notice: Option<String>,
    /// Whether the package went as an e-mail attachment.
    pub attached: bool,
    /// POSTAL: the day the letter was posted.
    pub sent_on: Option<Date>,
    /// POSTAL: the carrier's tracking reference, if any.
    pub tracking_reference: Option<String>,
    /// EMAIL: the outbox message.
    pub outbox_id: Option<Uuid>,
    pub dispatched_by: Uuid,
    pub dispatched_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
