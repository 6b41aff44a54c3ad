//! Register inputs: categories of personal data and of data subjects.

use super::*;

/// Filters of `dataCategories`; all given filters must match.
#[derive(InputObject, Debug, Default)]
pub struct DataCategoryFilter {
    /// Case-insensitive part of the key or name, matched literally; at most 200 characters without control characters.
    pub search: Option<String>,
    /// Only this sensitivity.
    pub sensitivity: Option<Sensitivity>,
    /// Only the direct sub-categories of this key; `""` for top-level categories.
    pub parent_key: Option<String>,
}

impl From<DataCategoryFilter> for workflow::register::taxonomy::DataCategoryFilter {
    fn from(f: DataCategoryFilter) -> Self {
        Self {
            search: f.search,
            sensitivity: f.sensitivity.map(Into::into),
            parent_key: f.parent_key,
        }
    }
}

/// Input of `createDataCategory`.
#[derive(InputObject, Debug)]
pub struct CreateDataCategoryInput {
    /// Dot-separated key of a-z, 0-9 and _, e.g. `contact.messenger`; its parent
    /// (`contact`) must exist.
    pub key: String,
    /// Display name (1–200 characters).
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// How sensitive; at least the parent's.
    #[graphql(default_with = "Sensitivity::Ordinary")]
    pub sensitivity: Sensitivity,
}

/// Input of `updateDataCategory`: an omitted field stays as it is.
#[derive(InputObject, Debug)]
pub struct UpdateDataCategoryInput {
    /// The category.
    pub id: ID,
    /// Display name.
    pub name: Option<String>,
    /// Explanation; `null` clears it.
    pub description: MaybeUndefined<String>,
    /// How sensitive; between the parent's and that of the least sensitive
    /// sub-category.
    pub sensitivity: Option<Sensitivity>,
}

/// Input of `createSubjectCategory`.
#[derive(InputObject, Debug)]
pub struct CreateSubjectCategoryInput {
    /// Key of a-z, 0-9 and _, e.g. `club_members`.
    pub key: String,
    /// Display name (1–200 characters).
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
}

/// Input of `updateSubjectCategory`: an omitted field stays as it is.
#[derive(InputObject, Debug)]
pub struct UpdateSubjectCategoryInput {
    /// The category.
    pub id: ID,
    /// Display name.
    pub name: Option<String>,
    /// Explanation; `null` clears it.
    pub description: MaybeUndefined<String>,
}

/// Result of `createDataCategory` and `updateDataCategory`.
#[derive(SimpleObject)]
pub struct DataCategoryPayload {
    /// The category after the change.
    pub data_category: DataCategory,
}

/// Result of `createSubjectCategory` and `updateSubjectCategory`.
#[derive(SimpleObject)]
pub struct SubjectCategoryPayload {
    /// The category after the change.
    pub subject_category: SubjectCategory,
}
