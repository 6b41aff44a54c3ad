//! Controller details of GDPR Art. 30(1)(a): contact, DPO, EU representative,
//! supervisory authority.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Details {
    Address,
    Country,
    Email,
    Phone,
    DpoName,
    DpoAddress,
    DpoEmail,
    DpoPhone,
    RepresentativeName,
    RepresentativeAddress,
    RepresentativeEmail,
    RepresentativePhone,
    SupervisoryAuthority,
}

fn columns() -> Vec<ColumnDef> {
    use Details::*;
    vec![
        text_null(Address),
        string_len_null(Country, 2),
        string_len_null(Email, 254),
        string_len_null(Phone, 50),
        string_len_null(DpoName, 200),
        text_null(DpoAddress),
        string_len_null(DpoEmail, 254),
        string_len_null(DpoPhone, 50),
        string_len_null(RepresentativeName, 200),
        text_null(RepresentativeAddress),
        string_len_null(RepresentativeEmail, 254),
        string_len_null(RepresentativePhone, 50),
        string_len_null(SupervisoryAuthority, 300),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds only one column per ALTER TABLE.
        for column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Organization::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in columns() {
            manager
                .alter_table(
                    Table::alter()
                        .table(Organization::Table)
                        .drop_column(Alias::new(column.get_column_name()))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
