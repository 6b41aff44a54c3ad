//! Which identities each request gave. Identities belong to the data subject and are
//! shared by its requests; a request's collection must search only the identities
//! that request gave (and that were verified for it), never those another, perhaps
//! unverified, request added to the same subject. Existing requests keep what they
//! searched so far: every identity of their subject.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::m20261123_000014_create_subject_request::SubjectRequest;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestIdentity {
    Table,
    RequestId,
    IdentityId,
    OrgId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RequestIdentity::Table)
                    .if_not_exists()
                    .col(uuid(RequestIdentity::RequestId))
                    .col(uuid(RequestIdentity::IdentityId))
                    .col(uuid(RequestIdentity::OrgId))
                    .primary_key(
                        Index::create()
                            .col(RequestIdentity::RequestId)
                            .col(RequestIdentity::IdentityId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RequestIdentity::Table, RequestIdentity::RequestId)
                            .to(SubjectRequest::Table, SubjectRequest::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO request_identity (request_id, identity_id, org_id) \
                 SELECT r.id, i.id, r.org_id FROM subject_request r \
                 JOIN subject_identity i ON i.subject_id = r.subject_id AND i.org_id = r.org_id",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RequestIdentity::Table).to_owned())
            .await
    }
}
