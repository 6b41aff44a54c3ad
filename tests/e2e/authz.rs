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
    let expected = workflow::authz::default_policy()
        .iter()
        .filter(|r| r.role == Role::Auditor)
        .count();
    assert_eq!(data["policies"]["totalCount"], json!(expected));
}
e2e!(
    policy_editing,
    policy_editing_refuses_lockouts_duplicates_and_unknown_rules
);
