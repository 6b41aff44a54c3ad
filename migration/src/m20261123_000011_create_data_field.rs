//! Data fields: where in a source a category of personal data lives.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataField {
    Table,
    Id,
    OrgId,
    SourceId,
    Location,
    Description,
    DataCategoryId,
    IdentifiesSubject,
    IdentityType,
    ReferencesId,
    ErasureStrategy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DataSource {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum DataCategory {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataField::Table)
                    .if_not_exists()
                    .col(uuid(DataField::Id).primary_key())
                    .col(uuid(DataField::OrgId))
                    .col(uuid(DataField::SourceId))
                    .col(string_len(DataField::Location, 300))
                    .col(text_null(DataField::Description))
                    .col(uuid_null(DataField::DataCategoryId))
                    .col(boolean(DataField::IdentifiesSubject).default(false))
                    .col(string_len_null(DataField::IdentityType, 30))
                    .col(uuid_null(DataField::ReferencesId))
                    .col(string_len(DataField::ErasureStrategy, 20))
                    .col(timestamp_not_null(manager, DataField::CreatedAt))
                    .col(timestamp_not_null(manager, DataField::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_data_field_org")
                            .from(DataField::Table, DataField::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_data_field_source")
                            .from(DataField::Table, DataField::SourceId)
                            .to(DataSource::Table, DataSource::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_data_field_category")
                            .from(DataField::Table, DataField::DataCategoryId)
                            .to(DataCategory::Table, DataCategory::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_data_field_references")
                            .from(DataField::Table, DataField::ReferencesId)
                            .to(DataField::Table, DataField::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_data_field_source_location")
                    .table(DataField::Table)
                    .unique()
                    .col(DataField::SourceId)
                    .col(DataField::Location)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_data_field_category")
                    .table(DataField::Table)
                    .col(DataField::DataCategoryId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(DataField::Table).to_owned())
            .await
    }
}
