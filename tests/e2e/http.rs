//! The HTTP surface: health, readiness, metrics, GraphiQL, limits and malformed requests.

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{Backend, TestApp, assert_code};

async fn app() -> TestApp {
    let limits = api::Limits {
        schema: api::SchemaLimits {
            max_depth: 5,
            max_complexity: 200,
            ..Default::default()
        },
        max_body_bytes: 4096,
        ..Default::default()
    };
    TestApp::spawn_with(Backend::Sqlite, limits)
        .await
        .expect("SQLite is always available")
}

#[tokio::test]
async fn health_readiness_metrics_and_graphiql_answer() {
    let app = app().await;
    let get = |path: &str| app.client.get(app.url(path)).send();
    let r = get("/healthz").await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (200, "ok".into())
    );
    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    app.gql_ok(
        app.key(Role::Admin),
        "query Probe { me { apiKeyName } }",
        json!({}),
    )
    .await;
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("auskunft_graphql_requests_total{operation=\"anonymous\",outcome=\"ok\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("auskunft_graphql_request_duration_seconds_bucket"),
        "{metrics}"
    );
    assert!(
        metrics.contains("auskunft_requests_open{state=\"IN_REVIEW\"}")
            && metrics.contains("auskunft_requests_overdue")
            && metrics.contains("auskunft_requests_stalled"),
        "{metrics}"
    );
    assert!(
        metrics.contains("auskunft_db_pool_connections"),
        "{metrics}"
    );
    // GraphiQL: the page and its files come from this server, under a policy that
    // allows nothing else (the browser test in graphiql.rs runs it).
    let r = get("/graphql").await.unwrap();
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(csp, api::graphiql::CONTENT_SECURITY_POLICY);
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self';"));
    let page = r.text().await.unwrap();
    assert!(page.contains("graphiql/init.js"), "{page}");
    for (file, kind) in [
        ("graphiql-4.1.2.min.js", "text/javascript"),
        ("graphiql-4.1.2.min.css", "text/css"),
        ("react-18.3.1.production.min.js", "text/javascript"),
        ("react-dom-18.3.1.production.min.js", "text/javascript"),
        ("init.js", "text/javascript"),
        ("page.css", "text/css"),
    ] {
        assert!(page.contains(&format!("graphiql/{file}")), "{file}");
        let r = get(&format!("/graphiql/{file}")).await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{file}");
        let content_type = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(content_type.starts_with(kind), "{file}: {content_type}");
        assert!(!r.bytes().await.unwrap().is_empty(), "{file}");
    }
    for missing in [
        "/graphiql/nope.js",
        "/graphiql/..%2FCargo.toml",
        "/graphiql/",
    ] {
        let status = get(missing).await.unwrap().status().as_u16();
        assert_eq!(status, 404, "{missing}");
    }
}

#[tokio::test]
async fn named_operations_are_counted_by_name() {
    let app = app().await;
    let body = json!({"query": "query WhoAmI { me { apiKeyName } }", "operationName": "WhoAmI"});
    let r = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(app.key(Role::Agent))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("operation=\"WhoAmI\",outcome=\"ok\""),
        "{metrics}"
    );
}

#[tokio::test]
async fn oversized_malformed_and_unauthenticated_requests_get_coded_errors() {
    let app = app().await;
    let post = |body: String, auth: Option<&str>| {
        let mut r = app
            .client
            .post(app.url("/graphql"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    let check = |status: u16, body: &Value, want_status: u16, code: &str| {
        assert_eq!(status, want_status, "{body}");
        assert_code(body, code);
    };
    let big =
        json!({"query": format!("{{ me {{ apiKeyName }} }} #{}", "x".repeat(5000))}).to_string();
    let r = post(big, None).await.unwrap();
    let s = r.status().as_u16();
    check(s, &r.json().await.unwrap(), 413, "VALIDATION");
    let r = post("{not json".into(), None).await.unwrap();
    let s = r.status().as_u16();
    check(s, &r.json().await.unwrap(), 400, "VALIDATION");
    let r = post(
        json!({"query": "{ me { apiKeyName } }"}).to_string(),
        Some("Basic abc"),
    )
    .await
    .unwrap();
    let s = r.status().as_u16();
    check(s, &r.json().await.unwrap(), 401, "UNAUTHENTICATED");
    // Depth and complexity limits.
    let deep = "{ me { organization { name } } a: me { organization { name } } }";
    app.gql_ok(app.key(Role::Admin), deep, json!({})).await;
    let too_deep = "{ apiKeys { edges { node { id } } nodes { id } pageInfo { endCursor } } me { organization { id } } __schema { types { fields { type { ofType { ofType { name } } } } } } }";
    let body = app.gql(app.key(Role::Admin), too_deep, json!({})).await;
    assert_code(&body, "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("deep"),
        "{body}"
    );
    // Introspection is open, so integrators can generate clients without a key.
    let (status, body) = app
        .gql_status(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(
        (
            status,
            body["data"]["__schema"]["queryType"]["name"].as_str()
        ),
        (200, Some("Query"))
    );
}

#[tokio::test]
async fn internal_errors_do_not_leak_details() {
    let app = app().await;
    // Break the database underneath the running server: the API must answer with a
    // generic INTERNAL error carrying a correlation id, no SQL and no table names.
    use sea_orm::{ConnectionTrait, Statement};
    let conn = app.workflow.store().conn();
    conn.execute_raw(Statement::from_string(
        conn.get_database_backend(),
        "DROP TABLE audit_chain_head".to_owned(),
    ))
    .await
    .unwrap();
    let body = app
        .gql(
            app.key(Role::Admin),
            "mutation { createApiKey(input: {name: \"x\", roles: [AGENT]}) { secret } }",
            json!({}),
        )
        .await;
    assert_code(&body, "INTERNAL");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("correlation id"), "{message}");
    assert!(
        !message.to_lowercase().contains("audit_chain_head") && !message.contains("SQL"),
        "{message}"
    );
    assert!(body["errors"][0]["extensions"]["correlationId"].is_string());
    // The failed mutation left nothing behind.
    let data = app
        .gql_ok(
            app.key(Role::Admin),
            "{ apiKeys(includeRevoked: true) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["apiKeys"]["totalCount"], (Role::ALL.len() + 1) as i64);
}

#[tokio::test]
async fn readiness_fails_when_the_database_is_gone_but_health_does_not() {
    let app = app().await;
    // Closing a clone closes the shared pool underneath the running server.
    app.workflow.store().conn().clone().close().await.unwrap();
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status().as_u16(), 503);
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

#[tokio::test]
async fn metrics_can_be_served_on_their_own_address_only() {
    let app = app().await;
    let server = api::Application::build(
        api::ServerConfig {
            bind: "127.0.0.1:0".into(),
            metrics_bind: Some("127.0.0.1:0".into()),
            limits: api::Limits::default(),
            demo_crm: None,
        },
        app.reopen().await.unwrap(),
    )
    .await
    .unwrap();
    let main = server.local_addr();
    let metrics = server.metrics_addr().expect("a metrics listener");
    assert_ne!(main, metrics);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run_until(async {
        let _ = stopped.await;
    }));
    let get = |addr: std::net::SocketAddr, path: &str| {
        app.client.get(format!("http://{addr}{path}")).send()
    };
    let r = get(metrics, "/metrics").await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(r.text().await.unwrap().contains("auskunft_"));
    assert_eq!(get(main, "/metrics").await.unwrap().status().as_u16(), 404);
    assert_eq!(get(main, "/healthz").await.unwrap().status().as_u16(), 200);
    assert_eq!(
        get(metrics, "/graphql").await.unwrap().status().as_u16(),
        404
    );
    // One shutdown stops both listeners.
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
    assert!(get(metrics, "/metrics").await.is_err());
}
