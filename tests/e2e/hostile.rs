//! Hostile documents cannot take the server down: deep literals, fragment bombs,
//! alias and directive floods, over HTTP without a key and over WebSocket; plus the
//! lockout of repeated failed sign-ins. A generated fuzz test sends thousands of such
//! documents and checks the server after every batch.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{Value, json};
use workflow::Role;

use crate::common::{Backend, TestApp, assert_code};

fn nested(open: &str, inner: &str, close: &str, depth: usize) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

/// The documents of the field report, each about 4 KB or more.
fn reported_documents() -> Vec<(&'static str, String, Value)> {
    let deep = 2_000;
    let mut bomb = String::from("query Bomb { ...F0 }\n");
    for i in 0..30 {
        bomb.push_str(&format!(
            "fragment F{i} on Query {{ ...F{n} ...F{n} }}\n",
            n = i + 1
        ));
    }
    bomb.push_str("fragment F30 on Query { __typename }\n");
    vec![
        (
            "list literals",
            format!(
                "{{ __typename @include(if: {}) }}",
                nested("[", "true", "]", deep)
            ),
            json!({}),
        ),
        (
            "object literals",
            format!(
                "{{ __typename @include(if: {}) }}",
                nested("{a: ", "true", "}", deep)
            ),
            json!({}),
        ),
        (
            "variable default",
            format!(
                "query Q($v: JSON = {}) {{ __typename }}",
                nested("[", "1", "]", deep)
            ),
            json!({}),
        ),
        (
            "JSON scalar literal",
            format!(
                "mutation {{ importRegister(input: {{document: {}}}) {{ __typename }} }}",
                nested("{x: ", "1", "}", deep)
            ),
            json!({}),
        ),
        (
            "nodes(ids:)",
            format!(
                "{{ nodes(ids: {}) {{ id }} }}",
                nested("[", "\"x\"", "]", deep)
            ),
            json!({}),
        ),
        (
            "input object",
            format!(
                "mutation {{ submitRequest(input: {}) {{ created }} }}",
                nested("{subject: ", "1", "}", deep)
            ),
            json!({}),
        ),
        (
            "a comment ended by a lone carriage return",
            format!(
                "#\r{{ __typename @include(if: {}) }}",
                nested("[", "true", "]", deep)
            ),
            json!({}),
        ),
        (
            "an unterminated string ended by a lone carriage return",
            format!(
                "{{ __typename }} # \r\"x\r{{ nodes(ids: {}) {{ id }} }}",
                nested("{a: ", "1", "}", deep)
            ),
            json!({}),
        ),
        (
            "an unclosed block string the parser reads as two strings",
            format!(
                "{{ __typename @include(if: [\"\"\"x\" {}]) }}",
                nested("[", "1", "]", deep)
            ),
            json!({}),
        ),
        (
            "aliased introspection (17 KB in, megabytes out)",
            format!(
                "{{ {} }}",
                (0..150)
                    .map(|i| format!(
                        "s{i}: __schema {{ types {{ name fields {{ name args {{ name }} }} }} }}"
                    ))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            json!({}),
        ),
        ("fragment bomb", bomb, json!({})),
        (
            "alias flood",
            format!(
                "{{ {} }}",
                (0..3_000)
                    .map(|i| format!("a{i}: __typename"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            json!({}),
        ),
        (
            "directive flood",
            format!("{{ __typename {} }}", "@include(if: true) ".repeat(1_000)),
            json!({}),
        ),
        (
            "deep selections",
            nested("{ me { organization ", "{ name }", " } }", 300),
            json!({}),
        ),
    ]
}

/// Every error object in a GraphQL response or graphql-transport-ws payload.
fn errors_of(body: &Value) -> Vec<&Value> {
    match body {
        Value::Array(items) => items.iter().collect(),
        other => other["errors"]
            .as_array()
            .map(|e| e.iter().collect())
            .unwrap_or_default(),
    }
}

#[track_caller]
fn assert_all_coded(body: &Value, what: &str) {
    for error in errors_of(body) {
        assert!(
            error["extensions"]["code"].is_string(),
            "{what}: an error without extensions.code: {error}"
        );
        for location in error["locations"].as_array().into_iter().flatten() {
            assert!(
                location["line"].as_u64() >= Some(1),
                "{what}: positions start at line 1: {error}"
            );
        }
    }
}

/// The answer to operation `id` (`next` or `error`), skipping the `complete` of earlier
/// operations; a `next` is followed by `complete` from our side. `None`: the server
/// closed the socket (the close message is returned in `Err`).
async fn ws_answer(ws: &mut crate::common::WsClient, id: &str, what: &str) -> Result<Value, Value> {
    loop {
        let msg = ws
            .next()
            .await
            .unwrap_or_else(|| panic!("no answer for {what}"));
        if msg["type"] == "__closed" {
            return Err(msg);
        }
        if msg["id"] != json!(id) || msg["type"] == "complete" {
            continue;
        }
        if msg["type"] == "next" {
            ws.send(json!({"id": id, "type": "complete"})).await;
        }
        return Ok(msg);
    }
}

async fn alive(app: &TestApp) {
    let r = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("the server is still up");
    assert_eq!(r.status().as_u16(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_documents_are_refused_without_a_key_and_the_server_lives() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for (what, query, variables) in reported_documents() {
        let started = Instant::now();
        let (status, body) = app.gql_status(None, &query, variables).await;
        let took = started.elapsed();
        assert!(status < 500, "{what}: HTTP {status}: {body}");
        assert_all_coded(&body, what);
        assert_code(&body, "VALIDATION");
        let error = &body["errors"][0];
        assert!(
            error["extensions"]["limit"].is_string()
                || error["message"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("syntax error")),
            "{what}: the refusal names its limit or the syntax error: {body}"
        );
        assert!(
            took < Duration::from_secs(5),
            "{what} took {took:?}: the refusal must come before the expensive step"
        );
        alive(&app).await;
    }
    // Two fragment bombs at once, as in the report, do not grow the process.
    let bomb = reported_documents()
        .into_iter()
        .find(|(w, ..)| *w == "fragment bomb")
        .unwrap()
        .1;
    let (a, b) = tokio::join!(
        app.gql_status(None, &bomb, json!({})),
        app.gql_status(None, &bomb, json!({}))
    );
    assert_code(&a.1, "VALIDATION");
    assert_code(&b.1, "VALIDATION");
    alive(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_variables_are_refused_with_a_code() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    for depth in [40, 127, 2_000] {
        // serde_json refuses > 128 levels itself; both paths must answer with a code.
        let (status, body) = app
            .gql_raw(
                Some(app.key(Role::Admin)),
                "query Q($v: JSON) { __typename }",
                &format!(r#"{{"v": {}}}"#, nested("[", "true", "]", depth)),
            )
            .await;
        assert!(status < 500, "depth {depth}: HTTP {status}");
        assert_code(&body, "VALIDATION");
    }
    alive(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reported_documents_are_refused_over_websocket_and_the_socket_lives() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {}", app.key(Role::Auditor))}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    for (i, (what, query, variables)) in reported_documents().into_iter().enumerate() {
        let id = format!("s{i}");
        ws.send(json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))
            .await;
        let msg = ws_answer(&mut ws, &id, what)
            .await
            .unwrap_or_else(|closed| panic!("{what} closed the socket: {closed}"));
        assert_all_coded(&msg["payload"], what);
        let code = errors_of(&msg["payload"])
            .first()
            .map(|e| e["extensions"]["code"].clone());
        assert_eq!(code, Some(json!("VALIDATION")), "{what}: {msg}");
    }
    // Still serving: a plain subscription is accepted on the same socket.
    ws.subscribe("ok", "subscription { auditEventAdded { seq } }")
        .await;
    alive(&app).await;
}

fn locked_limits(client_burst: u32, key_burst: u32) -> api::Limits {
    api::Limits {
        auth: api::throttle::AuthLimits {
            client_burst,
            client_per_minute: 1,
            key_burst,
            key_per_minute: 1,
        },
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_sign_ins_lock_the_client_out_even_with_a_valid_key() {
    let app = TestApp::spawn_with(Backend::Sqlite, locked_limits(3, 100))
        .await
        .unwrap();
    let q = "{ me { apiKeyName } }";
    for i in 0..3 {
        let (status, body) = app
            .gql_status(Some(&format!("ak_{i:0>12}_wrong")), q, json!({}))
            .await;
        assert_eq!(status, 401, "{body}");
        assert_code(&body, "UNAUTHENTICATED");
    }
    let (status, body) = app.gql_status(Some("not-a-key"), q, json!({})).await;
    assert_eq!(status, 429, "{body}");
    assert_code(&body, "RATE_LIMITED");
    assert!(body["errors"][0]["extensions"]["retryAfterSeconds"].as_u64() > Some(0));
    // Locked out: the right key gets the same answer, so guessing shows nothing.
    let (status, body) = app
        .gql_status(Some(app.key(Role::Admin)), q, json!({}))
        .await;
    assert_eq!(status, 429, "{body}");
    assert_code(&body, "RATE_LIMITED");
    // WebSocket sign-ins count against the same budget.
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {}", app.key(Role::Admin))}))
        .await;
    let msg = ws.next().await.unwrap();
    assert_eq!(msg["type"], "__closed", "{msg}");
    assert!(
        msg["reason"].as_str().unwrap().contains("too many failed"),
        "{msg}"
    );
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("auskunft_auth_lockouts_total"),
        "{metrics}"
    );
}

/// Guessing the secret of a real key locks that key's prefix out from every address,
/// and the lockout is audited in the key's organization (on every database).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guessing_a_keys_secret_locks_the_key_out_and_is_audited() {
    for backend in [Backend::Sqlite, Backend::Postgres, Backend::Mysql] {
        let Some(app) = TestApp::spawn_with(backend, locked_limits(1_000, 2)).await else {
            continue;
        };
        let real = app.key(Role::Integrator).to_owned();
        let prefix = real.split('_').nth(1).unwrap().to_owned();
        let guess = format!("ak_{prefix}_guessed");
        let q = "{ me { apiKeyName } }";
        for _ in 0..2 {
            let (status, _) = app.gql_status(Some(&guess), q, json!({})).await;
            assert_eq!(status, 401, "{backend:?}");
        }
        let (status, body) = app.gql_status(Some(&guess), q, json!({})).await;
        assert_eq!(status, 429, "{backend:?}: {body}");
        // The real secret of that key is locked out too; other keys are not.
        let (status, _) = app.gql_status(Some(&real), q, json!({})).await;
        assert_eq!(status, 429, "{backend:?}");
        let events = app
            .gql_ok(
                app.key(Role::Auditor),
                r#"{ auditEvents(last: 10, filter: {operation: "authenticate"}) { nodes { outcome errorCode actorName objectType } } }"#,
                json!({}),
            )
            .await;
        let nodes = events["auditEvents"]["nodes"].as_array().unwrap();
        assert_eq!(
            nodes.len(),
            1,
            "{backend:?}: one entry per lockout: {events}"
        );
        assert_eq!(
            nodes[0],
            json!({"outcome": "DENIED", "errorCode": "RATE_LIMITED", "actorName": "client:127.0.0.1", "objectType": "ApiKey"}),
            "{backend:?}"
        );
    }
}

/// A generated hostile document (or variables) and what it is.
#[derive(Debug, Clone)]
struct Hostile {
    query: String,
    /// JSON text (built as text: a deep `Value` would overflow the test's own stack).
    variables: String,
}

fn value_literal() -> impl Strategy<Value = String> {
    (
        prop_oneof![Just("["), Just("{a: "), Just("{a: ["), Just("(")],
        prop_oneof![
            Just("true"),
            Just("1"),
            Just("\"s\""),
            Just("$v"),
            Just("null"),
            Just("ENUM")
        ],
        1usize..3_000,
    )
        .prop_map(|(open, leaf, depth)| {
            let close: String = open
                .chars()
                .rev()
                .filter_map(|c| match c {
                    '[' => Some(']'),
                    '{' => Some('}'),
                    '(' => Some(')'),
                    _ => None,
                })
                .collect();
            nested(open, leaf, &close, depth)
        })
}

const TOKENS: &[&str] = &[
    "\r",
    "\r\n",
    "{",
    "}",
    "[",
    "]",
    "(",
    ")",
    "...",
    "fragment",
    "F",
    "on",
    "Query",
    "query",
    "mutation",
    "subscription",
    "$v",
    ":",
    "=",
    "@include",
    "@skip",
    "@deprecated",
    "if",
    "true",
    "me",
    "nodes",
    "ids",
    "__typename",
    "__schema",
    "types",
    "\"",
    "\"\"\"",
    "#",
    "\n",
    "a:",
    "1e999",
    "-0",
    "\\u0000",
    "\u{0}",
    "é",
    "👍",
    "!",
    "|",
    "&",
    "$",
    "null",
];

fn hostile() -> impl Strategy<Value = Hostile> {
    let plain = |query: String| Hostile {
        query,
        variables: "{}".into(),
    };
    prop_oneof![
        // Behind whatever the parser skips: comments ended by every line terminator,
        // strings, block strings, byte-order marks.
        (
            proptest::sample::select(
                &[
                    "",
                    "#\r",
                    "# x\r",
                    "#\n",
                    "#\r\n",
                    "\u{feff}",
                    "\"\"\"a\\\"\"\"\"\"\" ",
                    "\"a\\\"\" ",
                    "\"x\r",
                ][..]
            ),
            value_literal()
        )
            .prop_map(move |(prefix, v)| plain(format!(
                "{prefix}{{ __typename @include(if: {v}) }}"
            ))),
        value_literal()
            .prop_map(move |v| plain(format!("query Q($v: JSON = {v}) {{ __typename }}"))),
        value_literal().prop_map(move |v| plain(format!("{{ nodes(ids: {v}) {{ id }} }}"))),
        value_literal().prop_map(move |v| plain(format!(
            "mutation {{ submitRequest(input: {v}) {{ created }} }}"
        ))),
        // Fragment chains with fan-out: up to 4^40 selections if expanded naively.
        (1usize..40, 1usize..5).prop_map(move |(levels, fan)| {
            let mut q = String::from("{ ...F0 }\n");
            for i in 0..levels {
                let spreads = format!("...F{} ", i + 1).repeat(fan);
                q.push_str(&format!("fragment F{i} on Query {{ {spreads}}}\n"));
            }
            q.push_str(&format!(
                "fragment F{levels} on Query {{ __typename me {{ roles }} }}\n"
            ));
            plain(q)
        }),
        // Inline-fragment and selection nesting.
        (1usize..800).prop_map(move |d| plain(nested(
            "{ ... on Query ",
            "{ __typename }",
            " }",
            d
        ))),
        (1usize..800).prop_map(move |d| plain(nested(
            "{ me { organization ",
            "{ name }",
            " } }",
            d
        ))),
        // Alias and directive floods.
        (1usize..5_000).prop_map(move |n| plain(format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: __typename "))
                .collect::<String>()
        ))),
        (1usize..3_000).prop_map(move |n| plain(format!(
            "{{ __typename {} }}",
            "@include(if: true) ".repeat(n)
        ))),
        // Token soup.
        proptest::collection::vec(proptest::sample::select(TOKENS), 1..4_000)
            .prop_map(move |t| plain(t.join(" "))),
        // Deep variables (serde_json stops at 128; below that our limit answers).
        (1usize..400).prop_map(|depth| Hostile {
            query: "query Q($v: JSON) { __typename }".into(),
            variables: format!(r#"{{"v": {}}}"#, nested(r#"{"a": ["#, "1", "]}", depth)),
        }),
        // Large literals.
        (1usize..200_000).prop_map(move |n| plain(format!(
            "{{ __type(name: \"{}\") {{ name }} }}",
            "x".repeat(n)
        ))),
    ]
}

fn generate(runner: &mut TestRunner, n: usize) -> Vec<Hostile> {
    let strategy = hostile();
    (0..n)
        .map(|_| strategy.new_tree(runner).expect("a case").current())
        .collect()
}

async fn median_plain_query(app: &TestApp) -> Duration {
    let mut times = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        app.gql_ok(app.key(Role::Auditor), "{ me { apiKeyName } }", json!({}))
            .await;
        times.push(started.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

/// Thousands of generated hostile documents over HTTP (without a key and with one) and
/// over WebSocket: no 5xx, every error coded, the server alive after every batch, and
/// no answer slower than a fixed multiple of a plain query.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_hostile_documents_never_take_the_server_down() {
    const HTTP_CASES: usize = 2_000;
    const WS_CASES: usize = 500;
    const BATCH: usize = 100;
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let plain = median_plain_query(&app).await;
    // Generous against scheduling noise on a loaded 2-core machine, yet far below the
    // seconds to minutes an unbounded document takes.
    let bound = (plain * 200).max(Duration::from_secs(2));
    let mut runner = TestRunner::new(Config {
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0a75_c0de),
        ..Config::default()
    });
    let mut slowest = (Duration::ZERO, String::new());
    let cases = generate(&mut runner, HTTP_CASES);
    for chunk in cases.chunks(BATCH) {
        for (i, case) in chunk.iter().enumerate() {
            let key = (i % 2 == 0).then(|| app.key(Role::Integrator));
            let started = Instant::now();
            let (status, body) = app.gql_raw(key, &case.query, &case.variables).await;
            let took = started.elapsed();
            let head: String = case.query.chars().take(200).collect();
            assert!(status < 500, "HTTP {status} for {head}: {body}");
            assert_all_coded(&body, &head);
            if took > slowest.0 {
                slowest = (took, head.clone());
            }
            assert!(took <= bound, "{took:?} (bound {bound:?}) for {head}");
        }
        alive(&app).await;
    }
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {}", app.key(Role::Auditor))}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    let cases = generate(&mut runner, WS_CASES);
    let mut closed_sockets = 0;
    for (batch, chunk) in cases.chunks(BATCH).enumerate() {
        for (i, case) in chunk.iter().enumerate() {
            let id = format!("c{batch}-{i}");
            let started = Instant::now();
            ws.send_raw(format!(
                r#"{{"id": "{id}", "type": "subscribe", "payload": {{"query": {}, "variables": {}}}}}"#,
                Value::String(case.query.clone()),
                case.variables
            ))
            .await;
            let head: String = case.query.chars().take(200).collect();
            match ws_answer(&mut ws, &id, &head).await {
                Ok(msg) => assert_all_coded(&msg["payload"], &head),
                Err(closed) => {
                    // Only a message JSON itself cannot parse (serde_json stops at 128
                    // levels) ends the connection, as graphql-transport-ws prescribes
                    // for invalid messages; the client reconnects.
                    assert!(
                        closed["reason"]
                            .as_str()
                            .is_some_and(|r| r.contains("recursion limit exceeded")),
                        "socket closed by {head}: {closed}"
                    );
                    closed_sockets += 1;
                    ws = app
                        .ws_connect(
                            json!({"Authorization": format!("Bearer {}", app.key(Role::Auditor))}),
                        )
                        .await;
                    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
                }
            }
            let took = started.elapsed();
            if took > slowest.0 {
                slowest = (took, head.clone());
            }
            assert!(
                took <= bound,
                "{took:?} (bound {bound:?}) over WebSocket for {head}"
            );
        }
        alive(&app).await;
    }
    eprintln!(
        "fuzz: {} documents ({HTTP_CASES} HTTP, {WS_CASES} WebSocket, {closed_sockets} messages too deep for JSON closed their socket); plain query median {plain:?}; slowest answer {:?} for {:?}",
        HTTP_CASES + WS_CASES,
        slowest.0,
        slowest.1
    );
}
