use async_graphql::{ID, InputObject};
use chrono::{DateTime, Utc};

use crate::error::ApiResult;
use crate::graphql::ids;
use crate::graphql::types::AuditOutcome;

/// Filters of `auditEvents`; all given filters must match.
#[derive(InputObject, Debug, Default)]
pub struct AuditEventFilter {
    /// Only events of this API key or person.
    pub actor_id: Option<ID>,
    /// Only this operation (e.g. `createApiKey`).
    pub operation: Option<String>,
    /// Only events about objects of this type (e.g. `ApiKey`).
    pub object_type: Option<String>,
    /// Only events about this object id.
    pub object_id: Option<String>,
    /// Only this outcome.
    pub outcome: Option<AuditOutcome>,
    /// At or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
}

impl AuditEventFilter {
    /// Converts into the workflow filter.
    pub fn into_workflow(self) -> ApiResult<workflow::access::audit::AuditFilter> {
        Ok(workflow::access::audit::AuditFilter {
            actor_id: self
                .actor_id
                .map(|id| ids::decode_assignable(&id, &["filter", "actorId"]))
                .transpose()?,
            operation: self.operation,
            object_type: self.object_type,
            object_id: self.object_id,
            outcome: self.outcome.map(Into::into),
            since: self.since,
            until: self.until,
        })
    }
}
