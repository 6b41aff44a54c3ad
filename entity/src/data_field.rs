//! Where in a data source a category of personal data lives.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "data_field")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub source_id: Uuid,
    /// `table.column` (SQL), a JSON path `$...` (HTTP), or a description (MANUAL).
    pub location: String,
    pub description: Option<String>,
    pub data_category_id: Option<Uuid>,
    /// The field can be searched to find a data subject.
    pub identifies_subject: bool,
    /// EMAIL, PHONE, CUSTOMER_NUMBER, POSTAL_ADDRESS or OTHER.
    pub identity_type: Option<String>,
    /// The field this one points to (e.g. `orders.customer_id` -> `customers.id`).
    pub references_id: Option<Uuid>,
    /// DELETE_ROW, SET_NULL, MASK, ANONYMIZE or KEEP_UNDER_HOLD.
    pub erasure_strategy: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
