//! Output types of the consent ledger.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use workflow::consent as wc;

use crate::error::ApiResult;
use crate::graphql::ids::global_id;
use crate::graphql::types::register::IdentityType;

mirror_enum! {
    /// How the organization may reach a person, or what it may do with their data.
    ConsentChannel = wc::ConsentChannel {
        /// E-mail (newsletters, offers); addressed by EMAIL identities.
        Email,
        /// Phone calls; addressed by PHONE identities.
        Phone,
        /// Text messages; addressed by PHONE identities.
        Sms,
        /// Letters; addressed by POSTAL_ADDRESS identities.
        Post,
        /// Keeping the data at all, beyond what a contract needs; any identity.
        Storage,
    }
}

mirror_enum! {
    /// Where a consent stands.
    ConsentState = wc::ConsentState {
        /// Given (for a double opt-in: confirmed).
        Granted,
        /// Refused when asked.
        Denied,
        /// Asked by double opt-in and not confirmed yet (see `expiresAt`).
        Pending,
        /// Given once, taken back.
        Withdrawn,
    }
}

mirror_enum! {
    /// What happened to a consent.
    ConsentAction = wc::ConsentAction {
        /// Recorded by staff or an integration (`recordConsent`).
        Recorded,
        /// A confirmation link was mailed (`requestConsent`).
        Requested,
        /// Confirmed through the link, or by `confirmConsent`.
        Confirmed,
        /// Withdrawn (`withdrawConsent` or the subject's unsubscribe link).
        Withdrawn,
        /// Taken from a CSV import (`importConsents`).
        Imported,
    }
}

mirror_enum! {
    /// Why a campaign must leave an identity out, strongest first.
    ConsentReason = wc::check::ConsentReason {
        /// The value is not an identity of the channel's kind.
        InvalidIdentity,
        /// The person was erased on request (suppression list).
        Suppressed,
        /// The person objected to processing (Art. 21 GDPR); an objection to direct
        /// marketing is absolute.
        Objected,
        /// The person asked for restriction (Art. 18), or for an erasure (Art. 17)
        /// not yet carried out, and the request was not rejected or cancelled.
        Restricted,
        /// No consent to this purpose on this channel is recorded.
        NoConsent,
        /// The person refused.
        Denied,
        /// Asked by double opt-in, not confirmed yet.
        Pending,
        /// Asked by double opt-in; the link ended unconfirmed.
        Expired,
        /// The person withdrew their consent.
        Withdrawn,
    }
}

/// A person's consent to one purpose of the register on one channel. Every
/// identity of the person shares it: a consent given through one address answers
/// checks of the person's other addresses too.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Consent {
    /// Global ID.
    pub id: ID,
    /// The purpose (global ID).
    pub purpose_id: ID,
    /// The purpose's name.
    pub purpose_name: String,
    /// The channel.
    pub channel: ConsentChannel,
    /// The state.
    pub state: ConsentState,
    /// The kind of the identity it was last given or asked through.
    pub identity_type: IdentityType,
    /// That identity as first given (the double opt-in address).
    pub identity: String,
    /// When a PENDING consent's confirmation link ends.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it last changed or got evidence.
    pub updated_at: DateTime<Utc>,
    /// When it was first recorded.
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: Uuid,
    #[graphql(skip)]
    pub purpose_uuid: Uuid,
}

#[ComplexObject]
impl Consent {
    /// The purpose.
    async fn purpose(&self, ctx: &Context<'_>) -> ApiResult<Option<super::register::Purpose>> {
        super::requests::purpose_by_id(ctx, Some(self.purpose_uuid)).await
    }

    /// Its append-only history with the evidence of each step, oldest first.
    async fn events(&self, ctx: &Context<'_>) -> ApiResult<Vec<ConsentEvent>> {
        let s = crate::graphql::session(ctx)?;
        Ok(s.workflow()
            .consent_events(s.principal()?, self.uuid)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

impl From<wc::ConsentView> for Consent {
    fn from(c: wc::ConsentView) -> Self {
        Self {
            id: global_id("Consent", c.id),
            purpose_id: global_id("Purpose", c.purpose_id),
            purpose_name: c.purpose_name,
            channel: c.channel.into(),
            state: c.state.into(),
            identity_type: c.identity_type.into(),
            identity: c.identity,
            expires_at: c.expires_at,
            updated_at: c.updated_at,
            created_at: c.created_at,
            uuid: c.id,
            purpose_uuid: c.purpose_id,
        }
    }
}

/// One step of a consent's history, with its evidence.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ConsentEvent {
    /// What happened.
    pub action: ConsentAction,
    /// The state after it.
    pub state: ConsentState,
    /// The state before (none for the first step).
    pub previous_state: Option<ConsentState>,
    /// Where it came from (form, call centre, import, confirmation or unsubscribe
    /// link).
    pub source: String,
    /// The version of the consent text shown.
    pub text_version: Option<String>,
    /// The person's IP address, where given.
    pub ip: Option<String>,
    /// The person's user agent, where given.
    pub user_agent: Option<String>,
    /// When the person acted.
    pub occurred_at: DateTime<Utc>,
    /// When Auskunft recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The name of who recorded it (a person's or an API key's), or the link.
    pub actor_name: String,
    #[graphql(skip)]
    pub actor_uuid: Option<Uuid>,
}

#[ComplexObject]
impl ConsentEvent {
    /// Global ID of who (person or API key) recorded it; none for the person's own
    /// links.
    async fn actor_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        super::actor::actor_id(ctx, self.actor_uuid).await
    }

    /// Who (person or API key) recorded it; none for the person's own links.
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<super::actor::Actor>> {
        super::actor::actor(ctx, self.actor_uuid).await
    }
}

impl From<wc::ConsentEventView> for ConsentEvent {
    fn from(e: wc::ConsentEventView) -> Self {
        Self {
            action: e.action.into(),
            state: e.state.into(),
            previous_state: e.previous_state.map(Into::into),
            source: e.source,
            text_version: e.text_version,
            ip: e.ip,
            user_agent: e.user_agent,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            actor_name: e.actor_name,
            actor_uuid: e.actor_id,
        }
    }
}

super::connection::connection!(
    ConsentConnection,
    ConsentEdge,
    Consent,
    "A page of consents (Relay cursor connection).",
    "A consent with its cursor."
);

/// The answer for one identity.
#[derive(SimpleObject, Clone, Debug)]
pub struct ConsentCheck {
    /// Whether a campaign may address it.
    pub allowed: bool,
    /// Why not (null when allowed).
    pub reason: Option<ConsentReason>,
    /// The person's consent to the purpose on the channel, when one is recorded.
    pub consent: Option<Consent>,
    /// The person's one-click unsubscribe link for this consent, to put into the
    /// campaign's mail (`List-Unsubscribe`); null when not allowed, or when the
    /// server does not know the address people reach it at.
    pub unsubscribe_url: Option<String>,
}

/// Identities left out for one reason.
#[derive(SimpleObject, Clone, Debug)]
pub struct ConsentExclusion {
    /// The reason.
    pub reason: ConsentReason,
    /// The identities, as given, in the order given.
    pub identities: Vec<String>,
}

/// The answer of a bulk campaign check.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ConsentBulkCheck {
    /// The identities a campaign may address, as given, in the order given.
    pub allowed: Vec<String>,
    /// The others, grouped by reason (only reasons that occur, strongest first).
    pub excluded: Vec<ConsentExclusion>,
    #[graphql(skip)]
    pub allowed_consents: Vec<Uuid>,
    #[graphql(skip)]
    pub origin: Option<String>,
}

#[ComplexObject]
impl ConsentBulkCheck {
    /// Each allowed identity's one-click unsubscribe link, in the order of
    /// `allowed` (for the campaign's `List-Unsubscribe` header). CONFLICT when the
    /// server does not know the address people reach it at (configure public_url).
    async fn unsubscribe_urls(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        let s = crate::graphql::session(ctx)?;
        Ok(s.workflow()
            .unsubscribe_urls(&self.allowed_consents, self.origin.as_deref())?)
    }
}

impl ConsentBulkCheck {
    /// Converts the workflow's answer; `origin` makes the unsubscribe links.
    pub fn new(c: wc::check::BulkCheck, origin: Option<String>) -> Self {
        Self {
            allowed: c.allowed,
            excluded: c
                .excluded
                .into_iter()
                .map(|(reason, identities)| ConsentExclusion {
                    reason: reason.into(),
                    identities,
                })
                .collect(),
            allowed_consents: c.allowed_consents,
            origin,
        }
    }
}

/// What a consent import did (or would do, in a dry run).
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportConsentsPayload {
    /// Rows read.
    pub rows: i32,
    /// Rows that changed a consent's state or made a new consent.
    pub changed: i32,
    /// Rows that only added evidence to a consent already in that state.
    pub unchanged: i32,
    /// Whether nothing was written (a dry run: `changed` counts every row).
    pub dry_run: bool,
}

impl From<wc::import::ImportedConsents> for ImportConsentsPayload {
    fn from(r: wc::import::ImportedConsents) -> Self {
        let n = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
        Self {
            rows: n(r.rows),
            changed: n(r.changed),
            unchanged: n(r.unchanged),
            dry_run: r.dry_run,
        }
    }
}
