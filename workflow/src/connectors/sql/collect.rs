//! Collection from SQL sources: start at the fields that identify the subject, match
//! the verified identities, then follow the references declared in the register
//! breadth-first, in both directions.
//!
//! - One set-based, parameterized search per (table, column) and level
//!   (`= ANY($1)` on PostgreSQL, `IN (?, …)` in batches elsewhere): never one query
//!   per row, never a value in SQL text. A level's searches go to the source as one
//!   statement, which also fetches ahead the rows referencing the subject's rows
//!   through their primary key (see [`ahead`]).
//! - Identifier names come only from the register (validated as plain identifiers
//!   when mapped, checked again here) and from the source's own catalog; they are
//!   quoted.
//! - Only mapped columns are read, plus the primary key that names the record.
//! - Matching is exact: rows the database matched by its collation (case, accents,
//!   trailing spaces) but whose value differs are left out.
//! - Cycles end (each row is taken once, each value searched once per column); a
//!   dangling reference finds nothing and is not an error.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use sea_orm::sqlx::{self, Row};
use sha2::{Digest, Sha256};
use uuid::Uuid;

mod ahead;
mod erase;
mod sweep;

pub(super) use erase::erase;
pub(super) use sweep::holders;

use super::pools::{SourcePool, TableInfo};
use super::{Dialect, is_identifier};
use crate::collection::leaks::LeakKind;
use crate::connectors::{CollectError, CollectJob, Found, FoundValue};
use crate::register::fields::IdentityType;

/// Values per `IN (…)` list on MySQL and SQLite (SQLite allows 32766 parameters).
const BATCH: usize = 512;
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

/// How a row was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Reach {
    /// Matched by an identity, or a row referencing one of the subject's rows
    /// (an order of the customer): the subject's own; followed both ways.
    Own,
    /// A row one of the subject's rows references (an address, a product): only
    /// followed onwards, never back to its other referrers, which may be anybody's.
    Referenced,
}

/// A step of one level: search `column` of a table for values, reached as `reach`,
/// through `via` (the edge, when not an identity).
type Step = ((usize, usize), Reach, Option<usize>);

/// Average rows per searched value above which a step is flagged as fanning out.
const FAN_OUT_PER_VALUE: usize = 200;

/// Runs the traversal on a pooled connection.
pub(super) async fn collect(
    dialect: Dialect,
    pool: Arc<SourcePool>,
    job: &CollectJob<'_>,
) -> Result<Vec<Found>, CollectError> {
    let plan = plan(dialect, &pool.schema, &pool.tables, job)?;
    // Level 0: the identifying fields, searched by the identities of their type.
    let mut level: BTreeMap<Step, BTreeSet<String>> = BTreeMap::new();
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
            level
                .entry((plan.at[&field.id], Reach::Own, None))
                .or_default()
                .extend(values);
        }
    }
    let mut searched: HashSet<((usize, usize), String)> = HashSet::new();
    // Rows taken: (table, key) → index into `found` and how it was reached.
    let mut seen: HashMap<(usize, String), (usize, Reach)> = HashMap::new();
    // Values of single-column primary keys of rows taken: a reference to one of
    // them needs no query.
    let mut known_keys: HashSet<(usize, String)> = HashSet::new();
    let mut referenced_rows: Vec<(usize, Vec<Option<String>>, usize)> = Vec::new();
    let mut found: Vec<Found> = Vec::new();
    let mut origins = Origins::default();
    // Rows taken that were reached through a join on a non-unique column, or from
    // such a row: (table, key).
    let mut tainted_rows: HashSet<(usize, String)> = HashSet::new();
    let mut ahead = ahead::Ahead::default();
    while !level.is_empty() {
        let mut next: BTreeMap<Step, BTreeSet<String>> = BTreeMap::new();
        let work: Vec<(Step, Vec<String>)> = level
            .into_iter()
            .filter_map(|((at, reach, via), values)| {
                let table = &plan.tables[at.0];
                let is_pk = table.key_len == 1 && at.1 == 0;
                let values: Vec<String> = values
                    .into_iter()
                    .filter(|v| !(is_pk && known_keys.contains(&(at.0, v.clone()))))
                    .filter(|v| searched.insert((at, v.clone())))
                    .collect();
                (!values.is_empty()).then_some(((at, reach, via), values))
            })
            .collect();
        // The level's searches in one statement, with what the next levels will
        // search fetched ahead where it can be; their rows are taken in the same
        // order as if each step ran alone, one after another.
        let results = ahead::fetch_level(dialect, &pool, &plan, &work, &mut ahead).await?;
        for (((at, reach, via), values), rows) in work.into_iter().zip(results) {
            let table = &plan.tables[at.0];
            let is_pk = table.key_len == 1 && at.1 == 0;
            // Exactly the values searched for: a database compares by its collation
            // (MySQL's default ignores case, accents and trailing spaces, so
            // `ännä@exämple.com ` would find anna@example.com), so every row is
            // checked again, byte for byte, on the text the database returned.
            let wanted: HashSet<&str> = values.iter().map(String::as_str).collect();
            let rows: Vec<Vec<Option<String>>> = rows
                .into_iter()
                .filter(|row| row[at.1].as_deref().is_some_and(|v| wanted.contains(v)))
                .collect();
            let fans_out = via.is_some() && rows.len() > FAN_OUT_PER_VALUE * values.len();
            let non_unique = via.is_some() && reach == Reach::Own && !is_pk && {
                // Reached backwards through a reference whose referenced column is
                // not a primary key (a join on a non-unique column).
                let edge = plan.edges[via.unwrap_or_default()];
                let parent = &plan.tables[edge.to.0];
                !(parent.key_len == 1 && edge.to.1 == 0)
            };
            let edge_name = |e: usize| {
                let edge = plan.edges[e];
                format!(
                    "`{}.{}` → `{}.{}`",
                    plan.tables[edge.from.0].name,
                    plan.tables[edge.from.0].columns[edge.from.1],
                    plan.tables[edge.to.0].name,
                    plan.tables[edge.to.0].columns[edge.to.1]
                )
            };
            let mut first_of_step = true;
            for row in rows.iter() {
                let key = record_key(table, row);
                if let Some((i, before)) = seen.get(&(at.0, key.clone())).copied() {
                    // Reached again as the subject's own: follow it back now too.
                    if before == Reach::Referenced && reach == Reach::Own {
                        seen.insert((at.0, key.clone()), (i, Reach::Own));
                        let tainted = tainted_rows.contains(&(at.0, key.clone()));
                        follow(
                            &plan,
                            at.0,
                            row,
                            true,
                            tainted.then_some(key.as_str()),
                            &mut origins,
                            &mut next,
                        );
                    }
                    continue;
                }
                if table.key_len == 1
                    && let Some(v) = &row[0]
                {
                    known_keys.insert((at.0, v.clone()));
                }
                let values = table
                    .fields
                    .iter()
                    .filter_map(|&(field_id, ci)| {
                        row[ci].clone().map(|value| FoundValue { field_id, value })
                    })
                    .collect();
                let mut flags = Vec::new();
                if let (true, Some(e)) = (fans_out && first_of_step, via) {
                    flags.push((
                        LeakKind::FanOut,
                        format!(
                            "{} reached {} rows of `{}` from {} value(s): more than {FAN_OUT_PER_VALUE} per value",
                            edge_name(e),
                            rows.len(),
                            table.name,
                            wanted.len()
                        ),
                    ));
                }
                if let (true, Some(e)) = (non_unique, via) {
                    // Every row of such a step: any of them may be somebody else's.
                    flags.push((
                        LeakKind::SharedReference,
                        format!(
                            "{} row(s) of `{}` reached through {}, whose referenced column is not \
                             a primary key: rows of other subjects may share the value",
                            rows.len(),
                            table.name,
                            edge_name(e)
                        ),
                    ));
                } else if let Some(origin) = row[at.1].as_deref().and_then(|v| origins.taint(at, v))
                {
                    flags.push((
                        LeakKind::SharedReference,
                        format!(
                            "reached only from `{origin}`, a record reached through a join on a \
                             non-unique column: it may be another subject's"
                        ),
                    ));
                }
                let tainted = flags
                    .iter()
                    .any(|(kind, _)| *kind == LeakKind::SharedReference);
                if tainted {
                    tainted_rows.insert((at.0, key.clone()));
                }
                first_of_step = false;
                seen.insert((at.0, key.clone()), (found.len(), reach));
                if reach == Reach::Referenced {
                    referenced_rows.push((at.0, row.clone(), found.len()));
                }
                found.push(Found { key, values, flags });
                if found.len() > MAX_ROWS {
                    return Err(CollectError::Mapping(format!(
                        "more than {MAX_ROWS} rows reached; a reference of the source fans out \
                         too far (check the mapping of `{}`)",
                        table.name
                    )));
                }
                let key = &found[found.len() - 1].key;
                follow(
                    &plan,
                    at.0,
                    row,
                    reach == Reach::Own,
                    tainted.then_some(key.as_str()),
                    &mut origins,
                    &mut next,
                );
            }
        }
        level = next;
    }
    flag_shared(dialect, &pool, &plan, &referenced_rows, &seen, &mut found).await?;
    Ok(found)
}

/// Queues the next steps from a row: onwards to the rows it references, and, for
/// the subject's own rows (`back`), back to the rows that reference it.
fn follow(
    plan: &Plan,
    table: usize,
    row: &[Option<String>],
    back: bool,
    tainted_by: Option<&str>,
    origins: &mut Origins,
    next: &mut BTreeMap<Step, BTreeSet<String>>,
) {
    let mut queue = |at: (usize, usize), reach: Reach, edge: usize, v: &String| {
        match tainted_by {
            Some(key) => {
                origins
                    .tainted
                    .entry((at, v.clone()))
                    .or_insert_with(|| key.to_owned());
            }
            None => {
                origins.clean.insert((at, v.clone()));
            }
        }
        next.entry((at, reach, Some(edge)))
            .or_default()
            .insert(v.clone());
    };
    for (i, edge) in plan.edges.iter().enumerate() {
        if edge.from.0 == table
            && let Some(v) = &row[edge.from.1]
        {
            queue(edge.to, Reach::Referenced, i, v);
        }
        if back
            && edge.to.0 == table
            && let Some(v) = &row[edge.to.1]
        {
            queue(edge.from, Reach::Own, i, v);
        }
    }
}

/// Where the values to search next came from: rows reached cleanly, or rows reached
/// through a join on a non-unique column (tainted, with the first such record).
/// A row found only through tainted values is flagged too: another subject's order
/// reached through a shared postal code leads on to that subject's invoice and
/// customer row.
#[derive(Default)]
struct Origins {
    clean: HashSet<((usize, usize), String)>,
    tainted: HashMap<((usize, usize), String), String>,
}

impl Origins {
    /// The tainted record a row found at `at` by `value` was reached from, unless a
    /// clean row led there too.
    fn taint(&self, at: (usize, usize), value: &str) -> Option<&str> {
        let key = (at, value.to_owned());
        if self.clean.contains(&key) {
            return None;
        }
        self.tainted.get(&key).map(String::as_str)
    }
}

/// Flags rows the subject's rows reference that other rows, outside the subject's
/// data, reference too (a shared address, another customer's card on this
/// customer's order): one query per reference into their tables.
async fn flag_shared(
    dialect: Dialect,
    pool: &SourcePool,
    plan: &Plan,
    referenced: &[(usize, Vec<Option<String>>, usize)],
    seen: &HashMap<(usize, String), (usize, Reach)>,
    found: &mut [Found],
) -> Result<(), CollectError> {
    for edge in &plan.edges {
        let rows: Vec<&(usize, Vec<Option<String>>, usize)> = referenced
            .iter()
            .filter(|(t, row, _)| {
                // Still only referenced (not reached as the subject's own later).
                *t == edge.to.0
                    && seen
                        .get(&(*t, record_key(&plan.tables[*t], row)))
                        .map(|s| s.1)
                        == Some(Reach::Referenced)
            })
            .collect();
        if rows.is_empty() {
            continue;
        }
        let values: Vec<String> = rows
            .iter()
            .filter_map(|(_, row, _)| row[edge.to.1].clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let child = &plan.tables[edge.from.0];
        let referrers = query(dialect, pool, child, &child.columns[edge.from.1], &values).await?;
        let mut others: HashMap<&str, usize> = HashMap::new();
        for r in &referrers {
            let Some(v) = r[edge.from.1].as_deref() else {
                continue;
            };
            if !seen.contains_key(&(edge.from.0, record_key(child, r))) {
                *others.entry(v).or_default() += 1;
            }
        }
        for (_, row, i) in rows {
            let n = row[edge.to.1]
                .as_deref()
                .and_then(|v| others.get(v).copied())
                .unwrap_or(0);
            if n > 0 {
                found[*i].flags.push((
                    LeakKind::SharedReference,
                    format!(
                        "also referenced by {n} row(s) of `{}` (`{}`) outside the subject's data",
                        child.name, child.columns[edge.from.1]
                    ),
                ));
            }
        }
    }
    Ok(())
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

/// The length of an `IN (…)` list for `n` values: the next power of two, so that a
/// handful of statement texts cover every count and stay prepared (a new text costs
/// a prepare: on MySQL a round trip, on SQLite a parse of the whole list).
fn padded(n: usize) -> usize {
    n.next_power_of_two()
}

/// The values of a chunk, the last one repeated up to [`padded`] (a value listed
/// twice matches the same rows).
fn padding(chunk: &[String]) -> impl Iterator<Item = &String> {
    let last = chunk.last();
    chunk
        .iter()
        .chain(std::iter::repeat_n(last, padded(chunk.len()) - chunk.len()).flatten())
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
            pool.count_statement();
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
                    vec!["?"; padded(chunk.len())].join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for v in padding(chunk) {
                    q = q.bind(v);
                }
                pool.count_statement();
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
                    vec!["?"; padded(chunk.len())].join(", ")
                );
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for v in padding(chunk) {
                    q = q.bind(v);
                }
                pool.count_statement();
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
    fn in_lists_are_padded_to_a_power_of_two_with_the_last_value() {
        let values: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        assert_eq!(
            padding(&values).map(String::as_str).collect::<Vec<_>>(),
            ["a", "b", "c", "c"]
        );
        assert_eq!(padding(&values[..2]).count(), 2);
        assert_eq!(padding(&values[..1]).count(), 1);
        assert_eq!(padded(BATCH), BATCH, "a full chunk needs no padding");
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
