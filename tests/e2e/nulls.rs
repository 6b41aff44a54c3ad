//! Field errors follow GraphQL's null propagation, and every error carries its path.

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, e2e};

async fn submit(app: &TestApp) -> String {
    app.gql_ok(
        app.key(Role::Integrator),
        r#"mutation { submitRequest(input: {kind: ACCESS, channel: WEB_FORM, identities: [{kind: EMAIL, value: "null@example.com"}]}) { request { id } } }"#,
        json!({}),
    )
    .await["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_denied_non_null_field_nulls_its_nearest_nullable_ancestor(app: TestApp) {
    let id = submit(&app).await;
    // `records: [CollectedRecord!]!` needs request:read_data, which integrators lack.
    // The entry of `nodes: [Node]!` is nullable: it becomes null, the list stays.
    let body = app
        .gql(
            app.key(Role::Integrator),
            "query($ids: [ID!]!) { nodes(ids: $ids) { ... on SubjectRequest { id records { id } } } }",
            json!({"ids": [id, "not-an-id"]}),
        )
        .await;
    assert_eq!(body["data"], json!({"nodes": [null, null]}), "{body:#}");
    let errors = body["errors"].as_array().unwrap();
    let by_path = |path: serde_json::Value| {
        errors
            .iter()
            .find(|e| e["path"] == path)
            .unwrap_or_else(|| panic!("no error at {path}: {body:#}"))
    };
    assert_eq!(
        by_path(json!(["nodes", 0, "records"]))["extensions"]["code"],
        "FORBIDDEN"
    );
    assert_eq!(
        by_path(json!(["nodes", 1]))["extensions"]["code"],
        "VALIDATION"
    );
    // `node: Node!` is not nullable: the null reaches `data`, the error is reported once.
    let body = app
        .gql(
            app.key(Role::Integrator),
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { id records { id } } } me { apiKeyName } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(body["data"], json!(null), "{body:#}");
    assert_eq!(body["errors"].as_array().unwrap().len(), 1, "{body:#}");
    assert_eq!(body["errors"][0]["path"], json!(["node", "records"]));
    // Where the caller may read everything, nothing changes.
    let body = app
        .gql_ok(
            app.key(Role::Reviewer),
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { id records { id } } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(body["node"]["records"], json!([]));
}
e2e!(
    null_propagation,
    a_denied_non_null_field_nulls_its_nearest_nullable_ancestor
);
