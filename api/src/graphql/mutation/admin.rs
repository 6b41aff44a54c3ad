use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::inputs::admin::*;
use crate::graphql::types::PolicyRule;
use crate::graphql::{ids, session};

/// API keys and permissions.
#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Changes the controller details (GDPR Art. 30(1)(a)); omitted fields stay.
    async fn update_organization(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateOrganizationInput,
    ) -> ApiResult<UpdateOrganizationPayload> {
        let s = session(ctx)?;
        let org = s
            .workflow()
            .update_organization(s.principal()?, input.into())
            .await?;
        Ok(UpdateOrganizationPayload {
            organization: org.into(),
        })
    }

    /// Creates an API key with the given roles. The secret is in the payload only.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateApiKeyInput,
    ) -> ApiResult<CreateApiKeyPayload> {
        let s = session(ctx)?;
        let new = workflow::NewApiKey {
            name: input.name,
            roles: input.roles.into_iter().map(Into::into).collect(),
        };
        let issued = s.workflow().create_api_key(s.principal()?, new).await?;
        Ok(CreateApiKeyPayload {
            api_key: issued.key.into(),
            secret: issued.secret,
        })
    }

    /// Revokes an API key; it is refused from then on. CONFLICT for the last admin key.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RevokeApiKeyInput,
    ) -> ApiResult<RevokeApiKeyPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "ApiKey", &["input", "id"])?;
        let key = s.workflow().revoke_api_key(s.principal()?, id).await?;
        Ok(RevokeApiKeyPayload {
            api_key: key.into(),
        })
    }

    /// Grants a role to an API key; effective from the next request on.
    async fn grant_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RoleAssignmentInput,
    ) -> ApiResult<GrantRolePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.api_key_id, "ApiKey", &["input", "apiKeyId"])?;
        let key = s
            .workflow()
            .grant_role(s.principal()?, id, input.role.into())
            .await?;
        Ok(GrantRolePayload {
            api_key: key.into(),
        })
    }

    /// Takes a role from an API key. CONFLICT for the last admin's admin role.
    async fn revoke_role(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RoleAssignmentInput,
    ) -> ApiResult<RevokeRolePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.api_key_id, "ApiKey", &["input", "apiKeyId"])?;
        let key = s
            .workflow()
            .revoke_role(s.principal()?, id, input.role.into())
            .await?;
        Ok(RevokeRolePayload {
            api_key: key.into(),
        })
    }

    /// Allows a role an action on an object in this organization.
    async fn add_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: PolicyRuleInput,
    ) -> ApiResult<AddPolicyPayload> {
        let s = session(ctx)?;
        let rule = s
            .workflow()
            .add_policy(
                s.principal()?,
                input.role.into(),
                input.object.into(),
                input.action.into(),
            )
            .await?;
        Ok(AddPolicyPayload {
            policy: rule.into(),
        })
    }

    /// Withdraws a permission rule. The admin's rules on `POLICY` cannot be removed.
    async fn remove_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: PolicyRuleInput,
    ) -> ApiResult<RemovePolicyPayload> {
        let s = session(ctx)?;
        s.workflow()
            .remove_policy(
                s.principal()?,
                input.role.into(),
                input.object.into(),
                input.action.into(),
            )
            .await?;
        Ok(RemovePolicyPayload {
            policy: PolicyRule {
                role: input.role,
                object: input.object,
                action: input.action,
            },
        })
    }
}
