use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::ids::global_id;

/// How an audited attempt ended.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AuditOutcome {
    /// The change was made.
    Success,
    /// Authorization refused the attempt.
    Denied,
    /// The attempt failed (invalid input, conflict, not found, internal error).
    Failed,
}

impl From<AuditOutcome> for workflow::access::audit::Outcome {
    fn from(o: AuditOutcome) -> Self {
        match o {
            AuditOutcome::Success => Self::Success,
            AuditOutcome::Denied => Self::Denied,
            AuditOutcome::Failed => Self::Failed,
        }
    }
}

/// One row of the organization's append-only, hash-chained audit log.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct AuditEvent {
    /// Global ID.
    pub id: ID,
    /// Position in the organization's chain, from 1 without gaps.
    pub seq: i64,
    /// When it happened (UTC).
    pub occurred_at: DateTime<Utc>,
    /// Global ID of the person, API key or system actor that acted (null for the
    /// CLI).
    pub actor_id: Option<ID>,
    /// Readable name of the actor.
    pub actor_name: String,
    /// The operation, e.g. the mutation name.
    pub operation: String,
    /// Type of the object acted on.
    pub object_type: Option<String>,
    /// Id of the object acted on.
    pub object_id: Option<String>,
    /// How it ended.
    pub outcome: AuditOutcome,
    /// The error code when it did not succeed.
    pub error_code: Option<String>,
    /// SHA-256 of the object's state before the change.
    pub before_digest: Option<String>,
    /// SHA-256 of the object's state after the change.
    pub after_digest: Option<String>,
    /// Hash of the previous row in the chain.
    pub prev_hash: String,
    /// `sha256(prevHash || canonical row)`.
    pub hash: String,
    #[graphql(skip)]
    pub actor_uuid: Option<uuid::Uuid>,
}

#[async_graphql::ComplexObject]
impl AuditEvent {
    /// The person, API key or system actor that acted (null for the CLI).
    async fn actor(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<super::actor::Actor>> {
        super::actor::actor(ctx, self.actor_uuid).await
    }
}

impl From<workflow::entity::audit_event::Model> for AuditEvent {
    fn from(m: workflow::entity::audit_event::Model) -> Self {
        Self {
            id: global_id("AuditEvent", m.id),
            seq: m.seq,
            occurred_at: m.occurred_at,
            // The name says which: people are recorded as `person:<name>`.
            actor_id: m.actor_id.map(|id| {
                let kind = if workflow::access::actors::system_actor(id).is_some() {
                    "SystemActor"
                } else if m.actor_name.starts_with("person:") {
                    "Person"
                } else {
                    "ApiKey"
                };
                global_id(kind, id)
            }),
            actor_uuid: m.actor_id,
            actor_name: m.actor_name,
            operation: m.operation,
            object_type: m.object_type,
            object_id: m.object_id,
            outcome: match workflow::access::audit::Outcome::parse(&m.outcome) {
                Some(workflow::access::audit::Outcome::Success) => AuditOutcome::Success,
                Some(workflow::access::audit::Outcome::Denied) => AuditOutcome::Denied,
                _ => AuditOutcome::Failed,
            },
            error_code: m.error_code,
            before_digest: m.before_digest,
            after_digest: m.after_digest,
            prev_hash: m.prev_hash,
            hash: m.hash,
        }
    }
}

super::connection::connection!(
    AuditEventConnection,
    AuditEventEdge,
    AuditEvent,
    "A page of audit events (Relay cursor connection).",
    "An audit event with its cursor."
);
