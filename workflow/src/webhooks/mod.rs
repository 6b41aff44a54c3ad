//! Webhooks: an organization's systems are told when a request is created, moves,
//! becomes overdue or is dispatched.
//!
//! Deliveries are written in the transaction of the change that causes them (so a
//! rolled-back change sends nothing and a committed one is never lost) and posted at
//! least once afterwards by [`Workflow::deliver_webhooks`], retried with backoff, each
//! attempt's outcome kept in the delivery log. Every POST is signed:
//! `X-Auskunft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with
//! the subscription's secret, so a receiver checks origin, integrity and age.
//! Payloads name the request by id, kind and state: no personal data.
//!
//! Which organizations have subscriptions is cached per process for
//! [`CACHE_TTL`]: a write path of an organization without webhooks costs no
//! statement. A subscription made or changed on another replica applies there after
//! at most that long.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use hmac::{KeyInit, Mac};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{subject_request, webhook_delivery, webhook_subscription};

use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::requests::{RequestState, Transition};
use crate::{Action, Object, Workflow, new_id, now};

stored_enum! {
    /// What a webhook can be told about.
    WebhookEvent {
        /// A request was received.
        RequestCreated => "request.created",
        /// A request moved from one state to another.
        RequestTransitioned => "request.transitioned",
        /// An open request passed its deadline (once per request).
        RequestOverdue => "request.overdue",
        /// A request's answer was dispatched.
        RequestDispatched => "request.dispatched",
        /// A consent changed its state (granted, denied, pending, withdrawn).
        ConsentChanged => "consent.changed",
    }
}

/// How long the per-process knowledge of an organization's subscriptions is used.
pub const CACHE_TTL: StdDuration = StdDuration::from_secs(10);

/// Attempts before a delivery is given up (about a day with the backoff).
pub const MAX_ATTEMPTS: i32 = 12;

/// Deliveries posted at once by one call of [`Workflow::deliver_webhooks`].
pub const PARALLEL_POSTS: usize = 16;

/// Deliveries of one webhook taken by one call (the others wait for the next).
pub const PER_SUBSCRIPTION: usize = 4;

/// How long one POST may take.
const POST_TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// How long a deliverer holds a delivery back from others while it posts.
const SEND_LEASE_SECONDS: i64 = 60;

/// An organization's active subscriptions: id and events of each.
type Subscriptions = Arc<Vec<(Uuid, Vec<WebhookEvent>)>>;

/// The active subscriptions of organizations, as recently read.
#[derive(Default)]
pub(crate) struct SubscriptionCache {
    orgs: Mutex<HashMap<Uuid, (Instant, Subscriptions)>>,
}

impl SubscriptionCache {
    fn get(&self, org_id: Uuid) -> Option<Subscriptions> {
        let orgs = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        orgs.get(&org_id)
            .filter(|(at, _)| at.elapsed() < CACHE_TTL)
            .map(|(_, subs)| subs.clone())
    }

    fn put(&self, org_id: Uuid, subs: Subscriptions) {
        let mut orgs = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        orgs.insert(org_id, (Instant::now(), subs));
    }

    fn forget(&self, org_id: Uuid) {
        let mut orgs = self.orgs.lock().unwrap_or_else(|e| e.into_inner());
        orgs.remove(&org_id);
    }
}

fn parse_events(stored: &str) -> Result<Vec<WebhookEvent>> {
    stored
        .split(',')
        .filter(|e| !e.is_empty())
        .map(str::parse)
        .collect()
}

fn store_events(events: &[WebhookEvent]) -> String {
    let mut names: Vec<&str> = events.iter().map(|e| e.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    names.join(",")
}

/// A subscription as the API shows it (never its secret).
#[derive(Debug, Clone)]
pub struct WebhookSubscription {
    /// Its id.
    pub id: Uuid,
    /// Where events are posted.
    pub url: String,
    /// Which events.
    pub events: Vec<WebhookEvent>,
    /// What it is for.
    pub description: Option<String>,
    /// Whether events are posted to it.
    pub active: bool,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<webhook_subscription::Model> for WebhookSubscription {
    type Error = Error;
    fn try_from(m: webhook_subscription::Model) -> Result<Self> {
        Ok(Self {
            events: parse_events(&m.events)?,
            id: m.id,
            url: m.url,
            description: m.description,
            active: m.active,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// A subscription with its secret, shown once (when made or rotated).
#[derive(Debug, Clone)]
pub struct WithSecret {
    /// The subscription.
    pub subscription: WebhookSubscription,
    /// The signing secret.
    pub secret: String,
}

/// What a new subscription or a change to one says; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookInput {
    /// Where events are posted: an http(s) URL.
    pub url: Option<String>,
    /// Which events (at least one).
    pub events: Option<Vec<WebhookEvent>>,
    /// What it is for (blank clears it).
    pub description: Option<String>,
    /// Whether events are posted to it.
    pub active: Option<bool>,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// A row of the delivery log.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// Its id (the `X-Auskunft-Delivery` header).
    pub id: Uuid,
    /// The event's id (the same for every subscription it went to).
    pub event_id: Uuid,
    /// The event.
    pub event: WebhookEvent,
    /// The JSON body.
    pub payload: serde_json::Value,
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: i32,
    /// HTTP status of the last attempt, if a response came.
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

impl TryFrom<webhook_delivery::Model> for WebhookDelivery {
    type Error = Error;
    fn try_from(m: webhook_delivery::Model) -> Result<Self> {
        let state = match m.delivered_at {
            Some(_) => DeliveryState::Delivered,
            None if m.attempts >= MAX_ATTEMPTS => DeliveryState::Failed,
            None => DeliveryState::Pending,
        };
        Ok(Self {
            id: m.id,
            event_id: m.event_id,
            event: m.event.parse()?,
            payload: serde_json::from_str(&m.payload)
                .map_err(|e| Error::Internal(format!("webhook payload: {e}")))?,
            state,
            attempts: m.attempts,
            last_status: m.last_status,
            last_error: m.last_error,
            next_attempt_at: (state == DeliveryState::Pending).then_some(m.next_attempt_at),
            delivered_at: m.delivered_at,
            created_at: m.created_at,
        })
    }
}

/// The HTTP client webhooks are posted with: no redirects (a receiver that moved
/// must be changed in its subscription), rustls.
pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("auskunft-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("webhook client: {e}")))
}

/// The signature header of `body` posted at `unix` seconds with `secret`.
pub fn signature(secret: &str, unix: i64, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(unix.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={unix},v1={}", hex::encode(mac.finalize().into_bytes()))
}

fn new_secret() -> String {
    use rand::Rng;
    let secret: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(40)
        .map(char::from)
        .collect();
    format!("whsec_{secret}")
}

/// Checks a webhook URL: http or https, a host, no credentials, at most 2000
/// characters.
fn check_url(v: &mut Validator, url: &str) -> String {
    let url = url.trim();
    // The URL parser drops tabs and line breaks silently: refuse them, so that the
    // URL stored is the one posted to.
    let parsed = url::Url::parse(url);
    let ok = !url.chars().any(char::is_control)
        && parsed.as_ref().is_ok_and(|u| {
            matches!(u.scheme(), "http" | "https")
                && u.host().is_some()
                && u.username().is_empty()
                && u.password().is_none()
                && u.fragment().is_none()
        });
    v.check(
        ok && url.len() <= 2000,
        &["input", "url"],
        "must be an http(s) URL like https://crm.example.com/hooks/auskunft, without credentials or fragment, at most 2000 characters",
    );
    url.to_owned()
}

/// What a webhook is told about a request (no personal data).
fn request_data(r: &subject_request::Model, transition: Option<&Transition>) -> serde_json::Value {
    json!({
        "requestId": crate::core::links::global_id("SubjectRequest", r.id),
        "kind": r.kind,
        "state": r.state,
        "fromState": transition.map(|t| t.from.as_str()),
        "transition": transition.map(|t| t.event.as_str()),
        "version": r.version,
        "dueDate": crate::requests::effective_due_date(r),
        "isTest": r.is_test,
    })
}

/// Writes one event for each of the `subscriptions`, due now, in one statement.
async fn insert_deliveries<C: Conn>(
    conn: &C,
    org_id: Uuid,
    event: WebhookEvent,
    request_id: Option<Uuid>,
    data: serde_json::Value,
    subscriptions: &[Uuid],
) -> Result<()> {
    let at = now();
    let event_id = new_id();
    let payload = json!({
        "id": event_id,
        "type": event.as_str(),
        "occurredAt": at,
        "organizationId": org_id,
        "data": data,
    })
    .to_string();
    let rows = subscriptions
        .iter()
        .map(|&subscription_id| webhook_delivery::ActiveModel {
            id: Set(new_id()),
            org_id: Set(org_id),
            subscription_id: Set(subscription_id),
            event_id: Set(event_id),
            event: Set(event.as_str().to_owned()),
            request_id: Set(request_id),
            payload: Set(payload.clone()),
            attempts: Set(0),
            next_attempt_at: Set(at),
            delivered_at: Set(None),
            last_status: Set(None),
            last_error: Set(None),
            created_at: Set(at),
        });
    webhook_delivery::Entity::insert_many(rows)
        .exec(conn)
        .await?;
    Ok(())
}

impl Workflow {
    /// The active subscriptions of an organization (cached for [`CACHE_TTL`]).
    async fn subscriptions_of<C: Conn>(&self, conn: &C, org_id: Uuid) -> Result<Subscriptions> {
        if let Some(subs) = self.webhooks.get(org_id) {
            return Ok(subs);
        }
        let rows: Vec<(Uuid, String)> = webhook_subscription::Entity::find()
            .select_only()
            .column(webhook_subscription::Column::Id)
            .column(webhook_subscription::Column::Events)
            .filter(webhook_subscription::Column::OrgId.eq(org_id))
            .filter(webhook_subscription::Column::Active.eq(true))
            .into_tuple()
            .all(conn)
            .await?;
        let subs = Arc::new(
            rows.into_iter()
                .map(|(id, events)| Ok((id, parse_events(&events)?)))
                .collect::<Result<Vec<_>>>()?,
        );
        self.webhooks.put(org_id, subs.clone());
        Ok(subs)
    }

    /// Queues `event` with `data` for every active subscription of the organization
    /// that wants it, in the caller's transaction. No statement when none does.
    pub(crate) async fn queue_webhook<C: Conn>(
        &self,
        conn: &C,
        org_id: Uuid,
        event: WebhookEvent,
        request_id: Option<Uuid>,
        data: serde_json::Value,
    ) -> Result<usize> {
        let subs = self.subscriptions_of(conn, org_id).await?;
        let targets: Vec<Uuid> = subs
            .iter()
            .filter(|(_, events)| events.contains(&event))
            .map(|(id, _)| *id)
            .collect();
        if targets.is_empty() {
            return Ok(0);
        }
        insert_deliveries(conn, org_id, event, request_id, data, &targets).await?;
        Ok(targets.len())
    }

    /// The webhook events of a request change (called with every timeline entry).
    pub(crate) async fn queue_request_webhooks<C: Conn>(
        &self,
        conn: &C,
        request: &subject_request::Model,
        received: bool,
        transition: Option<&Transition>,
    ) -> Result<()> {
        if received {
            self.queue_webhook(
                conn,
                request.org_id,
                WebhookEvent::RequestCreated,
                Some(request.id),
                request_data(request, None),
            )
            .await?;
        }
        if let Some(t) = transition {
            self.queue_webhook(
                conn,
                request.org_id,
                WebhookEvent::RequestTransitioned,
                Some(request.id),
                request_data(request, Some(t)),
            )
            .await?;
            if t.to == RequestState::Dispatched {
                self.queue_webhook(
                    conn,
                    request.org_id,
                    WebhookEvent::RequestDispatched,
                    Some(request.id),
                    request_data(request, Some(t)),
                )
                .await?;
            }
        }
        Ok(())
    }

    fn require_webhooks(&self, principal: &Principal) -> impl Future<Output = Result<()>> {
        self.authz.require(
            principal.key_id,
            principal.org_id,
            Object::Organization,
            Action::Update,
        )
    }

    /// The organization's webhooks, oldest first (organization:update).
    pub async fn webhook_subscriptions(
        &self,
        principal: &Principal,
    ) -> Result<Vec<WebhookSubscription>> {
        self.require_webhooks(principal).await?;
        webhook_subscription::Entity::find()
            .filter(webhook_subscription::Column::OrgId.eq(principal.org_id))
            .order_by_asc(webhook_subscription::Column::Id)
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// One webhook of the organization (organization:update); NOT_FOUND otherwise.
    pub async fn webhook_subscription(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<WebhookSubscription> {
        self.require_webhooks(principal).await?;
        Self::find_subscription(self.store.conn(), principal.org_id, id)
            .await?
            .try_into()
    }

    async fn find_subscription<C: Conn>(
        conn: &C,
        org_id: Uuid,
        id: Uuid,
    ) -> Result<webhook_subscription::Model> {
        webhook_subscription::Entity::find_by_id(id)
            .filter(webhook_subscription::Column::OrgId.eq(org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound {
                what: "webhook subscription",
            })
    }

    /// Makes a webhook; its secret is returned here only.
    pub async fn create_webhook(
        &self,
        principal: &Principal,
        input: WebhookInput,
    ) -> Result<WithSecret> {
        self.require_webhooks(principal).await?;
        let mut v = Validator::default();
        let url = match &input.url {
            Some(url) => check_url(&mut v, url),
            None => {
                v.check(false, &["input", "url"], "is required");
                String::new()
            }
        };
        let events = input.events.clone().unwrap_or_default();
        v.check(
            !events.is_empty(),
            &["input", "events"],
            "name at least one event",
        );
        let description = v.optional_text(input.description, &["input", "description"], 200);
        v.finish()?;
        let secret = new_secret();
        let at = now();
        let tx = self.store.begin().await?;
        let row = webhook_subscription::ActiveModel {
            id: Set(new_id()),
            org_id: Set(principal.org_id),
            url: Set(url),
            events: Set(store_events(&events)),
            secret: Set(self.cipher.encrypt(secret.as_bytes())?),
            description: Set(description),
            active: Set(input.active.unwrap_or(true)),
            created_by: Set(principal.key_id),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(tx.conn())
        .await?;
        self.commit_audited(
            tx,
            principal,
            Entry::success("createWebhookSubscription", "WebhookSubscription", row.id)
                .after(json!({"url": row.url, "events": row.events, "active": row.active})),
        )
        .await?;
        self.webhooks.forget(principal.org_id);
        Ok(WithSecret {
            subscription: row.try_into()?,
            secret,
        })
    }

    /// Changes a webhook (URL, events, description, whether it is active).
    pub async fn update_webhook(
        &self,
        principal: &Principal,
        id: Uuid,
        input: WebhookInput,
    ) -> Result<WebhookSubscription> {
        self.require_webhooks(principal).await?;
        let tx = self.store.begin().await?;
        let before = Self::find_subscription(tx.conn(), principal.org_id, id).await?;
        let mut v = Validator::default();
        let mut row: webhook_subscription::ActiveModel = before.clone().into();
        if let Some(url) = &input.url {
            row.url = Set(check_url(&mut v, url));
        }
        if let Some(events) = &input.events {
            v.check(
                !events.is_empty(),
                &["input", "events"],
                "name at least one event",
            );
            row.events = Set(store_events(events));
        }
        if let Some(description) = input.description {
            row.description =
                Set(v.optional_text(Some(description), &["input", "description"], 200));
        }
        if let Some(active) = input.active {
            row.active = Set(active);
        }
        v.finish()?;
        row.updated_at = Set(now());
        let after = row.update(tx.conn()).await?;
        self.commit_audited(
            tx,
            principal,
            Entry::success("updateWebhookSubscription", "WebhookSubscription", id)
                .before(
                    json!({"url": before.url, "events": before.events, "active": before.active}),
                )
                .after(json!({"url": after.url, "events": after.events, "active": after.active})),
        )
        .await?;
        self.webhooks.forget(principal.org_id);
        after.try_into()
    }

    /// Gives a webhook a new secret (returned here only); the old one stops
    /// signing at once.
    pub async fn rotate_webhook_secret(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<WithSecret> {
        self.require_webhooks(principal).await?;
        let tx = self.store.begin().await?;
        let found = Self::find_subscription(tx.conn(), principal.org_id, id).await?;
        let secret = new_secret();
        let mut row: webhook_subscription::ActiveModel = found.into();
        row.secret = Set(self.cipher.encrypt(secret.as_bytes())?);
        row.updated_at = Set(now());
        let after = row.update(tx.conn()).await?;
        self.commit_audited(
            tx,
            principal,
            Entry::success("rotateWebhookSecret", "WebhookSubscription", id),
        )
        .await?;
        Ok(WithSecret {
            subscription: after.try_into()?,
            secret,
        })
    }

    /// Deletes a webhook with its delivery log.
    pub async fn delete_webhook(&self, principal: &Principal, id: Uuid) -> Result<()> {
        self.require_webhooks(principal).await?;
        let tx = self.store.begin().await?;
        let found = Self::find_subscription(tx.conn(), principal.org_id, id).await?;
        webhook_delivery::Entity::delete_many()
            .filter(webhook_delivery::Column::SubscriptionId.eq(id))
            .exec(tx.conn())
            .await?;
        webhook_subscription::Entity::delete_by_id(id)
            .exec(tx.conn())
            .await?;
        self.commit_audited(
            tx,
            principal,
            Entry::success("deleteWebhookSubscription", "WebhookSubscription", id)
                .before(json!({"url": found.url, "events": found.events})),
        )
        .await?;
        self.webhooks.forget(principal.org_id);
        Ok(())
    }

    /// A webhook's delivery log, oldest first.
    pub async fn webhook_deliveries(
        &self,
        principal: &Principal,
        subscription_id: Uuid,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<WebhookDelivery>> {
        self.require_webhooks(principal).await?;
        let conn = self.store.conn();
        Self::find_subscription(conn, principal.org_id, subscription_id).await?;
        let select = webhook_delivery::Entity::find()
            .filter(webhook_delivery::Column::OrgId.eq(principal.org_id))
            .filter(webhook_delivery::Column::SubscriptionId.eq(subscription_id));
        let page = paginate(conn, select, webhook_delivery::Column::Id, page).await?;
        page.try_map(WebhookDelivery::try_from)
    }

    /// One delivery of the organization's webhooks.
    pub async fn webhook_delivery(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<WebhookDelivery> {
        self.require_webhooks(principal).await?;
        webhook_delivery::Entity::find_by_id(id)
            .filter(webhook_delivery::Column::OrgId.eq(principal.org_id))
            .one(self.store.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "webhook delivery",
            })?
            .try_into()
    }

    /// Makes a delivery due again now, with a fresh set of attempts (after the
    /// receiver was fixed, say).
    pub async fn redeliver_webhook(
        &self,
        principal: &Principal,
        delivery_id: Uuid,
    ) -> Result<WebhookDelivery> {
        self.require_webhooks(principal).await?;
        let tx = self.store.begin().await?;
        let found = webhook_delivery::Entity::find_by_id(delivery_id)
            .filter(webhook_delivery::Column::OrgId.eq(principal.org_id))
            .one(tx.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "webhook delivery",
            })?;
        let mut row: webhook_delivery::ActiveModel = found.into();
        row.attempts = Set(0);
        row.next_attempt_at = Set(now());
        row.delivered_at = Set(None);
        let after = row.update(tx.conn()).await?;
        self.commit_audited(
            tx,
            principal,
            Entry::success("redeliverWebhook", "WebhookDelivery", delivery_id),
        )
        .await?;
        after.try_into()
    }

    /// Queues `request.overdue` once for each open request past its deadline (in
    /// the organization's local day), for the organizations that subscribe to it.
    /// Returns how many were queued. `serve` runs it every minute.
    pub async fn sweep_overdue_webhooks(&self) -> Result<usize> {
        let subs: Vec<webhook_subscription::Model> = webhook_subscription::Entity::find()
            .filter(webhook_subscription::Column::Active.eq(true))
            .filter(
                webhook_subscription::Column::Events
                    .contains(WebhookEvent::RequestOverdue.as_str()),
            )
            .all(self.store.conn())
            .await?;
        let mut queued = 0;
        let mut orgs: Vec<Uuid> = subs.iter().map(|s| s.org_id).collect();
        orgs.sort_unstable();
        orgs.dedup();
        for org_id in orgs {
            let overdue = crate::requests::overdue_requests(self.store.conn(), org_id).await?;
            // Which (request, webhook) pairs were told already: one query per 500
            // overdue requests, not one per request.
            let mut told: std::collections::HashSet<(Uuid, Uuid)> = Default::default();
            for chunk in overdue.chunks(500) {
                let pairs: Vec<(Option<Uuid>, Uuid)> = webhook_delivery::Entity::find()
                    .select_only()
                    .column(webhook_delivery::Column::RequestId)
                    .column(webhook_delivery::Column::SubscriptionId)
                    .filter(webhook_delivery::Column::OrgId.eq(org_id))
                    .filter(
                        webhook_delivery::Column::Event.eq(WebhookEvent::RequestOverdue.as_str()),
                    )
                    .filter(webhook_delivery::Column::RequestId.is_in(chunk.iter().map(|r| r.id)))
                    .into_tuple()
                    .all(self.store.conn())
                    .await?;
                told.extend(pairs.into_iter().filter_map(|(r, s)| r.map(|r| (r, s))));
            }
            for r in overdue {
                let wanting: Vec<&webhook_subscription::Model> = subs
                    .iter()
                    .filter(|s| s.org_id == org_id && !told.contains(&(r.id, s.id)))
                    .collect();
                if wanting.is_empty() {
                    continue;
                }
                let tx = self.store.begin().await?;
                let targets: Vec<Uuid> = wanting.iter().map(|s| s.id).collect();
                insert_deliveries(
                    tx.conn(),
                    org_id,
                    WebhookEvent::RequestOverdue,
                    Some(r.id),
                    request_data(&r, None),
                    &targets,
                )
                .await?;
                tx.commit(&self.bus).await?;
                queued += wanting.len();
            }
        }
        Ok(queued)
    }

    /// Posts up to `batch` due deliveries, [`PARALLEL_POSTS`] at a time and at most
    /// [`PER_SUBSCRIPTION`] of one webhook per call, so that a slow receiver holds up
    /// neither the others in the batch nor other organizations for more than one
    /// timeout; returns how many the receivers took. A failed attempt (no 2xx, or no
    /// answer within 10 s) is retried with exponential backoff, up to
    /// [`MAX_ATTEMPTS`]; deliveries of a paused webhook wait for it.
    pub async fn deliver_webhooks(&self, client: &reqwest::Client, batch: u64) -> Result<usize> {
        let at = now();
        // Deliveries of a paused (inactive) webhook wait for it, keeping their attempts.
        let active = webhook_subscription::Entity::find()
            .select_only()
            .column(webhook_subscription::Column::Id)
            .filter(webhook_subscription::Column::Active.eq(true));
        let due = webhook_delivery::Entity::find()
            .filter(
                webhook_delivery::Column::SubscriptionId
                    .in_subquery(sea_orm::QueryTrait::into_query(active)),
            )
            .filter(webhook_delivery::Column::DeliveredAt.is_null())
            .filter(webhook_delivery::Column::NextAttemptAt.lte(at))
            .filter(webhook_delivery::Column::Attempts.lt(MAX_ATTEMPTS))
            .order_by_asc(webhook_delivery::Column::NextAttemptAt)
            .limit(batch)
            .all(self.store.conn())
            .await?;
        // At most PER_SUBSCRIPTION of one webhook: the rest wait for the next call.
        let mut taken_per: HashMap<Uuid, usize> = HashMap::new();
        let due: Vec<webhook_delivery::Model> = due
            .into_iter()
            .filter(|d| {
                let n = taken_per.entry(d.subscription_id).or_default();
                *n += 1;
                *n <= PER_SUBSCRIPTION
            })
            .collect();
        use futures_util::StreamExt;
        let outcomes: Vec<Result<bool>> = futures_util::stream::iter(due)
            .map(|row| self.deliver_one(client, row))
            .buffer_unordered(PARALLEL_POSTS)
            .collect()
            .await;
        let mut delivered = 0;
        for outcome in outcomes {
            if outcome? {
                delivered += 1;
            }
        }
        Ok(delivered)
    }

    /// One attempt at one delivery; whether the receiver took it (false also when
    /// another deliverer holds it).
    async fn deliver_one(
        &self,
        client: &reqwest::Client,
        row: webhook_delivery::Model,
    ) -> Result<bool> {
        let attempt_at = now();
        // Take the attempt first, in one conditional statement that also holds the
        // delivery back from other deliverers while this one posts.
        let taken = {
            let _turn = self.store.writer_turn().await;
            crate::core::store::take_slot(
                self.store.conn(),
                webhook_delivery::Entity::update_many()
                    .col_expr(
                        webhook_delivery::Column::NextAttemptAt,
                        Expr::value(attempt_at + Duration::seconds(SEND_LEASE_SECONDS)),
                    )
                    .filter(webhook_delivery::Column::Id.eq(row.id))
                    .filter(webhook_delivery::Column::DeliveredAt.is_null())
                    .filter(webhook_delivery::Column::NextAttemptAt.lte(attempt_at)),
                webhook_delivery::Column::Attempts,
                MAX_ATTEMPTS,
            )
            .await?
        };
        if !taken {
            return Ok(false);
        }
        let subscription = webhook_subscription::Entity::find_by_id(row.subscription_id)
            .one(self.store.conn())
            .await?
            .filter(|s| s.active);
        let Some(s) = subscription else {
            // Paused (or deleted) since it was picked: give the attempt back.
            let _turn = self.store.writer_turn().await;
            webhook_delivery::ActiveModel {
                id: Set(row.id),
                attempts: Set(row.attempts),
                next_attempt_at: Set(row.next_attempt_at),
                ..Default::default()
            }
            .update(self.store.conn())
            .await?;
            return Ok(false);
        };
        let attempts = row.attempts + 1;
        let outcome: std::result::Result<i32, (Option<i32>, String)> = {
            {
                let secret = String::from_utf8(self.cipher.decrypt(&s.secret)?)
                    .map_err(|e| Error::Internal(format!("webhook secret: {e}")))?;
                let unix = now().timestamp();
                let response = client
                    .post(&s.url)
                    .timeout(POST_TIMEOUT)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .header("X-Auskunft-Event", &row.event)
                    .header("X-Auskunft-Delivery", row.id.to_string())
                    .header(
                        "X-Auskunft-Signature",
                        signature(&secret, unix, &row.payload),
                    )
                    .body(row.payload.clone())
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status().is_success() => Ok(i32::from(r.status().as_u16())),
                    Ok(r) => Err((
                        Some(i32::from(r.status().as_u16())),
                        format!("the receiver answered {}", r.status()),
                    )),
                    Err(e) if e.is_timeout() => Err((
                        None,
                        format!("no answer within {} s", POST_TIMEOUT.as_secs()),
                    )),
                    Err(e) => Err((None, crate::connectors::error_chain(&e.without_url()))),
                }
            }
        };
        let mut active = webhook_delivery::ActiveModel {
            id: Set(row.id),
            ..Default::default()
        };
        match outcome {
            Ok(status) => {
                active.delivered_at = Set(Some(now()));
                active.last_status = Set(Some(status));
                active.last_error = Set(None);
            }
            Err((status, error)) => {
                tracing::warn!(error = %error, attempts, subscription = %s.id, delivery = %row.id, "webhook delivery failed; will retry");
                active.last_status = Set(status);
                active.last_error = Set(Some(error.chars().take(1000).collect()));
                active.next_attempt_at =
                    Set(now() + Duration::seconds(30 * 2i64.pow(attempts.min(11) as u32)));
            }
        }
        let taken_by_receiver = active.delivered_at.is_set();
        let _turn = self.store.writer_turn().await;
        active.update(self.store.conn()).await?;
        Ok(taken_by_receiver)
    }
}
