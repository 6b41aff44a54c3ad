//! Identities found on the way: an identifying value (a customer number, a second
//! e-mail address) that collection read from one of the subject's own records in a
//! source, kept per request so that the other sources are searched for it too.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;
use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FoundIdentity {
    Table,
    Id,
    OrgId,
    RequestId,
    TaskId,
    SourceId,
    FieldId,
    RecordKey,
    Kind,
    Value,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FoundIdentity::Table)
                    .if_not_exists()
                    .col(uuid(FoundIdentity::Id).primary_key())
                    .col(uuid(FoundIdentity::OrgId))
                    .col(uuid(FoundIdentity::RequestId))
                    .col(uuid(FoundIdentity::TaskId))
                    .col(uuid(FoundIdentity::SourceId))
                    .col(uuid(FoundIdentity::FieldId))
                    .col(string_len(FoundIdentity::RecordKey, 500))
                    .col(string_len(FoundIdentity::Kind, 30))
                    // As subject_identity.value: canonical, compared as stored.
                    .col(string_len(FoundIdentity::Value, 300))
                    .col(timestamp_not_null(manager, FoundIdentity::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(FoundIdentity::Table, FoundIdentity::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(FoundIdentity::Table, FoundIdentity::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_found_identity_request_value")
                    .table(FoundIdentity::Table)
                    .col(FoundIdentity::RequestId)
                    .col(FoundIdentity::Kind)
                    .col(FoundIdentity::Value)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FoundIdentity::Table).to_owned())
            .await
    }
}
