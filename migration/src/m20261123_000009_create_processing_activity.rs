//! Processing activities (Art. 30(1)) and their links to purposes, categories,
//! recipients, transfers and a retention policy.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::timestamp_not_null;
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProcessingActivity {
    Table,
    Id,
    OrgId,
    Name,
    Description,
    Status,
    Owner,
    TomDescription,
    AutomatedDecisionMaking,
    AutomatedDecisionLogic,
    DpiaRequired,
    DpiaReference,
    RetentionPolicyId,
    NextReviewOn,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum RetentionPolicy {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ActivityId {
    ActivityId,
}

/// (join table, target column, target table)
const LINKS: &[(&str, &str, &str)] = &[
    ("activity_purpose", "purpose_id", "purpose"),
    (
        "activity_data_category",
        "data_category_id",
        "data_category",
    ),
    (
        "activity_subject_category",
        "subject_category_id",
        "subject_category",
    ),
    ("activity_recipient", "recipient_id", "recipient"),
    ("activity_transfer", "transfer_id", "transfer"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProcessingActivity::Table)
                    .if_not_exists()
                    .col(uuid(ProcessingActivity::Id).primary_key())
                    .col(uuid(ProcessingActivity::OrgId))
                    .col(string_len(ProcessingActivity::Name, 200))
                    .col(text_null(ProcessingActivity::Description))
                    .col(string_len(ProcessingActivity::Status, 10))
                    .col(string_len_null(ProcessingActivity::Owner, 200))
                    .col(text_null(ProcessingActivity::TomDescription))
                    .col(boolean(ProcessingActivity::AutomatedDecisionMaking).default(false))
                    .col(text_null(ProcessingActivity::AutomatedDecisionLogic))
                    .col(boolean(ProcessingActivity::DpiaRequired).default(false))
                    .col(string_len_null(ProcessingActivity::DpiaReference, 300))
                    .col(uuid_null(ProcessingActivity::RetentionPolicyId))
                    .col(date_null(ProcessingActivity::NextReviewOn))
                    .col(timestamp_not_null(manager, ProcessingActivity::CreatedAt))
                    .col(timestamp_not_null(manager, ProcessingActivity::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_activity_org")
                            .from(ProcessingActivity::Table, ProcessingActivity::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_activity_retention")
                            .from(
                                ProcessingActivity::Table,
                                ProcessingActivity::RetentionPolicyId,
                            )
                            .to(RetentionPolicy::Table, RetentionPolicy::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_activity_org_name")
                    .table(ProcessingActivity::Table)
                    .unique()
                    .col(ProcessingActivity::OrgId)
                    .col(ProcessingActivity::Name)
                    .to_owned(),
            )
            .await?;
        for (table, target_col, target_table) in LINKS {
            let (table, target_col, target_table) = (
                Alias::new(*table),
                Alias::new(*target_col),
                Alias::new(*target_table),
            );
            manager
                .create_table(
                    Table::create()
                        .table(table.clone())
                        .if_not_exists()
                        .col(uuid(ActivityId::ActivityId))
                        .col(uuid(target_col.clone()))
                        .primary_key(
                            Index::create()
                                .col(ActivityId::ActivityId)
                                .col(target_col.clone()),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(table.clone(), ActivityId::ActivityId)
                                .to(ProcessingActivity::Table, ProcessingActivity::Id)
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from(table.clone(), target_col.clone())
                                .to(target_table, Alias::new("id"))
                                .on_delete(ForeignKeyAction::Restrict),
                        )
                        .to_owned(),
                )
                .await?;
            // Reverse lookups ("which activities use this purpose?").
            manager
                .create_index(
                    Index::create()
                        .name(format!("idx_{}_target", table.to_string()))
                        .table(table)
                        .col(target_col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _, _) in LINKS {
            manager
                .drop_table(Table::drop().table(Alias::new(*table)).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(ProcessingActivity::Table).to_owned())
            .await
    }
}
