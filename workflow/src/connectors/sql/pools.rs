//! Connection pools of SQL sources, kept between collection tasks: one pool per
//! source (at most a few connections, with connect and acquire timeouts), with the
//! source's catalog (primary keys, column types) read once when the pool is made.
//! A changed source (its `updated_at`) or an entry older than [`MAX_AGE`] gets a
//! new pool and a fresh catalog.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sea_orm::sqlx::Connection;
use sea_orm::sqlx::mysql::MySqlPool;
use sea_orm::sqlx::pool::PoolOptions;
use sea_orm::sqlx::postgres::PgPool;
use sea_orm::sqlx::sqlite::SqlitePool;
use serde_json::{Map, Value};
use tokio::sync::Mutex;
use uuid::Uuid;

use super::{CONNECT_TIMEOUT, Dialect, mysql, postgres, sqlite};
use crate::connectors::catalog::{Catalog, CatalogError};
use crate::connectors::guard::{SourceGuard, Stage};
use crate::connectors::{CollectError, Connector};

/// How long a pool and its catalog are used before they are made afresh.
const MAX_AGE: Duration = Duration::from_secs(300);
/// Connections per source pool.
const MAX_CONNECTIONS: u32 = 4;

/// The pool's options: a connection is checked with a ping before it is handed
/// out only when it has been idle this long (sqlx pings on every acquire by default:
/// a round trip more for every query of a search).
fn pool_options<DB: sea_orm::sqlx::Database>() -> PoolOptions<DB> {
    PoolOptions::<DB>::new()
        .max_connections(MAX_CONNECTIONS)
        .acquire_timeout(CONNECT_TIMEOUT)
        .idle_timeout(MAX_AGE)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= crate::core::store::PING_WHEN_IDLE {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
}

/// A pool of one of the three databases.
#[derive(Clone)]
pub(crate) enum Pool {
    Postgres(PgPool),
    Mysql(MySqlPool),
    Sqlite(SqlitePool),
}

/// What collection knows about a table from the catalog.
#[derive(Debug, Clone)]
pub(crate) struct TableInfo {
    /// The name as the database spells it.
    pub name: String,
    /// Primary-key columns, lower case, in key order.
    pub primary_key: Vec<String>,
    /// Column (lower case) → declared type.
    pub types: HashMap<String, String>,
}

/// A source's pool and catalog.
pub(crate) struct SourcePool {
    pub pool: Pool,
    /// The schema unqualified locations are in.
    pub schema: String,
    /// `schema.table` (lower case) → table.
    pub tables: HashMap<String, TableInfo>,
    made: Instant,
    version: DateTime<Utc>,
    /// The counter of [`Pools::statements_executed`].
    statements: Arc<AtomicU64>,
}

/// The pools of every source this process collects from.
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<Uuid, Arc<SourcePool>>>,
    /// Statements sent to sources so far, by every pool.
    statements: Arc<AtomicU64>,
}

impl std::fmt::Debug for Pools {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pools")
    }
}

fn tables_of(catalog: &Catalog) -> HashMap<String, TableInfo> {
    catalog
        .tables
        .iter()
        .map(|t| {
            (
                format!(
                    "{}.{}",
                    catalog.schema.to_lowercase(),
                    t.name.to_lowercase()
                ),
                TableInfo {
                    name: t.name.clone(),
                    primary_key: t
                        .columns
                        .iter()
                        .filter(|c| c.primary_key)
                        .map(|c| c.name.to_lowercase())
                        .collect(),
                    types: t
                        .columns
                        .iter()
                        .map(|c| (c.name.to_lowercase(), c.data_type.clone()))
                        .collect(),
                },
            )
        })
        .collect()
}

fn unreachable(e: impl std::fmt::Display) -> CollectError {
    CollectError::Unreachable(e.to_string())
}

impl From<CatalogError> for CollectError {
    fn from(e: CatalogError) -> Self {
        unreachable(e)
    }
}

impl Pools {
    /// The pool of `source` (made when missing, stale or of an older version of the
    /// source). The location is checked by the guard each time a pool is made.
    pub(crate) async fn get(
        &self,
        dialect: Dialect,
        connector: &dyn Connector,
        source_id: Uuid,
        version: DateTime<Utc>,
        guard: &SourceGuard,
        config: &Map<String, Value>,
    ) -> Result<Arc<SourcePool>, CollectError> {
        if let Some(p) = self.pools.lock().await.get(&source_id)
            && p.version == version
            && p.made.elapsed() < MAX_AGE
        {
            return Ok(p.clone());
        }
        // Made without holding the lock: a source that does not answer must not
        // hold up the others.
        let catalog = connector.catalog(guard, config).await?;
        let target = guard
            .locate(dialect.kind(), config, Stage::Connect)
            .map_err(|r| CollectError::Unreachable(format!("`{}` {}", r.field, r.message)))?;
        let pool = match dialect {
            Dialect::Postgres => {
                Pool::Postgres(pool_options().connect_lazy_with(postgres::options(config)?.0))
            }
            Dialect::Mysql => {
                Pool::Mysql(pool_options().connect_lazy_with(mysql::options(config)?.0))
            }
            Dialect::Sqlite => {
                Pool::Sqlite(pool_options().connect_lazy_with(sqlite::options(&target, false)?))
            }
        };
        let entry = Arc::new(SourcePool {
            pool,
            tables: tables_of(&catalog),
            schema: catalog.schema,
            made: Instant::now(),
            version,
            statements: self.statements.clone(),
        });
        if let Some(old) = self.pools.lock().await.insert(source_id, entry.clone()) {
            old.close();
        }
        Ok(entry)
    }
}

impl Pools {
    /// Statements sent to SQL sources so far (searches, for the statement-count
    /// tests and the collection bench; catalog reads are not counted).
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }
}

impl SourcePool {
    /// Counts a statement sent to the source.
    pub(crate) fn count_statement(&self) {
        self.statements.fetch_add(1, Ordering::Relaxed);
    }

    fn close(&self) {
        // Closing waits for connections in use; do it off the caller's path.
        let pool = self.pool.clone();
        tokio::spawn(async move {
            match pool {
                Pool::Postgres(p) => p.close().await,
                Pool::Mysql(p) => p.close().await,
                Pool::Sqlite(p) => p.close().await,
            }
        });
    }
}
