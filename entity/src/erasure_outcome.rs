//! What the erasure executor did to one field of one record in a source: erased,
//! anonymized, retained under a legal hold (with its ground and end: the data is
//! restricted until then), or failed. The rows of a request are its erasure report.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "erasure_outcome")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    pub task_id: Uuid,
    pub source_id: Uuid,
    pub field_id: Option<Uuid>,
    /// The field's location (`customers.email`).
    pub location: String,
    /// The record (`customers(id=42)`): a pointer, no value of the subject.
    pub record_key: String,
    /// The field's erasure strategy when it was carried out.
    pub strategy: String,
    /// ERASED, ANONYMIZED, RETAINED or FAILED.
    pub outcome: String,
    /// For RETAINED: the legal ground of the duty to keep it (`§ 147 AO`).
    pub legal_reference: Option<String>,
    /// For RETAINED: the day the duty ends.
    pub held_until: Option<Date>,
    /// Why it failed, or how it was carried out.
    pub detail: Option<String>,
    pub created_at: DateTimeUtc,
    /// When it was carried out (and checked); `None` while only planned: a plan is
    /// stored before the source changes, so a task taken over after a crash knows
    /// what the crashed run did.
    pub carried_out_at: Option<DateTimeUtc>,
    /// For RETAINED: when the hold was released (erased after the duty ended).
    pub released_at: Option<DateTimeUtc>,
    /// For RETAINED: what the policy that holds it says happens when the duty ends
    /// (DELETE, ANONYMIZE, REVIEW).
    pub hold_action: Option<String>,
    /// For RETAINED: the value kept, sealed (AES-256-GCM), until the hold is
    /// released: the release changes the row only while it still holds it. Cleared
    /// on release.
    pub held_value: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
