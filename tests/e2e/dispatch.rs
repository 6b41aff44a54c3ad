//! Dispatch end to end: an approved answer goes out by e-mail through a real SMTP
//! server on 127.0.0.1 (with the package attached and an expiring, counted download
//! link), by post and through the portal; the proof names channel, time, recipient,
//! digest and delivery; test requests reach the test inbox only; bad input changes
//! nothing.

use mail_parser::MimeHeaders;
use serde_json::{Value, json};
use workflow::Role;
use workflow::core::outbox::SmtpMailer;

use crate::answer::{approve, collect_and_submit, collecting, collecting_kind, gql, sha256};
use crate::common::{TestApp, assert_code, e2e, error_paths};
use crate::export::demo_register;
use crate::smtp::SmtpServer;

const DISPATCH: &str = "mutation($in: DispatchRequestInput!) { dispatchRequest(input: $in) { request { state version } proof { channel recipient digest sizeBytes attached sentOn trackingReference notice packageId delivery { state attempts lastError } downloadLink { maxDownloads downloads revokedAt } } downloadUrl } }";
const PROOF: &str = "query($id: ID!) { dispatchProof(requestId: $id) { id packageId package { id digest } request { id } dispatcher { __typename } channel recipient digest attached dispatchedAt sentOn trackingReference delivery { state attempts lastError deliveredAt } downloadLink { expiresAt maxDownloads downloads lastDownloadAt revokedAt } } }";
const STATE: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest { state version timeline(first: 100) { nodes { kind message actorName } } } } }";

const CREDENTIALS: (&str, &str) = ("auskunft", "s3cret pass");

/// An approved ACCESS request for `email` on the demo register: its id, version and
/// frozen package.
pub(crate) async fn approved(app: &TestApp, email: &str, is_test: bool) -> (String, i64, Value) {
    let (request, task) = collecting(app, email, is_test).await;
    collect_and_submit(app, &request, &task, &[("customers.email", email)]).await;
    let package = approve(app, &request).await;
    let version = request_state(app, &request).await["version"]
        .as_i64()
        .unwrap();
    (request, version, package)
}

async fn request_state(app: &TestApp, request: &str) -> Value {
    gql(app, Role::Auditor, STATE, json!({"id": request})).await["node"].clone()
}

async fn proof(app: &TestApp, request: &str) -> Value {
    gql(app, Role::Auditor, PROOF, json!({"id": request})).await["dispatchProof"].clone()
}

async fn dispatch(app: &TestApp, role: Role, input: Value) -> Value {
    app.gql(app.key(role), DISPATCH, json!({"in": input})).await
}

/// Delivers the outbox through `mailer` until nothing is due (the loop `serve` runs
/// every second).
async fn deliver(app: &TestApp, mailer: &SmtpMailer) {
    for _ in 0..5 {
        app.workflow.deliver_outbox(mailer, 100).await.unwrap();
    }
}

fn smtp_mailer(server: &SmtpServer, test_inbox: Option<&str>) -> SmtpMailer {
    SmtpMailer::new(
        &server.url(Some(CREDENTIALS)),
        "Datenschutz <datenschutz@shop.example>",
        test_inbox,
    )
    .unwrap()
}

/// The path of a download link (the server is the test's own).
fn path_of(url: &str) -> &str {
    &url[url.find("/download/").expect("a download link")..]
}

/// `base` with the fields of `extra` added or replaced.
fn merged(base: &Value, extra: Value) -> Value {
    let mut input = base.clone();
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    input
}

/// Each input is refused with VALIDATION naming its path.
async fn refused(app: &TestApp, cases: impl IntoIterator<Item = (Value, &str)>) {
    for (input, path) in cases {
        let body = dispatch(app, Role::Agent, input.clone()).await;
        assert_code(&body, "VALIDATION");
        assert!(
            error_paths(&body).contains(&path.to_owned()),
            "{input}: {body}"
        );
    }
}

async fn get(app: &TestApp, path: &str) -> (u16, Vec<u8>) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

async fn an_answer_goes_out_by_email_and_is_proven(app: TestApp) {
    let _shop = demo_register(&app).await;
    let server = SmtpServer::start(Some(CREDENTIALS)).await;
    let (request, version, package) = approved(&app, "anna.schmidt@example.org", false).await;
    assert_eq!(
        proof(&app, &request).await,
        Value::Null,
        "not dispatched yet"
    );

    // Bad input: each refused with its field, and nothing is written.
    let base = json!({"requestId": request, "version": version});
    let with = |extra: Value| merged(&base, extra);
    let cases = [
        (
            with(json!({"channel": "EMAIL", "recipient": "someone.else@example.org"})),
            "input.recipient",
        ),
        (
            with(json!({"channel": "EMAIL", "recipient": "not an address"})),
            "input.recipient",
        ),
        (with(json!({"channel": "POSTAL"})), "input.sentOn"),
        (
            with(
                json!({"channel": "POSTAL", "sentOn": "2999-01-01", "recipient": "Anna Schmidt\nHauptstr. 1\n10115 Berlin"}),
            ),
            "input.sentOn",
        ),
        (
            with(json!({"channel": "POSTAL", "sentOn": "2000-01-01", "recipient": "Anna Schmidt"})),
            "input.sentOn",
        ),
        (
            with(
                json!({"channel": "POSTAL", "sentOn": "2026-11-30", "recipient": "x", "attachPackage": true}),
            ),
            "input.attachPackage",
        ),
        (
            with(json!({"channel": "PORTAL", "recipient": "anna.schmidt@example.org"})),
            "input.recipient",
        ),
        (
            with(json!({"channel": "EMAIL", "trackingReference": "RR1"})),
            "input.trackingReference",
        ),
    ];
    refused(&app, cases).await;
    // A date that does not parse is the client's input, in the response and in the
    // audit log.
    let body = dispatch(
        &app,
        Role::Agent,
        with(json!({"channel": "POSTAL", "sentOn": "2026-02-30"})),
    )
    .await;
    assert_code(&body, "VALIDATION");
    let audit = gql(
        &app,
        Role::Auditor,
        "{ auditEvents(last: 1, filter: {operation: \"dispatchRequest\", outcome: FAILED}) { nodes { errorCode } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        audit["auditEvents"]["nodes"][0]["errorCode"], "VALIDATION",
        "{audit}"
    );
    // Not the agent's decision to skip: a reviewer may not dispatch.
    let body = dispatch(&app, Role::Reviewer, with(json!({"channel": "EMAIL"}))).await;
    assert_code(&body, "FORBIDDEN");
    let state = request_state(&app, &request).await;
    assert_eq!(state["state"], "APPROVED");
    assert_eq!(state["version"], version, "nothing was written");
    assert_eq!(proof(&app, &request).await, Value::Null);
    assert!(
        app.workflow
            .outbox_of_request(crate::common::workflow_id(&json!(request)))
            .await
            .unwrap()
            .is_empty(),
        "no message was queued"
    );

    // By e-mail, the package attached.
    let body = dispatch(
        &app,
        Role::Agent,
        with(json!({"channel": "EMAIL", "attachPackage": true})),
    )
    .await;
    let done = &body["data"]["dispatchRequest"];
    assert_eq!(done["request"]["state"], "DISPATCHED", "{body}");
    assert_eq!(
        done["downloadUrl"],
        Value::Null,
        "the e-mail carries the link"
    );
    let p = &done["proof"];
    assert_eq!(p["channel"], "EMAIL");
    assert_eq!(p["recipient"], "anna.schmidt@example.org");
    assert_eq!(p["digest"], package["digest"]);
    assert_eq!(p["sizeBytes"], package["sizeBytes"]);
    assert_eq!(p["packageId"], package["id"]);
    assert_eq!(p["attached"], true);
    assert_eq!(p["delivery"]["state"], "PENDING");
    assert_eq!(p["downloadLink"]["maxDownloads"], 5);
    assert_eq!(p["downloadLink"]["downloads"], 0);
    // Once only: the answer is final.
    let body = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": done["request"]["version"], "channel": "EMAIL"}),
    )
    .await;
    assert_code(&body, "INVALID_TRANSITION");
    let body = app
        .gql(
            app.key(Role::Agent),
            "mutation($id: ID!) { addRequestComment(input: {requestId: $id, text: \"late\"}) { request { id } } }",
            json!({"id": request}),
        )
        .await;
    assert_code(&body, "CONFLICT");

    // The outbox delivers it through the SMTP server, authenticated.
    deliver(&app, &smtp_mailer(&server, None)).await;
    let received = server.received();
    assert_eq!(received.len(), 1, "one message: {received:?}");
    let mail = &received[0];
    assert_eq!(mail.from, "datenschutz@shop.example");
    assert_eq!(mail.to, vec!["anna.schmidt@example.org".to_owned()]);
    let message = mail.parsed();
    assert_eq!(
        message.subject(),
        Some("Ihre Auskunft / Your access request")
    );
    assert_eq!(
        message
            .to()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("anna.schmidt@example.org")
    );
    assert_eq!(
        message
            .from()
            .and_then(|a| a.first())
            .and_then(|a| a.address()),
        Some("datenschutz@shop.example")
    );
    let text = message.body_text(0).expect("a text part").into_owned();
    let digest = package["digest"].as_str().unwrap();
    assert!(text.contains(digest), "{text}");
    assert!(text.contains("höchstens 5-mal"), "{text}");
    let attachment = message.attachment(0).expect("the package attached");
    assert!(
        attachment
            .attachment_name()
            .is_some_and(|n| n.ends_with(".zip")),
        "{:?}",
        attachment.attachment_name()
    );
    assert_eq!(sha256(attachment.contents()), digest, "the frozen package");
    let url = text
        .split_whitespace()
        .find(|w| w.contains("/download/"))
        .expect("the download link in the text")
        .to_owned();

    let p = proof(&app, &request).await;
    assert_eq!(p["delivery"]["state"], "DELIVERED", "{p}");
    // The proof is a node; it names its package, request and who dispatched it.
    assert_eq!(p["package"]["id"], p["packageId"]);
    assert_eq!(p["package"]["digest"], json!(digest));
    assert_eq!(p["request"]["id"], json!(request));
    assert_eq!(p["dispatcher"]["__typename"], "ApiKey");
    crate::graph::assert_nodes_resolve(
        &app,
        Role::Auditor,
        &[
            (p["id"].clone(), "DispatchProof"),
            (p["packageId"].clone(), "AnswerPackage"),
        ],
    )
    .await;
    assert_eq!(p["delivery"]["attempts"], 1);
    assert!(p["delivery"]["deliveredAt"].is_string());

    // The subject downloads it: the package as frozen, counted, audited, noted.
    for n in 1..=5 {
        let (status, bytes) = get(&app, path_of(&url)).await;
        assert_eq!(status, 200, "download {n}");
        assert_eq!(sha256(&bytes), digest);
    }
    let (status, body) = get(&app, path_of(&url)).await;
    assert_eq!(status, 410, "the sixth download is over the limit");
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_code(&body, "CONFLICT");
    let p = proof(&app, &request).await;
    assert_eq!(p["downloadLink"]["downloads"], 5);
    assert!(p["downloadLink"]["lastDownloadAt"].is_string());
    // A token altered in one character, or of another shape, is unknown.
    let mut altered = path_of(&url).to_owned();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    assert_eq!(get(&app, &altered).await.0, 404);
    assert_eq!(get(&app, "/download/..%2F..%2Fetc%2Fpasswd").await.0, 404);
    assert_eq!(get(&app, "/download/x").await.0, 404);

    let timeline = request_state(&app, &request).await["timeline"]["nodes"].clone();
    let dispatch_notes: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "DISPATCH")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(dispatch_notes.len(), 6, "{dispatch_notes:?}");
    assert!(dispatch_notes[0].contains(digest), "{}", dispatch_notes[0]);
    assert!(
        dispatch_notes[5].contains("5 of at most 5"),
        "{}",
        dispatch_notes[5]
    );
    let audit = gql(
        &app,
        Role::Auditor,
        "{ auditEvents(last: 100, filter: {operation: \"downloadAnswer\"}) { totalCount nodes { actorName outcome objectId } } }",
        json!({}),
    )
    .await;
    assert_eq!(audit["auditEvents"]["totalCount"], 5, "{audit}");
    assert_eq!(
        audit["auditEvents"]["nodes"][0]["actorName"],
        "subject:download-link"
    );
}
e2e!(dispatch_by_email, an_answer_goes_out_by_email_and_is_proven);

async fn test_requests_reach_the_test_inbox_only(app: TestApp) {
    let _shop = demo_register(&app).await;
    let server = SmtpServer::start(Some(CREDENTIALS)).await;
    let (request, version, _) = approved(&app, "test.kunde@example.org", true).await;
    let body = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": version, "channel": "EMAIL"}),
    )
    .await;
    assert_eq!(
        body["data"]["dispatchRequest"]["proof"]["attached"], false,
        "{body}"
    );
    // No server at this address: the attempt fails, stays visible, is retried.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = SmtpMailer::new(
        &format!("smtp://{}", closed.local_addr().unwrap()),
        "datenschutz@shop.example",
        Some("qa@shop.example"),
    )
    .unwrap();
    drop(closed);
    app.workflow.deliver_outbox(&dead, 100).await.unwrap();
    let p = proof(&app, &request).await;
    assert_eq!(p["delivery"]["state"], "PENDING");
    assert_eq!(p["delivery"]["attempts"], 1);
    assert!(p["delivery"]["lastError"].is_string(), "{p}");

    // Due again, through the real server: to the test inbox, marked.
    let id = crate::common::workflow_id(&json!(request));
    let row = app.workflow.outbox_of_request(id).await.unwrap()[0]
        .row
        .clone();
    use sea_orm::{ActiveModelTrait, Set};
    let mut due: workflow::entity::outbox::ActiveModel = row.into();
    due.next_attempt_at = Set(workflow::now());
    due.update(app.workflow.store().conn()).await.unwrap();
    deliver(&app, &smtp_mailer(&server, Some("qa@shop.example"))).await;
    let received = server.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].to, vec!["qa@shop.example".to_owned()]);
    assert_eq!(
        received[0].parsed().subject(),
        Some("[TEST for test.kunde@example.org] Ihre Auskunft / Your access request")
    );
    let p = proof(&app, &request).await;
    assert_eq!(p["delivery"]["state"], "TEST_INBOX", "{p}");
    assert_eq!(p["delivery"]["attempts"], 2);

    // Without a test inbox, a test request's mail is not sent at all.
    let (request, version, _) = approved(&app, "test.zwei@example.org", true).await;
    dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": version, "channel": "EMAIL"}),
    )
    .await;
    deliver(&app, &smtp_mailer(&server, None)).await;
    assert_eq!(server.received().len(), 1, "nothing more was sent");
    assert_eq!(
        proof(&app, &request).await["delivery"]["state"],
        "SUPPRESSED"
    );

    // A mailbox the server refuses for good (550) fails at once: no day of retries.
    let refusing = SmtpServer::start_refusing(None, &["weg.kunde@example.org"]).await;
    let (request, version, _) = approved(&app, "weg.kunde@example.org", false).await;
    dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": version, "channel": "EMAIL"}),
    )
    .await;
    let mailer = SmtpMailer::new(&refusing.url(None), "datenschutz@shop.example", None).unwrap();
    deliver(&app, &mailer).await;
    let p = proof(&app, &request).await;
    assert_eq!(p["delivery"]["state"], "FAILED", "{p}");
    assert_eq!(p["delivery"]["attempts"], 12);
    assert!(
        p["delivery"]["lastError"]
            .as_str()
            .unwrap()
            .starts_with("permanent failure:"),
        "{p}"
    );
    assert!(refusing.received().is_empty());
}
e2e!(dispatch_test_inbox, test_requests_reach_the_test_inbox_only);

async fn post_and_portal_are_proven_and_links_can_be_withdrawn(app: TestApp) {
    let _shop = demo_register(&app).await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        .to_string();
    let (request, version, package) = approved(&app, "post.kunde@example.org", false).await;
    let body = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": version, "channel": "POSTAL",
               "recipient": "Post Kunde\r\nHauptstraße 1\r\n10115 Berlin",
               "sentOn": today, "trackingReference": "RR123456789DE"}),
    )
    .await;
    let p = &body["data"]["dispatchRequest"]["proof"];
    assert_eq!(p["channel"], "POSTAL", "{body}");
    assert_eq!(p["recipient"], "Post Kunde\nHauptstraße 1\n10115 Berlin");
    assert_eq!(p["sentOn"], today);
    assert_eq!(p["trackingReference"], "RR123456789DE");
    assert_eq!(p["digest"], package["digest"]);
    assert_eq!(p["delivery"], Value::Null);
    assert_eq!(p["downloadLink"], Value::Null);
    // The address is personal data: whoever reads requests without their data
    // sees the proof but not the address.
    let body = app
        .gql(
            app.key(Role::Integrator),
            "query($id: ID!) { dispatchProof(requestId: $id) { digest recipient } }",
            json!({"id": request}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    assert_eq!(body["data"]["dispatchProof"]["digest"], package["digest"]);
    assert_eq!(body["data"]["dispatchProof"]["recipient"], Value::Null);

    // Through the portal: the link is returned once, and can be withdrawn.
    let (request, version, package) = approved(&app, "portal.kunde@example.org", false).await;
    let body = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": version, "channel": "PORTAL"}),
    )
    .await;
    let done = &body["data"]["dispatchRequest"];
    assert_eq!(done["proof"]["recipient"], Value::Null, "{body}");
    let url = done["downloadUrl"].as_str().expect("the portal's link");
    // A HEAD (a link checker) does not use up a download.
    let head = app.client.head(app.url(path_of(url))).send().await.unwrap();
    assert_eq!(head.status().as_u16(), 405);
    assert_eq!(proof(&app, &request).await["downloadLink"]["downloads"], 0);
    let (status, bytes) = get(&app, path_of(url)).await;
    assert_eq!(status, 200);
    assert_eq!(sha256(&bytes), package["digest"].as_str().unwrap());
    let revoke = "mutation($id: ID!) { revokeDownloadLink(input: {requestId: $id}) { proof { downloadLink { downloads revokedAt } } } }";
    let body = app
        .gql(app.key(Role::Reviewer), revoke, json!({"id": request}))
        .await;
    assert_code(&body, "FORBIDDEN");
    let data = gql(&app, Role::Agent, revoke, json!({"id": request})).await;
    let link = &data["revokeDownloadLink"]["proof"]["downloadLink"];
    assert_eq!(link["downloads"], 1);
    assert!(link["revokedAt"].is_string());
    assert_eq!(get(&app, path_of(url)).await.0, 410);
    let body = app
        .gql(app.key(Role::Agent), revoke, json!({"id": request}))
        .await;
    assert_code(&body, "CONFLICT");
}
e2e!(
    dispatch_post_and_portal,
    post_and_portal_are_proven_and_links_can_be_withdrawn
);

async fn a_carried_out_erasure_is_answered_with_its_notice(app: TestApp) {
    let _shop = demo_register(&app).await;
    let server = SmtpServer::start(None).await;
    let email = "loesch.mich@example.org";
    let (request, task) = collecting_kind(&app, email, false, "ERASURE").await;
    collect_and_submit(&app, &request, &task, &[("customers.email", email)]).await;
    assert_eq!(
        approve(&app, &request).await,
        Value::Null,
        "no answer package"
    );
    let version = request_state(&app, &request).await["version"].clone();
    let data = gql(
        &app,
        Role::Steward,
        "mutation($id: ID!, $v: Int!) { startExecution(input: {requestId: $id, version: $v}) { request { version tasks { id kind state } } } }",
        json!({"id": request, "v": version}),
    )
    .await;
    let early = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": data["startExecution"]["request"]["version"], "channel": "EMAIL"}),
    )
    .await;
    assert_code(&early, "INVALID_TRANSITION");
    for t in data["startExecution"]["request"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "EXECUTE")
    {
        gql(
            &app,
            Role::Steward,
            "mutation($t: ID!) { completeTask(input: {taskId: $t, note: \"deleted by hand\"}) { task { state } } }",
            json!({"t": t["id"]}),
        )
        .await;
    }
    let version = request_state(&app, &request).await["version"].clone();
    let body = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": version, "channel": "EMAIL", "attachPackage": true}),
    )
    .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(error_paths(&body), vec!["input.attachPackage".to_owned()]);
    // The portal shows packages: a carried-out request is told by e-mail or post.
    let body = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": version, "channel": "PORTAL"}),
    )
    .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(error_paths(&body), vec!["input.channel".to_owned()]);
    let body = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": version, "channel": "EMAIL"}),
    )
    .await;
    let p = &body["data"]["dispatchRequest"]["proof"];
    assert_eq!(
        body["data"]["dispatchRequest"]["request"]["state"], "DISPATCHED",
        "{body}"
    );
    let notice = p["notice"].as_str().expect("the notice");
    assert!(
        notice.contains("gelöscht") && notice.contains("erased"),
        "{notice}"
    );
    assert_eq!(p["digest"], sha256(notice.as_bytes()));
    assert_eq!(p["packageId"], Value::Null);
    assert_eq!(p["downloadLink"], Value::Null, "nothing to download");
    let mailer = SmtpMailer::new(&server.url(None), "datenschutz@shop.example", None).unwrap();
    deliver(&app, &mailer).await;
    // The subject's notice, and the Art. 19 notice to the parcel service (the demo
    // recipient with a notice address).
    let mut received = server.received();
    received.sort_by(|a, b| a.to.cmp(&b.to));
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].to,
        vec!["datenschutz@paketblitz.example".to_owned()]
    );
    assert_eq!(received[1].to, vec![email.to_owned()]);
    let received = &received[1..];
    let message = received[0].parsed();
    assert_eq!(message.attachment_count(), 0);
    assert_eq!(
        message
            .body_text(0)
            .unwrap()
            .replace("\r\n", "\n")
            .trim_end(),
        notice.trim_end(),
        "the notice as proven"
    );
}
e2e!(
    dispatch_erasure_notice,
    a_carried_out_erasure_is_answered_with_its_notice
);

async fn races_and_hostile_input_change_nothing_twice(app: TestApp) {
    let _shop = demo_register(&app).await;
    let (request, version, package) = approved(&app, "race.kunde@example.org", false).await;
    let base = json!({"requestId": request, "version": version});
    let with = |extra: Value| merged(&base, extra);
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        .to_string();
    let hostile = [
        (
            with(json!({"channel": "POSTAL", "sentOn": today, "recipient": "x".repeat(10_000)})),
            "input.recipient",
        ),
        (
            with(json!({"channel": "POSTAL", "sentOn": today, "recipient": "Anna\u{0}Schmidt"})),
            "input.recipient",
        ),
        (
            with(
                json!({"channel": "POSTAL", "sentOn": today, "recipient": "Anna", "trackingReference": "RR1\nBcc: x@evil.example"}),
            ),
            "input.trackingReference",
        ),
        (
            with(
                json!({"channel": "POSTAL", "sentOn": today, "recipient": "Anna", "trackingReference": "R".repeat(201)}),
            ),
            "input.trackingReference",
        ),
        (
            with(
                json!({"channel": "EMAIL", "recipient": "race.kunde@example.org\r\nBcc: x@evil.example"}),
            ),
            "input.recipient",
        ),
        (
            with(json!({"channel": "EMAIL", "recipient": "' OR 1=1 --@example.org"})),
            "input.recipient",
        ),
    ];
    refused(&app, hostile).await;
    // A made-up or foreign request id, and a malformed one.
    let body = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": package["id"], "version": version, "channel": "PORTAL"}),
    )
    .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(request_state(&app, &request).await["state"], "APPROVED");

    // Two agents dispatch the same version at once: exactly one wins.
    let (a, b) = tokio::join!(
        dispatch(&app, Role::Agent, with(json!({"channel": "EMAIL"}))),
        dispatch(&app, Role::Dpo, with(json!({"channel": "PORTAL"}))),
    );
    let won: Vec<&Value> = [&a, &b]
        .into_iter()
        .filter(|r| r["errors"].is_null())
        .collect();
    assert_eq!(won.len(), 1, "{a}\n{b}");
    let lost = if a["errors"].is_null() { &b } else { &a };
    assert_code(lost, "CONFLICT");
    let id = crate::common::workflow_id(&json!(request));
    let queued = app.workflow.outbox_of_request(id).await.unwrap().len();
    let p = proof(&app, &request).await;
    assert_eq!(
        queued,
        usize::from(p["channel"] == "EMAIL"),
        "one message only if the e-mail won"
    );

    // Downloads at the limit, all at once: exactly the limit gets through.
    let (request, version, _) = approved(&app, "viele.downloads@example.org", false).await;
    let body = dispatch(
        &app,
        Role::Agent,
        json!({"requestId": request, "version": version, "channel": "PORTAL"}),
    )
    .await;
    let url = body["data"]["dispatchRequest"]["downloadUrl"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = path_of(&url).to_owned();
    let statuses = futures_util::future::join_all((0..12).map(|_| get(&app, &path))).await;
    let ok = statuses.iter().filter(|(s, _)| *s == 200).count();
    let gone = statuses.iter().filter(|(s, _)| *s == 410).count();
    assert_eq!(
        (ok, gone),
        (5, 7),
        "{:?}",
        statuses.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    assert_eq!(proof(&app, &request).await["downloadLink"]["downloads"], 5);
}
e2e!(
    dispatch_races_and_hostile_input,
    races_and_hostile_input_change_nothing_twice
);
