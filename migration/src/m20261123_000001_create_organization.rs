use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Organization::Table)
                    .if_not_exists()
                    .col(uuid(Organization::Id).primary_key())
                    .col(string_len(Organization::Name, 200))
                    .col(integer(Organization::PolicyVersion).default(0))
                    .col(timestamp_not_null(manager, Organization::CreatedAt))
                    .col(timestamp_not_null(manager, Organization::UpdatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Organization::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Organization {
    Table,
    Id,
    Name,
    PolicyVersion,
    CreatedAt,
    UpdatedAt,
}
