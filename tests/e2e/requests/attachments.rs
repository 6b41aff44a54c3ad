//! Files received with a request.

use base64::Engine;
use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e, error_code};

use super::*;

/// Attachments: sealed at rest, downloadable through a short-lived link; a forged
/// link finds nothing; bad base64 is refused.
async fn attachments_are_sealed_and_downloaded_by_link(app: TestApp) {
    // Attachments: sealed at rest, downloadable through a short-lived link.
    let letter = "Sehr geehrte Damen und Herren, ich bitte um Auskunft.".as_bytes();
    let with_file = submit(
        &app,
        "anhang@example.com",
        json!({"attachments": [{
        "fileName": "brief.txt", "mediaType": "text/plain",
        "contentBase64": base64::engine::general_purpose::STANDARD.encode(letter)}]}),
    )
    .await["request"]
        .clone();
    let files = app
        .gql_ok(app.key(Role::Agent), "query($id: ID!) { node(id: $id) { ... on SubjectRequest { attachments { id fileName sizeBytes sha256 downloadUrl } } } }", json!({"id": with_file["id"]}))
        .await;
    let file = &files["node"]["attachments"][0];
    crate::graph::assert_nodes_resolve(
        &app,
        Role::Agent,
        &[(file["id"].clone(), "RequestAttachment")],
    )
    .await;
    assert_eq!(
        (file["fileName"].clone(), file["sizeBytes"].clone()),
        (json!("brief.txt"), json!(letter.len()))
    );
    let url = file["downloadUrl"].as_str().unwrap();
    let url = if url.starts_with("http") {
        url.to_owned()
    } else {
        app.url(url)
    };
    let resp = app.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), letter);
    let forged = app.client.get(format!("{url}x")).send().await.unwrap();
    assert_eq!(forged.status(), 404);
    let body = app
        .gql(app.key(Role::Integrator), "mutation { submitRequest(input: {kind: ACCESS, channel: LETTER, identities: [{kind: EMAIL, value: \"x@example.com\"}], attachments: [{fileName: \"a\", mediaType: \"text/plain\", contentBase64: \"%%%\"}]}) { request { id } } }", json!({}))
        .await;
    assert_code(&body, "VALIDATION");
}
e2e!(attachments, attachments_are_sealed_and_downloaded_by_link);

/// Subscriptions are authorized like queries (the review queue is open to every
/// reader of requests; the audit log is not).
async fn subscriptions_are_authorized_like_queries(app: TestApp) {
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {}", app.key(Role::Integrator))}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", "subscription { auditEventAdded { seq } }")
        .await;
    let msg = ws.next().await.unwrap();
    assert_eq!(error_code(&msg["payload"]), Some("FORBIDDEN"), "{msg}");
}
e2e!(subscriptions, subscriptions_are_authorized_like_queries);
