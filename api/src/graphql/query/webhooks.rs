//! Queries of webhooks.

use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::session;
use crate::graphql::types::webhooks::WebhookSubscription;

/// The organization's webhooks.
#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    /// The organization's webhooks, oldest first (never their secrets).
    async fn webhook_subscriptions(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<WebhookSubscription>> {
        let s = session(ctx)?;
        Ok(s.workflow()
            .webhook_subscriptions(s.principal()?)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
