//! Register mutations: recipients and third-country transfers.

use async_graphql::{Context, Object};
use workflow::register::recipients;

use crate::graphql::types::register::{Recipient, Transfer};

use crate::error::ApiResult;
use crate::graphql::inputs::register::*;
use crate::graphql::{ids, session};

/// Recipients and third-country transfers.
#[derive(Default)]
pub struct RecipientMutation;

#[Object]
impl RecipientMutation {
    /// Adds a recipient of personal data.
    async fn create_recipient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateRecipientInput,
    ) -> ApiResult<RecipientPayload> {
        let s = session(ctx)?;
        let draft = recipients::RecipientDraft {
            name: input.name,
            kind: input.kind.into(),
            country: input.country,
            description: input.description,
            contract_reference: input.contract_reference,
            notice_email: input.notice_email,
        };
        let created = s.workflow().create_recipient(s.principal()?, draft).await?;
        Ok(RecipientPayload {
            recipient: Recipient::from(created),
        })
    }

    /// Changes a recipient.
    async fn update_recipient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateRecipientInput,
    ) -> ApiResult<RecipientPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Recipient", &["input", "id"])?;
        let change = recipients::RecipientPatch {
            name: input.name,
            kind: input.kind.map(Into::into),
            country: patch(input.country),
            description: patch(input.description),
            contract_reference: patch(input.contract_reference),
            notice_email: patch(input.notice_email),
        };
        let updated = s
            .workflow()
            .update_recipient(s.principal()?, id, change)
            .await?;
        Ok(RecipientPayload {
            recipient: Recipient::from(updated),
        })
    }

    /// Deletes a recipient. CONFLICT while transfers to it are recorded.
    async fn delete_recipient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Recipient", &["input", "id"])?;
        s.workflow().delete_recipient(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

    /// Records a transfer to a recipient in a third country.
    async fn create_transfer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateTransferInput,
    ) -> ApiResult<TransferPayload> {
        let s = session(ctx)?;
        let recipient_id =
            ids::decode(&input.recipient_id, "Recipient", &["input", "recipientId"])?;
        let draft = recipients::TransferDraft {
            recipient_id,
            country: input.country,
            safeguard: input.safeguard.into(),
            safeguard_description: input.safeguard_description,
        };
        let created = s.workflow().create_transfer(s.principal()?, draft).await?;
        Ok(TransferPayload {
            transfer: Transfer::from(created),
        })
    }

    /// Changes a transfer's country or safeguard.
    async fn update_transfer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateTransferInput,
    ) -> ApiResult<TransferPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Transfer", &["input", "id"])?;
        let change = recipients::TransferPatch {
            country: input.country,
            safeguard: input.safeguard.map(Into::into),
            safeguard_description: patch(input.safeguard_description),
        };
        let updated = s
            .workflow()
            .update_transfer(s.principal()?, id, change)
            .await?;
        Ok(TransferPayload {
            transfer: Transfer::from(updated),
        })
    }

    /// Deletes a transfer.
    async fn delete_transfer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Transfer", &["input", "id"])?;
        s.workflow().delete_transfer(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }
}
