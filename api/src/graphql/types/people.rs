//! People who sign in through the organization's identity provider, and the
//! providers the organization trusts.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use workflow::access::oidc::{IdentityProviderView, PersonView};

use super::Role;
use crate::graphql::ids::global_id;

mirror_enum! {
    /// What kind of caller acted.
    CallerKind = workflow::PrincipalKind {
        /// A person signed in with a token of the organization's identity provider.
        Person,
        /// An API key (integrators, machines).
        ApiKey,
        /// The system acting on its own (collection worker, retention sweep).
        System,
    }
}

/// A person who signed in through the organization's identity provider (OpenID
/// Connect), recorded on first sight by issuer and subject. Everything they do is
/// attributed to them, whichever token they present.
#[derive(SimpleObject, Clone, Debug)]
pub struct Person {
    /// Global ID.
    pub id: ID,
    /// Their identity provider (the tokens' `iss`).
    pub issuer: String,
    /// Their subject at that provider (the tokens' `sub`).
    pub subject: String,
    /// Name, from the `name` claim (else `preferred_username`, the e-mail or the
    /// subject) of the latest sign-in.
    pub name: String,
    /// E-mail, from the `email` claim of the latest sign-in.
    pub email: Option<String>,
    /// Roles their claims gave at the latest sign-in (through the provider's role map).
    pub claim_roles: Vec<Role>,
    /// Roles granted here beyond the claims (`setPersonRoles`).
    pub extra_roles: Vec<Role>,
    /// Whether they may sign in; a deactivated person's tokens are refused.
    pub active: bool,
    /// First sign-in.
    pub first_seen_at: DateTime<Utc>,
    /// Latest sign-in (to the minute).
    pub last_seen_at: DateTime<Utc>,
}

impl From<PersonView> for Person {
    fn from(p: PersonView) -> Self {
        Self {
            id: global_id("Person", p.id),
            issuer: p.issuer,
            subject: p.subject,
            name: p.name,
            email: p.email,
            claim_roles: p.claim_roles.into_iter().map(Role::from).collect(),
            extra_roles: p.extra_roles.into_iter().map(Role::from).collect(),
            active: p.active,
            first_seen_at: p.first_seen_at,
            last_seen_at: p.last_seen_at,
        }
    }
}

/// Which roles a value of the roles claim gives.
#[derive(SimpleObject, Clone, Debug)]
pub struct RoleMapping {
    /// A value of the roles claim (a group or role name at the provider).
    pub claim_value: String,
    /// The roles it gives here.
    pub roles: Vec<Role>,
}

/// An OpenID Connect provider the organization trusts for staff sign-in.
#[derive(SimpleObject, Clone, Debug)]
pub struct IdentityProvider {
    /// Global ID.
    pub id: ID,
    /// The issuer URL, exactly as the tokens' `iss` spells it. Its keys are found
    /// through `<issuer>/.well-known/openid-configuration`.
    pub issuer: String,
    /// The audience a token must carry (the client id registered for Auskunft).
    pub audience: String,
    /// Where the role values are in the claims: a claim name or a dotted path
    /// (`realm_access.roles` for Keycloak realm roles).
    pub roles_claim: String,
    /// Which roles each claim value gives; values not listed give none.
    pub role_map: Vec<RoleMapping>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<IdentityProviderView> for IdentityProvider {
    fn from(p: IdentityProviderView) -> Self {
        Self {
            id: global_id("IdentityProvider", p.id),
            issuer: p.issuer,
            audience: p.audience,
            roles_claim: p.roles_claim,
            role_map: p
                .role_map
                .into_iter()
                .map(|(claim_value, roles)| RoleMapping {
                    claim_value,
                    roles: roles.into_iter().map(Role::from).collect(),
                })
                .collect(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

super::connection::connection!(
    PersonConnection,
    PersonEdge,
    Person,
    "A page of people (Relay cursor connection).",
    "A person with their cursor."
);
