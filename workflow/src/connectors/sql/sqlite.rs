//! SQLite: connect options (read-only, the resolved file) and catalog queries.

use sea_orm::sqlx::ConnectOptions;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;

use super::{SourceConnection, missing, unreachable};
use crate::connectors::catalog::CatalogError;
use crate::connectors::guard::Target;

/// Connect options for the resolved file: read-only unless `writable` (an
/// erasure carried out in a source configured with `readOnly: false`).
pub(super) fn options(
    target: &Target,
    writable: bool,
) -> Result<SqliteConnectOptions, CatalogError> {
    // The resolved file inside the directory, not the path as written.
    let Target::SqliteFile(path) = target else {
        return Err(missing("path"));
    };
    Ok(SqliteConnectOptions::new()
        .filename(path)
        .read_only(!writable)
        .create_if_missing(false))
}

pub(super) async fn connect(
    target: &Target,
    writable: bool,
) -> Result<(SourceConnection, String), CatalogError> {
    let options = options(target, writable)?;
    let conn = options.connect().await.map_err(unreachable)?;
    Ok((SourceConnection::Sqlite(conn), "main".to_owned()))
}

// `pk` is the 1-based position in the primary key; an INTEGER PRIMARY KEY is the
// rowid and has no entry in index_list, so primary keys count as indexed.
pub(super) const CATALOG_QUERIES: [&str; 3] = [
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
];
