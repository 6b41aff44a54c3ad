//! The e2e harness: a fresh database per test (SQLite file always; PostgreSQL and
//! MariaDB when `AUSKUNFT_TEST_POSTGRES_URL` / `AUSKUNFT_TEST_MYSQL_URL` are set), the
//! real server on `127.0.0.1:0`, and an HTTP/WebSocket client.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use uuid::Uuid;
use workflow::access::audit::Actor;
use workflow::{NewApiKey, Role, Store, StoreOptions, Workflow};

/// How soon an identity provider's keys may be fetched again in tests (30 s in
/// production): short enough for a key-rotation test to wait it out.
pub const OIDC_REFETCH_AFTER: Duration = Duration::from_secs(2);

fn oidc_settings() -> workflow::access::oidc::OidcSettings {
    workflow::access::oidc::OidcSettings {
        refetch_after: OIDC_REFETCH_AFTER,
        ..Default::default()
    }
}

/// Serves the endpoint `make` builds for its own address on a fresh port of
/// 127.0.0.1 (a peer a test runs: webhook receiver, identity provider); its address,
/// listening when this returns.
pub async fn serve_on_loopback<E>(make: impl FnOnce(SocketAddr) -> E) -> SocketAddr
where
    E: poem::Endpoint + 'static,
{
    use poem::listener::{Acceptor, Listener};
    let acceptor = poem::listener::TcpListener::bind("127.0.0.1:0")
        .into_acceptor()
        .await
        .expect("bind 127.0.0.1:0");
    let addr = *acceptor.local_addr()[0]
        .as_socket_addr()
        .expect("a TCP address");
    let endpoint = make(addr);
    tokio::spawn(async move {
        let _ = poem::Server::new_with_acceptor(acceptor)
            .run(endpoint)
            .await;
    });
    addr
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

static INIT: LazyLock<()> = LazyLock::new(|| {
    let _ = rustls::crypto::ring::default_provider().install_default();
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("info,sqlx=warn"))
            .with_test_writer()
            .try_init();
    }
});

/// A database created for one test and dropped after it.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    admin_url: Option<String>,
    name: String,
}

fn with_database(base: &str, name: &str) -> String {
    let (without_query, query) = match base.split_once('?') {
        Some((u, q)) => (u, format!("?{q}")),
        None => (base, String::new()),
    };
    let scheme_end = without_query.find("://").map(|i| i + 3).unwrap_or(0);
    let root = match without_query[scheme_end..].find('/') {
        Some(slash) => &without_query[..scheme_end + slash],
        None => without_query,
    };
    format!("{root}/{name}{query}")
}

impl TestDb {
    /// The file of a SQLite database (`None` for the other backends).
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        (self.backend == Backend::Sqlite).then(|| self.name.clone().into())
    }

    /// A fresh SQLite database file inside `dir` (a data source in an app's
    /// SQLite source directory), removed on drop.
    pub fn sqlite_in(dir: &std::path::Path) -> Self {
        LazyLock::force(&INIT);
        let path = dir.join(format!("shop-{}.db", Uuid::new_v4().simple()));
        Self {
            backend: Backend::Sqlite,
            url: format!("sqlite://{}?mode=rwc", path.display()),
            admin_url: None,
            name: path.display().to_string(),
        }
    }

    /// A fresh database, or `None` when the backend is not configured.
    pub async fn create(backend: Backend) -> Option<Self> {
        LazyLock::force(&INIT);
        let name = format!("t_{}", Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let path = std::env::temp_dir().join(format!("auskunft-{name}.db"));
                Some(Self {
                    backend,
                    url: format!("sqlite://{}?mode=rwc", path.display()),
                    admin_url: None,
                    name: path.display().to_string(),
                })
            }
            Backend::Postgres | Backend::Mysql => {
                let var = if backend == Backend::Postgres {
                    "AUSKUNFT_TEST_POSTGRES_URL"
                } else {
                    "AUSKUNFT_TEST_MYSQL_URL"
                };
                let Some(admin_url) = std::env::var(var).ok().filter(|u| !u.is_empty()) else {
                    // In CI a missing service must fail the run, never turn it green.
                    assert!(
                        std::env::var_os("CI").is_none(),
                        "CI is set but {var} is not: the {backend:?} tests would not run"
                    );
                    return None;
                };
                let admin = Database::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("{var} is set but unreachable: {e}"));
                let create = if backend == Backend::Postgres {
                    format!("CREATE DATABASE \"{name}\"")
                } else {
                    format!(
                        "CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
                    )
                };
                admin
                    .execute_unprepared(&create)
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                Some(Self {
                    backend,
                    url: with_database(&admin_url, &name),
                    admin_url: Some(admin_url),
                    name,
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match (&self.admin_url, self.backend) {
            (None, _) => {
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", self.name));
                }
            }
            (Some(admin_url), backend) => {
                let admin_url = admin_url.clone();
                let drop_sql = if backend == Backend::Postgres {
                    format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name)
                } else {
                    format!("DROP DATABASE IF EXISTS `{}`", self.name)
                };
                // Drop runs inside the test's runtime: use a thread with its own.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(admin) = Database::connect(&admin_url).await {
                            if let Err(e) = admin.execute_unprepared(&drop_sql).await {
                                eprintln!("could not drop test database: {e}");
                            }
                            admin.close().await.ok();
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A running server with an organization and one API key per role.
pub struct TestApp {
    pub addr: SocketAddr,
    pub workflow: Workflow,
    pub org_id: Uuid,
    pub keys: HashMap<Role, String>,
    pub key_ids: HashMap<Role, Uuid>,
    pub client: reqwest::Client,
    /// The key for data at rest of this app (base64).
    pub encryption_key: String,
    /// The directory of SQLite sources (a fresh one per app, removed with it),
    /// unless the test chose another in [`TestApp::spawn_configured`].
    pub sources_dir: std::path::PathBuf,
    /// What data sources may reach in this app.
    pub sources: workflow::SourceSettings,
    server: tokio::task::JoinHandle<()>,
    /// Stops the collection workers of a demo app (dropping it stops them).
    _workers: Option<tokio::sync::watch::Sender<bool>>,
    // Dropped last: the database outlives the server.
    pub db: TestDb,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.sources_dir);
    }
}

/// An organization with one key per role, created through the workflow.
pub struct TestOrg {
    pub org_id: Uuid,
    pub keys: HashMap<Role, String>,
    pub key_ids: HashMap<Role, Uuid>,
}

pub async fn create_org(workflow: &Workflow, name: &str) -> TestOrg {
    let created = workflow
        .create_organization(name, &Actor::system("test"))
        .await
        .expect("create organization");
    let admin = workflow::Principal {
        key_id: created.admin_key.key.id,
        org_id: created.organization.id,
        key_name: "initial admin".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    let mut keys = HashMap::new();
    let mut key_ids = HashMap::new();
    for role in Role::ALL {
        let issued = workflow
            .create_api_key(
                &admin,
                NewApiKey {
                    name: format!("test {role}"),
                    roles: vec![*role],
                },
            )
            .await
            .expect("create key");
        keys.insert(*role, issued.secret);
        key_ids.insert(*role, issued.key.id);
    }
    TestOrg {
        org_id: created.organization.id,
        keys,
        key_ids,
    }
}

impl TestApp {
    /// Starts the server on a fresh database; `None` when the backend is not configured.
    pub async fn spawn(backend: Backend) -> Option<Self> {
        Self::spawn_with(backend, api::Limits::default()).await
    }

    pub async fn spawn_with(backend: Backend, limits: api::Limits) -> Option<Self> {
        Self::spawn_configured(backend, limits, |_, dir| workflow::SourceSettings {
            sqlite_dir: dir.to_owned(),
            allowed_hosts: None,
        })
        .await
    }

    /// Like [`TestApp::spawn_with`], with the data source settings `sources` returns
    /// for the app's database and its fresh SQLite source directory.
    pub async fn spawn_configured(
        backend: Backend,
        limits: api::Limits,
        sources: impl FnOnce(&TestDb, &std::path::Path) -> workflow::SourceSettings,
    ) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        let store = Store::connect_and_migrate(&db.url, &StoreOptions::default())
            .await
            .expect("connect and migrate");
        let encryption_key = workflow::core::crypto::Cipher::generate_key();
        let cipher = workflow::core::crypto::Cipher::from_base64(&encryption_key).unwrap();
        let sources_dir =
            std::env::temp_dir().join(format!("auskunft-sources-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&sources_dir).expect("create the SQLite source directory");
        let sources = sources(&db, &sources_dir);
        let options = workflow::WorkflowOptions {
            sources: sources.clone(),
            oidc: oidc_settings(),
            ..Default::default()
        };
        let workflow = Workflow::open_with(store, cipher, options)
            .await
            .expect("open workflow");
        let org = create_org(&workflow, &format!("Test Org {}", Uuid::new_v4())).await;
        let app = api::Application::build(
            api::ServerConfig {
                bind: "127.0.0.1:0".into(),
                metrics_bind: None,
                limits,
                demo_crm: None,
            },
            workflow.clone(),
        )
        .await
        .expect("bind");
        let addr = app.local_addr();
        let server = tokio::spawn(async move {
            let _ = app.run_until_stopped().await;
        });
        Some(Self {
            addr,
            workflow,
            org_id: org.org_id,
            keys: org.keys,
            key_ids: org.key_ids,
            client: reqwest::Client::new(),
            encryption_key,
            sources_dir,
            sources,
            server,
            _workers: None,
            db,
        })
    }

    /// Starts the server as `serve --demo` does: the demo organization (its keys in
    /// `keys`; `key_ids` stays empty), the demo CRM served on the server's own
    /// address with the demo source pointed at it, and collection workers (fast
    /// retries). `None` when the backend is not configured.
    pub async fn spawn_demo(backend: Backend) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        let store = Store::connect_and_migrate(&db.url, &StoreOptions::default())
            .await
            .expect("connect and migrate");
        let encryption_key = workflow::core::crypto::Cipher::generate_key();
        let cipher = workflow::core::crypto::Cipher::from_base64(&encryption_key).unwrap();
        let sources_dir =
            std::env::temp_dir().join(format!("auskunft-sources-{}", Uuid::new_v4().simple()));
        std::fs::create_dir_all(&sources_dir).expect("create the SQLite source directory");
        let sources = workflow::SourceSettings {
            sqlite_dir: sources_dir.clone(),
            allowed_hosts: None,
        };
        let options = workflow::WorkflowOptions {
            sources: sources.clone(),
            ..Default::default()
        };
        let workflow = Workflow::open_with(store, cipher, options)
            .await
            .expect("open workflow");
        let setup = workflow
            .ensure_demo(&sources_dir.join("auskunft-demo-shop.db"))
            .await
            .expect("the demo");
        let crm = workflow::demo::crm::DemoCrm::new();
        let app = api::Application::build(
            api::ServerConfig {
                bind: "127.0.0.1:0".into(),
                metrics_bind: None,
                limits: api::Limits::default(),
                demo_crm: Some(crm.clone()),
            },
            workflow.clone(),
        )
        .await
        .expect("bind");
        let addr = app.local_addr();
        assert!(
            workflow
                .connect_demo_crm(&format!("http://{addr}"), &crm)
                .await
                .expect("point the demo CRM source at the server"),
            "the demo has a CRM source"
        );
        let server = tokio::spawn(async move {
            let _ = app.run_until_stopped().await;
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        workflow.spawn_workers(
            workflow::collection::WorkerOptions {
                workers: 2,
                lease: Duration::from_secs(10),
                max_attempts: 3,
                backoff: Duration::from_millis(100),
                max_backoff: Duration::from_millis(500),
                poll: Duration::from_millis(50),
            },
            stopped,
        );
        Some(Self {
            addr,
            workflow,
            org_id: setup.organization.id,
            keys: setup.keys.into_iter().collect(),
            key_ids: HashMap::new(),
            client: reqwest::Client::new(),
            encryption_key,
            sources_dir,
            sources,
            server,
            _workers: Some(stop),
            db,
        })
    }

    /// Opens the workflow again on the same database, as a restart would.
    pub async fn reopen(&self) -> workflow::Result<Workflow> {
        self.reopen_with(self.sources.clone()).await
    }

    /// Opens the workflow again on the same database with other source settings, as
    /// a restart with a changed configuration would.
    pub async fn reopen_with(
        &self,
        sources: workflow::SourceSettings,
    ) -> workflow::Result<Workflow> {
        let cipher = workflow::core::crypto::Cipher::from_base64(&self.encryption_key).unwrap();
        let options = workflow::WorkflowOptions {
            sources,
            ..Default::default()
        };
        Workflow::open_with(self.workflow.store().clone(), cipher, options).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn key(&self, role: Role) -> &str {
        &self.keys[&role]
    }

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        self.client
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// POSTs a GraphQL request; returns (HTTP status, JSON body).
    pub async fn gql_status(
        &self,
        key: Option<&str>,
        query: &str,
        variables: Value,
    ) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.expect("HTTP request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON body"))
    }

    /// POSTs `{"query": query, "variables": <variables_json as given>}`; returns
    /// (HTTP status, JSON body). For variables too deep to build as a `Value`.
    pub async fn gql_raw(
        &self,
        key: Option<&str>,
        query: &str,
        variables_json: &str,
    ) -> (u16, Value) {
        let body = format!(
            r#"{{"query": {}, "variables": {variables_json}}}"#,
            Value::String(query.to_owned())
        );
        let mut req = self
            .client
            .post(self.url("/graphql"))
            .header("Content-Type", "application/json")
            .body(body);
        if let Some(key) = key {
            req = req.bearer_auth(key);
        }
        let resp = req.send().await.expect("HTTP request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("JSON body"))
    }

    /// POSTs a GraphQL request as `key` and returns the JSON body.
    pub async fn gql(&self, key: &str, query: &str, variables: Value) -> Value {
        self.gql_status(Some(key), query, variables).await.1
    }

    /// Like [`TestApp::gql`] but asserts there are no errors and returns `data`.
    pub async fn gql_ok(&self, key: &str, query: &str, variables: Value) -> Value {
        let body = self.gql(key, query, variables).await;
        assert!(
            body.get("errors").is_none(),
            "unexpected errors for {query}: {body:#}"
        );
        body["data"].clone()
    }

    /// Opens a graphql-transport-ws connection, sends `connection_init` with `payload`.
    pub async fn ws_connect(&self, payload: Value) -> WsClient {
        let mut request = format!("ws://{}/graphql/ws", self.addr)
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (stream, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("WebSocket connect");
        let mut ws = WsClient { stream };
        ws.send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        ws
    }
}

/// A graphql-transport-ws client.
pub struct WsClient {
    stream: tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
}

impl WsClient {
    pub async fn send(&mut self, message: Value) {
        self.stream
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("ws send");
    }

    /// Sends a message as given (for documents too deep to build as a `Value`).
    pub async fn send_raw(&mut self, text: String) {
        self.stream
            .send(Message::Text(text.into()))
            .await
            .expect("ws send");
    }

    /// The next protocol message (pings answered), or `None` when closed or after 10 s.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), self.stream.next())
                .await
                .ok()??;
            match msg.ok()? {
                Message::Text(text) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON message");
                    if value["type"] == "ping" {
                        self.send(json!({"type": "pong"})).await;
                        continue;
                    }
                    return Some(value);
                }
                Message::Close(frame) => {
                    return Some(json!({
                        "type": "__closed",
                        "code": frame.as_ref().map(|f| u16::from(f.code)),
                        "reason": frame.map(|f| f.reason.to_string()),
                    }));
                }
                _ => continue,
            }
        }
    }

    /// Skips messages until the server closes the connection; the close as
    /// `{"type": "__closed", "code", "reason"}`. Fails when it falls silent instead.
    pub async fn until_closed(&mut self) -> Value {
        loop {
            let msg = self.next().await.expect("closed, not silent");
            if msg["type"] == "__closed" {
                return msg;
            }
        }
    }

    pub async fn subscribe(&mut self, id: &str, query: &str) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query}}))
            .await;
    }
}

/// The `extensions.code` of the first error.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

/// The paths of the first error's field errors (`extensions.fields[].path`), each
/// joined with dots (`input.content.0.email`). Panics without field errors.
#[track_caller]
pub fn error_paths(body: &Value) -> Vec<String> {
    body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap_or_else(|| panic!("VALIDATION with fields: {body:#}"))
        .iter()
        .map(|f| {
            f["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect()
}

/// The UUID inside a GraphQL ID (what the audit log names as `objectId`).
pub fn workflow_id(id: &Value) -> uuid::Uuid {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id.as_str().unwrap())
        .unwrap();
    let text = String::from_utf8(raw).unwrap();
    text.rsplit(':').next().unwrap().parse().unwrap()
}

/// Asserts the first error has `code`.
#[track_caller]
pub fn assert_code(body: &Value, code: &str) {
    assert_eq!(error_code(body), Some(code), "expected {code}: {body:#}");
}

/// Runs `body` against a fresh app on `backend`, or reports the skip.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    match TestApp::spawn(backend).await {
        Some(app) => body(app).await,
        None => eprintln!("skipped: {backend:?} not configured (set AUSKUNFT_TEST_*_URL)"),
    }
}

/// Defines `name::{sqlite, postgres, mysql}` tests running `body(TestApp)`.
macro_rules! e2e {
    ($(#[$meta:meta])* $name:ident, $body:ident) => {
        $(#[$meta])*
        mod $name {
            use crate::common::{run, Backend};
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() { run(Backend::Sqlite, super::$body).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() { run(Backend::Postgres, super::$body).await }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() { run(Backend::Mysql, super::$body).await }
        }
    };
}
pub(crate) use e2e;

#[test]
fn database_urls_are_rewritten_to_the_test_database() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t_1"),
        "postgres://postgres@127.0.0.1:5432/t_1"
    );
    assert_eq!(
        with_database("mysql://root@127.0.0.1:3306", "t_1"),
        "mysql://root@127.0.0.1:3306/t_1"
    );
    assert_eq!(
        with_database("postgres://u@h/db?sslmode=disable", "t_2"),
        "postgres://u@h/t_2?sslmode=disable"
    );
}
