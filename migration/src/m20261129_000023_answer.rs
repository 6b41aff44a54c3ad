//! The Art. 15 answer: an organization's default answer language, its own letter
//! templates (overriding the built-in ones per language and format), and the answer
//! package frozen at approval (sealed ZIP bytes with their SHA-256 digest).

use sea_orm_migration::sea_orm::DatabaseBackend;
use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000001_create_organization::Organization;
use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OrganizationAnswer {
    #[sea_orm(iden = "organization")]
    Table,
    AnswerLanguage,
}

#[derive(DeriveIden)]
enum LetterTemplate {
    Table,
    Id,
    OrgId,
    Language,
    Format,
    Body,
    UpdatedBy,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum AnswerPackage {
    Table,
    Id,
    OrgId,
    RequestId,
    Language,
    IsTest,
    Digest,
    SizeBytes,
    Content,
    CreatedBy,
    CreatedAt,
    SupersededAt,
}

/// Long text: MySQL's TEXT ends at 64 KiB.
fn long_text(manager: &SchemaManager, name: impl IntoIden, mysql: &str) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    col.custom(Alias::new(
        if manager.get_database_backend() == DatabaseBackend::MySql {
            mysql
        } else {
            "TEXT"
        },
    ))
    .not_null();
    col
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OrganizationAnswer::Table)
                    .add_column(string_len_null(OrganizationAnswer::AnswerLanguage, 2))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LetterTemplate::Table)
                    .if_not_exists()
                    .col(uuid(LetterTemplate::Id).primary_key())
                    .col(uuid(LetterTemplate::OrgId))
                    .col(string_len(LetterTemplate::Language, 2))
                    .col(string_len(LetterTemplate::Format, 10))
                    .col(long_text(manager, LetterTemplate::Body, "MEDIUMTEXT"))
                    .col(uuid_null(LetterTemplate::UpdatedBy))
                    .col(timestamp_not_null(manager, LetterTemplate::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(LetterTemplate::Table, LetterTemplate::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_letter_template_org_language_format")
                    .table(LetterTemplate::Table)
                    .col(LetterTemplate::OrgId)
                    .col(LetterTemplate::Language)
                    .col(LetterTemplate::Format)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AnswerPackage::Table)
                    .if_not_exists()
                    .col(uuid(AnswerPackage::Id).primary_key())
                    .col(uuid(AnswerPackage::OrgId))
                    .col(uuid(AnswerPackage::RequestId))
                    .col(string_len(AnswerPackage::Language, 2))
                    .col(boolean(AnswerPackage::IsTest))
                    .col(string_len(AnswerPackage::Digest, 64))
                    .col(big_integer(AnswerPackage::SizeBytes))
                    // The ZIP sealed with the key for data at rest (base64 text).
                    .col(long_text(manager, AnswerPackage::Content, "LONGTEXT"))
                    .col(uuid_null(AnswerPackage::CreatedBy))
                    .col(timestamp_not_null(manager, AnswerPackage::CreatedAt))
                    .col(timestamp_null(manager, AnswerPackage::SupersededAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AnswerPackage::Table, AnswerPackage::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(AnswerPackage::Table, AnswerPackage::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_answer_package_request")
                    .table(AnswerPackage::Table)
                    .col(AnswerPackage::RequestId)
                    .col(AnswerPackage::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(AnswerPackage::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(LetterTemplate::Table).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(OrganizationAnswer::Table)
                    .drop_column(OrganizationAnswer::AnswerLanguage)
                    .to_owned(),
            )
            .await
    }
}
