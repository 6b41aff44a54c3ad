//! A data subject's consent to one purpose on one channel, in its current state
//! (the history and its evidence are in `consent_event`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub subject_id: Uuid,
    /// The register purpose consented to.
    pub purpose_id: Uuid,
    /// EMAIL, PHONE, SMS, POST or STORAGE.
    pub channel: String,
    /// GRANTED, DENIED, PENDING or WITHDRAWN.
    pub state: String,
    /// The identity it was last given or asked through (the double opt-in address).
    pub identity_id: Uuid,
    /// SHA-256 of the open confirmation link's token (double opt-in); cleared when
    /// the consent is withdrawn or denied.
    pub confirm_token_hash: Option<String>,
    /// When a PENDING consent's confirmation link ends.
    pub expires_at: Option<DateTimeUtc>,
    /// When a confirmation was last mailed.
    pub last_requested_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
