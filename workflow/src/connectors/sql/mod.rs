//! SQL sources: PostgreSQL, MySQL/MariaDB and SQLite. One connector type with a
//! [`Dialect`]; what differs between the databases (connect options, catalog
//! queries, identifier quoting, placeholders) lives in the dialect modules.
//!
//! Every catalog query returns text columns only (booleans as `Y`/`N`), so one
//! decoder serves all three databases.

mod collect;
mod mysql;
mod pools;
mod postgres;
mod sqlite;

pub use pools::Pools;

use std::time::Duration;

use sea_orm::sqlx::mysql::MySqlConnection;
use sea_orm::sqlx::postgres::PgConnection;
use sea_orm::sqlx::sqlite::SqliteConnection;
use sea_orm::sqlx::{self, Connection, Row};
use serde_json::{Map, Value};

use super::catalog::{Catalog, CatalogError, assemble};
use super::guard::{Refusal, SourceGuard, Stage, Target};
use super::{
    CollectError, CollectJob, Connector, ConnectorKind, Erased, Found, Holder, RowChange, text,
};

/// How long connecting to a source may take before giving up.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Which SQL database a source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// PostgreSQL.
    Postgres,
    /// MySQL or MariaDB.
    Mysql,
    /// SQLite.
    Sqlite,
}

/// The connector of the SQL kinds.
pub(crate) struct SqlConnector(pub(crate) Dialect);

/// Whether `s` is a plain SQL identifier (letters, digits, underscores; not starting
/// with a digit): the only names a location may use, so quoting stays trivial.
pub(crate) fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
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

fn missing(what: &str) -> CatalogError {
    CatalogError::Unreachable(format!("the connector config has no `{what}`"))
}

/// One connection to a source (no pool: a refused connection fails at once).
pub(crate) enum SourceConnection {
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

    pub(crate) async fn close(self) {
        let _ = match self {
            SourceConnection::Postgres(c) => c.close().await,
            SourceConnection::Mysql(c) => c.close().await,
            SourceConnection::Sqlite(c) => c.close().await,
        };
    }
}

impl Dialect {
    pub(crate) fn kind(self) -> ConnectorKind {
        match self {
            Dialect::Postgres => ConnectorKind::Postgres,
            Dialect::Mysql => ConnectorKind::Mysql,
            Dialect::Sqlite => ConnectorKind::Sqlite,
        }
    }

    /// The three catalog queries: columns `(table, column, type, nullable)`, index
    /// columns `(table, column, primary, leading)`, foreign keys `(table, column,
    /// referenced table, referenced column)`. `{schema}` stands for the quoted
    /// schema name.
    fn catalog_queries(self) -> [&'static str; 3] {
        match self {
            Dialect::Postgres => postgres::CATALOG_QUERIES,
            Dialect::Mysql => mysql::CATALOG_QUERIES,
            Dialect::Sqlite => sqlite::CATALOG_QUERIES,
        }
    }

    /// Opens a connection to the source; `config` holds the plain and secret
    /// properties merged. Returns the connection and the schema it reads.
    pub(crate) async fn connect(
        self,
        guard: &SourceGuard,
        config: &Map<String, Value>,
    ) -> Result<(SourceConnection, String), CatalogError> {
        self.open(guard, config, false).await
    }

    /// Like [`Dialect::connect`], for carrying out an erasure: refused unless the
    /// source's configuration allows writing (`readOnly: false`).
    pub(crate) async fn connect_writable(
        self,
        guard: &SourceGuard,
        config: &Map<String, Value>,
    ) -> Result<(SourceConnection, String), CatalogError> {
        if !writable(config) {
            return Err(CatalogError::Unreachable(
                "the source is read-only (`readOnly` is not false): erase by hand".to_owned(),
            ));
        }
        self.open(guard, config, true).await
    }

    async fn open(
        self,
        guard: &SourceGuard,
        config: &Map<String, Value>,
        writable: bool,
    ) -> Result<(SourceConnection, String), CatalogError> {
        // Checked again right before connecting: settings, files and links may have
        // changed since the source was registered.
        let target = guard
            .locate(self.kind(), config, Stage::Connect)
            .map_err(|r| CatalogError::Unreachable(format!("`{}` {}", r.field, r.message)))?;
        let conn = async {
            match self {
                Dialect::Postgres => postgres::connect(config).await,
                Dialect::Mysql => mysql::connect(config).await,
                Dialect::Sqlite => sqlite::connect(&target, writable).await,
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
}

/// Whether Auskunft may write to a SQL source with this configuration: only when it
/// says `readOnly: false`.
fn writable(config: &Map<String, Value>) -> bool {
    config.get("readOnly").and_then(Value::as_bool) == Some(false)
}

fn quote_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

impl SqlConnector {
    /// The source's pool (opened, or reopened after the source changed).
    async fn pool(
        &self,
        job: &CollectJob<'_>,
    ) -> Result<std::sync::Arc<pools::SourcePool>, CollectError> {
        job.pools
            .get(
                self.0,
                self,
                job.source.id,
                job.source.updated_at,
                job.guard,
                job.config,
            )
            .await
    }
}

#[async_trait::async_trait]
impl Connector for SqlConnector {
    fn kind(&self) -> ConnectorKind {
        self.0.kind()
    }

    fn destination(&self, config: &Map<String, Value>) -> Option<String> {
        match self.0 {
            Dialect::Sqlite => text(config, "path").map(str::to_owned),
            Dialect::Postgres | Dialect::Mysql => Some(format!(
                "{}:{}",
                text(config, "host")
                    .unwrap_or_default()
                    .to_ascii_lowercase(),
                port(
                    config,
                    if self.0 == Dialect::Postgres {
                        5432
                    } else {
                        3306
                    }
                )
            )),
        }
    }

    fn config_schema(&self) -> &'static str {
        match self.0 {
            Dialect::Postgres => include_str!("postgres.schema.json"),
            Dialect::Mysql => include_str!("mysql.schema.json"),
            Dialect::Sqlite => include_str!("sqlite.schema.json"),
        }
    }

    fn check_location(&self, location: &str) -> Result<(), &'static str> {
        let parts: Vec<&str> = location.split('.').collect();
        if (2..=3).contains(&parts.len()) && parts.iter().all(|p| is_identifier(p)) {
            Ok(())
        } else {
            Err("must be `table.column` or `schema.table.column` for a SQL source")
        }
    }

    fn locate(
        &self,
        guard: &SourceGuard,
        config: &Map<String, Value>,
        stage: Stage,
    ) -> Result<Target, Refusal> {
        match self.0 {
            Dialect::Sqlite => {
                let raw = text(config, "path").ok_or_else(Refusal::sqlite)?;
                guard.sqlite_file(raw, stage).map(Target::SqliteFile)
            }
            Dialect::Postgres | Dialect::Mysql => {
                guard.host("host", text(config, "host").map(str::to_owned))
            }
        }
    }

    async fn catalog(
        &self,
        guard: &SourceGuard,
        config: &Map<String, Value>,
    ) -> Result<Catalog, CatalogError> {
        let (mut conn, schema) = self.0.connect(guard, config).await?;
        let [columns_sql, indexes_sql, fks_sql] = self
            .0
            .catalog_queries()
            .map(|sql| sql.replace("{schema}", &quote_literal(&schema)));
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

    fn erases(&self, config: &Map<String, Value>) -> bool {
        writable(config)
    }

    async fn erase(
        &self,
        job: &CollectJob<'_>,
        changes: &[RowChange],
    ) -> Result<Erased, CollectError> {
        let pool = self.pool(job).await?;
        collect::erase(self.0, &pool, job.guard, job, changes).await
    }

    async fn holders(
        &self,
        job: &CollectJob<'_>,
        triggers: &[uuid::Uuid],
    ) -> Result<Vec<Holder>, CollectError> {
        let pool = self.pool(job).await?;
        collect::holders(self.0, pool, job, triggers).await
    }

    async fn collect(&self, job: &CollectJob<'_>) -> Result<Vec<Found>, CollectError> {
        let pool = self.pool(job).await?;
        collect::collect(self.0, pool, job).await
    }
}
