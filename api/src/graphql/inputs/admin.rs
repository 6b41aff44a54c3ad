use async_graphql::{ID, InputObject, SimpleObject};

use crate::graphql::types::{ApiKey, PermissionAction, PermissionObject, PolicyRule, Role};

/// Input of `createApiKey`.
#[derive(InputObject, Debug)]
pub struct CreateApiKeyInput {
    /// Who or what will use the key (1–200 characters).
    pub name: String,
    /// Roles to grant (at least one).
    pub roles: Vec<Role>,
}

/// Result of `createApiKey`.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    /// The new key.
    pub api_key: ApiKey,
    /// The full key to send as `Authorization: Bearer <secret>`. Shown only here, once:
    /// Auskunft stores only its hash.
    pub secret: String,
}

/// Input of `revokeApiKey`.
#[derive(InputObject, Debug)]
pub struct RevokeApiKeyInput {
    /// The key to revoke.
    pub id: ID,
}

/// Result of `revokeApiKey`.
#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    /// The revoked key.
    pub api_key: ApiKey,
}

/// Input of `grantRole` and `revokeRole`.
#[derive(InputObject, Debug)]
pub struct RoleAssignmentInput {
    /// The API key.
    pub api_key_id: ID,
    /// The role.
    pub role: Role,
}

/// Result of `grantRole`.
#[derive(SimpleObject)]
pub struct GrantRolePayload {
    /// The key, with its roles after the change.
    pub api_key: ApiKey,
}

/// Result of `revokeRole`.
#[derive(SimpleObject)]
pub struct RevokeRolePayload {
    /// The key, with its roles after the change.
    pub api_key: ApiKey,
}

/// Input of `addPolicy` and `removePolicy`: a rule of the organization's policy.
#[derive(InputObject, Debug)]
pub struct PolicyRuleInput {
    /// The role the rule applies to.
    pub role: Role,
    /// The object.
    pub object: PermissionObject,
    /// The action.
    pub action: PermissionAction,
}

/// Result of `addPolicy`.
#[derive(SimpleObject)]
pub struct AddPolicyPayload {
    /// The rule now in force.
    pub policy: PolicyRule,
}

/// Result of `removePolicy`.
#[derive(SimpleObject)]
pub struct RemovePolicyPayload {
    /// The rule no longer in force.
    pub policy: PolicyRule,
}
