//! Output types of `inspectSource` and `suggestFieldMappings`: a SQL source's live
//! catalog compared with the register's field mapping.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use workflow::register::drift;

use super::register::{DataCategory, DataField, DataSource, ErasureStrategy, IdentityType};

/// A SQL source's catalog compared with the fields mapped in the register (schema
/// drift). When the source cannot be reached, `connectionError` says why and the
/// lists are empty.
#[derive(SimpleObject)]
pub struct SourceInspection {
    /// The inspected source.
    pub source: DataSource,
    /// When the catalog was read.
    pub inspected_at: DateTime<Utc>,
    /// Why the catalog could not be read (null: it was read).
    pub connection_error: Option<String>,
    /// The schema read: PostgreSQL schema, MySQL database, `main` for SQLite.
    pub schema_name: Option<String>,
    /// The source's tables with their columns, by name.
    pub tables: Vec<InspectedTable>,
    /// Columns no field maps, with suggested mappings; accept them with
    /// `suggestFieldMappings`.
    pub unmapped_columns: Vec<FieldSuggestion>,
    /// Mapped fields whose table or column no longer exists: answers would miss them.
    pub vanished_fields: Vec<DataField>,
    /// Foreign keys of mapped columns that the mapping does not declare as
    /// references, so collection would not follow them.
    pub undeclared_references: Vec<UndeclaredReference>,
    /// Fields collection looks rows up by (identifying fields, both ends of
    /// references) whose column leads no index: each lookup would scan the table.
    pub unindexed_lookups: Vec<DataField>,
}

/// A table of an inspected source.
#[derive(SimpleObject)]
pub struct InspectedTable {
    /// Table name.
    pub name: String,
    /// Columns in declaration order.
    pub columns: Vec<InspectedColumn>,
}

/// A column of an inspected table.
#[derive(SimpleObject)]
pub struct InspectedColumn {
    /// Column name.
    pub name: String,
    /// Declared type, lower case.
    pub data_type: String,
    /// Whether NULL is allowed.
    pub nullable: bool,
    /// Part of the primary key.
    pub primary_key: bool,
    /// Leads an index, so lookups by it do not scan.
    pub indexed: bool,
    /// `table.column` its foreign key points to.
    pub references: Option<String>,
    /// The field mapping it (null: unmapped).
    pub mapped_field: Option<DataField>,
}

/// An unmapped column with the mapping the register would probably record.
#[derive(SimpleObject)]
pub struct FieldSuggestion {
    /// `table.column`; pass it to `suggestFieldMappings` to accept.
    pub location: String,
    /// Declared type.
    pub data_type: String,
    /// Suggested category (null: probably not personal data, or no guess).
    pub data_category: Option<DataCategory>,
    /// Suggested identifier kind: the column can find the data subject.
    pub identity_type: Option<IdentityType>,
    /// Suggested erasure strategy.
    pub erasure_strategy: ErasureStrategy,
    /// `table.column` its foreign key points to (becomes the field's reference).
    pub references: Option<String>,
    /// Why this category is suggested.
    pub reason: Option<String>,
}

/// A foreign key of a mapped column that the mapping does not declare.
#[derive(SimpleObject)]
pub struct UndeclaredReference {
    /// The mapped field holding the foreign key.
    pub field: DataField,
    /// `table.column` the foreign key points to.
    pub references: String,
    /// The field mapping that column (null: map it first, then set `referencesId`).
    pub referenced_field: Option<DataField>,
}

impl From<drift::Inspection> for SourceInspection {
    fn from(i: drift::Inspection) -> Self {
        let field = |f: &workflow::register::view::DataFieldView| DataField::from(f.clone());
        let mut tables = Vec::with_capacity(i.catalog.tables.len());
        for t in &i.catalog.tables {
            let mut columns = Vec::with_capacity(t.columns.len());
            for c in &t.columns {
                let mapped = i.mapped_field(&t.name, &c.name);
                columns.push(InspectedColumn {
                    name: c.name.clone(),
                    data_type: c.data_type.clone(),
                    nullable: c.nullable,
                    primary_key: c.primary_key,
                    indexed: c.indexed,
                    references: c.references.as_ref().map(|(t, c)| format!("{t}.{c}")),
                    mapped_field: mapped.map(field),
                });
            }
            tables.push(InspectedTable {
                name: t.name.clone(),
                columns,
            });
        }
        Self {
            inspected_at: i.inspected_at,
            schema_name: i
                .connection_error
                .is_none()
                .then(|| i.catalog.schema.clone()),
            connection_error: i.connection_error,
            tables,
            unmapped_columns: i
                .unmapped
                .into_iter()
                .map(|s| FieldSuggestion {
                    location: s.location,
                    data_type: s.data_type,
                    data_category: s.data_category.map(DataCategory::from),
                    identity_type: s.identity_type.map(Into::into),
                    erasure_strategy: s.erasure_strategy.into(),
                    references: s.references_location,
                    reason: s.reason,
                })
                .collect(),
            vanished_fields: i.vanished.iter().map(field).collect(),
            undeclared_references: i
                .undeclared_references
                .iter()
                .map(|u| UndeclaredReference {
                    field: field(&u.field),
                    references: u.references_location.clone(),
                    referenced_field: u.referenced_field.as_ref().map(field),
                })
                .collect(),
            unindexed_lookups: i.unindexed_lookups.iter().map(field).collect(),
            source: DataSource::from(i.source),
        }
    }
}
