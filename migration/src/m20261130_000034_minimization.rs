//! The product's own data minimization: how long after a request ended its collected
//! data is kept (per organization, default 90 days), and the record of each purge
//! (what was removed; the timeline and the digests stay as proof).

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestSettings {
    Table,
    PurgeAfterDays,
}

#[derive(DeriveIden)]
enum RequestPurge {
    Table,
    RequestId,
    OrgId,
    PurgedAt,
    Records,
    Attachments,
    Packages,
    Messages,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RequestSettings::Table)
                    .add_column(integer(RequestSettings::PurgeAfterDays).default(90))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RequestPurge::Table)
                    .if_not_exists()
                    .col(uuid(RequestPurge::RequestId).primary_key())
                    .col(uuid(RequestPurge::OrgId))
                    .col(timestamp_not_null(manager, RequestPurge::PurgedAt))
                    .col(big_integer(RequestPurge::Records))
                    .col(big_integer(RequestPurge::Attachments))
                    .col(big_integer(RequestPurge::Packages))
                    .col(big_integer(RequestPurge::Messages))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestPurge::Table, RequestPurge::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RequestPurge::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RequestSettings::Table)
                    .drop_column(RequestSettings::PurgeAfterDays)
                    .to_owned(),
            )
            .await
    }
}
