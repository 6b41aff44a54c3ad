//! The request workflow end to end: intake -> e-mail verification -> tasks done by
//! hand -> review (four-eyes, optimistic locking) -> dispatch -> close, over HTTP with
//! live WebSocket subscriptions, plus concurrency, deadlines, bulk actions, flags.

use base64::Engine;
use serde_json::{Value, json};
use workflow::Role;
use workflow::requests::{Fire, RequestEvent, RequestState, TimelineKind};

use crate::common::{TestApp, WsClient, assert_code, e2e, error_code};

const REQUEST_FIELDS: &str = "id state version dueDate effectiveDueDate isOverdue possiblyExcessive duplicateOfId allowedEvents \
    identities { kind value verifiedAt } tasks { id kind state sourceName } recordsCount redactionsCount";

/// A manual source with one mapped e-mail field, so requests get one collection task.
async fn mapped_source(app: &TestApp) -> (String, String) {
    let admin = app.key(Role::Admin);
    let source = app
        .gql_ok(
            admin,
            "mutation { createDataSource(input: {name: \"CRM\", connectorKind: MANUAL, connectorConfig: {contact: \"crm-team@example.com\"}}) { dataSource { id } } }",
            json!({}),
        )
        .await["createDataSource"]["dataSource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let field = app
        .gql_ok(
            admin,
            "mutation($s: ID!) { createDataField(input: {sourceId: $s, location: \"contacts.email\", erasureStrategy: DELETE_ROW, identifiesSubject: true, identityType: EMAIL}) { dataField { id } } }",
            json!({"s": source}),
        )
        .await["createDataField"]["dataField"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (source, field)
}

async fn submit(app: &TestApp, email: &str, extra: Value) -> Value {
    let mut input = json!({
        "kind": "ACCESS", "channel": "WEB_FORM", "text": "Bitte Auskunft nach Art. 15 DSGVO.",
        "identities": [{"kind": "EMAIL", "value": email}],
    });
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    app.gql_ok(
        app.key(Role::Integrator),
        &format!("mutation($i: SubmitRequestInput!) {{ submitRequest(input: $i) {{ created request {{ {REQUEST_FIELDS} }} }} }}"),
        json!({"i": input}),
    )
    .await["submitRequest"]
        .clone()
}

async fn mutate(app: &TestApp, role: Role, name: &str, input: Value) -> Value {
    app.gql(
        app.key(role),
        &format!(
            "mutation($i: {}Input!) {{ {name}(input: $i) {{ request {{ {REQUEST_FIELDS} }} }} }}",
            input_type(name)
        ),
        json!({"i": input}),
    )
    .await
}

fn input_type(mutation: &str) -> &'static str {
    match mutation {
        "startEmailVerification" => "StartEmailVerification",
        "confirmEmailVerification" => "ConfirmEmailVerification",
        "verifyIdentity" => "VerifyIdentity",
        "requestChanges" | "failVerification" | "extendDeadline" => "ReasonedTransition",
        "rejectRequest" => "RejectRequest",
        "cancelRequest" => "CancelRequest",
        "claimRequest" | "unclaimRequest" | "resendVerificationCode" => "RequestId",
        "addReviewComment" | "addRequestComment" => "AddComment",
        "redactRecord" => "RedactRecord",
        "dispatchRequest" => "DispatchRequest",
        _ => "Transition",
    }
}

async fn ok(app: &TestApp, role: Role, name: &str, input: Value) -> Value {
    let body = mutate(app, role, name, input).await;
    assert!(body.get("errors").is_none(), "{name} as {role}: {body:#}");
    body["data"][name]["request"].clone()
}

async fn next_data(ws: &mut WsClient, id: &str) -> Value {
    loop {
        let msg = ws
            .next()
            .await
            .unwrap_or_else(|| panic!("no event for subscription {id} within 10 s"));
        assert_ne!(msg["type"], "__closed", "subscription {id}: {msg}");
        if msg["type"] == "next" && msg["id"] == id {
            assert!(msg["payload"]["errors"].is_null(), "{msg}");
            return msg["payload"]["data"].clone();
        }
        assert_ne!(msg["type"], "error", "{msg}");
    }
}

fn code_from(mail: &str) -> String {
    mail.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code in the mail")
        .to_owned()
}

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

/// Brings a fresh request to IN_REVIEW through the workflow (no mapped sources: no tasks).
pub(crate) async fn in_review(app: &TestApp, n: usize) -> uuid::Uuid {
    let wf = &app.workflow;
    let agent = principal(app, Role::Agent);
    let submitted = wf
        .submit_request(
            &principal(app, Role::Integrator),
            workflow::requests::NewRequest {
                kind: workflow::requests::RequestKind::Access,
                channel: workflow::requests::Channel::Api,
                identities: vec![workflow::requests::NewIdentity {
                    kind: workflow::register::fields::IdentityType::Email,
                    value: format!("race{n}@example.com"),
                }],
                text: None,
                is_test: true,
                received_at: None,
                idempotency_key: None,
                attachments: vec![],
            },
        )
        .await
        .unwrap();
    let id = submitted.request.id;
    let r = wf
        .verify_identity(
            &agent,
            id,
            Some(1),
            workflow::requests::VerificationMethod::DocumentCheck,
            "ID card".into(),
        )
        .await
        .unwrap();
    wf.fire(
        &agent,
        Fire {
            request_id: id,
            version: r.version,
            event: RequestEvent::SubmitForReview,
            reason: None,
            ground: None,
        },
    )
    .await
    .unwrap();
    id
}

pub(crate) fn principal(app: &TestApp, role: Role) -> workflow::Principal {
    workflow::Principal {
        key_id: app.key_ids[&role],
        org_id: app.org_id,
        key_name: format!("test {role}"),
        kind: workflow::PrincipalKind::ApiKey,
    }
}

async fn concurrent_approvals_have_exactly_one_winner(app: TestApp) {
    let reviewer = principal(&app, Role::Reviewer);
    let dpo = principal(&app, Role::Dpo);
    let mut n = 0;
    for racers in [2usize, 4, 8] {
        for _ in 0..100 {
            n += 1;
            let id = in_review(&app, n).await;
            let version = app.workflow.request(&reviewer, id).await.unwrap().version;
            let mut handles = Vec::new();
            for i in 0..racers {
                let wf = app.workflow.clone();
                let who = if i % 2 == 0 {
                    reviewer.clone()
                } else {
                    dpo.clone()
                };
                handles.push(tokio::spawn(async move {
                    wf.fire(
                        &who,
                        Fire {
                            request_id: id,
                            version,
                            event: RequestEvent::Approve,
                            reason: None,
                            ground: None,
                        },
                    )
                    .await
                }));
            }
            let mut wins = 0;
            for h in handles {
                match h.await.unwrap() {
                    Ok(r) => {
                        wins += 1;
                        assert_eq!(r.state, RequestState::Approved);
                    }
                    Err(e) => assert_eq!(e.code(), workflow::ErrorCode::Conflict, "{e}"),
                }
            }
            assert_eq!(wins, 1, "{racers} racers: exactly one approval wins");
            let timeline = app
                .workflow
                .request_timeline(
                    &reviewer,
                    id,
                    &workflow::PageRequest {
                        first: Some(100),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let approvals = timeline
                .items
                .iter()
                .filter(|e| e.event == Some(RequestEvent::Approve))
                .count();
            assert_eq!(approvals, 1);
        }
    }
}
e2e!(
    concurrent_approvals,
    concurrent_approvals_have_exactly_one_winner
);

async fn deadlines_extension_flags_bulk_and_stalled(app: TestApp) {
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

    // A letter received earlier: the deadline runs from receipt; the future is refused.
    let received = (chrono::Utc::now() - chrono::Duration::days(40)).to_rfc3339();
    let late = submit(
        &app,
        "brief@example.com",
        json!({"channel": "LETTER", "receivedAt": received}),
    )
    .await;
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
        .gql_ok(app.key(Role::Agent), "query($id: ID!) { node(id: $id) { ... on SubjectRequest { attachments { fileName sizeBytes sha256 downloadUrl } } } }", json!({"id": with_file["id"]}))
        .await;
    let file = &files["node"]["attachments"][0];
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

    // Subscriptions are authorized like queries (the review queue is open to every
    // reader of requests; the audit log is not).
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {}", app.key(Role::Integrator))}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.subscribe("1", "subscription { auditEventAdded { seq } }")
        .await;
    let msg = ws.next().await.unwrap();
    assert_eq!(error_code(&msg["payload"]), Some("FORBIDDEN"), "{msg}");
}
e2e!(
    deadlines_and_flags,
    deadlines_extension_flags_bulk_and_stalled
);

/// The property test of the stored workflow: random event sequences from random
/// principals against the real database. Invariants: the stored state is always one
/// of the machine's, approval never by who submitted for review, the timeline holds
/// exactly one TRANSITION entry per applied event (chained from state to state), the
/// version grows by one per applied event, and final states stay final.
async fn random_event_sequences_keep_the_stored_invariants(app: TestApp) {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    let roles = [Role::Agent, Role::Dpo, Role::Reviewer, Role::Admin];
    let strategy = proptest::collection::vec(
        (0..RequestEvent::ALL.len(), 0..roles.len(), any::<bool>()),
        1..25,
    );
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let handle = tokio::runtime::Handle::current();
    let case = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&strategy, |steps| {
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let n = 10_000 + case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let id = in_review(&app, n).await;
                let reader = principal(&app, Role::Auditor);
                let mut current = app.workflow.request(&reader, id).await.unwrap();
                let start_version = current.version;
                let mut applied = 0;
                for (event, who, with_reason) in steps {
                    let event = RequestEvent::ALL[event];
                    let actor = principal(&app, roles[who]);
                    let before = current.state;
                    let result = app
                        .workflow
                        .fire(
                            &actor,
                            Fire {
                                request_id: id,
                                version: current.version,
                                event,
                                reason: with_reason.then(|| "reason".to_owned()),
                                ground: None,
                            },
                        )
                        .await;
                    match result {
                        Ok(after) => {
                            applied += 1;
                            prop_assert!(!before.is_final(), "{event} left final state {before}");
                            if event == RequestEvent::Approve {
                                prop_assert_ne!(
                                    current.submitted_for_review_by,
                                    Some(actor.key_id)
                                );
                            }
                            prop_assert_eq!(after.version, current.version + 1);
                            current = after;
                        }
                        Err(e) => {
                            if before.is_final() {
                                // Refused for the state, or earlier for the permission.
                                prop_assert!(matches!(
                                    e.code(),
                                    workflow::ErrorCode::InvalidTransition
                                        | workflow::ErrorCode::Forbidden
                                ));
                            }
                            let stored = app.workflow.request(&reader, id).await.unwrap();
                            prop_assert_eq!(&stored, &current, "a refused event changed nothing");
                        }
                    }
                }
                let timeline = app
                    .workflow
                    .request_timeline(
                        &reader,
                        id,
                        &workflow::PageRequest {
                            first: Some(100),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                let transitions: Vec<_> = timeline
                    .items
                    .iter()
                    .filter(|e| e.kind == TimelineKind::Transition)
                    .collect();
                // Two transitions happened before the random walk (verify, submit for review).
                prop_assert_eq!(transitions.len(), applied + 2);
                prop_assert_eq!(current.version, start_version + applied as i32);
                for pair in transitions.windows(2) {
                    prop_assert_eq!(&pair[0].to_state, &pair[1].from_state);
                }
                prop_assert_eq!(
                    transitions.last().and_then(|t| t.to_state),
                    Some(current.state)
                );
                Ok::<(), TestCaseError>(())
            })
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
e2e!(
    stored_property,
    random_event_sequences_keep_the_stored_invariants
);

/// Many transitions at once over HTTP, each authenticated with a fresh key (whose
/// first use writes `last_used_at` outside any transaction): none may fail. On
/// SQLite such an outside write once broke transactions with SQLITE_BUSY_SNAPSHOT.
async fn concurrent_http_transitions_all_succeed(app: TestApp) {
    let admin = principal(&app, Role::Admin);
    for round in 0..3 {
        let key = app
            .workflow
            .create_api_key(
                &admin,
                workflow::NewApiKey {
                    name: format!("fresh agent {round}"),
                    roles: vec![Role::Agent],
                },
            )
            .await
            .unwrap()
            .secret;
        let mut ids = Vec::new();
        for i in 0..12 {
            let r = submit(&app, &format!("burst{round}-{i}@example.com"), json!({})).await;
            ids.push(r["request"]["id"].as_str().unwrap().to_owned());
        }
        let mut calls = Vec::new();
        for id in ids {
            let (client, url, key) = (app.client.clone(), app.url("/graphql"), key.clone());
            calls.push(tokio::spawn(async move {
                let body: Value = client
                    .post(url)
                    .bearer_auth(key)
                    .json(&json!({"query": "mutation($i: VerifyIdentityInput!) { verifyIdentity(input: $i) { request { state } } }",
                                  "variables": {"i": {"requestId": id, "version": 1, "method": "DOCUMENT_CHECK", "evidence": "ID card"}}}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                body
            }));
        }
        for call in calls {
            let body = call.await.unwrap();
            assert_eq!(
                body["data"]["verifyIdentity"]["request"]["state"], "COLLECTING",
                "{body}"
            );
        }
    }
}
e2e!(http_burst, concurrent_http_transitions_all_succeed);

/// A page of requests with every relation costs the same number of statements for
/// 10 and for 100 requests (DataLoaders, prefetched per page).
async fn a_request_page_costs_the_same_for_10_and_100_rows(app: TestApp) {
    for n in 0..100 {
        in_review(&app, 20_000 + n).await;
    }
    app.gql_ok(app.key(Role::Auditor), "{ me { apiKeyName } }", json!({}))
        .await;
    let q = "query($n: Int) { requests(first: $n) { totalCount nodes { id state isOverdue identities { value valueAsGiven }
        tasks { id } records { value } recordsCount redactionsCount attachments { fileName } stalledReasons } } }";
    let mut counts = Vec::new();
    for n in [10, 100] {
        let before = app.workflow.store().statements_executed();
        let data = app.gql_ok(app.key(Role::Auditor), q, json!({"n": n})).await;
        counts.push(app.workflow.store().statements_executed() - before);
        assert_eq!(
            data["requests"]["nodes"].as_array().unwrap().len(),
            n as usize
        );
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 10 vs 100 requests: {counts:?}"
    );
}
e2e!(
    request_page_statements,
    a_request_page_costs_the_same_for_10_and_100_rows
);

/// Concurrent retries with one idempotency key create one request; test requests
/// never reach a mailer that delivers to real addresses.
async fn retries_and_test_mail(app: TestApp) {
    let integrator = principal(&app, Role::Integrator);
    let new = || workflow::requests::NewRequest {
        kind: workflow::requests::RequestKind::Access,
        channel: workflow::requests::Channel::WebForm,
        identities: vec![workflow::requests::NewIdentity {
            kind: workflow::register::fields::IdentityType::Email,
            value: "retry@example.com".into(),
        }],
        text: None,
        is_test: true,
        received_at: None,
        idempotency_key: Some("form-retry-1".into()),
        attachments: vec![],
    };
    let mut calls = Vec::new();
    for _ in 0..4 {
        let (wf, p, n) = (app.workflow.clone(), integrator.clone(), new());
        calls.push(tokio::spawn(async move { wf.submit_request(&p, n).await }));
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for call in calls {
        let submitted = call.await.unwrap().unwrap();
        ids.insert(submitted.request.id);
        created += usize::from(submitted.created);
    }
    assert_eq!((ids.len(), created), (1, 1), "one request, created once");
    let id = *ids.first().unwrap();

    // A code mail for the test request, then delivery through an external mailer.
    app.workflow
        .start_email_verification(&principal(&app, Role::Agent), id, 1, None)
        .await
        .unwrap();
    struct External(std::sync::Mutex<Vec<String>>);
    #[async_trait::async_trait]
    impl workflow::core::outbox::Mailer for External {
        async fn send(&self, mail: &workflow::core::outbox::Mail) -> Result<(), String> {
            self.0.lock().unwrap().push(mail.to.clone());
            Ok(())
        }
        fn is_external(&self) -> bool {
            true
        }
    }
    let mailer = External(Default::default());
    let delivered = app.workflow.deliver_outbox(&mailer, 100).await.unwrap();
    assert_eq!(delivered, 0);
    assert!(mailer.0.lock().unwrap().is_empty(), "nothing went out");
    let queued = app.workflow.outbox_of_request(id).await.unwrap();
    assert!(queued[0].row.delivered_at.is_some(), "settled, not retried");
    assert!(
        queued[0]
            .row
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("suppressed")
    );
}
e2e!(retries_and_test_requests, retries_and_test_mail);
