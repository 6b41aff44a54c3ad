//! Recipients of personal data and transfers to third countries (Art. 44-49).

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Recipient {
    Table,
    Id,
    OrgId,
    Name,
    Kind,
    Country,
    Description,
    ContractReference,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Transfer {
    Table,
    Id,
    OrgId,
    RecipientId,
    Country,
    Safeguard,
    SafeguardDescription,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Recipient::Table)
                    .if_not_exists()
                    .col(uuid(Recipient::Id).primary_key())
                    .col(uuid(Recipient::OrgId))
                    .col(string_len(Recipient::Name, 200))
                    .col(string_len(Recipient::Kind, 30))
                    .col(string_len_null(Recipient::Country, 2))
                    .col(text_null(Recipient::Description))
                    .col(string_len_null(Recipient::ContractReference, 300))
                    .col(timestamp_not_null(manager, Recipient::CreatedAt))
                    .col(timestamp_not_null(manager, Recipient::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_recipient_org")
                            .from(Recipient::Table, Recipient::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_recipient_org_name")
                    .table(Recipient::Table)
                    .unique()
                    .col(Recipient::OrgId)
                    .col(Recipient::Name)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Transfer::Table)
                    .if_not_exists()
                    .col(uuid(Transfer::Id).primary_key())
                    .col(uuid(Transfer::OrgId))
                    .col(uuid(Transfer::RecipientId))
                    .col(string_len(Transfer::Country, 2))
                    .col(string_len(Transfer::Safeguard, 30))
                    .col(text_null(Transfer::SafeguardDescription))
                    .col(timestamp_not_null(manager, Transfer::CreatedAt))
                    .col(timestamp_not_null(manager, Transfer::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transfer_org")
                            .from(Transfer::Table, Transfer::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_transfer_recipient")
                            .from(Transfer::Table, Transfer::RecipientId)
                            .to(Recipient::Table, Recipient::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_transfer_recipient")
                    .table(Transfer::Table)
                    .col(Transfer::RecipientId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Transfer::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Recipient::Table).to_owned())
            .await
    }
}
