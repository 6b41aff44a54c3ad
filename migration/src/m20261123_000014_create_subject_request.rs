//! Data subjects, their identities, their requests, the request timeline and
//! attachments.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum DataSubject {
    Table,
    Id,
    OrgId,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum SubjectIdentity {
    Table,
    Id,
    OrgId,
    SubjectId,
    Kind,
    Value,
    VerifiedAt,
    VerificationMethod,
    CreatedAt,
}

#[derive(DeriveIden)]
pub enum SubjectRequest {
    Table,
    Id,
    OrgId,
    SubjectId,
    Kind,
    State,
    Channel,
    ReceivedAt,
    DeadlineBasis,
    DeadlineStart,
    DueDate,
    ExtendedDueDate,
    ExtensionReason,
    ExtendedAt,
    DueSortKey,
    AssigneeId,
    ClaimedBy,
    ClaimedAt,
    IsTest,
    Version,
    RequestText,
    IdempotencyKey,
    DuplicateOf,
    PossiblyExcessive,
    VerifiedAt,
    VerificationMethod,
    VerificationEvidence,
    SubmittedForReviewBy,
    RejectionGround,
    StateReason,
    StateChangedAt,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RequestEvent {
    Table,
    Id,
    OrgId,
    RequestId,
    Kind,
    Event,
    FromState,
    ToState,
    ActorId,
    ActorName,
    Message,
    At,
}

#[derive(DeriveIden)]
enum RequestAttachment {
    Table,
    Id,
    OrgId,
    RequestId,
    FileName,
    MediaType,
    SizeBytes,
    Sha256,
    Content,
    CreatedBy,
    CreatedAt,
}

fn org_fk(
    table: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, col)
        .to(Organization::Table, Organization::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataSubject::Table)
                    .if_not_exists()
                    .col(uuid(DataSubject::Id).primary_key())
                    .col(uuid(DataSubject::OrgId))
                    .col(timestamp_not_null(manager, DataSubject::CreatedAt))
                    .foreign_key(&mut org_fk(DataSubject::Table, DataSubject::OrgId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubjectIdentity::Table)
                    .if_not_exists()
                    .col(uuid(SubjectIdentity::Id).primary_key())
                    .col(uuid(SubjectIdentity::OrgId))
                    .col(uuid(SubjectIdentity::SubjectId))
                    .col(string_len(SubjectIdentity::Kind, 30))
                    .col(string_len(SubjectIdentity::Value, 300))
                    .col(timestamp_null(manager, SubjectIdentity::VerifiedAt))
                    .col(string_len_null(SubjectIdentity::VerificationMethod, 40))
                    .col(timestamp_not_null(manager, SubjectIdentity::CreatedAt))
                    .foreign_key(&mut org_fk(SubjectIdentity::Table, SubjectIdentity::OrgId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SubjectIdentity::Table, SubjectIdentity::SubjectId)
                            .to(DataSubject::Table, DataSubject::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_subject_identity_value")
                    .table(SubjectIdentity::Table)
                    .unique()
                    .col(SubjectIdentity::OrgId)
                    .col(SubjectIdentity::Kind)
                    .col(SubjectIdentity::Value)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_subject_identity_subject")
                    .table(SubjectIdentity::Table)
                    .col(SubjectIdentity::SubjectId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubjectRequest::Table)
                    .if_not_exists()
                    .col(uuid(SubjectRequest::Id).primary_key())
                    .col(uuid(SubjectRequest::OrgId))
                    .col(uuid(SubjectRequest::SubjectId))
                    .col(string_len(SubjectRequest::Kind, 20))
                    .col(string_len(SubjectRequest::State, 20))
                    .col(string_len(SubjectRequest::Channel, 20))
                    .col(timestamp_not_null(manager, SubjectRequest::ReceivedAt))
                    .col(string_len(SubjectRequest::DeadlineBasis, 20))
                    .col(date_null(SubjectRequest::DeadlineStart))
                    .col(date_null(SubjectRequest::DueDate))
                    .col(date_null(SubjectRequest::ExtendedDueDate))
                    .col(text_null(SubjectRequest::ExtensionReason))
                    .col(timestamp_null(manager, SubjectRequest::ExtendedAt))
                    .col(string_len(SubjectRequest::DueSortKey, 60))
                    .col(uuid_null(SubjectRequest::AssigneeId))
                    .col(uuid_null(SubjectRequest::ClaimedBy))
                    .col(timestamp_null(manager, SubjectRequest::ClaimedAt))
                    .col(boolean(SubjectRequest::IsTest).default(false))
                    .col(integer(SubjectRequest::Version))
                    .col(text_null(SubjectRequest::RequestText))
                    .col(string_len_null(SubjectRequest::IdempotencyKey, 200))
                    .col(uuid_null(SubjectRequest::DuplicateOf))
                    .col(boolean(SubjectRequest::PossiblyExcessive).default(false))
                    .col(timestamp_null(manager, SubjectRequest::VerifiedAt))
                    .col(string_len_null(SubjectRequest::VerificationMethod, 40))
                    .col(text_null(SubjectRequest::VerificationEvidence))
                    .col(uuid_null(SubjectRequest::SubmittedForReviewBy))
                    .col(string_len_null(SubjectRequest::RejectionGround, 40))
                    .col(text_null(SubjectRequest::StateReason))
                    .col(timestamp_not_null(manager, SubjectRequest::StateChangedAt))
                    .col(uuid_null(SubjectRequest::CreatedBy))
                    .col(timestamp_not_null(manager, SubjectRequest::CreatedAt))
                    .col(timestamp_not_null(manager, SubjectRequest::UpdatedAt))
                    .foreign_key(&mut org_fk(SubjectRequest::Table, SubjectRequest::OrgId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SubjectRequest::Table, SubjectRequest::SubjectId)
                            .to(DataSubject::Table, DataSubject::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "idx_subject_request_state",
                vec![SubjectRequest::OrgId, SubjectRequest::State],
                false,
            ),
            (
                "idx_subject_request_due",
                vec![SubjectRequest::OrgId, SubjectRequest::DueSortKey],
                false,
            ),
            (
                "idx_subject_request_subject",
                vec![SubjectRequest::SubjectId],
                false,
            ),
            (
                "uq_subject_request_idempotency",
                vec![SubjectRequest::OrgId, SubjectRequest::IdempotencyKey],
                true,
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(SubjectRequest::Table);
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RequestEvent::Table)
                    .if_not_exists()
                    .col(uuid(RequestEvent::Id).primary_key())
                    .col(uuid(RequestEvent::OrgId))
                    .col(uuid(RequestEvent::RequestId))
                    .col(string_len(RequestEvent::Kind, 20))
                    .col(string_len_null(RequestEvent::Event, 40))
                    .col(string_len_null(RequestEvent::FromState, 20))
                    .col(string_len_null(RequestEvent::ToState, 20))
                    .col(uuid_null(RequestEvent::ActorId))
                    .col(string_len(RequestEvent::ActorName, 200))
                    .col(text_null(RequestEvent::Message))
                    .col(timestamp_not_null(manager, RequestEvent::At))
                    .foreign_key(&mut org_fk(RequestEvent::Table, RequestEvent::OrgId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestEvent::Table, RequestEvent::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_request_event_request")
                    .table(RequestEvent::Table)
                    .col(RequestEvent::RequestId)
                    .col(RequestEvent::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RequestAttachment::Table)
                    .if_not_exists()
                    .col(uuid(RequestAttachment::Id).primary_key())
                    .col(uuid(RequestAttachment::OrgId))
                    .col(uuid(RequestAttachment::RequestId))
                    .col(string_len(RequestAttachment::FileName, 255))
                    .col(string_len(RequestAttachment::MediaType, 100))
                    .col(big_integer(RequestAttachment::SizeBytes))
                    .col(string_len(RequestAttachment::Sha256, 64))
                    // Sealed with the key for data at rest (base64 text).
                    .col(
                        ColumnDef::new(RequestAttachment::Content)
                            .custom(Alias::new(
                                if manager.get_database_backend()
                                    == sea_orm_migration::sea_orm::DatabaseBackend::MySql
                                {
                                    "LONGTEXT"
                                } else {
                                    "TEXT"
                                },
                            ))
                            .not_null(),
                    )
                    .col(uuid_null(RequestAttachment::CreatedBy))
                    .col(timestamp_not_null(manager, RequestAttachment::CreatedAt))
                    .foreign_key(&mut org_fk(
                        RequestAttachment::Table,
                        RequestAttachment::OrgId,
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestAttachment::Table, RequestAttachment::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_request_attachment_request")
                    .table(RequestAttachment::Table)
                    .col(RequestAttachment::RequestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RequestAttachment::Table.into_iden(),
            RequestEvent::Table.into_iden(),
            SubjectRequest::Table.into_iden(),
            SubjectIdentity::Table.into_iden(),
            DataSubject::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
