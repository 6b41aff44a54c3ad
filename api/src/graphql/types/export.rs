//! Output types of the register export and import.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

mirror_enum! {
    /// A file format of the Art. 30 register export.
    RegisterExportFormat = workflow::register::export::ExportFormat {
        /// The register document: every row, references by name; also the import format.
        Json,
        /// One row per processing activity with every Art. 30(1) item (a)-(g).
        Csv,
        /// A workbook: the overview plus one sheet per entity.
        Xlsx,
        /// A printable HTML document.
        Html,
    }
}

/// A short-lived link to download the register. It works without the API key (so
/// a browser can open it) but only for a few minutes, and only while the key that
/// asked for it is not revoked and may still read the register and data sources.
#[derive(SimpleObject)]
pub struct RegisterExport {
    /// Absolute URL when the request named its host, otherwise a path on the API's
    /// origin (`/exports/...`). `GET` it to download.
    pub url: String,
    /// The file format.
    pub format: RegisterExportFormat,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// Result of `importRegister`: how many rows of each kind were created.
#[derive(SimpleObject)]
pub struct ImportRegisterPayload {
    /// Data categories added to the taxonomy (seeded ones that match are reused).
    pub data_categories: i32,
    /// Subject categories added to the taxonomy.
    pub subject_categories: i32,
    /// Purposes.
    pub purposes: i32,
    /// Retention policies.
    pub retention_policies: i32,
    /// Recipients.
    pub recipients: i32,
    /// Transfers to third countries.
    pub transfers: i32,
    /// Data sources (enter their connector secrets again: exports never contain them).
    pub data_sources: i32,
    /// Data fields.
    pub data_fields: i32,
    /// Processing activities.
    pub processing_activities: i32,
}

impl From<workflow::register::export::ImportSummary> for ImportRegisterPayload {
    fn from(s: workflow::register::export::ImportSummary) -> Self {
        let n = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
        Self {
            data_categories: n(s.data_categories),
            subject_categories: n(s.subject_categories),
            purposes: n(s.purposes),
            retention_policies: n(s.retention_policies),
            recipients: n(s.recipients),
            transfers: n(s.transfers),
            data_sources: n(s.data_sources),
            data_fields: n(s.data_fields),
            processing_activities: n(s.processing_activities),
        }
    }
}
