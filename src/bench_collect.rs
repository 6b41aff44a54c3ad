//! `auskunft bench collect`: seeds the shop database of `../shared/bench/` on
//! PostgreSQL (`seed_shop.sql` itself, through `psql`), SQLite and MariaDB (the same
//! tables, keys, indexes and rows, generated with set-based SQL), maps it in the
//! register, and measures on each database:
//!
//! - one complete collection of an access request, from the moment the identity is
//!   confirmed (the COLLECT task exists) to the request being IN_REVIEW: claim,
//!   traversal, storage of the sealed values, timeline, audit and the transition,
//!   beside the hand-written statement of `raw_access.sql` on a connection to the
//!   same shop database, and their ratio;
//! - the same for every scale given (cost must follow the subject's rows, not the
//!   size of the tables);
//! - a burst of requests submitted and verified at once, collected by the workers of
//!   this process: complete collections per second.
//!
//! Orders and support tickets are spread over customers by a hash. PostgreSQL uses
//! `hashint8` (the script); SQLite and MariaDB have no such function, so they use the
//! 32-bit integer finalizer `x ^= x >> 16; x *= 0x45d9f3b; x ^= x >> 16; x *=
//! 0x45d9f3b; x ^= x >> 16` (identical rows on both). Both give every order an
//! independent, uniform-looking customer: order counts per customer follow the same
//! Poisson-like shape with mean 10 (at 100,000 customers: about 12.5 % have exactly
//! 10, 0.2 % 20 or more), but not for the same customer ids.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use sea_orm::sqlx::{self, ConnectOptions, Connection, Row};
use sea_orm::{
    ColumnTrait, ConnectionTrait, Database, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde_json::{Value, json};
use uuid::Uuid;
use workflow::access::audit::Actor;
use workflow::collection::{Pass, Phases, WorkerOptions};
use workflow::entity::{collected_record, subject_request};
use workflow::register::fields::{ErasureStrategy, FieldDraft, IdentityType};
use workflow::register::sources::{ConnectorKind, SourceDraft};
use workflow::requests::{
    Channel, NewIdentity, NewRequest, RequestKind, RequestState, VerificationMethod,
};
use workflow::{DomainEvent, PageRequest, Principal, StoreOptions, Workflow};

use crate::bench::{BenchError, measure, open_scratch, quantile_ms};

/// Default admin URL of the PostgreSQL server (`--postgres` without a value).
const POSTGRES_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/postgres";
/// Default admin URL of the MariaDB server (`--mysql` without a value).
const MYSQL_DEFAULT: &str = "mysql://root@127.0.0.1:3306/mysql";

/// Options of `bench collect`.
#[derive(Args, Debug, Clone)]
pub struct CollectBench {
    /// Customers in the shop database; one run per scale.
    #[arg(long, value_delimiter = ',', default_value = "1000,100000")]
    scales: Vec<u64>,
    /// Access requests collected one at a time per run (random customers).
    #[arg(long, default_value_t = 100)]
    requests: usize,
    /// Access requests submitted and verified at once for the throughput figure
    /// (0: skip).
    #[arg(long, default_value_t = 500)]
    burst: usize,
    /// Collection workers of this process for the burst.
    #[arg(long, default_value_t = 4)]
    workers: usize,
    /// Seed of the random choice of customers.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// PostgreSQL admin URL: a shop database on PostgreSQL (seeded by
    /// `psql -f seed_shop.sql`) and Auskunft's own store on PostgreSQL too. Scratch
    /// databases are created and dropped.
    #[arg(long, value_name = "ADMIN_URL", num_args = 0..=1, default_missing_value = POSTGRES_DEFAULT)]
    postgres: Option<String>,
    /// MariaDB/MySQL admin URL: a shop database on MariaDB (needs the SEQUENCE
    /// engine of MariaDB 10.0+). The scratch database is dropped afterwards.
    #[arg(long, value_name = "ADMIN_URL", num_args = 0..=1, default_missing_value = MYSQL_DEFAULT)]
    mysql: Option<String>,
    /// Shop databases to run on (default: SQLite and those given by --postgres and
    /// --mysql).
    #[arg(long, value_delimiter = ',', value_enum)]
    shops: Vec<Db>,
    /// Auskunft stores to run with (default: SQLite, and PostgreSQL with --postgres).
    #[arg(long, value_delimiter = ',', value_enum)]
    stores: Vec<Db>,
    /// The directory of seed_shop.sql and raw_access.sql (default: the first of
    /// ../shared/bench, shared/bench, ../../shared/bench that has them).
    #[arg(long, value_name = "DIR")]
    bench_dir: Option<PathBuf>,
    /// The pool of the scratch store (from `--database-max-connections`).
    #[arg(skip)]
    pub pool: StoreOptions,
}

/// A database kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Db {
    /// SQLite (a temporary file).
    Sqlite,
    /// PostgreSQL.
    Postgres,
    /// MariaDB / MySQL.
    Mysql,
}

impl Db {
    fn label(self) -> &'static str {
        match self {
            Db::Sqlite => "SQLite",
            Db::Postgres => "PostgreSQL",
            Db::Mysql => "MariaDB",
        }
    }
}

/// One line of the result table.
struct Measured {
    store: Db,
    shop: Db,
    scale: u64,
    seed_secs: f64,
    engine: Vec<Duration>,
    raw: Vec<Duration>,
    verify: Vec<Duration>,
    /// Per request, summed over its tasks: reads before the search, the search, the
    /// storing transaction (see [`Phases`]).
    phases: Vec<Phases>,
    statements: f64,
    /// Statements sent to the shop per request (the search).
    source_statements: f64,
    records: f64,
    burst: Option<(usize, Duration)>,
}

impl Measured {
    fn engine_ms(&self, p: f64) -> f64 {
        quantile_ms(&self.engine, p)
    }
    fn raw_ms(&self, p: f64) -> f64 {
        quantile_ms(&self.raw, p)
    }
    /// The median of one phase, in ms.
    fn phase_ms(&self, of: fn(&Phases) -> Duration) -> f64 {
        let mut d: Vec<Duration> = self.phases.iter().map(of).collect();
        d.sort();
        quantile_ms(&d, 0.50)
    }
    fn per_second(&self) -> Option<f64> {
        self.burst
            .map(|(n, wall)| n as f64 / wall.as_secs_f64().max(1e-9))
    }
}

fn fail(message: impl Into<String>) -> BenchError {
    BenchError::Query(message.into())
}

/// Runs the bench over scales × shops × stores and prints the table.
pub async fn run(opts: CollectBench) -> Result<(), BenchError> {
    let dir = bench_dir(opts.bench_dir.as_deref())?;
    let mut shops = if opts.shops.is_empty() {
        let mut s = vec![Db::Sqlite];
        s.extend(opts.postgres.as_ref().map(|_| Db::Postgres));
        s.extend(opts.mysql.as_ref().map(|_| Db::Mysql));
        s
    } else {
        opts.shops.clone()
    };
    shops.sort();
    shops.dedup();
    let mut stores = if opts.stores.is_empty() {
        let mut s = vec![Db::Sqlite];
        s.extend(opts.postgres.as_ref().map(|_| Db::Postgres));
        s
    } else {
        opts.stores.clone()
    };
    stores.sort();
    stores.dedup();
    if stores.contains(&Db::Mysql) {
        return Err(fail(
            "the bench keeps Auskunft's own store on SQLite or PostgreSQL (--stores sqlite,postgres)",
        ));
    }
    let needs = |db: Db| shops.contains(&db) || stores.contains(&db);
    let postgres = match (&opts.postgres, needs(Db::Postgres)) {
        (Some(url), _) => Some(url.clone()),
        (None, true) => Some(POSTGRES_DEFAULT.to_owned()),
        (None, false) => None,
    };
    let mysql = match (&opts.mysql, shops.contains(&Db::Mysql)) {
        (Some(url), _) => Some(url.clone()),
        (None, true) => Some(MYSQL_DEFAULT.to_owned()),
        (None, false) => None,
    };
    if cfg!(debug_assertions) {
        println!("note: a debug build; figures are only meaningful from `cargo build --release`");
    }
    println!(
        "bench collect: shop scales {:?}, shops {:?}, stores {:?}; {} requests one at a time \
         (random customers, seed {}), burst of {} with {} workers; scripts from {}",
        opts.scales,
        shops.iter().map(|d| d.label()).collect::<Vec<_>>(),
        stores.iter().map(|d| d.label()).collect::<Vec<_>>(),
        opts.requests,
        opts.seed,
        opts.burst,
        opts.workers,
        dir.display()
    );
    let mut rows = Vec::new();
    for &scale in &opts.scales {
        if scale == 0 {
            return Err(fail("a scale is at least 1 customer"));
        }
        for &shop_kind in &shops {
            let started = Instant::now();
            let shop = Shop::seed(
                shop_kind,
                scale,
                &dir,
                postgres.as_deref(),
                mysql.as_deref(),
            )
            .await?;
            let seed_secs = started.elapsed().as_secs_f64();
            println!(
                "{} shop, {scale} customers: seeded in {seed_secs:.1} s",
                shop_kind.label()
            );
            let mut result = Ok(());
            for &store in &stores {
                let (shop, opts) = (&shop, &opts);
                let r = with_store(store, postgres.as_deref(), |url| async move {
                    run_on(store, shop, &url, scale, seed_secs, opts).await
                })
                .await;
                match r {
                    Ok(row) => {
                        print_row_progress(&row);
                        rows.push(row);
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            shop.drop_it(postgres.as_deref(), mysql.as_deref()).await;
            result?;
        }
    }
    print_table(&rows, &opts);
    Ok(())
}

fn bench_dir(given: Option<&Path>) -> Result<PathBuf, BenchError> {
    let has_scripts =
        |d: &Path| d.join("seed_shop.sql").is_file() && d.join("raw_access.sql").is_file();
    if let Some(d) = given {
        return if has_scripts(d) {
            Ok(d.to_owned())
        } else {
            Err(fail(format!(
                "{} has no seed_shop.sql and raw_access.sql",
                d.display()
            )))
        };
    }
    ["../shared/bench", "shared/bench", "../../shared/bench"]
        .iter()
        .map(PathBuf::from)
        .find(|d| has_scripts(d))
        .ok_or_else(|| {
            fail(
                "cannot find seed_shop.sql and raw_access.sql in ../shared/bench; give --bench-dir",
            )
        })
}

/// Runs `f(url)` on a fresh Auskunft store of `kind`, removed afterwards.
async fn with_store<F, Fut, T>(kind: Db, postgres: Option<&str>, f: F) -> Result<T, BenchError>
where
    F: FnOnce(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, BenchError>>,
{
    match kind {
        Db::Sqlite => {
            let file = std::env::temp_dir().join(format!(
                "auskunft-bench-store-{}.db",
                Uuid::new_v4().simple()
            ));
            let result = f(format!("sqlite://{}?mode=rwc", file.display())).await;
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            result
        }
        Db::Postgres => {
            let admin_url = postgres.ok_or_else(|| fail("a PostgreSQL store needs --postgres"))?;
            let name = format!("auskunft_bench_{}", Uuid::new_v4().simple());
            let admin = Database::connect(admin_url).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                .await?;
            let result = f(with_database(admin_url, &name)?).await;
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await?;
            result
        }
        Db::Mysql => Err(fail("no MariaDB store in this bench")),
    }
}

/// `url` with its path replaced by `/name`.
fn with_database(url: &str, name: &str) -> Result<String, BenchError> {
    let mut parsed = reqwest::Url::parse(url).map_err(|e| fail(format!("bad admin URL: {e}")))?;
    parsed.set_path(&format!("/{name}"));
    Ok(parsed.to_string())
}

/// A seeded shop database.
struct Shop {
    kind: Db,
    /// sqlx URL of the database.
    url: String,
    /// Connector config of the data source.
    config: Value,
    /// Database name (PostgreSQL, MariaDB) or file (SQLite).
    name: String,
    /// The hand-written statement for this database.
    raw_sql: String,
}

impl Shop {
    async fn seed(
        kind: Db,
        scale: u64,
        dir: &Path,
        postgres: Option<&str>,
        mysql: Option<&str>,
    ) -> Result<Shop, BenchError> {
        let raw_access = std::fs::read_to_string(dir.join("raw_access.sql"))?;
        match kind {
            Db::Postgres => {
                let admin_url =
                    postgres.ok_or_else(|| fail("a PostgreSQL shop needs --postgres"))?;
                let name = format!("auskunft_bench_shop_{}", Uuid::new_v4().simple());
                let admin = Database::connect(admin_url).await?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await?;
                let url = with_database(admin_url, &name)?;
                let shop = Shop {
                    kind,
                    config: server_config(&url, true)?,
                    url: url.clone(),
                    name,
                    // The statement itself, with psql's :'email' as a parameter.
                    raw_sql: raw_access.replace(":'email'", "$1"),
                };
                let script = dir.join("seed_shop.sql");
                let output = tokio::task::spawn_blocking(move || {
                    std::process::Command::new("psql")
                        .arg(&url)
                        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-v"])
                        .arg(format!("scale={scale}"))
                        .arg("-f")
                        .arg(script)
                        .output()
                })
                .await
                .map_err(|e| fail(format!("psql: {e}")))?;
                match output {
                    Ok(o) if o.status.success() => Ok(shop),
                    Ok(o) => {
                        shop.drop_it(postgres, mysql).await;
                        Err(fail(format!(
                            "psql -f seed_shop.sql failed: {}",
                            String::from_utf8_lossy(&o.stderr).trim()
                        )))
                    }
                    Err(e) => {
                        shop.drop_it(postgres, mysql).await;
                        Err(fail(format!("cannot run psql (is it installed?): {e}")))
                    }
                }
            }
            Db::Mysql => {
                let admin_url = mysql.ok_or_else(|| fail("a MariaDB shop needs --mysql"))?;
                let name = format!("auskunft_bench_shop_{}", Uuid::new_v4().simple());
                let admin = Database::connect(admin_url).await?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE `{name}`"))
                    .await?;
                let url = with_database(admin_url, &name)?;
                let shop = Shop {
                    kind,
                    config: server_config(&url, false)?,
                    url: url.clone(),
                    name,
                    raw_sql: RAW_MYSQL.to_owned(),
                };
                let seeded = async {
                    // The bench times the seeding itself; sqlx's slow-statement
                    // warning would print each seeding script in full.
                    let mut conn = url
                        .parse::<sqlx::mysql::MySqlConnectOptions>()
                        .map_err(|e| fail(e.to_string()))?
                        .disable_statement_logging()
                        .connect()
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                    for statement in mysql_seed(scale) {
                        sqlx::raw_sql(sqlx::AssertSqlSafe(statement))
                            .execute(&mut conn)
                            .await
                            .map_err(|e| fail(format!("seeding MariaDB: {e}")))?;
                    }
                    conn.close().await.map_err(|e| fail(e.to_string()))
                }
                .await;
                match seeded {
                    Ok(()) => Ok(shop),
                    Err(e) => {
                        shop.drop_it(postgres, mysql).await;
                        Err(e)
                    }
                }
            }
            Db::Sqlite => {
                // Inside the directory of SQLite sources of the scratch workflow.
                let file = std::env::temp_dir().join(format!(
                    "auskunft-bench-shop-{}.db",
                    Uuid::new_v4().simple()
                ));
                let shop = Shop {
                    kind,
                    url: format!("sqlite://{}", file.display()),
                    config: json!({"path": file.display().to_string()}),
                    name: file.display().to_string(),
                    raw_sql: RAW_SQLITE.to_owned(),
                };
                let seeded = async {
                    let mut conn = sqlx::sqlite::SqliteConnectOptions::new()
                        .filename(&file)
                        .create_if_missing(true)
                        .disable_statement_logging()
                        .connect()
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                    sqlx::raw_sql(sqlx::AssertSqlSafe(sqlite_seed(scale)))
                        .execute(&mut conn)
                        .await
                        .map_err(|e| fail(format!("seeding SQLite: {e}")))?;
                    conn.close().await.map_err(|e| fail(e.to_string()))
                }
                .await;
                match seeded {
                    Ok(()) => Ok(shop),
                    Err(e) => {
                        shop.drop_it(postgres, mysql).await;
                        Err(e)
                    }
                }
            }
        }
    }

    async fn drop_it(&self, postgres: Option<&str>, mysql: Option<&str>) {
        let dropped = match (self.kind, postgres, mysql) {
            (Db::Postgres, Some(admin), _) => match Database::connect(admin).await {
                Ok(c) => c
                    .execute_unprepared(&format!(
                        "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                        self.name
                    ))
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            },
            (Db::Mysql, _, Some(admin)) => match Database::connect(admin).await {
                Ok(c) => c
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS `{}`", self.name))
                    .await
                    .map(|_| ()),
                Err(e) => Err(e),
            },
            _ => {
                for suffix in ["", "-journal", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.name));
                }
                Ok(())
            }
        };
        if let Err(e) = dropped {
            eprintln!(
                "warning: could not drop the shop database {}: {e}",
                self.name
            );
        }
    }

    fn connector_kind(&self) -> ConnectorKind {
        match self.kind {
            Db::Sqlite => ConnectorKind::Sqlite,
            Db::Postgres => ConnectorKind::Postgres,
            Db::Mysql => ConnectorKind::Mysql,
        }
    }
}

/// The connector config of a PostgreSQL or MariaDB shop at `url`.
fn server_config(url: &str, postgres: bool) -> Result<Value, BenchError> {
    let parsed = reqwest::Url::parse(url).map_err(|e| fail(format!("bad admin URL: {e}")))?;
    let mut config = json!({
        "host": parsed.host_str().unwrap_or("127.0.0.1"),
        "port": parsed.port().unwrap_or(if postgres { 5432 } else { 3306 }),
        "database": parsed.path().trim_start_matches('/'),
        "user": if parsed.username().is_empty() {
            if postgres { "postgres" } else { "root" }
        } else {
            parsed.username()
        },
    });
    if let Some(password) = parsed.password() {
        config["password"] = json!(password);
    }
    if postgres {
        config["sslMode"] = json!("disable");
    }
    Ok(config)
}

/// The shape of seed_shop.sql on SQLite: recursive CTEs instead of generate_series,
/// the hash of the module comment instead of hashint8, INTEGER PRIMARY KEY (the
/// rowid), foreign keys declared with the tables, indexes built after the load.
fn sqlite_seed(scale: u64) -> String {
    const HASH: &str = "h1(g, x) AS (SELECT g, ((((v >> 16) | v) - ((v >> 16) & v)) * 73244475) & 4294967295 FROM v),
  h2(g, x) AS (SELECT g, ((((x >> 16) | x) - ((x >> 16) & x)) * 73244475) & 4294967295 FROM h1),
  h3(g, x) AS (SELECT g, ((x >> 16) | x) - ((x >> 16) & x) FROM h2)";
    let template = r#"
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
PRAGMA cache_size = -262144;
PRAGMA temp_store = MEMORY;
BEGIN;
CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL,
    name        TEXT NOT NULL,
    phone       TEXT,
    address     TEXT,
    created_at  TEXT NOT NULL
);
CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    total       NUMERIC(12,2) NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE TABLE order_items (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    sku         TEXT NOT NULL,
    qty         INTEGER NOT NULL
);
CREATE TABLE invoices (
    id          INTEGER PRIMARY KEY,
    order_id    INTEGER NOT NULL REFERENCES orders (id),
    iban        TEXT NOT NULL,
    amount      NUMERIC(12,2) NOT NULL
);
CREATE TABLE newsletter_subscribers (
    id            INTEGER PRIMARY KEY,
    email         TEXT NOT NULL,
    subscribed_at TEXT NOT NULL
);
CREATE TABLE support_tickets (
    id             INTEGER PRIMARY KEY,
    customer_email TEXT NOT NULL,
    body           TEXT NOT NULL
);
INSERT INTO customers (id, email, name, phone, address, created_at)
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {S})
SELECT g,
       'user' || g || '@example.com',
       CASE g % 10 WHEN 0 THEN 'Anna' WHEN 1 THEN 'Ben' WHEN 2 THEN 'Chloe' WHEN 3 THEN 'David' WHEN 4 THEN 'Emma'
                   WHEN 5 THEN 'Felix' WHEN 6 THEN 'Grace' WHEN 7 THEN 'Hugo' WHEN 8 THEN 'Iris' ELSE 'Jonas' END
         || ' ' ||
       CASE (g / 10) % 10 WHEN 0 THEN 'Smith' WHEN 1 THEN 'Muller' WHEN 2 THEN 'Rossi' WHEN 3 THEN 'Dubois'
                   WHEN 4 THEN 'Novak' WHEN 5 THEN 'Silva' WHEN 6 THEN 'Jansen' WHEN 7 THEN 'Berg'
                   WHEN 8 THEN 'Kowalski' ELSE 'Garcia' END,
       '+1-555-' || printf('%07d', g % 10000000),
       (g % 9999 + 1) || ' Main Street, Apt ' || (g % 97) || ', Springfield ' || printf('%05d', g % 99999),
       strftime('%Y-%m-%d %H:%M:%S+00', '2020-01-01', '+' || (g % 1500) || ' days', '+' || (g % 86400) || ' seconds')
FROM s;
INSERT INTO orders (id, customer_id, total, created_at)
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {S10}),
  v(g, v) AS (SELECT g, g FROM s),
  {HASH}
SELECT g,
       1 + x % {S},
       ((g * 7919) % 50000) / 100.0 + 1,
       strftime('%Y-%m-%d %H:%M:%S+00', '2021-01-01', '+' || (g % 1400) || ' days', '+' || (g % 86400) || ' seconds')
FROM h3;
INSERT INTO order_items (id, order_id, sku, qty)
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {S30})
SELECT g, 1 + (g - 1) / 3, 'SKU-' || printf('%05d', (g * 2654435761) % 100000), 1 + g % 4
FROM s;
INSERT INTO invoices (id, order_id, iban, amount)
SELECT id, id, 'DE' || printf('%02d', id % 97 + 2) || ' 3704 0044 ' || printf('%010d', id % 100000000), total
FROM orders;
INSERT INTO newsletter_subscribers (id, email, subscribed_at)
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 2 FROM s WHERE g + 2 <= {S})
SELECT (g + 1) / 2, 'user' || g || '@example.com',
       strftime('%Y-%m-%d %H:%M:%S+00', '2022-01-01', '+' || (g % 700) || ' days')
FROM s;
INSERT INTO newsletter_subscribers (id, email, subscribed_at)
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {PROSPECTS})
SELECT {HALF} + g, 'prospect' || g || '@example.org',
       strftime('%Y-%m-%d %H:%M:%S+00', '2022-06-01', '+' || (g % 300) || ' days')
FROM s;
INSERT INTO support_tickets (id, customer_email, body)
WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {TICKETS}),
  v(g, v) AS (SELECT g, g + 1000000007 FROM s),
  {HASH}
SELECT g,
       'user' || (1 + x % {S}) || '@example.com',
       'Ticket #' || g || ': my order did not arrive, please check tracking and refund if lost.'
FROM h3;
CREATE UNIQUE INDEX customers_email_idx ON customers (email);
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE INDEX order_items_order_id_idx ON order_items (order_id);
CREATE INDEX invoices_order_id_idx ON invoices (order_id);
CREATE INDEX newsletter_subscribers_email_idx ON newsletter_subscribers (email);
CREATE INDEX support_tickets_customer_email_idx ON support_tickets (customer_email);
COMMIT;
ANALYZE;
PRAGMA journal_mode = DELETE;
"#;
    fill(&template.replace("{HASH}", HASH), scale)
}

/// Replaces the size placeholders of a seed template.
fn fill(template: &str, scale: u64) -> String {
    template
        .replace("{S10}", &(10 * scale).to_string())
        .replace("{S30}", &(30 * scale).to_string())
        .replace("{PROSPECTS}", &(scale / 10).max(1).to_string())
        .replace("{TICKETS}", &(scale * 3 / 10).max(1).to_string())
        .replace("{HALF}", &scale.div_ceil(2).to_string())
        .replace("{S}", &scale.to_string())
}

/// The shape of seed_shop.sql on MariaDB: the SEQUENCE engine's `seq_1_to_N` tables
/// instead of generate_series, the hash of the module comment (same rows as on
/// SQLite), InnoDB tables filled in key order, then indexes and foreign keys.
fn mysql_seed(scale: u64) -> Vec<String> {
    let statements = [
        "SET SESSION unique_checks = 0",
        "SET SESSION foreign_key_checks = 0",
        "CREATE TABLE customers (
            id          BIGINT PRIMARY KEY,
            email       VARCHAR(255) NOT NULL,
            name        VARCHAR(255) NOT NULL,
            phone       VARCHAR(32),
            address     VARCHAR(255),
            created_at  DATETIME NOT NULL
        ) ENGINE = InnoDB",
        "CREATE TABLE orders (
            id          BIGINT PRIMARY KEY,
            customer_id BIGINT NOT NULL,
            total       DECIMAL(12,2) NOT NULL,
            created_at  DATETIME NOT NULL
        ) ENGINE = InnoDB",
        "CREATE TABLE order_items (
            id          BIGINT PRIMARY KEY,
            order_id    BIGINT NOT NULL,
            sku         VARCHAR(32) NOT NULL,
            qty         INT NOT NULL
        ) ENGINE = InnoDB",
        "CREATE TABLE invoices (
            id          BIGINT PRIMARY KEY,
            order_id    BIGINT NOT NULL,
            iban        VARCHAR(64) NOT NULL,
            amount      DECIMAL(12,2) NOT NULL
        ) ENGINE = InnoDB",
        "CREATE TABLE newsletter_subscribers (
            id            BIGINT PRIMARY KEY,
            email         VARCHAR(255) NOT NULL,
            subscribed_at DATETIME NOT NULL
        ) ENGINE = InnoDB",
        "CREATE TABLE support_tickets (
            id             BIGINT PRIMARY KEY,
            customer_email VARCHAR(255) NOT NULL,
            body           TEXT NOT NULL
        ) ENGINE = InnoDB",
        "INSERT INTO customers (id, email, name, phone, address, created_at)
         SELECT seq,
                CONCAT('user', seq, '@example.com'),
                CONCAT(ELT(1 + seq % 10, 'Anna','Ben','Chloe','David','Emma','Felix','Grace','Hugo','Iris','Jonas'), ' ',
                       ELT(1 + (seq DIV 10) % 10, 'Smith','Muller','Rossi','Dubois','Novak','Silva','Jansen','Berg','Kowalski','Garcia')),
                CONCAT('+1-555-', LPAD(seq % 10000000, 7, '0')),
                CONCAT(seq % 9999 + 1, ' Main Street, Apt ', seq % 97, ', Springfield ', LPAD(seq % 99999, 5, '0')),
                TIMESTAMP '2020-01-01 00:00:00' + INTERVAL (seq % 1500) DAY + INTERVAL (seq % 86400) SECOND
         FROM seq_1_to_{S}",
        "INSERT INTO orders (id, customer_id, total, created_at)
         SELECT g, 1 + (x ^ (x >> 16)) % {S}, ((g * 7919) % 50000) / 100.0 + 1,
                TIMESTAMP '2021-01-01 00:00:00' + INTERVAL (g % 1400) DAY + INTERVAL (g % 86400) SECOND
         FROM (SELECT g, ((x ^ (x >> 16)) * 73244475) & 4294967295 AS x
               FROM (SELECT seq AS g, ((seq ^ (seq >> 16)) * 73244475) & 4294967295 AS x
                     FROM seq_1_to_{S10}) a) b",
        "INSERT INTO order_items (id, order_id, sku, qty)
         SELECT seq, 1 + (seq - 1) DIV 3, CONCAT('SKU-', LPAD((seq * 2654435761) % 100000, 5, '0')), 1 + seq % 4
         FROM seq_1_to_{S30}",
        "INSERT INTO invoices (id, order_id, iban, amount)
         SELECT id, id, CONCAT('DE', LPAD(id % 97 + 2, 2, '0'), ' 3704 0044 ', LPAD(id % 100000000, 10, '0')), total
         FROM orders",
        "INSERT INTO newsletter_subscribers (id, email, subscribed_at)
         SELECT (seq + 1) DIV 2, CONCAT('user', seq, '@example.com'),
                TIMESTAMP '2022-01-01 00:00:00' + INTERVAL (seq % 700) DAY
         FROM seq_1_to_{S}_step_2",
        "INSERT INTO newsletter_subscribers (id, email, subscribed_at)
         SELECT {HALF} + seq, CONCAT('prospect', seq, '@example.org'),
                TIMESTAMP '2022-06-01 00:00:00' + INTERVAL (seq % 300) DAY
         FROM seq_1_to_{PROSPECTS}",
        "INSERT INTO support_tickets (id, customer_email, body)
         SELECT g, CONCAT('user', 1 + (x ^ (x >> 16)) % {S}, '@example.com'),
                CONCAT('Ticket #', g, ': my order did not arrive, please check tracking and refund if lost.')
         FROM (SELECT g, ((x ^ (x >> 16)) * 73244475) & 4294967295 AS x
               FROM (SELECT seq AS g,
                            (((seq + 1000000007) ^ ((seq + 1000000007) >> 16)) * 73244475) & 4294967295 AS x
                     FROM seq_1_to_{TICKETS}) a) b",
        "CREATE UNIQUE INDEX customers_email_idx ON customers (email)",
        "CREATE INDEX orders_customer_id_idx ON orders (customer_id)",
        "CREATE INDEX order_items_order_id_idx ON order_items (order_id)",
        "CREATE INDEX invoices_order_id_idx ON invoices (order_id)",
        "CREATE INDEX newsletter_subscribers_email_idx ON newsletter_subscribers (email)",
        "CREATE INDEX support_tickets_customer_email_idx ON support_tickets (customer_email)",
        "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)",
        "ALTER TABLE order_items ADD CONSTRAINT order_items_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)",
        "ALTER TABLE invoices ADD CONSTRAINT invoices_order_fk FOREIGN KEY (order_id) REFERENCES orders (id)",
        "ANALYZE TABLE customers, orders, order_items, invoices, newsletter_subscribers, support_tickets",
    ];
    statements.iter().map(|s| fill(s, scale)).collect()
}

/// raw_access.sql on SQLite: the same CTEs and lookups, JSON built with SQLite's
/// functions (every column listed, as `json_agg(row)` gives them on PostgreSQL).
const RAW_SQLITE: &str = "WITH c AS (SELECT * FROM customers WHERE email = ?1),
     o AS (SELECT * FROM orders WHERE customer_id IN (SELECT id FROM c))
SELECT json_object(
  'customers', (SELECT json_group_array(json_object('id', id, 'email', email, 'name', name, 'phone', phone,
                 'address', address, 'created_at', created_at)) FROM c),
  'orders', (SELECT json_group_array(json_object('id', id, 'customer_id', customer_id, 'total', total,
                 'created_at', created_at)) FROM o),
  'order_items', (SELECT json_group_array(json_object('id', i.id, 'order_id', i.order_id, 'sku', i.sku, 'qty', i.qty))
                 FROM order_items i WHERE i.order_id IN (SELECT id FROM o)),
  'invoices', (SELECT json_group_array(json_object('id', v.id, 'order_id', v.order_id, 'iban', v.iban,
                 'amount', v.amount)) FROM invoices v WHERE v.order_id IN (SELECT id FROM o)),
  'newsletter_subscribers', (SELECT json_group_array(json_object('id', n.id, 'email', n.email,
                 'subscribed_at', n.subscribed_at)) FROM newsletter_subscribers n WHERE n.email = ?1),
  'support_tickets', (SELECT json_group_array(json_object('id', t.id, 'customer_email', t.customer_email,
                 'body', t.body)) FROM support_tickets t WHERE t.customer_email = ?1)
) AS subject_data";

/// raw_access.sql on MariaDB (the e-mail is bound three times).
const RAW_MYSQL: &str = "WITH c AS (SELECT * FROM customers WHERE email = ?),
     o AS (SELECT * FROM orders WHERE customer_id IN (SELECT id FROM c))
SELECT JSON_OBJECT(
  'customers', (SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT('id', id, 'email', email, 'name', name, 'phone', phone,
                 'address', address, 'created_at', created_at)), JSON_ARRAY()) FROM c),
  'orders', (SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT('id', id, 'customer_id', customer_id, 'total', total,
                 'created_at', created_at)), JSON_ARRAY()) FROM o),
  'order_items', (SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT('id', i.id, 'order_id', i.order_id, 'sku', i.sku,
                 'qty', i.qty)), JSON_ARRAY()) FROM order_items i WHERE i.order_id IN (SELECT id FROM o)),
  'invoices', (SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT('id', v.id, 'order_id', v.order_id, 'iban', v.iban,
                 'amount', v.amount)), JSON_ARRAY()) FROM invoices v WHERE v.order_id IN (SELECT id FROM o)),
  'newsletter_subscribers', (SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT('id', n.id, 'email', n.email,
                 'subscribed_at', n.subscribed_at)), JSON_ARRAY()) FROM newsletter_subscribers n WHERE n.email = ?),
  'support_tickets', (SELECT COALESCE(JSON_ARRAYAGG(JSON_OBJECT('id', t.id, 'customer_email', t.customer_email,
                 'body', t.body)), JSON_ARRAY()) FROM support_tickets t WHERE t.customer_email = ?)
) AS subject_data";

/// One connection to the shop for the hand-written statement.
enum Raw {
    Postgres(sqlx::PgConnection),
    Mysql(sqlx::MySqlConnection),
    Sqlite(sqlx::SqliteConnection),
}

impl Raw {
    async fn open(shop: &Shop) -> Result<Raw, BenchError> {
        let e = |e: sqlx::Error| fail(format!("connecting to the shop: {e}"));
        Ok(match shop.kind {
            Db::Postgres => Raw::Postgres(sqlx::PgConnection::connect(&shop.url).await.map_err(e)?),
            Db::Mysql => Raw::Mysql(sqlx::MySqlConnection::connect(&shop.url).await.map_err(e)?),
            Db::Sqlite => Raw::Sqlite(
                sqlx::SqliteConnection::connect(&format!("{}?mode=ro", shop.url))
                    .await
                    .map_err(e)?,
            ),
        })
    }

    /// Runs the statement for `email`: its time and the rows it returned.
    async fn access(&mut self, sql: &str, email: &str) -> Result<(Duration, usize), BenchError> {
        let e = |e: sqlx::Error| fail(format!("hand-written statement: {e}"));
        let started = Instant::now();
        let text: String = match self {
            Raw::Postgres(c) => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(email)
                .fetch_one(&mut *c)
                .await
                .map_err(e)?
                // `json`, read as its text.
                .try_get_unchecked(0)
                .map_err(e)?,
            Raw::Mysql(c) => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(email)
                .bind(email)
                .bind(email)
                .fetch_one(&mut *c)
                .await
                .map_err(e)?
                .try_get(0)
                .map_err(e)?,
            Raw::Sqlite(c) => sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(email)
                .fetch_one(&mut *c)
                .await
                .map_err(e)?
                .try_get(0)
                .map_err(e)?,
        };
        let took = started.elapsed();
        let parsed: Value = serde_json::from_str(&text)
            .map_err(|e| fail(format!("the statement returned no JSON: {e}")))?;
        let rows = parsed
            .as_object()
            .map(|o| o.values().filter_map(Value::as_array).map(Vec::len).sum())
            .unwrap_or(0);
        Ok((took, rows))
    }

    async fn close(self) {
        let _ = match self {
            Raw::Postgres(c) => c.close().await,
            Raw::Mysql(c) => c.close().await,
            Raw::Sqlite(c) => c.close().await,
        };
    }
}

/// SplitMix64: a small deterministic generator for the choice of customers.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A customer id in 1..=scale.
    fn customer(&mut self, scale: u64) -> u64 {
        1 + self.next() % scale
    }
}

/// The register entry of the shop: the source and its fields, as the brief maps
/// them (identifying fields, references, data categories).
async fn map_shop(wf: &Workflow, admin: &Principal, shop: &Shop) -> Result<(), BenchError> {
    let categories = wf
        .data_categories(
            admin,
            &Default::default(),
            &PageRequest {
                first: Some(100),
                ..Default::default()
            },
        )
        .await?
        .items;
    let category = |key: &str| categories.iter().find(|c| c.key == key).map(|c| c.id);
    let source = wf
        .create_data_source(
            admin,
            SourceDraft {
                name: format!("Shop ({})", shop.kind.label()),
                description: Some("The benchmark shop of ../shared/bench".into()),
                owner: None,
                country: Some("DE".into()),
                processor_id: None,
                connector_kind: shop.connector_kind(),
                connector_config: shop.config.clone(),
            },
        )
        .await?;
    let email = Some(IdentityType::Email);
    let mut ids = std::collections::HashMap::new();
    for (location, identity, references, category_key) in [
        ("customers.id", None, None, "account.customer_number"),
        ("customers.email", email, None, "contact.email"),
        ("customers.name", None, None, "identity.name"),
        ("customers.phone", None, None, "contact.phone"),
        ("customers.address", None, None, "contact.postal_address"),
        ("orders.id", None, None, "contract.orders"),
        (
            "orders.customer_id",
            None,
            Some("customers.id"),
            "account.customer_number",
        ),
        ("orders.total", None, None, "contract.orders"),
        ("orders.created_at", None, None, "contract.orders"),
        (
            "order_items.order_id",
            None,
            Some("orders.id"),
            "contract.orders",
        ),
        ("order_items.sku", None, None, "contract.orders"),
        ("order_items.qty", None, None, "contract.orders"),
        (
            "invoices.order_id",
            None,
            Some("orders.id"),
            "financial.invoices",
        ),
        ("invoices.iban", None, None, "financial.bank_account"),
        ("invoices.amount", None, None, "financial.invoices"),
        ("newsletter_subscribers.email", email, None, "contact.email"),
        (
            "newsletter_subscribers.subscribed_at",
            None,
            None,
            "marketing.newsletter",
        ),
        (
            "support_tickets.customer_email",
            email,
            None,
            "contact.email",
        ),
        ("support_tickets.body", None, None, "communication.support"),
    ] {
        let field = wf
            .create_data_field(
                admin,
                FieldDraft {
                    source_id: source.id,
                    location: location.into(),
                    description: None,
                    data_category_id: category(category_key),
                    identifies_subject: identity.is_some(),
                    identity_type: identity,
                    references_id: references.map(|r| ids[r]),
                    erasure_strategy: ErasureStrategy::SetNull,
                },
            )
            .await?;
        ids.insert(location, field.id);
    }
    Ok(())
}

/// Submits an access request for `email` (it waits in RECEIVED).
async fn submit(wf: &Workflow, admin: &Principal, email: &str) -> Result<Uuid, BenchError> {
    Ok(wf
        .submit_request(
            admin,
            NewRequest {
                kind: RequestKind::Access,
                channel: Channel::Api,
                identities: vec![NewIdentity {
                    kind: IdentityType::Email,
                    value: email.into(),
                }],
                text: None,
                is_test: true,
                received_at: None,
                idempotency_key: None,
                attachments: vec![],
            },
        )
        .await?
        .request
        .id)
}

/// Confirms the requester's identity: the request enters COLLECTING and its COLLECT
/// task is created.
async fn verify(wf: &Workflow, admin: &Principal, id: Uuid) -> Result<(), BenchError> {
    wf.verify_identity(
        admin,
        id,
        Some(1),
        VerificationMethod::DocumentCheck,
        "bench: ID card checked".into(),
    )
    .await?;
    Ok(())
}

/// Runs the request's task(s) in this task until it is IN_REVIEW.
async fn collect_until_in_review(
    wf: &Workflow,
    options: &WorkerOptions,
) -> Result<Phases, BenchError> {
    let mut total = Phases::default();
    loop {
        match wf.collect_once("bench", options).await? {
            Pass::Done {
                to_review, phases, ..
            } => {
                total.prepare += phases.prepare;
                total.search += phases.search;
                total.store += phases.store;
                if to_review {
                    return Ok(total);
                }
            }
            Pass::Idle => return Err(fail("no collection task was claimable")),
            other => return Err(fail(format!("collection did not finish: {other:?}"))),
        }
    }
}

/// Distinct records (rows of the shop) stored for a request.
async fn records_of(wf: &Workflow, request: Uuid) -> Result<usize, BenchError> {
    let keys: Vec<Option<String>> = collected_record::Entity::find()
        .select_only()
        .column(collected_record::Column::RecordKey)
        .filter(collected_record::Column::RequestId.eq(request))
        .into_tuple()
        .all(wf.store().conn())
        .await?;
    Ok(keys.into_iter().collect::<HashSet<_>>().len())
}

async fn run_on(
    store: Db,
    shop: &Shop,
    store_url: &str,
    scale: u64,
    seed_secs: f64,
    opts: &CollectBench,
) -> Result<Measured, BenchError> {
    let wf = open_scratch(store_url, &opts.pool).await?;
    let org = wf
        .create_organization("Bench Shop GmbH", &Actor::system("bench"))
        .await?;
    let admin = Principal {
        key_id: org.admin_key.key.id,
        org_id: org.organization.id,
        key_name: "bench admin".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    map_shop(&wf, &admin, shop).await?;
    let options = WorkerOptions::default();
    let mut raw = Raw::open(shop).await?;
    let mut rng = SplitMix(opts.seed ^ scale);

    // Warm-up: the source's pool and catalog, prepared statements, caches.
    for _ in 0..5 {
        let email = format!("user{}@example.com", rng.customer(scale));
        raw.access(&shop.raw_sql, &email).await?;
        let id = submit(&wf, &admin, &email).await?;
        verify(&wf, &admin, id).await?;
        collect_until_in_review(&wf, &options).await?;
    }

    let mut engine = Vec::with_capacity(opts.requests);
    let mut hand = Vec::with_capacity(opts.requests);
    let mut verify_times = Vec::with_capacity(opts.requests);
    let mut phases = Vec::with_capacity(opts.requests);
    let mut statements = 0u64;
    let mut source_statements = 0u64;
    let mut records = 0usize;
    for _ in 0..opts.requests {
        let email = format!("user{}@example.com", rng.customer(scale));
        // The hand-written statement, warm (run once before it is timed).
        raw.access(&shop.raw_sql, &email).await?;
        let (took, rows) = raw.access(&shop.raw_sql, &email).await?;
        hand.push(took);

        let id = submit(&wf, &admin, &email).await?;
        let started = Instant::now();
        verify(&wf, &admin, id).await?;
        verify_times.push(started.elapsed());
        // Complete collection: from the confirmed identity (the task exists) to
        // IN_REVIEW, including the traversal of the shop, sealing and storing every
        // value, identities found on the way, timeline, audit chain and the
        // transition with its leak scan.
        let before = wf.store().statements_executed();
        let source_before = wf.source_statements_executed();
        let started = Instant::now();
        phases.push(collect_until_in_review(&wf, &options).await?);
        engine.push(started.elapsed());
        statements += wf.store().statements_executed() - before;
        source_statements += wf.source_statements_executed() - source_before;

        let found = records_of(&wf, id).await?;
        if found != rows {
            return Err(fail(format!(
                "{email}: the engine collected {found} records, the hand-written statement {rows}"
            )));
        }
        records += found;
    }
    raw.close().await;
    engine.sort();
    hand.sort();
    verify_times.sort();

    let burst = if opts.burst > 0 {
        Some(burst(&wf, &admin, scale, &mut rng, opts).await?)
    } else {
        None
    };
    Ok(Measured {
        store,
        shop: shop.kind,
        scale,
        seed_secs,
        statements: statements as f64 / opts.requests.max(1) as f64,
        source_statements: source_statements as f64 / opts.requests.max(1) as f64,
        records: records as f64 / opts.requests.max(1) as f64,
        engine,
        raw: hand,
        verify: verify_times,
        phases,
        burst,
    })
}

/// Submits and verifies `opts.burst` requests, then lets `opts.workers` workers
/// collect them all; returns the count and the time from starting the workers to
/// the last request in IN_REVIEW.
async fn burst(
    wf: &Workflow,
    admin: &Principal,
    scale: u64,
    rng: &mut SplitMix,
    opts: &CollectBench,
) -> Result<(usize, Duration), BenchError> {
    // Different customers: a burst is many people asking at once. (Two concurrent
    // first requests of one new e-mail address race for its subject identity.)
    let mut chosen = HashSet::new();
    let mut emails = Vec::with_capacity(opts.burst);
    while emails.len() < opts.burst {
        let customer = rng.customer(scale);
        if chosen.insert(customer) || chosen.len() as u64 >= scale {
            emails.push(format!("user{customer}@example.com"));
        }
    }
    let in_flight = if opts.burst as u64 > scale { 1 } else { 8 };
    let ids = std::sync::Arc::new(std::sync::Mutex::new(vec![None; opts.burst]));
    let submit_all = {
        let (wf, admin, emails, ids) = (wf.clone(), admin.clone(), emails.clone(), ids.clone());
        move |i: usize| {
            let (wf, admin, email, ids) =
                (wf.clone(), admin.clone(), emails[i].clone(), ids.clone());
            async move {
                let id = submit(&wf, &admin, &email).await?;
                verify(&wf, &admin, id).await?;
                ids.lock().expect("not poisoned")[i] = Some(id);
                Ok(())
            }
        }
    };
    measure(opts.burst, in_flight, submit_all).await?;
    let mut pending: HashSet<Uuid> = ids
        .lock()
        .expect("not poisoned")
        .iter()
        .map(|id| id.expect("submitted"))
        .collect();
    let all: Vec<Uuid> = pending.iter().copied().collect();

    let mut events = wf.events().subscribe();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let options = WorkerOptions {
        workers: opts.workers.max(1),
        poll: Duration::from_millis(100),
        ..WorkerOptions::default()
    };
    let started = Instant::now();
    let workers = wf.spawn_workers(options, stopped);
    let deadline = started + Duration::from_secs(600);
    let mut recount = false;
    while !pending.is_empty() {
        if Instant::now() > deadline {
            let _ = stop.send(true);
            return Err(fail(format!(
                "{} of {} requests still not IN_REVIEW after 10 minutes",
                pending.len(),
                opts.burst
            )));
        }
        if recount {
            // Events were dropped (a slow receiver): ask the store.
            let done: Vec<Uuid> = subject_request::Entity::find()
                .select_only()
                .column(subject_request::Column::Id)
                .filter(subject_request::Column::Id.is_in(all.clone()))
                .filter(subject_request::Column::State.ne(RequestState::Collecting.as_str()))
                .into_tuple()
                .all(wf.store().conn())
                .await?;
            for id in done {
                pending.remove(&id);
            }
            recount = false;
            continue;
        }
        match tokio::time::timeout(Duration::from_secs(1), events.recv()).await {
            Ok(Ok(DomainEvent::RequestChanged(change)))
                if change.request.state != RequestState::Collecting =>
            {
                pending.remove(&change.request.id);
            }
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => recount = true,
        }
    }
    let wall = started.elapsed();
    let _ = stop.send(true);
    for w in workers {
        let _ = w.await;
    }
    // Every request of the burst reached review, none by failing.
    let in_review = subject_request::Entity::find()
        .filter(subject_request::Column::Id.is_in(all))
        .filter(subject_request::Column::State.eq(RequestState::InReview.as_str()))
        .count(wf.store().conn())
        .await? as usize;
    if in_review != opts.burst {
        return Err(fail(format!(
            "only {in_review} of {} burst requests are IN_REVIEW",
            opts.burst
        )));
    }
    Ok((opts.burst, wall))
}

fn print_row_progress(r: &Measured) {
    println!(
        "  store {}: collection p50 {:.2} ms, p95 {:.2} ms (identity confirmation before it: \
         p50 {:.2} ms); hand-written p50 {:.2} ms, p95 {:.2} ms; {:.1} records, {:.1} store \
         statements and {:.1} shop statements per request{}",
        r.store.label(),
        r.engine_ms(0.50),
        r.engine_ms(0.95),
        quantile_ms(&r.verify, 0.50),
        r.raw_ms(0.50),
        r.raw_ms(0.95),
        r.records,
        r.statements,
        r.source_statements,
        r.per_second()
            .map(|s| format!("; burst: {s:.0} complete collections/s"))
            .unwrap_or_default()
    );
}

fn print_table(rows: &[Measured], opts: &CollectBench) {
    println!();
    println!(
        "Complete collection of one access request (confirmed identity -> IN_REVIEW), {} random \
         customers; hand-written = raw_access.sql on its own connection to the same shop",
        opts.requests
    );
    println!(
        "{:<11} {:<11} {:>9} {:>7} {:>8} {:>8} {:>8} {:>8} {:>6} {:>8} {:>7} {:>9}",
        "store",
        "shop",
        "customers",
        "seed s",
        "p50 ms",
        "p95 ms",
        "hand p50",
        "hand p95",
        "ratio",
        "records",
        "stmts",
        "burst/s"
    );
    for r in rows {
        println!(
            "{:<11} {:<11} {:>9} {:>7.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>6.1} {:>8.1} {:>7.1} {:>9}",
            r.store.label(),
            r.shop.label(),
            r.scale,
            r.seed_secs,
            r.engine_ms(0.50),
            r.engine_ms(0.95),
            r.raw_ms(0.50),
            r.raw_ms(0.95),
            r.engine_ms(0.50) / r.raw_ms(0.50).max(1e-9),
            r.records,
            r.statements,
            r.per_second()
                .map(|s| format!("{s:.0}"))
                .unwrap_or_else(|| "-".into())
        );
    }
    println!(
        "(burst/s: {} requests submitted and verified at once, then collected by {} workers of \
         this process; complete collections per second)",
        opts.burst, opts.workers
    );
    println!(
        "(collection includes the leak scan of every stored value, which runs inside the \
         transition to IN_REVIEW)"
    );
    println!();
    println!(
        "Where the time goes (p50 ms per request, summed over its tasks; the rest of the \
         complete figure is the claim): the search alone is the work the hand-written \
         statement does"
    );
    println!(
        "{:<11} {:<11} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>10}",
        "store",
        "shop",
        "customers",
        "prepare",
        "search",
        "store",
        "hand p50",
        "ratio",
        "shop stmts"
    );
    for r in rows {
        let search = r.phase_ms(|p| p.search);
        println!(
            "{:<11} {:<11} {:>9} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.1} {:>10.1}",
            r.store.label(),
            r.shop.label(),
            r.scale,
            r.phase_ms(|p| p.prepare),
            search,
            r.phase_ms(|p| p.store),
            r.raw_ms(0.50),
            search / r.raw_ms(0.50).max(1e-9),
            r.source_statements
        );
    }
    // Growth with the size of the shop: the largest scale against the smallest.
    let (Some(&small), Some(&large)) = (opts.scales.iter().min(), opts.scales.iter().max()) else {
        return;
    };
    if small == large {
        return;
    }
    for a in rows.iter().filter(|r| r.scale == small) {
        if let Some(b) = rows
            .iter()
            .find(|b| b.scale == large && b.store == a.store && b.shop == a.shop)
        {
            println!(
                "store {}, shop {}: p50 at {large} customers / at {small} = {:.2}x",
                a.store.label(),
                a.shop.label(),
                b.engine_ms(0.50) / a.engine_ms(0.50).max(1e-9)
            );
        }
    }
}
