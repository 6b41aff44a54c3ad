//! People: staff who sign in through their organization's OpenID Connect provider.
//! `identity_provider` says which issuer and audience an organization trusts and how
//! the token's claims map to roles; `person` records everyone seen, by issuer and
//! subject, with the roles granted beyond the claims and whether they may sign in.

use sea_orm_migration::{prelude::*, schema::*};

use crate::columns::{timestamp_not_null, timestamp_null};
use crate::m20261123_000001_create_organization::Organization;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IdentityProvider {
    Table,
    Id,
    OrgId,
    Issuer,
    Audience,
    RolesClaim,
    RoleMap,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Person {
    Table,
    Id,
    OrgId,
    Issuer,
    Subject,
    Name,
    Email,
    ClaimRoles,
    ExtraRoles,
    Active,
    FirstSeenAt,
    LastSeenAt,
    DeactivatedAt,
    DeactivatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(IdentityProvider::Table)
                    .if_not_exists()
                    .col(uuid(IdentityProvider::Id).primary_key())
                    .col(uuid(IdentityProvider::OrgId))
                    .col(string_len(IdentityProvider::Issuer, 255))
                    .col(string_len(IdentityProvider::Audience, 255))
                    .col(string_len(IdentityProvider::RolesClaim, 200))
                    .col(text(IdentityProvider::RoleMap))
                    .col(timestamp_not_null(manager, IdentityProvider::CreatedAt))
                    .col(timestamp_not_null(manager, IdentityProvider::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_identity_provider_org")
                            .from(IdentityProvider::Table, IdentityProvider::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // A token names one organization: one trust per issuer and audience.
        manager
            .create_index(
                Index::create()
                    .name("idx_identity_provider_issuer_audience")
                    .table(IdentityProvider::Table)
                    .col(IdentityProvider::Issuer)
                    .col(IdentityProvider::Audience)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_identity_provider_org")
                    .table(IdentityProvider::Table)
                    .col(IdentityProvider::OrgId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Person::Table)
                    .if_not_exists()
                    .col(uuid(Person::Id).primary_key())
                    .col(uuid(Person::OrgId))
                    .col(string_len(Person::Issuer, 255))
                    .col(string_len(Person::Subject, 255))
                    .col(string_len(Person::Name, 200))
                    .col(string_len_null(Person::Email, 320))
                    .col(text(Person::ClaimRoles))
                    .col(text(Person::ExtraRoles))
                    .col(boolean(Person::Active))
                    .col(timestamp_not_null(manager, Person::FirstSeenAt))
                    .col(timestamp_not_null(manager, Person::LastSeenAt))
                    .col(timestamp_null(manager, Person::DeactivatedAt))
                    .col(uuid_null(Person::DeactivatedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_person_org")
                            .from(Person::Table, Person::OrgId)
                            .to(Organization::Table, Organization::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_person_identity")
                    .table(Person::Table)
                    .col(Person::OrgId)
                    .col(Person::Issuer)
                    .col(Person::Subject)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Person::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(IdentityProvider::Table).to_owned())
            .await
    }
}
