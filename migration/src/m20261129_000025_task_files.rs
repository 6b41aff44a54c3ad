//! Files a steward uploads as the result of a collection task are kept like the
//! request's attachments (sealed, with their SHA-256), linked to the task. Attachments
//! that came with the request have no task.
//!
//! No foreign key: SQLite cannot add one to an existing table. Tasks are deleted only
//! with their request, whose foreign key already removes its attachments.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestAttachment {
    Table,
    TaskId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RequestAttachment::Table)
                    .add_column(uuid_null(RequestAttachment::TaskId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_request_attachment_task")
                    .table(RequestAttachment::Table)
                    .col(RequestAttachment::TaskId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("idx_request_attachment_task")
                    .table(RequestAttachment::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RequestAttachment::Table)
                    .drop_column(RequestAttachment::TaskId)
                    .to_owned(),
            )
            .await
    }
}
