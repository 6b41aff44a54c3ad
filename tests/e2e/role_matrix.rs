//! The roles as the README describes them, written down by hand: who may call which
//! root field. The table is NOT derived from `api/src/permissions.rs` or
//! `default_policy.csv`; it says what each role is for, and the test checks that the
//! real server, over HTTP and WebSocket, with every role's key, agrees.
//!
//! The duties behind the columns (README "Roles"):
//! - admin: runs the installation: everything.
//! - dpo (privacy officer): the organization and its request settings, the register,
//!   data sources, every step of a request; reads keys, policies and the audit log,
//!   but neither issues keys nor changes permissions.
//! - steward: owns data sources (sources, fields, inspection, mapping suggestions) and
//!   answers their tasks: completes and fails collection and execution tasks, starts
//!   execution in the sources; reads requests with their data and the register.
//! - reviewer (lawyer): claims, redacts, comments, approves, requests changes, rejects;
//!   reads requests with their data, the register and data sources.
//! - agent (intake and dispatch): takes requests in, checks identities, assigns,
//!   comments, extends deadlines, hands collected requests to review, dispatches,
//!   closes and cancels; reads requests with their data and the register. Never
//!   writes what was found in a source (that is the steward's).
//! - auditor: reads everything, the review queue and the audit log included; changes
//!   nothing. Inspecting a source is not reading: it connects to the live system
//!   with the source's credentials (the steward's tool).
//! - integrator (API client): submits requests and verifies requesters; reads
//!   requests (not the collected data), the register and data sources; keeps the
//!   consent ledger (sign-up forms, CRM sync) and checks campaigns.
//! - consents: agents record them too (given by phone or letter); reviewers and
//!   auditors read them with their evidence; stewards have no part in them.

use std::collections::{BTreeSet, HashSet};
use std::time::Duration;

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, e2e, error_code};

const Y: bool = true;
const N: bool = false;

/// The column order of [`EXPECTED`].
const COLUMNS: [Role; 7] = [
    Role::Admin,
    Role::Dpo,
    Role::Steward,
    Role::Reviewer,
    Role::Agent,
    Role::Auditor,
    Role::Integrator,
];

/// One row per root field (`Type.field`), one column per role: allowed or not.
#[rustfmt::skip]
pub const EXPECTED: &[(&str, [bool; 7])] = &[
    // operation                              admin dpo stew rev agent audit integ
    // -- who am I, and generic lookups (the sample looks up an API key)
    ("Query.me",                              [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Query.node",                            [Y,   Y,  N,   N,  N,    Y,    N]),
    ("Query.nodes",                           [Y,   Y,  N,   N,  N,    Y,    N]),
    // -- the organization, keys, permissions, audit log
    ("Query.organization",                    [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.updateOrganization",           [Y,   Y,  N,   N,  N,    N,    N]),
    ("Query.apiKeys",                         [Y,   Y,  N,   N,  N,    Y,    N]),
    ("Mutation.createApiKey",                 [Y,   N,  N,   N,  N,    N,    N]),
    ("Mutation.revokeApiKey",                 [Y,   N,  N,   N,  N,    N,    N]),
    ("Query.policies",                        [Y,   Y,  N,   N,  N,    Y,    N]),
    //    webhooks are the organization's configuration: admins and the DPO
    ("Query.webhookSubscriptions",            [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.createWebhookSubscription",    [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.updateWebhookSubscription",    [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.rotateWebhookSecret",          [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.deleteWebhookSubscription",    [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.redeliverWebhook",             [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.grantRole",                    [Y,   N,  N,   N,  N,    N,    N]),
    // -- staff sign-in: identity providers and people (policy: who may do what)
    ("Query.identityProviders",               [Y,   Y,  N,   N,  N,    Y,    N]),
    ("Query.persons",                         [Y,   Y,  N,   N,  N,    Y,    N]),
    ("Mutation.setIdentityProvider",          [Y,   N,  N,   N,  N,    N,    N]),
    ("Mutation.removeIdentityProvider",       [Y,   N,  N,   N,  N,    N,    N]),
    ("Mutation.deactivatePerson",             [Y,   N,  N,   N,  N,    N,    N]),
    ("Mutation.activatePerson",               [Y,   N,  N,   N,  N,    N,    N]),
    ("Mutation.setPersonRoles",               [Y,   N,  N,   N,  N,    N,    N]),
    ("Mutation.revokeRole",                   [Y,   N,  N,   N,  N,    N,    N]),
    ("Mutation.addPolicy",                    [Y,   N,  N,   N,  N,    N,    N]),
    ("Mutation.removePolicy",                 [Y,   N,  N,   N,  N,    N,    N]),
    ("Query.auditEvents",                     [Y,   Y,  N,   N,  N,    Y,    N]),
    ("Subscription.auditEventAdded",          [Y,   Y,  N,   N,  N,    Y,    N]),
    // -- the register: everyone reads it, the DPO keeps it
    ("Query.dataCategories",                  [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.createDataCategory",           [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.updateDataCategory",           [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.deleteDataCategory",           [Y,   Y,  N,   N,  N,    N,    N]),
    ("Query.subjectCategories",               [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.createSubjectCategory",        [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.updateSubjectCategory",        [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.deleteSubjectCategory",        [Y,   Y,  N,   N,  N,    N,    N]),
    ("Query.purposes",                        [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.createPurpose",                [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.updatePurpose",                [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.deletePurpose",                [Y,   Y,  N,   N,  N,    N,    N]),
    ("Query.retentionPolicies",               [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.createRetentionPolicy",        [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.updateRetentionPolicy",        [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.deleteRetentionPolicy",        [Y,   Y,  N,   N,  N,    N,    N]),
    ("Query.recipients",                      [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.createRecipient",              [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.updateRecipient",              [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.deleteRecipient",              [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.createTransfer",               [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.updateTransfer",               [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.deleteTransfer",               [Y,   Y,  N,   N,  N,    N,    N]),
    ("Query.processingActivities",            [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.createProcessingActivity",     [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.updateProcessingActivity",     [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.deleteProcessingActivity",     [Y,   Y,  N,   N,  N,    N,    N]),
    ("Query.registerFindings",                [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.importRegister",               [Y,   Y,  N,   N,  N,    N,    N]),
    // -- data sources: kept by stewards (and the DPO); agents do not see them, so
    //    not the export either, which lists them
    ("Query.dataSources",                     [Y,   Y,  Y,   Y,  N,    Y,    Y]),
    ("Query.connectorSchemas",                [Y,   Y,  Y,   Y,  N,    Y,    Y]),
    ("Query.dataFields",                      [Y,   Y,  Y,   Y,  N,    Y,    Y]),
    ("Query.registerExport",                  [Y,   Y,  Y,   Y,  N,    Y,    Y]),
    ("Query.inspectSource",                   [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.createDataSource",             [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.updateDataSource",             [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.deleteDataSource",             [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.suggestFieldMappings",         [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.createDataField",              [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.updateDataField",              [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.deleteDataField",              [Y,   Y,  Y,   N,  N,    N,    N]),
    // -- requests: everyone reads them (integrators without the collected data)
    ("Query.requests",                        [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Query.reviewQueue",                     [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Query.stalledRequests",                 [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Query.requestSettings",                 [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Subscription.reviewQueueChanged",       [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Subscription.requestEvents",            [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.updateRequestSettings",        [Y,   Y,  N,   N,  N,    N,    N]),
    // -- intake and identity check
    ("Mutation.submitRequest",                [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.startEmailVerification",       [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.resendVerificationCode",       [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.confirmEmailVerification",     [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.verifyIdentity",               [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.failVerification",             [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.bulkVerify",                   [Y,   Y,  N,   N,  Y,    N,    Y]),
    // -- coordination
    ("Mutation.assignRequest",                [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.bulkAssign",                   [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.addRequestComment",            [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.extendDeadline",               [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.cancelRequest",                [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.bulkCancel",                   [Y,   Y,  N,   N,  Y,    N,    N]),
    // -- collection: stewards write what their sources hold; agents hand it on
    ("Mutation.completeTask",                 [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.failTask",                     [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.retryTask",                    [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.dismissLeakFinding",           [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Mutation.resolveLeakFindings",          [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Mutation.uploadTaskResult",             [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.submitForReview",              [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.resumeCollection",             [Y,   Y,  N,   N,  Y,    N,    N]),
    // -- legal review
    ("Mutation.claimRequest",                 [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Mutation.unclaimRequest",               [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Mutation.redactRecord",                 [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Mutation.unredactRecord",               [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Mutation.addReviewComment",             [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Mutation.approveRequest",               [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Mutation.requestChanges",               [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Mutation.rejectRequest",                [Y,   Y,  N,   Y,  N,    N,    N]),
    // -- the answer: reviewers preview it before deciding; the letter templates are
    //    the organization's settings, kept by the DPO and admins, read by everyone
    ("Query.answerPreview",                   [Y,   Y,  N,   Y,  N,    N,    N]),
    ("Query.letterTemplates",                 [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.setLetterTemplate",            [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.resetLetterTemplate",          [Y,   Y,  N,   N,  N,    N,    N]),
    // -- carrying out and answering
    ("Mutation.startExecution",               [Y,   Y,  Y,   N,  N,    N,    N]),
    ("Mutation.dispatchRequest",              [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.revokeDownloadLink",           [Y,   Y,  N,   N,  Y,    N,    N]),
    //    the proof is read like the request (its address and notice like its data)
    ("Query.dispatchProof",                   [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Query.erasureReport",                   [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Query.suppressionCheck",                [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Query.recipientNotices",                [Y,   Y,  Y,   Y,  Y,    Y,    Y]),
    ("Mutation.confirmRecipientNotice",       [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.closeRequest",                 [Y,   Y,  N,   N,  Y,    N,    N]),
    //    corrections are taken in like the request; lifting a restriction is a
    //    lawyer's decision
    ("Mutation.proposeCorrection",            [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.withdrawCorrection",           [Y,   Y,  N,   N,  Y,    N,    N]),
    ("Mutation.liftRestriction",              [Y,   Y,  N,   Y,  N,    N,    N]),
    // -- the consent ledger: integrations (forms, CRM, campaign tools) and agents
    //    (consents given by phone or letter) keep it; lawyers and auditors read the
    //    evidence; stewards have no part in it
    ("Query.consents",                        [Y,   Y,  N,   Y,  Y,    Y,    Y]),
    ("Query.consentCheck",                    [Y,   Y,  N,   Y,  Y,    Y,    Y]),
    ("Query.consentCheckBulk",                [Y,   Y,  N,   Y,  Y,    Y,    Y]),
    ("Mutation.recordConsent",                [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.requestConsent",               [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.confirmConsent",               [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.withdrawConsent",              [Y,   Y,  N,   N,  Y,    N,    Y]),
    ("Mutation.importConsents",               [Y,   Y,  N,   N,  Y,    N,    Y]),
    // -- the retention sweep: admins and the DPO run it (it opens erasure requests)
    //    and choose its trigger fields (the register's); who acts on its results
    //    reads them
    ("Query.retentionRuns",                   [Y,   Y,  Y,   Y,  N,    Y,    N]),
    ("Mutation.runRetentionSweep",            [Y,   Y,  N,   N,  N,    N,    N]),
    ("Mutation.setRetentionTriggerFields",    [Y,   Y,  N,   N,  N,    N,    N]),
];

/// Whether the table allows `role` to call `operation`.
fn expected(operation: &str, role: Role) -> bool {
    let (_, row) = EXPECTED
        .iter()
        .find(|(op, _)| *op == operation)
        .unwrap_or_else(|| panic!("{operation} is missing from EXPECTED"));
    let column = COLUMNS.iter().position(|r| *r == role).unwrap();
    row[column]
}

/// One sample call per query and mutation. Inputs are valid where cheap, so an
/// allowed call succeeds or fails for reasons other than authorization (mostly
/// NOT_FOUND for the random ids).
fn samples(app: &TestApp) -> Vec<(&'static str, String, Value)> {
    let gid = |t: &str| json!({"id": api::graphql::ids::global_id(t, uuid::Uuid::now_v7())});
    let some_key = api::graphql::ids::global_id("ApiKey", app.key_ids[&Role::Integrator]);
    let rid = || gid("SubjectRequest");
    let tid = || gid("RequestTask");
    let cid = || gid("CollectedRecord");
    let transition = |name: &str| {
        format!(
            "mutation($id: ID!) {{ {name}(input: {{requestId: $id, version: 1}}) {{ request {{ id }} }} }}"
        )
    };
    let reasoned = |name: &str| {
        format!(
            "mutation($id: ID!) {{ {name}(input: {{requestId: $id, version: 1, reason: \"r\"}}) {{ request {{ id }} }} }}"
        )
    };
    let by_id = |name: &str| {
        format!("mutation($id: ID!) {{ {name}(input: {{requestId: $id}}) {{ request {{ id }} }} }}")
    };
    let delete =
        |name: &str| format!("mutation($id: ID!) {{ {name}(input: {{id: $id}}) {{ deletedId }} }}");
    let q = |s: &str| s.to_owned();
    vec![
        ("Query.me", q("{ me { apiKeyName } }"), json!({})),
        (
            "Query.node",
            q("query($id: ID!) { node(id: $id) { id } }"),
            json!({"id": some_key}),
        ),
        (
            "Query.nodes",
            q("query($id: ID!) { nodes(ids: [$id]) { id } }"),
            json!({"id": some_key}),
        ),
        (
            "Query.organization",
            q("{ organization { name } }"),
            json!({}),
        ),
        (
            "Mutation.updateOrganization",
            q(
                "mutation { updateOrganization(input: {phone: \"+49 30 1234567\"}) { organization { phone } } }",
            ),
            json!({}),
        ),
        ("Query.apiKeys", q("{ apiKeys { totalCount } }"), json!({})),
        (
            "Query.identityProviders",
            q("{ identityProviders { issuer } }"),
            json!({}),
        ),
        ("Query.persons", q("{ persons { totalCount } }"), json!({})),
        (
            "Mutation.setIdentityProvider",
            q(
                "mutation { setIdentityProvider(input: {issuer: \"https://login.example.com\", audience: \"matrix\", rolesClaim: \"roles\", roleMap: []}) { identityProvider { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.removeIdentityProvider",
            q("mutation($id: ID!) { removeIdentityProvider(input: {id: $id}) { removedId } }"),
            gid("IdentityProvider"),
        ),
        (
            "Mutation.deactivatePerson",
            q("mutation($id: ID!) { deactivatePerson(input: {personId: $id}) { person { id } } }"),
            gid("Person"),
        ),
        (
            "Mutation.activatePerson",
            q("mutation($id: ID!) { activatePerson(input: {personId: $id}) { person { id } } }"),
            gid("Person"),
        ),
        (
            "Mutation.setPersonRoles",
            q(
                "mutation($id: ID!) { setPersonRoles(input: {personId: $id, extraRoles: [AGENT]}) { person { id } } }",
            ),
            gid("Person"),
        ),
        (
            "Mutation.createApiKey",
            q("mutation { createApiKey(input: {name: \"matrix\", roles: [AGENT]}) { secret } }"),
            json!({}),
        ),
        (
            "Mutation.revokeApiKey",
            q("mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }"),
            gid("ApiKey"),
        ),
        (
            "Query.policies",
            q("{ policies { totalCount } }"),
            json!({}),
        ),
        (
            "Query.webhookSubscriptions",
            q("{ webhookSubscriptions { id url } }"),
            json!({}),
        ),
        (
            "Mutation.createWebhookSubscription",
            q(
                "mutation { createWebhookSubscription(input: {url: \"https://crm.example.com/hook\", events: [REQUEST_CREATED]}) { subscription { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.updateWebhookSubscription",
            q(
                "mutation($id: ID!) { updateWebhookSubscription(input: {id: $id, active: false}) { subscription { id } } }",
            ),
            gid("WebhookSubscription"),
        ),
        (
            "Mutation.rotateWebhookSecret",
            q("mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) { secret } }"),
            gid("WebhookSubscription"),
        ),
        (
            "Mutation.deleteWebhookSubscription",
            q("mutation($id: ID!) { deleteWebhookSubscription(input: {id: $id}) { deletedId } }"),
            gid("WebhookSubscription"),
        ),
        (
            "Mutation.redeliverWebhook",
            q(
                "mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) { delivery { id } } }",
            ),
            gid("WebhookDelivery"),
        ),
        (
            "Mutation.grantRole",
            q(
                "mutation($id: ID!) { grantRole(input: {apiKeyId: $id, role: AGENT}) { apiKey { id } } }",
            ),
            json!({"id": some_key}),
        ),
        (
            "Mutation.revokeRole",
            q(
                "mutation($id: ID!) { revokeRole(input: {apiKeyId: $id, role: AGENT}) { apiKey { id } } }",
            ),
            json!({"id": some_key}),
        ),
        (
            "Mutation.addPolicy",
            q(
                "mutation { addPolicy(input: {role: STEWARD, object: AUDIT_EVENT, action: DELETE}) { policy { role } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.removePolicy",
            q(
                "mutation { removePolicy(input: {role: STEWARD, object: AUDIT_EVENT, action: DELETE}) { policy { role } } }",
            ),
            json!({}),
        ),
        (
            "Query.auditEvents",
            q("{ auditEvents { totalCount } }"),
            json!({}),
        ),
        (
            "Query.dataCategories",
            q("{ dataCategories { totalCount } }"),
            json!({}),
        ),
        (
            "Mutation.createDataCategory",
            q(
                "mutation { createDataCategory(input: {key: \"contact.matrix\", name: \"M\"}) { dataCategory { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.updateDataCategory",
            q(
                "mutation($id: ID!) { updateDataCategory(input: {id: $id, name: \"M\"}) { dataCategory { id } } }",
            ),
            gid("DataCategory"),
        ),
        (
            "Mutation.deleteDataCategory",
            delete("deleteDataCategory"),
            gid("DataCategory"),
        ),
        (
            "Query.subjectCategories",
            q("{ subjectCategories { totalCount } }"),
            json!({}),
        ),
        (
            "Mutation.createSubjectCategory",
            q(
                "mutation { createSubjectCategory(input: {key: \"matrix\", name: \"M\"}) { subjectCategory { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.updateSubjectCategory",
            q(
                "mutation($id: ID!) { updateSubjectCategory(input: {id: $id, name: \"M\"}) { subjectCategory { id } } }",
            ),
            gid("SubjectCategory"),
        ),
        (
            "Mutation.deleteSubjectCategory",
            delete("deleteSubjectCategory"),
            gid("SubjectCategory"),
        ),
        (
            "Query.purposes",
            q("{ purposes { totalCount } }"),
            json!({}),
        ),
        (
            "Mutation.createPurpose",
            q(
                "mutation { createPurpose(input: {name: \"matrix\", legalBasis: CONTRACT}) { purpose { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.updatePurpose",
            q(
                "mutation($id: ID!) { updatePurpose(input: {id: $id, name: \"M\"}) { purpose { id } } }",
            ),
            gid("Purpose"),
        ),
        (
            "Mutation.deletePurpose",
            delete("deletePurpose"),
            gid("Purpose"),
        ),
        (
            "Query.retentionPolicies",
            q("{ retentionPolicies { totalCount } }"),
            json!({}),
        ),
        (
            "Mutation.createRetentionPolicy",
            q(
                "mutation { createRetentionPolicy(input: {name: \"matrix\", duration: \"P1Y\", trigger: AFTER_COLLECTION, actionAtExpiry: DELETE}) { retentionPolicy { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.updateRetentionPolicy",
            q(
                "mutation($id: ID!) { updateRetentionPolicy(input: {id: $id, name: \"M\"}) { retentionPolicy { id } } }",
            ),
            gid("RetentionPolicy"),
        ),
        (
            "Mutation.deleteRetentionPolicy",
            delete("deleteRetentionPolicy"),
            gid("RetentionPolicy"),
        ),
        (
            "Query.recipients",
            q("{ recipients { totalCount } }"),
            json!({}),
        ),
        (
            "Mutation.createRecipient",
            q(
                "mutation { createRecipient(input: {name: \"matrix\", kind: PROCESSOR}) { recipient { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.updateRecipient",
            q(
                "mutation($id: ID!) { updateRecipient(input: {id: $id, name: \"M\"}) { recipient { id } } }",
            ),
            gid("Recipient"),
        ),
        (
            "Mutation.deleteRecipient",
            delete("deleteRecipient"),
            gid("Recipient"),
        ),
        (
            "Mutation.createTransfer",
            q(
                "mutation($id: ID!) { createTransfer(input: {recipientId: $id, country: \"US\", safeguard: STANDARD_CONTRACTUAL_CLAUSES}) { transfer { id } } }",
            ),
            gid("Recipient"),
        ),
        (
            "Mutation.updateTransfer",
            q(
                "mutation($id: ID!) { updateTransfer(input: {id: $id, country: \"JP\"}) { transfer { id } } }",
            ),
            gid("Transfer"),
        ),
        (
            "Mutation.deleteTransfer",
            delete("deleteTransfer"),
            gid("Transfer"),
        ),
        (
            "Query.processingActivities",
            q("{ processingActivities { totalCount } }"),
            json!({}),
        ),
        (
            "Mutation.createProcessingActivity",
            q(
                "mutation { createProcessingActivity(input: {name: \"matrix\"}) { processingActivity { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.updateProcessingActivity",
            q(
                "mutation($id: ID!) { updateProcessingActivity(input: {id: $id, name: \"M\"}) { processingActivity { id } } }",
            ),
            gid("ProcessingActivity"),
        ),
        (
            "Mutation.deleteProcessingActivity",
            delete("deleteProcessingActivity"),
            gid("ProcessingActivity"),
        ),
        (
            "Query.registerFindings",
            q("{ registerFindings { totalCount } }"),
            json!({}),
        ),
        (
            "Mutation.importRegister",
            q("mutation { importRegister(input: {document: {format: \"x\"}}) { purposes } }"),
            json!({}),
        ),
        (
            "Query.dataSources",
            q("{ dataSources { totalCount } }"),
            json!({}),
        ),
        (
            "Query.connectorSchemas",
            q("{ connectorSchemas { kind } }"),
            json!({}),
        ),
        (
            "Query.dataFields",
            q("{ dataFields { totalCount } }"),
            json!({}),
        ),
        (
            "Query.registerExport",
            q("{ registerExport(format: CSV) { url } }"),
            json!({}),
        ),
        (
            "Query.inspectSource",
            q("query($id: ID!) { inspectSource(id: $id) { connectionError } }"),
            gid("DataSource"),
        ),
        (
            "Mutation.createDataSource",
            q(
                "mutation { createDataSource(input: {name: \"matrix\", connectorKind: MANUAL, connectorConfig: {contact: \"x\"}}) { dataSource { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.updateDataSource",
            q(
                "mutation($id: ID!) { updateDataSource(input: {id: $id, name: \"M\"}) { dataSource { id } } }",
            ),
            gid("DataSource"),
        ),
        (
            "Mutation.deleteDataSource",
            delete("deleteDataSource"),
            gid("DataSource"),
        ),
        (
            "Mutation.suggestFieldMappings",
            q(
                "mutation($id: ID!) { suggestFieldMappings(input: {sourceId: $id, accept: [{location: \"a.b\"}]}) { dataFields { id } } }",
            ),
            gid("DataSource"),
        ),
        (
            "Mutation.createDataField",
            q(
                "mutation($id: ID!) { createDataField(input: {sourceId: $id, location: \"a.b\", erasureStrategy: SET_NULL}) { dataField { id } } }",
            ),
            gid("DataSource"),
        ),
        (
            "Mutation.updateDataField",
            q(
                "mutation($id: ID!) { updateDataField(input: {id: $id, location: \"a.c\"}) { dataField { id } } }",
            ),
            gid("DataField"),
        ),
        (
            "Mutation.deleteDataField",
            delete("deleteDataField"),
            gid("DataField"),
        ),
        (
            "Query.requests",
            q("{ requests { totalCount } }"),
            json!({}),
        ),
        (
            "Query.reviewQueue",
            q("{ reviewQueue { totalCount } }"),
            json!({}),
        ),
        (
            "Query.stalledRequests",
            q("{ stalledRequests { totalCount } }"),
            json!({}),
        ),
        (
            "Query.requestSettings",
            q("{ requestSettings { deadlineStart } }"),
            json!({}),
        ),
        (
            "Mutation.updateRequestSettings",
            q(
                "mutation { updateRequestSettings(input: {stallAfterHours: 72}) { settings { stallAfterHours } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.submitRequest",
            q(
                "mutation { submitRequest(input: {kind: ACCESS, channel: API, identities: [{kind: EMAIL, value: \"m@example.com\"}], isTest: true}) { request { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.startEmailVerification",
            transition("startEmailVerification"),
            rid(),
        ),
        (
            "Mutation.resendVerificationCode",
            by_id("resendVerificationCode"),
            rid(),
        ),
        (
            "Mutation.confirmEmailVerification",
            q(
                "mutation($id: ID!) { confirmEmailVerification(input: {requestId: $id, code: \"123456\"}) { request { id } } }",
            ),
            rid(),
        ),
        (
            "Mutation.verifyIdentity",
            q(
                "mutation($id: ID!) { verifyIdentity(input: {requestId: $id, version: 1, method: DOCUMENT_CHECK, evidence: \"ID card\"}) { request { id } } }",
            ),
            rid(),
        ),
        (
            "Mutation.failVerification",
            reasoned("failVerification"),
            rid(),
        ),
        (
            "Mutation.bulkVerify",
            q(
                "mutation($id: ID!) { bulkVerify(input: {requestIds: [$id], method: DOCUMENT_CHECK, evidence: \"ID\"}) { succeeded } }",
            ),
            rid(),
        ),
        (
            "Mutation.assignRequest",
            q(
                "mutation($id: ID!) { assignRequest(input: {requestId: $id, assigneeId: null}) { request { id } } }",
            ),
            rid(),
        ),
        (
            "Mutation.bulkAssign",
            q("mutation($id: ID!) { bulkAssign(input: {requestIds: [$id]}) { succeeded } }"),
            rid(),
        ),
        (
            "Mutation.addRequestComment",
            q(
                "mutation($id: ID!) { addRequestComment(input: {requestId: $id, text: \"t\"}) { request { id } } }",
            ),
            rid(),
        ),
        ("Mutation.extendDeadline", reasoned("extendDeadline"), rid()),
        ("Mutation.cancelRequest", transition("cancelRequest"), rid()),
        (
            "Mutation.bulkCancel",
            q("mutation($id: ID!) { bulkCancel(input: {requestIds: [$id]}) { succeeded } }"),
            rid(),
        ),
        (
            "Mutation.completeTask",
            q("mutation($id: ID!) { completeTask(input: {taskId: $id}) { task { id } } }"),
            tid(),
        ),
        (
            "Mutation.failTask",
            q(
                "mutation($id: ID!) { failTask(input: {taskId: $id, error: \"down\"}) { task { id } } }",
            ),
            tid(),
        ),
        (
            "Mutation.dismissLeakFinding",
            q(
                "mutation($id: ID!) { dismissLeakFinding(input: {findingId: $id, reason: \"own\"}) { finding { id } } }",
            ),
            gid("LeakFinding"),
        ),
        (
            "Mutation.resolveLeakFindings",
            q(
                "mutation($id: ID!) { resolveLeakFindings(input: {requestId: $id, findingIds: [], resolution: DISMISS, reason: \"own\"}) { request { id } } }",
            ),
            rid(),
        ),
        (
            "Mutation.retryTask",
            q("mutation($id: ID!) { retryTask(input: {taskId: $id}) { task { id } } }"),
            tid(),
        ),
        (
            "Mutation.uploadTaskResult",
            q(
                "mutation($id: ID!) { uploadTaskResult(input: {taskId: $id, format: JSON, content: \"[]\"}) { task { id } } }",
            ),
            tid(),
        ),
        (
            "Mutation.submitForReview",
            transition("submitForReview"),
            rid(),
        ),
        (
            "Mutation.resumeCollection",
            transition("resumeCollection"),
            rid(),
        ),
        ("Mutation.claimRequest", by_id("claimRequest"), rid()),
        ("Mutation.unclaimRequest", by_id("unclaimRequest"), rid()),
        (
            "Mutation.redactRecord",
            q(
                "mutation($id: ID!) { redactRecord(input: {recordId: $id, reason: \"other person\"}) { request { id } } }",
            ),
            cid(),
        ),
        (
            "Mutation.unredactRecord",
            q("mutation($id: ID!) { unredactRecord(input: {recordId: $id}) { request { id } } }"),
            cid(),
        ),
        (
            "Mutation.addReviewComment",
            q(
                "mutation($id: ID!) { addReviewComment(input: {requestId: $id, text: \"t\"}) { request { id } } }",
            ),
            rid(),
        ),
        (
            "Mutation.approveRequest",
            transition("approveRequest"),
            rid(),
        ),
        ("Mutation.requestChanges", reasoned("requestChanges"), rid()),
        (
            "Mutation.rejectRequest",
            q(
                "mutation($id: ID!) { rejectRequest(input: {requestId: $id, version: 1, ground: EXCESSIVE, reason: \"r\"}) { request { id } } }",
            ),
            rid(),
        ),
        (
            "Mutation.startExecution",
            transition("startExecution"),
            rid(),
        ),
        (
            "Mutation.dispatchRequest",
            q(
                "mutation($id: ID!) { dispatchRequest(input: {requestId: $id, version: 1, channel: PORTAL}) { request { id } } }",
            ),
            rid(),
        ),
        (
            "Mutation.revokeDownloadLink",
            q(
                "mutation($id: ID!) { revokeDownloadLink(input: {requestId: $id}) { proof { id } } }",
            ),
            rid(),
        ),
        (
            "Query.dispatchProof",
            q("query($id: ID!) { dispatchProof(requestId: $id) { digest } }"),
            rid(),
        ),
        (
            "Query.erasureReport",
            q("query($id: ID!) { erasureReport(requestId: $id) { openTasks lines { location } } }"),
            rid(),
        ),
        (
            "Query.recipientNotices",
            q("query($id: ID!) { recipientNotices(requestId: $id) { done } }"),
            rid(),
        ),
        (
            "Mutation.confirmRecipientNotice",
            q(
                "mutation($id: ID!) { confirmRecipientNotice(input: {noticeId: $id, note: \"per Brief\"}) { notice { done } } }",
            ),
            gid("RecipientNotice"),
        ),
        (
            "Query.suppressionCheck",
            q(
                "{ suppressionCheck(identities: [{kind: EMAIL, value: \"a@example.com\"}]) { suppressed } }",
            ),
            json!({}),
        ),
        ("Mutation.closeRequest", transition("closeRequest"), rid()),
        (
            "Mutation.proposeCorrection",
            q(
                "mutation($id: ID!) { proposeCorrection(input: {requestId: $id, fieldId: $id, recordKey: \"customers(id=1)\", value: \"v\"}) { correction { id } } }",
            ),
            rid(),
        ),
        (
            "Mutation.withdrawCorrection",
            q(
                "mutation($id: ID!) { withdrawCorrection(input: {correctionId: $id}) { request { id } } }",
            ),
            gid("Correction"),
        ),
        (
            "Mutation.liftRestriction",
            q(
                "mutation($id: ID!) { liftRestriction(input: {requestId: $id, reason: \"geprüft\"}) { request { id } } }",
            ),
            rid(),
        ),
        (
            "Query.consents",
            q("{ consents(first: 1) { totalCount } }"),
            json!({}),
        ),
        (
            "Query.consentCheck",
            q(
                "query($id: ID!) { consentCheck(purposeId: $id, channel: EMAIL, identity: {kind: EMAIL, value: \"a@example.com\"}) { allowed } }",
            ),
            gid("Purpose"),
        ),
        (
            "Query.consentCheckBulk",
            q(
                "query($id: ID!) { consentCheckBulk(purposeId: $id, channel: EMAIL, identities: [\"a@example.com\"]) { allowed } }",
            ),
            gid("Purpose"),
        ),
        (
            "Mutation.recordConsent",
            q(
                "mutation($id: ID!) { recordConsent(input: {purposeId: $id, channel: EMAIL, identity: {kind: EMAIL, value: \"a@example.com\"}, state: GRANTED, evidence: {source: \"form\"}}) { consent { id } } }",
            ),
            gid("Purpose"),
        ),
        (
            "Mutation.requestConsent",
            q(
                "mutation($id: ID!) { requestConsent(input: {purposeId: $id, email: \"a@example.com\", evidence: {source: \"form\"}}) { consent { id } } }",
            ),
            gid("Purpose"),
        ),
        (
            "Mutation.confirmConsent",
            q(
                "mutation { confirmConsent(input: {token: \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}) { consent { id } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.withdrawConsent",
            q(
                "mutation($id: ID!) { withdrawConsent(input: {purposeId: $id, channel: EMAIL, identity: {kind: EMAIL, value: \"a@example.com\"}, evidence: {source: \"form\"}}) { consent { id } } }",
            ),
            gid("Purpose"),
        ),
        (
            "Mutation.importConsents",
            q(
                "mutation { importConsents(input: {csv: \"identity,purpose,channel,state\\na@example.com,Nope,EMAIL,GRANTED\\n\", dryRun: true}) { rows } }",
            ),
            json!({}),
        ),
        (
            "Query.retentionRuns",
            q("{ retentionRuns(first: 1) { totalCount } }"),
            json!({}),
        ),
        (
            "Mutation.runRetentionSweep",
            q("mutation { runRetentionSweep(input: {dryRun: true}) { run { id } } }"),
            json!({}),
        ),
        (
            "Mutation.setRetentionTriggerFields",
            q(
                "mutation($id: ID!) { setRetentionTriggerFields(input: {policyId: $id, fieldIds: []}) { retentionPolicy { id } } }",
            ),
            gid("RetentionPolicy"),
        ),
        (
            "Query.answerPreview",
            q("query($id: ID!) { answerPreview(requestId: $id) { letterText } }"),
            rid(),
        ),
        (
            "Query.letterTemplates",
            q("{ letterTemplates { language format isCustom } }"),
            json!({}),
        ),
        (
            "Mutation.setLetterTemplate",
            q(
                "mutation { setLetterTemplate(input: {language: EN, format: TEXT, body: \"Dear {{ controller.name }}\"}) { template { isCustom } } }",
            ),
            json!({}),
        ),
        (
            "Mutation.resetLetterTemplate",
            q(
                "mutation { resetLetterTemplate(input: {language: EN, format: TEXT}) { template { isCustom } } }",
            ),
            json!({}),
        ),
    ]
}

/// The root fields of `type_name` in the served schema, as `Type.field`.
async fn root_fields(type_name: &str) -> BTreeSet<String> {
    let schema = api::build_schema(Default::default());
    let resp = schema
        .execute(format!(
            "{{ __type(name: \"{type_name}\") {{ fields {{ name }} }} }}"
        ))
        .await;
    assert!(resp.errors.is_empty(), "{:?}", resp.errors);
    let data = resp.data.into_json().unwrap();
    data["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{type_name}.{}", f["name"].as_str().unwrap()))
        .collect()
}

/// The table names every root field of the schema, and nothing else, once.
#[tokio::test]
async fn the_expectations_cover_every_root_field() {
    let mut schema = BTreeSet::new();
    for root in ["Query", "Mutation", "Subscription"] {
        schema.extend(root_fields(root).await);
    }
    let table: BTreeSet<String> = EXPECTED.iter().map(|(op, _)| (*op).to_owned()).collect();
    assert_eq!(table.len(), EXPECTED.len(), "an operation is listed twice");
    let missing: Vec<_> = schema.difference(&table).collect();
    assert!(
        missing.is_empty(),
        "root fields without a row in role_matrix::EXPECTED (decide who may call them): {missing:?}"
    );
    let stale: Vec<_> = table.difference(&schema).collect();
    assert!(
        stale.is_empty(),
        "rows for fields the schema lacks: {stale:?}"
    );
}

/// The `extensions.code` of a subscription's error message, if it is one.
fn subscription_error(msg: &Value) -> Option<&str> {
    msg["payload"][0]["extensions"]["code"]
        .as_str()
        .or(msg["payload"]["errors"][0]["extensions"]["code"].as_str())
}

/// A request IN_REVIEW, moved there over HTTP by the admin (the org has no sources,
/// so verification creates no tasks).
pub(crate) async fn request_in_review(app: &TestApp) -> String {
    request_in_review_as(app, app.key(Role::Admin)).await
}

/// Like [`request_in_review`], every step taken with `admin` (an API key or a
/// person's token).
pub(crate) async fn request_in_review_as(app: &TestApp, admin: &str) -> String {
    let data = app
        .gql_ok(
            admin,
            "mutation { submitRequest(input: {kind: ACCESS, channel: API, identities: [{kind: EMAIL, value: \"queue@example.com\"}], isTest: true}) { request { id version } } }",
            json!({}),
        )
        .await;
    let id = data["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let version = data["submitRequest"]["request"]["version"].clone();
    let data = app
        .gql_ok(
            admin,
            "mutation($id: ID!, $v: Int!) { verifyIdentity(input: {requestId: $id, version: $v, method: DOCUMENT_CHECK, evidence: \"ID card\"}) { request { version } } }",
            json!({"id": id, "v": version}),
        )
        .await;
    let version = data["verifyIdentity"]["request"]["version"].clone();
    let data = app
        .gql_ok(
            admin,
            "mutation($id: ID!, $v: Int!) { submitForReview(input: {requestId: $id, version: $v}) { request { state } } }",
            json!({"id": id, "v": version}),
        )
        .await;
    assert_eq!(data["submitForReview"]["request"]["state"], "IN_REVIEW");
    id
}

/// Subscribes to every subscription as `role` and checks each is delivered or
/// refused as the table says. Allowed ones must deliver an event caused by the admin.
async fn check_subscriptions(app: &TestApp, role: Role, request_id: &str) -> usize {
    let subs = [
        (
            "Subscription.auditEventAdded",
            "subscription { auditEventAdded { seq } }".to_owned(),
        ),
        (
            "Subscription.reviewQueueChanged",
            "subscription { reviewQueueChanged { change } }".to_owned(),
        ),
        (
            "Subscription.requestEvents",
            format!(
                "subscription {{ requestEvents(requestId: \"{request_id}\") {{ entry {{ kind }} }} }}"
            ),
        ),
    ];
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {}", app.key(role))}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    for (op, query) in &subs {
        ws.subscribe(op, query).await;
    }
    let mut pending: HashSet<&str> = subs.iter().map(|(op, _)| *op).collect();
    // An admin comment on the queued request is an audit event, a queue update and a
    // request event at once; repeated in case a subscription was not set up yet.
    for _ in 0..10 {
        if pending.is_empty() {
            break;
        }
        if subs
            .iter()
            .any(|(op, _)| pending.contains(op) && expected(op, role))
        {
            app.gql_ok(
                app.key(Role::Admin),
                "mutation($id: ID!) { addRequestComment(input: {requestId: $id, text: \"tick\"}) { request { id } } }",
                json!({"id": request_id}),
            )
            .await;
        }
        while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_secs(2), ws.next()).await {
            let Some(op) = msg["id"].as_str() else {
                panic!("{role}: unexpected message {msg}");
            };
            if !pending.remove(op) {
                continue; // a second event of an allowed subscription
            }
            let refused = subscription_error(&msg) == Some("FORBIDDEN");
            if expected(op, role) {
                assert!(
                    msg["type"] == "next" && !refused,
                    "{role} on {op}: expected events, got {msg}"
                );
            } else {
                assert!(refused, "{role} on {op}: expected FORBIDDEN, got {msg}");
            }
            if pending.is_empty() {
                break;
            }
        }
    }
    assert!(pending.is_empty(), "{role}: no answer on {pending:?}");
    subs.len()
}

/// The sequence number of the newest audit entry.
async fn newest_audit_seq(app: &TestApp) -> i64 {
    audit_since(app, -1)
        .await
        .last()
        .map_or(0, |(seq, ..)| *seq)
}

/// The audit entries after `seq`, oldest first: (seq, operation, outcome).
async fn audit_since(app: &TestApp, seq: i64) -> Vec<(i64, String, String)> {
    let data = app
        .gql_ok(
            app.key(Role::Admin),
            "{ auditEvents(last: 50) { nodes { seq operation outcome } } }",
            json!({}),
        )
        .await;
    let mut entries: Vec<(i64, String, String)> = data["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["seq"].as_i64().unwrap(),
                n["operation"].as_str().unwrap().to_owned(),
                n["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .filter(|(s, ..)| *s > seq)
        .collect();
    entries.sort();
    if seq >= 0 {
        assert!(entries.len() < 50, "more entries than one call writes");
    }
    entries
}

/// Every role's key against every query, mutation and subscription, over HTTP and
/// WebSocket: allowed or FORBIDDEN exactly as [`EXPECTED`] says.
async fn every_role_may_do_what_its_description_says_and_nothing_else(app: TestApp) {
    let samples = samples(&app);
    let sampled: BTreeSet<&str> = samples.iter().map(|(op, ..)| *op).collect();
    let rows: BTreeSet<&str> = EXPECTED
        .iter()
        .map(|(op, _)| *op)
        .filter(|op| !op.starts_with("Subscription."))
        .collect();
    assert_eq!(sampled, rows, "one sample call per query and mutation row");
    let request_id = request_in_review(&app).await;
    let mut checked = 0;
    let mut mismatches = Vec::new();
    let mut audited = newest_audit_seq(&app).await;
    for role in COLUMNS {
        for (op, query, vars) in &samples {
            let body = app.gql(app.key(role), query, vars.clone()).await;
            // One name per action in the audit log, whether it succeeded, failed or
            // was denied: everything this call recorded carries its name.
            let name = op.strip_prefix("Mutation.").unwrap_or(op);
            for (seq, operation, outcome) in audit_since(&app, audited).await {
                audited = seq;
                if operation != name {
                    mismatches.push(format!(
                        "{role} on {op}: audited {outcome} as `{operation}`, not `{name}`"
                    ));
                }
            }
            let refused = error_code(&body) == Some("FORBIDDEN");
            if refused == expected(op, role) {
                mismatches.push(format!(
                    "{role} on {op}: expected {}, got {body}",
                    if expected(op, role) {
                        "allowed"
                    } else {
                        "FORBIDDEN"
                    }
                ));
            }
            checked += 1;
        }
        checked += check_subscriptions(&app, role, &request_id).await;
        // The subscription checks write (comments to make events) and are denied.
        audited = newest_audit_seq(&app).await;
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    assert_eq!(checked, COLUMNS.len() * EXPECTED.len());
}
e2e!(
    matrix,
    every_role_may_do_what_its_description_says_and_nothing_else
);
