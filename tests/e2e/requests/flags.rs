//! Possible duplicates and possibly excessive requests (Art. 12(5)) are flagged,
//! never refused automatically.

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, e2e};

use super::*;

/// A second open request of the same kind by the same subject is a possible
/// duplicate; more requests than the threshold within 12 months are possibly
/// excessive; both are only flags.
async fn duplicates_and_excessive_requests_are_flagged(app: TestApp) {
    app.gql_ok(
        app.key(Role::Admin),
        "mutation { updateRequestSettings(input: {excessiveThreshold: 2}) { settings { excessiveThreshold } } }",
        json!({}),
    )
    .await;
    let first = submit(&app, "verlaengerung@example.com", json!({})).await["request"].clone();
    let id = first["id"].as_str().unwrap();
    // Duplicates and Art. 12(5): flagged, never refused automatically.
    let second = submit(&app, "verlaengerung@example.com", json!({})).await["request"].clone();
    assert_eq!(second["duplicateOfId"], json!(id));
    assert_eq!(second["possiblyExcessive"], false);
    let third = submit(
        &app,
        "Verlaengerung@example.com",
        json!({"kind": "ERASURE"}),
    )
    .await["request"]
        .clone();
    assert_eq!(third["duplicateOfId"], Value::Null);
    assert_eq!(third["possiblyExcessive"], true);
    assert_eq!(third["state"], "RECEIVED");
}
e2e!(flags, duplicates_and_excessive_requests_are_flagged);
