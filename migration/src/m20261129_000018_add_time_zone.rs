//! Each organization's local day: the IANA time zone its day of receipt, due dates
//! and overdue are judged in (default `Europe/Berlin`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestSettings {
    Table,
    TimeZone,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RequestSettings::Table)
                    .add_column(string_len(RequestSettings::TimeZone, 64).default("Europe/Berlin"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(RequestSettings::Table)
                    .drop_column(RequestSettings::TimeZone)
                    .to_owned(),
            )
            .await
    }
}
