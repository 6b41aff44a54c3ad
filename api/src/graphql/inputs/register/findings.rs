//! Register inputs: findings of the register check.

use super::*;

/// Filters of `registerFindings`.
#[derive(InputObject, Debug, Default)]
pub struct RegisterFindingFilter {
    /// Only findings at least this severe.
    pub min_severity: Option<FindingSeverity>,
    /// The day to judge review dates by (default: today in the organization's time zone).
    pub as_of: Option<chrono::NaiveDate>,
}
