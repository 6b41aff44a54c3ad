//! The retention sweep's view of a SQL source: every row of a table that identifies
//! subjects (a customer), with its identities and the latest value of each trigger
//! field reachable from it through the declared references (the customer's last
//! order), computed by the database.
//!
//! - A trigger field in the identifying table itself is read with the row.
//! - A trigger field elsewhere is joined along the shortest chain of declared
//!   references to the identifying table, aggregated with `MAX` and grouped by the
//!   column the last reference points at: one statement per trigger field and
//!   identifying table, never one per row. Dates stored as text compare correctly
//!   when they are ISO 8601, which is what the workflow parses.
//! - Identifier names come from the register and the catalog only, quoted.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::{self, Row};
use uuid::Uuid;

use super::{Dialect, Plan, plan, quote, record_key};
use crate::connectors::sql::pools::{Pool, SourcePool};
use crate::connectors::{CollectError, CollectJob, Holder};
use crate::register::fields::IdentityType;

/// How long one sweep statement may take (it reads whole tables).
const SWEEP_TIMEOUT: Duration = Duration::from_secs(600);

/// One step of a join path: from (table, column) to (table, column).
type Step = ((usize, usize), (usize, usize));

/// The latest trigger values of an identifying table found through references: the
/// column of the table the path ends at, and the latest value by that column's value.
type Joined = Vec<(usize, HashMap<String, String>)>;

/// The shortest chains of declared references from `start` to every table in
/// `targets` that can be reached (breadth-first; references are followed both ways).
fn paths(plan: &Plan, start: usize, targets: &HashSet<usize>) -> Vec<(usize, Vec<Step>)> {
    let mut previous: HashMap<usize, Option<Step>> = HashMap::from([(start, None)]);
    let mut queue = VecDeque::from([start]);
    let mut out = Vec::new();
    while let Some(table) = queue.pop_front() {
        if targets.contains(&table) {
            let mut path = Vec::new();
            let mut at = table;
            while let Some(Some(step)) = previous.get(&at) {
                path.push(*step);
                at = step.0.0;
            }
            path.reverse();
            out.push((table, path));
        }
        for edge in &plan.edges {
            for (from, to) in [(edge.from, edge.to), (edge.to, edge.from)] {
                if from.0 == table && !previous.contains_key(&to.0) {
                    previous.insert(to.0, Some((from, to)));
                    queue.push_back(to.0);
                }
            }
        }
    }
    out
}

fn cast(dialect: Dialect, expression: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("({expression})::text"),
        Dialect::Mysql => format!("CAST({expression} AS CHAR)"),
        Dialect::Sqlite => format!("CAST({expression} AS TEXT)"),
    }
}

/// The statement that gives, per value of the identifying table's column the path
/// ends at, the latest value of the trigger column (`trigger`) at the path's start.
fn aggregate_sql(dialect: Dialect, plan: &Plan, trigger: (usize, usize), path: &[Step]) -> String {
    let column = |alias: usize, (t, c): (usize, usize)| {
        format!("a{alias}.{}", quote(dialect, &plan.tables[t].columns[c]))
    };
    let mut from = format!("{} a0", plan.tables[trigger.0].sql_name);
    // The path's last step leaves from the table at `path.len() - 1`; earlier steps
    // join the next table in.
    for (i, (left, right)) in path[..path.len() - 1].iter().enumerate() {
        from.push_str(&format!(
            " JOIN {} a{} ON {} = {}",
            plan.tables[right.0].sql_name,
            i + 1,
            column(i, *left),
            column(i + 1, *right)
        ));
    }
    let last = path.len() - 1;
    let key = column(last, path[last].0);
    let value = column(0, trigger);
    format!(
        "SELECT {}, {} FROM {from} WHERE {value} IS NOT NULL AND {key} IS NOT NULL GROUP BY {key}",
        cast(dialect, &key),
        cast(dialect, &format!("MAX({value})")),
    )
}

async fn rows(
    pool: &SourcePool,
    sql: String,
    width: usize,
) -> Result<Vec<Vec<Option<String>>>, CollectError> {
    let unreachable = |e: sqlx::Error| CollectError::Unreachable(e.to_string());
    macro_rules! fetch {
        ($pool:expr) => {{
            let fetched = tokio::time::timeout(
                SWEEP_TIMEOUT,
                sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all($pool),
            )
            .await
            .map_err(|_| {
                CollectError::Unreachable(format!(
                    "a sweep statement took longer than {} seconds",
                    SWEEP_TIMEOUT.as_secs()
                ))
            })?
            .map_err(unreachable)?;
            fetched
                .iter()
                .map(|r| {
                    (0..width)
                        .map(|i| r.try_get::<Option<String>, _>(i))
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(unreachable)
                })
                .collect::<Result<Vec<_>, _>>()
        }};
    }
    pool.count_statement();
    match &pool.pool {
        Pool::Postgres(p) => fetch!(p),
        Pool::Mysql(p) => fetch!(p),
        Pool::Sqlite(p) => fetch!(p),
    }
}

/// Every row of the source's identifying tables, with its identities and the latest
/// values of the trigger fields `triggers` found for it.
pub(in crate::connectors::sql) async fn holders(
    dialect: Dialect,
    pool: Arc<SourcePool>,
    job: &CollectJob<'_>,
    triggers: &[Uuid],
) -> Result<Vec<Holder>, CollectError> {
    let plan = plan(dialect, &pool.schema, &pool.tables, job)?;
    // The identifying columns of each table that has some.
    let mut identifying: HashMap<usize, Vec<(usize, IdentityType)>> = HashMap::new();
    for field in job.fields.iter().filter(|f| f.identifies_subject) {
        if let Some(kind) = field
            .identity_type
            .as_deref()
            .and_then(|k| k.parse::<IdentityType>().ok())
        {
            let (t, c) = plan.at[&field.id];
            identifying.entry(t).or_default().push((c, kind));
        }
    }
    if identifying.is_empty() {
        return Err(CollectError::Mapping(
            "no field of the source identifies the subject".to_owned(),
        ));
    }
    let targets: HashSet<usize> = identifying.keys().copied().collect();
    // Per identifying table: its own trigger columns, and per (column the path
    // ends at) the latest values by that column's value.
    let mut own: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut joined: HashMap<usize, Joined> = HashMap::new();
    for trigger in triggers {
        let Some(field) = job.fields.iter().find(|f| f.id == *trigger) else {
            continue;
        };
        let at = plan.at[trigger];
        let reached = paths(&plan, at.0, &targets);
        if reached.is_empty() {
            return Err(CollectError::Mapping(format!(
                "the trigger field `{}` is not linked to a table that identifies the subject by declared references",
                field.location
            )));
        }
        for (table, path) in reached {
            if path.is_empty() {
                own.entry(table).or_default().push(at.1);
                continue;
            }
            let sql = aggregate_sql(dialect, &plan, at, &path);
            let mut latest = HashMap::new();
            for row in rows(&pool, sql, 2).await? {
                if let [Some(key), Some(value)] = &row[..] {
                    latest.insert(key.clone(), value.clone());
                }
            }
            let end = path[path.len() - 1].1;
            joined.entry(table).or_default().push((end.1, latest));
        }
    }
    let mut out = Vec::new();
    let mut tables: Vec<usize> = identifying.keys().copied().collect();
    tables.sort_unstable();
    for t in tables {
        let table = &plan.tables[t];
        let select: Vec<String> = table
            .columns
            .iter()
            .map(|c| cast(dialect, &quote(dialect, c)))
            .collect();
        let sql = format!("SELECT {} FROM {}", select.join(", "), table.sql_name);
        for row in rows(&pool, sql, table.columns.len()).await? {
            let identities: Vec<(IdentityType, String)> = identifying[&t]
                .iter()
                .filter_map(|(c, kind)| {
                    row[*c]
                        .as_ref()
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| (*kind, v.clone()))
                })
                .collect();
            let mut last: Vec<String> = own
                .get(&t)
                .into_iter()
                .flatten()
                .filter_map(|c| row[*c].clone())
                .collect();
            for (c, latest) in joined.get(&t).into_iter().flatten() {
                if let Some(v) = row[*c].as_ref().and_then(|k| latest.get(k)) {
                    last.push(v.clone());
                }
            }
            out.push(Holder {
                key: record_key(table, &row),
                identities,
                last,
            });
        }
    }
    Ok(out)
}
