//! Deadlines: holidays and closed days, receipt in the past, the overdue and
//! due-soon filters, the one extension, and the deadline that runs from verification.

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e};

use super::*;

/// Bavarian holidays and closed days move the deadline; settings are validated.
async fn holidays_and_closed_days_move_the_deadline(app: TestApp) {
    let admin = app.key(Role::Admin);
    // Bavarian holidays and a closed day count.
    let settings = app
        .gql_ok(
            admin,
            "mutation { updateRequestSettings(input: {holidayRegion: BAYERN, excessiveThreshold: 2, closedDays: [{day: \"2026-12-24\", note: \"Heiligabend\"}]}) { settings { holidayRegion excessiveThreshold closedDays { day } holidays(year: 2027) { date name } dueDateFor(receivedOn: \"2026-12-06\") } } }",
            json!({}),
        )
        .await;
    let s = &settings["updateRequestSettings"]["settings"];
    assert_eq!(s["dueDateFor"], "2027-01-07"); // 6 Jan is Epiphany in Bavaria
    assert!(
        s["holidays"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "Heilige Drei Könige")
    );
    let body = app
        .gql(admin, "mutation { updateRequestSettings(input: {stallAfterHours: 0}) { settings { stallAfterHours } } }", json!({}))
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "stallAfterHours"])
    );
}
e2e!(holidays, holidays_and_closed_days_move_the_deadline);

/// An access request by letter, received 40 days ago (past its deadline).
async fn late_letter(app: &TestApp) -> Value {
    let received = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    submit(
        app,
        "brief@example.com",
        json!({"channel": "LETTER", "receivedAt": received}),
    )
    .await
}

/// A letter received earlier: the deadline runs from receipt, and the filters find
/// it overdue; a receipt in the future is refused.
async fn the_deadline_runs_from_receipt(app: TestApp) {
    let late = late_letter(&app).await;
    assert_eq!(late["request"]["isOverdue"], true);
    let future = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
    let body = app
        .gql(
            app.key(Role::Integrator),
            "mutation($at: DateTime!) { submitRequest(input: {kind: ACCESS, channel: LETTER, receivedAt: $at, identities: [{kind: EMAIL, value: \"not an address\"}]}) { request { id } } }",
            json!({"at": future}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let paths: Vec<Value> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].clone())
        .collect();
    assert!(
        paths.contains(&json!(["input", "receivedAt"]))
            && paths.contains(&json!(["input", "identities", "0", "value"])),
        "{body}"
    );
    let overdue = app
        .gql_ok(app.key(Role::Agent), "{ requests(filter: {overdue: true}) { totalCount } soon: requests(filter: {dueWithinDays: 40}) { totalCount } }", json!({}))
        .await;
    assert_eq!(overdue["requests"]["totalCount"], 1);
    assert_eq!(overdue["soon"]["totalCount"], 1);
}
e2e!(from_receipt, the_deadline_runs_from_receipt);

/// Extension: reason required, only before the deadline, once; the subject is told.
async fn the_deadline_is_extended_once_with_a_reason(app: TestApp) {
    let late = late_letter(&app).await;
    // Extension: reason required, only before the deadline, once; the subject is told.
    let fresh = submit(&app, "verlaengerung@example.com", json!({})).await["request"].clone();
    let id = fresh["id"].as_str().unwrap();
    let body = mutate(
        &app,
        Role::Agent,
        "extendDeadline",
        json!({"requestId": id, "version": 1, "reason": " "}),
    )
    .await;
    assert_code(&body, "VALIDATION");
    let r = ok(&app, Role::Agent, "extendDeadline", json!({"requestId": id, "version": 1, "reason": "Daten aus drei Systemen, Archiv muss gesichtet werden"})).await;
    assert!(r["effectiveDueDate"].as_str().unwrap() > fresh["dueDate"].as_str().unwrap());
    let body = mutate(
        &app,
        Role::Agent,
        "extendDeadline",
        json!({"requestId": id, "version": r["version"], "reason": "again"}),
    )
    .await;
    assert_code(&body, "CONFLICT");
    let late_id = late["request"]["id"].as_str().unwrap();
    let body = mutate(
        &app,
        Role::Agent,
        "extendDeadline",
        json!({"requestId": late_id, "version": 1, "reason": "too late"}),
    )
    .await;
    assert_code(&body, "CONFLICT");
    let uuid = api::graphql::ids::decode(&async_graphql::ID(id.into()), "SubjectRequest", &["id"])
        .unwrap();
    let mails = app.workflow.outbox_of_request(uuid).await.unwrap();
    assert!(
        mails
            .iter()
            .any(|m| m.body.contains("Archiv muss gesichtet werden"))
    );
}
e2e!(extension, the_deadline_is_extended_once_with_a_reason);

/// With the deadline running from verification, a request has no due date until its
/// identity is verified; the basis is recorded on each request.
async fn the_deadline_can_run_from_verification(app: TestApp) {
    let admin = app.key(Role::Admin);
    let id = submit(&app, "vorher@example.com", json!({})).await["request"]["id"].clone();
    let id = id.as_str().unwrap();
    // Deadline from verification: no due date until the identity is verified; the
    // basis is recorded on each request.
    app.gql_ok(admin, "mutation { updateRequestSettings(input: {deadlineStart: VERIFICATION}) { settings { deadlineStart } } }", json!({}))
        .await;
    let pending = submit(&app, "ab-verifizierung@example.com", json!({})).await["request"].clone();
    assert_eq!(pending["dueDate"], Value::Null);
    let r = ok(&app, Role::Agent, "verifyIdentity", json!({"requestId": pending["id"], "version": 1, "method": "DOCUMENT_CHECK", "evidence": "Reisepass"})).await;
    assert!(r["dueDate"].is_string(), "{r}");
    let basis = app
        .gql_ok(app.key(Role::Agent), "query($a: ID!, $b: ID!) { a: node(id: $a) { ... on SubjectRequest { deadlineBasis } } b: node(id: $b) { ... on SubjectRequest { deadlineBasis } } }", json!({"a": pending["id"], "b": id}))
        .await;
    assert_eq!(
        (
            basis["a"]["deadlineBasis"].clone(),
            basis["b"]["deadlineBasis"].clone()
        ),
        (json!("VERIFICATION"), json!("RECEIPT"))
    );
}
e2e!(from_verification, the_deadline_can_run_from_verification);
