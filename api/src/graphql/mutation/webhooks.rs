//! Mutations of webhooks.

use async_graphql::{Context, Object};
use workflow::webhooks::WebhookInput;

use crate::error::ApiResult;
use crate::graphql::inputs::register::{DeleteInput, DeletePayload};
use crate::graphql::inputs::webhooks::*;
use crate::graphql::{ids, session};

/// Managing webhooks.
#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Makes a webhook. Its signing secret is in the payload, and only there.
    async fn create_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "URL, events and description.")] input: CreateWebhookSubscriptionInput,
    ) -> ApiResult<WebhookSecretPayload> {
        let s = session(ctx)?;
        let made = s
            .workflow()
            .create_webhook(
                s.principal()?,
                WebhookInput {
                    url: Some(input.url),
                    events: Some(input.events.into_iter().map(Into::into).collect()),
                    description: input.description,
                    active: Some(input.active),
                },
            )
            .await?;
        Ok(WebhookSecretPayload {
            subscription: made.subscription.into(),
            secret: made.secret,
        })
    }

    /// Changes a webhook's URL, events, description or whether it is active.
    async fn update_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook and what changes.")] input: UpdateWebhookSubscriptionInput,
    ) -> ApiResult<WebhookSubscriptionPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "WebhookSubscription", &["input", "id"])?;
        let changed = s
            .workflow()
            .update_webhook(
                s.principal()?,
                id,
                WebhookInput {
                    url: input.url,
                    events: input
                        .events
                        .map(|e| e.into_iter().map(Into::into).collect()),
                    description: input.description,
                    active: input.active,
                },
            )
            .await?;
        Ok(WebhookSubscriptionPayload {
            subscription: changed.into(),
        })
    }

    /// Gives a webhook a new signing secret (in the payload, and only there); the
    /// old one stops signing at once.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook.")] input: WebhookSubscriptionIdInput,
    ) -> ApiResult<WebhookSecretPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "WebhookSubscription", &["input", "id"])?;
        let rotated = s
            .workflow()
            .rotate_webhook_secret(s.principal()?, id)
            .await?;
        Ok(WebhookSecretPayload {
            subscription: rotated.subscription.into(),
            secret: rotated.secret,
        })
    }

    /// Deletes a webhook and its delivery log.
    async fn delete_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The webhook.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "WebhookSubscription", &["input", "id"])?;
        s.workflow().delete_webhook(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

    /// Makes a delivery due again now with a fresh set of attempts (after the
    /// receiver was fixed, say).
    async fn redeliver_webhook(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The delivery.")] input: RedeliverWebhookInput,
    ) -> ApiResult<WebhookDeliveryPayload> {
        let s = session(ctx)?;
        let id = ids::decode(
            &input.delivery_id,
            "WebhookDelivery",
            &["input", "deliveryId"],
        )?;
        let delivery = s.workflow().redeliver_webhook(s.principal()?, id).await?;
        Ok(WebhookDeliveryPayload {
            delivery: delivery.into(),
        })
    }
}
