//! Column helpers that differ per backend.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DatabaseBackend;

/// A UTC timestamp with microsecond precision on every backend.
///
/// MySQL's `timestamp` (what sea-query emits for `timestamp_with_time_zone`) keeps whole
/// seconds only and ends in 2038; `DATETIME(6)` keeps microseconds, which the audit
/// hash chain needs to recompute exactly what was hashed.
pub fn timestamp(manager: &SchemaManager, name: impl IntoIden) -> ColumnDef {
    let mut col = ColumnDef::new(name);
    match manager.get_database_backend() {
        DatabaseBackend::MySql => col.custom(Alias::new("DATETIME(6)")),
        _ => col.timestamp_with_time_zone(),
    };
    col
}

/// A non-null UTC timestamp.
pub fn timestamp_not_null(manager: &SchemaManager, name: impl IntoIden) -> ColumnDef {
    let mut col = timestamp(manager, name);
    col.not_null();
    col
}

/// A nullable UTC timestamp.
pub fn timestamp_null(manager: &SchemaManager, name: impl IntoIden) -> ColumnDef {
    let mut col = timestamp(manager, name);
    col.null();
    col
}
