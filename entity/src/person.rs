//! A person who signed in through an identity provider, recorded on first sight by
//! issuer and subject.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "person")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    pub issuer: String,
    /// The token's `sub`: stable for the person at that issuer.
    pub subject: String,
    /// From the `name` claim (else `preferred_username`, else the e-mail, else the
    /// subject), as of the last sign-in.
    pub name: String,
    pub email: Option<String>,
    /// JSON array of the roles the claims gave at the last sign-in.
    pub claim_roles: String,
    /// JSON array of roles granted here beyond the claims.
    pub extra_roles: String,
    /// Whether the person may sign in.
    pub active: bool,
    pub first_seen_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    pub deactivated_at: Option<DateTimeUtc>,
    pub deactivated_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
