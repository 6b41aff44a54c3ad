//! Inputs and payloads of sign-in through identity providers and of people.

use async_graphql::{ID, InputObject, SimpleObject};

use crate::graphql::types::Role;
use crate::graphql::types::people::{IdentityProvider, Person};

/// Which roles a value of the roles claim gives.
#[derive(InputObject)]
pub struct RoleMappingInput {
    /// A value of the roles claim (a group or role name at the provider).
    pub claim_value: String,
    /// The roles it gives here (none: the value gives no role).
    pub roles: Vec<Role>,
}

/// Trusts an OpenID Connect provider for staff sign-in, or changes the roles claim
/// and the role map of one trusted for the same issuer and audience.
#[derive(InputObject)]
pub struct SetIdentityProviderInput {
    /// The issuer URL, exactly as the tokens' `iss` spells it (`https://`, or
    /// `http://` on a loopback address). At most 255 characters.
    pub issuer: String,
    /// The audience a token must carry (the client id registered for Auskunft).
    pub audience: String,
    /// Where the role values are in the claims: a claim name (`roles`, `groups`) or
    /// a dotted path (`realm_access.roles`).
    pub roles_claim: String,
    /// Which roles each claim value gives (at most 100 values).
    pub role_map: Vec<RoleMappingInput>,
}

/// Result of `setIdentityProvider`.
#[derive(SimpleObject)]
pub struct IdentityProviderPayload {
    /// The provider as now trusted.
    pub identity_provider: IdentityProvider,
}

/// Stops trusting an identity provider.
#[derive(InputObject)]
pub struct RemoveIdentityProviderInput {
    /// The provider.
    pub id: ID,
}

/// Result of `removeIdentityProvider`.
#[derive(SimpleObject)]
pub struct RemoveIdentityProviderPayload {
    /// Global ID of the provider no longer trusted.
    pub removed_id: ID,
}

/// Names a person.
#[derive(InputObject)]
pub struct PersonInput {
    /// The person.
    pub person_id: ID,
}

/// Sets the roles a person has beyond what their claims give.
#[derive(InputObject)]
pub struct SetPersonRolesInput {
    /// The person.
    pub person_id: ID,
    /// The extra roles (none: only the claims' roles).
    pub extra_roles: Vec<Role>,
}

/// Result of a change to a person.
#[derive(SimpleObject)]
pub struct PersonPayload {
    /// The person after the change.
    pub person: Person,
}
