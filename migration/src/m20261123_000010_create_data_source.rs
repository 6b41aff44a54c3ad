//! Data sources: systems that hold personal data, with their connector.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataSource {
    Table,
    Id,
    OrgId,
    Name,
    Description,
    Owner,
    Country,
    ProcessorId,
    ConnectorKind,
    ConnectorConfig,
    Secrets,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Recipient {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataSource::Table)
                    .if_not_exists()
                    .col(uuid(DataSource::Id).primary_key())
                    .col(uuid(DataSource::OrgId))
                    .col(string_len(DataSource::Name, 200))
                    .col(text_null(DataSource::Description))
                    .col(string_len_null(DataSource::Owner, 200))
                    .col(string_len_null(DataSource::Country, 2))
                    .col(uuid_null(DataSource::ProcessorId))
                    .col(string_len(DataSource::ConnectorKind, 20))
                    .col(json(DataSource::ConnectorConfig))
                    .col(text_null(DataSource::Secrets))
                    .col(timestamp_not_null(manager, DataSource::CreatedAt))
                    .col(timestamp_not_null(manager, DataSource::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_data_source_org")
                            .from(DataSource::Table, DataSource::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_data_source_processor")
                            .from(DataSource::Table, DataSource::ProcessorId)
                            .to(Recipient::Table, Recipient::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_data_source_org_name")
                    .table(DataSource::Table)
                    .unique()
                    .col(DataSource::OrgId)
                    .col(DataSource::Name)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DataSource::Table).to_owned())
            .await
    }
}
