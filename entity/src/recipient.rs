//! A recipient (or category of recipients) of personal data (Art. 4(9)).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "recipient")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    /// INTERNAL, PROCESSOR, THIRD_PARTY or PUBLIC_AUTHORITY.
    pub kind: String,
    /// ISO 3166-1 alpha-2 country of establishment.
    pub country: Option<String>,
    pub description: Option<String>,
    /// E.g. the data processing agreement (Art. 28).
    pub contract_reference: Option<String>,
    /// Where notices of erasure, rectification and restriction go (Art. 19).
    pub notice_email: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
