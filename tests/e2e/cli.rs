//! The binary as a newcomer and an operator meet it: the demo, `init`, `schema`, and
//! one clear line (no panic, non-zero exit) for every startup problem.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

fn auskunft() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_auskunft"));
    cmd.env_remove("AUSKUNFT_DATABASE_URL")
        .env_remove("AUSKUNFT_CONFIG")
        .env_remove("AUSKUNFT_BIND");
    cmd
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("auskunft-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs to completion; returns (success, stderr).
fn fails_cleanly(cmd: &mut Command, expected: &str) {
    let out = cmd.output().expect("run auskunft");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {stderr}");
    assert!(
        stderr.contains(expected),
        "expected `{expected}` in: {stderr}"
    );
    assert!(
        !stderr.contains("panicked") && !stderr.contains("RUST_BACKTRACE"),
        "no panic: {stderr}"
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "exactly one line: {stderr}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
}

#[test]
fn startup_problems_are_one_clear_line_and_a_non_zero_exit() {
    let dir = temp_dir();
    fails_cleanly(
        auskunft().args(["--database-url", "oracle://x", "migrate"]),
        "unsupported database URL",
    );
    fails_cleanly(
        auskunft().args([
            "--database-url",
            "postgres://postgres:pw@127.0.0.1:1/none",
            "migrate",
        ]),
        "cannot connect to database `postgres://postgres:***@127.0.0.1:1/none`",
    );
    fails_cleanly(
        auskunft().args([
            "--database-url",
            "sqlite:///nonexistent-dir/x/a.db?mode=rwc",
            "migrate",
        ]),
        "cannot connect to database",
    );
    fails_cleanly(
        auskunft().args(["--config", "/nonexistent/auskunft.toml", "migrate"]),
        "cannot read config file",
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "bind = [1, 2").unwrap();
    fails_cleanly(
        auskunft().args(["--config", bad.to_str().unwrap(), "migrate"]),
        "invalid config file",
    );
    // Port in use.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    fails_cleanly(
        auskunft()
            .current_dir(&dir)
            .env(
                "AUSKUNFT_ENCRYPTION_KEY",
                workflow::core::crypto::Cipher::generate_key(),
            )
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")]),
        &format!("cannot listen on 127.0.0.1:{port}"),
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn init_creates_an_organization_once_and_prints_its_admin_key() {
    let dir = temp_dir();
    let out = auskunft()
        .current_dir(&dir)
        .args(["init", "--org", "Möbel Müller KG"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("organization: Möbel Müller KG"), "{stdout}");
    assert!(
        stdout.contains("admin API key (shown once, store it now): ak_"),
        "{stdout}"
    );
    assert!(
        dir.join("auskunft.db").exists(),
        "default database is auskunft.db in the working directory"
    );
    fails_cleanly(
        auskunft()
            .current_dir(&dir)
            .args(["init", "--org", "Möbel Müller KG"]),
        "exists already",
    );
    let out = auskunft()
        .current_dir(&dir)
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("audit chain intact: 2 events in 1 organizations")
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn schema_command_prints_the_served_sdl() {
    let out = auskunft().arg("schema").output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap(), api::schema_sdl());
}

/// README command 1: `serve --demo` on an empty directory prints a key per role, the
/// GraphiQL URL and a curl example; the printed admin key works.
#[tokio::test]
async fn serve_demo_prints_working_keys_for_every_role() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = temp_dir();
    let mut child = auskunft()
        .current_dir(&dir)
        .args(["serve", "--demo", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let lines = tokio::task::spawn_blocking(move || {
        let mut lines = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.unwrap();
            let done = line.trim_start().starts_with("curl");
            lines.push(line);
            if done {
                break;
            }
        }
        lines
    });
    let lines = tokio::time::timeout(Duration::from_secs(60), lines)
        .await
        .expect("demo output")
        .unwrap();
    let text = lines.join("\n");
    let base = lines[0]
        .strip_prefix("Auskunft is listening on ")
        .expect(&text)
        .to_owned();
    assert!(
        text.contains(&format!("GraphiQL:  {base}/graphql")),
        "{text}"
    );
    let key_of = |role: &str| {
        lines
            .iter()
            .find_map(|l| {
                l.trim_start()
                    .strip_prefix(role)
                    .filter(|r| r.starts_with(' '))
                    .map(|r| r.trim().to_owned())
            })
            .unwrap_or_else(|| panic!("no {role} key in {text}"))
    };
    for role in workflow::Role::ALL {
        assert!(key_of(role.as_str()).starts_with("ak_"), "{text}");
    }
    let admin = key_of("admin");
    let resp: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"query": "{ me { roles organization { name } } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // The demo organization comes with a register over a real shop database.
    let register: serde_json::Value = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(key_of("dpo"))
        .json(&serde_json::json!({"query": "{ processingActivities(filter: {status: ACTIVE}) { totalCount } dataSources { totalCount nodes { name connectorConfig identityKeys } } registerFindings(filter: {minSeverity: ERROR}) { totalCount nodes { message } } }"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    child.kill().ok();
    child.wait().ok();
    assert_eq!(
        register["data"]["processingActivities"]["totalCount"], 4,
        "{register}"
    );
    assert_eq!(
        register["data"]["dataSources"]["totalCount"], 5,
        "{register}"
    );
    assert_eq!(
        register["data"]["dataSources"]["nodes"][0]["identityKeys"],
        serde_json::json!(["CUSTOMER_NUMBER", "EMAIL", "PHONE"])
    );
    // The CRM is served by the demo server itself, at its real (random) port.
    let crm = register["data"]["dataSources"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "CRM")
        .expect("a CRM source");
    assert_eq!(
        crm["connectorConfig"]["baseUrl"],
        format!("{base}/demo/crm"),
        "{crm}"
    );
    assert!(crm["connectorConfig"].get("token").is_none(), "{crm}");
    assert_eq!(
        register["data"]["registerFindings"]["totalCount"], 0,
        "the demo register has no errors: {register}"
    );
    // The shop database lies in the default directory of SQLite sources.
    let shop = dir.join("sources").join("auskunft-demo-shop.db");
    assert_eq!(
        register["data"]["dataSources"]["nodes"][0]["connectorConfig"]["path"],
        "auskunft-demo-shop.db"
    );
    let shop_db = sea_orm::Database::connect(format!("sqlite://{}?mode=ro", shop.display()))
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    let customers = shop_db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "SELECT COUNT(*) AS n FROM customers".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(customers, 5);
    shop_db.close().await.ok();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        resp["data"]["me"]["roles"],
        serde_json::json!(["ADMIN"]),
        "{resp}"
    );
    assert_eq!(
        resp["data"]["me"]["organization"]["name"],
        "Demo Möbelhaus GmbH"
    );
}

/// `auskunft bench register` runs end to end (at a tiny size) and prints its figures.
#[test]
fn bench_register_prints_latency_and_throughput() {
    let out = auskunft()
        .args([
            "bench",
            "register",
            "--activities",
            "6",
            "--sources",
            "2",
            "--fields",
            "6",
            "--requests",
            "8",
            "--concurrency",
            "2",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("SQLite: seeded 6 activities, 2 sources, 6 fields"),
        "{stdout}"
    );
    assert!(
        stdout.contains("requests/s") && stdout.contains("p99"),
        "{stdout}"
    );
}

/// `auskunft bench collect` runs end to end at a tiny scale on SQLite, and on
/// PostgreSQL and MariaDB when their test URLs are set: it seeds each shop, collects
/// requests one at a time and in a burst, and fails unless every collection found
/// exactly the rows of the hand-written statement.
#[test]
fn bench_collect_measures_each_shop_and_store() {
    let postgres = std::env::var("AUSKUNFT_TEST_POSTGRES_URL").ok();
    let mysql = std::env::var("AUSKUNFT_TEST_MYSQL_URL").ok();
    let mut cmd = auskunft();
    cmd.args([
        "bench",
        "collect",
        "--scales",
        "200",
        "--requests",
        "4",
        "--burst",
        "6",
        "--workers",
        "2",
        "--bench-dir",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/bench"),
    ]);
    if let Some(url) = &postgres {
        cmd.args(["--postgres", url]);
    }
    if let Some(url) = &mysql {
        cmd.args(["--mysql", url]);
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut expected = vec![
        "SQLite shop, 200 customers: seeded",
        "store SQLite: collection p50",
    ];
    if postgres.is_some() {
        expected.extend([
            "PostgreSQL shop, 200 customers: seeded",
            "store PostgreSQL: collection p50",
        ]);
    }
    if mysql.is_some() {
        expected.push("MariaDB shop, 200 customers: seeded");
    }
    for line in expected {
        assert!(stdout.contains(line), "{line:?} missing in:\n{stdout}");
    }
    assert!(stdout.contains("complete collections/s"), "{stdout}");
}

#[test]
fn bench_intake_prints_throughput_of_submits_and_transitions() {
    let dir = std::env::temp_dir().join(format!(
        "auskunft-bench-intake-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let out = auskunft()
        .current_dir(&dir)
        .args(["bench", "intake", "--requests", "12", "--concurrency", "3"])
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("SQLite: submitRequest x 12"), "{stdout}");
    assert!(
        stdout.contains("transitions/s") && stdout.contains("SQL statements per transition"),
        "{stdout}"
    );
}

/// Issue 10 §8: `auskunft init` run while the server runs (another process, same
/// database) prints an admin key that works at once, without a restart: the server
/// notices the new rules through the policy revision.
async fn init_while_the_server_runs_gives_a_working_admin_key(app: crate::common::TestApp) {
    use serde_json::json;
    let dir = temp_dir();
    let mut cmd = auskunft();
    cmd.current_dir(&dir)
        .env("AUSKUNFT_ENCRYPTION_KEY", &app.encryption_key)
        .args(["--database-url", &app.db.url, "init", "--org", "Neu GmbH"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = stdout
        .lines()
        .find_map(|l| l.strip_prefix("admin API key (shown once, store it now): "))
        .unwrap_or_else(|| panic!("no admin key in {stdout}"))
        .trim()
        .to_owned();
    let data = app
        .gql_ok(
            &key,
            "{ me { roles organization { name } } apiKeys { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["me"]["roles"], json!(["ADMIN"]), "{data}");
    assert_eq!(data["me"]["organization"]["name"], "Neu GmbH");
    assert_eq!(data["apiKeys"]["totalCount"], 1);
    // It can work right away: issue a key for a colleague, who can use it too.
    let secret = app
        .gql_ok(
            &key,
            "mutation { createApiKey(input: {name: \"dpo\", roles: [DPO]}) { secret } }",
            json!({}),
        )
        .await["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = app
        .gql_ok(
            &secret,
            "{ me { roles } auditEvents { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["me"]["roles"], json!(["DPO"]));
    // The existing organization is untouched.
    let data = app
        .gql_ok(
            app.key(workflow::Role::Admin),
            "{ apiKeys { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["apiKeys"]["totalCount"], 8);
}
crate::common::e2e!(
    init_while_serving,
    init_while_the_server_runs_gives_a_working_admin_key
);
