//! The whole path over HTTP with live WebSocket subscriptions: intake, e-mail
//! verification, tasks done by hand, review (four-eyes, optimistic locking),
//! dispatch, close.

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e};

use super::*;

async fn the_whole_path_runs_over_http_and_websocket(app: TestApp) {
    let (_, field) = mapped_source(&app).await;
    let reviewer_auth = json!({"Authorization": format!("Bearer {}", app.key(Role::Reviewer))});
    let mut queue_ws = app.ws_connect(reviewer_auth).await;
    assert_eq!(queue_ws.next().await.unwrap()["type"], "connection_ack");
    queue_ws
        .subscribe("q", "subscription { reviewQueueChanged { change request { id state } entry { kind event } } }")
        .await;

    // Intake, idempotent.
    let key = json!({"idempotencyKey": "form-4711", "identities": [
        {"kind": "EMAIL", "value": " Erika.Mustermann@Example.DE "},
        {"kind": "PHONE", "value": "030 1234567"},
    ]});
    let first = submit(&app, " Erika.Mustermann@Example.DE ", key.clone()).await;
    assert_eq!(first["created"], true);
    let request = &first["request"];
    let id = request["id"].as_str().unwrap().to_owned();
    assert_eq!(request["state"], "RECEIVED");
    assert_eq!(
        request["identities"][0]["value"],
        "erika.mustermann@example.de"
    );
    assert_eq!(request["identities"][1]["value"], "+49301234567");
    assert!(request["dueDate"].is_string());
    let again = submit(&app, "erika.mustermann@example.de", key).await;
    assert_eq!(
        (again["created"].clone(), again["request"]["id"].clone()),
        (json!(false), json!(id))
    );
    // The same key for somebody else's request is a conflict, never a lost request.
    let other = app
        .gql(
            app.key(Role::Integrator),
            "mutation($i: SubmitRequestInput!) { submitRequest(input: $i) { created } }",
            json!({"i": {"kind": "ACCESS", "channel": "WEB_FORM", "idempotencyKey": "form-4711",
                         "identities": [{"kind": "EMAIL", "value": "someone.else@example.de"}]}}),
        )
        .await;
    assert_code(&other, "CONFLICT");

    // The agent follows the request live.
    let agent_auth = json!({"Authorization": format!("Bearer {}", app.key(Role::Agent))});
    let mut request_ws = app.ws_connect(agent_auth).await;
    assert_eq!(request_ws.next().await.unwrap()["type"], "connection_ack");
    request_ws
        .subscribe("r", &format!("subscription {{ requestEvents(requestId: \"{id}\") {{ request {{ state version }} entry {{ kind event fromState toState actorName }} }} }}"))
        .await;

    // E-mail verification: a wrong code costs an attempt, the right one starts collection.
    let r = ok(
        &app,
        Role::Agent,
        "startEmailVerification",
        json!({"requestId": id, "version": 1}),
    )
    .await;
    assert_eq!(r["state"], "VERIFYING");
    let update = next_data(&mut request_ws, "r").await;
    assert_eq!(
        update["requestEvents"]["entry"]["event"],
        "START_VERIFICATION"
    );
    let wf_id =
        api::graphql::ids::decode(&async_graphql::ID(id.clone()), "SubjectRequest", &["id"])
            .unwrap();
    let mails = app.workflow.outbox_of_request(wf_id).await.unwrap();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].row.recipient, "erika.mustermann@example.de");
    let code = code_from(&mails[0].body);
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let body = mutate(
        &app,
        Role::Integrator,
        "confirmEmailVerification",
        json!({"requestId": id, "code": wrong}),
    )
    .await;
    assert_code(&body, "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("4 attempt(s) left"),
        "{body}"
    );
    let body = mutate(
        &app,
        Role::Agent,
        "resendVerificationCode",
        json!({"requestId": id}),
    )
    .await;
    assert_code(&body, "CONFLICT"); // rate limit: a code was just sent
    let r = ok(
        &app,
        Role::Integrator,
        "confirmEmailVerification",
        json!({"requestId": id, "code": code}),
    )
    .await;
    assert_eq!(r["state"], "COLLECTING");
    assert!(r["identities"][0]["verifiedAt"].is_string());
    assert_eq!(r["tasks"].as_array().unwrap().len(), 1);
    assert_eq!(r["tasks"][0]["sourceName"], "CRM");
    let task_id = r["tasks"][0]["id"].as_str().unwrap().to_owned();

    // Review needs every task done.
    let body = mutate(
        &app,
        Role::Dpo,
        "submitForReview",
        json!({"requestId": id, "version": r["version"]}),
    )
    .await;
    assert_code(&body, "INVALID_TRANSITION");
    assert_eq!(
        body["errors"][0]["extensions"]["currentState"],
        "COLLECTING"
    );
    assert!(
        body["errors"][0]["extensions"]["allowedEvents"]
            .as_array()
            .unwrap()
            .contains(&json!("SUBMIT_FOR_REVIEW"))
    );

    // The DPO collects by hand, then submits for review.
    let done = app
        .gql_ok(
            app.key(Role::Dpo),
            "mutation($t: ID!, $f: ID!) { completeTask(input: {taskId: $t, note: \"searched by e-mail\", values: [{fieldId: $f, value: \"erika.mustermann@example.de\"}, {location: \"contacts.note\", value: \"Rückruf erbeten\"}]}) { task { state completedById } request { version } } }",
            json!({"t": task_id, "f": field}),
        )
        .await;
    assert_eq!(done["completeTask"]["task"]["state"], "DONE");
    let version = done["completeTask"]["request"]["version"].clone();
    let r = ok(
        &app,
        Role::Dpo,
        "submitForReview",
        json!({"requestId": id, "version": version}),
    )
    .await;
    assert_eq!(r["state"], "IN_REVIEW");
    assert_eq!(r["recordsCount"], 2);
    let queued = next_data(&mut queue_ws, "q").await;
    assert_eq!(queued["reviewQueueChanged"]["change"], "ENTERED");
    assert_eq!(queued["reviewQueueChanged"]["request"]["id"], json!(id));

    let queue = app
        .gql_ok(app.key(Role::Reviewer), "{ reviewQueue { totalCount nodes { id recordsCount records { id value location } } } }", json!({}))
        .await;
    assert_eq!(queue["reviewQueue"]["totalCount"], 1);
    let record = queue["reviewQueue"]["nodes"][0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["location"] == "contacts.note")
        .unwrap()["id"]
        .clone();

    // Collected personal data is not for integrators (request:read_data).
    let body = app
        .gql(app.key(Role::Integrator), "query($id: ID!) { node(id: $id) { ... on SubjectRequest { state records { value } } } }", json!({"id": id}))
        .await;
    assert_code(&body, "FORBIDDEN");

    // Four-eyes: who collected and submitted may not approve.
    let body = mutate(
        &app,
        Role::Dpo,
        "approveRequest",
        json!({"requestId": id, "version": r["version"]}),
    )
    .await;
    assert_code(&body, "FORBIDDEN");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("four-eyes")
    );

    // The reviewer claims, redacts (new version), and a stale approval conflicts.
    ok(
        &app,
        Role::Reviewer,
        "claimRequest",
        json!({"requestId": id}),
    )
    .await;
    let body = mutate(&app, Role::Dpo, "claimRequest", json!({"requestId": id})).await;
    assert_code(&body, "CONFLICT"); // one lawyer at a time
    let stale = r["version"].clone();
    let r = ok(
        &app,
        Role::Reviewer,
        "redactRecord",
        json!({"recordId": record, "reason": "note of the call centre, not the subject's data"}),
    )
    .await;
    assert_eq!(r["redactionsCount"], 1);
    let body = mutate(
        &app,
        Role::Reviewer,
        "approveRequest",
        json!({"requestId": id, "version": stale}),
    )
    .await;
    assert_code(&body, "CONFLICT");
    ok(
        &app,
        Role::Reviewer,
        "addReviewComment",
        json!({"requestId": id, "text": "Notiz geschwärzt, sonst vollständig."}),
    )
    .await;
    let r = ok(
        &app,
        Role::Reviewer,
        "approveRequest",
        json!({"requestId": id, "version": r["version"]}),
    )
    .await;
    assert_eq!(r["state"], "APPROVED");
    loop {
        let q = next_data(&mut queue_ws, "q").await;
        if q["reviewQueueChanged"]["change"] == "LEFT" {
            assert_eq!(q["reviewQueueChanged"]["entry"]["event"], "APPROVE");
            break;
        }
    }

    ok(
        &app,
        Role::Agent,
        "addRequestComment",
        json!({"requestId": id, "text": "Antwort geht per Post raus."}),
    )
    .await;
    // Dispatched by post, then closed; the content is final.
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        .to_string();
    let r = ok(
        &app,
        Role::Agent,
        "dispatchRequest",
        json!({"requestId": id, "version": r["version"], "channel": "POSTAL",
               "recipient": "Max Mustermann, Musterweg 1, 10115 Berlin", "sentOn": today}),
    )
    .await;
    assert_eq!(r["state"], "DISPATCHED");
    let body = mutate(
        &app,
        Role::Agent,
        "addRequestComment",
        json!({"requestId": id, "text": "late"}),
    )
    .await;
    assert_code(&body, "CONFLICT");
    let r = ok(
        &app,
        Role::Agent,
        "closeRequest",
        json!({"requestId": id, "version": r["version"]}),
    )
    .await;
    assert_eq!(r["state"], "CLOSED");
    assert_eq!(r["allowedEvents"], json!([]));
    let body = mutate(
        &app,
        Role::Agent,
        "cancelRequest",
        json!({"requestId": id, "version": r["version"]}),
    )
    .await;
    assert_code(&body, "INVALID_TRANSITION");

    // The live stream saw every transition in order, and the timeline holds each once.
    let mut seen = Vec::new();
    while seen.last().map(String::as_str) != Some("CLOSE") {
        let u = next_data(&mut request_ws, "r").await;
        if let Some(e) = u["requestEvents"]["entry"]["event"].as_str() {
            seen.push(e.to_owned());
        }
    }
    assert_eq!(
        seen,
        [
            "CONFIRM_IDENTITY",
            "SUBMIT_FOR_REVIEW",
            "APPROVE",
            "DISPATCH",
            "CLOSE"
        ]
    );
    let timeline = app
        .gql_ok(
            app.key(Role::Auditor),
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { timeline(first: 100) { nodes { kind event fromState toState } } } } }",
            json!({"id": id}),
        )
        .await;
    let entries = timeline["node"]["timeline"]["nodes"].as_array().unwrap();
    let transitions: Vec<&str> = entries
        .iter()
        .filter(|e| e["kind"] == "TRANSITION")
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        transitions,
        [
            "START_VERIFICATION",
            "CONFIRM_IDENTITY",
            "SUBMIT_FOR_REVIEW",
            "APPROVE",
            "DISPATCH",
            "CLOSE"
        ]
    );
    assert!(entries.iter().any(|e| e["kind"] == "REDACTION"));
    assert!(entries.iter().any(|e| e["kind"] == "COMMENT"));
    assert!(entries.iter().any(|e| e["kind"] == "REVIEW_COMMENT"));
}
e2e!(whole_path, the_whole_path_runs_over_http_and_websocket);
