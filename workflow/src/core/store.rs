//! Database access: connecting, migrating, and transactions that publish their
//! domain events only after they committed.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sea_query::InsertStatement;
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, TransactionTrait,
};
use sea_orm::{EntityTrait, QueryTrait};
use tokio::sync::{Mutex, OwnedMutexGuard};

use entity::request_event;

use crate::core::events::{DomainEvent, EventBus};
use crate::error::{Error, Result};

/// Connection settings.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Maximum pooled connections.
    pub max_connections: u32,
    /// How long to wait for a connection (also the connect timeout).
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A pooled connection is checked with a ping before it is handed out only when it
/// has been idle at least this long (the window HikariCP's `aliveBypassWindowMs`
/// keeps); sqlx's default pings on every acquire, one round trip more for every
/// statement outside a transaction. A connection that broke within the window
/// fails its statement, which the caller sees as a database error.
pub(crate) const PING_WHEN_IDLE: Duration = Duration::from_millis(500);

/// Why the database could not be opened; each says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL's scheme is none of sqlite, postgres, mysql.
    #[error(
        "unsupported database URL `{0}`: use sqlite://FILE?mode=rwc, postgres://USER@HOST/DB or mysql://USER@HOST/DB"
    )]
    UnsupportedUrl(String),
    /// Connecting failed (unreachable, refused, authentication, missing database).
    #[error("cannot connect to database `{url}`: {cause}")]
    Unreachable {
        /// The URL with any password replaced.
        url: String,
        /// What the driver said.
        cause: String,
    },
    /// Applying migrations failed.
    #[error("cannot migrate database `{url}`: {cause}")]
    Migration {
        /// The URL with any password replaced.
        url: String,
        /// What the driver said.
        cause: String,
    },
}

/// Replaces the password of a database URL by `***` for messages and logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &userinfo[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The database of one Auskunft deployment.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite allows one writer at a time; a deferred transaction that read first and
    /// writes later fails with SQLITE_BUSY when another writer got in between. Writers
    /// in this process therefore queue here. PostgreSQL and MySQL use row locks.
    sqlite_writer: Option<Arc<Mutex<()>>>,
    /// SQL statements executed through this store (all connections).
    statements: Arc<AtomicU64>,
}

impl Store {
    /// Connects (creating a SQLite file if missing) without migrating.
    pub async fn connect(url: &str, options: &StoreOptions) -> Result<Self, ConnectError> {
        let scheme = url.split(':').next().unwrap_or_default();
        if !matches!(
            scheme,
            "sqlite" | "postgres" | "postgresql" | "mysql" | "mariadb"
        ) {
            return Err(ConnectError::UnsupportedUrl(redact_url(url)));
        }
        let url = if scheme == "mariadb" {
            url.replacen("mariadb", "mysql", 1)
        } else {
            url.to_owned()
        };
        let mut opts = ConnectOptions::new(url.clone());
        opts.max_connections(options.max_connections)
            .connect_timeout(options.acquire_timeout)
            .acquire_timeout(options.acquire_timeout)
            .test_before_acquire_if_idle_for(PING_WHEN_IDLE)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o: SqliteConnectOptions| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(10))
                    .foreign_keys(true)
                    // Reads of a large ledger or register come from mapped pages
                    // rather than a copy per page read (SQLite's default is off).
                    .pragma("mmap_size", "268435456")
                    // sqlx hands rows from the connection's thread to the reading
                    // task through a channel of this many rows (default 50). SQLite
                    // produces rows faster than a task takes them, so with a small
                    // channel the thread parked whenever it was full and was woken
                    // again as rows were taken: about 400 thread switches for the
                    // 800 rows of a register page. Rows are queued only as far as a
                    // statement returns them.
                    .row_buffer_size(1024)
            });
        let mut db = Database::connect(opts)
            .await
            .map_err(|e| ConnectError::Unreachable {
                url: redact_url(&url),
                cause: e.to_string(),
            })?;
        let statements = Arc::new(AtomicU64::new(0));
        let counter = statements.clone();
        db.set_metric_callback(move |_| {
            counter.fetch_add(1, Ordering::Relaxed);
        });
        let sqlite_writer = (db.get_database_backend() == DatabaseBackend::Sqlite)
            .then(|| Arc::new(Mutex::new(())));
        Ok(Self {
            db,
            sqlite_writer,
            statements,
        })
    }

    /// Connects and applies all pending migrations.
    pub async fn connect_and_migrate(
        url: &str,
        options: &StoreOptions,
    ) -> Result<Self, ConnectError> {
        let store = Self::connect(url, options).await?;
        store.migrate().await.map_err(|e| ConnectError::Migration {
            url: redact_url(url),
            cause: e.to_string(),
        })?;
        Ok(store)
    }

    /// Applies all pending migrations.
    pub async fn migrate(&self) -> Result<(), sea_orm::DbErr> {
        Migrator::up(&self.db, None).await
    }

    /// The pooled connection, for reads.
    pub fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    /// SQL statements executed so far (for metrics and the statement-count tests).
    pub fn statements_executed(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// Which backend this is.
    pub fn backend(&self) -> DatabaseBackend {
        self.db.get_database_backend()
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        self.db.ping().await.map_err(Error::from)
    }

    /// Connections in the pool: (open, idle).
    pub fn pool_stats(&self) -> (u32, usize) {
        match self.backend() {
            DatabaseBackend::Sqlite => {
                let p = self.db.get_sqlite_connection_pool();
                (p.size(), p.num_idle())
            }
            DatabaseBackend::Postgres => {
                let p = self.db.get_postgres_connection_pool();
                (p.size(), p.num_idle())
            }
            DatabaseBackend::MySql => {
                let p = self.db.get_mysql_connection_pool();
                (p.size(), p.num_idle())
            }
            _ => (0, 0),
        }
    }

    /// Waits for this process's turn to write on SQLite (no-op elsewhere). Hold the
    /// guard across a write that does not go through [`Store::begin`]: an outside
    /// write between a transaction's read and its write would fail that transaction
    /// with SQLITE_BUSY_SNAPSHOT.
    pub async fn writer_turn(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        }
    }

    /// Begins a write transaction. Dropping it without [`Tx::commit`] rolls back.
    pub async fn begin(&self) -> Result<Tx> {
        let guard = self.writer_turn().await;
        let txn = self.db.begin().await?;
        Ok(Tx {
            txn: Some(txn),
            writer: guard,
            events: Vec::new(),
            appended: Vec::new(),
        })
    }
}

/// A write transaction that collects the domain events it raises and publishes them
/// only after a successful commit, so subscribers never see rolled-back changes.
///
/// Dropped without [`Tx::commit`] (an error returned early), it rolls back *before*
/// giving up the SQLite writer's turn: the driver would otherwise roll back lazily,
/// after the next writer had started, and that writer would find the database locked.
pub struct Tx {
    /// `Some` until committed or rolled back.
    txn: Option<DatabaseTransaction>,
    writer: Option<OwnedMutexGuard<()>>,
    events: Vec<DomainEvent>,
    /// Timeline rows written with the commit (see [`Tx::append_timeline`]).
    appended: Vec<request_event::ActiveModel>,
}

impl Drop for Tx {
    fn drop(&mut self) {
        let Some(txn) = self.txn.take() else { return };
        let writer = self.writer.take();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if let Err(e) = txn.rollback().await {
                        tracing::warn!(error = %e, "rollback of an abandoned transaction failed");
                    }
                    drop(writer);
                });
            }
            Err(_) => drop((txn, writer)),
        }
    }
}

impl Tx {
    /// The transaction, for statements.
    pub fn conn(&self) -> &DatabaseTransaction {
        self.txn
            .as_ref()
            .expect("a Tx is usable until it is committed")
    }

    /// Queues an event for publication after commit.
    pub fn raise(&mut self, event: DomainEvent) {
        self.events.push(event);
    }

    /// Queues a row of a request's timeline, written with the commit: all of a
    /// transaction's rows in one statement, on PostgreSQL inside the audit's last
    /// statement. The timeline is append-only and nothing reads it inside a
    /// transaction that writes it, so the row needs no earlier round trip.
    pub(crate) fn append_timeline(&mut self, row: request_event::ActiveModel) {
        self.appended.push(row);
    }

    /// The queued timeline rows as one insert (`None` when there are none); the
    /// caller runs it before the commit.
    pub(crate) fn take_timeline(&mut self) -> Option<InsertStatement> {
        if self.appended.is_empty() {
            return None;
        }
        Some(request_event::Entity::insert_many(std::mem::take(&mut self.appended)).into_query())
    }

    /// Commits, then publishes the queued events.
    pub async fn commit(self, bus: &EventBus) -> Result<()> {
        self.commit_then(bus, std::future::ready(Ok(()))).await
    }

    /// Commits, runs `before_publish` (e.g. reloading the permissions the change
    /// touched, so subscribers are authorized by the new rules), then publishes.
    pub async fn commit_then(
        self,
        bus: &EventBus,
        before_publish: impl std::future::Future<Output = Result<()>>,
    ) -> Result<()> {
        let mut this = self;
        if let Some(insert) = this.take_timeline() {
            this.conn().execute(&insert).await?;
        }
        let txn = this
            .txn
            .take()
            .expect("a Tx is committed once (commit takes it by value)");
        let writer = this.writer.take();
        let events = std::mem::take(&mut this.events);
        drop(this);
        let committed = txn.commit().await;
        drop(writer);
        committed?;
        before_publish.await?;
        for event in events {
            bus.publish(event);
        }
        Ok(())
    }
}

/// Lets the transaction that runs `select` commit without waiting for its WAL record
/// to reach the disk, on PostgreSQL (`set_config('synchronous_commit', 'off', true)`
/// as one more column of the same statement: no round trip of its own; other
/// backends keep their setting). Only for work that is done again when lost: a
/// server crash can lose the last such commits as a whole, never part of one, and
/// never corrupts.
pub(crate) fn redo_if_lost<E: EntityTrait>(
    backend: DatabaseBackend,
    select: sea_orm::Select<E>,
) -> sea_orm::Select<E> {
    use sea_orm::QuerySelect;
    use sea_orm::sea_query::Expr;
    if backend == DatabaseBackend::Postgres {
        select.expr_as(
            Expr::cust("set_config('synchronous_commit', 'off', true)"),
            "redo_if_lost",
        )
    } else {
        select
    }
}

/// Anything statements can run on: the pool or a transaction.
pub trait Conn: ConnectionTrait + Sync {}
impl<T: ConnectionTrait + Sync> Conn for T {}

/// Takes one slot of a limited counter in ONE conditional statement:
/// `UPDATE t SET counter = counter + 1, <the update's other columns> WHERE <its
/// filters> AND counter < limit`; `true` when this call got the slot.
///
/// Every limit counter (wrong codes, code sends, delivery attempts ...) goes through
/// here, never read-then-write: concurrent callers cannot both see the same count
/// and both get in, on any backend. The row stays locked until the caller's
/// transaction ends (PostgreSQL/MySQL row lock; SQLite has one writer), so callers
/// that take a slot first and only then do the limited work (compare a code, send
/// a message) are serialized on that row. `update` names the row(s) by its filters
/// and may set further columns that change together with the count.
pub(crate) async fn take_slot<E, C>(
    conn: &C,
    update: sea_orm::UpdateMany<E>,
    counter: E::Column,
    limit: i32,
) -> Result<bool>
where
    E: sea_orm::EntityTrait,
    C: Conn,
{
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{ColumnTrait, QueryFilter};
    let result = update
        .col_expr(counter, Expr::col(counter).add(1))
        .filter(counter.lt(limit))
        .exec(conn)
        .await?;
    Ok(result.rows_affected > 0)
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn redact_url_hides_passwords_only() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("mysql://root@h/db"), "mysql://root@h/db");
        assert_eq!(
            redact_url("sqlite://auskunft.db?mode=rwc"),
            "sqlite://auskunft.db?mode=rwc"
        );
    }
}
