//! The consent ledger: one row per subject x purpose x channel with its current state
//! (`consent`), and the append-only history with its evidence (`consent_event`):
//! who or what recorded it, the text shown, when the subject acted, and the IP address
//! and user agent where given (double opt-in).

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataSubject {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Consent {
    Table,
    Id,
    OrgId,
    SubjectId,
    PurposeId,
    Channel,
    State,
    IdentityId,
    ConfirmTokenHash,
    ExpiresAt,
    LastRequestedAt,
    UpdatedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum ConsentEvent {
    Table,
    Id,
    OrgId,
    ConsentId,
    Action,
    State,
    PreviousState,
    Source,
    TextVersion,
    Ip,
    UserAgent,
    OccurredAt,
    RecordedAt,
    ActorId,
    ActorName,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Consent::Table)
                    .if_not_exists()
                    .col(uuid(Consent::Id).primary_key())
                    .col(uuid(Consent::OrgId))
                    .col(uuid(Consent::SubjectId))
                    .col(uuid(Consent::PurposeId))
                    .col(string_len(Consent::Channel, 16))
                    .col(string_len(Consent::State, 16))
                    .col(uuid(Consent::IdentityId))
                    .col(string_len_null(Consent::ConfirmTokenHash, 64))
                    .col(timestamp_null(manager, Consent::ExpiresAt))
                    .col(timestamp_null(manager, Consent::LastRequestedAt))
                    .col(timestamp_not_null(manager, Consent::UpdatedAt))
                    .col(timestamp_not_null(manager, Consent::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Consent::Table, Consent::SubjectId)
                            .to(DataSubject::Table, DataSubject::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // What a check looks up: one subject's consent to one purpose on one channel.
        manager
            .create_index(
                Index::create()
                    .name("uq_consent_subject_purpose_channel")
                    .table(Consent::Table)
                    .col(Consent::SubjectId)
                    .col(Consent::PurposeId)
                    .col(Consent::Channel)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consent_org")
                    .table(Consent::Table)
                    .col(Consent::OrgId)
                    .col(Consent::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consent_token")
                    .table(Consent::Table)
                    .col(Consent::ConfirmTokenHash)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ConsentEvent::Table)
                    .if_not_exists()
                    .col(uuid(ConsentEvent::Id).primary_key())
                    .col(uuid(ConsentEvent::OrgId))
                    .col(uuid(ConsentEvent::ConsentId))
                    .col(string_len(ConsentEvent::Action, 16))
                    .col(string_len(ConsentEvent::State, 16))
                    .col(string_len_null(ConsentEvent::PreviousState, 16))
                    .col(string_len(ConsentEvent::Source, 200))
                    .col(string_len_null(ConsentEvent::TextVersion, 100))
                    .col(string_len_null(ConsentEvent::Ip, 45))
                    .col(string_len_null(ConsentEvent::UserAgent, 500))
                    .col(timestamp_not_null(manager, ConsentEvent::OccurredAt))
                    .col(timestamp_not_null(manager, ConsentEvent::RecordedAt))
                    .col(uuid_null(ConsentEvent::ActorId))
                    .col(string_len(ConsentEvent::ActorName, 200))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ConsentEvent::Table, ConsentEvent::ConsentId)
                            .to(Consent::Table, Consent::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_consent_event_consent")
                    .table(ConsentEvent::Table)
                    .col(ConsentEvent::ConsentId)
                    .col(ConsentEvent::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ConsentEvent::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Consent::Table).to_owned())
            .await
    }
}
