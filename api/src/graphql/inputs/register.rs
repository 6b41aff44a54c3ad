use async_graphql::{ID, InputObject, MaybeUndefined, SimpleObject};
use workflow::register::taxonomy;

use crate::graphql::types::register::{DataCategory, Sensitivity, SubjectCategory};

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

impl From<DataCategoryFilter> for taxonomy::DataCategoryFilter {
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

/// Input of the delete mutations of the register.
#[derive(InputObject, Debug)]
pub struct DeleteInput {
    /// What to delete.
    pub id: ID,
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

/// Result of a delete mutation.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// Global ID of the deleted object.
    pub deleted_id: ID,
}

/// `MaybeUndefined` as a patch: `None` keeps, `Some(None)` clears.
pub fn patch<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

use crate::graphql::types::register::{
    ExpiryAction, LegalBasis, Purpose, RetentionPolicy, RetentionTrigger, SpecialCategoryCondition,
};

/// Filters of `purposes`; all given filters must match.
#[derive(InputObject, Debug, Default)]
pub struct PurposeFilter {
    /// Case-insensitive part of the name, matched literally; at most 200 characters without control characters.
    pub search: Option<String>,
    /// Only purposes on this legal basis.
    pub legal_basis: Option<LegalBasis>,
}

/// Input of `createPurpose`.
#[derive(InputObject, Debug)]
pub struct CreatePurposeInput {
    /// Name, unique in the organization (1–200 characters).
    pub name: String,
    /// Explanation in plain language, as shown to data subjects.
    pub description: Option<String>,
    /// The Art. 6(1) legal basis.
    pub legal_basis: LegalBasis,
    /// The law or contract relied on; required for LEGAL_OBLIGATION and PUBLIC_TASK.
    pub legal_reference: Option<String>,
    /// The documented balancing test; required for LEGITIMATE_INTERESTS.
    pub balancing_test: Option<String>,
    /// The Art. 9(2) condition, where special categories are processed.
    pub special_category_condition: Option<SpecialCategoryCondition>,
}

/// Input of `updatePurpose`: an omitted field stays as it is, `null` clears it. The
/// result must satisfy the same rules as a new purpose.
#[derive(InputObject, Debug)]
pub struct UpdatePurposeInput {
    /// The purpose.
    pub id: ID,
    /// Name.
    pub name: Option<String>,
    /// Explanation.
    pub description: MaybeUndefined<String>,
    /// The Art. 6(1) legal basis.
    pub legal_basis: Option<LegalBasis>,
    /// The law or contract relied on.
    pub legal_reference: MaybeUndefined<String>,
    /// The documented balancing test.
    pub balancing_test: MaybeUndefined<String>,
    /// The Art. 9(2) condition.
    pub special_category_condition: MaybeUndefined<SpecialCategoryCondition>,
}

/// Result of `createPurpose` and `updatePurpose`.
#[derive(SimpleObject)]
pub struct PurposePayload {
    /// The purpose after the change.
    pub purpose: Purpose,
}

/// Input of `createRetentionPolicy`.
#[derive(InputObject, Debug)]
pub struct CreateRetentionPolicyInput {
    /// Name, unique in the organization (1–200 characters).
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// ISO 8601 duration longer than zero, e.g. `P10Y`, `P6M`, `P30D`.
    pub duration: String,
    /// When the period starts.
    pub trigger: RetentionTrigger,
    /// The starting event; required when `trigger` is `OTHER`.
    pub trigger_description: Option<String>,
    /// Legal ground, e.g. `§ 147 AO`.
    pub legal_reference: Option<String>,
    /// What happens when the period ends.
    pub action_at_expiry: ExpiryAction,
}

/// Input of `updateRetentionPolicy`: an omitted field stays as it is, `null` clears
/// it. The result must satisfy the same rules as a new policy.
#[derive(InputObject, Debug)]
pub struct UpdateRetentionPolicyInput {
    /// The retention policy.
    pub id: ID,
    /// Name.
    pub name: Option<String>,
    /// Explanation.
    pub description: MaybeUndefined<String>,
    /// ISO 8601 duration.
    pub duration: Option<String>,
    /// When the period starts.
    pub trigger: Option<RetentionTrigger>,
    /// The starting event for `OTHER`.
    pub trigger_description: MaybeUndefined<String>,
    /// Legal ground.
    pub legal_reference: MaybeUndefined<String>,
    /// What happens when the period ends.
    pub action_at_expiry: Option<ExpiryAction>,
}

/// Result of `createRetentionPolicy` and `updateRetentionPolicy`.
#[derive(SimpleObject)]
pub struct RetentionPolicyPayload {
    /// The retention policy after the change.
    pub retention_policy: RetentionPolicy,
}

use crate::graphql::types::register::{Recipient, RecipientKind, Safeguard, Transfer};

/// Filters of `recipients`; all given filters must match.
#[derive(InputObject, Debug, Default)]
pub struct RecipientFilter {
    /// Case-insensitive part of the name, matched literally; at most 200 characters without control characters.
    pub search: Option<String>,
    /// Only this kind.
    pub kind: Option<RecipientKind>,
}

/// Input of `createRecipient`.
#[derive(InputObject, Debug)]
pub struct CreateRecipientInput {
    /// Name, unique in the organization (1–200 characters).
    pub name: String,
    /// Who the recipient is.
    pub kind: RecipientKind,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Explanation.
    pub description: Option<String>,
    /// The contract, e.g. the data processing agreement.
    pub contract_reference: Option<String>,
    /// Where notices of erasure, rectification and restriction go (Art. 19). Without
    /// it, such a notice is a task for staff.
    pub notice_email: Option<String>,
}

/// Input of `updateRecipient`: an omitted field stays as it is, `null` clears it.
#[derive(InputObject, Debug)]
pub struct UpdateRecipientInput {
    /// The recipient.
    pub id: ID,
    /// Name.
    pub name: Option<String>,
    /// Who the recipient is.
    pub kind: Option<RecipientKind>,
    /// Country of establishment.
    pub country: MaybeUndefined<String>,
    /// Explanation.
    pub description: MaybeUndefined<String>,
    /// The contract reference.
    pub contract_reference: MaybeUndefined<String>,
    /// Where Art. 19 notices go.
    pub notice_email: MaybeUndefined<String>,
}

/// Result of `createRecipient` and `updateRecipient`.
#[derive(SimpleObject)]
pub struct RecipientPayload {
    /// The recipient after the change.
    pub recipient: Recipient,
}

/// Input of `createTransfer`.
#[derive(InputObject, Debug)]
pub struct CreateTransferInput {
    /// The receiving recipient.
    pub recipient_id: ID,
    /// The third country (ISO 3166-1 alpha-2, outside the EEA).
    pub country: String,
    /// The ground of the transfer.
    pub safeguard: Safeguard,
    /// Details; required for `DEROGATION_ART49`.
    pub safeguard_description: Option<String>,
}

/// Input of `updateTransfer`: an omitted field stays as it is, `null` clears it.
#[derive(InputObject, Debug)]
pub struct UpdateTransferInput {
    /// The transfer.
    pub id: ID,
    /// The third country.
    pub country: Option<String>,
    /// The ground of the transfer.
    pub safeguard: Option<Safeguard>,
    /// Details.
    pub safeguard_description: MaybeUndefined<String>,
}

/// Result of `createTransfer` and `updateTransfer`.
#[derive(SimpleObject)]
pub struct TransferPayload {
    /// The transfer after the change.
    pub transfer: Transfer,
}

use crate::graphql::types::register::{ActivityStatus, ProcessingActivity};

/// Filters of `processingActivities`; all given filters must match.
#[derive(InputObject, Debug, Default)]
pub struct ProcessingActivityFilter {
    /// Case-insensitive part of the name, matched literally; at most 200 characters without control characters.
    pub search: Option<String>,
    /// Only this status.
    pub status: Option<ActivityStatus>,
    /// Only activities with a purpose on this legal basis.
    pub legal_basis: Option<LegalBasis>,
    /// Only activities processing this data category.
    pub data_category_id: Option<ID>,
    /// Only activities processing data from this source.
    pub source_id: Option<ID>,
    /// Only activities whose review is due on or before this date (e.g. today for
    /// overdue reviews).
    pub review_due_by: Option<chrono::NaiveDate>,
}

/// Input of `createProcessingActivity`.
#[derive(InputObject, Debug)]
pub struct CreateProcessingActivityInput {
    /// Name, unique in the organization (1–200 characters).
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Where it stands; `DRAFT` when omitted. `ACTIVE` needs purposes, data
    /// categories and subject categories.
    pub status: Option<ActivityStatus>,
    /// Responsible department or person.
    pub owner: Option<String>,
    /// Technical and organisational measures (Art. 32).
    pub tom_description: Option<String>,
    /// Whether decisions are made by automated means (Art. 22).
    #[graphql(default)]
    pub automated_decision_making: bool,
    /// Logic, significance and consequences; required with automated decisions.
    pub automated_decision_logic: Option<String>,
    /// Whether a DPIA is required (Art. 35).
    #[graphql(default)]
    pub dpia_required: bool,
    /// Where the DPIA is documented.
    pub dpia_reference: Option<String>,
    /// The retention policy.
    pub retention_policy_id: Option<ID>,
    /// When to review the activity next.
    pub next_review_on: Option<chrono::NaiveDate>,
    /// Purposes (with special categories, each needs an Art. 9(2) condition).
    #[graphql(default)]
    pub purpose_ids: Vec<ID>,
    /// Categories of personal data.
    #[graphql(default)]
    pub data_category_ids: Vec<ID>,
    /// Categories of data subjects.
    #[graphql(default)]
    pub subject_category_ids: Vec<ID>,
    /// Recipients.
    #[graphql(default)]
    pub recipient_ids: Vec<ID>,
    /// Third-country transfers, to recipients listed above.
    #[graphql(default)]
    pub transfer_ids: Vec<ID>,
    /// Data sources the activity processes personal data from.
    #[graphql(default)]
    pub source_ids: Vec<ID>,
}

/// Input of `updateProcessingActivity`: an omitted field stays as it is, `null`
/// clears it, a given id list replaces the links. The result must satisfy the rules
/// of a new activity.
#[derive(InputObject, Debug)]
pub struct UpdateProcessingActivityInput {
    /// The activity.
    pub id: ID,
    /// Name.
    pub name: Option<String>,
    /// Explanation.
    pub description: MaybeUndefined<String>,
    /// Where it stands.
    pub status: Option<ActivityStatus>,
    /// Responsible department or person.
    pub owner: MaybeUndefined<String>,
    /// Technical and organisational measures.
    pub tom_description: MaybeUndefined<String>,
    /// Whether decisions are made by automated means.
    pub automated_decision_making: Option<bool>,
    /// Logic, significance and consequences.
    pub automated_decision_logic: MaybeUndefined<String>,
    /// Whether a DPIA is required.
    pub dpia_required: Option<bool>,
    /// Where the DPIA is documented.
    pub dpia_reference: MaybeUndefined<String>,
    /// The retention policy.
    pub retention_policy_id: MaybeUndefined<ID>,
    /// When to review the activity next.
    pub next_review_on: MaybeUndefined<chrono::NaiveDate>,
    /// Purposes.
    pub purpose_ids: Option<Vec<ID>>,
    /// Categories of personal data.
    pub data_category_ids: Option<Vec<ID>>,
    /// Categories of data subjects.
    pub subject_category_ids: Option<Vec<ID>>,
    /// Recipients.
    pub recipient_ids: Option<Vec<ID>>,
    /// Third-country transfers.
    pub transfer_ids: Option<Vec<ID>>,
    /// Data sources.
    pub source_ids: Option<Vec<ID>>,
}

/// Result of `createProcessingActivity` and `updateProcessingActivity`.
#[derive(SimpleObject)]
pub struct ProcessingActivityPayload {
    /// The activity after the change.
    pub processing_activity: ProcessingActivity,
}

/// Decodes a list of global IDs of one type, reporting the position of a bad one.
pub fn decode_ids(
    ids: &[ID],
    type_name: &str,
    field: &str,
) -> crate::error::ApiResult<Vec<uuid::Uuid>> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            crate::graphql::ids::decode(id, type_name, &["input", field, &i.to_string()])
        })
        .collect()
}

use crate::graphql::types::register::{ConnectorKind, DataSource};

/// Filters of `dataSources`; all given filters must match.
#[derive(InputObject, Debug, Default)]
pub struct DataSourceFilter {
    /// Case-insensitive part of the name, matched literally; at most 200 characters without control characters.
    pub search: Option<String>,
    /// Only this connector kind.
    pub connector_kind: Option<ConnectorKind>,
}

/// Input of `createDataSource`.
#[derive(InputObject, Debug)]
pub struct CreateDataSourceInput {
    /// Name, unique in the organization (1–200 characters).
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Responsible team or person.
    pub owner: Option<String>,
    /// Where the data is stored (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// The processor operating it: a recipient of kind `PROCESSOR`.
    pub processor_id: Option<ID>,
    /// How Auskunft reaches it.
    pub connector_kind: ConnectorKind,
    /// Configuration satisfying the kind's JSON Schema (see `connectorSchemas`),
    /// secrets included; secrets are stored encrypted and never returned.
    pub connector_config: async_graphql::Json<serde_json::Value>,
}

/// Input of `updateDataSource`: an omitted field stays as it is, `null` clears it.
#[derive(InputObject, Debug)]
pub struct UpdateDataSourceInput {
    /// The data source.
    pub id: ID,
    /// Name.
    pub name: Option<String>,
    /// Explanation.
    pub description: MaybeUndefined<String>,
    /// Responsible team or person.
    pub owner: MaybeUndefined<String>,
    /// Where the data is stored.
    pub country: MaybeUndefined<String>,
    /// The processor operating it.
    pub processor_id: MaybeUndefined<ID>,
    /// A new connector kind (stored secrets are dropped when the kind changes).
    pub connector_kind: Option<ConnectorKind>,
    /// The whole new configuration; secrets it omits keep their stored values.
    pub connector_config: Option<async_graphql::Json<serde_json::Value>>,
    /// Stored secrets to remove.
    #[graphql(default)]
    pub clear_secrets: Vec<String>,
}

/// Result of `createDataSource` and `updateDataSource`.
#[derive(SimpleObject)]
pub struct DataSourcePayload {
    /// The data source after the change.
    pub data_source: DataSource,
}

use crate::graphql::types::register::FindingSeverity;

/// Filters of `registerFindings`.
#[derive(InputObject, Debug, Default)]
pub struct RegisterFindingFilter {
    /// Only findings at least this severe.
    pub min_severity: Option<FindingSeverity>,
    /// The day to judge review dates by (default: today in the organization's time zone).
    pub as_of: Option<chrono::NaiveDate>,
}

use crate::graphql::types::register::{DataField, ErasureStrategy, IdentityType};

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
