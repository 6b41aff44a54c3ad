//! Register inputs: processing activities (Art. 30(1)).

use super::*;

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
