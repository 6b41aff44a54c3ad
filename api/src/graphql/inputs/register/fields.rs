//! Register inputs: data fields: where each category of personal data lives.

use super::*;

/// Filters of `dataFields`; all given filters must match.
#[derive(InputObject, Debug, Default)]
pub struct DataFieldFilter {
    /// Only fields of this source.
    pub source_id: Option<ID>,
    /// Only fields of this data category.
    pub data_category_id: Option<ID>,
    /// Only identifying (true) or non-identifying (false) fields.
    pub identifies_subject: Option<bool>,
    /// Case-insensitive part of the location, matched literally; at most 200 characters without control characters.
    pub search: Option<String>,
}

/// Input of `createDataField`.
#[derive(InputObject, Debug)]
pub struct CreateDataFieldInput {
    /// The source.
    pub source_id: ID,
    /// `table.column` or `schema.table.column` (SQL), a JSON path `$...` (HTTP), or a
    /// description (MANUAL); unique in the source.
    pub location: String,
    /// Explanation.
    pub description: Option<String>,
    /// Category of the data.
    pub data_category_id: Option<ID>,
    /// Whether the field identifies the data subject (searchable).
    #[graphql(default)]
    pub identifies_subject: bool,
    /// The identifier kind; required when `identifiesSubject`.
    pub identity_type: Option<IdentityType>,
    /// The field this one points to, in the same source.
    pub references_id: Option<ID>,
    /// How the field is erased.
    pub erasure_strategy: ErasureStrategy,
}

/// Input of `updateDataField`: an omitted field stays as it is, `null` clears it.
#[derive(InputObject, Debug)]
pub struct UpdateDataFieldInput {
    /// The field.
    pub id: ID,
    /// Location.
    pub location: Option<String>,
    /// Explanation.
    pub description: MaybeUndefined<String>,
    /// Category of the data.
    pub data_category_id: MaybeUndefined<ID>,
    /// Whether the field identifies the data subject.
    pub identifies_subject: Option<bool>,
    /// The identifier kind.
    pub identity_type: MaybeUndefined<IdentityType>,
    /// The field this one points to; a reference closing a cycle is refused.
    pub references_id: MaybeUndefined<ID>,
    /// How the field is erased.
    pub erasure_strategy: Option<ErasureStrategy>,
}

/// Result of `createDataField` and `updateDataField`.
#[derive(SimpleObject)]
pub struct DataFieldPayload {
    /// The field after the change.
    pub data_field: DataField,
}

/// A suggestion of `inspectSource` to accept.
#[derive(InputObject, Debug)]
pub struct AcceptedSuggestionInput {
    /// `table.column` of an unmapped column, as `inspectSource` lists it.
    pub location: String,
    /// A category other than the suggested one (omitted: the suggestion's).
    pub data_category_id: Option<ID>,
}

/// Input of `suggestFieldMappings`.
#[derive(InputObject, Debug)]
pub struct SuggestFieldMappingsInput {
    /// The SQL source; it is inspected again, so only columns still unmapped count.
    pub source_id: ID,
    /// The suggestions to turn into fields (at least one).
    pub accept: Vec<AcceptedSuggestionInput>,
}

/// Result of `suggestFieldMappings`.
#[derive(SimpleObject)]
pub struct SuggestFieldMappingsPayload {
    /// The fields created, referenced columns first.
    pub data_fields: Vec<DataField>,
}

/// Input of `importRegister`.
#[derive(InputObject, Debug)]
pub struct ImportRegisterInput {
    /// A register document as `registerExport(format: JSON)` produces it.
    pub document: async_graphql::Json<serde_json::Value>,
}
