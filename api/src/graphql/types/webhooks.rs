//! Output types of webhooks: subscriptions and their delivery log.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use workflow::webhooks as wh;

use crate::error::ApiResult;
use crate::graphql::ids::global_id;

mirror_enum! {
    /// What a webhook can be told about. Every POST carries the event's name in
    /// `X-Auskunft-Event` and a JSON body `{id, type, occurredAt, organizationId,
    /// data}`; `data` names the request (`requestId`, `kind`, `state`, `fromState`,
    /// `transition`, `version`, `dueDate`, `isTest`), never personal data; only
    /// `consent.changed` names an identity.
    WebhookEvent = wh::WebhookEvent {
        /// `request.created`: a request was received.
        RequestCreated,
        /// `request.transitioned`: a request moved from one state to another.
        RequestTransitioned,
        /// `request.overdue`: an open request passed its deadline (once per request).
        RequestOverdue,
        /// `request.dispatched`: a request's answer was dispatched.
        RequestDispatched,
        /// `consent.changed`: a consent's state changed. Its `data` names the consent
        /// (`consentId`, `purposeId`, `purpose`, `channel`, `state`, `previousState`,
        /// `changedAt`) and, so that a CRM can find its contact, the identity it was
        /// given through (`identity: {kind, value}`).
        ConsentChanged,
    }
}

mirror_enum! {
    /// Where a webhook delivery stands.
    WebhookDeliveryState = wh::DeliveryState {
        /// Waiting for its (next) attempt.
        Pending,
        /// The receiver answered with a 2xx status.
        Delivered,
        /// Every attempt failed (12, with exponential backoff over about a day):
        /// `redeliverWebhook` tries again.
        Failed,
    }
}

/// Where an organization's events are posted. POSTs are signed:
/// `X-Auskunft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
/// the subscription's secret (shown once, when made or rotated). Receivers compare
/// in constant time and refuse old timestamps.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct WebhookSubscription {
    /// Global ID.
    pub id: ID,
    /// Where events are posted.
    pub url: String,
    /// Which events.
    pub events: Vec<WebhookEvent>,
    /// What it is for.
    pub description: Option<String>,
    /// Whether events are posted to it (inactive ones queue nothing).
    pub active: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: Uuid,
}

#[ComplexObject]
impl WebhookSubscription {
    /// The delivery log, oldest first.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<WebhookDeliveryConnection> {
        let s = crate::graphql::session(ctx)?;
        let page = crate::graphql::ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .webhook_deliveries(s.principal()?, self.uuid, &page)
            .await?;
        Ok(WebhookDeliveryConnection::from_page(
            page,
            |d| d.id.to_string(),
            WebhookDelivery::from,
        ))
    }
}

impl From<wh::WebhookSubscription> for WebhookSubscription {
    fn from(s: wh::WebhookSubscription) -> Self {
        Self {
            id: global_id("WebhookSubscription", s.id),
            url: s.url,
            events: s.events.into_iter().map(Into::into).collect(),
            description: s.description,
            active: s.active,
            created_at: s.created_at,
            updated_at: s.updated_at,
            uuid: s.id,
        }
    }
}

/// One event posted to one webhook.
#[derive(SimpleObject, Clone, Debug)]
pub struct WebhookDelivery {
    /// Global ID; the `X-Auskunft-Delivery` header carries its UUID.
    pub id: ID,
    /// The event's id (`id` in the body; the same for every webhook it went to).
    pub event_id: String,
    /// The event.
    pub event: WebhookEvent,
    /// The JSON body posted.
    pub payload: async_graphql::Json<serde_json::Value>,
    /// Where it stands.
    pub state: WebhookDeliveryState,
    /// Attempts so far.
    pub attempts: i32,
    /// The HTTP status of the last attempt, if a response came.
    pub last_status: Option<i32>,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// The next attempt, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When the receiver took it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// When the event happened.
    pub created_at: DateTime<Utc>,
}

impl From<wh::WebhookDelivery> for WebhookDelivery {
    fn from(d: wh::WebhookDelivery) -> Self {
        Self {
            id: global_id("WebhookDelivery", d.id),
            event_id: d.event_id.to_string(),
            event: d.event.into(),
            payload: async_graphql::Json(d.payload),
            state: d.state.into(),
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

super::connection::connection!(
    WebhookDeliveryConnection,
    WebhookDeliveryEdge,
    WebhookDelivery,
    "A page of a webhook's deliveries (Relay cursor connection).",
    "A delivery with its cursor."
);
