//! One run of the retention sweep (scheduled, from the command line or GraphQL).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "retention_run")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// A dry run only reports; nothing is requested.
    pub dry_run: bool,
    pub started_at: DateTimeUtc,
    /// `None` while it runs (or when it was interrupted).
    pub finished_at: Option<DateTimeUtc>,
    /// The key's name, or the scheduler.
    pub started_by: String,
    /// Records examined (rows of the tables that identify subjects).
    pub examined: i32,
    /// Records past every period that covers them.
    pub expired: i32,
    /// Erasure requests the run created.
    pub requested: i32,
    /// Sources or policies that could not be swept.
    pub problems: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
