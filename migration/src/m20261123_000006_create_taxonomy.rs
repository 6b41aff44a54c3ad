//! The taxonomy of the register: data categories (hierarchical keys, sensitivity) and
//! categories of data subjects, per organization.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DataCategory {
    Table,
    Id,
    OrgId,
    Key,
    Name,
    Description,
    Sensitivity,
    IsDefault,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum SubjectCategory {
    Table,
    Id,
    OrgId,
    Key,
    Name,
    Description,
    IsDefault,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Taxonomy {
    TaxonomyVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DataCategory::Table)
                    .if_not_exists()
                    .col(uuid(DataCategory::Id).primary_key())
                    .col(uuid(DataCategory::OrgId))
                    .col(string_len(DataCategory::Key, 100))
                    .col(string_len(DataCategory::Name, 200))
                    .col(text_null(DataCategory::Description))
                    .col(string_len(DataCategory::Sensitivity, 20))
                    .col(boolean(DataCategory::IsDefault).default(false))
                    .col(timestamp_not_null(manager, DataCategory::CreatedAt))
                    .col(timestamp_not_null(manager, DataCategory::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_data_category_org")
                            .from(DataCategory::Table, DataCategory::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_data_category_org_key")
                    .table(DataCategory::Table)
                    .unique()
                    .col(DataCategory::OrgId)
                    .col(DataCategory::Key)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SubjectCategory::Table)
                    .if_not_exists()
                    .col(uuid(SubjectCategory::Id).primary_key())
                    .col(uuid(SubjectCategory::OrgId))
                    .col(string_len(SubjectCategory::Key, 100))
                    .col(string_len(SubjectCategory::Name, 200))
                    .col(text_null(SubjectCategory::Description))
                    .col(boolean(SubjectCategory::IsDefault).default(false))
                    .col(timestamp_not_null(manager, SubjectCategory::CreatedAt))
                    .col(timestamp_not_null(manager, SubjectCategory::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_subject_category_org")
                            .from(SubjectCategory::Table, SubjectCategory::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_subject_category_org_key")
                    .table(SubjectCategory::Table)
                    .unique()
                    .col(SubjectCategory::OrgId)
                    .col(SubjectCategory::Key)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Organization::Table)
                    .add_column(integer(Taxonomy::TaxonomyVersion).default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Organization::Table)
                    .drop_column(Taxonomy::TaxonomyVersion)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(SubjectCategory::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(DataCategory::Table).to_owned())
            .await
    }
}
