//! Per-organization settings of the request workflow (absent row = defaults).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "request_settings")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub org_id: Uuid,
    /// German state (ISO 3166-2, e.g. `DE-BY`) whose holidays count besides the federal ones.
    pub holiday_region: Option<String>,
    /// RECEIPT or VERIFICATION: when the one-month deadline starts.
    pub deadline_start: String,
    /// More requests than this per subject in 12 months are flagged as possibly excessive.
    pub excessive_threshold: i32,
    /// An open request that has not moved for this long is stalled.
    pub stall_after_hours: i32,
    /// Region (ISO 3166-1 alpha-2) whose numbering plan reads phone numbers given
    /// without a country code.
    pub phone_region: String,
    /// IANA time zone of the organization's local day (receipt, deadlines, overdue).
    pub time_zone: String,
    /// Days after a request ended before its collected data is purged.
    pub purge_after_days: i32,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
