//! The catalog of a SQL data source: its tables, columns, types, primary keys,
//! foreign keys and indexes, as the SQL connectors read it (see `sql/`).

use std::collections::{BTreeMap, HashSet};

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

pub(crate) fn assemble(
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
