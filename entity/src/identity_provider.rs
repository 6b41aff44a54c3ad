//! An OpenID Connect issuer an organization trusts for staff sign-in, with the token
//! audience it accepts and how a claim's values map to roles.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "identity_provider")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub org_id: Uuid,
    /// The issuer URL, exactly as the tokens' `iss` claim spells it.
    pub issuer: String,
    /// The `aud` value a token must carry (the client id registered for Auskunft).
    pub audience: String,
    /// Where the role values are in the claims: a name or a dotted path
    /// (`realm_access.roles`).
    pub roles_claim: String,
    /// JSON object: claim value → array of role names.
    pub role_map: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
