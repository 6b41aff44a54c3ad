//! Register mutations: retention policies.

use async_graphql::{Context, Object};
use workflow::register::retention;

use crate::graphql::types::register::RetentionPolicy;

use crate::error::ApiResult;
use crate::graphql::inputs::register::*;
use crate::graphql::{ids, session};

/// Retention policies.
#[derive(Default)]
pub struct RetentionPolicyMutation;

#[Object]
impl RetentionPolicyMutation {
    /// Adds a retention policy.
    async fn create_retention_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateRetentionPolicyInput,
    ) -> ApiResult<RetentionPolicyPayload> {
        let s = session(ctx)?;
        let draft = retention::RetentionDraft {
            name: input.name,
            description: input.description,
            duration: input.duration,
            trigger: input.trigger.into(),
            trigger_description: input.trigger_description,
            legal_reference: input.legal_reference,
            action_at_expiry: input.action_at_expiry.into(),
        };
        let created = s
            .workflow()
            .create_retention_policy(s.principal()?, draft)
            .await?;
        Ok(RetentionPolicyPayload {
            retention_policy: RetentionPolicy::from(created),
        })
    }

    /// Changes a retention policy; the result must satisfy the rules of a new one.
    async fn update_retention_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateRetentionPolicyInput,
    ) -> ApiResult<RetentionPolicyPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "RetentionPolicy", &["input", "id"])?;
        let change = retention::RetentionPatch {
            name: input.name,
            description: patch(input.description),
            duration: input.duration,
            trigger: input.trigger.map(Into::into),
            trigger_description: patch(input.trigger_description),
            legal_reference: patch(input.legal_reference),
            action_at_expiry: input.action_at_expiry.map(Into::into),
        };
        let updated = s
            .workflow()
            .update_retention_policy(s.principal()?, id, change)
            .await?;
        Ok(RetentionPolicyPayload {
            retention_policy: RetentionPolicy::from(updated),
        })
    }

    /// Deletes a retention policy.
    async fn delete_retention_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "RetentionPolicy", &["input", "id"])?;
        s.workflow()
            .delete_retention_policy(s.principal()?, id)
            .await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }
}
