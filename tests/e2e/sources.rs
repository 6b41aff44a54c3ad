//! Data sources: connector configurations checked against their JSON Schema, secrets
//! encrypted at rest and never returned.

use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, create_org, e2e};

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

    // Every schema error is reported with its JSON pointer.
    let body = app
        .gql(steward, CREATE, json!({"i": {"name": "Shop DB", "connectorKind": "POSTGRES", "connectorConfig": {"host": "db", "port": 70000, "user": 7, "colour": "red"}}}))
        .await;
    assert_code(&body, "VALIDATION");
    let paths: Vec<String> = body["errors"][0]["extensions"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["path"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect::<Vec<_>>()
                .join(".")
        })
        .collect();
    for expected in [
        "input.connectorConfig",
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

    // Updating the config without the password keeps it; clearing removes it.
    let data = app
        .gql_ok(steward, UPDATE, json!({"i": {"id": id, "connectorConfig": {"host": "db2.internal", "database": "shop", "user": "auskunft"}}}))
        .await;
    assert_eq!(
        data["updateDataSource"]["dataSource"]["secretsSet"],
        json!(["password"])
    );
    assert_eq!(
        data["updateDataSource"]["dataSource"]["connectorConfig"]["host"],
        "db2.internal"
    );
    assert!(raw_row(&app, "Shop DB").await.1.is_some(), "password kept");
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
        .gql_ok(steward, UPDATE, json!({"i": {"id": id, "connectorKind": "SQLITE", "connectorConfig": {"path": "/var/lib/shop.db"}}}))
        .await;
    assert_eq!(
        data["updateDataSource"]["dataSource"]["connectorConfig"],
        json!({"path": "/var/lib/shop.db"})
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
    let source = |name: &str| json!({"i": {"name": name, "connectorKind": "SQLITE", "connectorConfig": {"path": format!("/data/{name}.db")}}});
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
