//! Bulk actions: each item on its own.

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e};

use super::*;

/// Bulk verify: each item on its own (one is already cancelled); an empty bulk
/// action is refused with the field named.
async fn bulk_actions_treat_each_item_on_its_own(app: TestApp) {
    let id = submit(&app, "eins@example.com", json!({})).await["request"]["id"].clone();
    let id = id.as_str().unwrap();
    let second = submit(&app, "zwei@example.com", json!({})).await["request"].clone();
    let third = submit(&app, "drei@example.com", json!({})).await["request"].clone();
    // Bulk verify: each item on its own (one is already cancelled).
    let second_id = second["id"].as_str().unwrap();
    ok(
        &app,
        Role::Agent,
        "cancelRequest",
        json!({"requestId": second_id, "version": 1, "reason": "withdrawn by phone"}),
    )
    .await;
    let bulk = app
        .gql_ok(
            app.key(Role::Agent),
            "mutation($ids: [ID!]!) { bulkVerify(input: {requestIds: $ids, method: KNOWN_CUSTOMER, evidence: \"Kundennummer und Adresse stimmen\"}) { succeeded failed results { requestId ok request { state } error { code message } } } }",
            json!({"ids": [id, second_id, third["id"]]}),
        )
        .await["bulkVerify"]
        .clone();
    assert_eq!(
        (bulk["succeeded"].clone(), bulk["failed"].clone()),
        (json!(2), json!(1))
    );
    assert_eq!(bulk["results"][1]["error"]["code"], "INVALID_TRANSITION");
    assert_eq!(bulk["results"][0]["request"]["state"], "COLLECTING");
    let body = app
        .gql(
            app.key(Role::Agent),
            "mutation { bulkCancel(input: {requestIds: []}) { succeeded } }",
            json!({}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "requestIds"])
    );
}
e2e!(bulk, bulk_actions_treat_each_item_on_its_own);
