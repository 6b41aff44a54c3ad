//! Tasks of a request (one per mapped source), what they collected, and the
//! reviewer's redactions of collected records.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000001_create_organization::Organization;
use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestTask {
    Table,
    Id,
    OrgId,
    RequestId,
    SourceId,
    Kind,
    State,
    Note,
    Error,
    CompletedBy,
    CompletedAt,
    LeaseOwner,
    LeaseUntil,
    Attempts,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CollectedRecord {
    Table,
    Id,
    OrgId,
    RequestId,
    TaskId,
    SourceId,
    FieldId,
    DataCategoryId,
    Location,
    Value,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Redaction {
    Table,
    Id,
    OrgId,
    RequestId,
    RecordId,
    Reason,
    DecidedBy,
    DecidedAt,
}

#[derive(DeriveIden)]
enum DataSource {
    Table,
    Id,
}

fn cascade(
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RequestTask::Table)
                    .if_not_exists()
                    .col(uuid(RequestTask::Id).primary_key())
                    .col(uuid(RequestTask::OrgId))
                    .col(uuid(RequestTask::RequestId))
                    .col(uuid(RequestTask::SourceId))
                    .col(string_len(RequestTask::Kind, 20))
                    .col(string_len(RequestTask::State, 20))
                    .col(text_null(RequestTask::Note))
                    .col(text_null(RequestTask::Error))
                    .col(uuid_null(RequestTask::CompletedBy))
                    .col(timestamp_null(manager, RequestTask::CompletedAt))
                    .col(string_len_null(RequestTask::LeaseOwner, 100))
                    .col(timestamp_null(manager, RequestTask::LeaseUntil))
                    .col(integer(RequestTask::Attempts).default(0))
                    .col(timestamp_not_null(manager, RequestTask::CreatedAt))
                    .col(timestamp_not_null(manager, RequestTask::UpdatedAt))
                    .foreign_key(&mut cascade(
                        (RequestTask::Table, RequestTask::OrgId),
                        (Organization::Table, Organization::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (RequestTask::Table, RequestTask::RequestId),
                        (SubjectRequest::Table, SubjectRequest::Id),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestTask::Table, RequestTask::SourceId)
                            .to(DataSource::Table, DataSource::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_request_task_source_kind")
                    .table(RequestTask::Table)
                    .unique()
                    .col(RequestTask::RequestId)
                    .col(RequestTask::SourceId)
                    .col(RequestTask::Kind)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_request_task_state")
                    .table(RequestTask::Table)
                    .col(RequestTask::OrgId)
                    .col(RequestTask::State)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CollectedRecord::Table)
                    .if_not_exists()
                    .col(uuid(CollectedRecord::Id).primary_key())
                    .col(uuid(CollectedRecord::OrgId))
                    .col(uuid(CollectedRecord::RequestId))
                    .col(uuid(CollectedRecord::TaskId))
                    .col(uuid(CollectedRecord::SourceId))
                    .col(uuid_null(CollectedRecord::FieldId))
                    .col(uuid_null(CollectedRecord::DataCategoryId))
                    .col(string_len(CollectedRecord::Location, 300))
                    // Sealed with the key for data at rest.
                    .col(text(CollectedRecord::Value))
                    .col(timestamp_not_null(manager, CollectedRecord::CreatedAt))
                    .foreign_key(&mut cascade(
                        (CollectedRecord::Table, CollectedRecord::OrgId),
                        (Organization::Table, Organization::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (CollectedRecord::Table, CollectedRecord::RequestId),
                        (SubjectRequest::Table, SubjectRequest::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (CollectedRecord::Table, CollectedRecord::TaskId),
                        (RequestTask::Table, RequestTask::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_collected_record_request")
                    .table(CollectedRecord::Table)
                    .col(CollectedRecord::RequestId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_collected_record_task")
                    .table(CollectedRecord::Table)
                    .col(CollectedRecord::TaskId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Redaction::Table)
                    .if_not_exists()
                    .col(uuid(Redaction::Id).primary_key())
                    .col(uuid(Redaction::OrgId))
                    .col(uuid(Redaction::RequestId))
                    .col(uuid(Redaction::RecordId))
                    .col(text(Redaction::Reason))
                    .col(uuid_null(Redaction::DecidedBy))
                    .col(timestamp_not_null(manager, Redaction::DecidedAt))
                    .foreign_key(&mut cascade(
                        (Redaction::Table, Redaction::OrgId),
                        (Organization::Table, Organization::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (Redaction::Table, Redaction::RequestId),
                        (SubjectRequest::Table, SubjectRequest::Id),
                    ))
                    .foreign_key(&mut cascade(
                        (Redaction::Table, Redaction::RecordId),
                        (CollectedRecord::Table, CollectedRecord::Id),
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_redaction_record")
                    .table(Redaction::Table)
                    .unique()
                    .col(Redaction::RecordId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Redaction::Table.into_iden(),
            CollectedRecord::Table.into_iden(),
            RequestTask::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
