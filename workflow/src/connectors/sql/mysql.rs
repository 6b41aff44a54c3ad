//! MySQL and MariaDB: connect options and catalog queries.

use sea_orm::sqlx::ConnectOptions;
use sea_orm::sqlx::mysql::{MySqlConnectOptions, MySqlSslMode};
use serde_json::{Map, Value};

use super::{SourceConnection, missing, port, unreachable};
use crate::connectors::catalog::CatalogError;
use crate::connectors::text;

/// The connect options and the database read, from the connector config.
pub(super) fn options(
    config: &Map<String, Value>,
) -> Result<(MySqlConnectOptions, String), CatalogError> {
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
    Ok((options, database.to_owned()))
}

pub(super) async fn connect(
    config: &Map<String, Value>,
) -> Result<(SourceConnection, String), CatalogError> {
    let (options, database) = options(config)?;
    let conn = options.connect().await.map_err(unreachable)?;
    Ok((SourceConnection::Mysql(conn), database))
}

pub(super) const CATALOG_QUERIES: [&str; 3] = [
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
];
