//! The product's own minimization: the collected data of a request that ended is
//! purged after the organization's `purgeAfterDays`; the timeline, the proof of
//! dispatch and the digests stay.

use serde_json::{Value, json};
use workflow::Role;

use crate::answer::gql;
use crate::common::{TestApp, assert_code, e2e, error_paths};
use crate::dispatch::approved;
use crate::export::demo_register;

const RECORDS: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest { state recordsCount timeline(first: 100) { nodes { kind message actorName } } answerPackage { digest downloadUrl } } } }";

async fn ended_requests_lose_their_data_and_keep_their_proof(app: TestApp) {
    let _shop = demo_register(&app).await;
    let (request, version, package) = approved(&app, "alt.genug@example.org", false).await;
    let data = gql(
        &app,
        Role::Agent,
        "mutation($in: DispatchRequestInput!) { dispatchRequest(input: $in) { request { version } downloadUrl } }",
        json!({"in": {"requestId": request, "version": version, "channel": "PORTAL"}}),
    )
    .await;
    let url = data["dispatchRequest"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = url[url.find("/download/").unwrap()..].to_owned();
    gql(
        &app,
        Role::Agent,
        "mutation($id: ID!, $v: Int!) { closeRequest(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": request, "v": data["dispatchRequest"]["request"]["version"]}),
    )
    .await;
    // Another request stays open: never purged.
    let (open, _, _) = approved(&app, "noch.offen@example.org", false).await;
    let before = gql(&app, Role::Reviewer, RECORDS, json!({"id": request})).await["node"].clone();
    assert!(before["recordsCount"].as_i64().unwrap() > 0);

    // 90 days by default: a request closed just now keeps its data.
    assert_eq!(
        app.workflow.purge_ended_requests().await.unwrap().requests,
        0
    );
    let settings = "mutation($d: Int!) { updateRequestSettings(input: {purgeAfterDays: $d}) { settings { purgeAfterDays } } }";
    for bad in [-1, 3651] {
        let body = app
            .gql(app.key(Role::Admin), settings, json!({"d": bad}))
            .await;
        assert_code(&body, "VALIDATION");
        assert_eq!(error_paths(&body), vec!["input.purgeAfterDays".to_owned()]);
    }
    let body = app
        .gql(app.key(Role::Agent), settings, json!({"d": 0}))
        .await;
    assert_code(&body, "FORBIDDEN");
    let data = gql(&app, Role::Dpo, settings, json!({"d": 0})).await;
    assert_eq!(
        data["updateRequestSettings"]["settings"]["purgeAfterDays"],
        0
    );

    let report = app.workflow.purge_ended_requests().await.unwrap();
    assert_eq!(report.requests, 1, "{report:?}");
    assert_eq!(report.records, before["recordsCount"].as_u64().unwrap());
    assert_eq!(report.packages, 1);
    assert_eq!(
        app.workflow.purge_ended_requests().await.unwrap().requests,
        0,
        "once"
    );

    let after = gql(&app, Role::Reviewer, RECORDS, json!({"id": request})).await["node"].clone();
    assert_eq!(after["state"], "CLOSED");
    assert_eq!(after["recordsCount"], 0);
    assert_eq!(
        after["answerPackage"]["digest"], package["digest"],
        "the digest stays"
    );
    let note = after["timeline"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "PURGE")
        .expect("a purge note")
        .clone();
    assert!(
        note["message"].as_str().unwrap().contains("0 day(s)"),
        "{note}"
    );
    // The package's bytes are gone, for staff and for the subject's link.
    let staff = after["answerPackage"]["downloadUrl"].as_str().unwrap();
    let response = app
        .client
        .get(app.url(&staff[staff.find("/answers/").unwrap()..]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 410);
    let body: Value = response.json().await.unwrap();
    assert_code(&body, "CONFLICT");
    let response = app.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 410);
    // The proof stays.
    let proof = gql(
        &app,
        Role::Auditor,
        "query($id: ID!) { dispatchProof(requestId: $id) { digest downloadLink { revokedAt } } }",
        json!({"id": request}),
    )
    .await;
    assert_eq!(proof["dispatchProof"]["digest"], package["digest"]);
    assert!(proof["dispatchProof"]["downloadLink"]["revokedAt"].is_string());
    let audit = gql(
        &app,
        Role::Auditor,
        "{ auditEvents(last: 10, filter: {operation: \"purgeCollectedData\"}) { totalCount nodes { actorName } } }",
        json!({}),
    )
    .await;
    assert_eq!(audit["auditEvents"]["totalCount"], 1);
    assert_eq!(
        audit["auditEvents"]["nodes"][0]["actorName"],
        "minimization"
    );
    // The open request kept everything.
    let other = gql(&app, Role::Reviewer, RECORDS, json!({"id": open})).await["node"].clone();
    assert!(other["recordsCount"].as_i64().unwrap() > 0);
}
e2e!(
    minimization,
    ended_requests_lose_their_data_and_keep_their_proof
);
