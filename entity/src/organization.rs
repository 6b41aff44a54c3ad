//! The controller (GDPR Art. 4(7)); also the Casbin domain every other row belongs to.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organization")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    /// Version of the shipped default policy this organization's rules were last upgraded to.
    pub policy_version: i32,
    /// Version of the shipped default taxonomy this organization was last seeded with.
    pub taxonomy_version: i32,
    /// Postal address of the controller.
    pub address: Option<String>,
    /// ISO 3166-1 alpha-2 country of establishment.
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Data protection officer (Art. 37-39).
    pub dpo_name: Option<String>,
    pub dpo_address: Option<String>,
    pub dpo_email: Option<String>,
    pub dpo_phone: Option<String>,
    /// Representative in the Union (Art. 27), for controllers outside the EU.
    pub representative_name: Option<String>,
    pub representative_address: Option<String>,
    pub representative_email: Option<String>,
    pub representative_phone: Option<String>,
    /// The competent supervisory authority.
    pub supervisory_authority: Option<String>,
    /// Language of access answers (`de` or `en`); German when unset.
    pub answer_language: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
