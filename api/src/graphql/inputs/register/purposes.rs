//! Register inputs: purposes of processing and their legal bases.

use super::*;

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
