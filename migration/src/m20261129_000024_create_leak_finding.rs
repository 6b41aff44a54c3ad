//! The leak guard's findings: a collected value or record that may belong to
//! somebody else, with its reason and how a reviewer resolved it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000001_create_organization::Organization;
use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum LeakFinding {
    Table,
    Id,
    OrgId,
    RequestId,
    TaskId,
    Origin,
    Kind,
    RecordKey,
    RecordId,
    FieldId,
    Location,
    Detail,
    Fingerprint,
    Status,
    Resolution,
    ResolvedBy,
    ResolvedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(LeakFinding::Table)
                    .if_not_exists()
                    .col(uuid(LeakFinding::Id).primary_key())
                    .col(uuid(LeakFinding::OrgId))
                    .col(uuid(LeakFinding::RequestId))
                    .col(uuid_null(LeakFinding::TaskId))
                    .col(string_len(LeakFinding::Origin, 10))
                    .col(string_len(LeakFinding::Kind, 40))
                    .col(string_len_null(LeakFinding::RecordKey, 500))
                    .col(uuid_null(LeakFinding::RecordId))
                    .col(uuid_null(LeakFinding::FieldId))
                    .col(string_len_null(LeakFinding::Location, 300))
                    .col(string_len(LeakFinding::Detail, 1000))
                    .col(string_len(LeakFinding::Fingerprint, 64))
                    .col(string_len(LeakFinding::Status, 20))
                    .col(string_len_null(LeakFinding::Resolution, 5000))
                    .col(uuid_null(LeakFinding::ResolvedBy))
                    .col(timestamp_null(manager, LeakFinding::ResolvedAt))
                    .col(timestamp_not_null(manager, LeakFinding::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LeakFinding::Table, LeakFinding::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(LeakFinding::Table, LeakFinding::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_leak_finding_request")
                    .table(LeakFinding::Table)
                    .col(LeakFinding::RequestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(LeakFinding::Table).to_owned())
            .await
    }
}
