//! The role × operation matrix: every root field of the schema, called with every
//! role's key, is allowed or denied exactly as the shipped policy file says.

use std::collections::HashSet;

use serde_json::{Value, json};
use workflow::Role;
use workflow::authz::{DEFAULT_POLICY, parse_policy};

use crate::common::{TestApp, e2e, error_code};
use api::permissions::{Rule, rule_for};

/// One sample operation per root field. Inputs are valid where cheap, so an allowed
/// call succeeds or fails for reasons other than authorization.
fn operations(app: &TestApp) -> Vec<(&'static str, &'static str, String, Value)> {
    let some_key = api::graphql::ids::global_id("ApiKey", app.key_ids[&Role::Integrator]);
    let rid =
        || json!({"id": api::graphql::ids::global_id("SubjectRequest", uuid::Uuid::now_v7())});
    let tid = || json!({"id": api::graphql::ids::global_id("RequestTask", uuid::Uuid::now_v7())});
    let cid =
        || json!({"id": api::graphql::ids::global_id("CollectedRecord", uuid::Uuid::now_v7())});
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
    vec![
        ("Query", "requests", "{ requests { totalCount } }".into(), json!({})),
        ("Query", "reviewQueue", "{ reviewQueue { totalCount } }".into(), json!({})),
        ("Query", "stalledRequests", "{ stalledRequests { totalCount } }".into(), json!({})),
        ("Query", "requestSettings", "{ requestSettings { deadlineStart } }".into(), json!({})),
        ("Mutation", "submitRequest", "mutation { submitRequest(input: {kind: ACCESS, channel: API, identities: [{kind: EMAIL, value: \"m@example.com\"}], isTest: true}) { request { id } } }".into(), json!({})),
        ("Mutation", "startEmailVerification", transition("startEmailVerification"), rid()),
        ("Mutation", "resendVerificationCode", by_id("resendVerificationCode"), rid()),
        ("Mutation", "confirmEmailVerification", "mutation($id: ID!) { confirmEmailVerification(input: {requestId: $id, code: \"123456\"}) { request { id } } }".into(), rid()),
        ("Mutation", "verifyIdentity", "mutation($id: ID!) { verifyIdentity(input: {requestId: $id, version: 1, method: DOCUMENT_CHECK, evidence: \"ID card\"}) { request { id } } }".into(), rid()),
        ("Mutation", "failVerification", reasoned("failVerification"), rid()),
        ("Mutation", "completeTask", "mutation($id: ID!) { completeTask(input: {taskId: $id}) { task { id } } }".into(), tid()),
        ("Mutation", "failTask", "mutation($id: ID!) { failTask(input: {taskId: $id, error: \"down\"}) { task { id } } }".into(), tid()),
        ("Mutation", "submitForReview", transition("submitForReview"), rid()),
        ("Mutation", "resumeCollection", transition("resumeCollection"), rid()),
        ("Mutation", "claimRequest", by_id("claimRequest"), rid()),
        ("Mutation", "unclaimRequest", by_id("unclaimRequest"), rid()),
        ("Mutation", "approveRequest", transition("approveRequest"), rid()),
        ("Mutation", "requestChanges", reasoned("requestChanges"), rid()),
        ("Mutation", "rejectRequest", "mutation($id: ID!) { rejectRequest(input: {requestId: $id, version: 1, ground: EXCESSIVE, reason: \"r\"}) { request { id } } }".into(), rid()),
        ("Mutation", "addReviewComment", "mutation($id: ID!) { addReviewComment(input: {requestId: $id, text: \"t\"}) { request { id } } }".into(), rid()),
        ("Mutation", "addRequestComment", "mutation($id: ID!) { addRequestComment(input: {requestId: $id, text: \"t\"}) { request { id } } }".into(), rid()),
        ("Mutation", "redactRecord", "mutation($id: ID!) { redactRecord(input: {recordId: $id, reason: \"other person\"}) { request { id } } }".into(), cid()),
        ("Mutation", "unredactRecord", "mutation($id: ID!) { unredactRecord(input: {recordId: $id}) { request { id } } }".into(), cid()),
        ("Mutation", "startExecution", transition("startExecution"), rid()),
        ("Mutation", "dispatchRequest", transition("dispatchRequest"), rid()),
        ("Mutation", "closeRequest", transition("closeRequest"), rid()),
        ("Mutation", "cancelRequest", transition("cancelRequest"), rid()),
        ("Mutation", "assignRequest", "mutation($id: ID!) { assignRequest(input: {requestId: $id, assigneeId: null}) { request { id } } }".into(), rid()),
        ("Mutation", "extendDeadline", reasoned("extendDeadline"), rid()),
        ("Mutation", "bulkVerify", "mutation($id: ID!) { bulkVerify(input: {requestIds: [$id], method: DOCUMENT_CHECK, evidence: \"ID\"}) { succeeded } }".into(), rid()),
        ("Mutation", "bulkAssign", "mutation($id: ID!) { bulkAssign(input: {requestIds: [$id]}) { succeeded } }".into(), rid()),
        ("Mutation", "bulkCancel", "mutation($id: ID!) { bulkCancel(input: {requestIds: [$id]}) { succeeded } }".into(), rid()),
        ("Mutation", "updateRequestSettings", "mutation { updateRequestSettings(input: {stallAfterHours: 72}) { settings { stallAfterHours } } }".into(), json!({})),
        ("Query", "me", "{ me { apiKeyName } }".into(), json!({})),
        ("Query", "node", "query($id: ID!) { node(id: $id) { id } }".into(), json!({"id": some_key})),
        ("Query", "nodes", "query($id: ID!) { nodes(ids: [$id]) { id } }".into(), json!({"id": some_key})),
        ("Query", "organization", "{ organization { name } }".into(), json!({})),
        ("Query", "apiKeys", "{ apiKeys { totalCount } }".into(), json!({})),
        ("Query", "policies", "{ policies { totalCount } }".into(), json!({})),
        ("Query", "auditEvents", "{ auditEvents { totalCount } }".into(), json!({})),
        ("Query", "purposes", "{ purposes { totalCount } }".into(), json!({})),
        ("Query", "retentionPolicies", "{ retentionPolicies { totalCount } }".into(), json!({})),
        ("Mutation", "createPurpose", "mutation { createPurpose(input: {name: \"matrix\", legalBasis: CONTRACT}) { purpose { id } } }".into(), json!({})),
        ("Mutation", "updatePurpose", "mutation($id: ID!) { updatePurpose(input: {id: $id, name: \"M\"}) { purpose { id } } }".into(), json!({"id": api::graphql::ids::global_id("Purpose", uuid::Uuid::now_v7())})),
        ("Mutation", "deletePurpose", "mutation($id: ID!) { deletePurpose(input: {id: $id}) { deletedId } }".into(), json!({"id": api::graphql::ids::global_id("Purpose", uuid::Uuid::now_v7())})),
        ("Mutation", "createRetentionPolicy", "mutation { createRetentionPolicy(input: {name: \"matrix\", duration: \"P1Y\", trigger: AFTER_COLLECTION, actionAtExpiry: DELETE}) { retentionPolicy { id } } }".into(), json!({})),
        ("Mutation", "updateRetentionPolicy", "mutation($id: ID!) { updateRetentionPolicy(input: {id: $id, name: \"M\"}) { retentionPolicy { id } } }".into(), json!({"id": api::graphql::ids::global_id("RetentionPolicy", uuid::Uuid::now_v7())})),
        ("Mutation", "deleteRetentionPolicy", "mutation($id: ID!) { deleteRetentionPolicy(input: {id: $id}) { deletedId } }".into(), json!({"id": api::graphql::ids::global_id("RetentionPolicy", uuid::Uuid::now_v7())})),
        ("Query", "recipients", "{ recipients { totalCount } }".into(), json!({})),
        ("Mutation", "createRecipient", "mutation { createRecipient(input: {name: \"matrix\", kind: PROCESSOR}) { recipient { id } } }".into(), json!({})),
        ("Mutation", "updateRecipient", "mutation($id: ID!) { updateRecipient(input: {id: $id, name: \"M\"}) { recipient { id } } }".into(), json!({"id": api::graphql::ids::global_id("Recipient", uuid::Uuid::now_v7())})),
        ("Mutation", "deleteRecipient", "mutation($id: ID!) { deleteRecipient(input: {id: $id}) { deletedId } }".into(), json!({"id": api::graphql::ids::global_id("Recipient", uuid::Uuid::now_v7())})),
        ("Mutation", "createTransfer", "mutation($id: ID!) { createTransfer(input: {recipientId: $id, country: \"US\", safeguard: STANDARD_CONTRACTUAL_CLAUSES}) { transfer { id } } }".into(), json!({"id": api::graphql::ids::global_id("Recipient", uuid::Uuid::now_v7())})),
        ("Mutation", "updateTransfer", "mutation($id: ID!) { updateTransfer(input: {id: $id, country: \"JP\"}) { transfer { id } } }".into(), json!({"id": api::graphql::ids::global_id("Transfer", uuid::Uuid::now_v7())})),
        ("Mutation", "deleteTransfer", "mutation($id: ID!) { deleteTransfer(input: {id: $id}) { deletedId } }".into(), json!({"id": api::graphql::ids::global_id("Transfer", uuid::Uuid::now_v7())})),
        ("Query", "processingActivities", "{ processingActivities { totalCount } }".into(), json!({})),
        ("Mutation", "createProcessingActivity", "mutation { createProcessingActivity(input: {name: \"matrix\"}) { processingActivity { id } } }".into(), json!({})),
        ("Mutation", "updateProcessingActivity", "mutation($id: ID!) { updateProcessingActivity(input: {id: $id, name: \"M\"}) { processingActivity { id } } }".into(), json!({"id": api::graphql::ids::global_id("ProcessingActivity", uuid::Uuid::now_v7())})),
        ("Mutation", "deleteProcessingActivity", "mutation($id: ID!) { deleteProcessingActivity(input: {id: $id}) { deletedId } }".into(), json!({"id": api::graphql::ids::global_id("ProcessingActivity", uuid::Uuid::now_v7())})),
        ("Query", "dataSources", "{ dataSources { totalCount } }".into(), json!({})),
        ("Query", "connectorSchemas", "{ connectorSchemas { kind } }".into(), json!({})),
        ("Mutation", "createDataSource", "mutation { createDataSource(input: {name: \"matrix\", connectorKind: MANUAL, connectorConfig: {contact: \"x\"}}) { dataSource { id } } }".into(), json!({})),
        ("Mutation", "updateDataSource", "mutation($id: ID!) { updateDataSource(input: {id: $id, name: \"M\"}) { dataSource { id } } }".into(), json!({"id": api::graphql::ids::global_id("DataSource", uuid::Uuid::now_v7())})),
        ("Mutation", "deleteDataSource", "mutation($id: ID!) { deleteDataSource(input: {id: $id}) { deletedId } }".into(), json!({"id": api::graphql::ids::global_id("DataSource", uuid::Uuid::now_v7())})),
        ("Query", "registerFindings", "{ registerFindings { totalCount } }".into(), json!({})),
        ("Query", "dataFields", "{ dataFields { totalCount } }".into(), json!({})),
        ("Query", "registerExport", "{ registerExport(format: CSV) { url } }".into(), json!({})),
        ("Mutation", "importRegister", "mutation { importRegister(input: {document: {format: \"x\"}}) { purposes } }".into(), json!({})),
        ("Query", "inspectSource", "query($id: ID!) { inspectSource(id: $id) { connectionError } }".into(), json!({"id": api::graphql::ids::global_id("DataSource", uuid::Uuid::now_v7())})),
        ("Mutation", "suggestFieldMappings", "mutation($id: ID!) { suggestFieldMappings(input: {sourceId: $id, accept: [{location: \"a.b\"}]}) { dataFields { id } } }".into(), json!({"id": api::graphql::ids::global_id("DataSource", uuid::Uuid::now_v7())})),
        ("Mutation", "createDataField", "mutation($id: ID!) { createDataField(input: {sourceId: $id, location: \"a.b\", erasureStrategy: SET_NULL}) { dataField { id } } }".into(), json!({"id": api::graphql::ids::global_id("DataSource", uuid::Uuid::now_v7())})),
        ("Mutation", "updateDataField", "mutation($id: ID!) { updateDataField(input: {id: $id, location: \"a.c\"}) { dataField { id } } }".into(), json!({"id": api::graphql::ids::global_id("DataField", uuid::Uuid::now_v7())})),
        ("Mutation", "deleteDataField", "mutation($id: ID!) { deleteDataField(input: {id: $id}) { deletedId } }".into(), json!({"id": api::graphql::ids::global_id("DataField", uuid::Uuid::now_v7())})),
        ("Query", "dataCategories", "{ dataCategories { totalCount } }".into(), json!({})),
        ("Query", "subjectCategories", "{ subjectCategories { totalCount } }".into(), json!({})),
        (
            "Mutation",
            "createDataCategory",
            "mutation { createDataCategory(input: {key: \"contact.matrix\", name: \"M\"}) { dataCategory { id } } }".into(),
            json!({}),
        ),
        (
            "Mutation",
            "updateDataCategory",
            "mutation($id: ID!) { updateDataCategory(input: {id: $id, name: \"M\"}) { dataCategory { id } } }".into(),
            json!({"id": api::graphql::ids::global_id("DataCategory", uuid::Uuid::now_v7())}),
        ),
        (
            "Mutation",
            "deleteDataCategory",
            "mutation($id: ID!) { deleteDataCategory(input: {id: $id}) { deletedId } }".into(),
            json!({"id": api::graphql::ids::global_id("DataCategory", uuid::Uuid::now_v7())}),
        ),
        (
            "Mutation",
            "createSubjectCategory",
            "mutation { createSubjectCategory(input: {key: \"matrix\", name: \"M\"}) { subjectCategory { id } } }".into(),
            json!({}),
        ),
        (
            "Mutation",
            "updateSubjectCategory",
            "mutation($id: ID!) { updateSubjectCategory(input: {id: $id, name: \"M\"}) { subjectCategory { id } } }".into(),
            json!({"id": api::graphql::ids::global_id("SubjectCategory", uuid::Uuid::now_v7())}),
        ),
        (
            "Mutation",
            "deleteSubjectCategory",
            "mutation($id: ID!) { deleteSubjectCategory(input: {id: $id}) { deletedId } }".into(),
            json!({"id": api::graphql::ids::global_id("SubjectCategory", uuid::Uuid::now_v7())}),
        ),
        (
            "Mutation",
            "updateOrganization",
            "mutation { updateOrganization(input: {phone: \"+49 30 1234567\"}) { organization { phone } } }".into(),
            json!({}),
        ),
        (
            "Mutation",
            "createApiKey",
            "mutation { createApiKey(input: {name: \"matrix\", roles: [AGENT]}) { secret } }".into(),
            json!({}),
        ),
        (
            "Mutation",
            "revokeApiKey",
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }".into(),
            json!({"id": api::graphql::ids::global_id("ApiKey", uuid::Uuid::now_v7())}),
        ),
        (
            "Mutation",
            "grantRole",
            "mutation($id: ID!) { grantRole(input: {apiKeyId: $id, role: AGENT}) { apiKey { id } } }".into(),
            json!({"id": some_key}),
        ),
        (
            "Mutation",
            "revokeRole",
            "mutation($id: ID!) { revokeRole(input: {apiKeyId: $id, role: AGENT}) { apiKey { id } } }".into(),
            json!({"id": some_key}),
        ),
        (
            "Mutation",
            "addPolicy",
            "mutation { addPolicy(input: {role: STEWARD, object: AUDIT_EVENT, action: DELETE}) { policy { role } } }"
                .into(),
            json!({}),
        ),
        (
            "Mutation",
            "removePolicy",
            "mutation { removePolicy(input: {role: STEWARD, object: AUDIT_EVENT, action: DELETE}) { policy { role } } }"
                .into(),
            json!({}),
        ),
    ]
}

async fn root_fields(type_name: &str) -> HashSet<String> {
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
        .map(|f| f["name"].as_str().unwrap().to_owned())
        .collect()
}

fn policy_allows(role: Role, rule: Rule) -> bool {
    match rule {
        Rule::Public | Rule::Authenticated => true,
        Rule::Allow(object, action) => parse_policy(DEFAULT_POLICY)
            .unwrap()
            .iter()
            .any(|r| r.role == role && r.object == object && r.action == action),
    }
}

async fn every_root_field_is_allowed_or_denied_as_the_policy_says(app: TestApp) {
    let ops = operations(&app);
    for root in ["Query", "Mutation"] {
        let covered: HashSet<String> = ops
            .iter()
            .filter(|(t, ..)| *t == root)
            .map(|(_, f, ..)| (*f).to_owned())
            .collect();
        assert_eq!(
            covered,
            root_fields(root).await,
            "the matrix must cover every {root} field"
        );
    }
    let mut checked = 0;
    for role in Role::ALL {
        for (type_name, field, query, vars) in &ops {
            // `node`/`nodes` are open to any key but check the fetched object's own
            // read permission; the sample fetches an API key.
            let rule = match *field {
                "node" | "nodes" => Rule::Allow(workflow::Object::ApiKey, workflow::Action::Read),
                _ => rule_for(type_name, field).unwrap(),
            };
            let expected = policy_allows(*role, rule);
            let body = app.gql(app.key(*role), query, vars.clone()).await;
            let forbidden = error_code(&body) == Some("FORBIDDEN");
            assert_eq!(
                !forbidden,
                expected,
                "{role} on {type_name}.{field}: expected {}, got {body}",
                if expected { "allowed" } else { "FORBIDDEN" }
            );
            checked += 1;
        }
        // Subscriptions are authorized like queries.
        let sub_rule = rule_for("Subscription", "auditEventAdded").unwrap();
        let mut ws = app
            .ws_connect(json!({"Authorization": format!("Bearer {}", app.key(*role))}))
            .await;
        assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
        ws.subscribe("1", "subscription { auditEventAdded { seq } }")
            .await;
        if policy_allows(*role, sub_rule) {
            app.gql_ok(
                app.key(Role::Admin),
                "mutation { createApiKey(input: {name: \"tick\", roles: [AGENT]}) { secret } }",
                json!({}),
            )
            .await;
            let msg = ws.next().await.unwrap();
            assert_eq!(msg["type"], "next", "{role} should receive events: {msg}");
        } else {
            let msg = ws.next().await.unwrap();
            let code = msg["payload"][0]["extensions"]["code"]
                .as_str()
                .or(msg["payload"]["errors"][0]["extensions"]["code"].as_str());
            assert_eq!(
                code,
                Some("FORBIDDEN"),
                "{role} must be denied the subscription: {msg}"
            );
        }
        assert_eq!(
            root_fields("Subscription").await,
            HashSet::from(
                ["auditEventAdded", "reviewQueueChanged", "requestEvents"].map(str::to_owned)
            )
        );
    }
    assert_eq!(checked, Role::ALL.len() * ops.len());
}
e2e!(
    role_matrix,
    every_root_field_is_allowed_or_denied_as_the_policy_says
);

async fn policy_changes_apply_to_the_next_request_without_restart(app: TestApp) {
    let integrator = app.key(Role::Integrator);
    let q = "{ apiKeys { totalCount } }";
    assert_eq!(
        error_code(&app.gql(integrator, q, json!({})).await),
        Some("FORBIDDEN")
    );
    app.gql_ok(
        app.key(Role::Admin),
        "mutation { addPolicy(input: {role: INTEGRATOR, object: API_KEY, action: READ}) { policy { role object action } } }",
        json!({}),
    )
    .await;
    app.gql_ok(integrator, q, json!({})).await;
    app.gql_ok(
        app.key(Role::Admin),
        "mutation { removePolicy(input: {role: INTEGRATOR, object: API_KEY, action: READ}) { policy { role } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        error_code(&app.gql(integrator, q, json!({})).await),
        Some("FORBIDDEN")
    );

    // Granting a role works the same way.
    let id = api::graphql::ids::global_id("ApiKey", app.key_ids[&Role::Integrator]);
    let data = app
        .gql_ok(
            app.key(Role::Admin),
            "mutation($id: ID!) { grantRole(input: {apiKeyId: $id, role: AUDITOR}) { apiKey { roles } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(
        data["grantRole"]["apiKey"]["roles"],
        json!(["AUDITOR", "INTEGRATOR"])
    );
    app.gql_ok(integrator, q, json!({})).await;
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { revokeRole(input: {apiKeyId: $id, role: AUDITOR}) { apiKey { roles } } }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(
        error_code(&app.gql(integrator, q, json!({})).await),
        Some("FORBIDDEN")
    );
}
e2e!(
    policy_changes,
    policy_changes_apply_to_the_next_request_without_restart
);

async fn policy_editing_refuses_lockouts_duplicates_and_unknown_rules(app: TestApp) {
    let admin = app.key(Role::Admin);
    let body = app
        .gql(admin, "mutation { removePolicy(input: {role: ADMIN, object: POLICY, action: UPDATE}) { policy { role } } }", json!({}))
        .await;
    crate::common::assert_code(&body, "CONFLICT");
    let body = app
        .gql(admin, "mutation { addPolicy(input: {role: ADMIN, object: API_KEY, action: READ}) { policy { role } } }", json!({}))
        .await;
    crate::common::assert_code(&body, "CONFLICT");
    let body = app
        .gql(admin, "mutation { removePolicy(input: {role: AGENT, object: API_KEY, action: DELETE}) { policy { role } } }", json!({}))
        .await;
    crate::common::assert_code(&body, "NOT_FOUND");
    let body = app
        .gql(admin, "mutation { addPolicy(input: {role: NOBODY, object: API_KEY, action: READ}) { policy { role } } }", json!({}))
        .await;
    crate::common::assert_code(&body, "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("NOBODY"),
        "{body}"
    );
    // The policies listing reflects the shipped default.
    let data = app
        .gql_ok(
            admin,
            "{ policies(role: AUDITOR, first: 100) { totalCount nodes { object action } } }",
            json!({}),
        )
        .await;
    let expected = parse_policy(DEFAULT_POLICY)
        .unwrap()
        .iter()
        .filter(|r| r.role == Role::Auditor)
        .count();
    assert_eq!(data["policies"]["totalCount"], json!(expected));
}
e2e!(
    policy_editing,
    policy_editing_refuses_lockouts_duplicates_and_unknown_rules
);
