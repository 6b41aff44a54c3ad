//! A purpose of processing with its legal basis (GDPR Art. 6(1), Art. 9(2)).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purpose")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// One of the six bases of Art. 6(1).
    pub legal_basis: String,
    /// The law or contract relied on (e.g. `§ 147 AO`).
    pub legal_reference: Option<String>,
    /// The documented balancing test for legitimate interests (Art. 6(1)(f)).
    pub balancing_test: Option<String>,
    /// The Art. 9(2) condition for special categories of data.
    pub special_category_condition: Option<String>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
