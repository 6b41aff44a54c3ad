use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .if_not_exists()
                    .col(uuid(AuditEvent::Id).primary_key())
                    .col(uuid(AuditEvent::OrgId))
                    .col(big_integer(AuditEvent::Seq))
                    .col(timestamp_not_null(manager, AuditEvent::OccurredAt))
                    .col(uuid_null(AuditEvent::ActorId))
                    .col(string_len(AuditEvent::ActorName, 200))
                    .col(string_len(AuditEvent::Operation, 100))
                    .col(string_len_null(AuditEvent::ObjectType, 100))
                    .col(string_len_null(AuditEvent::ObjectId, 200))
                    .col(string_len(AuditEvent::Outcome, 16))
                    .col(string_len_null(AuditEvent::ErrorCode, 32))
                    .col(string_len_null(AuditEvent::BeforeDigest, 64))
                    .col(string_len_null(AuditEvent::AfterDigest, 64))
                    .col(string_len(AuditEvent::PrevHash, 64))
                    .col(string_len(AuditEvent::Hash, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_event_org")
                            .from(AuditEvent::Table, AuditEvent::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_audit_event_org_seq")
                    .table(AuditEvent::Table)
                    .unique()
                    .col(AuditEvent::OrgId)
                    .col(AuditEvent::Seq)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditChainHead::Table)
                    .if_not_exists()
                    .col(uuid(AuditChainHead::OrgId).primary_key())
                    .col(big_integer(AuditChainHead::Seq))
                    .col(string_len(AuditChainHead::Hash, 64))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_audit_chain_head_org")
                            .from(AuditChainHead::Table, AuditChainHead::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AuditChainHead::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(AuditEvent::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    OrgId,
    Seq,
    OccurredAt,
    ActorId,
    ActorName,
    Operation,
    ObjectType,
    ObjectId,
    Outcome,
    ErrorCode,
    BeforeDigest,
    AfterDigest,
    PrevHash,
    Hash,
}

#[derive(DeriveIden)]
enum AuditChainHead {
    Table,
    OrgId,
    Seq,
    Hash,
}
