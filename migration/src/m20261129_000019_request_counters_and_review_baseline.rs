//! One verification challenge per request (its attempt and send counters are the
//! request's, across resends), and the baseline of the last review: the records a
//! reviewer saw when they sent a request back, to show what changed since.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;
use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum VerificationChallenge {
    Table,
    RequestId,
}

#[derive(DeriveIden)]
enum ReviewBaseline {
    Table,
    Id,
    OrgId,
    RequestId,
    RecordId,
    TaskId,
    SourceId,
    FieldId,
    Location,
    Fingerprint,
    Redacted,
    TakenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The unique index first: MySQL keeps the foreign key on request_id backed.
        manager
            .create_index(
                Index::create()
                    .name("uq_verification_challenge_request")
                    .table(VerificationChallenge::Table)
                    .unique()
                    .col(VerificationChallenge::RequestId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("idx_verification_challenge_request")
                    .table(VerificationChallenge::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReviewBaseline::Table)
                    .if_not_exists()
                    .col(uuid(ReviewBaseline::Id).primary_key())
                    .col(uuid(ReviewBaseline::OrgId))
                    .col(uuid(ReviewBaseline::RequestId))
                    // The record as it was then (it may be gone since: no foreign key).
                    .col(uuid(ReviewBaseline::RecordId))
                    .col(uuid(ReviewBaseline::TaskId))
                    .col(uuid(ReviewBaseline::SourceId))
                    .col(uuid_null(ReviewBaseline::FieldId))
                    .col(string_len(ReviewBaseline::Location, 300))
                    // Keyed hash (HMAC-SHA256) of the value, never the value itself.
                    .col(string_len(ReviewBaseline::Fingerprint, 64))
                    .col(boolean(ReviewBaseline::Redacted).default(false))
                    .col(timestamp_not_null(manager, ReviewBaseline::TakenAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReviewBaseline::Table, ReviewBaseline::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(ReviewBaseline::Table, ReviewBaseline::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_review_baseline_request")
                    .table(ReviewBaseline::Table)
                    .col(ReviewBaseline::RequestId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ReviewBaseline::Table).to_owned())
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
            .drop_index(
                Index::drop()
                    .name("uq_verification_challenge_request")
                    .table(VerificationChallenge::Table)
                    .to_owned(),
            )
            .await
    }
}
