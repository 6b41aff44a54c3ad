//! Register mutations: purposes of processing and their legal bases.

use async_graphql::{Context, Object};
use workflow::register::purposes;

use crate::graphql::types::register::Purpose;

use crate::error::ApiResult;
use crate::graphql::inputs::register::*;
use crate::graphql::{ids, session};

/// Purposes of processing and their legal bases.
#[derive(Default)]
pub struct PurposeMutation;

#[Object]
impl PurposeMutation {
    /// Adds a purpose with its legal basis.
    async fn create_purpose(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreatePurposeInput,
    ) -> ApiResult<PurposePayload> {
        let s = session(ctx)?;
        let draft = purposes::PurposeDraft {
            name: input.name,
            description: input.description,
            legal_basis: input.legal_basis.into(),
            legal_reference: input.legal_reference,
            balancing_test: input.balancing_test,
            special_category_condition: input.special_category_condition.map(Into::into),
        };
        let created = s.workflow().create_purpose(s.principal()?, draft).await?;
        Ok(PurposePayload {
            purpose: Purpose::from(created),
        })
    }

    /// Changes a purpose; the result must satisfy the rules of a new one.
    async fn update_purpose(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdatePurposeInput,
    ) -> ApiResult<PurposePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Purpose", &["input", "id"])?;
        let change = purposes::PurposePatch {
            name: input.name,
            description: patch(input.description),
            legal_basis: input.legal_basis.map(Into::into),
            legal_reference: patch(input.legal_reference),
            balancing_test: patch(input.balancing_test),
            special_category_condition: patch(input.special_category_condition)
                .map(|c| c.map(Into::into)),
        };
        let updated = s
            .workflow()
            .update_purpose(s.principal()?, id, change)
            .await?;
        Ok(PurposePayload {
            purpose: Purpose::from(updated),
        })
    }

    /// Deletes a purpose.
    async fn delete_purpose(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Purpose", &["input", "id"])?;
        s.workflow().delete_purpose(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }
}
