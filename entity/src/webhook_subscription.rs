//! An organization's webhook: where events are posted, which ones, and the secret
//! their signatures are made with.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_subscription")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub url: String,
    /// Event names, comma-separated (`request.created,request.transitioned`).
    pub events: String,
    /// The signing secret, sealed with the key for data at rest.
    pub secret: String,
    pub description: Option<String>,
    pub active: bool,
    pub created_by: Uuid,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
