//! The append-only, hash-chained audit log.
//!
//! Each organization has its own chain. A row's hash is
//! `sha256(prev_hash || canonical JSON of the row)`; the chain head
//! (`audit_chain_head`) holds the newest sequence number and hash, so deleting rows
//! at the end is noticed as well as editing or deleting rows in the middle.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, CommonTableExpression, Expr, ExprTrait, WithClause};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait, Set,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::{audit_chain_head, audit_event, organization};

use crate::access::principal::Principal;
use crate::core::events::DomainEvent;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::{Conn, Tx};
use crate::error::{Error, Result};
use crate::{Workflow, new_id, now};

/// `prev_hash` of the first row of a chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How an audited attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The change was made.
    Success,
    /// Authorization refused it.
    Denied,
    /// It failed (validation, conflict, not found, internal).
    Failed,
}

impl Outcome {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "SUCCESS",
            Outcome::Denied => "DENIED",
            Outcome::Failed => "FAILED",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "SUCCESS" => Some(Outcome::Success),
            "DENIED" => Some(Outcome::Denied),
            "FAILED" => Some(Outcome::Failed),
            _ => None,
        }
    }
}

/// Who did it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The API key, if any.
    pub id: Option<Uuid>,
    /// A readable name ("api-key:ci", "cli").
    pub name: String,
}

impl Actor {
    /// An action of the system itself or of an operator's CLI command.
    pub fn system(name: &str) -> Self {
        Self {
            id: None,
            name: name.to_owned(),
        }
    }
}

impl From<&Principal> for Actor {
    fn from(p: &Principal) -> Self {
        if p.is_worker() {
            return Self {
                id: Some(p.key_id),
                name: "worker".to_owned(),
            };
        }
        Self {
            id: Some(p.key_id),
            name: format!("api-key:{}", p.key_name),
        }
    }
}

/// What to record.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The operation, e.g. the GraphQL mutation name.
    pub operation: String,
    /// Type of the object acted on.
    pub object_type: Option<String>,
    /// Id of the object acted on.
    pub object_id: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// The error code when it did not succeed.
    pub error_code: Option<String>,
    /// State before (only its digest is stored).
    pub before: Option<serde_json::Value>,
    /// State after (only its digest is stored).
    pub after: Option<serde_json::Value>,
}

impl Entry {
    /// A successful change of `object_type` `object_id`.
    pub fn success(operation: &str, object_type: &str, object_id: impl ToString) -> Self {
        Self {
            operation: operation.to_owned(),
            object_type: Some(object_type.to_owned()),
            object_id: Some(object_id.to_string()),
            outcome: Outcome::Success,
            error_code: None,
            before: None,
            after: None,
        }
    }

    /// With the state before the change.
    pub fn before(mut self, state: serde_json::Value) -> Self {
        self.before = Some(state);
        self
    }

    /// With the state after the change.
    pub fn after(mut self, state: serde_json::Value) -> Self {
        self.after = Some(state);
        self
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Digest of a JSON state (serde_json sorts object keys, so equal states hash equal).
pub fn digest(state: &serde_json::Value) -> String {
    sha256_hex(state.to_string().as_bytes())
}

fn timestamp(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[derive(Serialize)]
struct Canonical<'a> {
    id: &'a Uuid,
    org_id: &'a Uuid,
    seq: i64,
    occurred_at: String,
    actor_id: &'a Option<Uuid>,
    actor_name: &'a str,
    operation: &'a str,
    object_type: &'a Option<String>,
    object_id: &'a Option<String>,
    outcome: &'a str,
    error_code: &'a Option<String>,
    before_digest: &'a Option<String>,
    after_digest: &'a Option<String>,
}

/// The hash a row must carry given the previous row's hash.
pub fn chain_hash(prev_hash: &str, row: &audit_event::Model) -> String {
    let canonical = Canonical {
        id: &row.id,
        org_id: &row.org_id,
        seq: row.seq,
        occurred_at: timestamp(&row.occurred_at),
        actor_id: &row.actor_id,
        actor_name: &row.actor_name,
        operation: &row.operation,
        object_type: &row.object_type,
        object_id: &row.object_id,
        outcome: &row.outcome,
        error_code: &row.error_code,
        before_digest: &row.before_digest,
        after_digest: &row.after_digest,
    };
    let json = serde_json::to_string(&canonical).expect("plain struct serializes");
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(json.as_bytes());
    hex::encode(hasher.finalize())
}

/// Starts an organization's chain (in the transaction that creates it).
pub(crate) async fn start_chain<C: Conn>(conn: &C, org_id: Uuid) -> Result<()> {
    audit_chain_head::Entity::insert(audit_chain_head::ActiveModel {
        org_id: Set(org_id),
        seq: Set(0),
        hash: Set(GENESIS_HASH.to_owned()),
    })
    .exec(conn)
    .await?;
    Ok(())
}

/// Appends a row in the caller's transaction and queues it for subscribers.
pub(crate) async fn append(
    tx: &mut Tx,
    org_id: Uuid,
    actor: &Actor,
    entry: Entry,
) -> Result<audit_event::Model> {
    let mut rows = append_all(tx, org_id, actor, vec![entry]).await?;
    rows.pop()
        .ok_or_else(|| Error::Internal("an audit append wrote no row".to_owned()))
}

/// Appends `entries` in order, as consecutive links of the chain, in the caller's
/// transaction, and queues them for subscribers: three statements however many
/// entries there are (four on MariaDB/MySQL, which cannot return from an update).
///
/// The chain head is updated *first*: that statement takes the row lock (PostgreSQL,
/// MySQL) or the write lock (SQLite), so concurrent appends to one chain queue up
/// instead of forking it.
pub(crate) async fn append_all(
    tx: &mut Tx,
    org_id: Uuid,
    actor: &Actor,
    entries: Vec<Entry>,
) -> Result<Vec<audit_event::Model>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let conn = tx.conn();
    let bump = audit_chain_head::Entity::update_many()
        .col_expr(
            audit_chain_head::Column::Seq,
            Expr::col(audit_chain_head::Column::Seq).add(entries.len() as i64),
        )
        .filter(audit_chain_head::Column::OrgId.eq(org_id));
    let missing = || {
        Error::Internal(format!(
            "audit chain head of organization {org_id} is missing"
        ))
    };
    let head = if conn.support_returning() {
        bump.exec_with_returning(conn)
            .await?
            .pop()
            .ok_or_else(missing)?
    } else {
        if bump.exec(conn).await?.rows_affected != 1 {
            return Err(missing());
        }
        audit_chain_head::Entity::find_by_id(org_id)
            .one(conn)
            .await?
            .ok_or_else(missing)?
    };
    let at = now();
    let first = head.seq - entries.len() as i64 + 1;
    let mut prev = head.hash;
    let mut rows = Vec::with_capacity(entries.len());
    for (n, entry) in entries.into_iter().enumerate() {
        let mut row = audit_event::Model {
            id: new_id(),
            org_id,
            seq: first + n as i64,
            occurred_at: at,
            actor_id: actor.id,
            actor_name: actor.name.chars().take(200).collect(),
            operation: entry.operation.chars().take(100).collect(),
            object_type: entry.object_type,
            object_id: entry.object_id.map(|s| s.chars().take(200).collect()),
            outcome: entry.outcome.as_str().to_owned(),
            error_code: entry.error_code,
            before_digest: entry.before.as_ref().map(digest),
            after_digest: entry.after.as_ref().map(digest),
            prev_hash: prev,
            hash: String::new(),
        };
        row.hash = chain_hash(&row.prev_hash, &row);
        prev = row.hash.clone();
        rows.push(row);
    }
    let insert = audit_event::Entity::insert_many(
        rows.iter().cloned().map(IntoActiveModel::into_active_model),
    )
    .into_query();
    let new_head = audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::Hash, Expr::value(prev))
        .filter(audit_chain_head::Column::OrgId.eq(org_id))
        .into_query();
    let timeline = tx.take_timeline();
    let conn = tx.conn();
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        // One round trip for the rows and the new head (and the transaction's
        // timeline rows): data-modifying WITH queries all run, whatever the main
        // statement reads.
        let mut with = WithClause::new();
        for (name, insert) in [("timeline", timeline), ("audit", Some(insert))] {
            if let Some(insert) = insert {
                with.cte(
                    CommonTableExpression::new()
                        .query(insert)
                        .table_name(Alias::new(name))
                        .to_owned(),
                );
            }
        }
        conn.execute(&with.query(new_head)).await?;
    } else {
        if let Some(timeline) = timeline {
            conn.execute(&timeline).await?;
        }
        conn.execute(&insert).await?;
        conn.execute(&new_head).await?;
    }
    for row in &rows {
        tx.raise(DomainEvent::AuditAppended(Box::new(row.clone())));
    }
    Ok(rows)
}

/// Filters of the audit log listing.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// Only this actor's events.
    pub actor_id: Option<Uuid>,
    /// Only this operation.
    pub operation: Option<String>,
    /// Only events about this object type.
    pub object_type: Option<String>,
    /// Only events about this object.
    pub object_id: Option<String>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// At or after.
    pub since: Option<DateTime<Utc>>,
    /// Before.
    pub until: Option<DateTime<Utc>>,
}

/// The first place where a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokenLink {
    /// Organization of the chain.
    pub org_id: Uuid,
    /// Sequence number where it breaks.
    pub seq: i64,
    /// The row found there, if any.
    pub event_id: Option<Uuid>,
    /// What is wrong.
    pub reason: String,
}

impl std::fmt::Display for BrokenLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "organization {} seq {}", self.org_id, self.seq)?;
        if let Some(id) = self.event_id {
            write!(f, " (audit event {id})")?;
        }
        write!(f, ": {}", self.reason)
    }
}

/// What a successful verification covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainReport {
    /// Organizations checked.
    pub organizations: usize,
    /// Rows checked.
    pub events: u64,
}

const VERIFY_BATCH: u64 = 1000;

/// Recomputes every chain; `Err(BrokenLink)` names the first row that does not hold.
pub async fn verify<C: Conn>(conn: &C) -> Result<std::result::Result<ChainReport, BrokenLink>> {
    let orgs = organization::Entity::find()
        .order_by_asc(organization::Column::Id)
        .all(conn)
        .await?;
    let mut report = ChainReport {
        organizations: 0,
        events: 0,
    };
    for org in orgs {
        if let Err(broken) = verify_org(conn, org.id, &mut report).await? {
            return Ok(Err(broken));
        }
        report.organizations += 1;
    }
    Ok(Ok(report))
}

async fn verify_org<C: Conn>(
    conn: &C,
    org_id: Uuid,
    report: &mut ChainReport,
) -> Result<std::result::Result<(), BrokenLink>> {
    let broken = |seq: i64, event_id: Option<Uuid>, reason: String| BrokenLink {
        org_id,
        seq,
        event_id,
        reason,
    };
    let mut last_seq = 0_i64;
    let mut last_hash = GENESIS_HASH.to_owned();
    loop {
        let rows = audit_event::Entity::find()
            .filter(audit_event::Column::OrgId.eq(org_id))
            .filter(audit_event::Column::Seq.gt(last_seq))
            .order_by_asc(audit_event::Column::Seq)
            .limit(VERIFY_BATCH)
            .all(conn)
            .await?;
        let done = (rows.len() as u64) < VERIFY_BATCH;
        for row in rows {
            let expected = last_seq + 1;
            if row.seq != expected {
                return Ok(Err(broken(
                    expected,
                    None,
                    format!("row {expected} is missing (next row found is {})", row.seq),
                )));
            }
            if row.prev_hash != last_hash {
                return Ok(Err(broken(
                    row.seq,
                    Some(row.id),
                    "prev_hash does not match the hash of the row before".into(),
                )));
            }
            if chain_hash(&last_hash, &row) != row.hash {
                return Ok(Err(broken(
                    row.seq,
                    Some(row.id),
                    "content does not match its hash (row was edited)".into(),
                )));
            }
            last_seq = row.seq;
            last_hash = row.hash;
            report.events += 1;
        }
        if done {
            break;
        }
    }
    let head = audit_chain_head::Entity::find_by_id(org_id)
        .one(conn)
        .await?;
    match head {
        None => Ok(Err(broken(last_seq, None, "chain head is missing".into()))),
        Some(head) if head.seq != last_seq => Ok(Err(broken(
            last_seq + 1,
            None,
            format!(
                "chain ends at row {last_seq} but its head records {} rows (rows deleted at the end)",
                head.seq
            ),
        ))),
        Some(head) if head.hash != last_hash => Ok(Err(broken(
            last_seq,
            None,
            "chain head hash does not match the last row".into(),
        ))),
        Some(_) => Ok(Ok(())),
    }
}

impl Workflow {
    /// The principal's organization's audit log, filtered, oldest first.
    #[tracing::instrument(skip(self, filter, page), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn audit_events(
        &self,
        principal: &Principal,
        filter: &AuditFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<audit_event::Model>> {
        use audit_event::Column as C;
        let mut select = audit_event::Entity::find().filter(C::OrgId.eq(principal.org_id));
        if let Some(actor) = filter.actor_id {
            select = select.filter(C::ActorId.eq(actor));
        }
        for (value, field) in [
            (&filter.operation, "operation"),
            (&filter.object_type, "objectType"),
            (&filter.object_id, "objectId"),
        ] {
            if let Some(value) = value {
                crate::core::search::check_filter_text(value, &["filter", field])?;
            }
        }
        if let Some(op) = &filter.operation {
            select = select.filter(C::Operation.eq(op.clone()));
        }
        if let Some(t) = &filter.object_type {
            select = select.filter(C::ObjectType.eq(t.clone()));
        }
        if let Some(id) = &filter.object_id {
            select = select.filter(C::ObjectId.eq(id.clone()));
        }
        if let Some(outcome) = filter.outcome {
            select = select.filter(C::Outcome.eq(outcome.as_str()));
        }
        if let Some(since) = filter.since {
            select = select.filter(C::OccurredAt.gte(since));
        }
        if let Some(until) = filter.until {
            select = select.filter(C::OccurredAt.lt(until));
        }
        paginate(self.store.conn(), select, C::Id, page).await
    }

    /// One audit event of the principal's organization.
    pub async fn audit_event(&self, principal: &Principal, id: Uuid) -> Result<audit_event::Model> {
        audit_event::Entity::find_by_id(id)
            .filter(audit_event::Column::OrgId.eq(principal.org_id))
            .one(self.store.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "audit event",
            })
    }

    /// Records an attempt that did not change anything (denied or failed), in its own
    /// transaction.
    #[tracing::instrument(skip(self, principal), fields(org = %principal.org_id, key = %principal.key_id), err(level = "debug"))]
    pub async fn record_attempt(
        &self,
        principal: &Principal,
        operation: &str,
        outcome: Outcome,
        error_code: &str,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        let entry = Entry {
            operation: operation.to_owned(),
            object_type: None,
            object_id: None,
            outcome,
            error_code: Some(error_code.to_owned()),
            before: None,
            after: None,
        };
        append(&mut tx, principal.org_id, &Actor::from(principal), entry).await?;
        tx.commit(&self.bus).await
    }

    /// Verifies every organization's chain.
    pub async fn verify_audit_chain(&self) -> Result<std::result::Result<ChainReport, BrokenLink>> {
        verify(self.store.conn()).await
    }
}
