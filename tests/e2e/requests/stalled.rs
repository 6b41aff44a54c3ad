//! Requests that need attention show up as stalled.

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e};

use super::*;

/// A failed task makes the request stalled; the due-soon filter is bounded.
async fn a_failed_task_stalls_the_request(app: TestApp) {
    // A failed task makes the request stalled.
    let (_, _) = mapped_source(&app).await;
    let fourth = submit(&app, "stall@example.com", json!({})).await["request"].clone();
    let r = ok(&app, Role::Agent, "verifyIdentity", json!({"requestId": fourth["id"], "version": 1, "method": "DOCUMENT_CHECK", "evidence": "Personalausweis geprüft"})).await;
    let task = r["tasks"][0]["id"].clone();
    app.gql_ok(app.key(Role::Steward), "mutation($t: ID!) { failTask(input: {taskId: $t, error: \"CRM not reachable\"}) { task { state } } }", json!({"t": task}))
        .await;
    let stalled = app
        .gql_ok(
            app.key(Role::Agent),
            "{ stalledRequests { totalCount nodes { id stalledReasons } } }",
            json!({}),
        )
        .await;
    assert_eq!(stalled["stalledRequests"]["totalCount"], 1);
    assert_eq!(
        stalled["stalledRequests"]["nodes"][0]["stalledReasons"],
        json!(["TASK_FAILED"])
    );
    assert_eq!(app.workflow.request_gauges().await.unwrap().stalled, 1);
    let body = app
        .gql(
            app.key(Role::Agent),
            "{ requests(filter: {dueWithinDays: 400}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_code(&body, "VALIDATION");
}
e2e!(stalled, a_failed_task_stalls_the_request);
