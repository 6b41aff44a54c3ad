//! One row counting changes of `casbin_rule`. Every change of the rules bumps it in the
//! same transaction, so a running server (or another replica) sees with one
//! single-row read whether the policy it holds in memory is still current.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PolicyRevision {
    Table,
    Id,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PolicyRevision::Table)
                    .if_not_exists()
                    .col(integer(PolicyRevision::Id).primary_key())
                    .col(big_integer(PolicyRevision::Revision).default(0))
                    .to_owned(),
            )
            .await?;
        // The counter is a single row that always exists (it is structure, not data):
        // bumping it is then one UPDATE, never an upsert.
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(PolicyRevision::Table)
                    .columns([PolicyRevision::Id, PolicyRevision::Revision])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PolicyRevision::Table).to_owned())
            .await
    }
}
