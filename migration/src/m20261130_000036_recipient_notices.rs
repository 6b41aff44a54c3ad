//! Art. 19 notices: where a recipient wants them (`recipient.notice_email`), and one
//! row per recipient told of a request carried out (erasure, rectification,
//! restriction), by e-mail through the outbox or as a task for staff, tracked until
//! done.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Recipient {
    Table,
    NoticeEmail,
}

#[derive(DeriveIden)]
enum RecipientNotice {
    Table,
    Id,
    OrgId,
    RequestId,
    RecipientId,
    Channel,
    SentTo,
    OutboxId,
    DoneAt,
    DoneBy,
    Note,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Recipient::Table)
                    .add_column(string_len_null(Recipient::NoticeEmail, 320))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RecipientNotice::Table)
                    .if_not_exists()
                    .col(uuid(RecipientNotice::Id).primary_key())
                    .col(uuid(RecipientNotice::OrgId))
                    .col(uuid(RecipientNotice::RequestId))
                    .col(uuid(RecipientNotice::RecipientId))
                    .col(string_len(RecipientNotice::Channel, 16))
                    .col(string_len_null(RecipientNotice::SentTo, 320))
                    .col(uuid_null(RecipientNotice::OutboxId))
                    .col(timestamp_null(manager, RecipientNotice::DoneAt))
                    .col(uuid_null(RecipientNotice::DoneBy))
                    .col(text_null(RecipientNotice::Note))
                    .col(timestamp_not_null(manager, RecipientNotice::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RecipientNotice::Table, RecipientNotice::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("recipient_notice_request_idx")
                    .table(RecipientNotice::Table)
                    .col(RecipientNotice::RequestId)
                    .col(RecipientNotice::RecipientId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RecipientNotice::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Recipient::Table)
                    .drop_column(Recipient::NoticeEmail)
                    .to_owned(),
            )
            .await
    }
}
