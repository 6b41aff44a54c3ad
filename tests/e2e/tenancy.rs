//! Multi-tenancy: a key of organization A never sees or touches B's rows. Every
//! query and mutation that takes an id answers NOT_FOUND (not FORBIDDEN, so existence
//! does not leak); every list shows only A's rows.

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, create_org, e2e};
use api::graphql::ids::global_id;

async fn a_key_of_one_organization_never_sees_or_touches_anothers_rows(app: TestApp) {
    let b = create_org(&app.workflow, "Other Org GmbH").await;
    let a_admin = app.key(Role::Admin);
    let b_admin = &b.keys[&Role::Admin];
    // Give B an audit event of its own to aim at.
    app.gql_ok(
        b_admin,
        "mutation { createApiKey(input: {name: \"b-only\", roles: [AGENT]}) { secret } }",
        json!({}),
    )
    .await;
    let b_events = app
        .gql_ok(
            b_admin,
            "{ auditEvents(last: 1) { nodes { id } } }",
            json!({}),
        )
        .await;
    let b_event = b_events["auditEvents"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let b_key = global_id("ApiKey", b.key_ids[&Role::Agent]);
    let b_org = global_id("Organization", b.org_id);

    // Queries by id.
    for id in [&b_key, &b_org, &async_graphql::ID(b_event.clone())] {
        let body = app
            .gql(
                a_admin,
                "query($id: ID!) { node(id: $id) { id } }",
                json!({"id": id}),
            )
            .await;
        assert_code(&body, "NOT_FOUND");
        let body = app
            .gql(
                a_admin,
                "query($id: ID!) { nodes(ids: [$id]) { id } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(body["data"]["nodes"], json!([null]), "{body}");
        assert_code(&body, "NOT_FOUND");
    }
    // Mutations by id.
    let mutations = [
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
        "mutation($id: ID!) { grantRole(input: {apiKeyId: $id, role: ADMIN}) { apiKey { id } } }",
        "mutation($id: ID!) { revokeRole(input: {apiKeyId: $id, role: AGENT}) { apiKey { id } } }",
    ];
    for m in mutations {
        let body = app.gql(a_admin, m, json!({"id": b_key})).await;
        assert_code(&body, "NOT_FOUND");
    }
    // Lists show only A's rows.
    let data = app
        .gql_ok(
            a_admin,
            "{ apiKeys(first: 100) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let names: Vec<&str> = data["apiKeys"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"b-only"), "{names:?}");
    let data = app
        .gql_ok(
            a_admin,
            "{ auditEvents(first: 100) { nodes { id } } }",
            json!({}),
        )
        .await;
    assert!(
        !data["auditEvents"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == b_event.as_str())
    );
    let data = app
        .gql_ok(
            a_admin,
            "query($id: ID!) { auditEvents(filter: {actorId: $id}) { totalCount } }",
            json!({"id": global_id("ApiKey", b.key_ids[&Role::Admin])}),
        )
        .await;
    assert_eq!(data["auditEvents"]["totalCount"], 0);
    let data = app
        .gql_ok(
            a_admin,
            "{ organization { id } me { organization { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["organization"]["id"],
        json!(global_id("Organization", app.org_id))
    );
    // Policy edits stay in A: B's integrator is unaffected by A's grant.
    app.gql_ok(a_admin, "mutation { addPolicy(input: {role: INTEGRATOR, object: AUDIT_EVENT, action: READ}) { policy { role } } }", json!({}))
        .await;
    let body = app
        .gql(
            &b.keys[&Role::Integrator],
            "{ auditEvents { totalCount } }",
            json!({}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    // B's key was not touched by any of the above.
    let data = app
        .gql_ok(
            b_admin,
            "query($id: ID!) { node(id: $id) { ... on ApiKey { roles revokedAt } } }",
            json!({"id": b_key}),
        )
        .await;
    assert_eq!(data["node"], json!({"roles": ["AGENT"], "revokedAt": null}));
}
e2e!(
    cross_tenant,
    a_key_of_one_organization_never_sees_or_touches_anothers_rows
);

/// Organizations created under an older default policy get the newer rules once at
/// startup: missing ones are added, ones an admin added by hand are not duplicated.
async fn default_policy_upgrades_add_only_missing_rules(app: TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let admin = app.key(Role::Admin);
    // An organization "from before": version 0 and one default rule missing.
    app.gql_ok(admin, "mutation { removePolicy(input: {role: DPO, object: API_KEY, action: READ}) { policy { role } } }", json!({}))
        .await;
    let conn = app.workflow.store().conn();
    conn.execute_raw(Statement::from_string(
        conn.get_database_backend(),
        "UPDATE organization SET policy_version = 0".to_owned(),
    ))
    .await
    .unwrap();
    let before = app
        .gql_ok(admin, "{ policies { totalCount } }", json!({}))
        .await["policies"]["totalCount"]
        .as_i64()
        .unwrap();
    // Re-open as a restart would.
    let reopened = app
        .reopen()
        .await
        .expect("upgrade must not fail on existing rules");
    let principal = workflow::Principal {
        key_id: app.key_ids[&Role::Admin],
        org_id: app.org_id,
        key_name: "t".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    let page = workflow::PageRequest {
        first: Some(100),
        ..Default::default()
    };
    let after = reopened.policies(&principal, None, &page).await.unwrap();
    assert_eq!(
        after.total_count as i64,
        before + 1,
        "exactly the missing rule is added"
    );
    let org = reopened.organization(&principal).await.unwrap();
    assert_eq!(
        org.policy_version,
        workflow::access::authz::default_policy_version()
    );
    let events = reopened
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
    assert!(reopened.verify_audit_chain().await.unwrap().is_ok());
}
e2e!(
    policy_upgrade,
    default_policy_upgrades_add_only_missing_rules
);
