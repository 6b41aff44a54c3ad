use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKey::Table)
                    .if_not_exists()
                    .col(uuid(ApiKey::Id).primary_key())
                    .col(uuid(ApiKey::OrgId))
                    .col(string_len(ApiKey::Name, 200))
                    .col(string_len_uniq(ApiKey::Prefix, 32))
                    .col(string_len(ApiKey::SecretHash, 64))
                    .col(timestamp_not_null(manager, ApiKey::CreatedAt))
                    .col(uuid_null(ApiKey::CreatedBy))
                    .col(timestamp_null(manager, ApiKey::LastUsedAt))
                    .col(timestamp_null(manager, ApiKey::RevokedAt))
                    .col(uuid_null(ApiKey::RevokedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_api_key_org")
                            .from(ApiKey::Table, ApiKey::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_api_key_org")
                    .table(ApiKey::Table)
                    .col(ApiKey::OrgId)
                    .col(ApiKey::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ApiKey::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum ApiKey {
    Table,
    Id,
    OrgId,
    Name,
    Prefix,
    SecretHash,
    CreatedAt,
    CreatedBy,
    LastUsedAt,
    RevokedAt,
    RevokedBy,
}
