//! One entry of a consent's append-only history, with its evidence.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_event")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub consent_id: Uuid,
    /// RECORDED, REQUESTED, CONFIRMED, WITHDRAWN or IMPORTED.
    pub action: String,
    /// The state after the event.
    pub state: String,
    /// The state before (none for the first event).
    pub previous_state: Option<String>,
    /// Where it came from (sign-up form, call centre, CRM import, unsubscribe link ...).
    pub source: String,
    /// The version of the consent text shown to the subject.
    pub text_version: Option<String>,
    /// The subject's IP address, where given.
    pub ip: Option<String>,
    /// The subject's user agent, where given.
    pub user_agent: Option<String>,
    /// When the subject acted (as given; the recording time otherwise).
    pub occurred_at: DateTimeUtc,
    /// When Auskunft recorded it.
    pub recorded_at: DateTimeUtc,
    /// The API key that recorded it (none for the subject's own links).
    pub actor_id: Option<Uuid>,
    /// The key's name, or the link used.
    pub actor_name: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
