//! Webhooks end to end: a real HTTP receiver on 127.0.0.1 gets signed events of
//! requests (created, transitioned, dispatched, overdue), a failed delivery is
//! retried and visible in the log, rotation and deactivation apply at once, and
//! nothing is sent for a change that did not happen.

use std::sync::{Arc, Mutex};

use hmac::{KeyInit, Mac};
use poem::http::StatusCode;
use poem::web::Data;
use poem::{EndpointExt, Request, Route, handler, post};
use serde_json::{Value, json};
use workflow::Role;

use crate::answer::gql;
use crate::common::{TestApp, assert_code, e2e, error_paths};
use crate::dispatch::approved;
use crate::export::demo_register;

/// One POST the receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Posted {
    pub(crate) event: String,
    delivery: String,
    signature: String,
    pub(crate) body: String,
}

#[derive(Clone, Default)]
pub(crate) struct Receiver {
    posts: Arc<Mutex<Vec<Posted>>>,
    /// How many of the next `request.created` POSTs to answer with 500 (POSTs run
    /// in parallel: the event, not the order, says which one fails).
    fail_next: Arc<Mutex<usize>>,
}

#[handler]
fn receive(req: &Request, body: String, receiver: Data<&Receiver>) -> StatusCode {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    receiver.posts.lock().unwrap().push(Posted {
        event: header("x-auskunft-event"),
        delivery: header("x-auskunft-delivery"),
        signature: header("x-auskunft-signature"),
        body,
    });
    let mut fail = receiver.fail_next.lock().unwrap();
    if *fail > 0 && header("x-auskunft-event") == "request.created" {
        *fail -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

impl Receiver {
    /// Serves on 127.0.0.1; returns the hook's URL.
    pub(crate) async fn start(&self) -> String {
        let receiver = self.clone();
        let addr = crate::common::serve_on_loopback(|_| {
            Route::new().at("/hook", post(receive)).data(receiver)
        })
        .await;
        format!("http://{addr}/hook")
    }

    pub(crate) fn posts(&self) -> Vec<Posted> {
        self.posts.lock().unwrap().clone()
    }
}

/// Checks a signature as a receiver would: HMAC-SHA256 of "<t>.<body>", fresh `t`.
pub(crate) fn verify(secret: &str, posted: &Posted) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in posted.signature.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - t).abs() > 300 {
        return false;
    }
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{}", posted.body).as_bytes());
    mac.verify_slice(&v1).is_ok()
}

async fn deliver(app: &TestApp) -> usize {
    let client = workflow::webhooks::client().unwrap();
    app.workflow.deliver_webhooks(&client, 100).await.unwrap()
}

/// Delivers until nothing more is due now (one call takes at most four of a webhook).
pub(crate) async fn deliver_all(app: &TestApp) {
    while deliver(app).await > 0 {}
}

const CREATE: &str = "mutation($in: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $in) { subscription { id url events active } secret } }";
const LOG: &str = "query { webhookSubscriptions { id deliveries(first: 100) { totalCount nodes { id event state attempts lastStatus lastError payload } } } }";

async fn webhooks_are_signed_retried_and_logged(app: TestApp) {
    let _shop = demo_register(&app).await;
    let receiver = Receiver::default();
    let url = receiver.start().await;

    // Bad input is refused with its field, and nothing is made.
    for (input, path) in [
        (
            json!({"url": "ftp://crm.example.com/hook", "events": ["REQUEST_CREATED"]}),
            "input.url",
        ),
        (
            json!({"url": "https://user:pw@crm.example.com/hook", "events": ["REQUEST_CREATED"]}),
            "input.url",
        ),
        (
            json!({"url": "not a url", "events": ["REQUEST_CREATED"]}),
            "input.url",
        ),
        (
            json!({"url": "https://crm.example.com/hook\r\nX-Evil: 1", "events": ["REQUEST_CREATED"]}),
            "input.url",
        ),
        (
            json!({"url": "https://crm.example.com/ho\u{0}ok", "events": ["REQUEST_CREATED"]}),
            "input.url",
        ),
        (
            json!({"url": format!("https://crm.example.com/{}", "x".repeat(2000)), "events": ["REQUEST_CREATED"]}),
            "input.url",
        ),
        (json!({"url": url, "events": []}), "input.events"),
        (
            json!({"url": url, "events": ["REQUEST_CREATED"], "description": "x".repeat(201)}),
            "input.description",
        ),
    ] {
        let body = app
            .gql(app.key(Role::Admin), CREATE, json!({"in": input}))
            .await;
        assert_code(&body, "VALIDATION");
        assert_eq!(error_paths(&body), vec![path.to_owned()], "{input}");
    }
    let data = gql(
        &app,
        Role::Admin,
        "{ webhookSubscriptions { id } }",
        json!({}),
    )
    .await;
    assert_eq!(data["webhookSubscriptions"], json!([]));

    let data = gql(
        &app,
        Role::Dpo,
        CREATE,
        json!({"in": {"url": url, "events": ["REQUEST_CREATED", "REQUEST_TRANSITIONED", "REQUEST_DISPATCHED", "REQUEST_OVERDUE"], "description": "CRM"}}),
    )
    .await;
    let made = &data["createWebhookSubscription"];
    let secret = made["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{secret}"
    );
    let sub_id = made["subscription"]["id"].clone();

    // A request is submitted and cancelled; a refused event sends nothing.
    let data = gql(
        &app,
        Role::Integrator,
        "mutation { submitRequest(input: {kind: ACCESS, channel: WEB_FORM, identities: [{kind: EMAIL, value: \"hook.kunde@example.org\"}]}) { request { id version } } }",
        json!({}),
    )
    .await;
    let request = data["submitRequest"]["request"]["id"].clone();
    let body = app
        .gql(
            app.key(Role::Agent),
            "mutation($id: ID!) { closeRequest(input: {requestId: $id, version: 1}) { request { state } } }",
            json!({"id": request}),
        )
        .await;
    assert_code(&body, "INVALID_TRANSITION");
    gql(
        &app,
        Role::Agent,
        "mutation($id: ID!) { cancelRequest(input: {requestId: $id, version: 1, reason: \"withdrawn\"}) { request { state } } }",
        json!({"id": request}),
    )
    .await;

    // The first POST fails (500): it stays pending, visible, and is retried.
    *receiver.fail_next.lock().unwrap() = 1;
    assert_eq!(deliver(&app).await, 1);
    let log = gql(&app, Role::Admin, LOG, json!({})).await["webhookSubscriptions"][0]["deliveries"]
        .clone();
    assert_eq!(log["totalCount"], 2, "{log}");
    // The subscription and its deliveries are nodes (for whoever may manage webhooks).
    crate::graph::assert_nodes_resolve(
        &app,
        Role::Admin,
        &[
            (sub_id.clone(), "WebhookSubscription"),
            (log["nodes"][0]["id"].clone(), "WebhookDelivery"),
        ],
    )
    .await;
    let created = &log["nodes"][0];
    assert_eq!(created["event"], "REQUEST_CREATED");
    assert_eq!(created["state"], "PENDING");
    assert_eq!(created["attempts"], 1);
    assert_eq!(created["lastStatus"], 500);
    let moved = &log["nodes"][1];
    assert_eq!(moved["event"], "REQUEST_TRANSITIONED");
    assert_eq!(moved["state"], "DELIVERED");
    assert_eq!(moved["payload"]["data"]["fromState"], "RECEIVED");
    assert_eq!(moved["payload"]["data"]["state"], "CANCELLED");
    assert_eq!(moved["payload"]["data"]["transition"], "CANCEL");
    assert_eq!(moved["payload"]["data"]["requestId"], request);
    assert_eq!(deliver(&app).await, 0, "not due again yet");
    gql(
        &app,
        Role::Admin,
        "mutation($id: ID!) { redeliverWebhook(input: {deliveryId: $id}) { delivery { state attempts } } }",
        json!({"id": created["id"]}),
    )
    .await;
    assert_eq!(deliver(&app).await, 1);

    let posts = receiver.posts();
    assert_eq!(posts.len(), 3, "{posts:?}");
    for p in &posts {
        assert!(verify(&secret, p), "signature of {p:?}");
        assert!(!verify("whsec_wrong", p));
        let body: Value = serde_json::from_str(&p.body).unwrap();
        assert_eq!(body["type"], p.event);
        assert!(!p.delivery.is_empty());
        assert!(
            !p.body.contains("hook.kunde"),
            "no personal data: {}",
            p.body
        );
    }
    let created: Vec<&Posted> = posts
        .iter()
        .filter(|p| p.event == "request.created")
        .collect();
    assert_eq!(created.len(), 2, "the failed POST and its retry");
    assert_eq!(
        created[0].delivery, created[1].delivery,
        "the same delivery again"
    );
    // A tampered body fails the check.
    let mut tampered = posts
        .iter()
        .find(|p| p.event == "request.transitioned")
        .unwrap()
        .clone();
    tampered.body = tampered.body.replace("CANCELLED", "APPROVED");
    assert!(!verify(&secret, &tampered));

    // Dispatch: transitioned and dispatched; the rotated secret signs from now on.
    let data = gql(
        &app,
        Role::Admin,
        "mutation($id: ID!) { rotateWebhookSecret(input: {id: $id}) { secret } }",
        json!({"id": sub_id}),
    )
    .await;
    let rotated = data["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(rotated, secret);
    let (request, version, _) = approved(&app, "hook.zwei@example.org", false).await;
    gql(
        &app,
        Role::Agent,
        "mutation($in: DispatchRequestInput!) { dispatchRequest(input: $in) { request { state } } }",
        json!({"in": {"requestId": request, "version": version, "channel": "PORTAL"}}),
    )
    .await;
    deliver_all(&app).await;
    let posts = receiver.posts();
    let dispatched: Vec<&Posted> = posts
        .iter()
        .filter(|p| p.event == "request.dispatched")
        .collect();
    assert_eq!(dispatched.len(), 1, "{posts:?}");
    assert!(verify(&rotated, dispatched[0]));
    assert!(
        !verify(&secret, dispatched[0]),
        "the old secret no longer signs"
    );

    // Overdue: once per request, however often the sweep runs.
    let data = gql(
        &app,
        Role::Integrator,
        "mutation($at: DateTime!) { submitRequest(input: {kind: ACCESS, channel: LETTER, receivedAt: $at, identities: [{kind: EMAIL, value: \"alt.kunde@example.org\"}]}) { request { id } } }",
        json!({"at": (chrono::Utc::now() - chrono::Duration::days(90)).to_rfc3339()}),
    )
    .await;
    let late = data["submitRequest"]["request"]["id"].clone();
    assert_eq!(app.workflow.sweep_overdue_webhooks().await.unwrap(), 1);
    assert_eq!(app.workflow.sweep_overdue_webhooks().await.unwrap(), 0);
    let before = receiver.posts().len();
    deliver_all(&app).await;
    let posts = receiver.posts();
    let overdue: Vec<&Posted> = posts[before..]
        .iter()
        .filter(|p| p.event == "request.overdue")
        .collect();
    assert_eq!(overdue.len(), 1, "{posts:?}");
    let body: Value = serde_json::from_str(&overdue[0].body).unwrap();
    assert_eq!(body["data"]["requestId"], late);

    // Paused: what is queued waits, keeping its attempts, and goes out on resuming.
    deliver_all(&app).await;
    gql(
        &app,
        Role::Integrator,
        "mutation { submitRequest(input: {kind: ACCESS, channel: WEB_FORM, identities: [{kind: EMAIL, value: \"pause.kunde@example.org\"}]}) { request { id } } }",
        json!({}),
    )
    .await;
    let pause = "mutation($id: ID!, $a: Boolean!) { updateWebhookSubscription(input: {id: $id, active: $a, description: \"\"}) { subscription { active description } } }";
    let data = gql(&app, Role::Admin, pause, json!({"id": sub_id, "a": false})).await;
    assert_eq!(
        data["updateWebhookSubscription"]["subscription"]["description"],
        Value::Null,
        "a blank description clears it"
    );
    assert_eq!(deliver(&app).await, 0);
    let log = gql(&app, Role::Admin, LOG, json!({})).await["webhookSubscriptions"][0]["deliveries"]
        .clone();
    let waiting: Vec<&Value> = log["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["state"] == "PENDING")
        .collect();
    assert_eq!(waiting.len(), 1, "{log}");
    assert_eq!(waiting[0]["attempts"], 0, "no attempt while paused");
    gql(&app, Role::Admin, pause, json!({"id": sub_id, "a": true})).await;
    assert_eq!(deliver(&app).await, 1);
    // Deactivated: nothing more is queued.
    gql(&app, Role::Admin, pause, json!({"id": sub_id, "a": false})).await;
    let total = |log: &Value| log["webhookSubscriptions"][0]["deliveries"]["totalCount"].clone();
    let before = total(&gql(&app, Role::Admin, LOG, json!({})).await);
    gql(
        &app,
        Role::Integrator,
        "mutation { submitRequest(input: {kind: ACCESS, channel: WEB_FORM, identities: [{kind: EMAIL, value: \"still.kunde@example.org\"}]}) { request { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(total(&gql(&app, Role::Admin, LOG, json!({})).await), before);

    // Another organization's id is not found; deletion takes the log with it.
    let body = app
        .gql(
            app.key(Role::Admin),
            "mutation($id: ID!) { updateWebhookSubscription(input: {id: $id, active: true}) { subscription { id } } }",
            json!({"id": api::graphql::ids::global_id("WebhookSubscription", uuid::Uuid::now_v7())}),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    gql(
        &app,
        Role::Admin,
        "mutation($id: ID!) { deleteWebhookSubscription(input: {id: $id}) { deletedId } }",
        json!({"id": sub_id}),
    )
    .await;
    let data = gql(
        &app,
        Role::Admin,
        "{ webhookSubscriptions { id } }",
        json!({}),
    )
    .await;
    assert_eq!(data["webhookSubscriptions"], json!([]));
}
e2e!(webhooks_signed, webhooks_are_signed_retried_and_logged);

/// Answers only once two POSTs are in at the same time (or after 5 s with 500): a
/// deliverer that posts one at a time fails.
#[derive(Clone)]
struct Pair {
    barrier: Arc<tokio::sync::Barrier>,
    posts: Arc<Mutex<usize>>,
}

#[handler]
async fn pair(pair: Data<&Pair>) -> StatusCode {
    *pair.posts.lock().unwrap() += 1;
    let barrier = pair.barrier.clone();
    match tokio::time::timeout(std::time::Duration::from_secs(5), barrier.wait()).await {
        Ok(_) => StatusCode::NO_CONTENT,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

async fn webhooks_are_posted_in_parallel_and_fairly(app: TestApp) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let state = Pair {
        barrier: Arc::new(tokio::sync::Barrier::new(2)),
        posts: Default::default(),
    };
    let route = Route::new().at("/pair", post(pair)).data(state.clone());
    tokio::spawn(async move {
        let _ = poem::Server::new(poem::listener::TcpListener::bind(addr.to_string()))
            .run(route)
            .await;
    });
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let url = format!("http://{addr}/pair");
    // Two webhooks, one event: both POSTs must be under way at once.
    for _ in 0..2 {
        gql(
            &app,
            Role::Admin,
            CREATE,
            json!({"in": {"url": url, "events": ["REQUEST_CREATED"]}}),
        )
        .await;
    }
    let submit = "mutation($e: String!) { submitRequest(input: {kind: ACCESS, channel: WEB_FORM, identities: [{kind: EMAIL, value: $e}]}) { request { id } } }";
    gql(
        &app,
        Role::Integrator,
        submit,
        json!({"e": "eins@example.org"}),
    )
    .await;
    assert_eq!(deliver(&app).await, 2, "both delivered together");

    // One webhook with many events due: one call takes at most four of them, so
    // that one receiver cannot fill a call.
    let data = gql(
        &app,
        Role::Admin,
        "{ webhookSubscriptions { id } }",
        json!({}),
    )
    .await;
    for s in data["webhookSubscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .skip(1)
    {
        gql(
            &app,
            Role::Admin,
            "mutation($id: ID!) { deleteWebhookSubscription(input: {id: $id}) { deletedId } }",
            json!({"id": s["id"]}),
        )
        .await;
    }
    for i in 0..6 {
        gql(
            &app,
            Role::Integrator,
            submit,
            json!({"e": format!("k{i}@example.org")}),
        )
        .await;
    }
    *state.posts.lock().unwrap() = 0;
    // Each POST waits for a partner: the pairs within one call are answered.
    assert_eq!(deliver(&app).await, 4, "four of one webhook per call");
    assert_eq!(*state.posts.lock().unwrap(), 4);
    assert_eq!(deliver(&app).await, 2, "the rest in the next call");
}
e2e!(
    webhooks_parallel,
    webhooks_are_posted_in_parallel_and_fairly
);
