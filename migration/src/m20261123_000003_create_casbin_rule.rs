use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CasbinRule::Table)
                    .if_not_exists()
                    .col(big_integer(CasbinRule::Id).primary_key().auto_increment())
                    .col(string_len(CasbinRule::Ptype, 12))
                    .col(string_len(CasbinRule::V0, 100).default(""))
                    .col(string_len(CasbinRule::V1, 100).default(""))
                    .col(string_len(CasbinRule::V2, 100).default(""))
                    .col(string_len(CasbinRule::V3, 100).default(""))
                    .col(string_len(CasbinRule::V4, 100).default(""))
                    .col(string_len(CasbinRule::V5, 100).default(""))
                    .to_owned(),
            )
            .await?;
        // One rule exists once: the adapter's add/remove semantics rely on it.
        manager
            .create_index(
                Index::create()
                    .name("uq_casbin_rule")
                    .table(CasbinRule::Table)
                    .unique()
                    .col(CasbinRule::Ptype)
                    .col(CasbinRule::V0)
                    .col(CasbinRule::V1)
                    .col(CasbinRule::V2)
                    .col(CasbinRule::V3)
                    .col(CasbinRule::V4)
                    .col(CasbinRule::V5)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CasbinRule::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
enum CasbinRule {
    Table,
    Id,
    Ptype,
    V0,
    V1,
    V2,
    V3,
    V4,
    V5,
}
