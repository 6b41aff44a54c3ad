//! Links processing activities to the data sources they process data from.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ActivitySource {
    Table,
    ActivityId,
    SourceId,
}

#[derive(DeriveIden)]
enum ProcessingActivity {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DataSource {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ActivitySource::Table)
                    .if_not_exists()
                    .col(uuid(ActivitySource::ActivityId))
                    .col(uuid(ActivitySource::SourceId))
                    .primary_key(
                        Index::create()
                            .col(ActivitySource::ActivityId)
                            .col(ActivitySource::SourceId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActivitySource::Table, ActivitySource::ActivityId)
                            .to(ProcessingActivity::Table, ProcessingActivity::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActivitySource::Table, ActivitySource::SourceId)
                            .to(DataSource::Table, DataSource::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        // Reverse lookups ("which activities use this source?").
        manager
            .create_index(
                Index::create()
                    .name("idx_activity_source_target")
                    .table(ActivitySource::Table)
                    .col(ActivitySource::SourceId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ActivitySource::Table).to_owned())
            .await
    }
}
