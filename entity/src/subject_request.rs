//! A data-subject request (Art. 15-21) and where it stands.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subject_request")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub subject_id: Uuid,
    pub kind: String,
    pub state: String,
    /// WEB_FORM, EMAIL, LETTER, PHONE or API.
    pub channel: String,
    pub received_at: DateTimeUtc,
    /// RECEIPT or VERIFICATION, as configured when the request arrived.
    pub deadline_basis: String,
    pub deadline_start: Option<Date>,
    pub due_date: Option<Date>,
    pub extended_due_date: Option<Date>,
    pub extension_reason: Option<String>,
    pub extended_at: Option<DateTimeUtc>,
    /// `YYYY-MM-DD/<id>` of the effective due date: keyset order of the review queue.
    pub due_sort_key: String,
    /// API key assigned to work on the request.
    pub assignee_id: Option<Uuid>,
    /// Reviewer key that claimed it in the review queue.
    pub claimed_by: Option<Uuid>,
    pub claimed_at: Option<DateTimeUtc>,
    pub is_test: bool,
    /// Optimistic locking: every change increments it.
    pub version: i32,
    pub request_text: Option<String>,
    pub idempotency_key: Option<String>,
    pub duplicate_of: Option<Uuid>,
    pub possibly_excessive: bool,
    pub verified_at: Option<DateTimeUtc>,
    pub verification_method: Option<String>,
    pub verification_evidence: Option<String>,
    pub submitted_for_review_by: Option<Uuid>,
    pub rejection_ground: Option<String>,
    /// Reason given with the last transition that needed one.
    pub state_reason: Option<String>,
    pub state_changed_at: DateTimeUtc,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
