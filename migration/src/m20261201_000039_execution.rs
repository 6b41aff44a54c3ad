//! Rectification, restriction and objection carried out.
//!
//! `correction`: a corrected value the subject asked for (Art. 16), for one field of
//! one collected record, sealed; approved with the request and then written to the
//! source (or by a steward), with keyed digests of the value before and after (never
//! the values themselves) as proof.
//!
//! `processing_restriction`: a record (or a whole source) whose processing is
//! restricted (Art. 18) or objected to (Art. 21) for one purpose or all, from when,
//! and when and why it was lifted.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SubjectRequest {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Correction {
    Table,
    Id,
    OrgId,
    RequestId,
    SourceId,
    FieldId,
    Location,
    RecordKey,
    Value,
    ValueDigest,
    ProposedBy,
    ProposedAt,
    TaskId,
    Outcome,
    BeforeDigest,
    AfterDigest,
    Detail,
    CarriedOutAt,
}

#[derive(DeriveIden)]
enum ProcessingRestriction {
    Table,
    Id,
    OrgId,
    RequestId,
    SubjectId,
    SourceId,
    RecordKey,
    Ground,
    PurposeId,
    Since,
    LiftedAt,
    LiftedBy,
    LiftReason,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Correction::Table)
                    .if_not_exists()
                    .col(uuid(Correction::Id).primary_key())
                    .col(uuid(Correction::OrgId))
                    .col(uuid(Correction::RequestId))
                    .col(uuid(Correction::SourceId))
                    .col(uuid(Correction::FieldId))
                    .col(string_len(Correction::Location, 500))
                    .col(string_len(Correction::RecordKey, 1000))
                    .col(text(Correction::Value))
                    .col(string_len(Correction::ValueDigest, 100))
                    .col(uuid_null(Correction::ProposedBy))
                    .col(timestamp_not_null(manager, Correction::ProposedAt))
                    .col(uuid_null(Correction::TaskId))
                    .col(string_len_null(Correction::Outcome, 30))
                    .col(string_len_null(Correction::BeforeDigest, 100))
                    .col(string_len_null(Correction::AfterDigest, 100))
                    .col(text_null(Correction::Detail))
                    .col(timestamp_null(manager, Correction::CarriedOutAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Correction::Table, Correction::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_correction_request")
                    .table(Correction::Table)
                    .col(Correction::RequestId)
                    .col(Correction::SourceId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ProcessingRestriction::Table)
                    .if_not_exists()
                    .col(uuid(ProcessingRestriction::Id).primary_key())
                    .col(uuid(ProcessingRestriction::OrgId))
                    .col(uuid(ProcessingRestriction::RequestId))
                    .col(uuid(ProcessingRestriction::SubjectId))
                    .col(uuid(ProcessingRestriction::SourceId))
                    .col(string_len_null(ProcessingRestriction::RecordKey, 1000))
                    .col(string_len(ProcessingRestriction::Ground, 30))
                    .col(uuid_null(ProcessingRestriction::PurposeId))
                    .col(timestamp_not_null(manager, ProcessingRestriction::Since))
                    .col(timestamp_null(manager, ProcessingRestriction::LiftedAt))
                    .col(uuid_null(ProcessingRestriction::LiftedBy))
                    .col(text_null(ProcessingRestriction::LiftReason))
                    .foreign_key(
                        ForeignKey::create()
                            .from(
                                ProcessingRestriction::Table,
                                ProcessingRestriction::RequestId,
                            )
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            (
                "idx_processing_restriction_subject",
                ProcessingRestriction::SubjectId,
            ),
            (
                "idx_processing_restriction_request",
                ProcessingRestriction::RequestId,
            ),
            (
                "idx_processing_restriction_source",
                ProcessingRestriction::SourceId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ProcessingRestriction::Table)
                        .col(ProcessingRestriction::OrgId)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            ProcessingRestriction::Table.into_iden(),
            Correction::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
