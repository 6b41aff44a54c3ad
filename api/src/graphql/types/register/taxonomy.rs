//! Register types: categories of personal data and of data subjects.

use super::*;

/// How sensitive a category of personal data is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Sensitivity {
    /// Ordinary personal data.
    Ordinary,
    /// Special categories of GDPR Art. 9 (health, religion, biometrics …): processing
    /// needs an Art. 9(2) condition besides an Art. 6 basis.
    #[graphql(name = "SPECIAL_ART9")]
    SpecialArt9,
    /// Criminal convictions and offences (GDPR Art. 10).
    #[graphql(name = "CRIMINAL_ART10")]
    CriminalArt10,
}

impl From<Sensitivity> for workflow::register::taxonomy::Sensitivity {
    fn from(s: Sensitivity) -> Self {
        match s {
            Sensitivity::Ordinary => Self::Ordinary,
            Sensitivity::SpecialArt9 => Self::SpecialArt9,
            Sensitivity::CriminalArt10 => Self::CriminalArt10,
        }
    }
}

impl From<workflow::register::taxonomy::Sensitivity> for Sensitivity {
    fn from(s: workflow::register::taxonomy::Sensitivity) -> Self {
        match s {
            workflow::register::taxonomy::Sensitivity::Ordinary => Self::Ordinary,
            workflow::register::taxonomy::Sensitivity::SpecialArt9 => Self::SpecialArt9,
            workflow::register::taxonomy::Sensitivity::CriminalArt10 => Self::CriminalArt10,
        }
    }
}

/// A category of personal data, keyed hierarchically (`contact.email` lies under
/// `contact`). Sub-categories are at least as sensitive as their parent.
#[derive(SimpleObject, Clone, Debug)]
pub struct DataCategory {
    /// Global ID.
    pub id: ID,
    /// Dot-separated key, unique in the organization; fixed once created.
    pub key: String,
    /// Key of the parent category (null at the top level).
    pub parent_key: Option<String>,
    /// Display name.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// How sensitive the data is.
    pub sensitivity: Sensitivity,
    /// Seeded from the shipped default taxonomy.
    pub is_default: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<v::DataCategoryView> for DataCategory {
    fn from(v: v::DataCategoryView) -> Self {
        Self {
            id: global_id("DataCategory", v.id),
            parent_key: v.parent_key,
            sensitivity: v.sensitivity.into(),
            key: v.key,
            name: v.name,
            description: v.description,
            is_default: v.is_default,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A category of data subjects (customers, employees, applicants …).
#[derive(SimpleObject, Clone, Debug)]
pub struct SubjectCategory {
    /// Global ID.
    pub id: ID,
    /// Key, unique in the organization; fixed once created.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Seeded from the shipped default taxonomy.
    pub is_default: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<subject_category::Model> for SubjectCategory {
    fn from(m: subject_category::Model) -> Self {
        Self {
            id: global_id("SubjectCategory", m.id),
            key: m.key,
            name: m.name,
            description: m.description,
            is_default: m.is_default,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

crate::graphql::types::connection::connection!(
    DataCategoryConnection,
    DataCategoryEdge,
    DataCategory,
    "A page of data categories (Relay cursor connection).",
    "A data category with its cursor."
);
crate::graphql::types::connection::connection!(
    SubjectCategoryConnection,
    SubjectCategoryEdge,
    SubjectCategory,
    "A page of subject categories (Relay cursor connection).",
    "A subject category with its cursor."
);
