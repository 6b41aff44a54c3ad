//! Inputs and payloads of webhooks.

use async_graphql::{ID, InputObject, SimpleObject};

use crate::graphql::types::webhooks::{WebhookDelivery, WebhookEvent, WebhookSubscription};

/// A new webhook.
#[derive(InputObject, Debug)]
pub struct CreateWebhookSubscriptionInput {
    /// Where events are posted: an http(s) URL without credentials (at most 2000
    /// characters).
    pub url: String,
    /// Which events (at least one).
    pub events: Vec<WebhookEvent>,
    /// What it is for (at most 200 characters).
    pub description: Option<String>,
    /// Whether events are posted to it.
    #[graphql(default = true)]
    pub active: bool,
}

/// A change to a webhook; fields left out stay as they are.
#[derive(InputObject, Debug)]
pub struct UpdateWebhookSubscriptionInput {
    /// The webhook.
    pub id: ID,
    /// Where events are posted.
    pub url: Option<String>,
    /// Which events (at least one).
    pub events: Option<Vec<WebhookEvent>>,
    /// What it is for (blank clears it).
    pub description: Option<String>,
    /// Whether events are posted to it.
    pub active: Option<bool>,
}

/// Names a webhook.
#[derive(InputObject, Debug)]
pub struct WebhookSubscriptionIdInput {
    /// The webhook.
    pub id: ID,
}

/// Names a delivery.
#[derive(InputObject, Debug)]
pub struct RedeliverWebhookInput {
    /// The delivery.
    pub delivery_id: ID,
}

/// A webhook with its signing secret, shown only here.
#[derive(SimpleObject)]
pub struct WebhookSecretPayload {
    /// The webhook.
    pub subscription: WebhookSubscription,
    /// The secret signatures are made with (`whsec_…`); store it now, it is not
    /// shown again.
    pub secret: String,
}

/// A webhook after a change.
#[derive(SimpleObject)]
pub struct WebhookSubscriptionPayload {
    /// The webhook.
    pub subscription: WebhookSubscription,
}

/// A delivery made due again.
#[derive(SimpleObject)]
pub struct WebhookDeliveryPayload {
    /// The delivery.
    pub delivery: WebhookDelivery,
}
