//! Campaign checks: may a campaign for a purpose on a channel address these people?
//!
//! An identity is allowed only when its person's consent is GRANTED and nothing
//! stronger stands against it. The reasons, strongest first:
//! - INVALID_IDENTITY: the value is not an identity of the channel's kind;
//! - SUPPRESSED: it belongs to a person erased on request (suppression list);
//! - OBJECTED: the person objected (Art. 21); an objection to direct marketing is
//!   absolute (Art. 21(3)), so it excludes every campaign;
//! - RESTRICTED: the person asked for restriction (Art. 18), or for an erasure not
//!   yet carried out, and the request was not rejected or cancelled: their data is
//!   not used for campaigns;
//! - then the consent itself: NO_CONSENT, DENIED, PENDING (not yet confirmed),
//!   EXPIRED (the confirmation link ended unconfirmed), WITHDRAWN.
//!
//! The work is set-based: the organization's requests of those kinds in one query,
//! then per chunk of identities one query each for identities, consents and the
//! suppression list, whatever the number of identities.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use futures_util::{StreamExt, TryStreamExt};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use entity::{consent, subject_identity, suppression_entry};

use super::{ConsentChannel, ConsentState, ConsentView, purpose_of};
use crate::access::principal::Principal;
use crate::error::{Error, Result, Validator};
use crate::register::fields::IdentityType;
use crate::{Action, Workflow, now};

stored_enum! {
    /// Why an identity is left out of a campaign.
    ConsentReason {
        /// The value is not an identity of the channel's kind.
        InvalidIdentity => "INVALID_IDENTITY",
        /// The person was erased on request (suppression list).
        Suppressed => "SUPPRESSED",
        /// The person objected to processing (Art. 21).
        Objected => "OBJECTED",
        /// The person asked for restriction or erasure (Art. 18, 17).
        Restricted => "RESTRICTED",
        /// No consent is recorded.
        NoConsent => "NO_CONSENT",
        /// The person refused.
        Denied => "DENIED",
        /// Asked by double opt-in, not yet confirmed.
        Pending => "PENDING",
        /// Asked by double opt-in, and the link ended unconfirmed.
        Expired => "EXPIRED",
        /// The person withdrew their consent.
        Withdrawn => "WITHDRAWN",
    }
}

/// Identities one bulk check may ask about.
pub const MAX_BULK: usize = 100_000;

/// Identities looked up per statement. Larger lists make PostgreSQL's planner scan
/// the organization's identities instead of probing the index (measured: 5,000
/// values 146 ms by a parallel scan, 1,000 values 22 ms by the index, 1M identities).
const CHUNK: usize = 1000;

/// The answer of a bulk check.
#[derive(Debug, Clone, Default)]
pub struct BulkCheck {
    /// The identities a campaign may address, as given, in the order given.
    pub allowed: Vec<String>,
    /// Their consents, in the same order (for unsubscribe links).
    pub allowed_consents: Vec<Uuid>,
    /// The others, by reason (reasons in the order of [`ConsentReason::ALL`], only
    /// those that occur), each as given, in the order given.
    pub excluded: Vec<(ConsentReason, Vec<String>)>,
}

/// The answer for one identity.
#[derive(Debug, Clone)]
pub struct SingleCheck {
    /// Whether a campaign may address it.
    pub allowed: bool,
    /// Why not.
    pub reason: Option<ConsentReason>,
    /// The person's consent to the purpose on the channel, if one is recorded.
    pub consent: Option<ConsentView>,
}

/// What one identity came to.
type Verdict = (Option<ConsentReason>, Option<Uuid>);

impl Workflow {
    /// Checks many identities for a campaign (`consent:read`): at most
    /// [`MAX_BULK`]; values that are not identities of the kind are left out as
    /// INVALID_IDENTITY rather than failing the whole check.
    pub async fn consent_check_bulk(
        &self,
        principal: &Principal,
        purpose_id: Uuid,
        channel: ConsentChannel,
        kind: Option<IdentityType>,
        values: Vec<String>,
    ) -> Result<BulkCheck> {
        let verdicts = self
            .verdicts(principal, purpose_id, channel, kind, &values)
            .await?;
        let mut out = BulkCheck::default();
        let mut excluded: HashMap<ConsentReason, Vec<String>> = HashMap::new();
        for (value, (reason, consent)) in values.into_iter().zip(verdicts) {
            match (reason, consent) {
                (None, Some(consent)) => {
                    out.allowed.push(value);
                    out.allowed_consents.push(consent);
                }
                (reason, _) => excluded
                    .entry(reason.unwrap_or(ConsentReason::NoConsent))
                    .or_default()
                    .push(value),
            }
        }
        out.excluded = ConsentReason::ALL
            .iter()
            .filter_map(|r| excluded.remove(r).map(|v| (*r, v)))
            .collect();
        Ok(out)
    }

    /// Checks one identity (`consent:read`), with the consent behind the answer.
    pub async fn consent_check(
        &self,
        principal: &Principal,
        purpose_id: Uuid,
        channel: ConsentChannel,
        kind: IdentityType,
        value: String,
    ) -> Result<SingleCheck> {
        let (reason, consent) = self
            .verdicts(principal, purpose_id, channel, Some(kind), &[value])
            .await?
            .remove(0);
        let consent = match consent {
            Some(id) => Some(self.consent(principal, id).await?),
            None => None,
        };
        Ok(SingleCheck {
            allowed: reason.is_none() && consent.is_some(),
            reason: if consent.is_none() && reason.is_none() {
                Some(ConsentReason::NoConsent)
            } else {
                reason
            },
            consent,
        })
    }

    /// The subject's unsubscribe links of these consents. CONFLICT when the server
    /// does not know the address subjects reach it at.
    pub fn unsubscribe_urls(&self, consents: &[Uuid], origin: Option<&str>) -> Result<Vec<String>> {
        let base = crate::dispatch::link_base(&self.dispatch_settings, origin)?;
        Ok(consents
            .iter()
            .map(|id| self.unsubscribe_url(&base, *id))
            .collect())
    }

    /// Per value: the reason it is left out (none: allowed) and its consent.
    async fn verdicts(
        &self,
        principal: &Principal,
        purpose_id: Uuid,
        channel: ConsentChannel,
        kind: Option<IdentityType>,
        values: &[String],
    ) -> Result<Vec<Verdict>> {
        self.require_consent(principal, Action::Read).await?;
        let kind = kind.unwrap_or(channel.identity_type());
        let mut v = Validator::default();
        v.check(
            values.len() <= MAX_BULK,
            &["identities"],
            format!("at most {MAX_BULK} identities per check"),
        );
        super::check_channel(&mut v, channel, kind, &["identityType"]);
        v.finish()?;
        let conn = self.store.conn();
        let org_id = principal.org_id;
        purpose_of(conn, org_id, purpose_id).await?;
        let region = crate::requests::settings::phone_region(conn, org_id).await?;
        let at = now();
        let started = std::time::Instant::now();

        // Each value's canonical spelling (None: not an identity of the kind).
        let canonical: Vec<Option<String>> = values
            .iter()
            .map(|value| {
                let mut v = Validator::default();
                let c = crate::requests::intake_normalize(&mut v, kind, value, &[], region);
                v.finish().ok().map(|()| c)
            })
            .collect();
        let distinct: Vec<&str> = canonical
            .iter()
            .flatten()
            .map(String::as_str)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();

        let canonical_at = started.elapsed();
        // People with a restriction or objection standing (open, or carried out
        // and not lifted), or an erasure open, and the identities found for them.
        let standing = crate::execution::restriction::standing(conn, org_id, kind).await?;

        // Per chunk, one statement for the identities with their consent (a left
        // join: one row per identity found) and one for the suppression list; two
        // chunks in flight at once.
        let list = self.suppression_list(org_id, kind).await?;
        let owned: Vec<Vec<String>> = distinct
            .chunks(CHUNK)
            .map(|c| c.iter().map(|v| (*v).to_owned()).collect())
            .collect();
        let chunks = futures_util::stream::iter(
            owned
                .into_iter()
                .map(|chunk| self.look_up(org_id, kind, purpose_id, channel, &list, chunk)),
        )
        .buffer_unordered(2)
        .try_collect::<Vec<_>>()
        .await?;
        let looked_up_at = started.elapsed();
        tracing::debug!(
            values = values.len(),
            canonical_ms = canonical_at.as_millis() as u64,
            looked_up_ms = looked_up_at.as_millis() as u64,
            "consent check phases"
        );
        let mut subject_of: HashMap<&str, Uuid> = HashMap::with_capacity(distinct.len());
        let mut consent_of: HashMap<Uuid, (Uuid, ConsentState, Option<DateTime<Utc>>)> =
            HashMap::new();
        let mut suppressed: HashSet<&str> = HashSet::new();
        for found in &chunks {
            for row in &found.rows {
                subject_of.insert(row.value.as_str(), row.subject);
                if let Some(consent) = row.consent {
                    consent_of.insert(row.subject, consent);
                }
            }
            suppressed.extend(found.suppressed.iter().map(String::as_str));
        }

        canonical
            .iter()
            .map(|c| {
                let Some(c) = c else {
                    return Ok((Some(ConsentReason::InvalidIdentity), None));
                };
                if suppressed.contains(c.as_str()) {
                    return Ok((Some(ConsentReason::Suppressed), None));
                }
                let subject = subject_of.get(c.as_str());
                let id = subject
                    .and_then(|s| consent_of.get(s))
                    .map(|(id, _, _)| *id);
                if standing.objected_values.contains(c.as_str())
                    || subject.is_some_and(|s| standing.objected.contains(s))
                {
                    return Ok((Some(ConsentReason::Objected), id));
                }
                if standing.restricted_values.contains(c.as_str())
                    || subject.is_some_and(|s| standing.restricted.contains(s))
                {
                    return Ok((Some(ConsentReason::Restricted), id));
                }
                let Some(subject) = subject else {
                    return Ok((Some(ConsentReason::NoConsent), None));
                };
                let consent = consent_of.get(subject);
                let Some((id, state, expires)) = consent else {
                    return Ok((Some(ConsentReason::NoConsent), None));
                };
                let reason = match state {
                    ConsentState::Granted => None,
                    ConsentState::Denied => Some(ConsentReason::Denied),
                    ConsentState::Withdrawn => Some(ConsentReason::Withdrawn),
                    ConsentState::Pending if expires.is_some_and(|e| e > at) => {
                        Some(ConsentReason::Pending)
                    }
                    ConsentState::Pending => Some(ConsentReason::Expired),
                };
                Ok::<_, Error>((reason, Some(*id)))
            })
            .collect()
    }

    /// The organization's suppression list of one identity kind: empty (nothing to
    /// compute), small enough to hold (one read instead of one per chunk), or left in
    /// the database.
    async fn suppression_list(&self, org_id: Uuid, kind: IdentityType) -> Result<Suppression> {
        use sea_orm::PaginatorTrait;
        let select = suppression_entry::Entity::find()
            .filter(suppression_entry::Column::OrgId.eq(org_id))
            .filter(suppression_entry::Column::Kind.eq(kind.as_str()));
        let count = select.clone().count(self.store.conn()).await?;
        if count == 0 {
            return Ok(Suppression::Empty);
        }
        if count > HELD_SUPPRESSION {
            return Ok(Suppression::InDatabase);
        }
        let prints: Vec<String> = select
            .select_only()
            .column(suppression_entry::Column::Fingerprint)
            .into_tuple()
            .all(self.store.conn())
            .await?;
        Ok(Suppression::Held(prints.into_iter().collect()))
    }

    /// One chunk's identities (with their subject and consent) and which of them are
    /// on the suppression list.
    async fn look_up(
        &self,
        org_id: Uuid,
        kind: IdentityType,
        purpose_id: Uuid,
        channel: ConsentChannel,
        list: &Suppression,
        chunk: Vec<String>,
    ) -> Result<Found> {
        use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
        use subject_identity::Column as I;
        let conn = self.store.conn();
        let statement = Query::select()
            .column((subject_identity::Entity, I::Value))
            .column((subject_identity::Entity, I::SubjectId))
            .column((consent::Entity, consent::Column::Id))
            .column((consent::Entity, consent::Column::State))
            .column((consent::Entity, consent::Column::ExpiresAt))
            .from(subject_identity::Entity)
            .left_join(
                consent::Entity,
                Condition::all()
                    .add(
                        Expr::col((consent::Entity, consent::Column::SubjectId))
                            .equals((subject_identity::Entity, I::SubjectId)),
                    )
                    .add(Expr::col((consent::Entity, consent::Column::PurposeId)).eq(purpose_id))
                    .add(
                        Expr::col((consent::Entity, consent::Column::Channel)).eq(channel.as_str()),
                    ),
            )
            .and_where(Expr::col((subject_identity::Entity, I::OrgId)).eq(org_id))
            .and_where(Expr::col((subject_identity::Entity, I::Kind)).eq(kind.as_str()))
            .and_where(
                Expr::col((subject_identity::Entity, I::Value))
                    .is_in(chunk.iter().map(String::as_str)),
            )
            .to_owned();
        let backend = conn.get_database_backend();
        let mut rows = Vec::with_capacity(chunk.len());
        for row in conn.query_all_raw(backend.build(&statement)).await? {
            let consent: Option<Uuid> = row.try_get_by_index(2)?;
            let state: Option<String> = row.try_get_by_index(3)?;
            rows.push(Row {
                value: row.try_get_by_index(0)?,
                subject: row.try_get_by_index(1)?,
                consent: match (consent, state) {
                    (Some(id), Some(state)) => Some((id, state.parse()?, row.try_get_by_index(4)?)),
                    _ => None,
                },
            });
        }
        let print =
            |c: &str| crate::erasure::suppression::fingerprint(&self.cipher, org_id, kind, c);
        let suppressed = match list {
            Suppression::Empty => Vec::new(),
            Suppression::Held(prints) => chunk
                .iter()
                .filter(|c| prints.contains(&print(c)))
                .cloned()
                .collect(),
            Suppression::InDatabase => {
                let prints: HashMap<String, &str> =
                    chunk.iter().map(|c| (print(c), c.as_str())).collect();
                let hits: Vec<String> = suppression_entry::Entity::find()
                    .select_only()
                    .column(suppression_entry::Column::Fingerprint)
                    .filter(suppression_entry::Column::OrgId.eq(org_id))
                    .filter(suppression_entry::Column::Kind.eq(kind.as_str()))
                    .filter(suppression_entry::Column::Fingerprint.is_in(prints.keys().cloned()))
                    .into_tuple()
                    .all(conn)
                    .await?;
                hits.iter()
                    .filter_map(|h| prints.get(h).map(|c| (*c).to_owned()))
                    .collect()
            }
        };
        Ok(Found { rows, suppressed })
    }
}

/// Suppression lists up to this many entries of one kind are read whole for a check.
const HELD_SUPPRESSION: u64 = 200_000;

/// Where a check looks for suppressed identities.
enum Suppression {
    /// The list has no entry of the kind: nothing to fingerprint.
    Empty,
    /// The list's fingerprints, read once.
    Held(HashSet<String>),
    /// Too long to hold: looked up per chunk.
    InDatabase,
}

/// An identity found, with its subject and consent (id, state, link end).
struct Row {
    value: String,
    subject: Uuid,
    consent: Option<(Uuid, ConsentState, Option<DateTime<Utc>>)>,
}

/// What one chunk found.
struct Found {
    rows: Vec<Row>,
    suppressed: Vec<String>,
}
