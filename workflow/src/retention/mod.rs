//! The retention sweep (Art. 5(1)(e), Art. 17(1)(a)): finds the records whose
//! retention period ended and opens an erasure request for each, or only reports them
//! in a dry run.
//!
//! A retention policy is swept when it names trigger fields: mapped timestamp fields
//! of SQL sources that start its period (the customer's last order, the account's
//! creation). For every record of a source that identifies a subject (a customer
//! row), the sweep reads the latest value of the policy's trigger fields reachable
//! from it through the declared references, and adds the policy's duration, counted
//! from the end of that calendar year for AFTER_END_OF_CALENDAR_YEAR.
//!
//! - A record is past its time only when every swept policy that covers it has
//!   ended: data still needed for one purpose stays. Records with no date at all
//!   are never taken as expired.
//! - A run that is not dry opens one ERASURE request per expired record (channel
//!   RETENTION, identity confirmed from the record itself) unless one was opened
//!   before for the same record. The request takes the normal path: collection,
//!   legal review, and the erasure executor, which keeps every field under a legal
//!   hold (KEEP_UNDER_HOLD with a retention duty, e.g. invoices under § 147 AO)
//!   restricted instead of erasing it. The sweep changes a source only to erase
//!   what such a hold kept, once it has ended.
//! - A policy whose action at expiry is REVIEW gets REVIEW_DUE findings instead:
//!   a person decides.
//! - Records an erasure already anonymized or erased are left out.
//! - Values an erasure kept under a legal hold whose duty has ended are found
//!   (HOLD_ENDED); a run that is not dry erases them as the holding policy's action
//!   at expiry says, where a worker can write the source (see `holds`).
//! - A run and its findings are kept (identities sealed) and readable through
//!   GraphQL; each run is audited.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{
    data_field, data_source, erasure_outcome, organization, retention_finding, retention_policy,
    retention_run, retention_trigger_field,
};

use crate::access::audit::{self, Actor, Entry};
use crate::access::principal::Principal;
use crate::connectors::{CollectJob, ConnectorKind, Holder, connector};
use crate::core::paging::{Page, PageRequest, paginate};
use crate::erasure::ErasureResult;
use crate::error::{Error, Result};
use crate::register::fields::IdentityType;
use crate::register::retention::{ExpiryAction, RetentionTrigger};
use crate::requests::{Channel, NewIdentity, NewRequest, RequestKind, VerificationMethod};
use crate::{Workflow, new_id, now};

mod holds;
mod triggers;

stored_enum! {
    /// What the retention sweep found for a record, or why it could not sweep.
    RetentionOutcome {
        /// Dry run: past every period that covers it; a real run would open an
        /// erasure request (or a review).
        Expired => "EXPIRED",
        /// An erasure request was opened for it (see `request`).
        ErasureRequested => "ERASURE_REQUESTED",
        /// An erasure request was opened for it by an earlier run (see `request`).
        AlreadyRequested => "ALREADY_REQUESTED",
        /// Its policy says a person decides at expiry (action REVIEW).
        ReviewDue => "REVIEW_DUE",
        /// A value an erasure kept under a legal hold whose duty has ended, not yet
        /// erased: a dry run, a source changed by hand, a source that refused, or a
        /// policy whose action at expiry is REVIEW (see `detail` and `request`).
        HoldEnded => "HOLD_ENDED",
        /// A value kept under a legal hold whose duty has ended was erased or
        /// anonymized by this run, as its policy says (see `detail` and `request`).
        HoldReleased => "HOLD_RELEASED",
        /// Past its period, but an identity in it also identifies a record still
        /// within its period (or without a date): an erasure request by it would reach
        /// that record too, so a person decides.
        SharedIdentity => "SHARED_IDENTITY",
        /// Past its period, but the record holds no identity to open a request with.
        NoIdentity => "NO_IDENTITY",
        /// Past its period, but its processing is restricted at the subject's request
        /// (Art. 18(1)(c): the subject may need it for legal claims): kept until the
        /// restriction is lifted; no erasure request.
        Restricted => "RESTRICTED",
        /// A trigger value is not a date the sweep can read; the record is left
        /// alone.
        UnreadableDate => "UNREADABLE_DATE",
        /// The policy names no trigger field: the sweep cannot tell when its period
        /// started.
        NoTrigger => "NO_TRIGGER",
        /// The source could not be swept, or the request could not be opened (see
        /// `detail`).
        Failed => "FAILED",
    }
}

/// One run of the sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionRunView {
    /// Its id.
    pub id: Uuid,
    /// Only reported; nothing requested.
    pub dry_run: bool,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished (`None`: still running, or interrupted).
    pub finished_at: Option<DateTime<Utc>>,
    /// Who started it: an API key, the command line or the scheduler.
    pub started_by: String,
    /// Records examined.
    pub examined: i32,
    /// Records past every period that covers them.
    pub expired: i32,
    /// Erasure requests opened.
    pub requested: i32,
    /// Findings that need attention (FAILED, UNREADABLE_DATE, NO_IDENTITY,
    /// SHARED_IDENTITY, HOLD_ENDED).
    pub problems: i32,
}

impl From<retention_run::Model> for RetentionRunView {
    fn from(m: retention_run::Model) -> Self {
        Self {
            id: m.id,
            dry_run: m.dry_run,
            started_at: m.started_at,
            finished_at: m.finished_at,
            started_by: m.started_by,
            examined: m.examined,
            expired: m.expired,
            requested: m.requested,
            problems: m.problems,
        }
    }
}

/// One finding of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionFindingView {
    /// Its id.
    pub id: Uuid,
    /// The run.
    pub run_id: Uuid,
    /// The policy whose period ended last for the record (or that was not swept).
    pub policy_id: Option<Uuid>,
    /// The source of the record.
    pub source_id: Option<Uuid>,
    /// The record (`customers(id=4)`).
    pub record_key: Option<String>,
    /// The identities found in the record.
    pub identities: Vec<FoundIdentity>,
    /// The latest trigger date of the record.
    pub last_event_at: Option<DateTime<Utc>>,
    /// The day the last period covering it ended.
    pub expired_on: Option<NaiveDate>,
    /// What the sweep found or did.
    pub outcome: RetentionOutcome,
    /// The erasure request opened or found.
    pub request_id: Option<Uuid>,
    /// Why, in words.
    pub detail: Option<String>,
}

/// An identity read from a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundIdentity {
    /// What it is.
    pub kind: IdentityType,
    /// The value as stored in the source.
    pub value: String,
}

/// A finding before it is stored.
#[derive(Debug, Clone)]
struct Finding {
    policy_id: Option<Uuid>,
    source_id: Option<Uuid>,
    record_key: Option<String>,
    identities: Vec<FoundIdentity>,
    last_event_at: Option<DateTime<Utc>>,
    expired_on: Option<NaiveDate>,
    outcome: RetentionOutcome,
    request_id: Option<Uuid>,
    detail: Option<String>,
}

impl Finding {
    fn problem(
        policy_id: Option<Uuid>,
        source_id: Option<Uuid>,
        outcome: RetentionOutcome,
        detail: String,
    ) -> Self {
        Self {
            policy_id,
            source_id,
            record_key: None,
            identities: Vec::new(),
            last_event_at: None,
            expired_on: None,
            outcome,
            request_id: None,
            detail: Some(detail),
        }
    }
}

/// Reads a trigger value as a moment: RFC 3339, `YYYY-MM-DD hh:mm:ss[.f][±zz[:zz]]`
/// (PostgreSQL's text form), the same without a zone (UTC), or a plain date.
pub(crate) fn parse_moment(text: &str) -> Option<DateTime<Utc>> {
    let s = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(s) {
        return Some(d.to_utc());
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(d) = DateTime::parse_from_str(s, format) {
            return Some(d.to_utc());
        }
    }
    for format in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, format) {
            return Some(d.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
}

/// A policy as the sweep applies it.
struct Swept<'a> {
    policy: &'a retention_policy::Model,
    trigger: RetentionTrigger,
    action: ExpiryAction,
}

/// What one policy says about one record.
#[derive(Debug, Clone)]
enum Verdict {
    /// The period ended on `until` (or is still running, when `until >= today`).
    Dated {
        policy_id: Uuid,
        last: DateTime<Utc>,
        until: NaiveDate,
        review: bool,
    },
    /// No trigger value: the policy cannot say, so the record stays.
    Undated,
}

/// Everything the policies said about one record.
struct Examined {
    identities: Vec<FoundIdentity>,
    verdicts: Vec<Verdict>,
}

/// The idempotency key of the erasure request for a record: one per record, however
/// many runs find it.
fn request_key(source_id: Uuid, record_key: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = hex::encode(Sha256::digest(record_key.as_bytes()));
    format!("retention:{source_id}:{}", &digest[..32])
}

impl Workflow {
    /// Runs the retention sweep in every organization, or in the one named `only`
    /// (the scheduler and `auskunft retention sweep`).
    pub async fn sweep_retention_everywhere(
        &self,
        actor: &Actor,
        dry_run: bool,
        only: Option<&str>,
    ) -> Result<Vec<(Uuid, String, RetentionRunView)>> {
        let mut orgs = organization::Entity::find()
            .order_by_asc(organization::Column::Name)
            .all(self.store.conn())
            .await?;
        if let Some(name) = only {
            orgs.retain(|o| o.name == name);
            if orgs.is_empty() {
                return Err(Error::invalid(
                    &["org"],
                    format!("no organization named `{name}`"),
                ));
            }
        }
        let mut out = Vec::with_capacity(orgs.len());
        for org in orgs {
            let run = self.sweep_retention(org.id, actor, dry_run).await?;
            out.push((org.id, org.name, run));
        }
        Ok(out)
    }

    /// Runs the retention sweep in one organization; `actor` is who started it.
    /// Runs of one process take turns (a scheduled run and one asked for through
    /// GraphQL); runs of several processes are kept apart by the requests' keys.
    #[tracing::instrument(skip(self, actor), err(level = "debug"))]
    pub async fn sweep_retention(
        &self,
        org_id: Uuid,
        actor: &Actor,
        dry_run: bool,
    ) -> Result<RetentionRunView> {
        static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
        let _turn = ONE_AT_A_TIME.lock().await;
        let started_at = now();
        let run = retention_run::ActiveModel {
            id: Set(new_id()),
            org_id: Set(org_id),
            dry_run: Set(dry_run),
            started_at: Set(started_at),
            finished_at: Set(None),
            started_by: Set(actor.name.clone()),
            examined: Set(0),
            expired: Set(0),
            requested: Set(0),
            problems: Set(0),
        }
        .insert(self.store.conn())
        .await?;
        let today = started_at.date_naive();
        let (examined, mut findings) = self.examine(org_id, today).await?;
        self.mark_requested(org_id, &mut findings).await?;
        if !dry_run {
            self.open_requests(org_id, run.id, &mut findings).await;
            self.release_holds(org_id, run.id, actor, today, &mut findings)
                .await;
        }
        self.finish_run(run, actor, examined, findings).await
    }

    /// Reads every swept policy's records and decides which are past their time.
    async fn examine(&self, org_id: Uuid, today: NaiveDate) -> Result<(i32, Vec<Finding>)> {
        let conn = self.store.conn();
        let policies = retention_policy::Entity::find()
            .filter(retention_policy::Column::OrgId.eq(org_id))
            .order_by_asc(retention_policy::Column::Id)
            .all(conn)
            .await?;
        let links = retention_trigger_field::Entity::find()
            .filter(retention_trigger_field::Column::OrgId.eq(org_id))
            .all(conn)
            .await?;
        let field_ids: Vec<Uuid> = links.iter().map(|l| l.field_id).collect();
        let fields: HashMap<Uuid, data_field::Model> = data_field::Entity::find()
            .filter(data_field::Column::Id.is_in(field_ids))
            .all(conn)
            .await?
            .into_iter()
            .map(|f| (f.id, f))
            .collect();
        // Source → policy → its trigger fields there.
        let mut by_source: BTreeMap<Uuid, BTreeMap<Uuid, Vec<Uuid>>> = BTreeMap::new();
        for link in &links {
            if let Some(field) = fields.get(&link.field_id) {
                by_source
                    .entry(field.source_id)
                    .or_default()
                    .entry(link.policy_id)
                    .or_default()
                    .push(field.id);
            }
        }
        let mut findings = Vec::new();
        let mut swept: HashMap<Uuid, Swept<'_>> = HashMap::new();
        for policy in &policies {
            if !links.iter().any(|l| l.policy_id == policy.id) {
                findings.push(Finding::problem(
                    Some(policy.id),
                    None,
                    RetentionOutcome::NoTrigger,
                    format!(
                        "«{}» names no trigger field: map the timestamp that starts its period \
                         (setRetentionTriggerFields) to sweep it",
                        policy.name
                    ),
                ));
                continue;
            }
            swept.insert(
                policy.id,
                Swept {
                    policy,
                    trigger: policy.trigger.parse()?,
                    action: policy.action_at_expiry.parse()?,
                },
            );
        }
        let erased = self.erased_records(org_id).await?;
        let restricted =
            crate::execution::restriction::restricted_keys(self.store.conn(), org_id).await?;
        let mut records: BTreeMap<(Uuid, String), Examined> = BTreeMap::new();
        for (source_id, per_policy) in &by_source {
            let holders = match self.read_source(*source_id, per_policy).await {
                Ok(h) => h,
                Err(detail) => {
                    for policy_id in per_policy.keys() {
                        findings.push(Finding::problem(
                            Some(*policy_id),
                            Some(*source_id),
                            RetentionOutcome::Failed,
                            detail.clone(),
                        ));
                    }
                    continue;
                }
            };
            for (policy_id, holders) in holders {
                let Some(policy) = swept.get(&policy_id) else {
                    continue;
                };
                for holder in holders {
                    if erased.contains(&(*source_id, holder.key.clone())) {
                        continue;
                    }
                    let verdict = match judge(policy, &holder) {
                        Ok(v) => v,
                        Err(_) => {
                            findings.push(Finding {
                                record_key: Some(holder.key.clone()),
                                ..Finding::problem(
                                    Some(policy_id),
                                    Some(*source_id),
                                    RetentionOutcome::UnreadableDate,
                                    "a trigger value of the record is not a date the sweep \
                                     reads (expected ISO 8601, e.g. 2024-03-01 or \
                                     2024-03-01T10:00:00Z); the record is kept"
                                        .to_owned(),
                                )
                            });
                            Verdict::Undated
                        }
                    };
                    let entry = records
                        .entry((*source_id, holder.key.clone()))
                        .or_insert_with(|| Examined {
                            identities: holder
                                .identities
                                .iter()
                                .map(|(kind, value)| FoundIdentity {
                                    kind: *kind,
                                    value: value.clone(),
                                })
                                .collect(),
                            verdicts: Vec::new(),
                        });
                    entry.verdicts.push(verdict);
                }
            }
        }
        let examined = i32::try_from(records.len()).unwrap_or(i32::MAX);
        // Identities of records still within their period (or without a date): an
        // expired record sharing one goes to a person, since an erasure request by
        // that identity would reach the other record too.
        let live: HashMap<(IdentityType, String), String> = records
            .iter()
            .filter(|(_, r)| !is_expired(r, today))
            .flat_map(|((_, key), r)| {
                r.identities
                    .iter()
                    .map(move |i| ((i.kind, comparable(&i.value)), key.clone()))
            })
            .collect();
        for ((source_id, key), record) in records {
            let mut latest: Option<(Uuid, DateTime<Utc>, NaiveDate)> = None;
            let mut review = false;
            let mut expired = true;
            for verdict in &record.verdicts {
                match verdict {
                    Verdict::Dated {
                        policy_id,
                        last,
                        until,
                        review: r,
                    } => {
                        expired &= *until < today;
                        review |= *r;
                        if latest.is_none_or(|(_, _, u)| *until > u) {
                            latest = Some((*policy_id, *last, *until));
                        }
                    }
                    Verdict::Undated => expired = false,
                }
            }
            let Some((policy_id, last, until)) = latest.filter(|_| expired) else {
                continue;
            };
            let shared = record.identities.iter().find_map(|i| {
                live.get(&(i.kind, comparable(&i.value)))
                    .map(|k| (i.kind, k))
            });
            let (outcome, detail) = if restricted.contains(&(source_id, key.clone())) {
                (RetentionOutcome::Restricted, None)
            } else if record.identities.is_empty() {
                (RetentionOutcome::NoIdentity, None)
            } else if let Some((kind, other)) = shared {
                (
                    RetentionOutcome::SharedIdentity,
                    Some(format!(
                        "its {} also identifies {other}, which is still within its period: \
                         an erasure request by it would reach that record too; a person decides",
                        kind.as_str()
                    )),
                )
            } else if review {
                (RetentionOutcome::ReviewDue, None)
            } else {
                (RetentionOutcome::Expired, None)
            };
            findings.push(Finding {
                policy_id: Some(policy_id),
                source_id: Some(source_id),
                record_key: Some(key),
                identities: record.identities,
                last_event_at: Some(last),
                expired_on: Some(until),
                outcome,
                request_id: None,
                detail,
            });
        }
        findings.extend(self.ended_holds(org_id, today).await?);
        Ok((examined, findings))
    }

    /// Values an erasure kept under a legal hold whose duty has ended, one finding
    /// per record (Art. 17(3): erased then). The sweep does not erase them itself: the
    /// request's steward does, the finding names the request.
    async fn ended_holds(&self, org_id: Uuid, today: NaiveDate) -> Result<Vec<Finding>> {
        use erasure_outcome::Column as C;
        let held = erasure_outcome::Entity::find()
            .filter(C::OrgId.eq(org_id))
            .filter(C::Outcome.eq(ErasureResult::Retained.as_str()))
            .filter(C::CarriedOutAt.is_not_null())
            .filter(C::ReleasedAt.is_null())
            .filter(C::HeldUntil.lt(today))
            .order_by_asc(C::Id)
            .all(self.store.conn())
            .await?;
        let mut per_record: BTreeMap<(Uuid, Uuid, String), (NaiveDate, BTreeSet<String>)> =
            BTreeMap::new();
        for row in held {
            let Some(until) = row.held_until else {
                continue;
            };
            let entry = per_record
                .entry((row.request_id, row.source_id, row.record_key))
                .or_insert((until, BTreeSet::new()));
            entry.0 = entry.0.max(until);
            entry.1.insert(format!(
                "{} ({})",
                row.location,
                row.legal_reference.as_deref().unwrap_or("no ground named")
            ));
        }
        Ok(per_record
            .into_iter()
            .map(|((request_id, source_id, key), (until, fields))| Finding {
                record_key: Some(key),
                expired_on: Some(until),
                request_id: Some(request_id),
                ..Finding::problem(
                    None,
                    Some(source_id),
                    RetentionOutcome::HoldEnded,
                    format!(
                        "kept under a legal hold that ended on {until}: {}",
                        fields.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                )
            })
            .collect())
    }

    /// `(source, record)` of every record an erasure anonymized or erased: what is
    /// left of it (a row kept for an order under a hold) is no longer the person's.
    async fn erased_records(&self, org_id: Uuid) -> Result<HashSet<(Uuid, String)>> {
        Ok(erasure_outcome::Entity::find()
            .select_only()
            .column(erasure_outcome::Column::SourceId)
            .column(erasure_outcome::Column::RecordKey)
            .filter(erasure_outcome::Column::OrgId.eq(org_id))
            .filter(erasure_outcome::Column::CarriedOutAt.is_not_null())
            .filter(erasure_outcome::Column::Outcome.is_in([
                ErasureResult::Erased.as_str(),
                ErasureResult::Anonymized.as_str(),
            ]))
            .into_tuple::<(Uuid, String)>()
            .all(self.store.conn())
            .await?
            .into_iter()
            .collect())
    }

    /// The records of one source, per policy with trigger fields there; an error
    /// says why the source could not be read.
    async fn read_source(
        &self,
        source_id: Uuid,
        per_policy: &BTreeMap<Uuid, Vec<Uuid>>,
    ) -> std::result::Result<Vec<(Uuid, Vec<Holder>)>, String> {
        let conn = self.store.conn();
        let source = data_source::Entity::find_by_id(source_id)
            .one(conn)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the source is gone".to_owned())?;
        let all = data_field::Entity::find()
            .filter(data_field::Column::SourceId.eq(source_id))
            .order_by_asc(data_field::Column::Id)
            .all(conn)
            .await
            .map_err(|e| e.to_string())?;
        // Only what the sweep reads: identifying fields, trigger fields and the two
        // ends of every declared reference (a stale mapping elsewhere in the source
        // does not stop it).
        let triggers: HashSet<Uuid> = per_policy.values().flatten().copied().collect();
        let referenced: HashSet<Uuid> = all.iter().filter_map(|f| f.references_id).collect();
        let fields: Vec<data_field::Model> = all
            .into_iter()
            .filter(|f| {
                f.identifies_subject
                    || triggers.contains(&f.id)
                    || f.references_id.is_some()
                    || referenced.contains(&f.id)
            })
            .collect();
        let kind: ConnectorKind = source
            .connector_kind
            .parse()
            .map_err(|e: Error| e.to_string())?;
        let config = crate::register::sources::connection_config(&self.cipher, &source)
            .map_err(|e| e.to_string())?;
        let job = CollectJob {
            source: &source,
            config: &config,
            fields: &fields,
            identities: &[],
            guard: &self.sources,
            pools: &self.pools,
        };
        let mut out = Vec::with_capacity(per_policy.len());
        for (policy_id, triggers) in per_policy {
            let holders = connector(kind)
                .holders(&job, triggers)
                .await
                .map_err(|e| format!("«{}»: {e}", source.name))?;
            out.push((*policy_id, holders));
        }
        Ok(out)
    }

    /// Marks the EXPIRED findings an earlier run opened a request for (dry runs too).
    async fn mark_requested(&self, org_id: Uuid, findings: &mut [Finding]) -> Result<()> {
        use entity::subject_request::Column as C;
        let opened: HashMap<String, Uuid> = entity::subject_request::Entity::find()
            .select_only()
            .column(C::IdempotencyKey)
            .column(C::Id)
            .filter(C::OrgId.eq(org_id))
            .filter(C::Channel.eq(Channel::Retention.as_str()))
            .into_tuple::<(Option<String>, Uuid)>()
            .all(self.store.conn())
            .await?
            .into_iter()
            .filter_map(|(key, id)| Some((key?, id)))
            .collect();
        for f in findings
            .iter_mut()
            .filter(|f| f.outcome == RetentionOutcome::Expired)
        {
            if let (Some(source_id), Some(key)) = (f.source_id, &f.record_key)
                && let Some(id) = opened.get(&request_key(source_id, key))
            {
                f.outcome = RetentionOutcome::AlreadyRequested;
                f.request_id = Some(*id);
            }
        }
        Ok(())
    }

    /// Opens an erasure request for every EXPIRED finding (REVIEW_DUE and problems
    /// stay as they are). A failure is recorded on the finding, never fatal.
    async fn open_requests(&self, org_id: Uuid, run_id: Uuid, findings: &mut [Finding]) {
        let sweep = Principal::retention_sweep(org_id);
        let names = self
            .policy_and_source_names(org_id)
            .await
            .unwrap_or_default();
        for finding in findings
            .iter_mut()
            .filter(|f| f.outcome == RetentionOutcome::Expired)
        {
            let (Some(source_id), Some(key)) = (finding.source_id, finding.record_key.clone())
            else {
                continue;
            };
            match self
                .open_request(&sweep, run_id, source_id, &key, finding, &names)
                .await
            {
                Ok((request_id, created)) => {
                    finding.request_id = Some(request_id);
                    finding.outcome = if created {
                        RetentionOutcome::ErasureRequested
                    } else {
                        RetentionOutcome::AlreadyRequested
                    };
                }
                Err(e) => {
                    // Another process may have opened it meanwhile.
                    let key = request_key(source_id, &key);
                    if let Ok(Some(existing)) = self.find_by_idempotency_key(&sweep, &key).await {
                        finding.outcome = RetentionOutcome::AlreadyRequested;
                        finding.request_id = Some(existing.id);
                        continue;
                    }
                    tracing::warn!(error = %e, %run_id, "the retention sweep could not open an erasure request");
                    finding.outcome = RetentionOutcome::Failed;
                    finding.detail = Some(match e.code() {
                        crate::ErrorCode::Internal => {
                            "the erasure request was not opened (an internal error, logged \
                             with the run's id); the next run tries again"
                                .to_owned()
                        }
                        _ => format!("the erasure request was not opened: {e}"),
                    });
                }
            }
        }
    }

    async fn policy_and_source_names(&self, org_id: Uuid) -> Result<HashMap<Uuid, String>> {
        let conn = self.store.conn();
        let mut names: HashMap<Uuid, String> = retention_policy::Entity::find()
            .filter(retention_policy::Column::OrgId.eq(org_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name))
            .collect();
        names.extend(
            data_source::Entity::find()
                .filter(data_source::Column::OrgId.eq(org_id))
                .all(conn)
                .await?
                .into_iter()
                .map(|s| (s.id, s.name)),
        );
        Ok(names)
    }

    /// Opens (or finds) the erasure request of one record; returns its id and
    /// whether it is new.
    async fn open_request(
        &self,
        sweep: &Principal,
        run_id: Uuid,
        source_id: Uuid,
        key: &str,
        finding: &Finding,
        names: &HashMap<Uuid, String>,
    ) -> Result<(Uuid, bool)> {
        let idempotency_key = request_key(source_id, key);
        if let Some(existing) = self
            .find_by_idempotency_key(sweep, &idempotency_key)
            .await?
        {
            // A run that stopped between opening and confirming: confirm now.
            if existing.state == crate::requests::RequestState::Received.as_str() {
                self.confirm_from_record(sweep, existing.id, run_id, key)
                    .await?;
            }
            return Ok((existing.id, false));
        }
        let name = |id: Option<Uuid>| {
            id.and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "?".to_owned())
        };
        let text = format!(
            "Opened by the retention sweep (run {run_id}): the retention period of «{}» ended \
             on {} for the record {key} in «{}» (latest trigger date {}). Erase what no legal \
             duty requires to keep (Art. 17(1)(a) GDPR).",
            name(finding.policy_id),
            finding
                .expired_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
            name(Some(source_id)),
            finding
                .last_event_at
                .map(|d| d.date_naive().to_string())
                .unwrap_or_default(),
        );
        let submitted = self
            .submit_request(
                sweep,
                NewRequest {
                    kind: RequestKind::Erasure,
                    channel: Channel::Retention,
                    identities: finding
                        .identities
                        .iter()
                        .map(|i| NewIdentity {
                            kind: i.kind,
                            value: i.value.clone(),
                        })
                        .collect(),
                    text: Some(text),
                    is_test: false,
                    received_at: None,
                    idempotency_key: Some(idempotency_key),
                    attachments: Vec::new(),
                },
            )
            .await?;
        if submitted.created {
            self.confirm_from_record(sweep, submitted.request.id, run_id, key)
                .await?;
        }
        Ok((submitted.request.id, submitted.created))
    }

    /// Confirms the identity of a request the sweep opened: it was read from the
    /// record itself.
    async fn confirm_from_record(
        &self,
        sweep: &Principal,
        request_id: Uuid,
        run_id: Uuid,
        key: &str,
    ) -> Result<()> {
        self.verify_identity(
            sweep,
            request_id,
            None,
            VerificationMethod::Other,
            format!(
                "The identities were read from the record {key} itself by the retention \
                 sweep (run {run_id}): the controller's own erasure, no requester to verify."
            ),
        )
        .await?;
        Ok(())
    }

    /// Stores the findings and the run's counts, audited, in one transaction.
    async fn finish_run(
        &self,
        run: retention_run::Model,
        actor: &Actor,
        examined: i32,
        findings: Vec<Finding>,
    ) -> Result<RetentionRunView> {
        let count = |pred: &dyn Fn(&Finding) -> bool| {
            i32::try_from(findings.iter().filter(|f| pred(f)).count()).unwrap_or(i32::MAX)
        };
        let expired = count(&|f| {
            f.expired_on.is_some()
                && !matches!(
                    f.outcome,
                    RetentionOutcome::UnreadableDate
                        | RetentionOutcome::NoTrigger
                        | RetentionOutcome::HoldEnded
                        | RetentionOutcome::HoldReleased
                )
        });
        let requested = count(&|f| f.outcome == RetentionOutcome::ErasureRequested);
        let problems = count(&|f| {
            matches!(
                f.outcome,
                RetentionOutcome::Failed
                    | RetentionOutcome::UnreadableDate
                    | RetentionOutcome::NoIdentity
                    | RetentionOutcome::SharedIdentity
                    | RetentionOutcome::HoldEnded
            )
        });
        let mut tx = self.store.begin().await?;
        let mut rows = Vec::with_capacity(findings.len());
        for (seq, f) in findings.into_iter().enumerate() {
            let identities = if f.identities.is_empty() {
                None
            } else {
                let pairs: Vec<[&str; 2]> = f
                    .identities
                    .iter()
                    .map(|i| [i.kind.as_str(), i.value.as_str()])
                    .collect();
                Some(self.cipher.encrypt(json!(pairs).to_string().as_bytes())?)
            };
            rows.push(retention_finding::ActiveModel {
                id: Set(new_id()),
                org_id: Set(run.org_id),
                run_id: Set(run.id),
                seq: Set(i32::try_from(seq).unwrap_or(i32::MAX)),
                policy_id: Set(f.policy_id),
                source_id: Set(f.source_id),
                record_key: Set(f.record_key),
                identities: Set(identities),
                last_event_at: Set(f.last_event_at),
                expired_on: Set(f.expired_on),
                outcome: Set(f.outcome.as_str().to_owned()),
                request_id: Set(f.request_id),
                detail: Set(f.detail),
            });
        }
        for chunk in rows.chunks(500) {
            retention_finding::Entity::insert_many(chunk.to_vec())
                .exec(tx.conn())
                .await?;
        }
        let mut active = run.into_active_model();
        active.finished_at = Set(Some(now()));
        active.examined = Set(examined);
        active.expired = Set(expired);
        active.requested = Set(requested);
        active.problems = Set(problems);
        let run = active.update(tx.conn()).await?;
        let entry = Entry::success("runRetentionSweep", "RetentionRun", run.id).after(json!({
            "dryRun": run.dry_run, "examined": examined, "expired": expired,
            "requested": requested, "problems": problems,
        }));
        audit::append(&mut tx, run.org_id, actor, entry).await?;
        tx.commit(&self.bus).await?;
        Ok(run.into())
    }

    /// Every finding of a run, with the names of its policy and source, for the
    /// command line's report.
    pub async fn retention_report(
        &self,
        org_id: Uuid,
        run_id: Uuid,
    ) -> Result<Vec<(RetentionFindingView, Option<String>, Option<String>)>> {
        let names = self.policy_and_source_names(org_id).await?;
        retention_finding::Entity::find()
            .filter(retention_finding::Column::OrgId.eq(org_id))
            .filter(retention_finding::Column::RunId.eq(run_id))
            .order_by_asc(retention_finding::Column::Seq)
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(|m| {
                let view = self.finding_view(m)?;
                let policy = view.policy_id.and_then(|id| names.get(&id).cloned());
                let source = view.source_id.and_then(|id| names.get(&id).cloned());
                Ok((view, policy, source))
            })
            .collect()
    }

    /// The organization's sweep runs, oldest first.
    pub async fn retention_runs(
        &self,
        principal: &Principal,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<RetentionRunView>> {
        let select =
            retention_run::Entity::find().filter(retention_run::Column::OrgId.eq(principal.org_id));
        Ok(
            paginate(self.store.conn(), select, retention_run::Column::Id, page)
                .await?
                .map(RetentionRunView::from),
        )
    }

    /// One run of the organization.
    pub async fn retention_run(&self, principal: &Principal, id: Uuid) -> Result<RetentionRunView> {
        retention_run::Entity::find_by_id(id)
            .filter(retention_run::Column::OrgId.eq(principal.org_id))
            .one(self.store.conn())
            .await?
            .map(RetentionRunView::from)
            .ok_or(Error::NotFound {
                what: "retention run",
            })
    }

    /// One finding of a retention run.
    pub async fn retention_finding(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<RetentionFindingView> {
        let found = retention_finding::Entity::find_by_id(id)
            .filter(retention_finding::Column::OrgId.eq(principal.org_id))
            .one(self.store.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "retention finding",
            })?;
        self.finding_view(found)
    }

    /// What a run found, in the order it found it; `outcome` narrows.
    pub async fn retention_findings(
        &self,
        principal: &Principal,
        run_id: Uuid,
        outcome: Option<RetentionOutcome>,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<RetentionFindingView>> {
        use retention_finding::Column as C;
        let mut select = retention_finding::Entity::find()
            .filter(C::OrgId.eq(principal.org_id))
            .filter(C::RunId.eq(run_id));
        if let Some(outcome) = outcome {
            select = select.filter(C::Outcome.eq(outcome.as_str()));
        }
        let page = paginate(self.store.conn(), select, C::Id, page).await?;
        page.try_map(|m| self.finding_view(m))
    }

    fn finding_view(&self, m: retention_finding::Model) -> Result<RetentionFindingView> {
        let identities = match &m.identities {
            Some(sealed) => {
                let pairs: Vec<[String; 2]> = serde_json::from_slice(&self.cipher.decrypt(sealed)?)
                    .map_err(|e| Error::Internal(format!("a sealed finding does not read: {e}")))?;
                pairs
                    .into_iter()
                    .map(|[kind, value]| {
                        Ok(FoundIdentity {
                            kind: kind.parse()?,
                            value,
                        })
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            None => Vec::new(),
        };
        Ok(RetentionFindingView {
            id: m.id,
            run_id: m.run_id,
            policy_id: m.policy_id,
            source_id: m.source_id,
            record_key: m.record_key,
            identities,
            last_event_at: m.last_event_at,
            expired_on: m.expired_on,
            outcome: m.outcome.parse()?,
            request_id: m.request_id,
            detail: m.detail,
        })
    }
}

/// Whether every policy that covers the record has ended before `today`.
fn is_expired(record: &Examined, today: NaiveDate) -> bool {
    !record.verdicts.is_empty()
        && record.verdicts.iter().all(|v| match v {
            Verdict::Dated { until, .. } => *until < today,
            Verdict::Undated => false,
        })
}

/// An identity value as compared between records (case and outer spaces ignored:
/// the cautious reading, a match sends the record to a person).
fn comparable(value: &str) -> String {
    value.trim().to_lowercase()
}

/// What `policy` says about `holder`; the error is a value that is not a date.
fn judge(policy: &Swept<'_>, holder: &Holder) -> std::result::Result<Verdict, String> {
    let mut last: Option<DateTime<Utc>> = None;
    for text in &holder.last {
        let moment = parse_moment(text).ok_or_else(|| text.clone())?;
        last = Some(last.map_or(moment, |l| l.max(moment)));
    }
    let Some(last) = last else {
        return Ok(Verdict::Undated);
    };
    let until =
        crate::erasure::duties::until(last.date_naive(), &policy.policy.duration, policy.trigger)
            .ok_or_else(|| policy.policy.duration.clone())?;
    Ok(Verdict::Dated {
        policy_id: policy.policy.id,
        last,
        until,
        review: policy.action == ExpiryAction::Review,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_values_read_in_the_forms_databases_print() {
        let day = |s: &str| parse_moment(s).map(|d| d.to_rfc3339());
        assert_eq!(
            day("2021-03-04").as_deref(),
            Some("2021-03-04T00:00:00+00:00")
        );
        assert_eq!(
            day("2021-03-04 10:11:12").as_deref(),
            Some("2021-03-04T10:11:12+00:00")
        );
        assert_eq!(
            day("2021-03-04 10:11:12.5+02").as_deref(),
            Some("2021-03-04T08:11:12.500+00:00")
        );
        assert_eq!(
            day("2021-03-04T10:11:12Z").as_deref(),
            Some("2021-03-04T10:11:12+00:00")
        );
        assert_eq!(
            day(" 2021-03-04T10:11:12+01:00 ").as_deref(),
            Some("2021-03-04T09:11:12+00:00")
        );
        for bad in ["", "yesterday", "04.03.2021", "2021-13-01", "1614816000"] {
            assert_eq!(day(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn request_keys_are_one_per_record_and_hold_no_value() {
        let s = Uuid::nil();
        assert_eq!(
            request_key(s, "customers(id=4)"),
            request_key(s, "customers(id=4)")
        );
        assert_ne!(
            request_key(s, "customers(id=4)"),
            request_key(s, "customers(id=5)")
        );
        assert!(!request_key(s, "customers(id=4)").contains("customers"));
    }
}
