//! API keys over HTTP: the secret works once created, revoked and unknown keys are
//! UNAUTHENTICATED, the last admin stays, bad input is VALIDATION with field paths,
//! and connections page correctly.

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e, error_code};

async fn created_keys_work_and_revoked_keys_are_refused(app: TestApp) {
    let admin = app.key(Role::Admin);
    let data = app
        .gql_ok(
            admin,
            "mutation { createApiKey(input: {name: \"  CRM sync  \", roles: [INTEGRATOR, INTEGRATOR]}) { secret apiKey { id name prefix roles revokedAt createdBy } } }",
            json!({}),
        )
        .await;
    let payload = &data["createApiKey"];
    let secret = payload["secret"].as_str().unwrap().to_owned();
    assert_eq!(payload["apiKey"]["name"], "CRM sync", "names are trimmed");
    assert_eq!(
        payload["apiKey"]["roles"],
        json!(["INTEGRATOR"]),
        "duplicate roles collapse"
    );
    assert!(secret.starts_with(&format!(
        "ak_{}_",
        payload["apiKey"]["prefix"].as_str().unwrap()
    )));
    assert_eq!(
        payload["apiKey"]["createdBy"],
        json!(api::graphql::ids::global_id(
            "ApiKey",
            app.key_ids[&Role::Admin]
        ))
    );
    let me = app
        .gql_ok(&secret, "{ me { apiKeyName roles } }", json!({}))
        .await;
    assert_eq!(
        me["me"],
        json!({"apiKeyName": "CRM sync", "roles": ["INTEGRATOR"]})
    );

    // The secret is never readable again.
    let listed = app
        .gql_ok(
            admin,
            "{ apiKeys(first: 100) { nodes { name prefix } } }",
            json!({}),
        )
        .await;
    assert!(!listed.to_string().contains(&secret[16..]));

    let id = payload["apiKey"]["id"].as_str().unwrap();
    let data = app
        .gql_ok(
            admin,
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revokedAt roles } } }",
            json!({"id": id}),
        )
        .await;
    assert!(data["revokeApiKey"]["apiKey"]["revokedAt"].is_string());
    let (status, body) = app
        .gql_status(Some(&secret), "{ me { apiKeyName } }", json!({}))
        .await;
    assert_eq!(status, 401);
    assert_code(&body, "UNAUTHENTICATED");
    let (status, body) = app
        .gql_status(
            Some("ak_unknownprefx_secret"),
            "{ me { apiKeyName } }",
            json!({}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (401, Some("UNAUTHENTICATED")));
    let (_, body) = app
        .gql_status(None, "{ me { apiKeyName } }", json!({}))
        .await;
    assert_code(&body, "UNAUTHENTICATED");
    // Revoked keys are listed only on request.
    let data = app
        .gql_ok(
            admin,
            "{ a: apiKeys { totalCount } b: apiKeys(includeRevoked: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["b"]["totalCount"].as_i64().unwrap(),
        data["a"]["totalCount"].as_i64().unwrap() + 1
    );
}
e2e!(lifecycle, created_keys_work_and_revoked_keys_are_refused);

async fn the_last_admin_key_cannot_be_revoked_or_demoted(app: TestApp) {
    let admin_id = api::graphql::ids::global_id("ApiKey", app.key_ids[&Role::Admin]);
    let admin = app.key(Role::Admin);
    // The harness org has two admins: "initial admin" and "test admin". Remove the first.
    let keys = app
        .gql_ok(
            admin,
            "{ apiKeys(first: 100) { nodes { id name } } }",
            json!({}),
        )
        .await;
    let initial = keys["apiKeys"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["name"] == "initial admin")
        .unwrap()["id"]
        .clone();
    app.gql_ok(
        admin,
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
        json!({"id": initial}),
    )
    .await;
    let body = app
        .gql(
            admin,
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
            json!({"id": admin_id}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    let body = app.gql(admin, "mutation($id: ID!) { revokeRole(input: {apiKeyId: $id, role: ADMIN}) { apiKey { id } } }", json!({"id": admin_id})).await;
    assert_code(&body, "CONFLICT");
    // Still an admin, nothing half-done.
    app.gql_ok(admin, "{ apiKeys { totalCount } }", json!({}))
        .await;
}
e2e!(last_admin, the_last_admin_key_cannot_be_revoked_or_demoted);

async fn bad_input_gets_coded_errors_with_field_paths(app: TestApp) {
    let admin = app.key(Role::Admin);
    let cases: &[(&str, serde_json::Value, &str, &str)] = &[
        (
            "mutation($n: String!) { createApiKey(input: {name: $n, roles: [AGENT]}) { secret } }",
            json!({"n": "   "}),
            "VALIDATION",
            "empty name",
        ),
        (
            "mutation($n: String!) { createApiKey(input: {name: $n, roles: [AGENT]}) { secret } }",
            json!({"n": "x".repeat(201)}),
            "VALIDATION",
            "name too long",
        ),
        (
            "mutation($n: String!) { createApiKey(input: {name: $n, roles: [AGENT]}) { secret } }",
            json!({"n": "a\u{0007}b"}),
            "VALIDATION",
            "control character",
        ),
        (
            "mutation { createApiKey(input: {name: \"x\", roles: []}) { secret } }",
            json!({}),
            "VALIDATION",
            "no role",
        ),
        (
            "mutation { revokeApiKey(input: {id: \"not-an-id\"}) { apiKey { id } } }",
            json!({}),
            "VALIDATION",
            "malformed id",
        ),
        (
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
            json!({"id": api::graphql::ids::global_id("AuditEvent", uuid::Uuid::now_v7())}),
            "VALIDATION",
            "id of the wrong type",
        ),
        (
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
            json!({"id": api::graphql::ids::global_id("ApiKey", uuid::Uuid::now_v7())}),
            "NOT_FOUND",
            "unknown id",
        ),
        (
            "mutation($id: ID!) { grantRole(input: {apiKeyId: $id, role: ADMIN}) { apiKey { id } } }",
            json!({"id": api::graphql::ids::global_id("ApiKey", app.key_ids[&Role::Admin])}),
            "CONFLICT",
            "role held already",
        ),
        (
            "mutation($id: ID!) { revokeRole(input: {apiKeyId: $id, role: DPO}) { apiKey { id } } }",
            json!({"id": api::graphql::ids::global_id("ApiKey", app.key_ids[&Role::Admin])}),
            "CONFLICT",
            "role not held",
        ),
        (
            "{ apiKeys(first: 101) { totalCount } }",
            json!({}),
            "VALIDATION",
            "page too large",
        ),
        (
            "{ apiKeys(first: -1) { totalCount } }",
            json!({}),
            "VALIDATION",
            "negative page",
        ),
        (
            "{ apiKeys(first: 1, last: 1) { totalCount } }",
            json!({}),
            "VALIDATION",
            "first and last",
        ),
        (
            "{ apiKeys(after: \"garbage\") { totalCount } }",
            json!({}),
            "VALIDATION",
            "bad cursor",
        ),
        (
            "{ nodes(ids: []) { id } nope }",
            json!({}),
            "VALIDATION",
            "unknown field",
        ),
        (
            "{ apiKeys(first: \"x\") { totalCount } }",
            json!({}),
            "VALIDATION",
            "wrong argument type",
        ),
        ("{ me { ", json!({}), "VALIDATION", "syntax error"),
    ];
    for (query, vars, code, why) in cases {
        let body = app.gql(admin, query, vars.clone()).await;
        assert_eq!(error_code(&body), Some(*code), "{why}: {body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{why}: a message"
        );
    }
    let body = app
        .gql(
            admin,
            "mutation { createApiKey(input: {name: \" \", roles: []}) { secret } }",
            json!({}),
        )
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["fields"],
        json!([{"path": ["input", "name"], "message": "must not be empty"}, {"path": ["input", "roles"], "message": "grant at least one role"}])
    );
    // Nothing was written by any of the failures.
    let data = app
        .gql_ok(
            admin,
            "{ apiKeys(includeRevoked: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["apiKeys"]["totalCount"],
        (workflow::Role::ALL.len() + 1) as i64
    );
}
e2e!(bad_input, bad_input_gets_coded_errors_with_field_paths);

async fn connections_page_forward_and_backward(app: TestApp) {
    let admin = app.key(Role::Admin);
    let all = app
        .gql_ok(
            admin,
            "{ apiKeys(first: 100) { totalCount nodes { name } } }",
            json!({}),
        )
        .await;
    let names: Vec<String> = all["apiKeys"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect();
    let total = all["apiKeys"]["totalCount"].as_i64().unwrap() as usize;
    assert_eq!(names.len(), total);
    let q = "query($f: Int, $a: String, $l: Int, $b: String) { apiKeys(first: $f, after: $a, last: $l, before: $b) { totalCount edges { cursor node { name } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }";
    // Forward in pages of 3.
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let page = app.gql_ok(admin, q, json!({"f": 3, "a": after})).await["apiKeys"].clone();
        assert_eq!(page["totalCount"].as_i64().unwrap() as usize, total);
        for e in page["edges"].as_array().unwrap() {
            seen.push(e["node"]["name"].as_str().unwrap().to_owned());
        }
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, names);
    // Backward in pages of 3.
    let mut seen_back = Vec::new();
    let mut before = serde_json::Value::Null;
    loop {
        let page = app.gql_ok(admin, q, json!({"l": 3, "b": before})).await["apiKeys"].clone();
        let mut chunk: Vec<String> = page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["name"].as_str().unwrap().to_owned())
            .collect();
        chunk.extend(seen_back);
        seen_back = chunk;
        assert_eq!(page["pageInfo"]["hasNextPage"], !before.is_null());
        if page["pageInfo"]["hasPreviousPage"] == false {
            break;
        }
        before = page["pageInfo"]["startCursor"].clone();
    }
    assert_eq!(seen_back, names);
}
e2e!(paging, connections_page_forward_and_backward);
