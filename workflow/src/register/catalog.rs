//! Reading the catalog of a SQL data source: its tables, columns, types, primary
//! keys, foreign keys and indexes. One short-lived connection per inspection, opened
//! with the source's connector config and its decrypted secrets; nothing is written.
//!
//! Every query returns text columns only (booleans as `Y`/`N`), so one decoder
//! serves PostgreSQL, MySQL/MariaDB and SQLite.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use sea_orm::sqlx::mysql::{MySqlConnectOptions, MySqlConnection, MySqlSslMode};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgSslMode};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};
use sea_orm::sqlx::{self, ConnectOptions, Connection, Row};
use serde_json::{Map, Value};

use super::locations::{SourceGuard, Stage, Target};
use super::sources::ConnectorKind;

/// How long connecting to a source may take before the inspection gives up.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// One column of a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogColumn {
    /// Column name as the database spells it.
    pub name: String,
    /// Declared type, lower case (`character varying`, `int`, `TEXT` becomes `text`).
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Part of the primary key.
    pub primary_key: bool,
    /// First column of some index (incl. the primary key), so equality lookups on
    /// it do not scan the table.
    pub indexed: bool,
    /// The `(table, column)` a single-column foreign key on it points to.
    pub references: Option<(String, String)>,
}

/// One table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogTable {
    /// Table name.
    pub name: String,
    /// Columns in declaration order.
    pub columns: Vec<CatalogColumn>,
}

/// The tables of the inspected schema, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    /// The schema read: PostgreSQL schema, MySQL database, `main` for SQLite.
    pub schema: String,
    /// Its base tables (views are not data sources of their own).
    pub tables: Vec<CatalogTable>,
}

impl Catalog {
    /// The column at `table.column` (case-insensitive, as SQL identifiers mostly are).
    pub fn column(&self, table: &str, column: &str) -> Option<(&CatalogTable, &CatalogColumn)> {
        let t = self
            .tables
            .iter()
            .find(|t| t.name.eq_ignore_ascii_case(table))?;
        let c = t
            .columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(column))?;
        Some((t, c))
    }
}

/// Why a catalog could not be read; shown to the user as it is.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The connector kind has no SQL catalog.
    #[error("{0} sources have no SQL catalog to inspect")]
    NotSql(&'static str),
    /// Connecting or querying failed.
    #[error("{0}")]
    Unreachable(String),
}

fn text<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str)
}

fn port(config: &Map<String, Value>, default: u16) -> u16 {
    config
        .get("port")
        .and_then(Value::as_u64)
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(default)
}

fn unreachable(e: impl std::fmt::Display) -> CatalogError {
    CatalogError::Unreachable(e.to_string())
}

/// One connection to a source (no pool: a refused connection fails at once).
enum SourceConnection {
    Postgres(PgConnection),
    Mysql(MySqlConnection),
    Sqlite(SqliteConnection),
}

/// Runs a catalog query on any of the connections, decoding four text columns.
macro_rules! text_rows {
    ($conn:expr, $sql:expr) => {{
        let rows = sqlx::query(sqlx::AssertSqlSafe($sql.to_owned()))
            .fetch_all($conn)
            .await
            .map_err(unreachable)?;
        rows.iter()
            .map(|r| {
                let get = |i: usize| -> Result<String, CatalogError> {
                    r.try_get::<Option<String>, _>(i)
                        .map(Option::unwrap_or_default)
                        .map_err(unreachable)
                };
                Ok([get(0)?, get(1)?, get(2)?, get(3)?])
            })
            .collect::<Result<Vec<_>, CatalogError>>()
    }};
}

impl SourceConnection {
    async fn rows(&mut self, sql: &str) -> Result<Vec<[String; 4]>, CatalogError> {
        match self {
            SourceConnection::Postgres(c) => text_rows!(&mut *c, sql),
            SourceConnection::Mysql(c) => text_rows!(&mut *c, sql),
            SourceConnection::Sqlite(c) => text_rows!(&mut *c, sql),
        }
    }

    async fn close(self) {
        let _ = match self {
            SourceConnection::Postgres(c) => c.close().await,
            SourceConnection::Mysql(c) => c.close().await,
            SourceConnection::Sqlite(c) => c.close().await,
        };
    }
}

/// Opens a connection to the source; `config` holds the plain and secret
/// properties merged.
async fn connect(
    guard: &SourceGuard,
    kind: ConnectorKind,
    config: &Map<String, Value>,
) -> Result<(SourceConnection, String), CatalogError> {
    match kind {
        ConnectorKind::Http => return Err(CatalogError::NotSql("HTTP")),
        ConnectorKind::Manual => return Err(CatalogError::NotSql("MANUAL")),
        ConnectorKind::Postgres | ConnectorKind::Mysql | ConnectorKind::Sqlite => {}
    }
    // Checked again right before connecting: settings, files and links may have
    // changed since the source was registered.
    let target = guard
        .locate(kind, config, Stage::Connect)
        .map_err(|r| CatalogError::Unreachable(format!("`{}` {}", r.field, r.message)))?;
    let missing =
        |what: &str| CatalogError::Unreachable(format!("the connector config has no `{what}`"));
    let conn = async {
        match kind {
            ConnectorKind::Postgres => {
                let database = text(config, "database").ok_or_else(|| missing("database"))?;
                let mut options = PgConnectOptions::new()
                    .host(text(config, "host").ok_or_else(|| missing("host"))?)
                    .port(port(config, 5432))
                    .database(database)
                    .username(text(config, "user").ok_or_else(|| missing("user"))?)
                    .application_name("auskunft-inspect")
                    .ssl_mode(match text(config, "sslMode") {
                        Some("disable") => PgSslMode::Disable,
                        Some("require") => PgSslMode::Require,
                        Some("verify-full") => PgSslMode::VerifyFull,
                        _ => PgSslMode::Prefer,
                    });
                if let Some(password) = text(config, "password") {
                    options = options.password(password);
                }
                let conn = options.connect().await.map_err(unreachable)?;
                let schema = text(config, "schema").unwrap_or("public").to_owned();
                Ok((SourceConnection::Postgres(conn), schema))
            }
            ConnectorKind::Mysql => {
                let database = text(config, "database").ok_or_else(|| missing("database"))?;
                let mut options = MySqlConnectOptions::new()
                    .host(text(config, "host").ok_or_else(|| missing("host"))?)
                    .port(port(config, 3306))
                    .database(database)
                    .username(text(config, "user").ok_or_else(|| missing("user"))?)
                    .ssl_mode(
                        if config.get("requireTls").and_then(Value::as_bool) == Some(true) {
                            MySqlSslMode::Required
                        } else {
                            MySqlSslMode::Preferred
                        },
                    );
                if let Some(password) = text(config, "password") {
                    options = options.password(password);
                }
                let conn = options.connect().await.map_err(unreachable)?;
                Ok((SourceConnection::Mysql(conn), database.to_owned()))
            }
            ConnectorKind::Sqlite => {
                // The resolved file inside the directory, not the path as written.
                let Target::SqliteFile(path) = &target else {
                    return Err(missing("path"));
                };
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .read_only(true)
                    .create_if_missing(false);
                let conn = options.connect().await.map_err(unreachable)?;
                Ok((SourceConnection::Sqlite(conn), "main".to_owned()))
            }
            ConnectorKind::Http => Err(CatalogError::NotSql("HTTP")),
            ConnectorKind::Manual => Err(CatalogError::NotSql("MANUAL")),
        }
    };
    tokio::time::timeout(CONNECT_TIMEOUT, conn)
        .await
        .map_err(|_| {
            CatalogError::Unreachable(format!(
                "no connection within {} seconds",
                CONNECT_TIMEOUT.as_secs()
            ))
        })?
}

/// The three catalog queries of a database kind: columns `(table, column, type,
/// nullable)`, index columns `(table, column, primary, leading)`, foreign keys
/// `(table, column, referenced table, referenced column)`. `{schema}` is replaced by
/// the quoted schema name.
fn queries(kind: ConnectorKind) -> [&'static str; 3] {
    match kind {
        ConnectorKind::Postgres => [
            "SELECT c.table_name::text, c.column_name::text, c.data_type::text,
                    CASE WHEN c.is_nullable = 'YES' THEN 'Y' ELSE 'N' END
             FROM information_schema.columns c
             JOIN information_schema.tables t
               ON t.table_schema = c.table_schema AND t.table_name = c.table_name
             WHERE c.table_schema = {schema} AND t.table_type = 'BASE TABLE'
             ORDER BY c.table_name, c.ordinal_position",
            "SELECT t.relname::text, a.attname::text,
                    CASE WHEN i.indisprimary THEN 'Y' ELSE 'N' END,
                    CASE WHEN a.attnum = i.indkey[0] THEN 'Y' ELSE 'N' END
             FROM pg_index i
             JOIN pg_class t ON t.oid = i.indrelid
             JOIN pg_namespace n ON n.oid = t.relnamespace
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey)
             WHERE n.nspname = {schema}",
            "SELECT cl.relname::text, att.attname::text, fcl.relname::text, fatt.attname::text
             FROM pg_constraint co
             JOIN pg_class cl ON cl.oid = co.conrelid
             JOIN pg_namespace n ON n.oid = cl.relnamespace
             JOIN pg_class fcl ON fcl.oid = co.confrelid
             JOIN pg_attribute att ON att.attrelid = co.conrelid AND att.attnum = co.conkey[1]
             JOIN pg_attribute fatt ON fatt.attrelid = co.confrelid AND fatt.attnum = co.confkey[1]
             WHERE co.contype = 'f' AND n.nspname = {schema} AND cardinality(co.conkey) = 1",
        ],
        ConnectorKind::Mysql => [
            "SELECT CAST(c.TABLE_NAME AS CHAR), CAST(c.COLUMN_NAME AS CHAR),
                    CAST(c.COLUMN_TYPE AS CHAR), IF(c.IS_NULLABLE = 'YES', 'Y', 'N')
             FROM information_schema.COLUMNS c
             JOIN information_schema.TABLES t
               ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
             WHERE c.TABLE_SCHEMA = {schema} AND t.TABLE_TYPE = 'BASE TABLE'
             ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION",
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR),
                    IF(INDEX_NAME = 'PRIMARY', 'Y', 'N'), IF(SEQ_IN_INDEX = 1, 'Y', 'N')
             FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = {schema}",
            "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR),
                    CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR)
             FROM information_schema.KEY_COLUMN_USAGE k
             WHERE k.TABLE_SCHEMA = {schema} AND k.REFERENCED_TABLE_NAME IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM information_schema.KEY_COLUMN_USAGE o
                               WHERE o.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA
                                 AND o.TABLE_NAME = k.TABLE_NAME
                                 AND o.CONSTRAINT_NAME = k.CONSTRAINT_NAME
                                 AND o.ORDINAL_POSITION > 1)",
        ],
        // `pk` is the 1-based position in the primary key; an INTEGER PRIMARY KEY is
        // the rowid and has no entry in index_list, so primary keys count as indexed.
        ConnectorKind::Sqlite => [
            "SELECT m.name, p.name, lower(p.type), CASE WHEN p.\"notnull\" = 0 AND p.pk = 0 THEN 'Y' ELSE 'N' END
             FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'
             ORDER BY m.name, p.cid",
            "SELECT m.name, p.name, 'Y', CASE WHEN p.pk = 1 THEN 'Y' ELSE 'N' END
             FROM sqlite_master m JOIN pragma_table_info(m.name) p
             WHERE m.type = 'table' AND p.pk > 0
             UNION ALL
             SELECT m.name, ii.name, 'N', CASE WHEN ii.seqno = 0 THEN 'Y' ELSE 'N' END
             FROM sqlite_master m JOIN pragma_index_list(m.name) il JOIN pragma_index_info(il.name) ii
             WHERE m.type = 'table' AND ii.name IS NOT NULL",
            "SELECT m.name, f.\"from\", f.\"table\", COALESCE(f.\"to\", '')
             FROM sqlite_master m JOIN pragma_foreign_key_list(m.name) f
             WHERE m.type = 'table'
               AND (SELECT count(*) FROM pragma_foreign_key_list(m.name) g WHERE g.id = f.id) = 1",
        ],
        ConnectorKind::Http | ConnectorKind::Manual => ["", "", ""],
    }
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Reads the catalog of a SQL source. `config` is the connector config with its
/// secrets merged in.
pub(crate) async fn read(
    guard: &SourceGuard,
    kind: ConnectorKind,
    config: &Map<String, Value>,
) -> Result<Catalog, CatalogError> {
    let (mut conn, schema) = connect(guard, kind, config).await?;
    let [columns_sql, indexes_sql, fks_sql] =
        queries(kind).map(|sql| sql.replace("{schema}", &quote_literal(&schema)));
    let result = async {
        let columns = conn.rows(&columns_sql).await?;
        let indexes = conn.rows(&indexes_sql).await?;
        let fks = conn.rows(&fks_sql).await?;
        Ok::<_, CatalogError>((columns, indexes, fks))
    }
    .await;
    conn.close().await;
    let (columns, indexes, fks) = result?;
    Ok(assemble(schema, columns, indexes, fks))
}

fn assemble(
    schema: String,
    columns: Vec<[String; 4]>,
    indexes: Vec<[String; 4]>,
    fks: Vec<[String; 4]>,
) -> Catalog {
    let key = |t: &str, c: &str| (t.to_owned(), c.to_lowercase());
    let primary: HashSet<(String, String)> = indexes
        .iter()
        .filter(|[_, _, pk, _]| pk == "Y")
        .map(|[t, c, _, _]| key(t, c))
        .collect();
    let leading: HashSet<(String, String)> = indexes
        .iter()
        .filter(|[_, _, _, lead]| lead == "Y")
        .map(|[t, c, _, _]| key(t, c))
        .collect();
    let mut tables: BTreeMap<String, Vec<CatalogColumn>> = BTreeMap::new();
    for [table, column, data_type, nullable] in columns {
        let k = key(&table, &column);
        tables.entry(table).or_default().push(CatalogColumn {
            data_type: data_type.to_lowercase(),
            nullable: nullable == "Y",
            primary_key: primary.contains(&k),
            indexed: leading.contains(&k),
            references: None,
            name: column,
        });
    }
    let mut catalog = Catalog {
        schema,
        tables: tables
            .into_iter()
            .map(|(name, columns)| CatalogTable { name, columns })
            .collect(),
    };
    for [table, column, ref_table, ref_column] in fks {
        // SQLite leaves the referenced column empty when it is the primary key.
        let ref_column = if ref_column.is_empty() {
            catalog
                .tables
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(&ref_table))
                .and_then(|t| t.columns.iter().find(|c| c.primary_key))
                .map(|c| c.name.clone())
                .unwrap_or_default()
        } else {
            ref_column
        };
        if let Some(t) = catalog
            .tables
            .iter_mut()
            .find(|t| t.name.eq_ignore_ascii_case(&table))
            && let Some(c) = t
                .columns
                .iter_mut()
                .find(|c| c.name.eq_ignore_ascii_case(&column))
        {
            c.references = Some((ref_table, ref_column));
        }
    }
    catalog
}
