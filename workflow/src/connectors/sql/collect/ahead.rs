//! One statement per level of the traversal, with the rows of the next levels
//! fetched ahead.
//!
//! A level's searches go to the source as one statement: each search is a common
//! table expression, and from each search for the subject's own rows the
//! statement follows the references that point at those rows' primary key
//! (`orders.customer_id` → `customers.id`, then `order_items.order_id` →
//! `orders.id`) as set-based subqueries (`WHERE order_id IN (SELECT id FROM s1)`).
//! The traversal then takes the next levels' rows from what was fetched ahead
//! instead of asking again: a shop customer with orders, items and invoices is
//! one round trip, where a query per level was three.
//!
//! What is fetched ahead answers a search exactly as the search would: for a
//! (table, column), the rows whose column equals one of the referenced column's
//! values in the rows fetched above it, and those values are recorded as covered.
//! A later search for covered values takes the rows whose value is, byte for byte,
//! one of them (the check every search gets); values not covered are searched.
//! Only references between columns of the same type (on SQLite: the same
//! affinity) are followed ahead, since a comparison across types could differ
//! from the search's, and only towards a single-column primary key: a reference
//! to a non-unique column can fan out, and the traversal meets it level by level
//! and flags it.

use std::collections::{HashMap, HashSet};

use sea_orm::sqlx::{self, Row};

use super::{
    BATCH, Dialect, Edge, MAX_ROWS, Plan, QUERY_TIMEOUT, Reach, Step, padded, padding,
    pg_array_cast, query, quote,
};
use crate::connectors::CollectError;
use crate::connectors::sql::pools::{Pool, SourcePool};

/// A row as the source returned it: its columns as text.
pub(super) type SourceRow = Vec<Option<String>>;

/// The column of a parent's rows a node searches for: its single-column primary
/// key, always the first column read.
const KEY: usize = 0;
/// Searches (with those fetched ahead) in one statement at most.
const MAX_NODES: usize = 32;
/// Parameters of one statement at most on MySQL and SQLite.
const MAX_BINDS: usize = 8 * BATCH;

/// Rows fetched ahead, per (table, column) searched.
#[derive(Default)]
pub(super) struct Ahead {
    entries: HashMap<(usize, usize), Entry>,
}

#[derive(Default)]
struct Entry {
    /// Values whose rows are all in `rows`.
    covered: HashSet<String>,
    rows: Vec<SourceRow>,
    /// The rows, so that each is kept once.
    kept: HashSet<SourceRow>,
}

impl Ahead {
    /// The rows already here for the covered ones of `values`, and the values still
    /// to search.
    fn split(&self, at: (usize, usize), values: &[String]) -> (Vec<SourceRow>, Vec<String>) {
        let Some(entry) = self.entries.get(&at) else {
            return (Vec::new(), values.to_vec());
        };
        let (hit, rest): (Vec<&String>, Vec<&String>) =
            values.iter().partition(|v| entry.covered.contains(*v));
        let rows = if hit.is_empty() {
            Vec::new()
        } else {
            let hit: HashSet<&str> = hit.into_iter().map(String::as_str).collect();
            entry
                .rows
                .iter()
                .filter(|row| row[at.1].as_deref().is_some_and(|v| hit.contains(v)))
                .cloned()
                .collect()
        };
        (rows, rest.into_iter().cloned().collect())
    }

    fn add(&mut self, at: (usize, usize), covered: HashSet<String>, rows: Vec<SourceRow>) {
        let entry = self.entries.entry(at).or_default();
        entry.covered.extend(covered);
        for row in rows {
            if entry.kept.insert(row.clone()) {
                entry.rows.push(row);
            }
        }
    }
}

/// A search of the statement: the common table expression `s{index}`.
struct Node {
    /// (table, column) searched.
    at: (usize, usize),
    /// Either the level's search it is (an index into the searches) or the node it
    /// follows, whose primary key its column references.
    of: Of,
}

enum Of {
    Search(usize),
    Parent(usize),
}

/// A search of the level: the step's index in the level, whether it finds the
/// subject's own rows (followed back ahead), and the values to search.
type Search = (usize, bool, Vec<String>);

/// The level's searches: the rows of each step of `work`, in its order, taking
/// what was fetched ahead and fetching ahead for the next levels.
pub(super) async fn fetch_level(
    dialect: Dialect,
    pool: &SourcePool,
    plan: &Plan,
    work: &[(Step, Vec<String>)],
    ahead: &mut Ahead,
) -> Result<Vec<Vec<SourceRow>>, CollectError> {
    let mut results: Vec<Vec<SourceRow>> = Vec::with_capacity(work.len());
    // Steps with values still to search: in the statement, or alone (an `IN` list
    // longer than a batch, or past the statement's limits).
    let mut searches: Vec<Search> = Vec::new();
    let mut alone: Vec<(usize, Vec<String>)> = Vec::new();
    let mut binds = 0;
    for (i, ((at, reach, _), values)) in work.iter().enumerate() {
        let (rows, rest) = ahead.split(*at, values);
        results.push(rows);
        if rest.is_empty() {
            continue;
        }
        let cost = padded(rest.len());
        let fits =
            dialect == Dialect::Postgres || (rest.len() <= BATCH && binds + cost <= MAX_BINDS);
        if fits && searches.len() < MAX_NODES {
            binds += cost;
            searches.push((i, *reach == Reach::Own, rest));
        } else {
            alone.push((i, rest));
        }
    }
    let search_alone = |(i, values): &(usize, Vec<String>)| {
        let ((at, _, _), _) = work[*i];
        alone_search(dialect, pool, plan, at, values.clone())
    };
    let nodes = nodes(dialect, plan, work, &searches);
    let statement = async {
        if nodes.is_empty() {
            Ok(Some(Vec::new()))
        } else {
            run(dialect, pool, plan, &nodes, &searches).await
        }
    };
    let (by_node, singles) = futures_util::future::try_join(
        statement,
        futures_util::future::try_join_all(alone.iter().map(search_alone)),
    )
    .await?;
    for ((i, _), rows) in alone.iter().zip(singles) {
        results[*i].extend(rows);
    }
    let Some(by_node) = by_node else {
        // More rows than a collection may take: this level is searched without
        // fetching ahead, and the traversal meets the fan-out and stops or flags it.
        let again: Vec<(usize, Vec<String>)> = searches
            .into_iter()
            .map(|(i, _, values)| (i, values))
            .collect();
        let rows = futures_util::future::try_join_all(again.iter().map(search_alone)).await?;
        for ((i, _), rows) in again.iter().zip(rows) {
            results[*i].extend(rows);
        }
        return Ok(results);
    };
    // What each node fetched ahead covers: the referenced values of its parent's rows.
    let covered: Vec<HashSet<String>> = nodes
        .iter()
        .map(|node| match node.of {
            Of::Parent(p) => by_node[p]
                .iter()
                .filter_map(|row| row[KEY].clone())
                .collect(),
            Of::Search(_) => HashSet::new(),
        })
        .collect();
    for ((node, rows), covered) in nodes.iter().zip(by_node).zip(covered) {
        match node.of {
            Of::Search(s) => results[searches[s].0].extend(rows),
            Of::Parent(_) => ahead.add(node.at, covered, rows),
        }
    }
    Ok(results)
}

/// A search on its own (no statement of the level, nothing fetched ahead).
async fn alone_search(
    dialect: Dialect,
    pool: &SourcePool,
    plan: &Plan,
    at: (usize, usize),
    values: Vec<String>,
) -> Result<Vec<SourceRow>, CollectError> {
    let table = &plan.tables[at.0];
    query(dialect, pool, table, &table.columns[at.1], &values).await
}

/// The statement's searches: each search of the level, and after each search for
/// the subject's own rows the references into its table's primary key, followed
/// onwards while no table repeats on the way.
fn nodes(
    dialect: Dialect,
    plan: &Plan,
    work: &[(Step, Vec<String>)],
    searches: &[Search],
) -> Vec<Node> {
    fn follow(
        dialect: Dialect,
        plan: &Plan,
        nodes: &mut Vec<Node>,
        n: usize,
        path: &mut Vec<usize>,
    ) {
        let table = nodes[n].at.0;
        if plan.tables[table].key_len != 1 {
            return;
        }
        for edge in &plan.edges {
            if edge.to != (table, KEY)
                || path.contains(&edge.from.0)
                || nodes.len() >= MAX_NODES
                || !same_type(dialect, plan, edge)
            {
                continue;
            }
            nodes.push(Node {
                at: edge.from,
                of: Of::Parent(n),
            });
            let child = nodes.len() - 1;
            path.push(edge.from.0);
            follow(dialect, plan, nodes, child, path);
            path.pop();
        }
    }
    let mut nodes = Vec::new();
    for (s, (i, own, _)) in searches.iter().enumerate() {
        let ((at, _, _), _) = &work[*i];
        nodes.push(Node {
            at: *at,
            of: Of::Search(s),
        });
        if *own {
            let n = nodes.len() - 1;
            follow(dialect, plan, &mut nodes, n, &mut vec![at.0]);
        }
    }
    nodes
}

/// Whether both ends of a reference have the same type, so that comparing them in
/// the source is the comparison of a search (on SQLite: the same affinity; on
/// PostgreSQL: a plain built-in type, as a search casts to).
fn same_type(dialect: Dialect, plan: &Plan, edge: &Edge) -> bool {
    let type_of = |(t, c): (usize, usize)| {
        let table = &plan.tables[t];
        table.types.get(&table.columns[c]).map(|t| t.to_lowercase())
    };
    let (Some(from), Some(to)) = (type_of(edge.from), type_of(edge.to)) else {
        return false;
    };
    match dialect {
        Dialect::Postgres => from == to && pg_array_cast(&from).is_some(),
        Dialect::Mysql => from == to,
        Dialect::Sqlite => sqlite_affinity(&from) == sqlite_affinity(&to),
    }
}

/// SQLite's type affinity of a declared type (its rules 1-5, in order).
fn sqlite_affinity(declared: &str) -> &'static str {
    let t = declared.to_ascii_uppercase();
    if t.contains("INT") {
        "INTEGER"
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        "TEXT"
    } else if t.contains("BLOB") || t.is_empty() {
        "BLOB"
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        "REAL"
    } else {
        "NUMERIC"
    }
}

/// The text of a column in the statement's result.
fn as_text(dialect: Dialect, column: &str) -> String {
    match dialect {
        Dialect::Postgres => format!("{column}::text"),
        Dialect::Mysql => format!("CAST({column} AS CHAR)"),
        Dialect::Sqlite => format!("CAST({column} AS TEXT)"),
    }
}

/// The statement: `WITH s0 AS (…), s1 AS (…) SELECT '0', … FROM s0 UNION ALL …`,
/// each row tagged with its node and padded to the widest table.
fn statement(dialect: Dialect, plan: &Plan, nodes: &[Node], searches: &[Search]) -> String {
    let width = nodes
        .iter()
        .map(|n| plan.tables[n.at.0].columns.len())
        .max()
        .unwrap_or(0);
    let null = match dialect {
        Dialect::Postgres => "NULL::text",
        Dialect::Mysql | Dialect::Sqlite => "NULL",
    };
    let mut ctes = Vec::with_capacity(nodes.len());
    let mut selects = Vec::with_capacity(nodes.len());
    let mut param = 0;
    for (k, node) in nodes.iter().enumerate() {
        let table = &plan.tables[node.at.0];
        let column = quote(dialect, &table.columns[node.at.1]);
        let condition = match node.of {
            Of::Parent(p) => {
                let parent = &plan.tables[nodes[p].at.0];
                let key = quote(dialect, &parent.columns[KEY]);
                match dialect {
                    // The same rows as `IN (SELECT …)`; planned as an index lookup
                    // by an array instead of a semi-join, which took PostgreSQL
                    // twice as long to plan (0.55 against 0.3 ms for the shop's
                    // six searches), and it plans each run afresh.
                    Dialect::Postgres => format!("{column} = ANY(ARRAY(SELECT {key} FROM s{p}))"),
                    Dialect::Mysql | Dialect::Sqlite => {
                        format!("{column} IN (SELECT {key} FROM s{p})")
                    }
                }
            }
            Of::Search(s) => match dialect {
                Dialect::Postgres => {
                    param += 1;
                    let data_type = table
                        .types
                        .get(&table.columns[node.at.1])
                        .map(String::as_str)
                        .unwrap_or("");
                    match pg_array_cast(data_type) {
                        Some(t) => format!("{column} = ANY(${param}::text[]::{t}[])"),
                        None => format!("{column}::text = ANY(${param}::text[])"),
                    }
                }
                Dialect::Mysql | Dialect::Sqlite => format!(
                    "{column} IN ({})",
                    vec!["?"; padded(searches[s].2.len())].join(", ")
                ),
            },
        };
        let columns: Vec<String> = table.columns.iter().map(|c| quote(dialect, c)).collect();
        ctes.push(format!(
            "s{k} AS (SELECT {} FROM {} WHERE {condition})",
            columns.join(", "),
            table.sql_name
        ));
        let mut select = vec![format!("'{k}'")];
        select.extend(columns.iter().map(|c| as_text(dialect, c)));
        select.extend(std::iter::repeat_n(null.to_owned(), width - columns.len()));
        selects.push(format!("SELECT {} FROM s{k}", select.join(", ")));
    }
    format!(
        "WITH {} {} LIMIT {}",
        ctes.join(", "),
        selects.join(" UNION ALL "),
        MAX_ROWS + 1
    )
}

/// Rows of the statement: the node each belongs to and its columns.
fn decode<R>(rows: &[R], plan: &Plan, nodes: &[Node]) -> Result<Vec<Vec<SourceRow>>, sqlx::Error>
where
    R: Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let mut by_node: Vec<Vec<SourceRow>> = nodes.iter().map(|_| Vec::new()).collect();
    for r in rows {
        let tag: String = r.try_get(0)?;
        let k: usize = tag
            .parse()
            .ok()
            .filter(|k| *k < nodes.len())
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown node `{tag}`").into()))?;
        let width = plan.tables[nodes[k].at.0].columns.len();
        let row = (1..=width)
            .map(|i| r.try_get::<Option<String>, _>(i))
            .collect::<Result<SourceRow, _>>()?;
        by_node[k].push(row);
    }
    Ok(by_node)
}

/// Runs the statement: the rows of each node, or `None` when there were more than
/// [`MAX_ROWS`].
async fn run(
    dialect: Dialect,
    pool: &SourcePool,
    plan: &Plan,
    nodes: &[Node],
    searches: &[Search],
) -> Result<Option<Vec<Vec<SourceRow>>>, CollectError> {
    let sql = statement(dialect, plan, nodes, searches);
    let failed = |e: sqlx::Error| CollectError::Unreachable(e.to_string());
    let timed_out = |_| {
        CollectError::Unreachable(format!(
            "a search of the source took longer than {} seconds",
            QUERY_TIMEOUT.as_secs()
        ))
    };
    // Runs a query on a pool: the row count and the rows of each node.
    macro_rules! fetch {
        ($query:expr, $pool:expr) => {{
            pool.count_statement();
            let rows = tokio::time::timeout(QUERY_TIMEOUT, $query.fetch_all($pool))
                .await
                .map_err(timed_out)?
                .map_err(failed)?;
            (rows.len(), decode(&rows, plan, nodes).map_err(failed)?)
        }};
    }
    // MySQL and SQLite: each search's values in its padded `IN` list, in order.
    macro_rules! listed {
        () => {{
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in searches.iter().flat_map(|(_, _, values)| padding(values)) {
                q = q.bind(v);
            }
            q
        }};
    }
    let (count, by_node) = match (dialect, &pool.pool) {
        (Dialect::Postgres, Pool::Postgres(pg)) => {
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (_, _, values) in searches {
                q = q.bind(values.as_slice());
            }
            fetch!(q, pg)
        }
        (Dialect::Mysql, Pool::Mysql(my)) => fetch!(listed!(), my),
        (Dialect::Sqlite, Pool::Sqlite(lite)) => fetch!(listed!(), lite),
        _ => {
            return Err(CollectError::Unreachable(
                "the pool does not match the source's kind".to_owned(),
            ));
        }
    };
    Ok((count <= MAX_ROWS).then_some(by_node))
}

#[cfg(test)]
mod tests {
    use super::super::Table;
    use super::*;

    fn row(values: &[&str]) -> SourceRow {
        values.iter().map(|v| Some((*v).to_owned())).collect()
    }

    fn strings(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| (*v).to_owned()).collect()
    }

    #[test]
    fn covered_values_take_their_rows_byte_for_byte_and_the_rest_is_searched() {
        let mut ahead = Ahead::default();
        // Orders (id, customer_id) fetched ahead for customers 1 and 2.
        let orders = (1, 1);
        ahead.add(
            orders,
            strings(&["1", "2"]).into_iter().collect(),
            vec![row(&["10", "1"]), row(&["11", "1"]), row(&["12", "2"])],
        );
        // The same rows again (two searches of one statement): kept once.
        ahead.add(
            orders,
            strings(&["1"]).into_iter().collect(),
            vec![row(&["10", "1"])],
        );
        let (rows, rest) = ahead.split(orders, &strings(&["1", "3"]));
        assert_eq!(rows, [row(&["10", "1"]), row(&["11", "1"])]);
        assert_eq!(rest, ["3"], "not covered: searched");
        // A value the database would match by collation is not a covered value.
        let (rows, rest) = ahead.split(orders, &strings(&["01"]));
        assert!(rows.is_empty());
        assert_eq!(rest, ["01"]);
        // Another column of the same table has nothing fetched ahead.
        let (rows, rest) = ahead.split((1, 0), &strings(&["10"]));
        assert!(rows.is_empty());
        assert_eq!(rest, ["10"]);
    }

    fn table(name: &str, columns: &[(&str, &str)], key_len: usize) -> Table {
        Table {
            sql_name: format!("\"{name}\""),
            name: name.to_owned(),
            columns: columns.iter().map(|(c, _)| (*c).to_owned()).collect(),
            key_len,
            fields: Vec::new(),
            types: columns
                .iter()
                .map(|(c, t)| ((*c).to_owned(), (*t).to_owned()))
                .collect(),
        }
    }

    /// customers(id, email, referrer_id → customers.id), orders(id, customer_id →
    /// customers.id), lines(order_id → orders.id, n) with a composite key,
    /// notes(id, order_ref text → orders.id), parts(id, line_order_id → lines.order_id).
    fn shop() -> Plan {
        let tables = vec![
            table(
                "customers",
                &[
                    ("id", "bigint"),
                    ("email", "text"),
                    ("referrer_id", "bigint"),
                ],
                1,
            ),
            table("orders", &[("id", "bigint"), ("customer_id", "bigint")], 1),
            table("lines", &[("order_id", "bigint"), ("n", "integer")], 2),
            table("notes", &[("id", "bigint"), ("order_ref", "text")], 1),
            table("parts", &[("id", "bigint"), ("line_order_id", "bigint")], 1),
        ];
        let edges = vec![
            Edge {
                from: (0, 2),
                to: (0, 0),
            },
            Edge {
                from: (1, 1),
                to: (0, 0),
            },
            Edge {
                from: (2, 0),
                to: (1, 0),
            },
            Edge {
                from: (3, 1),
                to: (1, 0),
            },
            Edge {
                from: (4, 1),
                to: (2, 0),
            },
        ];
        Plan {
            tables,
            edges,
            at: HashMap::new(),
        }
    }

    fn tree(nodes: &[Node]) -> Vec<((usize, usize), Option<usize>)> {
        nodes
            .iter()
            .map(|n| {
                (
                    n.at,
                    match n.of {
                        Of::Parent(p) => Some(p),
                        Of::Search(_) => None,
                    },
                )
            })
            .collect()
    }

    #[test]
    fn the_subjects_own_rows_fetch_their_referrers_ahead_through_primary_keys_of_one_type() {
        let plan = shop();
        let work: Vec<(Step, Vec<String>)> = vec![
            (((0, 1), Reach::Own, None), strings(&["anna@example.com"])),
            (((1, 0), Reach::Referenced, Some(0)), strings(&["7"])),
        ];
        let searches: Vec<Search> = vec![
            (0, true, strings(&["anna@example.com"])),
            (1, false, strings(&["7"])),
        ];
        let nodes = nodes(Dialect::Postgres, &plan, &work, &searches);
        assert_eq!(
            tree(&nodes),
            [
                // customers by e-mail; orders of those customers; their lines. Not:
                // customers they referred (the table is on the way already), notes
                // (text against a number), parts (a composite key is not followed).
                ((0, 1), None),
                ((1, 1), Some(0)),
                ((2, 0), Some(1)),
                // A referenced row's referrers may be anybody's: nothing ahead.
                ((1, 0), None),
            ]
        );
        let sql = statement(Dialect::Postgres, &plan, &nodes, &searches);
        assert!(
            sql.starts_with(
                "WITH s0 AS (SELECT \"id\", \"email\", \"referrer_id\" FROM \"customers\" \
                 WHERE \"email\" = ANY($1::text[]::text[])), \
                 s1 AS (SELECT \"id\", \"customer_id\" FROM \"orders\" \
                 WHERE \"customer_id\" = ANY(ARRAY(SELECT \"id\" FROM s0))), \
                 s2 AS (SELECT \"order_id\", \"n\" FROM \"lines\" \
                 WHERE \"order_id\" = ANY(ARRAY(SELECT \"id\" FROM s1))), \
                 s3 AS (SELECT \"id\", \"customer_id\" FROM \"orders\" \
                 WHERE \"id\" = ANY($2::text[]::bigint[])) \
                 SELECT '0', \"id\"::text, \"email\"::text, \"referrer_id\"::text FROM s0 UNION ALL \
                 SELECT '1', \"id\"::text, \"customer_id\"::text, NULL::text FROM s1"
            ),
            "{sql}"
        );
        assert!(sql.ends_with(&format!("LIMIT {}", MAX_ROWS + 1)), "{sql}");
        // MySQL and SQLite: an `IN` list per search, padded to a power of two.
        let searches: Vec<Search> = vec![
            (0, true, strings(&["a@x.org", "b@x.org", "c@x.org"])),
            (1, false, strings(&["7"])),
        ];
        let sql = statement(Dialect::Sqlite, &plan, &nodes, &searches);
        assert!(sql.contains("WHERE \"email\" IN (?, ?, ?, ?))"), "{sql}");
        assert!(sql.contains("WHERE \"id\" IN (?))"), "{sql}");
        assert!(
            sql.contains("WHERE \"customer_id\" IN (SELECT \"id\" FROM s0))"),
            "{sql}"
        );
        assert_eq!(sql.matches('?').count(), 5);
    }

    #[test]
    fn sqlite_affinities_follow_its_rules() {
        assert_eq!(sqlite_affinity("BIGINT"), "INTEGER");
        assert_eq!(sqlite_affinity("integer"), "INTEGER");
        assert_eq!(sqlite_affinity("VARCHAR(200)"), "TEXT");
        assert_eq!(sqlite_affinity(""), "BLOB");
        assert_eq!(sqlite_affinity("DOUBLE"), "REAL");
        assert_eq!(sqlite_affinity("DECIMAL(12,2)"), "NUMERIC");
        // Rule order: `INT` wins over `CHAR` (SQLite's own example).
        assert_eq!(sqlite_affinity("CHARINT"), "INTEGER");
    }
}
