//! `auskunft bench register`: seeds a large register, serves it with the real server
//! on 127.0.0.1, and measures the nested activity page over HTTP.

use std::time::{Duration, Instant};

use clap::Args;
use sea_orm::{ConnectionTrait, Database};
use uuid::Uuid;
use workflow::access::audit::Actor;
use workflow::register::activities::{ActivityDraft, ActivityStatus};
use workflow::register::fields::{ErasureStrategy, FieldDraft, IdentityType};
use workflow::register::purposes::{LegalBasis, PurposeDraft};
use workflow::register::recipients::{RecipientDraft, RecipientKind, Safeguard, TransferDraft};
use workflow::register::retention::{ExpiryAction, RetentionDraft, RetentionTrigger};
use workflow::register::sources::{ConnectorKind, SourceDraft};
use workflow::{PageRequest, Principal, Store, StoreOptions, Workflow};

/// Options of `bench register`.
#[derive(Args, Debug, Clone)]
pub struct RegisterBench {
    /// Processing activities to seed.
    #[arg(long, default_value_t = 1000)]
    activities: usize,
    /// Data sources to seed.
    #[arg(long, default_value_t = 200)]
    sources: usize,
    /// Data fields to seed (spread over the sources).
    #[arg(long, default_value_t = 5000)]
    fields: usize,
    /// Requests to measure.
    #[arg(long, default_value_t = 500)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Activities per page.
    #[arg(long, default_value_t = 50)]
    page_size: usize,
    /// Also run on PostgreSQL: an admin URL of a server where a scratch database may
    /// be created and dropped (e.g. postgres://postgres@127.0.0.1:5432/postgres).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// The pool of the scratch store (from `--database-max-connections`).
    #[arg(skip)]
    pub pool: StoreOptions,
}

/// Why the bench could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Workflow(#[from] workflow::Error),
    #[error("{0}")]
    Connect(#[from] workflow::ConnectError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the page query failed: {0}")]
    Query(String),
}

const PAGE_QUERY: &str =
    "query Page($n: Int) { processingActivities(first: $n) { totalCount nodes { name
    purposes { name legalBasis } dataCategories { key sensitivity } subjectCategories { key }
    sources { name connectorKind } recipients { name kind } transfers { country safeguard }
    retentionPolicy { duration } } } }";

/// Runs the bench on SQLite (a temporary file) and, if given, PostgreSQL.
pub async fn run(opts: RegisterBench) -> Result<(), BenchError> {
    on_each_database(opts.postgres.as_deref(), |label, url| {
        let opts = opts.clone();
        async move { run_on(&label, &url, &opts).await }
    })
    .await
}

/// Runs `bench(label, url)` on a temporary SQLite file and, if `postgres` (an admin
/// URL) is given, on a scratch PostgreSQL database; both are removed afterwards.
pub(crate) async fn on_each_database<F, Fut>(
    postgres: Option<&str>,
    bench: F,
) -> Result<(), BenchError>
where
    F: Fn(String, String) -> Fut,
    Fut: std::future::Future<Output = Result<(), BenchError>>,
{
    let file = std::env::temp_dir().join(format!("auskunft-bench-{}.db", Uuid::new_v4().simple()));
    let sqlite = format!("sqlite://{}?mode=rwc", file.display());
    let result = bench("SQLite".into(), sqlite).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
    }
    result?;
    if let Some(admin_url) = postgres {
        let name = format!("auskunft_bench_{}", Uuid::new_v4().simple());
        let admin = Database::connect(admin_url).await?;
        admin
            .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
            .await?;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        let result = bench("PostgreSQL".into(), format!("{base}/{name}")).await;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
            .await?;
        result?;
    }
    Ok(())
}

/// Latencies of `total` calls of `call(i)` with `concurrency` in flight, and the wall time.
pub(crate) async fn measure<F, Fut>(
    total: usize,
    concurrency: usize,
    call: F,
) -> Result<(Vec<Duration>, Duration), BenchError>
where
    F: Fn(usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), BenchError>> + Send,
{
    let workers = concurrency.max(1);
    let started = Instant::now();
    let mut handles = Vec::new();
    for w in 0..workers {
        let call = call.clone();
        handles.push(tokio::spawn(async move {
            let mut times = Vec::new();
            let mut i = w;
            while i < total {
                let t = Instant::now();
                call(i).await?;
                times.push(t.elapsed());
                i += workers;
            }
            Ok::<_, BenchError>(times)
        }));
    }
    let mut latencies = Vec::with_capacity(total);
    for h in handles {
        latencies.extend(h.await.expect("bench worker does not panic")?);
    }
    latencies.sort();
    Ok((latencies, started.elapsed()))
}

/// The `p` quantile of sorted latencies, in milliseconds.
pub(crate) fn quantile_ms(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1));
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

/// A workflow on a freshly migrated database, with its own key for data at rest;
/// SQLite sources (the demo shop) live in the temporary directory.
pub(crate) async fn open_scratch(url: &str, pool: &StoreOptions) -> Result<Workflow, BenchError> {
    let store = Store::connect_and_migrate(url, pool).await?;
    let cipher = workflow::core::crypto::Cipher::from_base64(
        &workflow::core::crypto::Cipher::generate_key(),
    )
    .expect("a generated key is valid");
    let options = workflow::WorkflowOptions {
        sources: workflow::SourceSettings {
            sqlite_dir: std::env::temp_dir(),
            allowed_hosts: None,
        },
        ..Default::default()
    };
    Ok(Workflow::open_with(store, cipher, options).await?)
}

/// The real server for `workflow` on 127.0.0.1 (a random port): its GraphQL URL and
/// the task to abort when done.
pub(crate) async fn serve(
    workflow: &Workflow,
) -> Result<(String, tokio::task::JoinHandle<std::io::Result<()>>), BenchError> {
    let app = api::Application::build(
        api::ServerConfig {
            bind: "127.0.0.1:0".into(),
            metrics_bind: None,
            limits: api::Limits::default(),
            demo_crm: None,
        },
        workflow.clone(),
    )
    .await?;
    let base = format!("http://{}/graphql", app.local_addr());
    Ok((base, tokio::spawn(app.run_until_stopped())))
}

async fn run_on(label: &str, url: &str, opts: &RegisterBench) -> Result<(), BenchError> {
    let workflow = open_scratch(url, &opts.pool).await?;
    let started = Instant::now();
    let admin = seed(&workflow, opts).await?;
    println!(
        "{label}: seeded {} activities, {} sources, {} fields in {:.1} s",
        opts.activities,
        opts.sources,
        opts.fields,
        started.elapsed().as_secs_f64()
    );

    let (base, server) = serve(&workflow).await?;
    let client = reqwest::Client::new();
    let body = serde_json::json!({"query": PAGE_QUERY, "variables": {"n": opts.page_size}, "operationName": "Page"});
    // Warm up (and check the answer once).
    let first: serde_json::Value = client
        .post(&base)
        .bearer_auth(&admin)
        .json(&body)
        .send()
        .await?
        .json()
        .await?;
    if first.get("errors").is_some() {
        return Err(BenchError::Query(first["errors"].to_string()));
    }
    let statements_before = workflow.store().statements_executed();
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(opts.requests);
    let per_worker = opts.requests.div_ceil(opts.concurrency.max(1));
    let mut workers = Vec::new();
    for _ in 0..opts.concurrency.max(1) {
        let (client, base, admin, body) =
            (client.clone(), base.clone(), admin.clone(), body.clone());
        workers.push(tokio::spawn(async move {
            let mut times = Vec::with_capacity(per_worker);
            for _ in 0..per_worker {
                let t = Instant::now();
                let resp = client
                    .post(&base)
                    .bearer_auth(&admin)
                    .json(&body)
                    .send()
                    .await?;
                let _ = resp.bytes().await?;
                times.push(t.elapsed());
            }
            Ok::<_, reqwest::Error>(times)
        }));
    }
    for worker in workers {
        latencies.extend(worker.await.expect("bench worker does not panic")?);
    }
    let wall = started.elapsed();
    let statements = workflow.store().statements_executed() - statements_before;
    server.abort();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label}: {} requests of a {}-activity page with nested relations, concurrency {}: p50 {:.2} ms, p99 {:.2} ms, {:.0} requests/s, {:.1} SQL statements per request",
        latencies.len(),
        opts.page_size,
        opts.concurrency,
        ms(pct(0.50)),
        ms(pct(0.99)),
        latencies.len() as f64 / wall.as_secs_f64(),
        statements as f64 / latencies.len() as f64,
    );
    Ok(())
}

/// Seeds the register; returns an admin API key.
async fn seed(wf: &Workflow, opts: &RegisterBench) -> Result<String, BenchError> {
    let org = wf
        .create_organization("Bench GmbH", &Actor::system("bench"))
        .await?;
    let admin = Principal {
        key_id: org.admin_key.key.id,
        org_id: org.organization.id,
        key_name: "initial admin".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    let all = PageRequest {
        first: Some(100),
        ..Default::default()
    };
    let categories: Vec<Uuid> = wf
        .data_categories(&admin, &Default::default(), &all)
        .await?
        .items
        .iter()
        .filter(|c| c.sensitivity == workflow::register::taxonomy::Sensitivity::Ordinary)
        .map(|c| c.id)
        .collect();
    let subjects: Vec<Uuid> = wf
        .subject_categories(&admin, None, &all)
        .await?
        .items
        .iter()
        .map(|c| c.id)
        .collect();
    let mut purposes = Vec::new();
    for i in 0..20 {
        let basis = [
            LegalBasis::Contract,
            LegalBasis::Consent,
            LegalBasis::LegalObligation,
        ][i % 3];
        purposes.push(
            wf.create_purpose(
                &admin,
                PurposeDraft {
                    name: format!("Purpose {i}"),
                    description: None,
                    legal_basis: basis,
                    legal_reference: (basis == LegalBasis::LegalObligation)
                        .then(|| "§ 147 AO".into()),
                    balancing_test: None,
                    special_category_condition: None,
                },
            )
            .await?
            .id,
        );
    }
    let mut recipients = Vec::new();
    let mut transfers = Vec::new();
    for i in 0..50 {
        let r = wf
            .create_recipient(
                &admin,
                RecipientDraft {
                    name: format!("Recipient {i}"),
                    kind: RecipientKind::Processor,
                    country: Some(if i % 5 == 0 { "US" } else { "DE" }.into()),
                    description: None,
                    contract_reference: None,
                    notice_email: None,
                },
            )
            .await?;
        if i % 5 == 0 {
            let t = wf
                .create_transfer(
                    &admin,
                    TransferDraft {
                        recipient_id: r.id,
                        country: "US".into(),
                        safeguard: Safeguard::StandardContractualClauses,
                        safeguard_description: None,
                    },
                )
                .await?;
            transfers.push((r.id, t.id));
        }
        recipients.push(r.id);
    }
    let mut retention = Vec::new();
    for i in 0..10 {
        retention.push(
            wf.create_retention_policy(
                &admin,
                RetentionDraft {
                    name: format!("Retention {i}"),
                    description: None,
                    duration: format!("P{}Y", i + 1),
                    trigger: RetentionTrigger::AfterLastContact,
                    trigger_description: None,
                    legal_reference: None,
                    action_at_expiry: ExpiryAction::Delete,
                },
            )
            .await?
            .id,
        );
    }
    let mut sources = Vec::new();
    for i in 0..opts.sources {
        sources.push(
            wf.create_data_source(&admin, SourceDraft {
                name: format!("Source {i}"),
                description: None,
                owner: None,
                country: Some("DE".into()),
                processor_id: None,
                connector_kind: ConnectorKind::Postgres,
                connector_config: serde_json::json!({"host": "db", "database": format!("db{i}"), "user": "u", "password": "pw"}),
            })
            .await?
            .id,
        );
    }
    for i in 0..opts.fields {
        let source = sources[i % sources.len().max(1)];
        wf.create_data_field(
            &admin,
            FieldDraft {
                source_id: source,
                location: format!("table_{}.column_{i}", i % 7),
                description: None,
                data_category_id: Some(categories[i % categories.len()]),
                identifies_subject: i % 10 == 0,
                identity_type: (i % 10 == 0).then_some(IdentityType::Email),
                references_id: None,
                erasure_strategy: ErasureStrategy::SetNull,
            },
        )
        .await?;
    }
    for i in 0..opts.activities {
        let (transfer_recipient, transfer) = transfers[i % transfers.len()];
        let mut activity_recipients = vec![
            recipients[(i + 1) % recipients.len()],
            recipients[(i + 2) % recipients.len()],
        ];
        activity_recipients.push(transfer_recipient);
        activity_recipients.dedup();
        wf.create_processing_activity(
            &admin,
            ActivityDraft {
                name: format!("Activity {i:05}"),
                status: Some(ActivityStatus::Active),
                retention_policy_id: Some(retention[i % retention.len()]),
                purpose_ids: vec![
                    purposes[i % purposes.len()],
                    purposes[(i + 7) % purposes.len()],
                ],
                data_category_ids: (0..5)
                    .map(|k| categories[(i + k) % categories.len()])
                    .collect(),
                subject_category_ids: vec![subjects[i % subjects.len()]],
                recipient_ids: activity_recipients,
                transfer_ids: vec![transfer],
                source_ids: (0..2)
                    .filter_map(|k| sources.get((i + k) % sources.len().max(1)).copied())
                    .collect(),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(org.admin_key.secret)
}
