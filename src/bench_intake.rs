//! `auskunft bench intake`: submits requests and fires transitions over HTTP against
//! the real server on 127.0.0.1, on SQLite and PostgreSQL, and prints requests/s.

use std::sync::Arc;

use clap::Args;
use serde_json::{Value, json};
use workflow::StoreOptions;

use crate::bench::{BenchError, measure, on_each_database, open_scratch, quantile_ms, serve};

/// Options of `bench intake`.
#[derive(Args, Debug, Clone)]
pub struct IntakeBench {
    /// Requests to submit (each is then verified: one transition per request).
    #[arg(long, default_value_t = 1000)]
    requests: usize,
    /// Calls in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Also run on PostgreSQL: an admin URL of a server where a scratch database may
    /// be created and dropped (e.g. postgres://postgres@127.0.0.1:5432/postgres).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// The pool of the scratch store (from `--database-max-connections`).
    #[arg(skip)]
    pub pool: StoreOptions,
}

/// (global id, version) of each submitted request, by index.
type Submitted = Arc<std::sync::Mutex<Vec<Option<(String, i64)>>>>;

const SUBMIT: &str =
    "mutation($i: SubmitRequestInput!) { submitRequest(input: $i) { request { id version } } }";
const VERIFY: &str = "mutation($i: VerifyIdentityInput!) { verifyIdentity(input: $i) { request { state tasks { id } } } }";

/// Runs the bench on SQLite and, if given, PostgreSQL.
pub async fn run(opts: IntakeBench) -> Result<(), BenchError> {
    on_each_database(opts.postgres.as_deref(), |label, url| {
        let opts = opts.clone();
        async move { run_on(&label, &url, &opts).await }
    })
    .await
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    query: &str,
    input: Value,
) -> Result<Value, BenchError> {
    let body: Value = client
        .post(url)
        .bearer_auth(key)
        .json(&json!({"query": query, "variables": {"i": input}}))
        .send()
        .await?
        .json()
        .await?;
    if let Some(errors) = body.get("errors") {
        return Err(BenchError::Query(errors.to_string()));
    }
    Ok(body["data"].clone())
}

async fn run_on(label: &str, url: &str, opts: &IntakeBench) -> Result<(), BenchError> {
    let workflow = open_scratch(url, &opts.pool).await?;
    // The demo organization: a register with a mapped shop database, one key per role.
    let shop = std::env::temp_dir().join(format!(
        "auskunft-bench-shop-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let setup = workflow.ensure_demo(&shop).await?;
    let key = |role: workflow::Role| {
        setup
            .keys
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, k)| k.clone())
            .expect("a key per role")
    };
    let (integrator, agent) = (key(workflow::Role::Integrator), key(workflow::Role::Agent));
    let (base, server) = serve(&workflow).await?;
    let client = reqwest::Client::new();

    let ids: Submitted = Arc::new(std::sync::Mutex::new(vec![None; opts.requests]));
    let submit = {
        let (client, base, ids) = (client.clone(), base.clone(), ids.clone());
        move |i: usize| {
            let (client, base, key, ids) = (
                client.clone(),
                base.clone(),
                integrator.clone(),
                ids.clone(),
            );
            async move {
                let input = json!({
                    "kind": "ACCESS", "channel": "WEB_FORM", "isTest": true,
                    "identities": [{"kind": "EMAIL", "value": format!("bench{i}@example.com")}],
                    "text": "Bitte um Auskunft nach Art. 15 DSGVO.",
                    "idempotencyKey": format!("bench-{i}"),
                });
                let data = post(&client, &base, &key, SUBMIT, input).await?;
                let r = &data["submitRequest"]["request"];
                ids.lock().expect("not poisoned")[i] = Some((
                    r["id"].as_str().unwrap_or_default().to_owned(),
                    r["version"].as_i64().unwrap_or(1),
                ));
                Ok(())
            }
        }
    };
    let (lat, wall) = measure(opts.requests, opts.concurrency, submit).await?;
    println!(
        "{label}: submitRequest x {} over HTTP, concurrency {}: p50 {:.2} ms, p99 {:.2} ms, {:.0} requests/s",
        lat.len(),
        opts.concurrency,
        quantile_ms(&lat, 0.50),
        quantile_ms(&lat, 0.99),
        lat.len() as f64 / wall.as_secs_f64()
    );

    let verify = {
        let (client, base, ids) = (client.clone(), base.clone(), ids.clone());
        move |i: usize| {
            let (client, base, key, ids) =
                (client.clone(), base.clone(), agent.clone(), ids.clone());
            async move {
                let (id, version) = ids.lock().expect("not poisoned")[i]
                    .clone()
                    .expect("submitted");
                let input = json!({"requestId": id, "version": version, "method": "DOCUMENT_CHECK",
                                   "evidence": "Personalausweis geprüft"});
                post(&client, &base, &key, VERIFY, input).await.map(|_| ())
            }
        }
    };
    let statements_before = workflow.store().statements_executed();
    let (lat, wall) = measure(opts.requests, opts.concurrency, verify).await?;
    let statements = workflow.store().statements_executed() - statements_before;
    println!(
        "{label}: verifyIdentity transition (RECEIVED -> COLLECTING, creates the collection task) x {}, concurrency {}: p50 {:.2} ms, p99 {:.2} ms, {:.0} transitions/s, {:.1} SQL statements per transition",
        lat.len(),
        opts.concurrency,
        quantile_ms(&lat, 0.50),
        quantile_ms(&lat, 0.99),
        lat.len() as f64 / wall.as_secs_f64(),
        statements as f64 / lat.len().max(1) as f64
    );
    server.abort();
    let _ = std::fs::remove_file(&shop);
    Ok(())
}
