//! The retention sweep: which mapped timestamp fields start a retention policy's
//! period (`retention_trigger_field`), and each run of the sweep (`retention_run`)
//! with what it found (`retention_finding`): one row per record past its period, with
//! the identities found in it (sealed), the latest trigger date, the day the period
//! ended and what the sweep did about it.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RetentionPolicy {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DataField {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RetentionTriggerField {
    Table,
    PolicyId,
    FieldId,
    OrgId,
}

#[derive(DeriveIden)]
enum RetentionRun {
    Table,
    Id,
    OrgId,
    DryRun,
    StartedAt,
    FinishedAt,
    StartedBy,
    Examined,
    Expired,
    Requested,
    Problems,
}

#[derive(DeriveIden)]
enum RetentionFinding {
    Table,
    Id,
    OrgId,
    RunId,
    Seq,
    PolicyId,
    SourceId,
    RecordKey,
    Identities,
    LastEventAt,
    ExpiredOn,
    Outcome,
    RequestId,
    Detail,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RetentionTriggerField::Table)
                    .if_not_exists()
                    .col(uuid(RetentionTriggerField::PolicyId))
                    .col(uuid(RetentionTriggerField::FieldId))
                    .col(uuid(RetentionTriggerField::OrgId))
                    .primary_key(
                        Index::create()
                            .col(RetentionTriggerField::PolicyId)
                            .col(RetentionTriggerField::FieldId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                RetentionTriggerField::Table,
                                RetentionTriggerField::PolicyId,
                            )
                            .to(RetentionPolicy::Table, RetentionPolicy::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RetentionTriggerField::Table, RetentionTriggerField::FieldId)
                            .to(DataField::Table, DataField::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_retention_trigger_field_field")
                    .table(RetentionTriggerField::Table)
                    .col(RetentionTriggerField::FieldId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RetentionRun::Table)
                    .if_not_exists()
                    .col(uuid(RetentionRun::Id).primary_key())
                    .col(uuid(RetentionRun::OrgId))
                    .col(boolean(RetentionRun::DryRun))
                    .col(timestamp_not_null(manager, RetentionRun::StartedAt))
                    .col(timestamp_null(manager, RetentionRun::FinishedAt))
                    .col(string_len(RetentionRun::StartedBy, 200))
                    .col(integer(RetentionRun::Examined))
                    .col(integer(RetentionRun::Expired))
                    .col(integer(RetentionRun::Requested))
                    .col(integer(RetentionRun::Problems))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_retention_run_org")
                    .table(RetentionRun::Table)
                    .col(RetentionRun::OrgId)
                    .col(RetentionRun::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RetentionFinding::Table)
                    .if_not_exists()
                    .col(uuid(RetentionFinding::Id).primary_key())
                    .col(uuid(RetentionFinding::OrgId))
                    .col(uuid(RetentionFinding::RunId))
                    .col(integer(RetentionFinding::Seq))
                    .col(uuid_null(RetentionFinding::PolicyId))
                    .col(uuid_null(RetentionFinding::SourceId))
                    .col(string_len_null(RetentionFinding::RecordKey, 1000))
                    .col(text_null(RetentionFinding::Identities))
                    .col(timestamp_null(manager, RetentionFinding::LastEventAt))
                    .col(date_null(RetentionFinding::ExpiredOn))
                    .col(string_len(RetentionFinding::Outcome, 30))
                    .col(uuid_null(RetentionFinding::RequestId))
                    .col(text_null(RetentionFinding::Detail))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RetentionFinding::Table, RetentionFinding::RunId)
                            .to(RetentionRun::Table, RetentionRun::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_retention_finding_run")
                    .table(RetentionFinding::Table)
                    .col(RetentionFinding::RunId)
                    .col(RetentionFinding::Seq)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            RetentionFinding::Table.into_iden(),
            RetentionRun::Table.into_iden(),
            RetentionTriggerField::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
