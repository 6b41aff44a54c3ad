//! PostgreSQL: connect options and catalog queries.

use sea_orm::sqlx::ConnectOptions;
use sea_orm::sqlx::postgres::{PgConnectOptions, PgSslMode};
use serde_json::{Map, Value};

use super::{SourceConnection, missing, port, unreachable};
use crate::connectors::catalog::CatalogError;
use crate::connectors::text;

/// The connect options and the schema read, from the connector config.
pub(super) fn options(
    config: &Map<String, Value>,
) -> Result<(PgConnectOptions, String), CatalogError> {
    let database = text(config, "database").ok_or_else(|| missing("database"))?;
    let mut options = PgConnectOptions::new()
        .host(text(config, "host").ok_or_else(|| missing("host"))?)
        .port(port(config, 5432))
        .database(database)
        .username(text(config, "user").ok_or_else(|| missing("user"))?)
        .application_name("auskunft")
        // A collection sends the same few statements again and again, each looking
        // rows up by key with `= ANY($1)`. PostgreSQL's default keeps planning such a
        // statement for every execution (its estimate for a one-element array
        // beats the generic plan's), which cost more than running it: about 0.6 ms
        // of a 1 ms search on the benchmark's shop. The generic plan is the same
        // index lookup. (Needs PostgreSQL 12 or later.)
        .options([("plan_cache_mode", "force_generic_plan")])
        .ssl_mode(match text(config, "sslMode") {
            Some("disable") => PgSslMode::Disable,
            Some("require") => PgSslMode::Require,
            Some("verify-full") => PgSslMode::VerifyFull,
            _ => PgSslMode::Prefer,
        });
    if let Some(password) = text(config, "password") {
        options = options.password(password);
    }
    let schema = text(config, "schema").unwrap_or("public").to_owned();
    Ok((options, schema))
}

pub(super) async fn connect(
    config: &Map<String, Value>,
) -> Result<(SourceConnection, String), CatalogError> {
    let (options, schema) = options(config)?;
    let conn = options.connect().await.map_err(unreachable)?;
    Ok((SourceConnection::Postgres(conn), schema))
}

pub(super) const CATALOG_QUERIES: [&str; 3] = [
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
];
