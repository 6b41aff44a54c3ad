//! A graph, not a list of ids (issue 13, part 2): every id field offers its object,
//! actors are people, keys or the system, every object with an id is a Node, and a
//! page with every edge costs the same statements for few rows and for many.

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e};
use crate::requests::mapped_source as source;

async fn gql(app: &TestApp, role: Role, query: &str, vars: Value) -> Value {
    app.gql_ok(app.key(role), query, vars).await
}

/// A request of `email` collected by the DPO's key (one value in the mapped field)
/// and submitted for review; its id.
async fn collected(app: &TestApp, field: &str, email: &str) -> String {
    let request = gql(
        app,
        Role::Integrator,
        "mutation($e: String!) { submitRequest(input: {kind: ACCESS, channel: WEB_FORM, identities: [{kind: EMAIL, value: $e}]}) { request { id } } }",
        json!({"e": email}),
    )
    .await["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let verified = gql(
        app,
        Role::Agent,
        "mutation($id: ID!) { verifyIdentity(input: {requestId: $id, version: 1, method: DOCUMENT_CHECK, evidence: \"ID card\"}) { request { tasks { id } } } }",
        json!({"id": request}),
    )
    .await;
    let task = verified["verifyIdentity"]["request"]["tasks"][0]["id"].clone();
    let version = gql(
        app,
        Role::Dpo,
        "mutation($t: ID!, $v: [CollectedValueInput!]!) { completeTask(input: {taskId: $t, values: $v}) { request { version } } }",
        json!({"t": task, "v": [{"fieldId": field, "value": email}]}),
    )
    .await["completeTask"]["request"]["version"]
        .clone();
    gql(
        app,
        Role::Dpo,
        "mutation($id: ID!, $v: Int!) { submitForReview(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": request, "v": version}),
    )
    .await;
    request
}

const WALK: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest { id
    assigneeId assignee { __typename ... on ApiKey { id name } ... on Person { id name } }
    claimedById claimedBy { __typename ... on ApiKey { name } }
    submittedForReviewById submittedForReviewBy { __typename ... on ApiKey { id name } }
    duplicateOf { id }
    tasks { id sourceId source { id name } request { id } completedById completedBy { ... on ApiKey { name } } }
    records { id value field { id location source { name } } source { name } task { id } }
    timeline(first: 50) { nodes { id actorName actorId actor { __typename ... on ApiKey { name } ... on SystemActor { name } } } }
} } }";

/// A frontend walks from a request to its tasks, their source, the values and their
/// fields, and to the people and keys who acted, in one query.
async fn a_frontend_walks_the_graph_in_one_query(app: TestApp) {
    let (source, field) = source(&app).await;
    let request = collected(&app, &field, "erika@example.com").await;
    let reviewer_key = app.key_ids[&Role::Reviewer];
    gql(
        &app,
        Role::Reviewer,
        "mutation($id: ID!) { claimRequest(input: {requestId: $id}) { request { state } } }",
        json!({"id": request}),
    )
    .await;
    let reviewer_id = api::graphql::ids::global_id("ApiKey", reviewer_key);
    gql(
        &app,
        Role::Admin,
        "mutation($id: ID!, $to: ID!) { assignRequest(input: {requestId: $id, assigneeId: $to}) { request { id } } }",
        json!({"id": request, "to": reviewer_id.as_str()}),
    )
    .await;

    // The reviewer walks it: no key-reading permission is needed to see who acted.
    let r = gql(&app, Role::Reviewer, WALK, json!({"id": request})).await["node"].clone();
    assert_eq!(r["assignee"]["__typename"], "ApiKey");
    assert_eq!(r["assignee"]["id"], r["assigneeId"]);
    assert_eq!(r["assigneeId"], reviewer_id.as_str());
    assert_eq!(r["claimedById"], reviewer_id.as_str());
    assert_eq!(r["claimedBy"]["__typename"], "ApiKey");
    assert_eq!(r["submittedForReviewBy"]["id"], r["submittedForReviewById"]);
    assert!(r["duplicateOf"].is_null());
    let task = &r["tasks"][0];
    assert_eq!(task["source"]["id"], source.as_str());
    assert_eq!(task["source"]["id"], task["sourceId"]);
    assert_eq!(task["source"]["name"], "CRM");
    assert_eq!(task["request"]["id"], request.as_str());
    assert!(task["completedBy"]["name"].is_string(), "{task}");
    let record = &r["records"][0];
    assert_eq!(record["value"], "erika@example.com");
    assert_eq!(record["field"]["id"], field.as_str());
    assert_eq!(record["field"]["location"], "contacts.email");
    assert_eq!(record["field"]["source"]["name"], "CRM");
    assert_eq!(record["source"]["name"], "CRM");
    assert_eq!(record["task"]["id"], task["id"]);
    for entry in r["timeline"]["nodes"].as_array().unwrap() {
        if entry["actorId"].is_null() {
            continue;
        }
        assert!(!entry["actor"].is_null(), "{entry}");
    }

    // Every object with an id comes back through node(id:), as its own type.
    let ids = [
        (task["id"].clone(), "RequestTask"),
        (record["id"].clone(), "CollectedRecord"),
        (r["timeline"]["nodes"][0]["id"].clone(), "TimelineEntry"),
        (r["assigneeId"].clone(), "ApiKey"),
    ];
    let nodes = gql(
        &app,
        Role::Dpo,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        json!({"ids": ids.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()}),
    )
    .await;
    for (i, (id, ty)) in ids.iter().enumerate() {
        assert_eq!(nodes["nodes"][i]["__typename"], *ty, "{nodes}");
        assert_eq!(nodes["nodes"][i]["id"], *id);
    }
    // A collected value is personal data: node() asks for the same permission as
    // `records` (request:read_data, which integrators do not have).
    let body = app
        .gql(
            app.key(Role::Integrator),
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": record["id"]}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    // The worker and the subject's links are actors too.
    let system =
        api::graphql::ids::global_id("SystemActor", workflow::access::principal::WORKER_ID);
    let node = gql(
        &app,
        Role::Agent,
        "query($id: ID!) { node(id: $id) { __typename ... on SystemActor { name } } }",
        json!({"id": system.as_str()}),
    )
    .await;
    assert_eq!(node["node"]["name"], "collection engine");
}
e2e!(walk, a_frontend_walks_the_graph_in_one_query);

/// Work can be assigned to people and keys only; a revoked key is refused.
async fn only_people_and_keys_can_be_assigned(app: TestApp) {
    let (_, field) = source(&app).await;
    let request = collected(&app, &field, "erika@example.com").await;
    let assign = "mutation($id: ID!, $to: ID) { assignRequest(input: {requestId: $id, assigneeId: $to}) { request { assigneeId } } }";
    // Another type's ID.
    let body = app
        .gql(
            app.key(Role::Admin),
            assign,
            json!({"id": request, "to": request}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expected a Person or an ApiKey"),
        "{body}"
    );
    // A person or key that does not exist.
    let nobody = api::graphql::ids::global_id("Person", uuid::Uuid::now_v7());
    let body = app
        .gql(
            app.key(Role::Admin),
            assign,
            json!({"id": request, "to": nobody.as_str()}),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    // Nothing changed.
    let r = gql(&app, Role::Admin, WALK, json!({"id": request})).await;
    assert!(r["node"]["assignee"].is_null());
}
e2e!(assign_refusals, only_people_and_keys_can_be_assigned);

/// A page of requests with every new edge costs the same statements for 2 requests
/// and for 6.
async fn edges_cost_the_same_for_few_and_many_rows(app: TestApp) {
    let (_, field) = source(&app).await;
    let mut requests = Vec::new();
    for n in 0..6 {
        requests.push(collected(&app, &field, &format!("p{n}@example.com")).await);
    }
    let assign = "mutation($id: ID!, $to: ID) { assignRequest(input: {requestId: $id, assigneeId: $to}) { request { id } } }";
    for (n, request) in requests.iter().enumerate() {
        let role = if n % 2 == 0 {
            Role::Reviewer
        } else {
            Role::Agent
        };
        let to = api::graphql::ids::global_id("ApiKey", app.key_ids[&role]);
        gql(
            &app,
            Role::Admin,
            assign,
            json!({"id": request, "to": to.as_str()}),
        )
        .await;
    }
    app.gql_ok(app.key(Role::Auditor), "{ me { apiKeyName } }", json!({}))
        .await;
    let q = "query($n: Int) { requests(first: $n) { nodes { id
        assigneeId assignee { ... on ApiKey { name } } claimedBy { __typename }
        submittedForReviewBy { ... on ApiKey { name } } duplicateOf { id }
        tasks { id source { name } completedBy { ... on ApiKey { name } } }
        records { value field { location } source { name } task { id } } } } }";
    let mut counts = Vec::new();
    for n in [2, 6] {
        let before = app.workflow.store().statements_executed();
        let data = gql(&app, Role::Auditor, q, json!({"n": n})).await;
        counts.push(app.workflow.store().statements_executed() - before);
        let nodes = data["requests"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), n as usize);
        for node in nodes {
            assert!(node["assignee"]["name"].is_string(), "{node}");
            assert_eq!(node["tasks"][0]["source"]["name"], "CRM");
            assert_eq!(node["records"][0]["field"]["location"], "contacts.email");
        }
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 2 vs 6 requests: {counts:?}"
    );
}
e2e!(edge_statements, edges_cost_the_same_for_few_and_many_rows);

/// Asserts that each global ID comes back through `nodes(ids:)` as its type, for
/// `role` (tests of the features that make the objects call it).
pub(crate) async fn assert_nodes_resolve(app: &TestApp, role: Role, ids: &[(Value, &str)]) {
    let nodes = gql(
        app,
        role,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        json!({"ids": ids.iter().map(|(id, _)| id.clone()).collect::<Vec<_>>()}),
    )
    .await;
    for (i, (id, ty)) in ids.iter().enumerate() {
        assert_eq!(nodes["nodes"][i]["__typename"], *ty, "{id}: {nodes}");
        assert_eq!(nodes["nodes"][i]["id"], *id, "{nodes}");
    }
}
