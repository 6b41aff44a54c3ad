//! Per-organization settings of the request workflow and its closed days.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestSettings {
    Table,
    OrgId,
    HolidayRegion,
    DeadlineStart,
    ExcessiveThreshold,
    StallAfterHours,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClosedDay {
    Table,
    Id,
    OrgId,
    Day,
    Note,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RequestSettings::Table)
                    .if_not_exists()
                    .col(uuid(RequestSettings::OrgId).primary_key())
                    .col(string_len_null(RequestSettings::HolidayRegion, 10))
                    .col(string_len(RequestSettings::DeadlineStart, 20))
                    .col(integer(RequestSettings::ExcessiveThreshold))
                    .col(integer(RequestSettings::StallAfterHours))
                    .col(timestamp_not_null(manager, RequestSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestSettings::Table, RequestSettings::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClosedDay::Table)
                    .if_not_exists()
                    .col(uuid(ClosedDay::Id).primary_key())
                    .col(uuid(ClosedDay::OrgId))
                    .col(date(ClosedDay::Day))
                    .col(string_len_null(ClosedDay::Note, 200))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ClosedDay::Table, ClosedDay::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_closed_day_org_day")
                    .table(ClosedDay::Table)
                    .unique()
                    .col(ClosedDay::OrgId)
                    .col(ClosedDay::Day)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ClosedDay::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(RequestSettings::Table).to_owned())
            .await
    }
}
