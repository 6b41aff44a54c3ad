//! `auskunft`: the command-line entry point. Wires config → database → migrations →
//! workflow → HTTP server; the logic lives in the `workflow` and `api` crates.

// The schema's future is deep (a request reaches its tasks, their source, its fields ...).
#![recursion_limit = "256"]

/// mimalloc instead of the system allocator: a page of the API allocates many small
/// objects per field, and glibc malloc took about a fifth of its CPU. Its `override`
/// feature (Cargo.toml) also serves `malloc`/`free` to C code, i.e. the bundled
/// SQLite.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod bench;
mod bench_collect;
mod bench_consent;
mod bench_intake;
mod config;

use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;
use workflow::access::audit::Actor;
use workflow::{Store, Workflow, WorkflowOptions};

use crate::config::{Config, ConfigError, GlobalArgs, ServeArgs};

/// The demo shop database `serve --demo` creates in the directory of SQLite sources.
const DEMO_SHOP_DB: &str = "auskunft-demo-shop.db";

/// Auskunft: GDPR data-subject requests answered correctly and in days.
#[derive(Parser, Debug)]
#[command(name = "auskunft", version, about)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the GraphQL API (migrates the database first).
    Serve {
        /// Create the demo organization and print one API key per role.
        #[arg(long)]
        demo: bool,
        #[command(flatten)]
        args: ServeArgs,
    },
    /// Run collection workers only (no API): they claim the collection tasks of
    /// every organization in the database, like the workers inside `serve`.
    Worker,
    /// Create the demo organization (if missing) and print fresh API keys, one per role.
    Demo,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL) as served; `auskunft schema > schema.graphql`.
    Schema,
    /// Create an organization and print its first admin API key (shown once).
    Init {
        /// Name of the organization (the controller).
        #[arg(long)]
        org: String,
    },
    /// Measure performance (prints figures; uses 127.0.0.1 only).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// Write the Art. 30 register of an organization to a file (JSON, CSV, XLSX or
    /// printable HTML), straight from the database.
    ExportRegister {
        /// File format.
        #[arg(long, value_enum, default_value_t = ExportFormatArg::Xlsx)]
        format: ExportFormatArg,
        /// The file to write.
        #[arg(long)]
        out: std::path::PathBuf,
        /// Name of the organization (needed when there are several).
        #[arg(long)]
        org: Option<String>,
        /// Language of a CSV, XLSX or HTML file (headings and labels); default: the
        /// organization's answer language.
        #[arg(long, value_enum)]
        language: Option<LanguageArg>,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Retention tools.
    Retention {
        #[command(subcommand)]
        command: RetentionCommand,
    },
}

#[derive(Subcommand, Debug)]
enum RetentionCommand {
    /// Evaluate every retention policy with trigger fields against the records of
    /// its sources and open an erasure request (to be reviewed) for each record past
    /// its period; prints what it found. The run is kept and readable through
    /// GraphQL (`retentionRuns`).
    Sweep {
        /// Only report: open no request.
        #[arg(long)]
        dry_run: bool,
        /// Only this organization (by name) [default: every organization].
        #[arg(long)]
        org: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum BenchCommand {
    /// Seed 1,000 activities / 200 sources / 5,000 fields and measure the nested
    /// activity page over HTTP (p50, p99, requests/s) on SQLite and PostgreSQL.
    Register(bench::RegisterBench),
    /// Submit requests and fire a transition on each over HTTP (requests/s, p50,
    /// p99) on SQLite and, with --postgres, PostgreSQL.
    Intake(bench_intake::IntakeBench),
    /// Seed the benchmark shop database (../shared/bench) on SQLite, PostgreSQL and
    /// MariaDB, map it, and measure complete collections of access requests beside
    /// hand-written SQL, at each scale, and collections per second.
    Collect(bench_collect::CollectBench),
    /// Seed a consent ledger of 1,000,000 people and measure a campaign check of
    /// 100,000 e-mail addresses (in-process and over HTTP) and single checks over
    /// HTTP (p50, p99) on SQLite and, with --postgres, PostgreSQL.
    Consent(bench_consent::ConsentBench),
}

/// File formats of `export-register`.
/// A language of the register export.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum LanguageArg {
    /// German.
    De,
    /// English.
    En,
}

impl From<LanguageArg> for workflow::answer::Language {
    fn from(l: LanguageArg) -> Self {
        match l {
            LanguageArg::De => Self::De,
            LanguageArg::En => Self::En,
        }
    }
}

#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum ExportFormatArg {
    Json,
    Csv,
    Xlsx,
    Html,
}

impl From<ExportFormatArg> for workflow::register::export::ExportFormat {
    fn from(f: ExportFormatArg) -> Self {
        match f {
            ExportFormatArg::Json => Self::Json,
            ExportFormatArg::Csv => Self::Csv,
            ExportFormatArg::Xlsx => Self::Xlsx,
            ExportFormatArg::Html => Self::Html,
        }
    }
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Recompute every organization's hash chain; exit 1 naming the first broken row.
    Verify,
}

/// Why the command failed; printed as one line.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(
        "{0} (check --database-url / AUSKUNFT_DATABASE_URL and that the database server is running)"
    )]
    Database(#[from] workflow::ConnectError),
    #[error(
        "cannot listen on {bind}: {cause} (choose another address with --bind or AUSKUNFT_BIND)"
    )]
    Bind { bind: String, cause: std::io::Error },
    #[error("{0}")]
    Workflow(#[from] workflow::Error),
    #[error("server stopped: {0}")]
    Serve(std::io::Error),
    #[error("bench failed: {0}")]
    Bench(#[from] bench::BenchError),
    #[error("cannot write {path}: {cause}")]
    Write { path: String, cause: std::io::Error },
    #[error("audit chain broken: {0}")]
    AuditBroken(workflow::access::audit::BrokenLink),
}

fn init_tracing() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("AUSKUNFT_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
}

/// Stack of each runtime thread: synchronous work deep inside GraphQL resolvers (a
/// library compiling its regular expressions on first use, compressing a package)
/// needs more than std's 2 MiB default in debug builds; 8 MiB of address space costs
/// nothing until touched.
const THREAD_STACK: usize = 8 << 20;

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK)
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async_main())
}

async fn async_main() -> ExitCode {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse();
    init_tracing();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line, whatever the driver put into its message.
            let line = err
                .to_string()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            eprintln!("error: {line}");
            ExitCode::FAILURE
        }
    }
}

async fn open(config: &Config) -> Result<Workflow, CliError> {
    let cipher = config::cipher(config)?;
    let store = Store::connect_and_migrate(&config.database_url, &config.store).await?;
    let options = WorkflowOptions {
        sources: config.sources.clone(),
        dispatch: config.dispatch.clone(),
        oidc: Default::default(),
    };
    Ok(Workflow::open_with(store, cipher, options).await?)
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let started = Instant::now();
    let no_serve_args = ServeArgs::default();
    let serve_args = match &cli.command {
        Command::Serve { args, .. } => args,
        _ => &no_serve_args,
    };
    let config = Config::resolve(&cli.global, serve_args)?;
    match cli.command {
        Command::Schema => {
            print!("{}", api::schema_sdl());
            Ok(())
        }
        Command::Migrate => {
            Store::connect_and_migrate(&config.database_url, &config.store).await?;
            println!(
                "database migrated: {}",
                workflow::core::store::redact_url(&config.database_url)
            );
            Ok(())
        }
        Command::Init { org } => {
            let workflow = open(&config).await?;
            let created = workflow
                .create_organization(&org, &Actor::system("cli init"))
                .await?;
            println!(
                "organization: {} ({})",
                created.organization.name, created.organization.id
            );
            println!(
                "admin API key (shown once, store it now): {}",
                created.admin_key.secret
            );
            Ok(())
        }
        Command::ExportRegister {
            format,
            out,
            org,
            language,
        } => {
            let workflow = open(&config).await?;
            let file = workflow
                .export_register_of(org.as_deref(), format.into(), language.map(Into::into))
                .await?;
            std::fs::write(&out, &file.bytes).map_err(|cause| CliError::Write {
                path: out.display().to_string(),
                cause,
            })?;
            println!("wrote {} ({} bytes)", out.display(), file.bytes.len());
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let workflow = open(&config).await?;
            match workflow.verify_audit_chain().await? {
                Ok(report) => {
                    println!(
                        "audit chain intact: {} events in {} organizations",
                        report.events, report.organizations
                    );
                    Ok(())
                }
                Err(broken) => Err(CliError::AuditBroken(broken)),
            }
        }
        Command::Retention {
            command: RetentionCommand::Sweep { dry_run, org },
        } => {
            let workflow = open(&config).await?;
            let runs = workflow
                .sweep_retention_everywhere(&Actor::system("cli"), dry_run, org.as_deref())
                .await?;
            for (org_id, name, run) in runs {
                print_retention_run(&workflow, org_id, &name, &run).await?;
            }
            Ok(())
        }
        Command::Bench {
            command: BenchCommand::Register(mut opts),
        } => {
            opts.pool = config.store.clone();
            Ok(bench::run(opts).await?)
        }
        Command::Bench {
            command: BenchCommand::Intake(mut opts),
        } => {
            opts.pool = config.store.clone();
            Ok(bench_intake::run(opts).await?)
        }
        Command::Bench {
            command: BenchCommand::Collect(mut opts),
        } => {
            opts.pool = config.store.clone();
            Ok(bench_collect::run(opts).await?)
        }
        Command::Bench {
            command: BenchCommand::Consent(mut opts),
        } => {
            opts.pool = config.store.clone();
            Ok(bench_consent::run(opts).await?)
        }
        Command::Demo => {
            let workflow = open(&config).await?;
            let setup = workflow
                .ensure_demo(&config.sources.sqlite_dir.join(DEMO_SHOP_DB))
                .await?;
            print_demo(&format!("http://{}", config.bind), &setup);
            Ok(())
        }
        Command::Worker => {
            let workflow = open(&config).await?;
            let workers = config.collection.workers.max(1);
            let (stop, stopped) = tokio::sync::watch::channel(false);
            let handles = workflow.spawn_workers(
                workflow::collection::WorkerOptions {
                    workers,
                    ..config.collection.clone()
                },
                stopped,
            );
            tracing::info!(workers, "collection workers running");
            let _ = tokio::signal::ctrl_c().await;
            let _ = stop.send(true);
            for h in handles {
                let _ = h.await;
            }
            Ok(())
        }
        Command::Serve { demo, .. } => serve(config, demo, started).await,
    }
}

async fn serve(config: Config, demo: bool, started: Instant) -> Result<(), CliError> {
    let workflow = open(&config).await?;
    let demo_setup = if demo {
        Some(
            workflow
                .ensure_demo(&config.sources.sqlite_dir.join(DEMO_SHOP_DB))
                .await?,
        )
    } else {
        None
    };
    // The demo serves its own CRM, so that the demo's HTTP source collects something.
    let demo_crm = demo.then(workflow::demo::crm::DemoCrm::new);
    let server_config = api::ServerConfig {
        bind: config.bind.clone(),
        metrics_bind: config.metrics_bind.clone(),
        limits: config.limits,
        demo_crm: demo_crm.clone(),
    };
    let mailer: std::sync::Arc<dyn workflow::core::outbox::Mailer> = match &config.mail_dir {
        None if config.smtp_url.is_some() => std::sync::Arc::new(
            workflow::core::outbox::SmtpMailer::new(
                config.smtp_url.as_deref().unwrap_or_default(),
                &config.mail_from,
                config.mail_test_inbox.as_deref(),
            )
            .map_err(|message| {
                CliError::Config(crate::config::ConfigError::Invalid {
                    name: "smtp_url",
                    message,
                })
            })?,
        ),
        Some(dir) => std::sync::Arc::new(
            workflow::core::outbox::FileMailer::new(dir, &config.mail_from).map_err(|message| {
                CliError::Config(crate::config::ConfigError::Invalid {
                    name: "mail_dir",
                    message,
                })
            })?,
        ),
        None => std::sync::Arc::new(workflow::core::outbox::LogMailer),
    };
    tokio::spawn(deliver_mail(workflow.clone(), mailer));
    tokio::spawn(deliver_webhooks(
        workflow.clone(),
        workflow::webhooks::client()?,
    ));
    tokio::spawn(purge_ended_requests(workflow.clone()));
    if let Some(every) = config.retention_sweep {
        tokio::spawn(sweep_retention(workflow.clone(), every));
    }
    tokio::spawn(follow_policy_changes(workflow.clone()));
    let app = api::Application::build(server_config, workflow.clone())
        .await
        .map_err(|cause| CliError::Bind {
            bind: config.bind.clone(),
            cause,
        })?;
    let addr = app.local_addr();
    if config.dispatch.public_url.is_none() {
        tracing::warn!(
            "no --public-url: download links in dispatched answers use the address each dispatching call came in at (its Host header); set the address subjects reach this server at"
        );
    }
    if !demo && !config.sources.sqlite_dir.is_dir() {
        tracing::warn!(
            dir = %config.sources.sqlite_dir.display(),
            "the directory for SQLite sources does not exist: SQLite sources are refused until \
             it does (set it with --sqlite-sources-dir or AUSKUNFT_SQLITE_SOURCES_DIR)"
        );
    }
    let host = if addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        addr.ip().to_string()
    };
    let base = format!("http://{host}:{}", addr.port());
    if let Some(crm) = &demo_crm {
        // Only now is the port known (it may be 0 in --bind).
        if !workflow.connect_demo_crm(&base, crm).await? {
            tracing::warn!("the demo's CRM source is gone or points elsewhere; left as it is");
        }
    }
    // The workers live as long as the process; they are dropped with it. They start
    // after the demo CRM's address is set, so no demo task tries the old one.
    let (_stop_workers, workers_stop) = tokio::sync::watch::channel(false);
    let _workers = workflow.spawn_workers(config.collection.clone(), workers_stop);
    tracing::info!(
        %addr,
        database = %workflow::core::store::redact_url(&config.database_url),
        startup_ms = started.elapsed().as_millis() as u64,
        "listening"
    );
    println!("Auskunft is listening on {base}");
    println!(
        "GraphiQL:  {base}/graphql   (add the header {{\"Authorization\": \"Bearer <API key>\"}})"
    );
    if let Some(metrics) = app.metrics_addr() {
        println!("Metrics:   http://{metrics}/metrics   (only there)");
    }
    if let Some(setup) = demo_setup {
        print_demo(&base, &setup);
    }
    app.run_until(shutdown_signal())
        .await
        .map_err(CliError::Serve)
}

/// Delivers the outbox every second, for as long as the server runs.
async fn deliver_mail(
    workflow: Workflow,
    mailer: std::sync::Arc<dyn workflow::core::outbox::Mailer>,
) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = workflow.deliver_outbox(mailer.as_ref(), 100).await {
            tracing::warn!(error = %e, "outbox delivery failed; retrying");
        }
    }
}

/// Posts due webhook deliveries every second and looks for newly overdue requests
/// every minute, for as long as the server runs. Up to four calls run at once, so a
/// batch waiting for a slow receiver does not hold up the next second's (the leases
/// of the deliveries keep them from posting one twice).
async fn deliver_webhooks(workflow: Workflow, client: reqwest::Client) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    let mut since_sweep = u32::MAX;
    let mut running = tokio::task::JoinSet::new();
    loop {
        tick.tick().await;
        while running.try_join_next().is_some() {}
        since_sweep = since_sweep.saturating_add(1);
        if since_sweep >= 60 {
            since_sweep = 0;
            if let Err(e) = workflow.sweep_overdue_webhooks().await {
                tracing::warn!(error = %e, "overdue sweep for webhooks failed; retrying");
            }
        }
        if running.len() < 4 {
            let (workflow, client) = (workflow.clone(), client.clone());
            running.spawn(async move {
                if let Err(e) = workflow.deliver_webhooks(&client, 100).await {
                    tracing::warn!(error = %e, "webhook delivery failed; retrying");
                }
            });
        }
    }
}

/// Purges the collected data of requests that ended long enough ago, every hour
/// (the first run a minute after start).
async fn purge_ended_requests(workflow: Workflow) {
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match workflow.purge_ended_requests().await {
            Ok(report) if report.requests > 0 => {
                tracing::info!(
                    requests = report.requests,
                    records = report.records,
                    "collected data of ended requests purged"
                );
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "purge of ended requests failed; retrying in an hour")
            }
        }
    }
}

/// Runs the retention sweep in every organization at the configured interval (the
/// first run a minute after start).
async fn sweep_retention(workflow: Workflow, every: std::time::Duration) {
    tokio::time::sleep(std::time::Duration::from_secs(60)).await;
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match workflow
            .sweep_retention_everywhere(&Actor::system("scheduler"), false, None)
            .await
        {
            Ok(runs) => {
                for (_, name, run) in runs {
                    tracing::info!(
                        org = %name,
                        examined = run.examined,
                        expired = run.expired,
                        requested = run.requested,
                        problems = run.problems,
                        "retention sweep done"
                    );
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention sweep failed; retrying at the next interval")
            }
        }
    }
}

/// Prints a run of the retention sweep and its findings.
async fn print_retention_run(
    workflow: &Workflow,
    org_id: uuid::Uuid,
    org_name: &str,
    run: &workflow::retention::RetentionRunView,
) -> Result<(), CliError> {
    println!(
        "{}: {} run {}: {} record(s) examined, {} past their retention period, {} erasure request(s) opened, {} problem(s)",
        org_name,
        if run.dry_run { "dry" } else { "sweep" },
        run.id,
        run.examined,
        run.expired,
        run.requested,
        run.problems
    );
    for (finding, policy, source) in workflow.retention_report(org_id, run.id).await? {
        let identities: Vec<String> = finding
            .identities
            .iter()
            .map(|i| format!("{} {}", i.kind.as_str(), i.value))
            .collect();
        let mut line = format!("  {:<17}", finding.outcome.as_str());
        if let Some(key) = &finding.record_key {
            line.push_str(&format!(" {key}"));
        }
        if let Some(source) = source {
            line.push_str(&format!(" in «{source}»"));
        }
        if !identities.is_empty() {
            line.push_str(&format!(" [{}]", identities.join(", ")));
        }
        if let Some(last) = finding.last_event_at {
            line.push_str(&format!(" last {}", last.date_naive()));
        }
        if let Some(until) = finding.expired_on {
            line.push_str(&format!(", period ended {until}"));
        }
        if let Some(policy) = policy {
            line.push_str(&format!(" («{policy}»)"));
        }
        if let Some(request) = finding.request_id {
            line.push_str(&format!(" request {request}"));
        }
        if let Some(detail) = &finding.detail {
            line.push_str(&format!(": {detail}"));
        }
        println!("{line}");
    }
    Ok(())
}

/// Checks every second whether another process (`auskunft init`, another replica)
/// changed the permission rules, and reloads them: open WebSocket connections, which
/// do not authenticate again, see such changes too. Requests check on their own.
async fn follow_policy_changes(workflow: Workflow) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(e) = workflow.authz().refresh().await {
            tracing::warn!(error = %e, "could not check for policy changes; retrying");
        }
    }
}

fn print_demo(base: &str, setup: &workflow::demo::DemoSetup) {
    let state = if setup.created {
        "created"
    } else {
        "exists; earlier demo keys were replaced"
    };
    println!();
    println!(
        "Demo organization \"{}\" ({state}). One API key per role:",
        setup.organization.name
    );
    for (role, key) in &setup.keys {
        println!("  {:<11} {key}", role.as_str());
    }
    if let Some((_, admin)) = setup.keys.first() {
        println!();
        println!("Try:");
        println!(
            "  curl -s {base}/graphql -H 'Authorization: Bearer {admin}' -H 'Content-Type: application/json' \\\n       -d '{{\"query\":\"{{ me {{ apiKeyName roles organization {{ name }} }} }}\"}}'"
        );
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
