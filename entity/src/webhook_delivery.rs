//! One event for one webhook, delivered at least once (the delivery log).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_delivery")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub subscription_id: Uuid,
    /// The event (the same for every subscription it went to).
    pub event_id: Uuid,
    /// Its name, e.g. `request.transitioned`.
    pub event: String,
    /// The request it is about, if any.
    pub request_id: Option<Uuid>,
    /// The JSON body posted (no personal data).
    pub payload: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
    /// The HTTP status of the last attempt, if a response came.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
