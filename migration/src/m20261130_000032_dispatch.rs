//! Dispatch and its proof: how an answer left the organization (e-mail, post, portal),
//! what exactly left (the package's SHA-256 digest, or the sealed notice for requests
//! that are answered by carrying them out), and the expiring download links a subject
//! receives (only the SHA-256 of each random token is stored). The outbox learns to
//! attach a frozen answer package to a message.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000001_create_organization::Organization;
use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Dispatch {
    Table,
    Id,
    OrgId,
    RequestId,
    Channel,
    Recipient,
    PackageId,
    Digest,
    SizeBytes,
    Notice,
    Attached,
    SentOn,
    TrackingReference,
    OutboxId,
    DispatchedBy,
    DispatchedAt,
}

#[derive(DeriveIden)]
enum DownloadLink {
    Table,
    Id,
    OrgId,
    RequestId,
    DispatchId,
    PackageId,
    TokenHash,
    ExpiresAt,
    MaxDownloads,
    Downloads,
    LastDownloadAt,
    RevokedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    AttachmentPackageId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Dispatch::Table)
                    .if_not_exists()
                    .col(uuid(Dispatch::Id).primary_key())
                    .col(uuid(Dispatch::OrgId))
                    .col(uuid(Dispatch::RequestId))
                    .col(string_len(Dispatch::Channel, 10))
                    // The e-mail or postal address it went to; none for the portal.
                    .col(string_len_null(Dispatch::Recipient, 1000))
                    .col(uuid_null(Dispatch::PackageId))
                    .col(string_len(Dispatch::Digest, 64))
                    .col(big_integer(Dispatch::SizeBytes))
                    // The notice of a request answered by carrying it out, sealed.
                    .col(text_null(Dispatch::Notice))
                    .col(boolean(Dispatch::Attached))
                    .col(date_null(Dispatch::SentOn))
                    .col(string_len_null(Dispatch::TrackingReference, 200))
                    .col(uuid_null(Dispatch::OutboxId))
                    .col(uuid(Dispatch::DispatchedBy))
                    .col(timestamp_not_null(manager, Dispatch::DispatchedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Dispatch::Table, Dispatch::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Dispatch::Table, Dispatch::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A request is dispatched once: its answer is immutable from then on.
        manager
            .create_index(
                Index::create()
                    .name("idx_dispatch_request")
                    .table(Dispatch::Table)
                    .col(Dispatch::RequestId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DownloadLink::Table)
                    .if_not_exists()
                    .col(uuid(DownloadLink::Id).primary_key())
                    .col(uuid(DownloadLink::OrgId))
                    .col(uuid(DownloadLink::RequestId))
                    .col(uuid(DownloadLink::DispatchId))
                    .col(uuid(DownloadLink::PackageId))
                    .col(string_len(DownloadLink::TokenHash, 64))
                    .col(timestamp_not_null(manager, DownloadLink::ExpiresAt))
                    .col(integer(DownloadLink::MaxDownloads))
                    .col(integer(DownloadLink::Downloads))
                    .col(timestamp_null(manager, DownloadLink::LastDownloadAt))
                    .col(timestamp_null(manager, DownloadLink::RevokedAt))
                    .col(timestamp_not_null(manager, DownloadLink::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DownloadLink::Table, DownloadLink::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DownloadLink::Table, DownloadLink::DispatchId)
                            .to(Dispatch::Table, Dispatch::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_download_link_token")
                    .table(DownloadLink::Table)
                    .col(DownloadLink::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_download_link_dispatch")
                    .table(DownloadLink::Table)
                    .col(DownloadLink::DispatchId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(uuid_null(Outbox::AttachmentPackageId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::AttachmentPackageId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(DownloadLink::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Dispatch::Table).to_owned())
            .await
    }
}
