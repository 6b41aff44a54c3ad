//! The append-only, hash-chained audit log.
//!
//! Each organization has its own chain. A row's hash is
//! `sha256(prev_hash || canonical JSON of the row)`; the chain head
//! (`audit_chain_head`) holds the newest sequence number and hash, so deleting rows
//! at the end is noticed as well as editing or deleting rows in the middle.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
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
        if p.is_worker() || p.is_retention_sweep() {
            return Self {
                id: Some(p.key_id),
                name: p.key_name.clone(),
            };
        }
        let kind = match p.kind {
            crate::PrincipalKind::Person => "person",
            _ => "api-key",
        };
        Self {
            id: Some(p.key_id),
            name: format!("{kind}:{}", p.key_name),
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
    let json = canonical_json(row);
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(json.as_bytes());
    hex::encode(hasher.finalize())
}

fn canonical_json(row: &audit_event::Model) -> String {
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
    serde_json::to_string(&canonical).expect("plain struct serializes")
}

/// The canonical JSON of a row (its `seq` aside) in two parts, before and after the
/// sequence number: `chain_hash` is `sha256(prev_hash || before || seq || after)`.
fn canonical_parts(row: &audit_event::Model) -> (Vec<u8>, Vec<u8>) {
    let json = canonical_json(&audit_event::Model {
        seq: 0,
        ..row.clone()
    });
    // The two ids before it are UUIDs: the first match is the field itself.
    const SEQ: &str = ",\"seq\":0,";
    let at = json
        .find(SEQ)
        .expect("the sequence number follows the two ids");
    let (before, after) = (&json[..at + SEQ.len() - 2], &json[at + SEQ.len() - 1..]);
    (before.as_bytes().to_vec(), after.as_bytes().to_vec())
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

tokio::task_local! {
    /// The action the running work is part of, when that is not the action its own
    /// steps would name (see [`as_part_of`]).
    static PART_OF: &'static str;
}

/// Runs `work` as part of the action `operation`: every audit entry it appends is
/// recorded under that name. The items of a bulk mutation are so found under
/// `bulkCancel`, with the bulk call's denials and failures, not under the single
/// action (`cancelRequest`) each item runs.
pub(crate) async fn as_part_of<F: std::future::Future>(
    operation: &'static str,
    work: F,
) -> F::Output {
    PART_OF.scope(operation, work).await
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
    let at = now();
    let part_of = PART_OF.try_with(|operation| *operation).ok();
    // Numbered and hashed below, once the chain head is locked.
    let mut rows: Vec<audit_event::Model> = entries
        .into_iter()
        .map(|entry| audit_event::Model {
            id: new_id(),
            org_id,
            seq: 0,
            occurred_at: at,
            actor_id: actor.id,
            actor_name: actor.name.chars().take(200).collect(),
            operation: part_of
                .unwrap_or(&entry.operation)
                .chars()
                .take(100)
                .collect(),
            object_type: entry.object_type,
            object_id: entry.object_id.map(|s| s.chars().take(200).collect()),
            outcome: entry.outcome.as_str().to_owned(),
            error_code: entry.error_code,
            before_digest: entry.before.as_ref().map(digest),
            after_digest: entry.after.as_ref().map(digest),
            prev_hash: String::new(),
            hash: String::new(),
        })
        .collect();
    let timeline = tx.take_timeline();
    let conn = tx.conn();
    if conn.get_database_backend() == DatabaseBackend::Postgres {
        chain_in_postgres(conn, org_id, &mut rows, timeline).await?;
    } else {
        chain_in_steps(conn, org_id, &mut rows, timeline).await?;
    }
    for row in &rows {
        tx.raise(DomainEvent::AuditAppended(Box::new(row.clone())));
    }
    Ok(rows)
}

fn missing_head(org_id: Uuid) -> Error {
    Error::Internal(format!(
        "audit chain head of organization {org_id} is missing"
    ))
}

/// Takes the next numbers from the chain head, hashes the rows here and writes rows
/// and head (SQLite and MariaDB: the head's row lock lasts from the first statement
/// to the commit either way).
async fn chain_in_steps<C: Conn>(
    conn: &C,
    org_id: Uuid,
    rows: &mut [audit_event::Model],
    timeline: Option<sea_orm::sea_query::InsertStatement>,
) -> Result<()> {
    let bump = audit_chain_head::Entity::update_many()
        .col_expr(
            audit_chain_head::Column::Seq,
            Expr::col(audit_chain_head::Column::Seq).add(rows.len() as i64),
        )
        .filter(audit_chain_head::Column::OrgId.eq(org_id));
    let head = if conn.support_returning() {
        bump.exec_with_returning(conn)
            .await?
            .pop()
            .ok_or_else(|| missing_head(org_id))?
    } else {
        if bump.exec(conn).await?.rows_affected != 1 {
            return Err(missing_head(org_id));
        }
        audit_chain_head::Entity::find_by_id(org_id)
            .one(conn)
            .await?
            .ok_or_else(|| missing_head(org_id))?
    };
    let first = head.seq - rows.len() as i64 + 1;
    let mut prev = head.hash;
    for (n, row) in rows.iter_mut().enumerate() {
        row.seq = first + n as i64;
        row.prev_hash = prev;
        row.hash = chain_hash(&row.prev_hash, row);
        prev = row.hash.clone();
    }
    if let Some(timeline) = timeline {
        conn.execute(&timeline).await?;
    }
    let insert = audit_event::Entity::insert_many(
        rows.iter().cloned().map(IntoActiveModel::into_active_model),
    )
    .into_query();
    conn.execute(&insert).await?;
    let new_head = audit_chain_head::Entity::update_many()
        .col_expr(audit_chain_head::Column::Hash, Expr::value(prev))
        .filter(audit_chain_head::Column::OrgId.eq(org_id))
        .into_query();
    conn.execute(&new_head).await?;
    Ok(())
}

/// Numbers, hashes and writes the rows, the new head and the transaction's timeline
/// rows in one statement (PostgreSQL). Every audited change of an organization
/// waits for its chain head, so the head is locked by this last statement before
/// the commit and held for one round trip, not three. The database hashes what
/// [`chain_hash`] hashes: the canonical JSON is sent in two parts, before and after
/// the sequence number, which only the locked head can tell.
async fn chain_in_postgres<C: Conn>(
    conn: &C,
    org_id: Uuid,
    rows: &mut [audit_event::Model],
    timeline: Option<sea_orm::sea_query::InsertStatement>,
) -> Result<()> {
    use sea_orm::sea_query::PostgresQueryBuilder;
    use sea_orm::{Statement, Value};
    let (timeline, mut values) = match timeline {
        Some(insert) => {
            let (sql, values) = insert.build(PostgresQueryBuilder);
            (Some(sql), values.0)
        }
        None => (None, Vec::new()),
    };
    let mut param = |value: Value| {
        values.push(value);
        format!("${}", values.len())
    };
    let org = param(org_id.into());
    let mut parts = Vec::with_capacity(rows.len());
    let mut fields = Vec::with_capacity(rows.len());
    for (n, row) in rows.iter().enumerate() {
        let (before, after) = canonical_parts(row);
        let n = n + 1;
        parts.push(format!(
            "({n}::bigint, {}::bytea, {}::bytea)",
            param(before.into()),
            param(after.into())
        ));
        fields.push(format!(
            "({n}::bigint, {}::uuid, {}::timestamptz, {}::uuid, {}::text, {}::text, {}::text, \
             {}::text, {}::text, {}::text, {}::text, {}::text)",
            param(row.id.into()),
            param(row.occurred_at.into()),
            param(row.actor_id.into()),
            param(row.actor_name.clone().into()),
            param(row.operation.clone().into()),
            param(row.object_type.clone().into()),
            param(row.object_id.clone().into()),
            param(row.outcome.clone().into()),
            param(row.error_code.clone().into()),
            param(row.before_digest.clone().into()),
            param(row.after_digest.clone().into()),
        ));
    }
    let timeline = timeline
        .map(|sql| format!(", timeline AS ({sql})"))
        .unwrap_or_default();
    let sql = format!(
        "WITH RECURSIVE \
         head AS (SELECT seq, hash FROM audit_chain_head WHERE org_id = {org} FOR UPDATE), \
         part (n, pre, post) AS (VALUES {parts}), \
         chain (n, seq, prev, hash) AS ( \
           SELECT 0::bigint, seq, hash::text, hash::text FROM head \
           UNION ALL \
           SELECT part.n, chain.seq + 1, chain.hash, \
             encode(sha256(convert_to(chain.hash, 'UTF8') || part.pre \
               || convert_to((chain.seq + 1)::text, 'UTF8') || part.post), 'hex') \
           FROM chain JOIN part ON part.n = chain.n + 1), \
         bump AS (UPDATE audit_chain_head SET seq = newest.seq, hash = newest.hash \
           FROM (SELECT seq, hash FROM chain ORDER BY n DESC LIMIT 1) AS newest \
           WHERE audit_chain_head.org_id = {org}), \
         audit AS (INSERT INTO audit_event (id, org_id, seq, occurred_at, actor_id, \
             actor_name, operation, object_type, object_id, outcome, error_code, \
             before_digest, after_digest, prev_hash, hash) \
           SELECT entry.id, {org}, chain.seq, entry.occurred_at, entry.actor_id, entry.actor_name, \
             entry.operation, entry.object_type, entry.object_id, entry.outcome, entry.error_code, \
             entry.before_digest, entry.after_digest, chain.prev, chain.hash \
           FROM (VALUES {fields}) AS entry (n, id, occurred_at, actor_id, actor_name, \
             operation, object_type, object_id, outcome, error_code, before_digest, \
             after_digest) \
           JOIN chain ON chain.n = entry.n \
           RETURNING seq, prev_hash, hash){timeline} \
         SELECT seq, prev_hash, hash FROM audit ORDER BY seq",
        parts = parts.join(", "),
        fields = fields.join(", "),
    );
    let chained = conn
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    if chained.len() != rows.len() {
        return Err(missing_head(org_id));
    }
    for (row, chained) in rows.iter_mut().zip(chained) {
        row.seq = chained.try_get("", "seq")?;
        row.prev_hash = chained.try_get("", "prev_hash")?;
        row.hash = chained.try_get("", "hash")?;
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The database hashes `prev || before || seq || after`: that must be the hash
    /// [`chain_hash`] checks, whatever the row holds.
    #[test]
    fn the_parts_around_the_sequence_number_hash_like_the_row() {
        let row = audit_event::Model {
            id: new_id(),
            org_id: new_id(),
            seq: 9_007_199_254_740_993,
            occurred_at: now(),
            actor_id: Some(new_id()),
            actor_name: "Jürgen \"Jo\" Ößler ,\"seq\":0,".to_owned(),
            operation: "approveAnswer".to_owned(),
            object_type: Some("SubjectRequest".to_owned()),
            object_id: Some(",\"seq\":0,".to_owned()),
            outcome: Outcome::Success.as_str().to_owned(),
            error_code: None,
            before_digest: Some(sha256_hex(b"before")),
            after_digest: None,
            prev_hash: GENESIS_HASH.to_owned(),
            hash: String::new(),
        };
        let (before, after) = canonical_parts(&row);
        let mut hasher = Sha256::new();
        hasher.update(row.prev_hash.as_bytes());
        hasher.update(&before);
        hasher.update(row.seq.to_string().as_bytes());
        hasher.update(&after);
        assert_eq!(
            hex::encode(hasher.finalize()),
            chain_hash(&row.prev_hash, &row)
        );
    }
}
