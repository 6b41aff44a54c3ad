//! Casbin on every field: the permission table and the extension that enforces it.
//!
//! Every field of every object type in the schema has an entry here, either for the
//! whole type (`"*"`) or for the field. A field without an entry is denied at run
//! time (deny by default) and fails the schema-walk test, so adding a field forces a
//! decision. Decisions are cached per request, so a page of 100 rows costs one
//! Casbin evaluation per (object, action), not per field.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex};

use async_graphql::extensions::{
    ExtensionContext, NextExecute, NextResolve, NextSubscribe, ResolveInfo,
};
use async_graphql::{PathSegment, QueryPathSegment, ServerError, ServerResult, Value};
use futures_util::stream::{BoxStream, StreamExt};
use workflow::access::audit::Outcome;
use workflow::{Action, ErrorCode, Object, Principal, Workflow};

use crate::error::ApiError;

/// What a field requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, even without a key.
    Public,
    /// Any valid key; the data is the caller's own or purely structural
    /// (connections, edges, payloads, whose items are guarded themselves).
    Authenticated,
    /// A Casbin permission in the caller's organization.
    Allow(Object, Action),
    /// At least one of these permissions; the workflow checks the one that applies
    /// (e.g. a task's kind decides between `collect` and `execute`), but a caller with
    /// none of them is refused before anything is looked up.
    AllowAny(Object, &'static [Action]),
}

use Action::*;
use Object::*;
use Rule::*;

/// The permission table: (type, field or `*`, rule). Field entries win over `*`.
pub const RULES: &[(&str, &str, Rule)] = &[
    // Root fields.
    ("Query", "me", Authenticated),
    ("Query", "node", Authenticated), // checks the node's own type inside
    ("Query", "nodes", Authenticated), // likewise, per node
    ("Query", "organization", Allow(Organization, Read)),
    ("Query", "apiKeys", Allow(ApiKey, Read)),
    ("Query", "policies", Allow(Policy, Read)),
    ("Query", "auditEvents", Allow(AuditEvent, Read)),
    (
        "Mutation",
        "updateOrganization",
        Allow(Organization, Update),
    ),
    ("Mutation", "createApiKey", Allow(ApiKey, Create)),
    ("Mutation", "revokeApiKey", Allow(ApiKey, Delete)),
    // Webhooks are the organization's configuration (their URLs may carry tokens of
    // the receiving system): read and changed by whoever may change the organization.
    ("Query", "webhookSubscriptions", Allow(Organization, Update)),
    (
        "Mutation",
        "createWebhookSubscription",
        Allow(Organization, Update),
    ),
    (
        "Mutation",
        "updateWebhookSubscription",
        Allow(Organization, Update),
    ),
    (
        "Mutation",
        "rotateWebhookSecret",
        Allow(Organization, Update),
    ),
    (
        "Mutation",
        "deleteWebhookSubscription",
        Allow(Organization, Update),
    ),
    ("Mutation", "redeliverWebhook", Allow(Organization, Update)),
    ("WebhookSubscription", "*", Allow(Organization, Update)),
    ("WebhookDelivery", "*", Allow(Organization, Update)),
    ("WebhookDeliveryConnection", "*", Authenticated),
    ("WebhookDeliveryEdge", "*", Authenticated),
    ("WebhookSecretPayload", "*", Authenticated),
    ("WebhookSubscriptionPayload", "*", Authenticated),
    ("WebhookDeliveryPayload", "*", Authenticated),
    ("Mutation", "grantRole", Allow(Policy, Update)),
    // Staff sign-in: which identity providers are trusted and how their claims map
    // to roles is policy (who may do what); so is which people may sign in.
    ("Query", "identityProviders", Allow(Policy, Read)),
    ("Query", "persons", Allow(ApiKey, Read)),
    ("Mutation", "setIdentityProvider", Allow(Policy, Update)),
    ("Mutation", "removeIdentityProvider", Allow(Policy, Update)),
    ("Mutation", "deactivatePerson", Allow(Policy, Update)),
    ("Mutation", "activatePerson", Allow(Policy, Update)),
    ("Mutation", "setPersonRoles", Allow(Policy, Update)),
    ("IdentityProvider", "*", Allow(Policy, Read)),
    ("RoleMapping", "*", Authenticated),
    ("IdentityProviderPayload", "*", Authenticated),
    ("RemoveIdentityProviderPayload", "*", Authenticated),
    // People are named wherever a decision is attributed (a review queue shows
    // names); listing them all is `persons`, gated above.
    ("Person", "*", Authenticated),
    ("PersonConnection", "*", Authenticated),
    ("PersonEdge", "*", Authenticated),
    ("PersonPayload", "*", Authenticated),
    ("Mutation", "revokeRole", Allow(Policy, Update)),
    ("Mutation", "addPolicy", Allow(Policy, Update)),
    ("Mutation", "removePolicy", Allow(Policy, Update)),
    // The consent ledger.
    ("Query", "consents", Allow(Consent, Read)),
    ("Query", "consentCheck", Allow(Consent, Read)),
    ("Query", "consentCheckBulk", Allow(Consent, Read)),
    ("Mutation", "recordConsent", Allow(Consent, Update)),
    ("Mutation", "requestConsent", Allow(Consent, Update)),
    ("Mutation", "confirmConsent", Allow(Consent, Update)),
    ("Mutation", "withdrawConsent", Allow(Consent, Update)),
    ("Mutation", "importConsents", Allow(Consent, Update)),
    ("Consent", "*", Allow(Consent, Read)),
    ("ConsentEvent", "*", Allow(Consent, Read)),
    ("ConsentConnection", "*", Authenticated),
    ("ConsentEdge", "*", Authenticated),
    ("ConsentCheck", "*", Authenticated),
    ("ConsentBulkCheck", "*", Authenticated),
    ("ConsentExclusion", "*", Authenticated),
    ("ConsentPayload", "*", Authenticated),
    ("ImportConsentsPayload", "*", Authenticated),
    ("Query", "dataCategories", Allow(Register, Read)),
    ("Query", "subjectCategories", Allow(Register, Read)),
    ("Mutation", "createDataCategory", Allow(Register, Create)),
    ("Mutation", "updateDataCategory", Allow(Register, Update)),
    ("Mutation", "deleteDataCategory", Allow(Register, Delete)),
    ("Mutation", "createSubjectCategory", Allow(Register, Create)),
    ("Mutation", "updateSubjectCategory", Allow(Register, Update)),
    ("Mutation", "deleteSubjectCategory", Allow(Register, Delete)),
    ("Query", "purposes", Allow(Register, Read)),
    ("Query", "retentionPolicies", Allow(Register, Read)),
    ("Mutation", "createPurpose", Allow(Register, Create)),
    ("Mutation", "updatePurpose", Allow(Register, Update)),
    ("Mutation", "deletePurpose", Allow(Register, Delete)),
    ("Mutation", "createRetentionPolicy", Allow(Register, Create)),
    ("Mutation", "updateRetentionPolicy", Allow(Register, Update)),
    ("Mutation", "deleteRetentionPolicy", Allow(Register, Delete)),
    // The retention sweep: trigger fields are the register's; a run opens erasure
    // requests, so only who may run it does; the identities a finding names are
    // personal data.
    (
        "Mutation",
        "setRetentionTriggerFields",
        Allow(Register, Update),
    ),
    ("Mutation", "runRetentionSweep", Allow(Retention, Execute)),
    ("Query", "retentionRuns", Allow(Retention, Read)),
    ("RetentionRun", "*", Allow(Retention, Read)),
    ("RetentionFinding", "*", Allow(Retention, Read)),
    ("RetentionFinding", "identities", Allow(Request, ReadData)),
    ("RetentionFinding", "retentionPolicy", Allow(Register, Read)),
    ("RetentionFinding", "request", Allow(Request, Read)),
    ("RetentionFinding", "source", Allow(DataSource, Read)),
    ("RetentionIdentity", "*", Allow(Request, ReadData)),
    ("RetentionRunConnection", "*", Authenticated),
    ("RetentionRunEdge", "*", Authenticated),
    ("RetentionFindingConnection", "*", Authenticated),
    ("RetentionFindingEdge", "*", Authenticated),
    ("RunRetentionSweepPayload", "*", Authenticated),
    ("Query", "recipients", Allow(Register, Read)),
    ("Mutation", "createRecipient", Allow(Register, Create)),
    ("Mutation", "updateRecipient", Allow(Register, Update)),
    ("Mutation", "deleteRecipient", Allow(Register, Delete)),
    ("Mutation", "createTransfer", Allow(Register, Create)),
    ("Mutation", "updateTransfer", Allow(Register, Update)),
    ("Mutation", "deleteTransfer", Allow(Register, Delete)),
    ("Query", "processingActivities", Allow(Register, Read)),
    (
        "Mutation",
        "createProcessingActivity",
        Allow(Register, Create),
    ),
    (
        "Mutation",
        "updateProcessingActivity",
        Allow(Register, Update),
    ),
    (
        "Mutation",
        "deleteProcessingActivity",
        Allow(Register, Delete),
    ),
    ("Query", "dataSources", Allow(DataSource, Read)),
    ("Query", "connectorSchemas", Allow(DataSource, Read)),
    ("Mutation", "createDataSource", Allow(DataSource, Create)),
    ("Mutation", "updateDataSource", Allow(DataSource, Update)),
    ("Mutation", "deleteDataSource", Allow(DataSource, Delete)),
    ("Query", "registerFindings", Allow(Register, Read)),
    ("Query", "inspectSource", Allow(DataSource, Update)),
    // The export lists sources too; the workflow also checks register:read.
    ("Query", "registerExport", Allow(DataSource, Read)),
    ("Mutation", "importRegister", Allow(Register, Create)),
    (
        "Mutation",
        "suggestFieldMappings",
        Allow(DataSource, Create),
    ),
    ("Query", "dataFields", Allow(DataSource, Read)),
    ("Mutation", "createDataField", Allow(DataSource, Create)),
    ("Mutation", "updateDataField", Allow(DataSource, Update)),
    ("Mutation", "deleteDataField", Allow(DataSource, Delete)),
    ("Subscription", "auditEventAdded", Allow(AuditEvent, Read)),
    // Requests. Transitions are checked again inside `workflow` against the action
    // their state-machine event names.
    ("Query", "requests", Allow(Request, Read)),
    // The queue is a view of requests (what waits for a decision): whoever reads
    // requests may watch it; deciding needs request:review.
    ("Query", "reviewQueue", Allow(Request, Read)),
    ("Query", "stalledRequests", Allow(Request, Read)),
    ("Query", "requestSettings", Allow(Organization, Read)),
    ("Mutation", "submitRequest", Allow(Request, Create)),
    ("Mutation", "startEmailVerification", Allow(Request, Verify)),
    ("Mutation", "resendVerificationCode", Allow(Request, Verify)),
    (
        "Mutation",
        "confirmEmailVerification",
        Allow(Request, Verify),
    ),
    ("Mutation", "verifyIdentity", Allow(Request, Verify)),
    ("Mutation", "failVerification", Allow(Request, Verify)),
    // COLLECT tasks need request:collect, EXECUTE tasks request:execute (workflow).
    (
        "Mutation",
        "completeTask",
        AllowAny(Request, &[Collect, Execute]),
    ),
    (
        "Mutation",
        "failTask",
        AllowAny(Request, &[Collect, Execute]),
    ),
    ("Mutation", "retryTask", Allow(Request, Collect)),
    ("Mutation", "dismissLeakFinding", Allow(Request, Review)),
    ("Mutation", "resolveLeakFindings", Allow(Request, Review)),
    ("Mutation", "uploadTaskResult", Allow(Request, Collect)),
    ("Mutation", "submitForReview", Allow(Request, Submit)),
    ("Mutation", "resumeCollection", Allow(Request, Submit)),
    ("Mutation", "claimRequest", Allow(Request, Review)),
    ("Mutation", "unclaimRequest", Allow(Request, Review)),
    ("Mutation", "approveRequest", Allow(Request, Review)),
    ("Mutation", "requestChanges", Allow(Request, Review)),
    ("Mutation", "rejectRequest", Allow(Request, Review)),
    ("Mutation", "addReviewComment", Allow(Request, Review)),
    ("Mutation", "addRequestComment", Allow(Request, Update)),
    ("Mutation", "redactRecord", Allow(Request, Review)),
    ("Mutation", "unredactRecord", Allow(Request, Review)),
    ("Mutation", "startExecution", Allow(Request, Execute)),
    ("Mutation", "dispatchRequest", Allow(Request, Dispatch)),
    ("Mutation", "revokeDownloadLink", Allow(Request, Dispatch)),
    ("Query", "dispatchProof", Allow(Request, Read)),
    // The proof is for whoever reads requests; the address and the notice are
    // personal data.
    ("DispatchProof", "*", Allow(Request, Read)),
    // The erasure report names sources, fields and legal grounds, no values.
    ("Query", "erasureReport", Allow(Request, Read)),
    ("ErasureReport", "*", Allow(Request, Read)),
    ("ErasureReportLine", "*", Allow(Request, Read)),
    // Importers and CRM syncs (integrators) check identities they are about to
    // bring in; the answer holds nothing but what they asked.
    ("Query", "suppressionCheck", Allow(Request, Read)),
    // Art. 19 notices are read like the request; the address they went to is the
    // recipient's, from the register. Staff who dispatch confirm them.
    ("Query", "recipientNotices", Allow(Request, Read)),
    ("RecipientNotice", "*", Allow(Request, Read)),
    //    staff's free text may name people
    ("RecipientNotice", "note", Allow(Request, ReadData)),
    (
        "Mutation",
        "confirmRecipientNotice",
        Allow(Request, Dispatch),
    ),
    ("ConfirmRecipientNoticePayload", "*", Authenticated),
    // Corrections (RECTIFICATION) are taken in like the request and decided with it;
    // where they stand is read like the request, the corrected value is personal
    // data. Restrictions are lifted by whoever reviews (a legal decision).
    ("Mutation", "proposeCorrection", Allow(Request, Update)),
    ("Mutation", "withdrawCorrection", Allow(Request, Update)),
    ("ProposeCorrectionPayload", "*", Authenticated),
    ("SubjectRequest", "corrections", Allow(Request, Read)),
    ("Correction", "*", Allow(Request, Read)),
    ("Correction", "value", Allow(Request, ReadData)),
    ("Mutation", "liftRestriction", Allow(Request, Review)),
    ("LiftRestrictionPayload", "*", Authenticated),
    ("SubjectRequest", "restrictions", Allow(Request, Read)),
    ("ProcessingRestriction", "*", Allow(Request, Read)),
    //    the reviewer's free text may name people
    (
        "ProcessingRestriction",
        "liftReason",
        Allow(Request, ReadData),
    ),
    ("SuppressionMatch", "*", Allow(Request, Read)),
    ("DispatchProof", "recipient", Allow(Request, ReadData)),
    ("DispatchProof", "notice", Allow(Request, ReadData)),
    ("DispatchDelivery", "*", Allow(Request, Read)),
    // Names the address a test request's message was meant for.
    ("DispatchDelivery", "lastError", Allow(Request, ReadData)),
    ("DownloadLinkInfo", "*", Allow(Request, Read)),
    ("DispatchRequestPayload", "*", Authenticated),
    ("RevokeDownloadLinkPayload", "*", Authenticated),
    ("Mutation", "closeRequest", Allow(Request, Dispatch)),
    ("Mutation", "cancelRequest", Allow(Request, Cancel)),
    ("Mutation", "assignRequest", Allow(Request, Update)),
    ("Mutation", "extendDeadline", Allow(Request, Extend)),
    ("Mutation", "bulkVerify", Allow(Request, Verify)),
    ("Mutation", "bulkAssign", Allow(Request, Update)),
    ("Mutation", "bulkCancel", Allow(Request, Cancel)),
    (
        "Mutation",
        "updateRequestSettings",
        Allow(Organization, Update),
    ),
    // The answer: reviewers preview it (the workflow also checks read_data); the
    // letter templates are organization settings.
    ("Query", "answerPreview", Allow(Request, Review)),
    ("Query", "letterTemplates", Allow(Organization, Read)),
    ("Mutation", "setLetterTemplate", Allow(Organization, Update)),
    (
        "Mutation",
        "resetLetterTemplate",
        Allow(Organization, Update),
    ),
    ("Subscription", "reviewQueueChanged", Allow(Request, Read)),
    ("Subscription", "requestEvents", Allow(Request, Read)),
    // Data types.
    ("Organization", "*", Allow(Organization, Read)),
    ("OrganizationContact", "*", Allow(Organization, Read)),
    ("ApiKey", "*", Allow(ApiKey, Read)),
    // Who did something is named wherever a decision is attributed (assignee,
    // claim, timeline ...): a key's ID and name, like a person's, are readable by
    // whoever may read the decision; the rest of the key is not.
    ("ApiKey", "id", Authenticated),
    ("ApiKey", "name", Authenticated),
    ("SystemActor", "*", Authenticated),
    ("AuditEvent", "*", Allow(AuditEvent, Read)),
    ("PolicyRule", "*", Allow(Policy, Read)),
    ("DataCategory", "*", Allow(Register, Read)),
    ("SubjectCategory", "*", Allow(Register, Read)),
    ("Purpose", "*", Allow(Register, Read)),
    ("RetentionPolicy", "*", Allow(Register, Read)),
    ("RetentionPolicy", "triggerFields", Allow(DataSource, Read)),
    ("Recipient", "*", Allow(Register, Read)),
    ("Transfer", "*", Allow(Register, Read)),
    ("ProcessingActivity", "*", Allow(Register, Read)),
    ("ProcessingActivity", "sources", Allow(DataSource, Read)),
    ("DataSource", "*", Allow(DataSource, Read)),
    ("ConnectorSchema", "*", Allow(DataSource, Read)),
    ("DataField", "*", Allow(DataSource, Read)),
    ("SourceInspection", "*", Allow(DataSource, Read)),
    ("RegisterExport", "*", Allow(Register, Read)),
    ("InspectedTable", "*", Allow(DataSource, Read)),
    ("InspectedColumn", "*", Allow(DataSource, Read)),
    ("FieldSuggestion", "*", Allow(DataSource, Read)),
    ("UndeclaredReference", "*", Allow(DataSource, Read)),
    ("RegisterFinding", "*", Allow(Register, Read)),
    ("SubjectRequest", "*", Allow(Request, Read)),
    ("SubjectIdentity", "*", Allow(Request, Read)),
    // Read from the sources: collected personal data.
    (
        "SubjectRequest",
        "identitiesFoundOnTheWay",
        Allow(Request, ReadData),
    ),
    ("FoundIdentity", "*", Allow(Request, ReadData)),
    ("RequestTask", "*", Allow(Request, Read)),
    // Uploaded files are collected personal data, like the records.
    ("RequestTask", "files", Allow(Request, ReadData)),
    ("RequestTask", "records", Allow(Request, ReadData)),
    ("SubjectRequest", "records", Allow(Request, ReadData)),
    ("CollectedRecord", "*", Allow(Request, ReadData)),
    ("SubjectRequest", "collected", Allow(Request, ReadData)),
    ("CollectedSource", "*", Allow(Request, ReadData)),
    ("CollectedCategory", "*", Allow(Request, ReadData)),
    ("FoundRecord", "*", Allow(Request, ReadData)),
    ("Redaction", "*", Allow(Request, Read)),
    ("LeakFinding", "*", Allow(Request, Read)),
    ("LeakFinding", "record", Allow(Request, ReadData)),
    // Edges into the register need the register's permissions, like its root
    // fields: a caller without them gets a null edge with FORBIDDEN.
    ("LeakFinding", "field", Allow(DataSource, Read)),
    ("RequestTask", "source", Allow(DataSource, Read)),
    ("CollectedRecord", "source", Allow(DataSource, Read)),
    ("CollectedRecord", "field", Allow(DataSource, Read)),
    ("CollectedSource", "source", Allow(DataSource, Read)),
    ("FoundIdentity", "source", Allow(DataSource, Read)),
    ("FoundIdentity", "field", Allow(DataSource, Read)),
    ("GoneRecord", "source", Allow(DataSource, Read)),
    ("GoneRecord", "field", Allow(DataSource, Read)),
    ("Correction", "source", Allow(DataSource, Read)),
    ("Correction", "field", Allow(DataSource, Read)),
    ("ProcessingRestriction", "source", Allow(DataSource, Read)),
    ("ProcessingRestriction", "purpose", Allow(Register, Read)),
    ("ErasureReportLine", "source", Allow(DataSource, Read)),
    ("ErasureReportLine", "field", Allow(DataSource, Read)),
    ("RecipientNotice", "recipient", Allow(Register, Read)),
    ("Consent", "purpose", Allow(Register, Read)),
    ("DispatchProof", "package", Allow(Request, ReadData)),
    ("ReviewChanges", "*", Allow(Request, Read)),
    ("GoneRecord", "*", Allow(Request, Read)),
    ("RequestAttachment", "*", Allow(Request, Read)),
    // The package holds the collected data.
    ("SubjectRequest", "answerPackage", Allow(Request, ReadData)),
    ("AnswerPackage", "*", Allow(Request, ReadData)),
    ("AnswerPreview", "*", Allow(Request, ReadData)),
    ("LetterTemplate", "*", Allow(Organization, Read)),
    ("TimelineEntry", "*", Allow(Request, Read)),
    ("RequestSettings", "*", Allow(Organization, Read)),
    ("ClosedDay", "*", Allow(Organization, Read)),
    ("Holiday", "*", Authenticated),
    ("BulkItemResult", "*", Authenticated),
    ("BulkItemError", "*", Authenticated),
    ("ReviewQueueUpdate", "*", Allow(Request, Read)),
    ("RequestUpdate", "*", Allow(Request, Read)),
    ("Me", "*", Authenticated),
    // Interface fields: `node`/`nodes` check the concrete type's read permission
    // before returning it; fragments on concrete types are checked as such.
    ("Node", "*", Authenticated),
    ("Permission", "*", Authenticated),
    // Structural types.
    ("PageInfo", "*", Authenticated),
    ("ApiKeyConnection", "*", Authenticated),
    ("ApiKeyEdge", "*", Authenticated),
    ("AuditEventConnection", "*", Authenticated),
    ("AuditEventEdge", "*", Authenticated),
    ("PolicyRuleConnection", "*", Authenticated),
    ("PolicyRuleEdge", "*", Authenticated),
    ("UpdateOrganizationPayload", "*", Authenticated),
    ("DataCategoryConnection", "*", Authenticated),
    ("DataCategoryEdge", "*", Authenticated),
    ("SubjectCategoryConnection", "*", Authenticated),
    ("SubjectCategoryEdge", "*", Authenticated),
    ("DataCategoryPayload", "*", Authenticated),
    ("SubjectCategoryPayload", "*", Authenticated),
    ("DeletePayload", "*", Authenticated),
    ("SuggestFieldMappingsPayload", "*", Authenticated),
    ("ImportRegisterPayload", "*", Authenticated),
    ("PurposeConnection", "*", Authenticated),
    ("PurposeEdge", "*", Authenticated),
    ("PurposePayload", "*", Authenticated),
    ("RetentionPolicyConnection", "*", Authenticated),
    ("RetentionPolicyEdge", "*", Authenticated),
    ("RetentionPolicyPayload", "*", Authenticated),
    ("RecipientConnection", "*", Authenticated),
    ("RecipientEdge", "*", Authenticated),
    ("RecipientPayload", "*", Authenticated),
    ("TransferPayload", "*", Authenticated),
    ("ProcessingActivityConnection", "*", Authenticated),
    ("ProcessingActivityEdge", "*", Authenticated),
    ("ProcessingActivityPayload", "*", Authenticated),
    ("DataSourceConnection", "*", Authenticated),
    ("DataSourceEdge", "*", Authenticated),
    ("DataSourcePayload", "*", Authenticated),
    ("DataFieldConnection", "*", Authenticated),
    ("DataFieldEdge", "*", Authenticated),
    ("DataFieldPayload", "*", Authenticated),
    ("RegisterFindingConnection", "*", Authenticated),
    ("RegisterFindingEdge", "*", Authenticated),
    ("CreateApiKeyPayload", "*", Authenticated),
    ("RevokeApiKeyPayload", "*", Authenticated),
    ("GrantRolePayload", "*", Authenticated),
    ("RevokeRolePayload", "*", Authenticated),
    ("AddPolicyPayload", "*", Authenticated),
    ("SubjectRequestConnection", "*", Authenticated),
    ("SubjectRequestEdge", "*", Authenticated),
    ("TimelineEntryConnection", "*", Authenticated),
    ("TimelineEntryEdge", "*", Authenticated),
    ("RequestPayload", "*", Authenticated),
    ("SubmitRequestPayload", "*", Authenticated),
    ("TaskPayload", "*", Authenticated),
    ("LeakFindingPayload", "*", Authenticated),
    ("BulkRequestPayload", "*", Authenticated),
    ("RequestSettingsPayload", "*", Authenticated),
    ("RemovePolicyPayload", "*", Authenticated),
    ("LetterTemplatePayload", "*", Authenticated),
];

static TABLE: LazyLock<HashMap<(&'static str, &'static str), Rule>> =
    LazyLock::new(|| RULES.iter().map(|(t, f, r)| ((*t, *f), *r)).collect());

/// The rule of a field, if the table has one.
pub fn rule_for(type_name: &str, field: &str) -> Option<Rule> {
    TABLE
        .get(&(type_name, field))
        .or_else(|| TABLE.get(&(type_name, "*")))
        .copied()
}

/// The per-request (or per-WebSocket-connection) authorization state. A clone shares
/// the decision cache and the record of audited denials (a query that runs a second
/// time, see [`crate::graphql::Executor`], asks and audits nothing twice).
#[derive(Clone)]
pub struct Session {
    workflow: Workflow,
    principal: Option<Principal>,
    cache: Option<Arc<Mutex<Decisions>>>,
    denials_recorded: Arc<Mutex<HashSet<(Object, Action)>>>,
}

/// Casbin's answers within one request.
type Decisions = HashMap<(Object, Action), bool>;

impl Session {
    /// A session for one HTTP request: decisions are cached for its duration.
    pub fn for_request(workflow: Workflow, principal: Option<Principal>) -> Self {
        Self {
            workflow,
            principal,
            cache: Some(Arc::default()),
            denials_recorded: Arc::default(),
        }
    }

    /// A session for a long-lived WebSocket: every decision is fresh, so policy
    /// changes apply to open subscriptions too.
    pub fn for_connection(workflow: Workflow, principal: Option<Principal>) -> Self {
        Self {
            cache: None,
            ..Self::for_request(workflow, principal)
        }
    }

    /// The workflow handle.
    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    /// The caller, or UNAUTHENTICATED.
    pub fn principal(&self) -> Result<&Principal, ApiError> {
        self.principal
            .as_ref()
            .ok_or_else(ApiError::unauthenticated)
    }

    /// The caller, if any.
    pub fn principal_opt(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// Whether the caller holds a Casbin permission (cached per request).
    async fn allowed(&self, object: Object, action: Action) -> Result<bool, ApiError> {
        let principal = self.principal()?;
        let cached = self.cache.as_ref().and_then(|c| {
            c.lock()
                .expect("not poisoned")
                .get(&(object, action))
                .copied()
        });
        if let Some(allowed) = cached {
            return Ok(allowed);
        }
        let allowed = self
            .workflow
            .authz()
            .is_allowed(principal.key_id, principal.org_id, object, action)
            .await?;
        if let Some(cache) = &self.cache {
            cache
                .lock()
                .expect("not poisoned")
                .insert((object, action), allowed);
        }
        Ok(allowed)
    }

    /// Whether the caller holds at least one of `actions` on `object` (cached).
    async fn allowed_any(&self, object: Object, actions: &[Action]) -> Result<bool, ApiError> {
        for action in actions {
            if self.allowed(object, *action).await? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the caller satisfies every one of `rules`. Asks Casbin (through the
    /// cache) but records nothing: a `false` means the operation runs field by field,
    /// where each denial is reported and audited.
    pub(crate) async fn permits_all(&self, rules: &[Rule]) -> bool {
        for rule in rules {
            let permitted = match *rule {
                Public => true,
                Authenticated => self.principal.is_some(),
                Allow(object, action) => self.allowed(object, action).await.unwrap_or(false),
                AllowAny(object, actions) => {
                    self.allowed_any(object, actions).await.unwrap_or(false)
                }
            };
            if !permitted {
                return false;
            }
        }
        true
    }

    /// Requires a Casbin permission; a denial is audited once per request.
    pub async fn require(
        &self,
        object: Object,
        action: Action,
        operation: &str,
    ) -> Result<(), ApiError> {
        if self.allowed(object, action).await? {
            return Ok(());
        }
        Err(self.denied(object, action, operation).await)
    }

    /// FORBIDDEN for `object:action`, audited once per request.
    async fn denied(&self, object: Object, action: Action, operation: &str) -> ApiError {
        let first_denial = self
            .denials_recorded
            .lock()
            .expect("not poisoned")
            .insert((object, action));
        if first_denial
            && let Ok(principal) = self.principal()
            && let Err(e) = self
                .workflow
                .record_attempt(
                    principal,
                    operation,
                    Outcome::Denied,
                    ErrorCode::Forbidden.as_str(),
                )
                .await
        {
            tracing::error!(error = %e, "could not audit a denied attempt");
        }
        workflow::Error::Forbidden {
            object: object.as_str().into(),
            action: action.as_str().into(),
        }
        .into()
    }

    /// Enforces the table entry of `type_name.field`.
    pub async fn check_field(&self, type_name: &str, field: &str) -> Result<(), ApiError> {
        match rule_for(type_name, field) {
            Some(Public) => Ok(()),
            Some(Authenticated) => self.principal().map(|_| ()),
            Some(Allow(object, action)) => {
                // The operation's name is only built for a denial: this runs for
                // every field of every response.
                if self.allowed(object, action).await? {
                    return Ok(());
                }
                Err(self
                    .denied(object, action, &operation_name(type_name, field))
                    .await)
            }
            Some(AllowAny(object, actions)) => {
                if self.allowed_any(object, actions).await? {
                    return Ok(());
                }
                let operation = operation_name(type_name, field);
                match actions.first() {
                    Some(action) => Err(self.denied(object, *action, &operation).await),
                    None => Err(ApiError::new(
                        ErrorCode::Forbidden,
                        format!("`{operation}` names no permission"),
                    )),
                }
            }
            None => {
                tracing::error!(type_name, field, "field has no permission rule; denied");
                self.principal()?;
                Err(ApiError::new(
                    ErrorCode::Forbidden,
                    format!("`{type_name}.{field}` has no permission rule"),
                ))
            }
        }
    }
}

/// Whether a list type's items may be null (`[T]`, `[T]!`), not for `[T!]`.
fn has_nullable_items(return_type: &str) -> bool {
    return_type.starts_with('[') && !return_type.trim_end_matches('!').ends_with("!]")
}

/// How the audit log names an attempt at `type_name.field`: a mutation by its own
/// name, as its success and failure are recorded (a filter on `approveRequest` finds
/// all three); a read by `Type.field`.
fn operation_name(type_name: &str, field: &str) -> String {
    if type_name == "Mutation" {
        field.to_owned()
    } else {
        format!("{type_name}.{field}")
    }
}

/// What null propagation has decided so far in one operation (or subscription event).
#[derive(Default)]
struct Propagation {
    /// Paths whose value must become null because a non-null child failed.
    must_null: HashSet<Vec<String>>,
    /// A non-null root field failed: `data` is null.
    data_null: bool,
    /// Errors of nullable fields, which resolve to null instead of failing.
    errors: Vec<ServerError>,
    /// Declared types of the list fields resolved so far, by path.
    list_types: HashMap<Vec<String>, String>,
}

impl Propagation {
    /// Applies what was decided to a finished response.
    fn finish(&mut self, mut response: async_graphql::Response) -> async_graphql::Response {
        response.errors.append(&mut self.errors);
        if std::mem::take(&mut self.data_null) {
            response.data = Value::Null;
        }
        self.must_null.clear();
        self.list_types.clear();
        response
    }
}

/// The response path of a resolver position (indices as numbers).
pub(crate) fn response_path(node: &async_graphql::QueryPathNode<'_>) -> Vec<PathSegment> {
    let mut path = Vec::new();
    let mut current = Some(node);
    while let Some(n) = current {
        path.push(match n.segment {
            QueryPathSegment::Name(name) => PathSegment::Field(name.to_owned()),
            QueryPathSegment::Index(i) => PathSegment::Index(i),
        });
        current = n.parent;
    }
    path.reverse();
    path
}

fn server_error(err: ApiError, info: &ResolveInfo<'_>) -> ServerError {
    let mut e = async_graphql::Error::from(err).into_server_error(info.field.name.pos);
    e.path = response_path(info.path_node);
    e
}

/// Enforces [`RULES`] on every resolved field, with GraphQL's null propagation for
/// fields that fail (by a denial or a resolver error); one per operation, run by the
/// schema's extension (`graphql::Pipeline`).
#[derive(Default)]
pub(crate) struct Authorization {
    propagation: Arc<Mutex<Propagation>>,
}

impl Authorization {
    fn propagation(&self) -> std::sync::MutexGuard<'_, Propagation> {
        self.propagation
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn checked(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // Introspection is public (integrators generate clients from it); list items
        // (parent type `[T!]`) belong to a field that was checked already.
        if info.is_for_introspection
            || info.parent_type.starts_with("__")
            || info.parent_type.starts_with('[')
            || info.name.starts_with("__")
        {
            return next.run(ctx, info).await;
        }
        let Ok(session) = ctx.data::<Session>() else {
            return Err(server_error(ApiError::unauthenticated(), &info));
        };
        if let Err(err) = session.check_field(info.parent_type, info.name).await {
            return Err(server_error(err, &info));
        }
        let operation = (info.parent_type == "Mutation").then_some(info.name);
        let result = next.run(ctx, info).await;
        if let (Some(operation), Err(err), Some(principal)) =
            (operation, &result, session.principal_opt())
        {
            let code = err
                .extensions
                .as_ref()
                .and_then(|x| x.get("code"))
                .and_then(|v| match v {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| crate::error::UNCODED.as_str().to_owned());
            if let Err(e) = session
                .workflow()
                .record_attempt(principal, operation, Outcome::Failed, &code)
                .await
            {
                tracing::error!(error = %e, "could not audit a failed mutation");
            }
        }
        result
    }

    /// Applies null propagation to the operation's response.
    pub(crate) async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> async_graphql::Response {
        let response = next.run(ctx, operation_name).await;
        self.propagation().finish(response)
    }

    /// Applies null propagation to each event of a subscription.
    pub(crate) fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, async_graphql::Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, async_graphql::Response> {
        let propagation = self.propagation.clone();
        next.run(ctx, stream)
            .map(move |response| {
                propagation
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .finish(response)
            })
            .boxed()
    }

    /// A failed field is null; a failed non-null field makes its parent null, up to
    /// the nearest nullable ancestor or `data` itself (GraphQL spec, "Handling Field
    /// Errors"). async-graphql by itself leaves the key out of the object.
    pub(crate) async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let path_node = info.path_node;
        let (parent_type, return_type) = (info.parent_type, info.return_type);
        // Only lists whose items may be null are remembered (rare: `nodes(ids:)`);
        // an item of any other list reports its non-null type itself. Remembering
        // every list would cost a path per list field of every response.
        if !parent_type.starts_with('[') && has_nullable_items(return_type) {
            self.propagation()
                .list_types
                .insert(path_node.to_string_vec(), return_type.to_owned());
        }
        let result = self.checked(ctx, info, next).await;
        let mut propagation = self.propagation();
        // The common case costs no path: nothing failed here or below.
        if result.is_ok() && propagation.must_null.is_empty() {
            return result;
        }
        let path = path_node.to_string_vec();
        let child_failed = propagation.must_null.remove(&path);
        if result.is_ok() && !child_failed {
            return result;
        }
        // A list item's own type info loses `Option` (async-graphql reports `[Node!]`
        // for `[Node]`); the list field's declared type says whether items may be null.
        let nullable = if parent_type.starts_with('[') {
            let list_type = propagation
                .list_types
                .get(&path[..path.len().saturating_sub(1)])
                .map_or(parent_type, String::as_str);
            !list_type
                .trim_start_matches('[')
                .trim_end_matches('!')
                .trim_end_matches(']')
                .ends_with('!')
        } else {
            !return_type.ends_with('!')
        };
        if nullable {
            if let Err(e) = result {
                propagation.errors.push(e);
            }
            return Ok(Some(Value::Null));
        }
        let mut parent = path;
        parent.pop();
        if parent.is_empty() {
            propagation.data_null = true;
        } else {
            propagation.must_null.insert(parent);
        }
        // An error is recorded by the parent (which drops the key, then becomes null).
        result.map(|_| Some(Value::Null))
    }
}
