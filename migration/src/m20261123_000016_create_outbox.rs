//! E-mail verification challenges and the outbox of messages to deliver at least once.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000001_create_organization::Organization;
use crate::m20261123_000014_create_subject_request::{SubjectIdentity, SubjectRequest};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VerificationChallenge {
    Table,
    Id,
    OrgId,
    RequestId,
    IdentityId,
    CodeHash,
    ExpiresAt,
    Attempts,
    SentCount,
    LastSentAt,
    ConsumedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    OrgId,
    RequestId,
    Kind,
    Recipient,
    Subject,
    Body,
    IsTest,
    Attempts,
    NextAttemptAt,
    DeliveredAt,
    LastError,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(VerificationChallenge::Table)
                    .if_not_exists()
                    .col(uuid(VerificationChallenge::Id).primary_key())
                    .col(uuid(VerificationChallenge::OrgId))
                    .col(uuid(VerificationChallenge::RequestId))
                    .col(uuid(VerificationChallenge::IdentityId))
                    .col(string_len(VerificationChallenge::CodeHash, 64))
                    .col(timestamp_not_null(
                        manager,
                        VerificationChallenge::ExpiresAt,
                    ))
                    .col(integer(VerificationChallenge::Attempts).default(0))
                    .col(integer(VerificationChallenge::SentCount).default(1))
                    .col(timestamp_not_null(
                        manager,
                        VerificationChallenge::LastSentAt,
                    ))
                    .col(timestamp_null(manager, VerificationChallenge::ConsumedAt))
                    .col(timestamp_not_null(
                        manager,
                        VerificationChallenge::CreatedAt,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(VerificationChallenge::Table, VerificationChallenge::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                VerificationChallenge::Table,
                                VerificationChallenge::RequestId,
                            )
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                VerificationChallenge::Table,
                                VerificationChallenge::IdentityId,
                            )
                            .to(SubjectIdentity::Table, SubjectIdentity::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_verification_challenge_request")
                    .table(VerificationChallenge::Table)
                    .col(VerificationChallenge::RequestId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .if_not_exists()
                    .col(uuid(Outbox::Id).primary_key())
                    .col(uuid(Outbox::OrgId))
                    .col(uuid_null(Outbox::RequestId))
                    .col(string_len(Outbox::Kind, 20))
                    .col(string_len(Outbox::Recipient, 300))
                    .col(string_len(Outbox::Subject, 300))
                    // Sealed with the key for data at rest (it may hold a code).
                    .col(text(Outbox::Body))
                    .col(boolean(Outbox::IsTest).default(false))
                    .col(integer(Outbox::Attempts).default(0))
                    .col(timestamp_not_null(manager, Outbox::NextAttemptAt))
                    .col(timestamp_null(manager, Outbox::DeliveredAt))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_not_null(manager, Outbox::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Outbox::Table, Outbox::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_outbox_pending")
                    .table(Outbox::Table)
                    .col(Outbox::DeliveredAt)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Outbox::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(VerificationChallenge::Table).to_owned())
            .await
    }
}
