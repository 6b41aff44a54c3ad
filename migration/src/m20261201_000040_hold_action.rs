//! What becomes of a value kept under a legal hold when the hold ends: the action at
//! expiry of the retention policy that held it (DELETE, ANONYMIZE or REVIEW), and the
//! value itself, sealed, so that the retention sweep releases it then only from a row
//! that still holds it (not from one changed since, perhaps another person's).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ErasureOutcome {
    Table,
    HoldAction,
    HeldValue,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite alters one thing at a time.
        manager
            .alter_table(
                Table::alter()
                    .table(ErasureOutcome::Table)
                    .add_column(string_null(ErasureOutcome::HoldAction))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(ErasureOutcome::Table)
                    .add_column(text_null(ErasureOutcome::HeldValue))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [ErasureOutcome::HeldValue, ErasureOutcome::HoldAction] {
            manager
                .alter_table(
                    Table::alter()
                        .table(ErasureOutcome::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
