//! One way to identify a data subject (normalized e-mail, E.164 phone, ...).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "subject_identity")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub subject_id: Uuid,
    /// EMAIL, PHONE, CUSTOMER_NUMBER, POSTAL_ADDRESS or OTHER.
    pub kind: String,
    /// Canonical value (see the `identity` crate): what matching, filters and
    /// duplicate detection compare.
    pub value: String,
    /// The value as the requester first gave it (trimmed), for letters and display.
    pub value_as_given: String,
    pub verified_at: Option<DateTimeUtc>,
    pub verification_method: Option<String>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
