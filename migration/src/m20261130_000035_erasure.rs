//! Erasure carried out: one row per record and field of what the executor did in a
//! source (erased, anonymized, retained under a legal hold with its reason and end,
//! failed), which is the erasure report and, for retained data, the restriction that
//! lasts until the duty ends; and the suppression list, the keyed fingerprints of an
//! erased person's identities that importers check before bringing the person back.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ErasureOutcome {
    Table,
    Id,
    OrgId,
    RequestId,
    TaskId,
    SourceId,
    FieldId,
    Location,
    RecordKey,
    Strategy,
    Outcome,
    LegalReference,
    HeldUntil,
    Detail,
    CreatedAt,
    CarriedOutAt,
    ReleasedAt,
}

#[derive(DeriveIden)]
enum SuppressionEntry {
    Table,
    Id,
    OrgId,
    Kind,
    Fingerprint,
    RequestId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ErasureOutcome::Table)
                    .if_not_exists()
                    .col(uuid(ErasureOutcome::Id).primary_key())
                    .col(uuid(ErasureOutcome::OrgId))
                    .col(uuid(ErasureOutcome::RequestId))
                    .col(uuid(ErasureOutcome::TaskId))
                    .col(uuid(ErasureOutcome::SourceId))
                    .col(uuid_null(ErasureOutcome::FieldId))
                    .col(string_len(ErasureOutcome::Location, 300))
                    .col(string_len(ErasureOutcome::RecordKey, 700))
                    .col(string_len(ErasureOutcome::Strategy, 32))
                    .col(string_len(ErasureOutcome::Outcome, 32))
                    .col(string_len_null(ErasureOutcome::LegalReference, 200))
                    .col(date_null(ErasureOutcome::HeldUntil))
                    .col(text_null(ErasureOutcome::Detail))
                    .col(timestamp_not_null(manager, ErasureOutcome::CreatedAt))
                    .col(timestamp_null(manager, ErasureOutcome::CarriedOutAt))
                    .col(timestamp_null(manager, ErasureOutcome::ReleasedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ErasureOutcome::Table, ErasureOutcome::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("erasure_outcome_request_idx")
                    .table(ErasureOutcome::Table)
                    .col(ErasureOutcome::RequestId)
                    .col(ErasureOutcome::TaskId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("erasure_outcome_held_idx")
                    .table(ErasureOutcome::Table)
                    .col(ErasureOutcome::OrgId)
                    .col(ErasureOutcome::Outcome)
                    .col(ErasureOutcome::HeldUntil)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SuppressionEntry::Table)
                    .if_not_exists()
                    .col(uuid(SuppressionEntry::Id).primary_key())
                    .col(uuid(SuppressionEntry::OrgId))
                    .col(string_len(SuppressionEntry::Kind, 32))
                    .col(string_len(SuppressionEntry::Fingerprint, 64))
                    .col(uuid(SuppressionEntry::RequestId))
                    .col(timestamp_not_null(manager, SuppressionEntry::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("suppression_entry_fingerprint_idx")
                    .table(SuppressionEntry::Table)
                    .col(SuppressionEntry::OrgId)
                    .col(SuppressionEntry::Kind)
                    .col(SuppressionEntry::Fingerprint)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SuppressionEntry::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ErasureOutcome::Table).to_owned())
            .await
    }
}
