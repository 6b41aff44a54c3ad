use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::error::ApiResult;
use crate::graphql::ids::global_id;
use crate::graphql::session;

mirror_enum! {
    /// A role in an organization; permissions are granted to roles.
    Role = workflow::Role {
        /// Everything, including API keys and permissions.
        Admin,
        /// Data protection officer: register, requests, audit log.
        Dpo,
        /// Owns data sources and answers manual collection tasks.
        Steward,
        /// Lawyer: approves, rejects, requests changes, redacts answers.
        Reviewer,
        /// Intake, identity check and dispatch of requests.
        Agent,
        /// Reads everything, including the audit log; changes nothing.
        Auditor,
        /// API clients: submit requests, read the register, check consent.
        Integrator,
    }
}

mirror_enum! {
    /// What a permission is about.
    PermissionObject = workflow::Object {
        /// The organization's own record.
        Organization,
        /// API keys.
        ApiKey,
        /// Role assignments and permission rules.
        Policy,
        /// The audit log.
        AuditEvent,
        /// The register of processing activities (taxonomy, purposes, recipients,
        /// transfers, retention, activities).
        Register,
        /// Data sources and their fields.
        DataSource,
        /// Data-subject requests: subjects, tasks, timeline, review.
        Request,
        /// The consent ledger: consents, their evidence, campaign checks.
        Consent,
        /// The retention sweep: its runs and what they found.
        Retention,
    }
}

mirror_enum! {
    /// What a permission allows doing to its object.
    PermissionAction = workflow::Action {
        /// Read it.
        Read,
        /// Create it.
        Create,
        /// Change it.
        Update,
        /// Delete or revoke it.
        Delete,
        /// Verify a requester's identity.
        Verify,
        /// Complete or fail collection tasks (write what was found in a source).
        Collect,
        /// Decide as a lawyer: approve, reject, request changes, redact.
        Review,
        /// Carry out erasure, restriction or rectification.
        Execute,
        /// Send the answer and close the request.
        Dispatch,
        /// Cancel a request the subject withdrew.
        Cancel,
        /// Extend the deadline by two months (Art. 12(3)).
        Extend,
        /// See the personal data collected for a request.
        ReadData,
        /// Hand a collected request to review, or back to collection after changes
        /// were requested.
        Submit,
    }
}

/// An API key. The secret is shown once, at creation, and never again.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ApiKey {
    /// Global ID.
    pub id: ID,
    /// Who or what uses the key.
    pub name: String,
    /// The public start of the key (`ak_<prefix>_…`), to tell keys apart.
    pub prefix: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was last used (updated at most once a minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// When it was revoked; revoked keys are refused.
    pub revoked_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub model: workflow::entity::api_key::Model,
}

#[ComplexObject]
impl ApiKey {
    /// The roles the key holds in its organization.
    async fn roles(&self, ctx: &Context<'_>) -> ApiResult<Vec<Role>> {
        let roles = session(ctx)?.workflow().roles_of_key(&self.model).await;
        Ok(roles.into_iter().map(Role::from).collect())
    }

    /// Global ID of who (person or API key) created this key (null when created by
    /// `auskunft init` or the demo).
    async fn created_by(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        super::actor::actor_id(ctx, self.model.created_by).await
    }

    /// Who (person or API key) created this key (null when created by
    /// `auskunft init` or the demo).
    async fn creator(&self, ctx: &Context<'_>) -> ApiResult<Option<super::actor::Actor>> {
        super::actor::actor(ctx, self.model.created_by).await
    }
}

impl From<workflow::entity::api_key::Model> for ApiKey {
    fn from(m: workflow::entity::api_key::Model) -> Self {
        Self {
            id: global_id("ApiKey", m.id),
            name: m.name.clone(),
            prefix: m.prefix.clone(),
            created_at: m.created_at,
            last_used_at: m.last_used_at,
            revoked_at: m.revoked_at,
            model: m,
        }
    }
}

/// A permission rule: members of `role` may perform `action` on `object`.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct PolicyRule {
    /// The role the rule applies to.
    pub role: Role,
    /// The object.
    pub object: PermissionObject,
    /// The action.
    pub action: PermissionAction,
}

impl From<workflow::access::policies::PolicyRule> for PolicyRule {
    fn from(r: workflow::access::policies::PolicyRule) -> Self {
        Self {
            role: r.role.into(),
            object: r.object.into(),
            action: r.action.into(),
        }
    }
}

super::connection::connection!(
    ApiKeyConnection,
    ApiKeyEdge,
    ApiKey,
    "A page of API keys (Relay cursor connection).",
    "An API key with its cursor."
);
super::connection::connection!(
    PolicyRuleConnection,
    PolicyRuleEdge,
    PolicyRule,
    "A page of permission rules (Relay cursor connection).",
    "A permission rule with its cursor."
);
