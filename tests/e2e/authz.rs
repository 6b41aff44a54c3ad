//! Editing permissions at run time: changes apply to the next request, lockouts and
//! duplicates are refused. (The role × operation matrix is in `role_matrix.rs`.)

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, e2e, error_code};

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
    let expected = workflow::access::authz::default_policy()
        .iter()
        .filter(|r| r.role == Role::Auditor)
        .count();
    assert_eq!(data["policies"]["totalCount"], json!(expected));
}
e2e!(
    policy_editing,
    policy_editing_refuses_lockouts_duplicates_and_unknown_rules
);

/// Issue 10 §8: an agent could complete and fail collection tasks (write what a
/// source holds); that is the steward's job. Agents hand the collected request to
/// review; the auditor, who reads everything, sees the review queue.
async fn tasks_are_the_stewards_and_the_queue_is_readable_by_auditors(app: TestApp) {
    let steward = app.key(Role::Steward);
    let agent = app.key(Role::Agent);
    let source = app
        .gql_ok(
            steward,
            "mutation { createDataSource(input: {name: \"CRM\", connectorKind: MANUAL, connectorConfig: {contact: \"crm@example.com\"}}) { dataSource { id } } }",
            json!({}),
        )
        .await["createDataSource"]["dataSource"]["id"]
        .clone();
    let field = app
        .gql_ok(
            steward,
            "mutation($s: ID!) { createDataField(input: {sourceId: $s, location: \"contacts.email\", erasureStrategy: DELETE_ROW, identifiesSubject: true, identityType: EMAIL}) { dataField { id } } }",
            json!({"s": source}),
        )
        .await["createDataField"]["dataField"]["id"]
        .clone();
    let r = app
        .gql_ok(
            app.key(Role::Integrator),
            "mutation { submitRequest(input: {kind: ACCESS, channel: API, identities: [{kind: EMAIL, value: \"erika@example.com\"}], isTest: true}) { request { id version } } }",
            json!({}),
        )
        .await["submitRequest"]["request"]
        .clone();
    let r = app
        .gql_ok(
            agent,
            "mutation($id: ID!, $v: Int!) { verifyIdentity(input: {requestId: $id, version: $v, method: DOCUMENT_CHECK, evidence: \"ID card\"}) { request { id version tasks { id kind } } } }",
            json!({"id": r["id"], "v": r["version"]}),
        )
        .await["verifyIdentity"]["request"]
        .clone();
    assert_eq!(r["tasks"][0]["kind"], "COLLECT", "{r}");
    let task = r["tasks"][0]["id"].clone();

    let complete = "mutation($t: ID!, $f: ID!) { completeTask(input: {taskId: $t, values: [{fieldId: $f, value: \"erika@example.com\"}]}) { task { state } request { version } } }";
    let fail = "mutation($t: ID!) { failTask(input: {taskId: $t, error: \"CRM down\"}) { task { state } } }";
    for (query, vars) in [
        (complete, json!({"t": task, "f": field})),
        (fail, json!({"t": task})),
    ] {
        let body = app.gql(agent, query, vars).await;
        crate::common::assert_code(&body, "FORBIDDEN");
    }
    let done = app
        .gql_ok(steward, complete, json!({"t": task, "f": field}))
        .await;
    assert_eq!(done["completeTask"]["task"]["state"], "DONE");
    // The steward does not hand over to review; the agent does.
    let submit = "mutation($id: ID!, $v: Int!) { submitForReview(input: {requestId: $id, version: $v}) { request { state } } }";
    let vars = json!({"id": r["id"], "v": done["completeTask"]["request"]["version"]});
    crate::common::assert_code(&app.gql(steward, submit, vars.clone()).await, "FORBIDDEN");
    let submitted = app.gql_ok(agent, submit, vars).await;
    assert_eq!(
        submitted["submitForReview"]["request"]["state"],
        "IN_REVIEW"
    );

    let queue = app
        .gql_ok(
            app.key(Role::Auditor),
            "{ reviewQueue { totalCount nodes { id records { value } } } }",
            json!({}),
        )
        .await;
    assert_eq!(queue["reviewQueue"]["totalCount"], 1);
    assert_eq!(
        queue["reviewQueue"]["nodes"][0]["records"][0]["value"],
        "erika@example.com"
    );
    // The denials are audited as attempts.
    let denied = app
        .gql_ok(
            app.key(Role::Auditor),
            "{ auditEvents(filter: {outcome: DENIED}) { nodes { operation actorName } } }",
            json!({}),
        )
        .await;
    let ops: Vec<&str> = denied["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["operation"].as_str())
        .collect();
    assert!(ops.contains(&"completeTask"), "{denied}");
    assert!(ops.contains(&"failTask"), "{denied}");
}
e2e!(
    task_roles,
    tasks_are_the_stewards_and_the_queue_is_readable_by_auditors
);

/// Organizations created under policy version 3 lose the grants version 4 withdrew
/// (once, audited) and get `submit`; a rule an admin added by hand stays. A server
/// already running with the old rules in memory applies the upgrade another process
/// made at once.
async fn policy_upgrade_withdraws_wrong_grants_and_running_servers_follow(app: TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let admin = app.key(Role::Admin);
    let agent_permissions = || async {
        app.gql_ok(
            app.key(Role::Agent),
            "{ me { permissions { object action } } }",
            json!({}),
        )
        .await["me"]["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["object"] == "REQUEST")
            .map(|p| p["action"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    // Back to what version 3 shipped, plus one rule of the admin's own.
    for (verb, role, action) in [
        ("add", "AGENT", "COLLECT"),
        ("add", "REVIEWER", "UPDATE"),
        ("remove", "ADMIN", "SUBMIT"),
        ("remove", "DPO", "SUBMIT"),
        ("remove", "AGENT", "SUBMIT"),
        ("add", "INTEGRATOR", "CANCEL"),
    ] {
        let m = format!(
            "mutation {{ {verb}Policy(input: {{role: {role}, object: REQUEST, action: {action}}}) {{ policy {{ role }} }} }}"
        );
        app.gql_ok(admin, &m, json!({})).await;
    }
    let conn = app.workflow.store().conn();
    conn.execute_raw(Statement::from_string(
        conn.get_database_backend(),
        "UPDATE organization SET policy_version = 3".to_owned(),
    ))
    .await
    .unwrap();
    let before = agent_permissions().await;
    assert!(before.contains(&"COLLECT".to_owned()), "{before:?}");

    // A second process (here: a second workflow on the same database) upgrades.
    let other = app.reopen().await.unwrap();
    let after = agent_permissions().await;
    assert!(!after.contains(&"COLLECT".to_owned()), "{after:?}");
    assert!(after.contains(&"SUBMIT".to_owned()), "{after:?}");
    let principal = workflow::Principal {
        key_id: app.key_ids[&Role::Admin],
        org_id: app.org_id,
        key_name: "t".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    let mut rules = Vec::new();
    let mut after = None;
    loop {
        let page = other
            .policies(
                &principal,
                None,
                &workflow::PageRequest {
                    first: Some(100),
                    after,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        after = page.items.last().map(|r| r.id);
        rules.extend(page.items);
        if !page.has_next_page {
            break;
        }
    }
    let has = |role: Role, action: workflow::Action| {
        rules
            .iter()
            .any(|r| r.role == role && r.object == workflow::Object::Request && r.action == action)
    };
    assert!(!has(Role::Agent, workflow::Action::Collect));
    assert!(!has(Role::Reviewer, workflow::Action::Update));
    assert!(has(Role::Dpo, workflow::Action::Submit));
    assert!(has(Role::Steward, workflow::Action::Collect));
    assert!(
        has(Role::Integrator, workflow::Action::Cancel),
        "hand-made rules stay"
    );
    let events = other
        .audit_events(
            &principal,
            &workflow::access::audit::AuditFilter {
                operation: Some("upgradeDefaultPolicy".into()),
                ..Default::default()
            },
            &workflow::PageRequest::<uuid::Uuid>::default(),
        )
        .await
        .unwrap();
    assert_eq!(events.total_count, 1);
    // Once: opening again changes nothing.
    app.reopen().await.unwrap();
    let org = other.organization(&principal).await.unwrap();
    assert_eq!(
        org.policy_version,
        workflow::access::authz::default_policy_version()
    );
    assert!(other.verify_audit_chain().await.unwrap().is_ok());
}
e2e!(
    policy_upgrade_v4,
    policy_upgrade_withdraws_wrong_grants_and_running_servers_follow
);
