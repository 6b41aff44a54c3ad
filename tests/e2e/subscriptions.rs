//! Subscriptions over graphql-transport-ws: authenticated at `connection_init`,
//! authorized like queries, scoped to the caller's organization.

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, create_org, e2e};

async fn audit_events_arrive_over_websocket_for_the_own_organization_only(app: TestApp) {
    let other = create_org(&app.workflow, "Elsewhere AG").await;
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {}", app.key(Role::Auditor))}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.subscribe(
        "s1",
        "subscription { auditEventAdded { operation outcome actorName objectType } }",
    )
    .await;
    // Give the server a moment to register the subscription before events are raised.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    // Another organization's event must not arrive; ours must.
    app.gql_ok(
        &other.keys[&Role::Admin],
        "mutation { createApiKey(input: {name: \"theirs\", roles: [AGENT]}) { secret } }",
        json!({}),
    )
    .await;
    app.gql_ok(
        app.key(Role::Admin),
        "mutation { createApiKey(input: {name: \"ours\", roles: [AGENT]}) { secret } }",
        json!({}),
    )
    .await;
    let msg = ws.next().await.expect("an event");
    assert_eq!(msg["type"], "next", "{msg}");
    assert_eq!(msg["id"], "s1");
    assert_eq!(
        msg["payload"]["data"]["auditEventAdded"],
        json!({"operation": "createApiKey", "outcome": "SUCCESS", "actorName": "api-key:test admin", "objectType": "ApiKey"})
    );
}
e2e!(
    live_audit,
    audit_events_arrive_over_websocket_for_the_own_organization_only
);

async fn websocket_without_or_with_a_bad_key_is_refused(app: TestApp) {
    // No key: connection_init is refused and the connection closed, so an anonymous
    // client cannot hold a socket open or send documents through it.
    let mut ws = app.ws_connect(json!({})).await;
    let msg = ws.next().await.unwrap();
    assert_eq!(msg["type"], "__closed", "{msg}");
    assert_eq!(msg["code"], 1002, "{msg}");
    assert!(
        msg["reason"]
            .as_str()
            .unwrap()
            .contains("connection_init needs"),
        "{msg}"
    );
    // A wrong key: connection_init is refused and the connection closed with the reason
    // (async-graphql closes graphql-transport-ws with 1002 and the error message).
    let mut ws = app
        .ws_connect(json!({"Authorization": "Bearer ak_aaaaaaaaaaaa_wrong"}))
        .await;
    let msg = ws.next().await.unwrap();
    assert_eq!(msg["type"], "__closed", "{msg}");
    assert_eq!(msg["code"], 1002, "{msg}");
    assert!(
        msg["reason"]
            .as_str()
            .unwrap()
            .contains("unknown or revoked"),
        "{msg}"
    );
}
e2e!(ws_auth, websocket_without_or_with_a_bad_key_is_refused);

/// Open connections are re-authorized for every event: withdrawing the permission
/// stops the data on the next event, without reconnecting.
async fn withdrawn_permissions_apply_to_open_subscriptions(app: TestApp) {
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {}", app.key(Role::Auditor))}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.subscribe("s1", "subscription { auditEventAdded { operation } }")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    app.gql_ok(
        app.key(Role::Admin),
        "mutation { removePolicy(input: {role: AUDITOR, object: AUDIT_EVENT, action: READ}) { policy { role } } }",
        json!({}),
    )
    .await;
    // The removal itself is an audit event; it arrives after the policy changed.
    let msg = ws.next().await.expect("a message");
    assert_eq!(msg["payload"]["data"], json!(null), "{msg}");
    assert_eq!(
        msg["payload"]["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{msg}"
    );
}
e2e!(
    revoked_live,
    withdrawn_permissions_apply_to_open_subscriptions
);

/// A connection whose key is revoked, or whose roles change, is closed with 4403 at
/// once instead of living on and answering FORBIDDEN.
async fn revoked_keys_and_changed_roles_close_open_connections(app: TestApp) {
    let auth = |role| json!({"Authorization": format!("Bearer {}", app.key(role))});
    let key_id = |role| api::graphql::ids::global_id("ApiKey", app.key_ids[&role]);
    for (role, mutation, variables) in [
        (
            Role::Auditor,
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
            json!({"id": key_id(Role::Auditor)}),
        ),
        (
            Role::Reviewer,
            "mutation($id: ID!) { revokeRole(input: {apiKeyId: $id, role: REVIEWER}) { __typename } }",
            json!({"id": key_id(Role::Reviewer)}),
        ),
        (
            Role::Agent,
            "mutation($id: ID!) { grantRole(input: {apiKeyId: $id, role: STEWARD}) { __typename } }",
            json!({"id": key_id(Role::Agent)}),
        ),
    ] {
        let mut ws = app.ws_connect(auth(role)).await;
        assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
        ws.subscribe("s1", "subscription { reviewQueueChanged { __typename } }")
            .await;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        app.gql_ok(app.key(Role::Admin), mutation, variables).await;
        let msg = ws.until_closed().await;
        assert_eq!(msg["code"], 4403, "{role:?}: {msg}");
        assert!(
            msg["reason"]
                .as_str()
                .unwrap()
                .contains("the roles changed"),
            "{msg}"
        );
    }
    // A key whose roles stay is not disturbed by others' changes.
    let mut ws = app.ws_connect(auth(Role::Admin)).await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.subscribe("a", "subscription { auditEventAdded { operation } }")
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { revokeRole(input: {apiKeyId: $id, role: DPO}) { __typename } }",
        json!({"id": key_id(Role::Dpo)}),
    )
    .await;
    let msg = ws.next().await.expect("an event");
    assert_eq!(msg["type"], "next", "{msg}");
}
e2e!(
    closed_on_key_change,
    revoked_keys_and_changed_roles_close_open_connections
);
