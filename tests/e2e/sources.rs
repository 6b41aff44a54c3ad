//! Data sources: connector configurations checked against their JSON Schema, secrets
//! encrypted at rest and never returned.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, create_org, e2e, error_paths, workflow_id};

const CREATE: &str = "mutation($i: CreateDataSourceInput!) { createDataSource(input: $i) { dataSource { id name connectorKind connectorConfig secretsSet processor { name } } } }";
const UPDATE: &str = "mutation($i: UpdateDataSourceInput!) { updateDataSource(input: $i) { dataSource { connectorConfig secretsSet } } }";
const PASSWORD: &str = "correct-horse-battery-staple";

async fn raw_row(app: &TestApp, name: &str) -> (String, Option<String>) {
    let conn = app.workflow.store().conn();
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => "SELECT CAST(connector_config AS TEXT) AS c, secrets FROM data_source WHERE name = $1",
                _ => "SELECT CAST(connector_config AS CHAR) AS c, secrets FROM data_source WHERE name = ?",
            },
            [name.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    (
        row.try_get::<String>("", "c").unwrap(),
        row.try_get::<Option<String>>("", "secrets").unwrap(),
    )
}

async fn connector_configs_are_validated_and_secrets_never_leave(app: TestApp) {
    let steward = app.key(Role::Steward);
    // The schemas are served for forms.
    let schemas = app
        .gql_ok(
            app.key(Role::Reviewer),
            "{ connectorSchemas { kind secretProperties schema } }",
            json!({}),
        )
        .await;
    let kinds: Vec<&str> = schemas["connectorSchemas"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["POSTGRES", "MYSQL", "SQLITE", "HTTP", "MANUAL"]);
    assert_eq!(
        schemas["connectorSchemas"][0]["secretProperties"],
        json!(["password"])
    );
    assert_eq!(
        schemas["connectorSchemas"][0]["schema"]["properties"]["password"]["writeOnly"],
        true
    );

    // Every schema error is reported with its JSON pointer; a missing property with
    // its own.
    let body = app
        .gql(steward, CREATE, json!({"i": {"name": "Shop DB", "connectorKind": "POSTGRES", "connectorConfig": {"host": "db", "port": 70000, "user": 7, "colour": "red"}}}))
        .await;
    assert_code(&body, "VALIDATION");
    let paths = error_paths(&body);
    for expected in [
        "input.connectorConfig.database",
        "input.connectorConfig.port",
        "input.connectorConfig.user",
    ] {
        assert!(
            paths.contains(&expected.to_owned()),
            "{expected} in {paths:?}"
        );
    }

    // A valid source: the password is stored, encrypted, and never returned.
    let config = json!({"host": "db.internal", "port": 5432, "database": "shop", "user": "auskunft", "password": PASSWORD});
    let data = app.gql_ok(steward, CREATE, json!({"i": {"name": "Shop DB", "connectorKind": "POSTGRES", "connectorConfig": config, "country": "de"}})).await;
    let source = &data["createDataSource"]["dataSource"];
    assert_eq!(source["secretsSet"], json!(["password"]));
    assert!(source["connectorConfig"].get("password").is_none());
    assert!(!data.to_string().contains(PASSWORD));
    let id = source["id"].as_str().unwrap().to_owned();
    let (plain, sealed) = raw_row(&app, "Shop DB").await;
    assert!(
        !plain.contains(PASSWORD) && plain.contains("db.internal"),
        "{plain}"
    );
    let sealed = sealed.expect("secrets stored");
    assert!(!sealed.contains(PASSWORD), "stored encrypted");
    // Not in the audit trail or any listing either.
    let everything = app
        .gql_ok(app.key(Role::Auditor), "{ auditEvents(last: 100) { nodes { operation objectId afterDigest } } dataSources { nodes { connectorConfig secretsSet } } }", json!({}))
        .await;
    assert!(!everything.to_string().contains(PASSWORD));

    // Updating the config without the password keeps it while the source stays
    // where it is; clearing removes it.
    let data = app
        .gql_ok(steward, UPDATE, json!({"i": {"id": id, "connectorConfig": {"host": "db.internal", "database": "shop2", "user": "auskunft"}}}))
        .await;
    assert_eq!(
        data["updateDataSource"]["dataSource"]["secretsSet"],
        json!(["password"])
    );
    assert!(raw_row(&app, "Shop DB").await.1.is_some(), "password kept");
    // Pointing it at another host would send the stored password there: refused
    // unless the password is given again.
    let moved = app
        .gql(steward, UPDATE, json!({"i": {"id": id, "connectorConfig": {"host": "db2.internal", "database": "shop", "user": "auskunft"}}}))
        .await;
    assert_code(&moved, "VALIDATION");
    assert!(moved.to_string().contains("`password`"), "{moved}");
    let data = app
        .gql_ok(steward, UPDATE, json!({"i": {"id": id, "connectorConfig": {"host": "db2.internal", "database": "shop", "user": "auskunft", "password": "an0ther"}}}))
        .await;
    assert_eq!(
        data["updateDataSource"]["dataSource"]["connectorConfig"]["host"],
        "db2.internal"
    );
    assert_eq!(
        data["updateDataSource"]["dataSource"]["secretsSet"],
        json!(["password"])
    );
    assert_code(
        &app.gql(
            steward,
            UPDATE,
            json!({"i": {"id": id, "clearSecrets": ["token"]}}),
        )
        .await,
        "VALIDATION",
    );
    let data = app
        .gql_ok(
            steward,
            UPDATE,
            json!({"i": {"id": id, "clearSecrets": ["password"]}}),
        )
        .await;
    assert_eq!(
        data["updateDataSource"]["dataSource"]["secretsSet"],
        json!([])
    );
    assert_eq!(raw_row(&app, "Shop DB").await.1, None);
    // Changing the kind revalidates the configuration.
    assert_code(
        &app.gql(
            steward,
            UPDATE,
            json!({"i": {"id": id, "connectorKind": "SQLITE"}}),
        )
        .await,
        "VALIDATION",
    );
    let data = app
        .gql_ok(steward, UPDATE, json!({"i": {"id": id, "connectorKind": "SQLITE", "connectorConfig": {"path": "shop.db"}}}))
        .await;
    assert_eq!(
        data["updateDataSource"]["dataSource"]["connectorConfig"],
        json!({"path": "shop.db"})
    );
}
e2e!(
    secrets,
    connector_configs_are_validated_and_secrets_never_leave
);

async fn sources_have_owners_processors_and_stay_in_their_organization(app: TestApp) {
    let dpo = app.key(Role::Dpo);
    let recipient =
        "mutation($i: CreateRecipientInput!) { createRecipient(input: $i) { recipient { id } } }";
    let crm_vendor = app
        .gql_ok(
            dpo,
            recipient,
            json!({"i": {"name": "CRM Cloud GmbH", "kind": "PROCESSOR", "country": "DE"}}),
        )
        .await["createRecipient"]["recipient"]["id"]
        .clone();
    let parcel = app
        .gql_ok(
            dpo,
            recipient,
            json!({"i": {"name": "Paketdienst", "kind": "THIRD_PARTY"}}),
        )
        .await["createRecipient"]["recipient"]["id"]
        .clone();
    let crm = json!({"name": "CRM", "connectorKind": "HTTP", "connectorConfig": {"baseUrl": "https://crm.example/api", "auth": "bearer", "token": "t0k3n"}});
    let mut with_parcel = crm.clone();
    with_parcel["processorId"] = parcel;
    let body = app.gql(dpo, CREATE, json!({"i": with_parcel})).await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "processorId"])
    );
    let mut with_vendor = crm.clone();
    with_vendor["processorId"] = crm_vendor;
    let data = app.gql_ok(dpo, CREATE, json!({"i": with_vendor})).await;
    let source = &data["createDataSource"]["dataSource"];
    assert_eq!(source["processor"]["name"], "CRM Cloud GmbH");
    assert_eq!(source["secretsSet"], json!(["token"]));
    let id = source["id"].as_str().unwrap().to_owned();
    assert_code(&app.gql(dpo, CREATE, json!({"i": crm})).await, "CONFLICT");
    app.gql_ok(dpo, CREATE, json!({"i": {"name": "Support mailbox", "connectorKind": "MANUAL", "connectorConfig": {"contact": "support@moebel.example"}}})).await;
    let manual = app
        .gql_ok(
            app.key(Role::Reviewer),
            "{ dataSources(filter: {connectorKind: MANUAL}) { nodes { name } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        manual["dataSources"]["nodes"],
        json!([{"name": "Support mailbox"}])
    );
    // Reviewers read sources, agents do not; only stewards, DPO and admins keep them.
    assert_code(
        &app.gql(
            app.key(Role::Agent),
            "{ dataSources { totalCount } }",
            json!({}),
        )
        .await,
        "FORBIDDEN",
    );
    assert_code(
        &app.gql(
            app.key(Role::Reviewer),
            "mutation($id: ID!) { deleteDataSource(input: {id: $id}) { deletedId } }",
            json!({"id": id}),
        )
        .await,
        "FORBIDDEN",
    );
    // Another organization gets NOT_FOUND.
    let other = create_org(&app.workflow, "Nachbar KG").await;
    let theirs = &other.keys[&Role::Admin];
    assert_code(
        &app.gql(
            theirs,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": id}),
        )
        .await,
        "NOT_FOUND",
    );
    assert_code(
        &app.gql(theirs, UPDATE, json!({"i": {"id": id, "name": "mine"}}))
            .await,
        "NOT_FOUND",
    );
    app.gql_ok(
        dpo,
        "mutation($id: ID!) { deleteDataSource(input: {id: $id}) { deletedId } }",
        json!({"id": id}),
    )
    .await;
}
e2e!(
    ownership,
    sources_have_owners_processors_and_stay_in_their_organization
);

async fn fields_map_where_personal_data_lives(app: TestApp) {
    let steward = app.key(Role::Steward);
    let source = |name: &str| json!({"i": {"name": name, "connectorKind": "SQLITE", "connectorConfig": {"path": format!("{name}.db")}}});
    let shop = app.gql_ok(steward, CREATE, source("shop")).await["createDataSource"]["dataSource"]
        ["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let crm =
        app.gql_ok(steward, CREATE, source("crm")).await["createDataSource"]["dataSource"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    let email_category = app
        .gql_ok(
            steward,
            "{ dataCategories(filter: {search: \"contact.email\"}) { nodes { id } } }",
            json!({}),
        )
        .await["dataCategories"]["nodes"][0]["id"]
        .clone();
    let field = "mutation($i: CreateDataFieldInput!) { createDataField(input: $i) { dataField { id location } } }";
    let create = |i: serde_json::Value| app.gql(steward, field, json!({"i": i}));
    // Locations follow the connector kind; identifying fields say what they hold.
    assert_code(
        &create(json!({"sourceId": shop, "location": "customers", "erasureStrategy": "SET_NULL"}))
            .await,
        "VALIDATION",
    );
    let body = create(json!({"sourceId": shop, "location": "customers.email", "identifiesSubject": true, "erasureStrategy": "SET_NULL"})).await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "identityType"])
    );
    let id_of = |body: serde_json::Value| {
        body["data"]["createDataField"]["dataField"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let customers_id = id_of(
        create(
            json!({"sourceId": shop, "location": "customers.id", "erasureStrategy": "DELETE_ROW"}),
        )
        .await,
    );
    let email = id_of(
        create(json!({"sourceId": shop, "location": "customers.email", "identifiesSubject": true, "identityType": "EMAIL", "dataCategoryId": email_category, "erasureStrategy": "SET_NULL"}))
            .await,
    );
    let order_customer = id_of(
        create(json!({"sourceId": shop, "location": "orders.customer_id", "referencesId": customers_id, "erasureStrategy": "DELETE_ROW"})).await,
    );
    assert_code(
        &create(
            json!({"sourceId": shop, "location": "customers.email", "erasureStrategy": "MASK"}),
        )
        .await,
        "CONFLICT",
    );
    // References stay inside the source and must not close a cycle.
    let body = create(json!({"sourceId": crm, "location": "contacts.shop_id", "referencesId": customers_id, "erasureStrategy": "SET_NULL"})).await;
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "referencesId"]),
        "{body}"
    );
    let update = "mutation($i: UpdateDataFieldInput!) { updateDataField(input: $i) { dataField { location } } }";
    let body = app
        .gql(
            steward,
            update,
            json!({"i": {"id": customers_id, "referencesId": order_customer}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cycle"),
        "{body}"
    );
    // Read back through the source.
    let q = "query($id: ID!) { node(id: $id) { ... on DataSource { identityKeys fields { location identifiesSubject dataCategory { key } references { location } } } } }";
    let data = app
        .gql_ok(app.key(Role::Reviewer), q, json!({"id": shop}))
        .await;
    assert_eq!(data["node"]["identityKeys"], json!(["EMAIL"]));
    assert_eq!(
        data["node"]["fields"],
        json!([
            {"location": "customers.id", "identifiesSubject": false, "dataCategory": null, "references": null},
            {"location": "customers.email", "identifiesSubject": true, "dataCategory": {"key": "contact.email"}, "references": null},
            {"location": "orders.customer_id", "identifiesSubject": false, "dataCategory": null, "references": {"location": "customers.id"}}
        ])
    );
    // What is in use cannot be deleted: source with fields, category of a field, referenced field.
    let body = app
        .gql(
            steward,
            "mutation($id: ID!) { deleteDataSource(input: {id: $id}) { deletedId } }",
            json!({"id": shop}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("customers.email"),
        "{body}"
    );
    assert_code(
        &app.gql(
            app.key(Role::Dpo),
            "mutation($id: ID!) { deleteDataCategory(input: {id: $id}) { deletedId } }",
            json!({"id": email_category}),
        )
        .await,
        "CONFLICT",
    );
    assert_code(
        &app.gql(
            steward,
            "mutation($id: ID!) { deleteDataField(input: {id: $id}) { deletedId } }",
            json!({"id": customers_id}),
        )
        .await,
        "CONFLICT",
    );
    // The register findings see the gaps: an unmapped source, uncategorized fields,
    // and a category held in a source that no activity names.
    let findings = app
        .gql_ok(
            app.key(Role::Dpo),
            "{ registerFindings(first: 100) { nodes { kind objectId message } } }",
            json!({}),
        )
        .await;
    let found = |kind: &str, id: &str| {
        findings["registerFindings"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == kind && f["objectId"] == id)
    };
    assert!(found("SOURCE_WITHOUT_FIELDS", &crm), "{findings}");
    assert!(found("FIELD_WITHOUT_CATEGORY", &customers_id), "{findings}");
    assert!(
        found(
            "CATEGORY_WITHOUT_ACTIVITY",
            email_category.as_str().unwrap()
        ),
        "{findings}"
    );
    // Filters, and another organization's key gets NOT_FOUND.
    let listed = app.gql_ok(steward, "query($s: ID!) { dataFields(filter: {sourceId: $s, identifiesSubject: true}) { nodes { location } } }", json!({"s": shop})).await;
    assert_eq!(
        listed["dataFields"]["nodes"],
        json!([{"location": "customers.email"}])
    );
    let other = create_org(&app.workflow, "Dritte GmbH").await;
    assert_code(
        &app.gql(
            &other.keys[&Role::Steward],
            field,
            json!({"i": {"sourceId": shop, "location": "x.y", "erasureStrategy": "MASK"}}),
        )
        .await,
        "NOT_FOUND",
    );
    assert_code(
        &app.gql(
            &other.keys[&Role::Steward],
            update,
            json!({"i": {"id": email, "location": "x.y"}}),
        )
        .await,
        "NOT_FOUND",
    );
    for id in [&order_customer, &email, &customers_id] {
        app.gql_ok(
            steward,
            "mutation($id: ID!) { deleteDataField(input: {id: $id}) { deletedId } }",
            json!({"id": id}),
        )
        .await;
    }
    app.gql_ok(
        steward,
        "mutation($id: ID!) { deleteDataSource(input: {id: $id}) { deletedId } }",
        json!({"id": shop}),
    )
    .await;
}
e2e!(fields, fields_map_where_personal_data_lives);

// ---- Where sources may point (issue 10, section 7) ----

const INSPECT_TABLES: &str =
    "query($id: ID!) { inspectSource(id: $id) { connectionError tables { name } } }";

/// A small SQLite database at `path` with one table.
async fn sqlite_file(path: &std::path::Path) {
    let db = sea_orm::Database::connect(format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    db.execute_unprepared("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT)")
        .await
        .unwrap();
    db.close().await.unwrap();
}

/// The VALIDATION message at `input.connectorConfig.path` of a refused SQLite source.
#[track_caller]
fn refused_path(body: &serde_json::Value) -> String {
    assert_code(body, "VALIDATION");
    let field = &body["errors"][0]["extensions"]["fields"][0];
    assert_eq!(
        field["path"],
        json!(["input", "connectorConfig", "path"]),
        "{body:#}"
    );
    field["message"].as_str().unwrap().to_owned()
}

/// Creates a SQLITE source at `path`; the response body.
async fn create_sqlite(app: &TestApp, name: &str, path: &str) -> serde_json::Value {
    app.gql(
        app.key(Role::Steward),
        CREATE,
        json!({"i": {"name": name, "connectorKind": "SQLITE", "connectorConfig": {"path": path}}}),
    )
    .await
}

async fn inspect(app: &TestApp, id: &serde_json::Value) -> serde_json::Value {
    app.gql_ok(app.key(Role::Steward), INSPECT_TABLES, json!({"id": id}))
        .await["inspectSource"]
        .clone()
}

async fn sqlite_sources_stay_in_their_directory(app: TestApp) {
    let dir = app.sources_dir.clone();
    // An allowed file inside the directory works, by relative and absolute path.
    sqlite_file(&dir.join("shop.db")).await;
    let shop = create_sqlite(&app, "Shop", "shop.db").await;
    let shop = shop["data"]["createDataSource"]["dataSource"]["id"].clone();
    let inspection = inspect(&app, &shop).await;
    assert_eq!(inspection["connectionError"], json!(null), "{inspection:#}");
    assert_eq!(inspection["tables"], json!([{"name": "customers"}]));
    let absolute = dir.join("shop.db").display().to_string();
    assert!(
        create_sqlite(&app, "Shop again", &absolute).await["errors"].is_null(),
        "an absolute path inside the directory is fine"
    );

    // Outside the directory, existing or not, and the product's own database: one
    // answer for all, so nothing is learnt about the host's files.
    let outside_dir =
        std::env::temp_dir().join(format!("auskunft-outside-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&outside_dir).unwrap();
    let outside = outside_dir.join("other.db");
    sqlite_file(&outside).await;
    let mut refused = vec![
        outside.display().to_string(),
        outside_dir.join("missing.db").display().to_string(),
        format!(
            "../{}/other.db",
            outside_dir.file_name().unwrap().to_string_lossy()
        ),
        "../../../../../../../../etc/passwd".to_owned(),
        "/etc/passwd".to_owned(),
    ];
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&outside, dir.join("link-out.db")).unwrap();
        refused.push("link-out.db".to_owned());
    }
    if let Some(own) = app.db.sqlite_path() {
        // The test's own database, as `auskunft.db` is the product's: absolute, via
        // `..`, and through a link inside the directory.
        let own_name = own.file_name().unwrap().to_string_lossy().into_owned();
        refused.push(own.display().to_string());
        refused.push(format!("../{own_name}"));
        refused.push(format!("./x/../../{own_name}"));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&own, dir.join("own-link.db")).unwrap();
            refused.push("own-link.db".to_owned());
        }
    }
    let mut messages = std::collections::BTreeSet::new();
    for (i, path) in refused.iter().enumerate() {
        let body = create_sqlite(&app, &format!("Refused {i}"), path).await;
        messages.insert(refused_path(&body));
    }
    assert_eq!(
        messages.len(),
        1,
        "one message for every refusal: {messages:?}"
    );
    let message = messages.into_iter().next().unwrap();
    assert!(!message.contains("exist"), "{message}");

    // A name inside the directory that does not exist (`auskunft.db` as a steward
    // would type it) may be registered, but inspecting it says the same as above.
    let later = create_sqlite(&app, "Later", "auskunft.db").await;
    let later = later["data"]["createDataSource"]["dataSource"]["id"].clone();
    let missing_error = inspect(&app, &later).await["connectionError"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(missing_error, format!("`path` {message}"));

    // Checked again when connecting: a link that pointed inside and now points
    // outside (or at the product's database) is refused with the same words.
    #[cfg(unix)]
    {
        let link = dir.join("moving.db");
        std::os::unix::fs::symlink(dir.join("shop.db"), &link).unwrap();
        let moving = create_sqlite(&app, "Moving", "moving.db").await;
        let moving = moving["data"]["createDataSource"]["dataSource"]["id"].clone();
        assert_eq!(inspect(&app, &moving).await["connectionError"], json!(null));
        let targets = [Some(outside.clone()), app.db.sqlite_path()];
        for target in targets.into_iter().flatten() {
            std::fs::remove_file(&link).unwrap();
            std::os::unix::fs::symlink(&target, &link).unwrap();
            let inspection = inspect(&app, &moving).await;
            assert_eq!(
                inspection["connectionError"].as_str(),
                Some(missing_error.as_str()),
                "{target:?}"
            );
            assert_eq!(inspection["tables"], json!([]));
        }
    }
    let _ = std::fs::remove_dir_all(&outside_dir);
}
e2e!(sqlite_confinement, sqlite_sources_stay_in_their_directory);

/// The product's database inside the directory of SQLite sources is still refused,
/// however it is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_own_database_is_refused_even_inside_the_source_directory() {
    let app = TestApp::spawn_configured(
        crate::common::Backend::Sqlite,
        api::Limits::default(),
        |db, _| workflow::SourceSettings {
            sqlite_dir: db.sqlite_path().unwrap().parent().unwrap().to_owned(),
            allowed_hosts: None,
        },
    )
    .await
    .unwrap();
    let own = app.db.sqlite_path().unwrap();
    let name = own.file_name().unwrap().to_string_lossy().into_owned();
    for (i, path) in [
        name.clone(),
        own.display().to_string(),
        format!("./{name}"),
        format!("sub/../{name}"),
        format!("{name}-wal"),
    ]
    .iter()
    .enumerate()
    {
        let body = create_sqlite(&app, &format!("Own {i}"), path).await;
        refused_path(&body);
    }
    // Another database beside it is a source like any other.
    let fine = own.with_file_name(format!(
        "auskunft-fine-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    sqlite_file(&fine).await;
    let body = create_sqlite(&app, "Fine", &fine.file_name().unwrap().to_string_lossy()).await;
    let id = body["data"]["createDataSource"]["dataSource"]["id"].clone();
    let inspection = inspect(&app, &id).await;
    let _ = std::fs::remove_file(&fine);
    assert_eq!(inspection["connectionError"], json!(null), "{inspection:#}");
    assert_eq!(inspection["tables"], json!([{"name": "customers"}]));
}

/// Creates a source of `kind` with `config` as the steward; the response body.
async fn create_source(
    app: &TestApp,
    name: &str,
    kind: &str,
    config: serde_json::Value,
) -> serde_json::Value {
    app.gql(
        app.key(Role::Steward),
        CREATE,
        json!({"i": {"name": name, "connectorKind": kind, "connectorConfig": config}}),
    )
    .await
}

async fn hosts_outside_the_allow_list_are_refused(backend: crate::common::Backend) {
    let allowed = vec!["db.allowed.example".to_owned(), "*.crm.example".to_owned()];
    let Some(app) = TestApp::spawn_configured(backend, api::Limits::default(), |_, dir| {
        workflow::SourceSettings {
            sqlite_dir: dir.to_owned(),
            allowed_hosts: Some(allowed.clone()),
        }
    })
    .await
    else {
        eprintln!("skipped: {backend:?} not configured");
        return;
    };
    let steward = app.key(Role::Steward);
    for (kind, config, field) in [
        (
            "POSTGRES",
            json!({"host": "127.0.0.1", "database": "auskunft", "user": "postgres"}),
            "host",
        ),
        (
            "MYSQL",
            json!({"host": "localhost", "database": "mysql", "user": "root"}),
            "host",
        ),
        (
            "HTTP",
            json!({"baseUrl": "http://169.254.169.254/latest/meta-data"}),
            "baseUrl",
        ),
        (
            "HTTP",
            json!({"baseUrl": "https://crm.example.evil.example/api"}),
            "baseUrl",
        ),
    ] {
        let body = create_source(&app, "Refused", kind, config.clone()).await;
        assert_code(&body, "VALIDATION");
        assert_eq!(
            body["errors"][0]["extensions"]["fields"][0]["path"],
            json!(["input", "connectorConfig", field]),
            "{kind} {config}: {body:#}"
        );
    }
    let pg = create_source(
        &app,
        "Allowed DB",
        "POSTGRES",
        json!({"host": "db.allowed.example", "port": 1, "database": "erp", "user": "auskunft", "sslMode": "disable"}),
    )
    .await;
    let pg = pg["data"]["createDataSource"]["dataSource"]["id"].clone();
    let crm = create_source(
        &app,
        "CRM",
        "HTTP",
        json!({"baseUrl": "https://eu.crm.example/api"}),
    )
    .await;
    assert!(crm["errors"].is_null(), "{crm:#}");
    // Changing an allowed source to another host is refused too.
    let body = app
        .gql(
            steward,
            UPDATE,
            json!({"i": {"id": pg, "connectorConfig": {"host": "127.0.0.1", "database": "erp", "user": "auskunft"}}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "connectorConfig", "host"])
    );
    // And again at connect time: after a restart with a narrower list, the stored
    // source is not connected to.
    let narrower = app
        .reopen_with(workflow::SourceSettings {
            sqlite_dir: app.sources_dir.clone(),
            allowed_hosts: Some(vec!["other.example".into()]),
        })
        .await
        .unwrap();
    let steward_principal = workflow::Principal {
        key_id: app.key_ids[&Role::Steward],
        org_id: app.org_id,
        key_name: "steward".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    let id = workflow_id(&pg);
    let inspection = narrower
        .inspect_source(&steward_principal, id)
        .await
        .unwrap();
    let error = inspection.connection_error.unwrap();
    assert!(
        error.contains("db.allowed.example") && error.contains("sources.allowed_hosts"),
        "{error}"
    );
}

mod allow_list {
    use crate::common::Backend;
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        super::hosts_outside_the_allow_list_are_refused(Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        super::hosts_outside_the_allow_list_are_refused(Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mysql() {
        super::hosts_outside_the_allow_list_are_refused(Backend::Mysql).await
    }
}

// ---- Secrets never come back in validation errors (issue 10, section 9) ----

async fn validation_errors_never_repeat_secret_values(app: TestApp) {
    let marker = "S3cret-Marker-4711";
    for (kind, config) in [
        // A secret of the wrong type.
        (
            "POSTGRES",
            json!({"host": "db", "database": "shop", "user": "u", "password": [marker]}),
        ),
        (
            "MYSQL",
            json!({"host": "db", "database": "shop", "user": "u", "password": {"v": marker}}),
        ),
        (
            "HTTP",
            json!({"baseUrl": "https://crm.example/api", "auth": "bearer", "token": [marker]}),
        ),
        // A secret typed into the wrong (non-secret) field.
        (
            "HTTP",
            json!({"baseUrl": marker, "auth": "basic", "password": marker}),
        ),
        (
            "POSTGRES",
            json!({"host": "db", "database": "shop", "user": "u", "port": marker, "sslMode": marker}),
        ),
        (
            "HTTP",
            json!({"baseUrl": "https://crm.example/api", "timeoutSeconds": marker, "auth": marker, "headers": {"X-Key": [marker]}}),
        ),
        // Not an object at all.
        ("MYSQL", json!(marker)),
    ] {
        let body = create_source(&app, "Leaky", kind, config.clone()).await;
        assert_code(&body, "VALIDATION");
        assert!(
            !body.to_string().contains(marker),
            "{kind} {config}: the error repeats the submitted value: {body:#}"
        );
    }
}
e2e!(secret_echo, validation_errors_never_repeat_secret_values);
