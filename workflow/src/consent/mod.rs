//! The consent ledger (seed 003: per contact and channel, yes / no / pending).
//!
//! One row per data subject x register purpose x channel holds the current state;
//! every change appends a `consent_event` with its evidence (source, text version
//! shown, when the subject acted, IP address and user agent where given). The ledger
//! is append-only: nothing edits or deletes an event.
//!
//! - `recordConsent` records a consent given, refused or withdrawn elsewhere (a
//!   signed form, a call).
//! - Double opt-in: `requestConsent` mails a confirmation link; the consent is
//!   PENDING until the subject confirms through it (or an integrator's page calls
//!   `confirmConsent` with the token), and the link ends after a few days.
//! - Withdrawing is one mutation, or the subject's own unsubscribe link (stateless:
//!   the consent's id and a keyed MAC), also as RFC 8058 one-click.
//! - Campaign checks ([`check`]) give the allowed subset and why each other identity
//!   is left out; [`import`] takes consents from a CSV file, all or nothing.

pub mod check;
pub mod import;

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{consent, consent_event, organization, purpose, subject_identity};

use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::answer::package::sha256_hex;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::register::fields::IdentityType;
use crate::webhooks::WebhookEvent;
use crate::{Action, Object, Workflow, new_id, now};

stored_enum! {
    /// How the organization may reach the subject, or what it may do (seed 003).
    ConsentChannel {
        /// E-mail (newsletters, offers).
        Email => "EMAIL",
        /// Phone calls.
        Phone => "PHONE",
        /// Text messages.
        Sms => "SMS",
        /// Letters.
        Post => "POST",
        /// Keeping the data at all (beyond what a contract needs).
        Storage => "STORAGE",
    }
}

impl ConsentChannel {
    /// The kind of identity a campaign on this channel addresses.
    pub fn identity_type(self) -> IdentityType {
        match self {
            Self::Email | Self::Storage => IdentityType::Email,
            Self::Phone | Self::Sms => IdentityType::Phone,
            Self::Post => IdentityType::PostalAddress,
        }
    }
}

stored_enum! {
    /// Where a consent stands.
    ConsentState {
        /// Given (and, for double opt-in, confirmed).
        Granted => "GRANTED",
        /// Refused when asked.
        Denied => "DENIED",
        /// Asked by double opt-in, not yet confirmed.
        Pending => "PENDING",
        /// Given once, taken back.
        Withdrawn => "WITHDRAWN",
    }
}

stored_enum! {
    /// What happened to a consent.
    ConsentAction {
        /// Recorded by staff or an integration (`recordConsent`).
        Recorded => "RECORDED",
        /// A confirmation link was mailed (double opt-in).
        Requested => "REQUESTED",
        /// The subject confirmed through the link.
        Confirmed => "CONFIRMED",
        /// Withdrawn (mutation or the subject's unsubscribe link).
        Withdrawn => "WITHDRAWN",
        /// Taken from a CSV import.
        Imported => "IMPORTED",
    }
}

/// How long a confirmation link works unless asked otherwise, and at most.
pub const CONFIRM_DAYS: u32 = 7;
/// The longest a confirmation link may work.
pub const MAX_CONFIRM_DAYS: u32 = 30;
/// The shortest time between two confirmation mails of one consent.
pub const RESEND_AFTER: Duration = Duration::seconds(60);

/// The id the subject's own links act under in the audit log and the ledger (never
/// an API key's: those are time-ordered UUID v7).
pub const SUBJECT_CONSENT_LINK_ID: Uuid =
    Uuid::from_u128(0x0000_0000_0000_8000_8000_0000_0000_0003);

/// Evidence of one consent event, as given.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// Where it came from: the form, the call centre, the CRM (at most 200
    /// characters). Required where staff or an integration records it.
    pub source: Option<String>,
    /// The version of the consent text shown (at most 100 characters).
    pub text_version: Option<String>,
    /// When the subject acted (not in the future); now when not given.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The subject's IP address (IPv4 or IPv6).
    pub ip: Option<String>,
    /// The subject's user agent (at most 500 characters).
    pub user_agent: Option<String>,
}

/// Evidence checked and in stored form.
#[derive(Debug, Clone)]
pub(crate) struct CheckedEvidence {
    source: String,
    text_version: Option<String>,
    occurred_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
}

/// The names of the evidence fields in GraphQL input.
pub(crate) const API_NAMES: [&str; 5] = ["source", "textVersion", "occurredAt", "ip", "userAgent"];
/// The names of the evidence columns of a CSV import.
pub(crate) const CSV_NAMES: [&str; 5] =
    ["source", "text_version", "occurred_at", "ip", "user_agent"];

/// Checks evidence at `path` (fields named as in `names`); `default_source` stands
/// in for a missing source where Auskunft itself knows it (the subject's links).
pub(crate) fn check_evidence(
    v: &mut Validator,
    e: &Evidence,
    path: &[&str],
    names: [&str; 5],
    default_source: Option<&str>,
    at: DateTime<Utc>,
) -> CheckedEvidence {
    let at_path = |field: &str| -> Vec<String> {
        let field = match field {
            "source" => names[0],
            "textVersion" => names[1],
            "occurredAt" => names[2],
            "ip" => names[3],
            _ => names[4],
        };
        path.iter()
            .map(|s| (*s).to_owned())
            .chain([field.to_owned()])
            .collect()
    };
    let p = at_path("source");
    let p: Vec<&str> = p.iter().map(String::as_str).collect();
    let source = match (e.source.as_deref(), default_source) {
        (Some(s), _) => v.text(s, &p, 200),
        (None, Some(d)) => d.to_owned(),
        (None, None) => {
            v.check(
                false,
                &p,
                "say where the consent came from (form, call, import ...)",
            );
            String::new()
        }
    };
    let p = at_path("textVersion");
    let p: Vec<&str> = p.iter().map(String::as_str).collect();
    let text_version = e
        .text_version
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| v.text(t, &p, 100));
    let p = at_path("occurredAt");
    let p: Vec<&str> = p.iter().map(String::as_str).collect();
    let occurred_at = match e.occurred_at {
        Some(t) => {
            v.check(
                t <= at + Duration::minutes(5),
                &p,
                "must not be in the future",
            );
            v.check(
                t.timestamp() >= 946_684_800,
                &p,
                "must not be before the year 2000",
            );
            chrono::SubsecRound::trunc_subsecs(t, 6)
        }
        None => at,
    };
    let p = at_path("ip");
    let p: Vec<&str> = p.iter().map(String::as_str).collect();
    let ip =
        e.ip.as_deref()
            .filter(|t| !t.trim().is_empty())
            .and_then(|t| match t.trim().parse::<std::net::IpAddr>() {
                Ok(ip) => Some(ip.to_string()),
                Err(_) => {
                    v.check(false, &p, "must be an IPv4 or IPv6 address");
                    None
                }
            });
    let p = at_path("userAgent");
    let p: Vec<&str> = p.iter().map(String::as_str).collect();
    let user_agent = e
        .user_agent
        .as_deref()
        .filter(|t| !t.trim().is_empty())
        .map(|t| v.text(t, &p, 500));
    CheckedEvidence {
        source,
        text_version,
        occurred_at,
        ip,
        user_agent,
    }
}

/// A consent as the API shows it.
#[derive(Debug, Clone)]
pub struct ConsentView {
    /// Its id.
    pub id: Uuid,
    /// The data subject.
    pub subject_id: Uuid,
    /// The register purpose.
    pub purpose_id: Uuid,
    /// The purpose's name.
    pub purpose_name: String,
    /// The channel.
    pub channel: ConsentChannel,
    /// The state.
    pub state: ConsentState,
    /// The kind of the identity it was last given or asked through.
    pub identity_type: IdentityType,
    /// That identity as first given.
    pub identity: String,
    /// When a PENDING consent's link ends.
    pub expires_at: Option<DateTime<Utc>>,
    /// When the state last changed (or evidence was added).
    pub updated_at: DateTime<Utc>,
    /// When it was first recorded.
    pub created_at: DateTime<Utc>,
}

/// One entry of a consent's history.
#[derive(Debug, Clone)]
pub struct ConsentEventView {
    /// Its id.
    pub id: Uuid,
    /// What happened.
    pub action: ConsentAction,
    /// The state after it.
    pub state: ConsentState,
    /// The state before (none for the first).
    pub previous_state: Option<ConsentState>,
    /// Where it came from.
    pub source: String,
    /// The consent text's version shown.
    pub text_version: Option<String>,
    /// The subject's IP address.
    pub ip: Option<String>,
    /// The subject's user agent.
    pub user_agent: Option<String>,
    /// When the subject acted.
    pub occurred_at: DateTime<Utc>,
    /// When it was recorded.
    pub recorded_at: DateTime<Utc>,
    /// The API key that recorded it, none for the subject's links.
    pub actor_id: Option<Uuid>,
    /// The key's name or the link.
    pub actor_name: String,
}

impl TryFrom<consent_event::Model> for ConsentEventView {
    type Error = Error;
    fn try_from(e: consent_event::Model) -> Result<Self> {
        Ok(Self {
            id: e.id,
            action: e.action.parse()?,
            state: e.state.parse()?,
            previous_state: e.previous_state.map(|s| s.parse()).transpose()?,
            source: e.source,
            text_version: e.text_version,
            ip: e.ip,
            user_agent: e.user_agent,
            occurred_at: e.occurred_at,
            recorded_at: e.recorded_at,
            actor_id: e.actor_id,
            actor_name: e.actor_name,
        })
    }
}

/// One identity named by a caller: its kind and the value as given.
#[derive(Debug, Clone)]
pub struct ConsentIdentity {
    /// Its kind.
    pub kind: IdentityType,
    /// As given.
    pub value: String,
}

/// What `recordConsent` records.
#[derive(Debug, Clone)]
pub struct RecordConsent {
    /// The register purpose.
    pub purpose_id: Uuid,
    /// The channel.
    pub channel: ConsentChannel,
    /// Whom it is about.
    pub identity: ConsentIdentity,
    /// GRANTED, DENIED or WITHDRAWN (PENDING comes only from `requestConsent`).
    pub state: ConsentState,
    /// Its evidence.
    pub evidence: Evidence,
}

/// What `requestConsent` asks.
#[derive(Debug, Clone)]
pub struct RequestConsent {
    /// The register purpose.
    pub purpose_id: Uuid,
    /// The channel (EMAIL or STORAGE: the link proves the e-mail address).
    pub channel: ConsentChannel,
    /// The address the confirmation link goes to.
    pub email: String,
    /// How many days the link works (default [`CONFIRM_DAYS`]).
    pub expires_in_days: Option<u32>,
    /// Its evidence (the sign-up form, text version, IP and user agent).
    pub evidence: Evidence,
}

/// Who changes a consent.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Actor<'a> {
    /// An API key.
    Key(&'a Principal),
    /// The subject through one of their links.
    SubjectLink,
}

impl Actor<'_> {
    fn id(&self) -> Option<Uuid> {
        match self {
            Actor::Key(p) => Some(p.key_id),
            Actor::SubjectLink => None,
        }
    }
    fn name(&self) -> String {
        match self {
            Actor::Key(p) => p.key_name.clone(),
            Actor::SubjectLink => "subject (consent link)".to_owned(),
        }
    }
}

/// One change of the ledger, applied by [`apply`].
pub(crate) struct Change<'a> {
    pub org_id: Uuid,
    pub subject_id: Uuid,
    pub identity_id: Uuid,
    pub purpose_id: Uuid,
    pub channel: ConsentChannel,
    pub state: ConsentState,
    pub action: ConsentAction,
    pub evidence: &'a CheckedEvidence,
    pub actor: Actor<'a>,
    /// The new confirmation link's hash and end (double opt-in).
    pub token: Option<(String, DateTime<Utc>)>,
}

/// What [`apply`] did.
pub(crate) struct Applied {
    pub row: consent::Model,
    /// The state before, when the state changed (`None` inside: it was new).
    pub changed_from: Option<Option<ConsentState>>,
}

/// The consent of a subject to a purpose on a channel, locked for the transaction.
async fn find_locked<C: Conn>(
    conn: &C,
    org_id: Uuid,
    subject_id: Uuid,
    purpose_id: Uuid,
    channel: ConsentChannel,
) -> Result<Option<consent::Model>> {
    Ok(consent::Entity::find()
        .filter(consent::Column::OrgId.eq(org_id))
        .filter(consent::Column::SubjectId.eq(subject_id))
        .filter(consent::Column::PurposeId.eq(purpose_id))
        .filter(consent::Column::Channel.eq(channel.as_str()))
        .lock_exclusive()
        .one(conn)
        .await?)
}

/// Applies one change in the caller's transaction: the state row (made when new)
/// and one appended event.
pub(crate) async fn apply<C: Conn>(conn: &C, c: Change<'_>) -> Result<Applied> {
    let at = now();
    let existing = find_locked(conn, c.org_id, c.subject_id, c.purpose_id, c.channel).await?;
    let before = existing
        .as_ref()
        .map(|r| r.state.parse::<ConsentState>())
        .transpose()?;
    let row = match existing {
        Some(row) => {
            let mut active = row.into_active_model();
            active.state = Set(c.state.as_str().to_owned());
            active.identity_id = Set(c.identity_id);
            active.updated_at = Set(at);
            match (&c.token, c.state) {
                (Some((hash, expires)), _) => {
                    active.confirm_token_hash = Set(Some(hash.clone()));
                    active.expires_at = Set(Some(*expires));
                    active.last_requested_at = Set(Some(at));
                }
                // A confirmed consent keeps its link's hash so that a second click
                // on the link is answered "confirmed" (not "unknown"); any other
                // state ends the link, so that an old link cannot grant again.
                (None, ConsentState::Granted) => {
                    active.expires_at = Set(None);
                }
                (None, _) => {
                    active.confirm_token_hash = Set(None);
                    active.expires_at = Set(None);
                }
            }
            active.update(conn).await?
        }
        None => {
            consent::ActiveModel {
                id: Set(new_id()),
                org_id: Set(c.org_id),
                subject_id: Set(c.subject_id),
                purpose_id: Set(c.purpose_id),
                channel: Set(c.channel.as_str().to_owned()),
                state: Set(c.state.as_str().to_owned()),
                identity_id: Set(c.identity_id),
                confirm_token_hash: Set(c.token.as_ref().map(|t| t.0.clone())),
                expires_at: Set(c.token.as_ref().map(|t| t.1)),
                last_requested_at: Set(c.token.as_ref().map(|_| at)),
                updated_at: Set(at),
                created_at: Set(at),
            }
            .insert(conn)
            .await?
        }
    };
    consent_event::ActiveModel {
        id: Set(new_id()),
        org_id: Set(c.org_id),
        consent_id: Set(row.id),
        action: Set(c.action.as_str().to_owned()),
        state: Set(c.state.as_str().to_owned()),
        previous_state: Set(before.map(|s| s.as_str().to_owned())),
        source: Set(c.evidence.source.clone()),
        text_version: Set(c.evidence.text_version.clone()),
        ip: Set(c.evidence.ip.clone()),
        user_agent: Set(c.evidence.user_agent.clone()),
        occurred_at: Set(c.evidence.occurred_at),
        recorded_at: Set(at),
        actor_id: Set(c.actor.id()),
        actor_name: Set(c.actor.name()),
    }
    .insert(conn)
    .await?;
    let changed_from = (before != Some(c.state)).then_some(before);
    Ok(Applied { row, changed_from })
}

/// The register purpose `purpose_id` of the organization (NOT_FOUND otherwise).
async fn purpose_of<C: Conn>(conn: &C, org_id: Uuid, purpose_id: Uuid) -> Result<purpose::Model> {
    purpose::Entity::find_by_id(purpose_id)
        .filter(purpose::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound { what: "purpose" })
}

/// Builds the views of consent rows (purpose names and identities in two queries).
async fn views<C: Conn>(conn: &C, rows: Vec<consent::Model>) -> Result<Vec<ConsentView>> {
    use std::collections::HashMap;
    let purposes: HashMap<Uuid, String> = purpose::Entity::find()
        .filter(purpose::Column::Id.is_in(rows.iter().map(|r| r.purpose_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect();
    let identities: HashMap<Uuid, subject_identity::Model> = subject_identity::Entity::find()
        .filter(subject_identity::Column::Id.is_in(rows.iter().map(|r| r.identity_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|i| (i.id, i))
        .collect();
    rows.into_iter()
        .map(|r| {
            let identity = identities.get(&r.identity_id);
            Ok(ConsentView {
                id: r.id,
                subject_id: r.subject_id,
                purpose_id: r.purpose_id,
                purpose_name: purposes.get(&r.purpose_id).cloned().unwrap_or_default(),
                channel: r.channel.parse()?,
                state: r.state.parse()?,
                identity_type: match identity {
                    Some(i) => i.kind.parse()?,
                    None => IdentityType::Other,
                },
                identity: identity
                    .map(|i| i.value_as_given.clone())
                    .unwrap_or_default(),
                expires_at: r.expires_at,
                updated_at: r.updated_at,
                created_at: r.created_at,
            })
        })
        .collect()
}

/// The data of a `consent.changed` webhook: which consent, whose, and the change.
/// It names the identity the consent was given through, so that the receiving CRM
/// can find its contact.
fn webhook_data(view: &ConsentView, previous: Option<ConsentState>) -> serde_json::Value {
    json!({
        "consentId": crate::core::links::global_id("Consent", view.id),
        "purposeId": crate::core::links::global_id("Purpose", view.purpose_id),
        "purpose": view.purpose_name,
        "channel": view.channel.as_str(),
        "state": view.state.as_str(),
        "previousState": previous.map(ConsentState::as_str),
        "identity": { "kind": view.identity_type.as_str(), "value": view.identity },
        "changedAt": view.updated_at,
    })
}

/// What a filter of `consents` asks for.
#[derive(Debug, Clone, Default)]
pub struct ConsentFilter {
    /// Only this person's (any of their identities).
    pub identity: Option<ConsentIdentity>,
    /// Only this purpose.
    pub purpose_id: Option<Uuid>,
    /// Only this channel.
    pub channel: Option<ConsentChannel>,
    /// Only in this state.
    pub state: Option<ConsentState>,
}

/// Checks an identity named by a caller and returns its canonical value.
pub(crate) fn canonical(
    v: &mut Validator,
    identity: &ConsentIdentity,
    path: &[&str],
    region: identity::PhoneRegion,
) -> String {
    crate::requests::intake_normalize(v, identity.kind, &identity.value, path, region)
}

/// The token in a subject's unsubscribe link: the consent's id and a keyed MAC of
/// it (stateless, stable, unforgeable without the key).
fn unsubscribe_token(cipher: &crate::core::crypto::Cipher, consent_id: Uuid) -> String {
    let mac = cipher.fingerprint(b"consent-unsubscribe:", consent_id.as_bytes());
    format!("{}{}", consent_id.simple(), &mac[..32])
}

/// The consent an unsubscribe token stands for, if the token is genuine.
fn open_unsubscribe_token(cipher: &crate::core::crypto::Cipher, token: &str) -> Option<Uuid> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let id = Uuid::parse_str(&token[..32]).ok()?;
    let expected = unsubscribe_token(cipher, id);
    // Both are hex of fixed length; compare without an early exit.
    let same = expected
        .bytes()
        .zip(token.to_ascii_lowercase().bytes())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    same.then_some(id)
}

/// What the subject's link pages say happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The consent is now granted (or was already, by this link).
    Confirmed {
        /// The purpose's name.
        purpose: String,
        /// The organization's name.
        organization: String,
    },
    /// The consent is now withdrawn (or was already).
    Withdrawn {
        /// The purpose's name.
        purpose: String,
        /// The organization's name.
        organization: String,
    },
}

impl Workflow {
    async fn require_consent(&self, principal: &Principal, action: Action) -> Result<()> {
        self.authz
            .require(principal.key_id, principal.org_id, Object::Consent, action)
            .await
    }

    /// The subject's unsubscribe link of a consent.
    pub(crate) fn unsubscribe_url(&self, base: &str, consent_id: Uuid) -> String {
        format!(
            "{base}/consent/unsubscribe/{}",
            unsubscribe_token(&self.cipher, consent_id)
        )
    }

    /// After a change: the webhook (when the state changed) in the transaction.
    async fn after_change<C: Conn>(&self, conn: &C, applied: &Applied) -> Result<ConsentView> {
        let view = views(conn, vec![applied.row.clone()]).await?.remove(0);
        if let Some(previous) = applied.changed_from {
            self.queue_webhook(
                conn,
                applied.row.org_id,
                WebhookEvent::ConsentChanged,
                None,
                webhook_data(&view, previous),
            )
            .await?;
        }
        Ok(view)
    }

    /// Records a consent given, refused or withdrawn outside Auskunft, with its
    /// evidence (`consent:update`). A GRANTED consent for an identity on the
    /// suppression list is refused: only the person's own double opt-in brings an
    /// erased person back.
    pub async fn record_consent(
        &self,
        principal: &Principal,
        input: RecordConsent,
    ) -> Result<ConsentView> {
        self.require_consent(principal, Action::Update).await?;
        let at = now();
        let region =
            crate::requests::settings::phone_region(self.store.conn(), principal.org_id).await?;
        let mut v = Validator::default();
        v.check(
            input.state != ConsentState::Pending,
            &["input", "state"],
            "PENDING comes only from requestConsent (double opt-in)",
        );
        check_channel(
            &mut v,
            input.channel,
            input.identity.kind,
            &["input", "identity", "kind"],
        );
        let value = canonical(
            &mut v,
            &input.identity,
            &["input", "identity", "value"],
            region,
        );
        let evidence = check_evidence(
            &mut v,
            &input.evidence,
            &["input", "evidence"],
            API_NAMES,
            None,
            at,
        );
        v.finish()?;
        if input.state == ConsentState::Granted
            && crate::erasure::suppression::is_suppressed(
                self.store.conn(),
                &self.cipher,
                principal.org_id,
                input.identity.kind,
                &value,
            )
            .await?
        {
            return Err(suppressed_conflict());
        }
        self.retrying(|| async {
            let tx = self.store.begin().await?;
            let conn = tx.conn();
            purpose_of(conn, principal.org_id, input.purpose_id).await?;
            let (subject_id, identity_id) = crate::requests::subject_of(
                conn,
                principal.org_id,
                input.identity.kind,
                &value,
                &input.identity.value,
            )
            .await?;
            let applied = apply(
                conn,
                Change {
                    org_id: principal.org_id,
                    subject_id,
                    identity_id,
                    purpose_id: input.purpose_id,
                    channel: input.channel,
                    state: input.state,
                    action: ConsentAction::Recorded,
                    evidence: &evidence,
                    actor: Actor::Key(principal),
                    token: None,
                },
            )
            .await?;
            let view = self.after_change(conn, &applied).await?;
            let entry = Entry::success("recordConsent", "Consent", view.id);
            self.commit_audited(tx, principal, entry).await?;
            Ok(view)
        })
        .await
    }

    /// Runs a transaction again (up to three times) when a concurrent one made the
    /// same new subject or consent first (a unique index refused the second).
    pub(crate) async fn retrying<T, F, Fut>(&self, mut run: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match run().await {
                Err(Error::Db(e))
                    if attempts < 3
                        && matches!(
                            e.sql_err(),
                            Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                        ) => {}
                other => return other,
            }
        }
    }

    /// Starts a double opt-in (`consent:update`): the consent is PENDING and a
    /// confirmation link goes to the address through the outbox. CONFLICT when the
    /// consent is granted already (unless the address belongs to a person erased
    /// since), when the last link went out less than a minute
    /// ago, or when the server does not know its public address.
    pub async fn request_consent(
        &self,
        principal: &Principal,
        input: RequestConsent,
        origin: Option<&str>,
    ) -> Result<ConsentView> {
        self.require_consent(principal, Action::Update).await?;
        let at = now();
        let mut v = Validator::default();
        v.check(
            matches!(
                input.channel,
                ConsentChannel::Email | ConsentChannel::Storage
            ),
            &["input", "channel"],
            "a confirmation link proves an e-mail address: ask EMAIL or STORAGE consent this \
             way, record the others with recordConsent",
        );
        let identity = ConsentIdentity {
            kind: IdentityType::Email,
            value: input.email.clone(),
        };
        let value = canonical(
            &mut v,
            &identity,
            &["input", "email"],
            identity::PhoneRegion::default(),
        );
        let days = input.expires_in_days.unwrap_or(CONFIRM_DAYS);
        v.check(
            (1..=MAX_CONFIRM_DAYS).contains(&days),
            &["input", "expiresInDays"],
            format!("must be between 1 and {MAX_CONFIRM_DAYS}"),
        );
        let evidence = check_evidence(
            &mut v,
            &input.evidence,
            &["input", "evidence"],
            API_NAMES,
            None,
            at,
        );
        v.finish()?;
        let base = crate::dispatch::link_base(&self.dispatch_settings, origin)?;
        // A person erased on request starts afresh: a consent granted before the
        // erasure does not count, so it is asked again.
        let suppressed = crate::erasure::suppression::is_suppressed(
            self.store.conn(),
            &self.cipher,
            principal.org_id,
            IdentityType::Email,
            &value,
        )
        .await?;
        self.retrying(|| async {
            let tx = self.store.begin().await?;
            let conn = tx.conn();
            let purpose = purpose_of(conn, principal.org_id, input.purpose_id).await?;
            let (subject_id, identity_id) = crate::requests::subject_of(
                conn,
                principal.org_id,
                IdentityType::Email,
                &value,
                &input.email,
            )
            .await?;
            if let Some(current) = find_locked(
                conn,
                principal.org_id,
                subject_id,
                input.purpose_id,
                input.channel,
            )
            .await?
            {
                if current.state == ConsentState::Granted.as_str() && !suppressed {
                    return Err(Error::Conflict(
                        "the consent is granted already; nothing to confirm".into(),
                    ));
                }
                if current.state == ConsentState::Pending.as_str()
                    && current
                        .last_requested_at
                        .is_some_and(|last| at - last < RESEND_AFTER)
                {
                    return Err(Error::Conflict(
                        "a confirmation link went out less than a minute ago; wait before \
                         sending another"
                            .into(),
                    ));
                }
            }
            let (token, hash) = crate::dispatch::new_token();
            let expires_at = at + Duration::days(i64::from(days));
            let applied = apply(
                conn,
                Change {
                    org_id: principal.org_id,
                    subject_id,
                    identity_id,
                    purpose_id: input.purpose_id,
                    channel: input.channel,
                    state: ConsentState::Pending,
                    action: ConsentAction::Requested,
                    evidence: &evidence,
                    actor: Actor::Key(principal),
                    token: Some((hash, expires_at)),
                },
            )
            .await?;
            let org = organization::Entity::find_by_id(principal.org_id)
                .one(conn)
                .await?
                .ok_or(Error::NotFound {
                    what: "organization",
                })?;
            let link = format!("{base}/consent/confirm/{token}");
            let (subject, body) = confirmation_mail(&org.name, &purpose.name, &link, expires_at);
            crate::core::outbox::queue_mail(
                conn,
                &self.cipher,
                principal.org_id,
                &value,
                &subject,
                &body,
            )
            .await?;
            let view = self.after_change(conn, &applied).await?;
            let entry = Entry::success("requestConsent", "Consent", view.id);
            self.commit_audited(tx, principal, entry).await?;
            Ok(view)
        })
        .await
    }

    /// Confirms a double opt-in through the token of its link: by the subject on
    /// the link's page (`principal` none), or by an integrator's own page
    /// (`consent:update`, the token's consent must be of the key's organization).
    /// A second confirmation through the same link changes nothing. NOT_FOUND for
    /// an unknown or ended link; CONFLICT when it has expired.
    pub async fn confirm_consent(
        &self,
        principal: Option<&Principal>,
        token: &str,
        evidence: Evidence,
    ) -> Result<(ConsentView, LinkOutcome)> {
        if let Some(p) = principal {
            self.require_consent(p, Action::Update).await?;
        }
        let not_found = || Error::NotFound {
            what: "confirmation link (it is unknown, or the consent was withdrawn since)",
        };
        if token.len() != 43
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(not_found());
        }
        let at = now();
        let mut v = Validator::default();
        let source = match principal {
            Some(_) => "double opt-in confirmed (integrator page)",
            None => "double opt-in confirmation link",
        };
        let evidence = check_evidence(
            &mut v,
            &evidence,
            &["input", "evidence"],
            API_NAMES,
            Some(source),
            at,
        );
        v.finish()?;
        let hash = sha256_hex(token.as_bytes());
        let tx = self.store.begin().await?;
        let conn = tx.conn();
        let row = consent::Entity::find()
            .filter(consent::Column::ConfirmTokenHash.eq(hash))
            .lock_exclusive()
            .one(conn)
            .await?
            .filter(|r| principal.is_none_or(|p| p.org_id == r.org_id))
            .ok_or_else(not_found)?;
        let org = organization::Entity::find_by_id(row.org_id)
            .one(conn)
            .await?
            .ok_or_else(not_found)?;
        let purpose = purpose_of(conn, row.org_id, row.purpose_id).await?;
        let outcome = LinkOutcome::Confirmed {
            purpose: purpose.name,
            organization: org.name,
        };
        let state: ConsentState = row.state.parse()?;
        if state == ConsentState::Granted {
            drop(tx);
            let view = views(self.store.conn(), vec![row]).await?.remove(0);
            return Ok((view, outcome));
        }
        if state != ConsentState::Pending {
            return Err(not_found());
        }
        if row.expires_at.is_none_or(|e| e <= at) {
            return Err(Error::Conflict(
                "the confirmation link has expired: sign up again for a new one".into(),
            ));
        }
        let identity = subject_identity::Entity::find_by_id(row.identity_id)
            .one(conn)
            .await?
            .ok_or_else(not_found)?;
        let link_holder;
        let actor = match principal {
            Some(p) => Actor::Key(p),
            None => Actor::SubjectLink,
        };
        let applied = apply(
            conn,
            Change {
                org_id: row.org_id,
                subject_id: row.subject_id,
                identity_id: row.identity_id,
                purpose_id: row.purpose_id,
                channel: row.channel.parse()?,
                state: ConsentState::Granted,
                action: ConsentAction::Confirmed,
                evidence: &evidence,
                actor,
                token: None,
            },
        )
        .await?;
        // The person came back by their own confirmed act: their address leaves the
        // suppression list that an earlier erasure put it on.
        crate::erasure::suppression::lift(
            conn,
            &self.cipher,
            row.org_id,
            IdentityType::Email,
            &identity.value,
        )
        .await?;
        let view = self.after_change(conn, &applied).await?;
        let entry = Entry::success("confirmConsent", "Consent", view.id);
        let principal = match principal {
            Some(p) => p,
            None => {
                link_holder = subject_link(row.org_id);
                &link_holder
            }
        };
        self.commit_audited(tx, principal, entry).await?;
        Ok((view, outcome))
    }

    /// Withdraws a consent (`consent:update`). One already withdrawn or denied stays
    /// as it is; NOT_FOUND when none was recorded.
    pub async fn withdraw_consent(
        &self,
        principal: &Principal,
        purpose_id: Uuid,
        channel: ConsentChannel,
        identity: ConsentIdentity,
        evidence: Evidence,
    ) -> Result<ConsentView> {
        self.require_consent(principal, Action::Update).await?;
        let at = now();
        let region =
            crate::requests::settings::phone_region(self.store.conn(), principal.org_id).await?;
        let mut v = Validator::default();
        let value = canonical(&mut v, &identity, &["input", "identity", "value"], region);
        let evidence = check_evidence(
            &mut v,
            &evidence,
            &["input", "evidence"],
            API_NAMES,
            None,
            at,
        );
        v.finish()?;
        let tx = self.store.begin().await?;
        let conn = tx.conn();
        let known = subject_identity::Entity::find()
            .filter(subject_identity::Column::OrgId.eq(principal.org_id))
            .filter(subject_identity::Column::Kind.eq(identity.kind.as_str()))
            .filter(subject_identity::Column::Value.eq(value))
            .one(conn)
            .await?
            .ok_or(Error::NotFound { what: "consent" })?;
        let row = find_locked(
            conn,
            principal.org_id,
            known.subject_id,
            purpose_id,
            channel,
        )
        .await?
        .ok_or(Error::NotFound { what: "consent" })?;
        self.withdraw_row(tx, row, Actor::Key(principal), &evidence, Some(known.id))
            .await
    }

    async fn withdraw_row(
        &self,
        tx: crate::core::store::Tx,
        row: consent::Model,
        actor: Actor<'_>,
        evidence: &CheckedEvidence,
        through: Option<Uuid>,
    ) -> Result<ConsentView> {
        let conn = tx.conn();
        let state: ConsentState = row.state.parse()?;
        if matches!(state, ConsentState::Withdrawn | ConsentState::Denied) {
            drop(tx);
            return Ok(views(self.store.conn(), vec![row]).await?.remove(0));
        }
        let applied = apply(
            conn,
            Change {
                org_id: row.org_id,
                subject_id: row.subject_id,
                identity_id: through.unwrap_or(row.identity_id),
                purpose_id: row.purpose_id,
                channel: row.channel.parse()?,
                state: ConsentState::Withdrawn,
                action: ConsentAction::Withdrawn,
                evidence,
                actor,
                token: None,
            },
        )
        .await?;
        let view = self.after_change(conn, &applied).await?;
        let entry = Entry::success("withdrawConsent", "Consent", view.id);
        let holder = subject_link(row.org_id);
        let principal = match actor {
            Actor::Key(p) => p,
            Actor::SubjectLink => &holder,
        };
        self.commit_audited(tx, principal, entry).await?;
        Ok(view)
    }

    /// What a confirmation link stands for, without changing anything (the page
    /// shows it before the person confirms). NOT_FOUND for an unknown or ended link.
    pub async fn confirm_preview(&self, token: &str) -> Result<LinkOutcome> {
        let not_found = || Error::NotFound {
            what: "confirmation link",
        };
        if token.len() != 43 {
            return Err(not_found());
        }
        let conn = self.store.conn();
        let row = consent::Entity::find()
            .filter(consent::Column::ConfirmTokenHash.eq(sha256_hex(token.as_bytes())))
            .one(conn)
            .await?
            .ok_or_else(not_found)?;
        let org = organization::Entity::find_by_id(row.org_id)
            .one(conn)
            .await?
            .ok_or_else(not_found)?;
        let purpose = purpose_of(conn, row.org_id, row.purpose_id).await?;
        Ok(LinkOutcome::Confirmed {
            purpose: purpose.name,
            organization: org.name,
        })
    }

    /// What the subject's unsubscribe link stands for, without changing anything
    /// (the page shows it before the subject confirms). NOT_FOUND for a token that
    /// is not genuine.
    pub async fn unsubscribe_preview(&self, token: &str) -> Result<LinkOutcome> {
        let row = self
            .unsubscribe_row(self.store.conn(), token, false)
            .await?;
        self.withdrawn_outcome(self.store.conn(), &row).await
    }

    /// The subject withdraws through their unsubscribe link (also RFC 8058
    /// one-click). Withdrawing twice changes nothing.
    pub async fn unsubscribe(&self, token: &str, evidence: Evidence) -> Result<LinkOutcome> {
        let at = now();
        let mut v = Validator::default();
        let evidence = check_evidence(
            &mut v,
            &evidence,
            &[],
            API_NAMES,
            Some("unsubscribe link"),
            at,
        );
        v.finish()?;
        let tx = self.store.begin().await?;
        let row = self.unsubscribe_row(tx.conn(), token, true).await?;
        let outcome = self.withdrawn_outcome(tx.conn(), &row).await?;
        self.withdraw_row(tx, row, Actor::SubjectLink, &evidence, None)
            .await?;
        Ok(outcome)
    }

    async fn unsubscribe_row<C: Conn>(
        &self,
        conn: &C,
        token: &str,
        lock: bool,
    ) -> Result<consent::Model> {
        let not_found = || Error::NotFound {
            what: "unsubscribe link",
        };
        let id = open_unsubscribe_token(&self.cipher, token).ok_or_else(not_found)?;
        let select = consent::Entity::find_by_id(id);
        let select = if lock {
            select.lock_exclusive()
        } else {
            select
        };
        select.one(conn).await?.ok_or_else(not_found)
    }

    async fn withdrawn_outcome<C: Conn>(
        &self,
        conn: &C,
        row: &consent::Model,
    ) -> Result<LinkOutcome> {
        let org = organization::Entity::find_by_id(row.org_id)
            .one(conn)
            .await?
            .ok_or(Error::NotFound {
                what: "unsubscribe link",
            })?;
        let purpose = purpose_of(conn, row.org_id, row.purpose_id).await?;
        Ok(LinkOutcome::Withdrawn {
            purpose: purpose.name,
            organization: org.name,
        })
    }

    /// The organization's consents, oldest first (`consent:read`).
    pub async fn consents(
        &self,
        principal: &Principal,
        filter: ConsentFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<ConsentView>> {
        self.require_consent(principal, Action::Read).await?;
        let conn = self.store.conn();
        let mut select =
            consent::Entity::find().filter(consent::Column::OrgId.eq(principal.org_id));
        if let Some(identity) = &filter.identity {
            let region = crate::requests::settings::phone_region(conn, principal.org_id).await?;
            let mut v = Validator::default();
            let value = canonical(&mut v, identity, &["filter", "identity", "value"], region);
            v.finish()?;
            let subject = subject_identity::Entity::find()
                .filter(subject_identity::Column::OrgId.eq(principal.org_id))
                .filter(subject_identity::Column::Kind.eq(identity.kind.as_str()))
                .filter(subject_identity::Column::Value.eq(value))
                .one(conn)
                .await?
                .map(|i| i.subject_id)
                .unwrap_or_else(Uuid::nil);
            select = select.filter(consent::Column::SubjectId.eq(subject));
        }
        if let Some(p) = filter.purpose_id {
            select = select.filter(consent::Column::PurposeId.eq(p));
        }
        if let Some(c) = filter.channel {
            select = select.filter(consent::Column::Channel.eq(c.as_str()));
        }
        if let Some(s) = filter.state {
            select = select.filter(consent::Column::State.eq(s.as_str()));
        }
        let page = paginate(conn, select, consent::Column::Id, page).await?;
        let has_next_page = page.has_next_page;
        let has_previous_page = page.has_previous_page;
        let total_count = page.total_count;
        Ok(Page {
            items: views(conn, page.items).await?,
            has_next_page,
            has_previous_page,
            total_count,
        })
    }

    /// One consent (`consent:read`).
    pub async fn consent(&self, principal: &Principal, id: Uuid) -> Result<ConsentView> {
        self.require_consent(principal, Action::Read).await?;
        let conn = self.store.conn();
        let row = consent::Entity::find_by_id(id)
            .filter(consent::Column::OrgId.eq(principal.org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound { what: "consent" })?;
        Ok(views(conn, vec![row]).await?.remove(0))
    }

    /// A consent's history, oldest first (`consent:read`).
    pub async fn consent_events(
        &self,
        principal: &Principal,
        consent_id: Uuid,
    ) -> Result<Vec<ConsentEventView>> {
        self.require_consent(principal, Action::Read).await?;
        consent_event::Entity::find()
            .filter(consent_event::Column::OrgId.eq(principal.org_id))
            .filter(consent_event::Column::ConsentId.eq(consent_id))
            .order_by_asc(consent_event::Column::Id)
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(ConsentEventView::try_from)
            .collect()
    }
}

/// The principal the subject's own links act under.
fn subject_link(org_id: Uuid) -> Principal {
    Principal {
        key_id: SUBJECT_CONSENT_LINK_ID,
        org_id,
        key_name: "subject (consent link)".to_owned(),
        kind: crate::PrincipalKind::System,
    }
}

fn suppressed_conflict() -> Error {
    Error::Conflict(
        "the identity belongs to a person erased on request (suppression list): only the \
         person's own double opt-in (requestConsent) can bring them back"
            .into(),
    )
}

/// VALIDATION unless an identity of `kind` can be reached on `channel`.
pub(crate) fn check_channel(
    v: &mut Validator,
    channel: ConsentChannel,
    kind: IdentityType,
    path: &[&str],
) {
    let ok = match channel {
        // Keeping data is consented to by a person, however named.
        ConsentChannel::Storage => true,
        other => other.identity_type() == kind,
    };
    v.check(
        ok,
        path,
        format!(
            "{} consent is given for an identity of kind {}",
            channel.as_str(),
            channel.identity_type().as_str()
        ),
    );
}

/// The confirmation mail of a double opt-in, in German and English.
fn confirmation_mail(
    organization: &str,
    purpose: &str,
    link: &str,
    expires_at: DateTime<Utc>,
) -> (String, String) {
    let until = expires_at.format("%Y-%m-%d %H:%M UTC");
    let subject = format!("Bitte bestätigen / Please confirm: {organization}");
    let body = format!(
        "Guten Tag,\n\n\
         bitte bestätigen Sie Ihre Einwilligung gegenüber {organization} für den Zweck \
         „{purpose}“ über diesen Link (gültig bis {until}):\n\n{link}\n\n\
         Wenn Sie das nicht angefordert haben, ignorieren Sie diese Nachricht; ohne \
         Bestätigung gilt keine Einwilligung. Sie können eine Einwilligung jederzeit \
         widerrufen.\n\n\
         ---\n\n\
         Hello,\n\n\
         please confirm your consent to {organization} for the purpose \"{purpose}\" \
         through this link (valid until {until}):\n\n{link}\n\n\
         If you did not ask for this, ignore this message; without confirmation no \
         consent is recorded. You can withdraw a consent at any time.\n"
    );
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::crypto::Cipher;

    #[test]
    fn unsubscribe_tokens_open_only_when_genuine() {
        let cipher = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        let id = Uuid::now_v7();
        let token = unsubscribe_token(&cipher, id);
        assert_eq!(token.len(), 64);
        assert_eq!(open_unsubscribe_token(&cipher, &token), Some(id));
        assert_eq!(
            open_unsubscribe_token(&cipher, &token.to_ascii_uppercase()),
            Some(id)
        );
        let other = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        assert_eq!(open_unsubscribe_token(&other, &token), None);
        let mut altered = token.clone().into_bytes();
        altered[5] = if altered[5] == b'0' { b'1' } else { b'0' };
        assert_eq!(
            open_unsubscribe_token(&cipher, &String::from_utf8(altered).unwrap()),
            None
        );
        assert_eq!(open_unsubscribe_token(&cipher, "x"), None);
        assert_eq!(open_unsubscribe_token(&cipher, &"é".repeat(32)), None);
    }

    #[test]
    fn evidence_is_checked_field_by_field() {
        let at = crate::now();
        let mut v = Validator::default();
        let e = check_evidence(
            &mut v,
            &Evidence {
                source: Some("  Newsletter form  ".into()),
                text_version: Some("v3".into()),
                occurred_at: None,
                ip: Some(" 2001:db8::1 ".into()),
                user_agent: Some("Mozilla/5.0".into()),
            },
            &["input", "evidence"],
            API_NAMES,
            None,
            at,
        );
        assert!(v.finish().is_ok());
        assert_eq!(e.source, "Newsletter form");
        assert_eq!(e.ip.as_deref(), Some("2001:db8::1"));
        assert_eq!(e.occurred_at, at);

        let mut v = Validator::default();
        check_evidence(
            &mut v,
            &Evidence {
                source: None,
                occurred_at: Some(at + Duration::days(1)),
                ip: Some("999.1.1.1".into()),
                user_agent: Some("x\u{0}".into()),
                ..Default::default()
            },
            &["input", "evidence"],
            API_NAMES,
            None,
            at,
        );
        let Err(Error::Validation(errors)) = v.finish() else {
            panic!("must fail")
        };
        let paths: Vec<String> = errors.iter().map(|e| e.path.join(".")).collect();
        assert_eq!(
            paths,
            [
                "input.evidence.source",
                "input.evidence.occurredAt",
                "input.evidence.ip",
                "input.evidence.userAgent"
            ]
        );
    }
}
