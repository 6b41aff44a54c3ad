//! Register inputs: retention policies.

use super::*;

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
