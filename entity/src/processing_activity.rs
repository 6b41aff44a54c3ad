//! A processing activity of the register (Art. 30(1)).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "processing_activity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub name: String,
    pub description: Option<String>,
    /// DRAFT, ACTIVE or RETIRED.
    pub status: String,
    /// Who is responsible (department or person).
    pub owner: Option<String>,
    /// Technical and organisational measures (Art. 30(1)(g), 32).
    pub tom_description: Option<String>,
    /// Automated decision-making incl. profiling (Art. 22).
    pub automated_decision_making: bool,
    pub automated_decision_logic: Option<String>,
    /// Whether a data protection impact assessment is required (Art. 35).
    pub dpia_required: bool,
    pub dpia_reference: Option<String>,
    pub retention_policy_id: Option<Uuid>,
    pub next_review_on: Option<Date>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
