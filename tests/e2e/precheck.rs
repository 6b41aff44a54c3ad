//! Queries whose field permissions are decided before they run (on the schema without
//! the per-field extension) answer exactly as the field-by-field pipeline does; what
//! cannot be decided in advance, or fails, runs field by field.

use api::graphql::Authorized::{self, InAdvance, PerField, Repeated};
use api::graphql::{Executor, RequestOrigin, loaders::Loaders};
use api::permissions::Session;
use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, e2e};

/// Runs `query` through the executor as the server does, and again on the full schema
/// alone; returns both responses and how the executor authorized it.
async fn both(
    app: &TestApp,
    role: Option<Role>,
    query: &str,
    vars: Value,
) -> (Value, Value, Authorized) {
    let principal = role.map(|role| workflow::Principal {
        key_id: app.key_ids[&role],
        org_id: app.org_id,
        key_name: format!("{role:?}"),
        kind: workflow::PrincipalKind::ApiKey,
    });
    let executor = Executor::new(Default::default());
    let request = || {
        async_graphql::Request::new(query)
            .variables(async_graphql::Variables::from_json(vars.clone()))
    };
    let session = || Session::for_request(app.workflow.clone(), principal.clone());
    let data = |request: async_graphql::Request| {
        request
            .data(Loaders::new(app.workflow.clone(), principal.clone(), true))
            .data(RequestOrigin::default())
    };
    let (response, authorized) = executor.execute(request(), session(), data).await;
    let full = executor
        .schema()
        .execute(data(request().data(session())))
        .await;
    (
        serde_json::to_value(response).unwrap(),
        serde_json::to_value(full).unwrap(),
        authorized,
    )
}

#[track_caller]
fn assert_same(run: (Value, Value, Authorized), expected: Authorized) -> Value {
    let (response, full, authorized) = run;
    assert_eq!(authorized, expected, "{response:#}");
    assert_eq!(
        response, full,
        "the executor's response differs from the full pipeline's"
    );
    response
}

async fn queries_decided_in_advance_answer_as_the_full_pipeline_does(app: TestApp) {
    let r = crate::activities::register(&app).await;
    app.gql_ok(
        app.key(Role::Dpo),
        "mutation($i: CreateProcessingActivityInput!) { createProcessingActivity(input: $i) { processingActivity { id } } }",
        json!({"i": {"name": "Shop orders", "status": "ACTIVE", "purposeIds": [r.contract, r.newsletter],
            "dataCategoryIds": [r.email], "subjectCategoryIds": [r.customers], "recipientIds": [r.payfast, r.parcel],
            "transferIds": [r.us_transfer], "sourceIds": [r.mailbox], "retentionPolicyId": r.tax}}),
    )
    .await;

    // A nested register page with aliases, fragments, __typename and a skipped field:
    // the auditor may read all of it.
    let page = "query Page($skip: Boolean!) { __typename page: processingActivities(first: 10) {
        totalCount nodes { ...Activity recipients { name transfers { country } } } }
        me { kind apiKeyName } }
        fragment Activity on ProcessingActivity { __typename id name
        purposes { name legalBasis } dataCategories { key } sources { name connectorKind }
        transfers { country safeguard } retentionPolicy { duration } ... on ProcessingActivity { status }
        owner @skip(if: $skip) }";
    let body = assert_same(
        both(&app, Some(Role::Auditor), page, json!({"skip": true})).await,
        InAdvance,
    );
    let node = &body["data"]["page"]["nodes"][0];
    assert_eq!(node["name"], "Shop orders", "{body:#}");
    assert_eq!(node["purposes"].as_array().unwrap().len(), 2);
    assert_eq!(node["transfers"][0]["country"], "US");
    assert!(node.get("owner").is_none(), "skipped: {body:#}");
    let id = node["id"].as_str().unwrap().to_owned();

    // Through the Node interface, narrowed by a type condition.
    let by_node = "query($id: ID!) { node(id: $id) { ... on ProcessingActivity { id name purposes { name } } } }";
    let body = assert_same(
        both(&app, Some(Role::Auditor), by_node, json!({"id": id})).await,
        InAdvance,
    );
    assert_eq!(body["data"]["node"]["name"], "Shop orders");
    // A field of the interface itself counts only under the type the ID names (as
    // Relay asks: `id` and `__typename` on `Node`).
    let on_interface =
        "query($id: ID!) { node(id: $id) { __typename id ... on ProcessingActivity { name } } }";
    let body = assert_same(
        both(&app, Some(Role::Auditor), on_interface, json!({"id": id})).await,
        InAdvance,
    );
    assert_eq!(body["data"]["node"]["name"], "Shop orders");
    assert_eq!(body["data"]["node"]["__typename"], "ProcessingActivity");
    // An ID that cannot be read leaves every type behind `Node`, some of which the
    // auditor may not read (webhook subscriptions): decided per field, same answer.
    let unread = "query($ids: [ID!]!) { nodes(ids: $ids) { id } }";
    let body = assert_same(
        both(
            &app,
            Some(Role::Auditor),
            unread,
            json!({"ids": [id, "not-an-id"]}),
        )
        .await,
        PerField,
    );
    assert_eq!(body["data"]["nodes"][0]["id"], id.as_str(), "{body:#}");
    assert_eq!(body["data"]["nodes"][1], json!(null), "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION");

    // Introspection needs no key.
    assert_same(
        both(&app, None, "{ __schema { queryType { name } } }", json!({})).await,
        InAdvance,
    );

    // Over HTTP the server counts how each operation was authorized.
    let in_advance = || async {
        app.metrics()
            .await
            .lines()
            .find(|l| l.starts_with("auskunft_graphql_authorization_total{mode=\"in_advance\"}"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let before = in_advance().await;
    let body = app
        .gql_ok(app.key(Role::Auditor), page, json!({"skip": false}))
        .await;
    assert_eq!(body["page"]["nodes"][0]["name"], "Shop orders");
    assert!(in_advance().await > before);
}
e2e!(
    decided_in_advance,
    queries_decided_in_advance_answer_as_the_full_pipeline_does
);

async fn what_cannot_be_decided_in_advance_runs_field_by_field(app: TestApp) {
    let submitted = app
        .gql_ok(
            app.key(Role::Integrator),
            r#"mutation { submitRequest(input: {kind: ACCESS, channel: WEB_FORM, identities: [{kind: EMAIL, value: "pre@example.com"}]}) { request { id } } }"#,
            json!({}),
        )
        .await;
    let id = submitted["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap();

    // A field the caller may not read: denied where it is, null propagated, coded.
    let records =
        "query($ids: [ID!]!) { nodes(ids: $ids) { ... on SubjectRequest { id records { id } } } }";
    let body = assert_same(
        both(&app, Some(Role::Integrator), records, json!({"ids": [id]})).await,
        PerField,
    );
    assert_eq!(body["data"], json!({"nodes": [null]}), "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // The request's ID names its type: `id` on `Node` needs only what a request's
    // fields need, which the integrator has.
    let on_node = "query($ids: [ID!]!) { nodes(ids: $ids) { id ... on SubjectRequest { state } } }";
    let body = assert_same(
        both(&app, Some(Role::Integrator), on_node, json!({"ids": [id]})).await,
        InAdvance,
    );
    assert_eq!(body["data"]["nodes"][0]["id"], id, "{body:#}");
    // A type the integrator may not read, named by its ID: per field, FORBIDDEN.
    let audit_event = api::graphql::ids::global_id("AuditEvent", uuid::Uuid::new_v4()).0;
    let body = assert_same(
        both(
            &app,
            Some(Role::Integrator),
            on_node,
            json!({"ids": [id, audit_event]}),
        )
        .await,
        PerField,
    );
    assert_eq!(body["data"]["nodes"][0]["id"], id, "{body:#}");
    assert_eq!(body["data"]["nodes"][1], json!(null), "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // Every field allowed, but the run fails (an id of nothing): the error is reported
    // as the full pipeline reports it, with its code and null propagation.
    let body = assert_same(
        both(
            &app,
            Some(Role::Reviewer),
            records,
            json!({"ids": [id, "not-an-id"]}),
        )
        .await,
        Repeated,
    );
    assert_eq!(body["data"]["nodes"][0]["id"], id, "{body:#}");
    assert_eq!(body["data"]["nodes"][1], json!(null), "{body:#}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION");

    // No key: whatever needs one is refused field by field.
    let body = assert_same(
        both(&app, None, "{ me { kind } }", json!({})).await,
        PerField,
    );
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    // A document that does not validate.
    let body = assert_same(
        both(
            &app,
            Some(Role::Auditor),
            "{ me { nothingHere } }",
            json!({}),
        )
        .await,
        PerField,
    );
    assert!(
        body["errors"][0]["extensions"]["code"].is_string(),
        "{body:#}"
    );

    // A mutation is audited as it runs, never decided in advance. (Run through the
    // executor only: running it twice would revoke twice.)
    let executor = Executor::new(Default::default());
    let principal = workflow::Principal {
        key_id: app.key_ids[&Role::Admin],
        org_id: app.org_id,
        key_name: "admin".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    let (response, authorized) = executor
        .execute(
            async_graphql::Request::new(r#"mutation { revokeApiKey(id: "not-an-id") { id } }"#),
            Session::for_request(app.workflow.clone(), Some(principal.clone())),
            |request| {
                request.data(Loaders::new(
                    app.workflow.clone(),
                    Some(principal.clone()),
                    true,
                ))
            },
        )
        .await;
    assert_eq!(authorized, PerField);
    assert!(!response.errors.is_empty());
}
e2e!(
    field_by_field,
    what_cannot_be_decided_in_advance_runs_field_by_field
);
