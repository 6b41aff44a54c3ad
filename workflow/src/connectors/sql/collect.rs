//! Collection from SQL sources: start at the fields that identify the subject, match
//! the verified identities, then follow the references declared in the register
//! breadth-first, in both directions.
//!
//! - One set-based, parameterized query per (table, column) and level
//!   (`= ANY($1)` on PostgreSQL, `IN (?, …)` in batches elsewhere): never one query
//!   per row, never a value in SQL text.
//! - Identifier names come only from the register (validated as plain identifiers
//!   when mapped, checked again here) and from the source's own catalog; they are
//!   quoted.
//! - Only mapped columns are read, plus the primary key that names the record.
//! - Cycles end (each row is taken once, each value searched once per column); a
//!   dangling reference finds nothing and is not an error.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::{self, Row};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::pools::{SourcePool, TableInfo};
use super::{Dialect, is_identifier};
use crate::connectors::{CollectError, CollectJob, Found, FoundValue};
use crate::register::fields::IdentityType;

/// Values per `IN (…)` list on MySQL and SQLite (SQLite allows 32766 parameters).
const BATCH: usize = 500;
/// How long one query may take.
const QUERY_TIMEOUT: Duration = Duration::from_secs(30);
/// Rows one collection may reach in a source before it stops as a mapping problem
/// (a reference that fans out to the whole table).
pub(crate) const MAX_ROWS: usize = 100_000;

/// A mapped table: its qualified name and what is read from it.
#[derive(Debug)]
struct Table {
    /// Quoted, qualified name.
    sql_name: String,
    /// Display name (`customers`, `crm.contacts`).
    name: String,
    /// Columns read: primary key first, then mapped columns (lower case, unique).
    columns: Vec<String>,
    /// How many of `columns` form the primary key (0: none; the record is named by
    /// a digest of its values).
    key_len: usize,
    /// Mapped fields: (field id, index into `columns`).
    fields: Vec<(Uuid, usize)>,
    /// Column types from the catalog (lower-case column → type), for casts.
    types: HashMap<String, String>,
}

/// A declared reference between two mapped columns of the source.
#[derive(Debug, Clone, Copy)]
struct Edge {
    from: (usize, usize),
    to: (usize, usize),
}

fn split_location(location: &str) -> Option<(Option<&str>, &str, &str)> {
    let parts: Vec<&str> = location.split('.').collect();
    if !parts.iter().all(|p| is_identifier(p)) {
        return None;
    }
    match parts.as_slice() {
        [t, c] => Some((None, t, c)),
        [s, t, c] => Some((Some(s), t, c)),
        _ => None,
    }
}

fn quote(dialect: Dialect, ident: &str) -> String {
    debug_assert!(is_identifier(ident));
    match dialect {
        Dialect::Mysql => format!("`{ident}`"),
        Dialect::Postgres | Dialect::Sqlite => format!("\"{ident}\""),
    }
}

/// The plan of one source: tables, where each field is, and the edges.
struct Plan {
    tables: Vec<Table>,
    edges: Vec<Edge>,
    /// Where each field is: field id → (table, column index).
    at: HashMap<Uuid, (usize, usize)>,
}

fn plan(
    dialect: Dialect,
    default_schema: &str,
    catalog: &HashMap<String, TableInfo>,
    job: &CollectJob<'_>,
) -> Result<Plan, CollectError> {
    let mut tables: Vec<Table> = Vec::new();
    let mut by_name: HashMap<String, usize> = HashMap::new();
    let mut at = HashMap::new();
    for field in job.fields {
        let (schema, table, column) = split_location(&field.location).ok_or_else(|| {
            CollectError::Mapping(format!(
                "field `{}` is not at `table.column`",
                field.location
            ))
        })?;
        let schema = schema.unwrap_or(default_schema);
        let qualified = format!("{}.{}", schema.to_lowercase(), table.to_lowercase());
        let index = match by_name.get(&qualified) {
            Some(&i) => i,
            None => {
                let info = catalog.get(&qualified).ok_or_else(|| {
                    CollectError::Mapping(format!(
                        "table `{table}` of field `{}` does not exist in the source",
                        field.location
                    ))
                })?;
                let key: Vec<String> = info.primary_key.clone();
                let sql_name = match dialect {
                    // SQLite reads its one schema; an attached schema is not a source.
                    Dialect::Sqlite => quote(dialect, &info.name),
                    _ => format!("{}.{}", quote(dialect, schema), quote(dialect, &info.name)),
                };
                tables.push(Table {
                    sql_name,
                    name: if schema == default_schema {
                        info.name.clone()
                    } else {
                        format!("{schema}.{}", info.name)
                    },
                    key_len: key.len(),
                    columns: key,
                    fields: Vec::new(),
                    types: info.types.clone(),
                });
                by_name.insert(qualified.clone(), tables.len() - 1);
                tables.len() - 1
            }
        };
        let t = &mut tables[index];
        let column = column.to_lowercase();
        if !t.types.contains_key(&column) {
            return Err(CollectError::Mapping(format!(
                "column `{}` of field `{}` does not exist in the source",
                column, field.location
            )));
        }
        let ci = match t.columns.iter().position(|c| *c == column) {
            Some(ci) => ci,
            None => {
                t.columns.push(column);
                t.columns.len() - 1
            }
        };
        t.fields.push((field.id, ci));
        at.insert(field.id, (index, ci));
    }
    let edges = job
        .fields
        .iter()
        .filter_map(|f| {
            let to = at.get(&f.references_id?)?;
            Some(Edge {
                from: at[&f.id],
                to: *to,
            })
        })
        .collect();
    Ok(Plan { tables, edges, at })
}

/// The values an identity is searched by in a column: the normalized value and the
/// value as given (a shop may store `Anna@Example.com`).
fn search_values(job: &CollectJob<'_>, kind: IdentityType) -> BTreeSet<String> {
    job.identities
        .iter()
        .filter(|i| i.kind == kind)
        .flat_map(|i| std::iter::once(i.value.clone()).chain(i.as_given.clone()))
        .filter(|v| !v.is_empty())
        .collect()
}

/// Runs the traversal on a pooled connection.
pub(super) async fn collect(
    dialect: Dialect,
    pool: Arc<SourcePool>,
    job: &CollectJob<'_>,
) -> Result<Vec<Found>, CollectError> {
    let plan = plan(dialect, &pool.schema, &pool.tables, job)?;
    // Level 0: the identifying fields, searched by the identities of their type.
    let mut level: BTreeMap<(usize, usize), BTreeSet<String>> = BTreeMap::new();
    for field in job.fields.iter().filter(|f| f.identifies_subject) {
        let Some(kind) = field
            .identity_type
            .as_deref()
            .and_then(|k| k.parse::<IdentityType>().ok())
        else {
            continue;
        };
        let values = search_values(job, kind);
        if !values.is_empty() {
            level.entry(plan.at[&field.id]).or_default().extend(values);
        }
    }
    let mut searched: HashSet<((usize, usize), String)> = HashSet::new();
    let mut seen: HashSet<(usize, String)> = HashSet::new();
    let mut found: Vec<Found> = Vec::new();
    while !level.is_empty() {
        let mut next: BTreeMap<(usize, usize), BTreeSet<String>> = BTreeMap::new();
        for (at, values) in level {
            let values: Vec<String> = values
                .into_iter()
                .filter(|v| searched.insert((at, v.clone())))
                .collect();
            if values.is_empty() {
                continue;
            }
            let table = &plan.tables[at.0];
            let rows = query(dialect, &pool, table, &table.columns[at.1], &values).await?;
            for row in rows {
                let key = record_key(table, &row);
                if !seen.insert((at.0, key.clone())) {
                    continue;
                }
                // Follow every edge that touches this table, in both directions.
                for edge in &plan.edges {
                    for (here, there) in [(edge.from, edge.to), (edge.to, edge.from)] {
                        if here.0 == at.0
                            && let Some(v) = &row[here.1]
                        {
                            next.entry(there).or_default().insert(v.clone());
                        }
                    }
                }
                let values = table
                    .fields
                    .iter()
                    .filter_map(|&(field_id, ci)| {
                        row[ci].clone().map(|value| FoundValue { field_id, value })
                    })
                    .collect();
                found.push(Found { key, values });
                if found.len() > MAX_ROWS {
                    return Err(CollectError::Mapping(format!(
                        "more than {MAX_ROWS} rows reached; a reference of the source fans out \
                         too far (check the mapping of `{}`)",
                        table.name
                    )));
                }
            }
        }
        level = next;
    }
    Ok(found)
}

/// Names a row: `customers(id=42)`; without a primary key, a digest of its values.
fn record_key(table: &Table, row: &[Option<String>]) -> String {
    if table.key_len > 0 {
        let parts: Vec<String> = table.columns[..table.key_len]
            .iter()
            .zip(row)
            .map(|(c, v)| format!("{c}={}", v.as_deref().unwrap_or("NULL")))
            .collect();
        format!("{}({})", table.name, parts.join(","))
    } else {
        let mut digest = Sha256::new();
        for v in row {
            digest.update(v.as_deref().unwrap_or("\u{0}NULL").as_bytes());
            digest.update([0xff]);
        }
        format!("{}(#{})", table.name, &hex::encode(digest.finalize())[..16])
    }
}

/// A cast of `text[]` to the column's type on PostgreSQL, when the catalog names a
/// plain built-in type; else the column is compared as text.
fn pg_array_cast(data_type: &str) -> Option<&str> {
    let plain = !data_type.is_empty()
        && data_type
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == ' ')
        && !matches!(data_type, "user-defined" | "array");
    plain.then_some(data_type)
}

async fn query(
    dialect: Dialect,
    pool: &SourcePool,
    table: &Table,
    column: &str,
    values: &[String],
) -> Result<Vec<Vec<Option<String>>>, CollectError> {
    let unreachable = |e: sqlx::Error| CollectError::Unreachable(e.to_string());
    let timed_out = |_| {
        CollectError::Unreachable(format!(
            "a query on `{}` took longer than {} seconds",
            table.name,
            QUERY_TIMEOUT.as_secs()
        ))
    };
    let width = table.columns.len();
    let decode = |row: &dyn Fn(usize) -> Result<Option<String>, sqlx::Error>| {
        (0..width).map(row).collect::<Result<Vec<_>, _>>()
    };
    let mut out = Vec::new();
    match (dialect, &pool.pool) {
        (Dialect::Postgres, super::pools::Pool::Postgres(pg)) => {
            let select: Vec<String> = table
                .columns
                .iter()
                .map(|c| format!("{}::text", quote(dialect, c)))
                .collect();
            let data_type = table.types.get(column).map(String::as_str).unwrap_or("");
            let condition = match pg_array_cast(data_type) {
                Some(t) => format!("{} = ANY($1::text[]::{t}[])", quote(dialect, column)),
                None => format!("{}::text = ANY($1::text[])", quote(dialect, column)),
            };
            let sql = format!(
                "SELECT {} FROM {} WHERE {condition}",
                select.join(", "),
                table.sql_name
            );
            let rows = tokio::time::timeout(
                QUERY_TIMEOUT,
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(values)
                    .fetch_all(pg),
            )
            .await
            .map_err(timed_out)?
            .map_err(unreachable)?;
            for r in &rows {
                out.push(decode(&|i| r.try_get::<Option<String>, _>(i)).map_err(unreachable)?);
            }
        }
        (Dialect::Mysql, super::pools::Pool::Mysql(my)) => {
            let select: Vec<String> = table
                .columns
                .iter()
                .map(|c| format!("CAST({} AS CHAR)", quote(dialect, c)))
                .collect();
            for chunk in values.chunks(BATCH) {
                let sql = format!(
                    "SELECT {} FROM {} WHERE {} IN ({})",
                    select.join(", "),
                    table.sql_name,
                    quote(dialect, column),
                    vec!["?"; chunk.len()].join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for v in chunk {
                    q = q.bind(v);
                }
                let rows = tokio::time::timeout(QUERY_TIMEOUT, q.fetch_all(my))
                    .await
                    .map_err(timed_out)?
                    .map_err(unreachable)?;
                for r in &rows {
                    out.push(decode(&|i| r.try_get::<Option<String>, _>(i)).map_err(unreachable)?);
                }
            }
        }
        (Dialect::Sqlite, super::pools::Pool::Sqlite(lite)) => {
            let select: Vec<String> = table
                .columns
                .iter()
                .map(|c| format!("CAST({} AS TEXT)", quote(dialect, c)))
                .collect();
            for chunk in values.chunks(BATCH) {
                let sql = format!(
                    "SELECT {} FROM {} WHERE {} IN ({})",
                    select.join(", "),
                    table.sql_name,
                    quote(dialect, column),
                    vec!["?"; chunk.len()].join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for v in chunk {
                    q = q.bind(v);
                }
                let rows = tokio::time::timeout(QUERY_TIMEOUT, q.fetch_all(lite))
                    .await
                    .map_err(timed_out)?
                    .map_err(unreachable)?;
                for r in &rows {
                    out.push(decode(&|i| r.try_get::<Option<String>, _>(i)).map_err(unreachable)?);
                }
            }
        }
        _ => {
            return Err(CollectError::Unreachable(
                "the pool does not match the source's kind".to_owned(),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_split_into_plain_identifiers_only() {
        assert_eq!(
            split_location("customers.email"),
            Some((None, "customers", "email"))
        );
        assert_eq!(
            split_location("crm.contacts.email"),
            Some((Some("crm"), "contacts", "email"))
        );
        for bad in ["customers", "a.b.c.d", "t.\"x\"", "t.x; DROP", "t.`x`", ""] {
            assert_eq!(split_location(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_plain_type_names_become_casts() {
        assert_eq!(pg_array_cast("bigint"), Some("bigint"));
        assert_eq!(
            pg_array_cast("timestamp with time zone"),
            Some("timestamp with time zone")
        );
        assert_eq!(pg_array_cast("user-defined"), None);
        assert_eq!(pg_array_cast("numeric(12,2)"), None);
        assert_eq!(pg_array_cast("text); drop"), None);
    }
}
