//! The collection engine: tasks carry a lease with a heartbeat, a time before which
//! they are not retried (backoff), and whether a worker (not a person) does them;
//! collected values name the record (row, object, upload) they belong to.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestTask {
    Table,
    HeartbeatAt,
    RunAfter,
    Automatic,
    State,
    Kind,
}

#[derive(DeriveIden)]
enum CollectedRecord {
    Table,
    RecordKey,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        for column in [
            timestamp_null(manager, RequestTask::HeartbeatAt),
            timestamp_null(manager, RequestTask::RunAfter),
            boolean(RequestTask::Automatic).default(false).to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RequestTask::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(CollectedRecord::Table)
                    .add_column(string_len_null(CollectedRecord::RecordKey, 500))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("request_task_claim_idx")
                    .table(RequestTask::Table)
                    .col(RequestTask::State)
                    .col(RequestTask::Automatic)
                    .col(RequestTask::Kind)
                    .col(RequestTask::RunAfter)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("request_task_claim_idx")
                    .table(RequestTask::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(CollectedRecord::Table)
                    .drop_column(CollectedRecord::RecordKey)
                    .to_owned(),
            )
            .await?;
        for column in [
            RequestTask::HeartbeatAt,
            RequestTask::RunAfter,
            RequestTask::Automatic,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(RequestTask::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
