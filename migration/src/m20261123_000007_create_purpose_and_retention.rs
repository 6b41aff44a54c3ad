//! Purposes with their legal basis (Art. 6(1), Art. 9(2)) and retention policies.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Purpose {
    Table,
    Id,
    OrgId,
    Name,
    Description,
    LegalBasis,
    LegalReference,
    BalancingTest,
    SpecialCategoryCondition,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RetentionPolicy {
    Table,
    Id,
    OrgId,
    Name,
    Description,
    Duration,
    Trigger,
    TriggerDescription,
    LegalReference,
    ActionAtExpiry,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Purpose::Table)
                    .if_not_exists()
                    .col(uuid(Purpose::Id).primary_key())
                    .col(uuid(Purpose::OrgId))
                    .col(string_len(Purpose::Name, 200))
                    .col(text_null(Purpose::Description))
                    .col(string_len(Purpose::LegalBasis, 30))
                    .col(string_len_null(Purpose::LegalReference, 300))
                    .col(text_null(Purpose::BalancingTest))
                    .col(string_len_null(Purpose::SpecialCategoryCondition, 40))
                    .col(timestamp_not_null(manager, Purpose::CreatedAt))
                    .col(timestamp_not_null(manager, Purpose::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_purpose_org")
                            .from(Purpose::Table, Purpose::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_purpose_org_name")
                    .table(Purpose::Table)
                    .unique()
                    .col(Purpose::OrgId)
                    .col(Purpose::Name)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RetentionPolicy::Table)
                    .if_not_exists()
                    .col(uuid(RetentionPolicy::Id).primary_key())
                    .col(uuid(RetentionPolicy::OrgId))
                    .col(string_len(RetentionPolicy::Name, 200))
                    .col(text_null(RetentionPolicy::Description))
                    .col(string_len(RetentionPolicy::Duration, 40))
                    .col(string_len(RetentionPolicy::Trigger, 40))
                    .col(text_null(RetentionPolicy::TriggerDescription))
                    .col(string_len_null(RetentionPolicy::LegalReference, 300))
                    .col(string_len(RetentionPolicy::ActionAtExpiry, 20))
                    .col(timestamp_not_null(manager, RetentionPolicy::CreatedAt))
                    .col(timestamp_not_null(manager, RetentionPolicy::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_retention_policy_org")
                            .from(RetentionPolicy::Table, RetentionPolicy::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_retention_policy_org_name")
                    .table(RetentionPolicy::Table)
                    .unique()
                    .col(RetentionPolicy::OrgId)
                    .col(RetentionPolicy::Name)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RetentionPolicy::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Purpose::Table).to_owned())
            .await
    }
}
