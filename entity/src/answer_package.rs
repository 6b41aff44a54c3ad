//! The answer package (ZIP of letter, data files and manifest) frozen when a request
//! was approved. Its content never changes; when the reviewer sends an approved
//! request back, the package is marked superseded and the next approval freezes a
//! new one.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "answer_package")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub request_id: Uuid,
    /// `de` or `en`.
    pub language: String,
    pub is_test: bool,
    /// SHA-256 (hex) of the ZIP bytes.
    pub digest: String,
    pub size_bytes: i64,
    /// The ZIP, sealed with the key for data at rest.
    pub content: String,
    pub created_by: Option<Uuid>,
    pub created_at: DateTimeUtc,
    /// When the reviewer sent the approved request back (the package no longer applies).
    pub superseded_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
