//! The audit log: every mutation and every denied attempt is recorded, the chain
//! holds under concurrency, and `audit verify` catches edited and deleted rows.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e};

async fn audit_rows(app: &TestApp, filter: &str) -> serde_json::Value {
    let q = format!(
        "{{ auditEvents(last: 100, filter: {filter}) {{ totalCount nodes {{ seq operation outcome errorCode actorName objectType beforeDigest afterDigest }} }} }}"
    );
    app.gql_ok(app.key(Role::Auditor), &q, json!({})).await["auditEvents"].clone()
}

async fn mutations_and_denied_attempts_are_audited(app: TestApp) {
    let admin = app.key(Role::Admin);
    let data = app
        .gql_ok(admin, "mutation { createApiKey(input: {name: \"audited\", roles: [STEWARD]}) { apiKey { id } } }", json!({}))
        .await;
    let key_id = data["createApiKey"]["apiKey"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql_ok(
        admin,
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revokedAt } } }",
        json!({"id": key_id}),
    )
    .await;
    // Denied and failed attempts.
    let body = app
        .gql(
            app.key(Role::Reviewer),
            "mutation { createApiKey(input: {name: \"x\", roles: [ADMIN]}) { secret } }",
            json!({}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    let body = app
        .gql(
            admin,
            "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
            json!({"id": key_id}),
        )
        .await;
    assert_code(&body, "CONFLICT");

    let revoked = audit_rows(&app, "{operation: \"revokeApiKey\", outcome: SUCCESS}").await;
    assert_eq!(revoked["totalCount"], 1);
    let row = &revoked["nodes"][0];
    assert_eq!(row["objectType"], "ApiKey");
    assert!(row["beforeDigest"].is_string() && row["afterDigest"].is_string());
    assert_ne!(row["beforeDigest"], row["afterDigest"]);
    let denied = audit_rows(&app, "{outcome: DENIED}").await;
    assert_eq!(denied["nodes"][0]["operation"], "createApiKey");
    assert_eq!(denied["nodes"][0]["actorName"], "api-key:test reviewer");
    let failed = audit_rows(&app, "{outcome: FAILED}").await;
    assert_eq!(failed["nodes"][0]["operation"], "revokeApiKey");
    assert_eq!(failed["nodes"][0]["errorCode"], "CONFLICT");
    assert!(app.workflow.verify_audit_chain().await.unwrap().is_ok());
}
e2e!(recorded, mutations_and_denied_attempts_are_audited);

async fn concurrent_mutations_keep_one_unbroken_chain(app: TestApp) {
    let before = audit_rows(&app, "{}").await["totalCount"].as_i64().unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let app = &app;
            async move {
                app.gql_ok(
                    app.key(Role::Admin),
                    "mutation($n: String!) { createApiKey(input: {name: $n, roles: [AGENT]}) { secret } }",
                    json!({"n": format!("parallel {i}")}),
                )
                .await
            }
        })
        .collect();
    futures_util::future::join_all(tasks).await;
    let rows = audit_rows(&app, "{}").await;
    assert_eq!(rows["totalCount"].as_i64().unwrap(), before + 8);
    let report = app
        .workflow
        .verify_audit_chain()
        .await
        .unwrap()
        .expect("chain intact");
    assert_eq!(report.events as i64, before + 8);
}
e2e!(concurrent, concurrent_mutations_keep_one_unbroken_chain);

async fn exec(app: &TestApp, sql: &str) {
    let conn = app.workflow.store().conn();
    conn.execute_raw(Statement::from_string(
        conn.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The first broken link, failing the test if the chain verifies.
async fn broken_link(app: &TestApp) -> workflow::access::audit::BrokenLink {
    match app.workflow.verify_audit_chain().await.unwrap() {
        Ok(report) => panic!("chain verified although tampered with: {report:?}"),
        Err(broken) => broken,
    }
}

/// Runs `auskunft audit verify` as a process; returns (success, stdout + stderr).
fn cli_verify(app: &TestApp) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auskunft"))
        .args([
            "--database-url",
            &app.db.url,
            "--encryption-key",
            &app.encryption_key,
            "audit",
            "verify",
        ])
        .output()
        .expect("run auskunft");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn verify_names_the_first_edited_or_deleted_row(app: TestApp) {
    for i in 0..4 {
        app.gql_ok(
            app.key(Role::Admin),
            "mutation($n: String!) { createApiKey(input: {name: $n, roles: [AGENT]}) { secret } }",
            json!({"n": format!("k{i}")}),
        )
        .await;
    }
    let org = app.org_id;
    // This database holds one organization only, so `seq` names the row.
    let org_match = "1 = 1";
    let (ok, text) = cli_verify(&app);
    assert!(ok, "{text}");
    assert!(text.contains("audit chain intact"), "{text}");

    // Edit a row in the middle.
    exec(
        &app,
        &format!("UPDATE audit_event SET actor_name = 'mallory' WHERE {org_match} AND seq = 3"),
    )
    .await;
    let broken = broken_link(&app).await;
    assert_eq!((broken.org_id, broken.seq), (org, 3));
    assert!(broken.reason.contains("edited"), "{broken}");
    let (ok, text) = cli_verify(&app);
    assert!(!ok, "verify must fail on an edited row");
    assert!(text.contains("seq 3") && text.contains("edited"), "{text}");
    let original = "api-key:initial admin";
    exec(
        &app,
        &format!("UPDATE audit_event SET actor_name = '{original}' WHERE {org_match} AND seq = 3"),
    )
    .await;
    assert!(
        app.workflow.verify_audit_chain().await.unwrap().is_ok(),
        "restoring the row mends the chain"
    );

    // Delete the last row.
    let last = audit_rows(&app, "{}").await["totalCount"].as_i64().unwrap();
    exec(
        &app,
        &format!("DELETE FROM audit_event WHERE {org_match} AND seq = {last}"),
    )
    .await;
    let broken = broken_link(&app).await;
    assert!(broken.reason.contains("deleted at the end"), "{broken}");

    // Delete a row in the middle.
    exec(
        &app,
        &format!("DELETE FROM audit_event WHERE {org_match} AND seq = 2"),
    )
    .await;
    let broken = broken_link(&app).await;
    assert_eq!(broken.seq, 2);
    assert!(broken.reason.contains("missing"), "{broken}");
    let (ok, text) = cli_verify(&app);
    assert!(!ok && text.contains("seq 2"), "{text}");
}
e2e!(tamper, verify_names_the_first_edited_or_deleted_row);

/// The outcomes recorded under `operation`, oldest first.
async fn outcomes_of(app: &TestApp, operation: &str) -> Vec<String> {
    let rows = audit_rows(app, &format!("{{operation: \"{operation}\"}}")).await;
    let mut rows: Vec<(i64, String)> = rows["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["seq"].as_i64().unwrap(),
                n["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    rows.sort();
    rows.into_iter().map(|(_, outcome)| outcome).collect()
}

/// One operation name per action: a filter on the mutation's name finds its denial,
/// its failure and its success (a state-machine transition included), and the
/// items of a bulk mutation are recorded under the bulk mutation's name.
async fn an_action_has_one_name_whatever_its_outcome(app: TestApp) {
    let id = crate::role_matrix::request_in_review(&app).await;
    let version = app
        .gql_ok(
            app.key(Role::Auditor),
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { version } } }",
            json!({"id": id}),
        )
        .await["node"]["version"]
        .as_i64()
        .unwrap();
    let approve = "mutation($id: ID!, $v: Int!) { approveRequest(input: {requestId: $id, version: $v}) { request { state } } }";
    let body = app
        .gql(
            app.key(Role::Agent),
            approve,
            json!({"id": id, "v": version}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    let body = app
        .gql(
            app.key(Role::Reviewer),
            approve,
            json!({"id": id, "v": version + 7}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    let data = app
        .gql_ok(
            app.key(Role::Reviewer),
            approve,
            json!({"id": id, "v": version}),
        )
        .await;
    assert_eq!(data["approveRequest"]["request"]["state"], "APPROVED");
    assert_eq!(
        outcomes_of(&app, "approveRequest").await,
        ["DENIED", "FAILED", "SUCCESS"]
    );
    // The worker-free request went to review by `submitForReview`, by its name.
    assert_eq!(outcomes_of(&app, "submitForReview").await, ["SUCCESS"]);
    assert!(outcomes_of(&app, "APPROVE").await.is_empty());

    // A bulk cancel: its denial and each item's success under `bulkCancel`.
    let mut ids = Vec::new();
    for i in 0..2 {
        let data = app
            .gql_ok(
                app.key(Role::Agent),
                &format!(
                    "mutation {{ submitRequest(input: {{kind: ACCESS, channel: API, identities: [{{kind: EMAIL, value: \"bulk{i}@example.com\"}}]}}) {{ request {{ id }} }} }}"
                ),
                json!({}),
            )
            .await;
        ids.push(data["submitRequest"]["request"]["id"].clone());
    }
    let cancel = "mutation($ids: [ID!]!) { bulkCancel(input: {requestIds: $ids, reason: \"withdrawn by letter\"}) { failed results { ok } } }";
    let body = app
        .gql(app.key(Role::Steward), cancel, json!({"ids": ids}))
        .await;
    assert_code(&body, "FORBIDDEN");
    let data = app
        .gql_ok(app.key(Role::Agent), cancel, json!({"ids": ids}))
        .await;
    assert_eq!(data["bulkCancel"]["failed"], 0, "{data}");
    assert_eq!(
        outcomes_of(&app, "bulkCancel").await,
        ["DENIED", "SUCCESS", "SUCCESS"]
    );
    assert!(outcomes_of(&app, "cancelRequest").await.is_empty());
}
e2e!(one_name, an_action_has_one_name_whatever_its_outcome);
