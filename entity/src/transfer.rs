//! A transfer of personal data to a recipient in a third country (Art. 44-49).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "transfer")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub recipient_id: Uuid,
    /// ISO 3166-1 alpha-2 code of the third country.
    pub country: String,
    /// ADEQUACY_DECISION, STANDARD_CONTRACTUAL_CLAUSES, BINDING_CORPORATE_RULES, ...
    pub safeguard: String,
    pub safeguard_description: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
