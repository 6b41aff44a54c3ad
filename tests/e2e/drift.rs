//! Schema drift: `inspectSource` reads the catalog of real SQLite, PostgreSQL and
//! MariaDB databases created by the test, compares it with the mapped fields, and
//! `suggestFieldMappings` turns suggestions into fields.

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use workflow::Role;

use crate::common::{Backend, TestApp, TestDb, assert_code, create_org, e2e, run};

/// A shop database of `backend` with customers, orders and invoices (a SQLite file
/// in `app`'s directory of SQLite sources).
async fn shop_database(app: &TestApp, backend: Backend) -> Option<(TestDb, Value)> {
    let db = match backend {
        Backend::Sqlite => TestDb::sqlite_in(&app.sources_dir),
        _ => TestDb::create(backend).await?,
    };
    let conn = Database::connect(&db.url).await.unwrap();
    let serial = match backend {
        Backend::Sqlite => "INTEGER PRIMARY KEY",
        Backend::Postgres => "SERIAL PRIMARY KEY",
        Backend::Mysql => "INTEGER AUTO_INCREMENT PRIMARY KEY",
    };
    for ddl in [
        format!(
            "CREATE TABLE customers (id {serial}, email VARCHAR(200) NOT NULL UNIQUE,
             first_name VARCHAR(100), last_name VARCHAR(100), phone VARCHAR(50),
             date_of_birth DATE, fax VARCHAR(50), created_at TIMESTAMP NULL)"
        ),
        format!(
            "CREATE TABLE orders (id {serial}, customer_id INTEGER NOT NULL,
             note TEXT, FOREIGN KEY (customer_id) REFERENCES customers (id))"
        ),
        format!(
            "CREATE TABLE invoices (id {serial}, order_id INTEGER NOT NULL, iban VARCHAR(34),
             FOREIGN KEY (order_id) REFERENCES orders (id))"
        ),
    ] {
        conn.execute_unprepared(&ddl).await.unwrap();
    }
    conn.close().await.unwrap();
    let config = match backend {
        Backend::Sqlite => {
            let path = db
                .url
                .trim_start_matches("sqlite://")
                .trim_end_matches("?mode=rwc");
            json!({"connectorKind": "SQLITE", "connectorConfig": {"path": path}})
        }
        Backend::Postgres | Backend::Mysql => {
            let url = reqwest::Url::parse(&db.url).unwrap();
            let mut config = json!({
                "host": url.host_str().unwrap(),
                "database": url.path().trim_start_matches('/'),
                "user": url.username(),
            });
            if let Some(port) = url.port() {
                config["port"] = json!(port);
            }
            if let Some(password) = url.password() {
                config["password"] = json!(password);
            }
            if backend == Backend::Postgres {
                config["sslMode"] = json!("disable");
            }
            let kind = if backend == Backend::Postgres {
                "POSTGRES"
            } else {
                "MYSQL"
            };
            json!({"connectorKind": kind, "connectorConfig": config})
        }
    };
    Some((db, config))
}

async fn alter(db: &TestDb, sql: &str) {
    let conn = Database::connect(&db.url).await.unwrap();
    conn.execute_unprepared(sql).await.unwrap();
    conn.close().await.unwrap();
}

const INSPECT: &str = "query($id: ID!) { inspectSource(id: $id) {
    connectionError schemaName
    tables { name columns { name dataType nullable primaryKey indexed references mappedField { location } } }
    unmappedColumns { location dataType dataCategory { key } identityType erasureStrategy references reason }
    vanishedFields { location }
    undeclaredReferences { field { location } references referencedField { location } }
    unindexedLookups { location } } }";

const FIELD: &str = "mutation($i: CreateDataFieldInput!) { createDataField(input: $i) { dataField { id location } } }";

fn locations(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v.get("location")
                .or_else(|| v.get("field").and_then(|f| f.get("location")))
                .and_then(Value::as_str)
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn drift_of(app: TestApp, source_backend: Backend) {
    let Some((db, config)) = shop_database(&app, source_backend).await else {
        eprintln!("skipped: {source_backend:?} not configured");
        return;
    };
    let steward = app.key(Role::Steward);
    let mut input = config.clone();
    input["name"] = json!("Shop database");
    let data = app
        .gql_ok(
            steward,
            "mutation($i: CreateDataSourceInput!) { createDataSource(input: $i) { dataSource { id } } }",
            json!({"i": input}),
        )
        .await;
    let source = data["createDataSource"]["dataSource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let app_ref = &app;
    let field = |location: &str, extra: Value| {
        let mut i =
            json!({"sourceId": source, "location": location, "erasureStrategy": "SET_NULL"});
        i.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        async move {
            app_ref.gql_ok(steward, FIELD, json!({"i": i})).await["createDataField"]["dataField"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    field(
        "customers.email",
        json!({"identifiesSubject": true, "identityType": "EMAIL"}),
    )
    .await;
    field(
        "customers.phone",
        json!({"identifiesSubject": true, "identityType": "PHONE"}),
    )
    .await;
    field("customers.fax", json!({})).await;
    field("customers.id", json!({})).await;
    field("orders.customer_id", json!({})).await;

    let data = app.gql_ok(steward, INSPECT, json!({"id": source})).await;
    let i = &data["inspectSource"];
    assert_eq!(i["connectionError"], Value::Null, "{i:#}");
    let tables: Vec<&str> = i["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tables, ["customers", "invoices", "orders"]);
    let column = |table: &str, column: &str| -> Value {
        i["tables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == table)
            .unwrap()["columns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == column)
            .unwrap()
            .clone()
    };
    assert_eq!(column("customers", "id")["primaryKey"], true);
    assert_eq!(column("customers", "id")["indexed"], true);
    assert_eq!(
        column("customers", "email")["indexed"],
        true,
        "UNIQUE makes an index"
    );
    assert_eq!(column("customers", "email")["nullable"], false);
    assert_eq!(
        column("customers", "email")["mappedField"]["location"],
        "customers.email"
    );
    assert_eq!(
        column("orders", "customer_id")["references"],
        "customers.id"
    );
    assert_eq!(column("invoices", "order_id")["references"], "orders.id");
    assert_eq!(column("orders", "note")["mappedField"], Value::Null);

    // Unmapped columns, with suggestions from names, types and tables.
    let unmapped = &i["unmappedColumns"];
    assert_eq!(
        locations(unmapped),
        [
            "customers.first_name",
            "customers.last_name",
            "customers.date_of_birth",
            "customers.created_at",
            "invoices.id",
            "invoices.order_id",
            "invoices.iban",
            "orders.id",
            "orders.note",
        ]
    );
    let suggestion = |location: &str| -> Value {
        unmapped
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["location"] == location)
            .unwrap()
            .clone()
    };
    assert_eq!(
        suggestion("customers.first_name")["dataCategory"]["key"],
        "identity.name"
    );
    assert_eq!(
        suggestion("customers.date_of_birth")["dataCategory"]["key"],
        "identity.birth_date"
    );
    assert_eq!(
        suggestion("invoices.iban")["dataCategory"]["key"],
        "financial.bank_account"
    );
    assert_eq!(
        suggestion("orders.note")["dataCategory"]["key"],
        "contract.orders"
    );
    assert_eq!(
        suggestion("customers.created_at")["dataCategory"],
        Value::Null
    );
    assert_eq!(suggestion("invoices.order_id")["references"], "orders.id");
    assert_eq!(
        suggestion("invoices.order_id")["erasureStrategy"],
        "DELETE_ROW"
    );
    assert!(
        suggestion("customers.first_name")["reason"]
            .as_str()
            .unwrap()
            .contains("firstname")
    );

    // The foreign key orders.customer_id -> customers.id is mapped but not declared.
    assert_eq!(
        i["undeclaredReferences"],
        json!([{"field": {"location": "orders.customer_id"}, "references": "customers.id", "referencedField": {"location": "customers.id"}}])
    );
    // Looking customers up by phone would scan: no index leads with it.
    assert_eq!(locations(&i["unindexedLookups"]), ["customers.phone"]);
    assert_eq!(i["vanishedFields"], json!([]));

    // The data model changes under the register: the dropped column is reported.
    alter(&db, "ALTER TABLE customers DROP COLUMN fax").await;
    let data = app.gql_ok(steward, INSPECT, json!({"id": source})).await;
    assert_eq!(
        locations(&data["inspectSource"]["vanishedFields"]),
        ["customers.fax"]
    );

    // Accepting suggestions: the referenced column first, the reference declared,
    // a category overridden.
    let other_category = app
        .gql_ok(
            steward,
            "{ dataCategories(first: 100, filter: {search: \"orders\"}) { nodes { id key } } }",
            json!({}),
        )
        .await["dataCategories"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "contract.orders")
        .unwrap()["id"]
        .clone();
    let accept = "mutation($i: SuggestFieldMappingsInput!) { suggestFieldMappings(input: $i) {
        dataFields { location identifiesSubject erasureStrategy dataCategory { key } references { location } } } }";
    let data = app
        .gql_ok(
            steward,
            accept,
            json!({"i": {"sourceId": source, "accept": [
                {"location": "invoices.order_id", "dataCategoryId": other_category},
                {"location": "orders.id"},
                {"location": "customers.first_name"},
            ]}}),
        )
        .await;
    let created = &data["suggestFieldMappings"]["dataFields"];
    assert_eq!(
        locations(created),
        ["orders.id", "customers.first_name", "invoices.order_id"]
    );
    assert_eq!(created[2]["references"]["location"], "orders.id");
    assert_eq!(created[2]["dataCategory"]["key"], "contract.orders");
    assert_eq!(created[1]["dataCategory"]["key"], "identity.name");
    let data = app.gql_ok(steward, INSPECT, json!({"id": source})).await;
    let unmapped = locations(&data["inspectSource"]["unmappedColumns"]);
    assert!(
        !unmapped.contains(&"customers.first_name".to_owned()),
        "{unmapped:?}"
    );
    assert!(
        !unmapped.contains(&"invoices.order_id".to_owned()),
        "{unmapped:?}"
    );

    // Bad input changes nothing.
    let before = app
        .gql_ok(steward, "{ dataFields { totalCount } }", json!({}))
        .await;
    let body = app
        .gql(
            steward,
            accept,
            json!({"i": {"sourceId": source, "accept": [{"location": "invoices.iban"}, {"location": "customers.first_name"}, {"location": "nope"}]}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let paths: Vec<Value> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].clone())
        .collect();
    assert_eq!(
        paths,
        [
            json!(["input", "accept", "1", "location"]),
            json!(["input", "accept", "2", "location"])
        ]
    );
    let body = app
        .gql(
            steward,
            accept,
            json!({"i": {"sourceId": source, "accept": []}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        app.gql_ok(steward, "{ dataFields { totalCount } }", json!({}))
            .await,
        before
    );
    // Reading the register is not enough to open connections to sources.
    let body = app
        .gql(app.key(Role::Auditor), INSPECT, json!({"id": source}))
        .await;
    assert_code(&body, "FORBIDDEN");
    // Other organizations' sources do not exist.
    let other = create_org(&app.workflow, "Woanders AG").await;
    let body = app
        .gql(&other.keys[&Role::Steward], INSPECT, json!({"id": source}))
        .await;
    assert_code(&body, "NOT_FOUND");
    drop(db);
}

async fn drift_of_sqlite_source(app: TestApp) {
    drift_of(app, Backend::Sqlite).await
}
e2e!(drift_sqlite_source, drift_of_sqlite_source);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_of_a_postgres_source() {
    run(Backend::Sqlite, |app| drift_of(app, Backend::Postgres)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drift_of_a_mariadb_source() {
    run(Backend::Sqlite, |app| drift_of(app, Backend::Mysql)).await
}

/// Sources without a SQL catalog, and sources that cannot be reached.
async fn sources_that_cannot_be_inspected(app: TestApp) {
    let steward = app.key(Role::Steward);
    let create = "mutation($i: CreateDataSourceInput!) { createDataSource(input: $i) { dataSource { id } } }";
    let manual = app
        .gql_ok(
            steward,
            create,
            json!({"i": {"name": "Mailbox", "connectorKind": "MANUAL", "connectorConfig": {"contact": "support@example.com"}}}),
        )
        .await["createDataSource"]["dataSource"]["id"]
        .clone();
    let body = app.gql(steward, INSPECT, json!({"id": manual})).await;
    assert_code(&body, "VALIDATION");
    // Port 1 on loopback: nothing listens, the connection is refused.
    let down = app
        .gql_ok(
            steward,
            create,
            json!({"i": {"name": "Old ERP", "connectorKind": "POSTGRES", "connectorConfig": {"host": "127.0.0.1", "port": 1, "database": "erp", "user": "auskunft", "password": "s3cret!", "sslMode": "disable"}}}),
        )
        .await["createDataSource"]["dataSource"]["id"]
        .clone();
    let data = app.gql_ok(steward, INSPECT, json!({"id": down})).await;
    let error = data["inspectSource"]["connectionError"].as_str().unwrap();
    assert!(!error.is_empty());
    assert!(!error.contains("s3cret!"), "{error}");
    assert_eq!(data["inspectSource"]["tables"], json!([]));
    let body = app
        .gql(
            steward,
            "mutation($id: ID!) { suggestFieldMappings(input: {sourceId: $id, accept: [{location: \"a.b\"}]}) { dataFields { id } } }",
            json!({"id": down}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    // A SQLite path that does not exist is reported, not created.
    let missing = app
        .sources_dir
        .join(format!("auskunft-missing-{}.db", uuid::Uuid::new_v4()));
    let gone = app
        .gql_ok(
            steward,
            create,
            json!({"i": {"name": "Gone", "connectorKind": "SQLITE", "connectorConfig": {"path": missing.display().to_string()}}}),
        )
        .await["createDataSource"]["dataSource"]["id"]
        .clone();
    let data = app.gql_ok(steward, INSPECT, json!({"id": gone})).await;
    assert!(
        data["inspectSource"]["connectionError"]
            .as_str()
            .unwrap()
            .contains("must name a SQLite database file inside the directory")
    );
    assert!(!missing.exists());
}
e2e!(uninspectable_sources, sources_that_cannot_be_inspected);
