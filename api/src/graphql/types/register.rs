use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use workflow::entity::{data_category, subject_category};
use workflow::register::taxonomy;

use crate::graphql::ids::global_id;

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

impl From<Sensitivity> for taxonomy::Sensitivity {
    fn from(s: Sensitivity) -> Self {
        match s {
            Sensitivity::Ordinary => Self::Ordinary,
            Sensitivity::SpecialArt9 => Self::SpecialArt9,
            Sensitivity::CriminalArt10 => Self::CriminalArt10,
        }
    }
}

impl From<taxonomy::Sensitivity> for Sensitivity {
    fn from(s: taxonomy::Sensitivity) -> Self {
        match s {
            taxonomy::Sensitivity::Ordinary => Self::Ordinary,
            taxonomy::Sensitivity::SpecialArt9 => Self::SpecialArt9,
            taxonomy::Sensitivity::CriminalArt10 => Self::CriminalArt10,
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

impl From<data_category::Model> for DataCategory {
    fn from(m: data_category::Model) -> Self {
        Self {
            id: global_id("DataCategory", m.id),
            parent_key: taxonomy::parent_key(&m.key).map(str::to_owned),
            sensitivity: taxonomy::sensitivity_of(&m)
                .map(Into::into)
                .unwrap_or(Sensitivity::SpecialArt9),
            key: m.key,
            name: m.name,
            description: m.description,
            is_default: m.is_default,
            created_at: m.created_at,
            updated_at: m.updated_at,
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

super::connection::connection!(
    DataCategoryConnection,
    DataCategoryEdge,
    DataCategory,
    "A page of data categories (Relay cursor connection).",
    "A data category with its cursor."
);
super::connection::connection!(
    SubjectCategoryConnection,
    SubjectCategoryEdge,
    SubjectCategory,
    "A page of subject categories (Relay cursor connection).",
    "A subject category with its cursor."
);
