use async_graphql::{ID, InputObject, MaybeUndefined, SimpleObject};

use crate::graphql::types::{
    ApiKey, Organization, PermissionAction, PermissionObject, PolicyRule, Role,
};

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

/// A contact person or office (DPO, EU representative).
#[derive(InputObject, Debug, Clone)]
pub struct ContactInput {
    /// Name of the person or company (1–200 characters).
    pub name: String,
    /// Postal address.
    pub address: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number, e.g. `+49 30 1234567`.
    pub phone: Option<String>,
}

impl From<ContactInput> for workflow::access::organizations::Contact {
    fn from(c: ContactInput) -> Self {
        Self {
            name: c.name,
            address: c.address,
            email: c.email,
            phone: c.phone,
        }
    }
}

/// Input of `updateOrganization`: an omitted field stays as it is, `null` clears it.
#[derive(InputObject, Debug, Default)]
pub struct UpdateOrganizationInput {
    /// Legal name (cannot be cleared).
    pub name: Option<String>,
    /// Postal address of the controller.
    pub address: MaybeUndefined<String>,
    /// Country of establishment, ISO 3166-1 alpha-2 (e.g. `DE`).
    pub country: MaybeUndefined<String>,
    /// Contact e-mail for data-protection matters.
    pub email: MaybeUndefined<String>,
    /// Contact phone.
    pub phone: MaybeUndefined<String>,
    /// Data protection officer; `null` when none is designated.
    pub dpo: MaybeUndefined<ContactInput>,
    /// Representative in the Union (Art. 27); `null` when not required.
    pub representative: MaybeUndefined<ContactInput>,
    /// The competent supervisory authority.
    pub supervisory_authority: MaybeUndefined<String>,
    /// The language of access answers and their letters; `null`: German.
    pub answer_language: MaybeUndefined<crate::graphql::types::answer::AnswerLanguage>,
}

fn patch<T, U>(value: MaybeUndefined<T>, f: impl FnOnce(T) -> U) -> Option<Option<U>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(f(v))),
    }
}

impl From<UpdateOrganizationInput> for workflow::access::organizations::OrganizationPatch {
    fn from(i: UpdateOrganizationInput) -> Self {
        Self {
            name: i.name,
            address: patch(i.address, |v| v),
            country: patch(i.country, |v| v),
            email: patch(i.email, |v| v),
            phone: patch(i.phone, |v| v),
            dpo: patch(i.dpo, Into::into),
            representative: patch(i.representative, Into::into),
            supervisory_authority: patch(i.supervisory_authority, |v| v),
            answer_language: patch(i.answer_language, Into::into),
        }
    }
}

/// Result of `updateOrganization`.
#[derive(SimpleObject)]
pub struct UpdateOrganizationPayload {
    /// The organization after the change.
    pub organization: Organization,
}
