//! Carrying out an erasure in a SQL source: the rows a fresh search found, each
//! deleted or updated by primary key, all in one transaction on a connection of
//! its own (the collection pool may be read-only). Primary-key columns are never
//! changed: they name the row, and other rows (an order kept under a legal hold)
//! may point to them. A replacement text for a column that holds no text (a date,
//! a number) becomes NULL.

use std::collections::HashSet;

use sea_orm::sqlx::{self, Connection};

use super::{Dialect, Plan, QUERY_TIMEOUT, Table, pg_array_cast, plan, quote, record_key};
use crate::connectors::guard::SourceGuard;
use crate::connectors::sql::SourceConnection;
use crate::connectors::sql::pools::SourcePool;
use crate::connectors::{CollectError, CollectJob, Erased, RowChange};

/// Whether a column of this declared type holds text (SQLite: any type with text
/// affinity, or none).
fn holds_text(dialect: Dialect, data_type: &str) -> bool {
    let t = data_type.to_ascii_lowercase();
    t.contains("char")
        || t.contains("text")
        || t.contains("clob")
        || t.contains("string")
        || (dialect == Dialect::Sqlite && t.is_empty())
}

/// The key values of `key` in `table`, when `key` names a row of it: the inverse of
/// [`record_key`], checked by building the key again.
fn parse_key(table: &Table, key: &str) -> Option<Vec<String>> {
    if table.key_len == 0 {
        return None;
    }
    let inner = key
        .strip_prefix(table.name.as_str())?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let columns = &table.columns[..table.key_len];
    let mut rest = inner;
    let mut values = Vec::with_capacity(columns.len());
    for (i, column) in columns.iter().enumerate() {
        rest = rest.strip_prefix(column.as_str())?.strip_prefix('=')?;
        match columns.get(i + 1) {
            Some(next) => {
                let at = rest.find(&format!(",{next}="))?;
                values.push(rest[..at].to_owned());
                rest = &rest[at + 1..];
            }
            None => {
                values.push(rest.to_owned());
                rest = "";
            }
        }
    }
    let rebuilt: Vec<Option<String>> = values.iter().cloned().map(Some).collect();
    (rest.is_empty() && record_key(table, &rebuilt) == key).then_some(values)
}

/// A statement and its parameters.
type Statement = (String, Vec<Option<String>>);

struct Builder {
    dialect: Dialect,
    params: Vec<Option<String>>,
}

impl Builder {
    fn placeholder(&mut self, value: Option<String>) -> String {
        self.params.push(value);
        match self.dialect {
            Dialect::Postgres => format!("${}", self.params.len()),
            Dialect::Mysql | Dialect::Sqlite => "?".to_owned(),
        }
    }

    /// `"id" = $1` (with a cast of the text parameter to the column's type on
    /// PostgreSQL) for each key column.
    fn key_condition(&mut self, table: &Table, values: &[String]) -> String {
        let mut parts = Vec::with_capacity(values.len());
        for (column, value) in table.columns[..table.key_len].iter().zip(values) {
            let p = self.placeholder(Some(value.clone()));
            let quoted = quote(self.dialect, column);
            parts.push(match self.dialect {
                Dialect::Postgres => {
                    let data_type = table.types.get(column).map(String::as_str).unwrap_or("");
                    match pg_array_cast(data_type) {
                        Some(t) => format!("{quoted} = CAST({p}::text AS {t})"),
                        None => format!("{quoted}::text = {p}"),
                    }
                }
                Dialect::Mysql | Dialect::Sqlite => format!("{quoted} = {p}"),
            });
        }
        parts.join(" AND ")
    }

    /// ` AND <column as text> = $n` (or `IS NULL`) for each expected value, the
    /// column read as text as collection reads it; an expected field outside the
    /// table refuses the change.
    fn expect_condition(
        &mut self,
        plan: &Plan,
        table: &Table,
        change: &RowChange,
    ) -> Result<String, CollectError> {
        let mut out = String::new();
        for (field, value) in &change.expect {
            let column = plan
                .at
                .get(field)
                .filter(|(t, _)| std::ptr::eq(&plan.tables[*t], table))
                .map(|(_, ci)| &table.columns[*ci])
                .ok_or_else(|| {
                    CollectError::Mapping(format!(
                        "record `{}`: a value it is expected to hold is not mapped in its table",
                        change.key
                    ))
                })?;
            let quoted = quote(self.dialect, column);
            let as_text = match self.dialect {
                Dialect::Postgres => format!("{quoted}::text"),
                Dialect::Mysql => format!("CAST({quoted} AS CHAR)"),
                Dialect::Sqlite => format!("CAST({quoted} AS TEXT)"),
            };
            match value {
                Some(v) => {
                    let p = self.placeholder(Some(v.clone()));
                    out.push_str(&format!(" AND {as_text} = {p}"));
                }
                None => out.push_str(&format!(" AND {quoted} IS NULL")),
            }
        }
        Ok(out)
    }
}

/// Builds the statements of `changes`; refuses keys that name no row of a mapped
/// table with a primary key.
fn statements(
    dialect: Dialect,
    plan: &Plan,
    changes: &[RowChange],
) -> Result<(Vec<Option<Statement>>, Erased), CollectError> {
    let mut erased = Erased::default();
    for (&field, &(t, ci)) in &plan.at {
        if ci < plan.tables[t].key_len {
            erased.key_fields.insert(field);
        }
    }
    let mut out = Vec::with_capacity(changes.len());
    for change in changes {
        let located = plan
            .tables
            .iter()
            .find_map(|t| parse_key(t, &change.key).map(|values| (t, values)));
        let Some((table, values)) = located else {
            return Err(CollectError::Mapping(format!(
                "record `{}` has no primary key Auskunft can address it by; erase it by hand",
                change.key
            )));
        };
        let mut b = Builder {
            dialect,
            params: Vec::new(),
        };
        if change.delete {
            let condition = b.key_condition(table, &values);
            let expected = b.expect_condition(plan, table, change)?;
            out.push(Some((
                format!("DELETE FROM {} WHERE {condition}{expected}", table.sql_name),
                b.params,
            )));
            continue;
        }
        let mut sets = Vec::new();
        let mut done = HashSet::new();
        for (field, value) in &change.set {
            let Some(&(_, ci)) = plan.at.get(field) else {
                continue;
            };
            if ci < table.key_len || !done.insert(ci) {
                continue;
            }
            let column = &table.columns[ci];
            let text = table
                .types
                .get(column)
                .is_some_and(|t| holds_text(dialect, t));
            let value = match value {
                Some(_) if !text && !change.typed => {
                    erased.nulled.insert(*field);
                    None
                }
                other => other.clone(),
            };
            // NULL is written as the literal: a text parameter would not fit a
            // column of another type on PostgreSQL, where a typed value is cast.
            let p = match value {
                Some(v) if !text && dialect == Dialect::Postgres => {
                    let data_type = table.types.get(column).map(String::as_str).unwrap_or("");
                    let Some(t) = pg_array_cast(data_type) else {
                        return Err(CollectError::Mapping(format!(
                            "`{}.{column}` has a type Auskunft cannot write ({data_type}); \
                             change it by hand",
                            table.name
                        )));
                    };
                    format!("CAST({}::text AS {t})", b.placeholder(Some(v)))
                }
                Some(v) => b.placeholder(Some(v)),
                None => "NULL".to_owned(),
            };
            sets.push(format!("{} = {p}", quote(dialect, column)));
        }
        if sets.is_empty() {
            out.push(None);
            continue;
        }
        // Parameters are numbered in the order they were made: SET first, then WHERE.
        let set = sets.join(", ");
        let condition = b.key_condition(table, &values);
        let expected = b.expect_condition(plan, table, change)?;
        out.push(Some((
            format!(
                "UPDATE {} SET {set} WHERE {condition}{expected}",
                table.sql_name
            ),
            b.params,
        )));
    }
    Ok((out, erased))
}

/// Runs the statements in one transaction; the rows each one changed.
macro_rules! run_all {
    ($conn:expr, $statements:expr) => {{
        let unreachable = |e: sqlx::Error| CollectError::Unreachable(e.to_string());
        let mut tx = $conn.begin().await.map_err(unreachable)?;
        let mut affected = Vec::with_capacity($statements.len());
        for statement in $statements {
            match statement {
                None => affected.push(0),
                Some((sql, params)) => {
                    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.clone()));
                    for p in params {
                        q = q.bind(p.clone());
                    }
                    affected.push(
                        q.execute(&mut *tx)
                            .await
                            .map_err(unreachable)?
                            .rows_affected(),
                    );
                }
            }
        }
        tx.commit().await.map_err(unreachable)?;
        affected
    }};
}

/// Carries out `changes` in the source of `job`, in one transaction.
pub(in crate::connectors::sql) async fn erase(
    dialect: Dialect,
    pool: &SourcePool,
    guard: &SourceGuard,
    job: &CollectJob<'_>,
    changes: &[RowChange],
) -> Result<Erased, CollectError> {
    let plan = plan(dialect, &pool.schema, &pool.tables, job)?;
    let (statements, mut erased) = statements(dialect, &plan, changes)?;
    if statements.iter().all(Option::is_none) {
        erased.affected = vec![0; statements.len()];
        return Ok(erased);
    }
    let (conn, _) = dialect
        .connect_writable(guard, job.config)
        .await
        .map_err(CollectError::from)?;
    let run = async {
        match conn {
            SourceConnection::Postgres(mut c) => Ok::<_, CollectError>(run_all!(c, &statements)),
            SourceConnection::Mysql(mut c) => Ok(run_all!(c, &statements)),
            SourceConnection::Sqlite(mut c) => Ok(run_all!(c, &statements)),
        }
    };
    erased.affected = tokio::time::timeout(QUERY_TIMEOUT * 2, run)
        .await
        .map_err(|_| {
            CollectError::Unreachable(format!(
                "the erasure took longer than {} seconds and was rolled back",
                (QUERY_TIMEOUT * 2).as_secs()
            ))
        })??;
    Ok(erased)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn table(name: &str, key: &[&str]) -> Table {
        Table {
            sql_name: format!("\"{name}\""),
            name: name.to_owned(),
            columns: key
                .iter()
                .map(|c| (*c).to_owned())
                .chain(["email".to_owned()])
                .collect(),
            key_len: key.len(),
            fields: Vec::new(),
            types: HashMap::new(),
        }
    }

    #[test]
    fn record_keys_parse_back_to_their_key_values() {
        let t = table("customers", &["id"]);
        assert_eq!(
            parse_key(&t, "customers(id=42)"),
            Some(vec!["42".to_owned()])
        );
        assert_eq!(
            parse_key(&t, "customers(id=a,b=c)"),
            Some(vec!["a,b=c".to_owned()])
        );
        assert_eq!(parse_key(&t, "orders(id=42)"), None);
        assert_eq!(parse_key(&t, "customers(ident=42)"), None);
        assert_eq!(parse_key(&t, "customers(#0011223344556677)"), None);
        let t = table("crm.lines", &["order_id", "line"]);
        assert_eq!(
            parse_key(&t, "crm.lines(order_id=7,line=2)"),
            Some(vec!["7".to_owned(), "2".to_owned()])
        );
        assert_eq!(parse_key(&t, "crm.lines(order_id=7)"), None);
        assert_eq!(parse_key(&table("t", &[]), "t(#00)"), None);
    }

    #[test]
    fn text_columns_are_told_from_others() {
        assert!(holds_text(Dialect::Postgres, "character varying"));
        assert!(holds_text(Dialect::Mysql, "varchar(200)"));
        assert!(holds_text(Dialect::Sqlite, ""));
        assert!(!holds_text(Dialect::Postgres, ""));
        assert!(!holds_text(Dialect::Postgres, "bigint"));
        assert!(!holds_text(Dialect::Sqlite, "integer"));
    }
}
