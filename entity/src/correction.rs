//! A corrected value the subject asked for (Art. 16) for one field of one record,
//! sealed; carried out in the source after approval, with keyed digests of the value
//! before and after as proof (never the values).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "correction")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub source_id: Uuid,
    pub field_id: Uuid,
    /// The field's location when proposed (`customers.name`).
    pub location: String,
    /// The record (`customers(id=42)`).
    pub record_key: String,
    /// The corrected value, sealed (AES-256-GCM).
    #[sea_orm(column_type = "Text")]
    pub value: String,
    /// Keyed digest of the corrected value.
    pub value_digest: String,
    pub proposed_by: Option<Uuid>,
    pub proposed_at: DateTimeUtc,
    /// The EXECUTE task that carried it out.
    pub task_id: Option<Uuid>,
    /// APPLIED, UNCHANGED, FAILED or BY_HAND; `None` until carried out.
    pub outcome: Option<String>,
    /// Keyed digest of the value found before it was written (`None`: no value).
    pub before_digest: Option<String>,
    /// Keyed digest of the value found after it was written.
    pub after_digest: Option<String>,
    #[sea_orm(column_type = "Text", nullable)]
    pub detail: Option<String>,
    pub carried_out_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
