//! The collection engine: workers collect a verified access request from SQL sources
//! on all three databases and hand it to review by themselves; hostile identities
//! find nothing they should not; a failing source is retried, then FAILED, and
//! `retryTask` restarts it.

use std::time::Duration;

use sea_orm::{ColumnTrait, ConnectionTrait, Database, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use uuid::Uuid;
use workflow::Role;
use workflow::collection::{Pass, WorkerOptions};
use workflow::connectors::ConnectorKind;
use workflow::entity::data_category;
use workflow::register::fields::{ErasureStrategy, FieldDraft, IdentityType};
use workflow::register::sources::SourceDraft;

use crate::common::{Backend, TestApp, TestDb, e2e};
use crate::requests::principal;

pub(crate) const SHOP: &[&str] = &[
    "CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(200) NOT NULL, name VARCHAR(200), customer_number VARCHAR(50))",
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, total VARCHAR(20))",
    "CREATE TABLE order_items (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, sku VARCHAR(50))",
    "CREATE TABLE invoices (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL, iban VARCHAR(50))",
    "CREATE TABLE tickets (id BIGINT PRIMARY KEY, customer_email VARCHAR(200), order_id BIGINT, body VARCHAR(500))",
    "INSERT INTO customers VALUES (1, 'anna@example.com', 'Anna', 'K-1'), (2, 'ben@example.com', 'Ben', 'K-2'), \
     (3, 'a%z@example.com', 'Percent', 'K%Z'), (4, 'x''y@example.com', 'Quote', 'K''3'), (5, 'a_b@example.com', 'Under', 'K_5')",
    "INSERT INTO orders VALUES (10, 1, '99.90'), (11, 1, '5.00'), (12, 2, '7.00'), (13, 999, '1.00')",
    "INSERT INTO order_items VALUES (100, 10, 'SKU-1'), (101, 10, 'SKU-2'), (102, 11, 'SKU-3'), (103, 12, 'SKU-4')",
    "INSERT INTO invoices VALUES (200, 10, 'DE89370400440532013000'), (201, 77, 'DE00000000000000000000')",
    // Anna's ticket names an order that does not exist (a dangling reference).
    "INSERT INTO tickets VALUES (300, 'anna@example.com', 55, 'Where is my sofa?'), (301, 'ben@example.com', NULL, 'Lamp broken')",
];

/// A shop database on `backend` registered as a source of the app's organization,
/// mapped with references; returns the source id and the database (dropped with it).
pub(crate) async fn shop_source(app: &TestApp, backend: Backend) -> Option<(Uuid, Option<TestDb>)> {
    let email = Some(IdentityType::Email);
    sql_source(
        app,
        backend,
        SHOP,
        &[
            ("customers.id", None, None, None),
            ("customers.email", email, None, Some("contact.email")),
            ("customers.name", None, None, Some("contact.email")),
            (
                "customers.customer_number",
                Some(IdentityType::CustomerNumber),
                None,
                None,
            ),
            ("orders.id", None, None, None),
            ("orders.customer_id", None, Some("customers.id"), None),
            ("orders.total", None, None, None),
            ("order_items.order_id", None, Some("orders.id"), None),
            ("order_items.sku", None, None, None),
            ("invoices.order_id", None, Some("orders.id"), None),
            ("invoices.iban", None, None, Some("financial.bank_account")),
            ("tickets.customer_email", email, None, Some("contact.email")),
            ("tickets.order_id", None, Some("orders.id"), None),
            ("tickets.body", None, None, None),
        ],
    )
    .await
}

/// A mapped field of a test source: location, the identity it holds, the location
/// it references, and its category's key.
pub(crate) type TestField = (
    &'static str,
    Option<IdentityType>,
    Option<&'static str>,
    Option<&'static str>,
);

/// A database on `backend` made by `ddl`, registered as a source of the app's
/// organization with `fields`; returns the source id and the database (dropped
/// with it).
pub(crate) async fn sql_source(
    app: &TestApp,
    backend: Backend,
    ddl: &[&str],
    fields: &[TestField],
) -> Option<(Uuid, Option<TestDb>)> {
    let (kind, config, url, db) = match backend {
        Backend::Sqlite => {
            let file = app
                .sources_dir
                .join(format!("shop-{}.db", Uuid::new_v4().simple()));
            let url = format!("sqlite://{}?mode=rwc", file.display());
            (
                ConnectorKind::Sqlite,
                json!({"path": file.display().to_string()}),
                url,
                None,
            )
        }
        Backend::Postgres | Backend::Mysql => {
            let db = TestDb::create(backend).await?;
            let parsed = reqwest::Url::parse(&db.url).unwrap();
            let database = parsed.path().trim_start_matches('/').to_owned();
            let kind = if backend == Backend::Postgres {
                ConnectorKind::Postgres
            } else {
                ConnectorKind::Mysql
            };
            let mut config = json!({
                "host": parsed.host_str().unwrap(),
                "port": parsed.port().unwrap(),
                "database": database,
                "user": parsed.username(),
            });
            if backend == Backend::Postgres {
                config["sslMode"] = json!("disable");
            }
            (kind, config, db.url.clone(), Some(db))
        }
    };
    let conn = Database::connect(&url).await.unwrap();
    for sql in ddl {
        conn.execute_unprepared(sql).await.unwrap();
    }
    conn.close().await.unwrap();
    let admin = principal(app, Role::Admin);
    let wf = &app.workflow;
    let source = wf
        .create_data_source(
            &admin,
            SourceDraft {
                name: format!("Shop {backend:?}"),
                description: None,
                owner: None,
                country: None,
                processor_id: None,
                connector_kind: kind,
                connector_config: config,
            },
        )
        .await
        .unwrap();
    let mut ids = std::collections::HashMap::new();
    for &(location, identity, references, category) in fields {
        let data_category_id = match category {
            Some(key) => Some(
                data_category::Entity::find()
                    .filter(data_category::Column::OrgId.eq(admin.org_id))
                    .filter(data_category::Column::Key.eq(key))
                    .one(app.workflow.store().conn())
                    .await
                    .unwrap()
                    .expect("a category of the default taxonomy")
                    .id,
            ),
            None => None,
        };
        let field = wf
            .create_data_field(
                &admin,
                FieldDraft {
                    source_id: source.id,
                    location: location.into(),
                    description: None,
                    data_category_id,
                    identifies_subject: identity.is_some(),
                    identity_type: identity,
                    references_id: references.map(|r| ids[r]),
                    erasure_strategy: ErasureStrategy::SetNull,
                },
            )
            .await
            .unwrap();
        ids.insert(location, field.id);
    }
    Some((source.id, db))
}

pub(crate) fn fast() -> WorkerOptions {
    WorkerOptions {
        workers: 2,
        lease: Duration::from_secs(5),
        max_attempts: 3,
        backoff: Duration::from_millis(50),
        max_backoff: Duration::from_millis(200),
        poll: Duration::from_millis(50),
    }
}

/// Submits an access request for `email`, verified by a document check: it enters
/// COLLECTING with one task per mapped source.
async fn collecting(app: &TestApp, email: &str) -> Uuid {
    submit_verified(app, IdentityType::Email, email)
        .await
        .expect("a valid identity")
}

/// Like [`collecting`] for any identity; `None` when intake refuses the value.
async fn submit_verified(app: &TestApp, kind: IdentityType, value: &str) -> Option<Uuid> {
    let wf = &app.workflow;
    let submitted = wf
        .submit_request(
            &principal(app, Role::Integrator),
            workflow::requests::NewRequest {
                kind: workflow::requests::RequestKind::Access,
                channel: workflow::requests::Channel::Api,
                identities: vec![workflow::requests::NewIdentity {
                    kind,
                    value: value.into(),
                }],
                text: None,
                is_test: false,
                received_at: None,
                idempotency_key: None,
                attachments: vec![],
            },
        )
        .await;
    let submitted = match submitted {
        Ok(s) => s,
        Err(workflow::Error::Validation(_)) => return None,
        Err(e) => panic!("{e}"),
    };
    wf.verify_identity(
        &principal(app, Role::Agent),
        submitted.request.id,
        Some(1),
        workflow::requests::VerificationMethod::DocumentCheck,
        "ID card".into(),
    )
    .await
    .unwrap();
    Some(submitted.request.id)
}

const REQUEST: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest {
    state version
    tasks { id state automatic completedByWorker completedById attempts error retryAfter }
    records { recordKey location value fieldId }
    foundRecordsCount
    identitiesFoundOnTheWay { kind value recordKey sourceName }
    collected { sourceId sourceName recordsCount categories {
        dataCategory { key } records { recordKey taskId values { location value } } } }
    timeline(last: 50) { nodes { kind message } }
} } }";

async fn request(app: &TestApp, id: Uuid) -> Value {
    let gid = api::graphql::ids::global_id("SubjectRequest", id).to_string();
    app.gql_ok(&app.keys[&Role::Dpo], REQUEST, json!({"id": gid}))
        .await["node"]
        .clone()
}

/// Polls until the request leaves COLLECTING (or the test times out).
async fn until_collected(app: &TestApp, id: Uuid) -> Value {
    for _ in 0..400 {
        let r = request(app, id).await;
        if r["state"] != "COLLECTING" {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("still collecting: {}", request(app, id).await);
}

fn records_by_key(r: &Value) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    let mut map: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for rec in r["records"].as_array().unwrap() {
        map.entry(rec["recordKey"].as_str().unwrap().to_owned())
            .or_default()
            .push((
                rec["location"].as_str().unwrap().to_owned(),
                rec["value"].as_str().unwrap().to_owned(),
            ));
    }
    for v in map.values_mut() {
        v.sort();
    }
    map
}

async fn sql_sources_are_collected_and_handed_to_review(app: TestApp) {
    let Some((_source, _db)) = shop_source(&app, app.db.backend).await else {
        return;
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = app.workflow.spawn_workers(fast(), stopped);
    let id = collecting(&app, "Anna@Example.com").await;
    let r = until_collected(&app, id).await;
    let _ = stop.send(true);
    for w in workers {
        w.await.unwrap();
    }
    assert_eq!(r["state"], "IN_REVIEW", "{r}");
    let task = &r["tasks"][0];
    assert_eq!(task["state"], "DONE");
    assert_eq!(task["automatic"], true);
    assert_eq!(task["completedByWorker"], true);
    assert_eq!(task["completedById"], Value::Null);
    let records = records_by_key(&r);
    let keys: Vec<&str> = records.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "customers(id=1)",
            "invoices(id=200)",
            "order_items(id=100)",
            "order_items(id=101)",
            "order_items(id=102)",
            "orders(id=10)",
            "orders(id=11)",
            "tickets(id=300)",
        ],
        "Anna's rows, nobody else's: {records:#?}"
    );
    assert_eq!(
        records["customers(id=1)"],
        [
            ("customers.customer_number".to_owned(), "K-1".to_owned()),
            ("customers.email".to_owned(), "anna@example.com".to_owned()),
            ("customers.id".to_owned(), "1".to_owned()),
            ("customers.name".to_owned(), "Anna".to_owned()),
        ]
    );
    assert!(
        r["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|v| v["fieldId"].is_string()),
        "every value names its mapped field"
    );
    // The same values, grouped: one source, its categories, the records of each.
    assert_eq!(r["foundRecordsCount"], 8);
    let collected = r["collected"].as_array().unwrap();
    assert_eq!(collected.len(), 1, "{collected:#?}");
    assert_eq!(collected[0]["recordsCount"], 8);
    assert!(
        collected[0]["sourceName"]
            .as_str()
            .unwrap()
            .starts_with("Shop")
    );
    let mut grouped: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    let mut by_category: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for category in collected[0]["categories"].as_array().unwrap() {
        let key = category["dataCategory"]["key"]
            .as_str()
            .unwrap_or("-")
            .to_owned();
        for record in category["records"].as_array().unwrap() {
            let record_key = record["recordKey"].as_str().unwrap().to_owned();
            assert_eq!(record["taskId"], task["id"]);
            for v in record["values"].as_array().unwrap() {
                let location = v["location"].as_str().unwrap().to_owned();
                by_category
                    .entry(key.clone())
                    .or_default()
                    .push(location.clone());
                grouped
                    .entry(record_key.clone())
                    .or_default()
                    .push((location, v["value"].as_str().unwrap().to_owned()));
            }
        }
    }
    for v in grouped.values_mut() {
        v.sort();
    }
    assert_eq!(grouped, records, "every value once, in its record");
    for v in by_category.values_mut() {
        v.sort();
        v.dedup();
    }
    assert_eq!(
        by_category["contact.email"],
        [
            "customers.email",
            "customers.name",
            "tickets.customer_email"
        ]
    );
    assert_eq!(by_category["financial.bank_account"], ["invoices.iban"]);
    let timeline = r["timeline"].to_string();
    assert!(
        timeline.contains("collected automatically: 8 record(s)"),
        "{timeline}"
    );
    // The worker moved it, audited as the worker.
    let audit = app
        .gql_ok(
            &app.keys[&Role::Auditor],
            "{ auditEvents(last: 100) { nodes { operation actorName } } }",
            json!({}),
        )
        .await;
    let events = audit["auditEvents"]["nodes"].as_array().unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["operation"] == "collectTask" && e["actorName"] == "worker"),
        "{audit}"
    );
    assert!(
        events
            .iter()
            .any(|e| e["operation"] == "submitForReview" && e["actorName"] == "worker"),
        "{audit}"
    );

    // Deleting a request's tasks deletes what they collected (on PostgreSQL through
    // a statement-level trigger instead of a foreign key: migration 30).
    use workflow::entity::{collected_record, request_task};
    let conn = app.workflow.store().conn();
    let stored = || {
        collected_record::Entity::find()
            .filter(collected_record::Column::RequestId.eq(id))
            .all(conn)
    };
    assert!(!stored().await.unwrap().is_empty());
    request_task::Entity::delete_many()
        .filter(request_task::Column::RequestId.eq(id))
        .exec(conn)
        .await
        .unwrap();
    assert_eq!(
        stored().await.unwrap().len(),
        0,
        "records outlived their task"
    );
}
e2e!(
    sql_collection_follows_references_to_the_subjects_rows_only,
    sql_sources_are_collected_and_handed_to_review
);

/// A level's searches go to the source as one statement that also fetches the rows
/// referencing the subject's rows ahead (orders of a customer, lines of an order);
/// what is fetched ahead must find exactly what searching level by level finds.
/// Here: a reference between columns of different types (searched level by level),
/// a table with a composite key, a reference cycle, and (on MariaDB, whose
/// collation ignores case) another person's row the database matches but the
/// search does not take, whose order must not come along through the rows fetched
/// ahead.
async fn rows_fetched_ahead_are_exactly_the_rows_searched(app: TestApp) {
    const DDL: &[&str] = &[
        "CREATE TABLE people (id BIGINT PRIMARY KEY, email VARCHAR(200) NOT NULL, last_order_id BIGINT)",
        "CREATE TABLE orders (id BIGINT PRIMARY KEY, person_id BIGINT NOT NULL)",
        "CREATE TABLE notes (id BIGINT PRIMARY KEY, order_ref VARCHAR(20))",
        "CREATE TABLE order_lines (order_id BIGINT NOT NULL, n INTEGER NOT NULL, sku VARCHAR(20), PRIMARY KEY (order_id, n))",
        "INSERT INTO people VALUES (1, 'anna@example.com', 11), (2, 'ben@example.com', 12), (4, 'ANNA@EXAMPLE.COM', 13)",
        "INSERT INTO orders VALUES (10, 1), (11, 1), (12, 2), (13, 4)",
        "INSERT INTO notes VALUES (100, '10'), (101, '12'), (102, 'x'), (103, '13')",
        "INSERT INTO order_lines VALUES (10, 1, 'A'), (10, 2, 'B'), (12, 1, 'C'), (13, 1, 'D')",
    ];
    let Some((_source, _db)) = sql_source(
        &app,
        app.db.backend,
        DDL,
        &[
            ("people.id", None, None, None),
            ("people.email", Some(IdentityType::Email), None, None),
            // A cycle: people → orders → people.
            ("orders.id", None, None, None),
            ("people.last_order_id", None, Some("orders.id"), None),
            ("orders.person_id", None, Some("people.id"), None),
            ("notes.id", None, None, None),
            // Text referencing a number: not compared ahead.
            ("notes.order_ref", None, Some("orders.id"), None),
            ("order_lines.order_id", None, Some("orders.id"), None),
            ("order_lines.n", None, None, None),
            ("order_lines.sku", None, None, None),
        ],
    )
    .await
    else {
        return;
    };
    let before = app.workflow.source_statements_executed();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = app.workflow.spawn_workers(fast(), stopped);
    let id = collecting(&app, "anna@example.com").await;
    let r = until_collected(&app, id).await;
    let _ = stop.send(true);
    for w in workers {
        w.await.unwrap();
    }
    // Three statements: people by e-mail with their orders and those orders' lines
    // fetched ahead; the order Anna's `last_order_id` names (a referenced row, so
    // nothing ahead); the notes (text against a number) and people by
    // `last_order_id`. Level by level it was six: one per (table, column) and level.
    let statements = app.workflow.source_statements_executed() - before;
    assert_eq!(statements, 3, "statements sent to the source");
    assert_eq!(r["state"], "IN_REVIEW", "{r}");
    let records = records_by_key(&r);
    let keys: Vec<&str> = records.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "notes(id=100)",
            "order_lines(order_id=10,n=1)",
            "order_lines(order_id=10,n=2)",
            "orders(id=10)",
            "orders(id=11)",
            "people(id=1)",
        ],
        "{records:#?}"
    );
    assert_eq!(
        records["order_lines(order_id=10,n=2)"],
        [
            ("order_lines.n".to_owned(), "2".to_owned()),
            ("order_lines.order_id".to_owned(), "10".to_owned()),
            ("order_lines.sku".to_owned(), "B".to_owned()),
        ]
    );
}
e2e!(
    sql_rows_fetched_ahead_are_exactly_the_rows_searched,
    rows_fetched_ahead_are_exactly_the_rows_searched
);

/// A request searches only the identities it gave. Somebody gives Anna's e-mail
/// address together with a customer number; a second request gives only that
/// number and is verified by staff. It must not be searched (nor answered, nor
/// shown) with Anna's e-mail address, which nobody verified for its requester.
async fn identities_of_another_request_are_never_searched(app: TestApp) {
    let Some((_source, _db)) = shop_source(&app, app.db.backend).await else {
        return;
    };
    let wf = &app.workflow;
    let first = wf
        .submit_request(
            &principal(&app, Role::Integrator),
            workflow::requests::NewRequest {
                kind: workflow::requests::RequestKind::Access,
                channel: workflow::requests::Channel::Api,
                identities: vec![
                    workflow::requests::NewIdentity {
                        kind: IdentityType::Email,
                        value: "anna@example.com".into(),
                    },
                    workflow::requests::NewIdentity {
                        kind: IdentityType::CustomerNumber,
                        value: "K-404".into(),
                    },
                ],
                text: None,
                is_test: false,
                received_at: None,
                idempotency_key: None,
                attachments: vec![],
            },
        )
        .await
        .unwrap();
    let second = submit_verified(&app, IdentityType::CustomerNumber, "K-404")
        .await
        .unwrap();
    while let Pass::Done { .. } = wf.collect_once("test", &fast()).await.unwrap() {}
    let r = request(&app, second).await;
    assert_eq!(r["state"], "IN_REVIEW", "{r:#}");
    assert_eq!(r["records"], json!([]), "nothing of Anna's: {r:#}");
    let gid = api::graphql::ids::global_id("SubjectRequest", second).to_string();
    let shown = app
        .gql_ok(
            &app.keys[&Role::Dpo],
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { duplicateOfId identities { kind value } } } }",
            json!({"id": gid}),
        )
        .await;
    assert_eq!(
        shown["node"]["identities"],
        json!([{"kind": "CUSTOMER_NUMBER", "value": "K-404"}]),
        "{shown}"
    );
    // Still recognized as the same subject (a duplicate of the first request).
    assert_eq!(
        shown["node"]["duplicateOfId"],
        json!(api::graphql::ids::global_id("SubjectRequest", first.request.id).to_string())
    );
}
e2e!(
    another_requests_identities,
    identities_of_another_request_are_never_searched
);

/// A helpdesk database that knows customers only by their customer number.
async fn helpdesk_source(app: &TestApp) -> Uuid {
    let file = app
        .sources_dir
        .join(format!("helpdesk-{}.db", Uuid::new_v4().simple()));
    let conn = Database::connect(format!("sqlite://{}?mode=rwc", file.display()))
        .await
        .unwrap();
    for sql in [
        "CREATE TABLE calls (id INTEGER PRIMARY KEY, customer_no TEXT, note TEXT)",
        "INSERT INTO calls VALUES (1, 'K-1', 'Anna asked about her sofa'), (2, 'K-2', 'Ben asked about his lamp'), \
         (3, 'k-1 ', 'spelled otherwise: not the same number')",
    ] {
        conn.execute_unprepared(sql).await.unwrap();
    }
    conn.close().await.unwrap();
    let admin = principal(app, Role::Admin);
    let wf = &app.workflow;
    let source = wf
        .create_data_source(
            &admin,
            SourceDraft {
                name: "Helpdesk".into(),
                description: None,
                owner: None,
                country: None,
                processor_id: None,
                connector_kind: ConnectorKind::Sqlite,
                connector_config: json!({"path": file.display().to_string()}),
            },
        )
        .await
        .unwrap();
    for (location, identity) in [
        ("calls.id", None),
        ("calls.customer_no", Some(IdentityType::CustomerNumber)),
        ("calls.note", None),
    ] {
        wf.create_data_field(
            &admin,
            FieldDraft {
                source_id: source.id,
                location: location.into(),
                description: None,
                data_category_id: None,
                identifies_subject: identity.is_some(),
                identity_type: identity,
                references_id: None,
                erasure_strategy: ErasureStrategy::SetNull,
            },
        )
        .await
        .unwrap();
    }
    source.id
}

/// The requester gave an e-mail address; the shop's customer row found by it names
/// the customer number, and the helpdesk, which knows customers only by that
/// number, is searched for it too, finding Anna's call and nobody else's. Tasks run
/// in the order their sources were created: with the helpdesk first, its finished
/// task is opened again when the shop's task finds the number.
async fn identities_found_on_the_way(app: TestApp, helpdesk_first: bool) {
    let shop_db = if helpdesk_first {
        helpdesk_source(&app).await;
        shop_source(&app, app.db.backend).await
    } else {
        let shop = shop_source(&app, app.db.backend).await;
        helpdesk_source(&app).await;
        shop
    };
    let Some((_source, _db)) = shop_db else {
        return;
    };
    let id = collecting(&app, "anna@example.com").await;
    // One worker, one task at a time, in claim order.
    let mut passes = 0;
    while let Pass::Done { to_review, .. } =
        app.workflow.collect_once("test", &fast()).await.unwrap()
    {
        passes += 1;
        if to_review {
            break;
        }
    }
    assert_eq!(passes, if helpdesk_first { 3 } else { 2 });
    let r = request(&app, id).await;
    assert_eq!(r["state"], "IN_REVIEW", "{r:#}");
    assert_eq!(
        r["identitiesFoundOnTheWay"],
        json!([{"kind": "CUSTOMER_NUMBER", "value": "K-1", "recordKey": "customers(id=1)",
                "sourceName": format!("Shop {:?}", app.db.backend)}])
    );
    let records = records_by_key(&r);
    assert_eq!(
        records["calls(id=1)"],
        [
            ("calls.customer_no".to_owned(), "K-1".to_owned()),
            ("calls.id".to_owned(), "1".to_owned()),
            (
                "calls.note".to_owned(),
                "Anna asked about her sofa".to_owned()
            ),
        ]
    );
    assert!(!records.contains_key("calls(id=2)"), "{records:#?}");
    assert!(!records.contains_key("calls(id=3)"), "{records:#?}");
    assert_eq!(
        records.len(),
        9,
        "Anna's 8 shop rows and her call: {records:#?}"
    );
    assert!(
        r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["state"] == "DONE" && t["error"].is_null() && t["attempts"] == 1),
        "{r:#}"
    );
    let timeline = r["timeline"].to_string();
    let searched_again = if helpdesk_first { 1 } else { 0 };
    assert!(
        timeline.contains(&format!(
            "identities found on the way in `Shop {:?}`: CUSTOMER_NUMBER in `customers(id=1)`; \
             {searched_again} other source(s) searched again",
            app.db.backend
        )),
        "{timeline}"
    );
}

async fn identities_found_on_the_way_search_sources_not_yet_run(app: TestApp) {
    identities_found_on_the_way(app, false).await;
}
e2e!(
    identities_found_on_the_way_before,
    identities_found_on_the_way_search_sources_not_yet_run
);

async fn identities_found_on_the_way_search_finished_sources_again(app: TestApp) {
    identities_found_on_the_way(app, true).await;
}
e2e!(
    identities_found_on_the_way_after,
    identities_found_on_the_way_search_finished_sources_again
);

async fn hostile_identities_find_nothing_and_break_nothing(app: TestApp) {
    let Some((_source, _db)) = shop_source(&app, app.db.backend).await else {
        return;
    };
    let long = format!("{}@example.com", "a".repeat(10_000));
    let mut ids = Vec::new();
    let mut refused = 0;
    for value in [
        "x'y@example.com' OR '1'='1",
        "%@example.com",
        "a%",
        "_@example.com",
        "a\\b@example.com",
        "nul\u{0}@example.com",
        "\"; DROP TABLE customers; --@example.com",
        "ännä@exämple.com",
        "anna@example.com\u{202e}",
        // Equal to Anna's under MySQL's default collation (accents, case, trailing
        // space), but not to the byte.
        "ANNA@EXAMPLE.COM\u{301}",
        "änna@example.com",
        "K-１",
        long.as_str(),
        "K%",
        "K-_",
        "K'3' OR 1=1",
        "K-1' --",
        "K-\\1",
    ] {
        for kind in [IdentityType::Email, IdentityType::CustomerNumber] {
            match submit_verified(&app, kind, value).await {
                Some(id) => ids.push(id),
                None => refused += 1,
            }
        }
    }
    assert!(
        ids.len() >= 10,
        "most hostile values reach collection ({refused} refused)"
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = app.workflow.spawn_workers(fast(), stopped);
    for id in &ids {
        let r = until_collected(&app, *id).await;
        // A value that is not an e-mail address may have been refused at intake;
        // whatever arrived here must find nothing.
        assert_eq!(r["state"], "IN_REVIEW", "{r}");
        assert_eq!(r["records"], json!([]), "{r}");
    }
    let _ = stop.send(true);
    for w in workers {
        w.await.unwrap();
    }
    // The exact stored values are still found (the table is intact, matching is
    // exact, not a pattern).
    let id = collecting(&app, "a_b@example.com").await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = app.workflow.spawn_workers(fast(), stopped);
    let r = until_collected(&app, id).await;
    let _ = stop.send(true);
    for w in workers {
        w.await.unwrap();
    }
    let keys: Vec<String> = records_by_key(&r).into_keys().collect();
    assert_eq!(keys, ["customers(id=5)"], "{r}");
}
e2e!(
    hostile_identity_values_find_nothing_they_should_not,
    hostile_identities_find_nothing_and_break_nothing
);

async fn failing_sources_are_retried_then_failed_then_restarted(app: TestApp) {
    let Some((source, _db)) = shop_source(&app, Backend::Sqlite).await else {
        return;
    };
    // The file goes away: every attempt fails.
    let admin = principal(&app, Role::Admin);
    let stored = app.workflow.data_source(&admin, source).await.unwrap();
    let path = stored.connector_config["path"].as_str().unwrap().to_owned();
    let moved = format!("{path}.away");
    std::fs::rename(&path, &moved).unwrap();
    let id = collecting(&app, "anna@example.com").await;
    let options = fast();
    let owner = "test-worker";
    let mut failures = 0;
    for _ in 0..200 {
        match app.workflow.collect_once(owner, &options).await.unwrap() {
            workflow::collection::Pass::Failed { last, .. } => {
                failures += 1;
                if last {
                    break;
                }
            }
            workflow::collection::Pass::Idle => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(failures, 3, "max_attempts");
    let r = request(&app, id).await;
    assert_eq!(r["state"], "COLLECTING");
    let task = &r["tasks"][0];
    assert_eq!(task["state"], "FAILED");
    assert!(task["error"].as_str().unwrap().contains("path"), "{task}");
    let stalled = app
        .gql_ok(
            &app.keys[&Role::Dpo],
            "{ stalledRequests(first: 10) { nodes { id stalledReasons } } }",
            json!({}),
        )
        .await;
    assert!(stalled.to_string().contains("TASK_FAILED"), "{stalled}");
    // Nothing claims a FAILED task.
    assert_eq!(
        app.workflow.collect_once(owner, &options).await.unwrap(),
        workflow::collection::Pass::Idle
    );
    // A steward fixes the source and restarts the task.
    std::fs::rename(&moved, &path).unwrap();
    let retried = app
        .gql_ok(
            &app.keys[&Role::Steward],
            "mutation($id: ID!) { retryTask(input: {taskId: $id}) { task { state attempts } } }",
            json!({"id": task["id"]}),
        )
        .await;
    assert_eq!(retried["retryTask"]["task"]["state"], "OPEN");
    let pass = app.workflow.collect_once(owner, &options).await.unwrap();
    assert!(
        matches!(
            pass,
            workflow::collection::Pass::Done {
                to_review: true,
                ..
            }
        ),
        "{pass:?}"
    );
    assert_eq!(request(&app, id).await["state"], "IN_REVIEW");
    // Retrying a task that is done is a conflict.
    let again = app
        .gql(
            &app.keys[&Role::Steward],
            "mutation($id: ID!) { retryTask(input: {taskId: $id}) { task { state } } }",
            json!({"id": task["id"]}),
        )
        .await;
    crate::common::assert_code(&again, "CONFLICT");
    // The reviewer sends it back; the finished task searches its source again, and
    // its new result replaces the old one (the same records, not twice as many).
    let before = record_set(&app, id).await;
    assert!(!before.is_empty());
    let gid = api::graphql::ids::global_id("SubjectRequest", id).to_string();
    let version = request(&app, id).await["version"].clone();
    let sent_back = app
        .gql_ok(
            &app.keys[&Role::Reviewer],
            "mutation($id: ID!, $v: Int!) { requestChanges(input: {requestId: $id, version: $v, reason: \"search again\"}) { request { version } } }",
            json!({"id": gid, "v": version}),
        )
        .await;
    app.gql_ok(
        &app.keys[&Role::Dpo],
        "mutation($id: ID!, $v: Int!) { resumeCollection(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": gid, "v": sent_back["requestChanges"]["request"]["version"]}),
    )
    .await;
    assert_eq!(request(&app, id).await["state"], "COLLECTING");
    let again = app
        .gql_ok(
            &app.keys[&Role::Steward],
            "mutation($id: ID!) { retryTask(input: {taskId: $id}) { task { state attempts completedAt } } }",
            json!({"id": task["id"]}),
        )
        .await;
    assert_eq!(again["retryTask"]["task"]["state"], "OPEN", "{again}");
    assert!(
        again["retryTask"]["task"]["completedAt"].is_null(),
        "{again}"
    );
    let pass = app.workflow.collect_once(owner, &options).await.unwrap();
    assert!(
        matches!(
            pass,
            workflow::collection::Pass::Done {
                to_review: true,
                ..
            }
        ),
        "{pass:?}"
    );
    let r = request(&app, id).await;
    assert_eq!(r["state"], "IN_REVIEW");
    assert_eq!(record_set(&app, id).await, before);
    assert!(
        r["timeline"].to_string().contains("searched again"),
        "{}",
        r["timeline"]
    );
}
e2e!(
    failing_sources_are_retried_with_backoff_then_failed,
    failing_sources_are_retried_then_failed_then_restarted
);

/// The records of a request as (record key, location, value), sorted.
async fn record_set(app: &TestApp, id: Uuid) -> Vec<(String, String, String)> {
    let r = request(app, id).await;
    let mut set: Vec<(String, String, String)> = r["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["recordKey"].as_str().unwrap().to_owned(),
                v["location"].as_str().unwrap().to_owned(),
                v["value"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    set.sort();
    set
}

async fn killed_workers_lose_nothing_and_duplicate_nothing(app: TestApp) {
    let Some((_source, _db)) = shop_source(&app, app.db.backend).await else {
        return;
    };
    // A clean run is the reference.
    let reference = collecting(&app, "anna@example.com").await;
    while !matches!(
        app.workflow.collect_once("clean", &fast()).await.unwrap(),
        workflow::collection::Pass::Idle
    ) {}
    assert_eq!(request(&app, reference).await["state"], "IN_REVIEW");
    let expected = record_set(&app, reference).await;
    assert_eq!(expected.len(), 21, "{expected:#?}");

    // A worker process with a one-second lease, killed (SIGKILL) at a random
    // moment, twenty times, while requests wait for collection.
    let config = app.sources_dir.join("worker.toml");
    std::fs::write(
        &config,
        "[collection]\nlease_secs = 1\nbackoff_secs = 1\nmax_attempts = 50\n",
    )
    .unwrap();
    let mut ids = Vec::new();
    let mut seed = 0x9e37_79b9_u64 ^ u64::from(std::process::id());
    for _ in 0..20 {
        for _ in 0..2 {
            ids.push(collecting(&app, "anna@example.com").await);
        }
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_auskunft"))
            .arg("worker")
            .env("AUSKUNFT_CONFIG", &config)
            .env("AUSKUNFT_DATABASE_URL", &app.db.url)
            .env("AUSKUNFT_ENCRYPTION_KEY", &app.encryption_key)
            .env("AUSKUNFT_SQLITE_SOURCES_DIR", &app.sources_dir)
            .env("AUSKUNFT_WORKERS", "2")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // xorshift: a different moment each time, from startup to mid-collection.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        tokio::time::sleep(Duration::from_millis(50 + seed % 1500)).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    // Whatever the killed workers left (claims, half-written transactions), an
    // in-process worker finishes once their leases run out.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = app.workflow.spawn_workers(fast(), stopped);
    for id in &ids {
        let r = until_collected(&app, *id).await;
        assert_eq!(r["state"], "IN_REVIEW", "{r}");
        assert_eq!(record_set(&app, *id).await, expected, "request {id}");
    }
    let _ = stop.send(true);
    for w in workers {
        w.await.unwrap();
    }
}
e2e!(
    a_worker_killed_twenty_times_leaves_exactly_the_records_of_a_clean_run,
    killed_workers_lose_nothing_and_duplicate_nothing
);

/// A shop whose data and mapping plant one leak of every kind for Anna.
const LEAKY: &[&str] = &[
    "CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(200) NOT NULL, customer_number VARCHAR(20), phone VARCHAR(40))",
    "CREATE TABLE addresses (id BIGINT PRIMARY KEY, street VARCHAR(200))",
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, address_id BIGINT)",
    "CREATE TABLE tickets (id BIGINT PRIMARY KEY, customer_email VARCHAR(200), body VARCHAR(500))",
    "CREATE TABLE events (id BIGINT PRIMARY KEY, customer_id BIGINT)",
    "CREATE TABLE notes (id BIGINT PRIMARY KEY, customer_number VARCHAR(20), note VARCHAR(50))",
    "INSERT INTO customers VALUES (1, 'anna@example.com', 'K-1', '+49 30 1111111'), (2, 'ben@example.com', 'K-2', '+49 30 2222222')",
    // Anna's and Ben's orders go to one address (a shared reference).
    "INSERT INTO addresses VALUES (500, 'Heidestraße 17')",
    "INSERT INTO orders VALUES (10, 1, 500), (12, 2, 500)",
    // Anna's ticket names Ben (a known subject), a phone, a card and an IBAN.
    "INSERT INTO tickets VALUES (300, 'anna@example.com', 'Please call Ben: +49 30 2222222 or ben@example.com; card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00')",
];

async fn planted_leaks_are_flagged_and_block_approval(app: TestApp) {
    let file = app.sources_dir.join("leaky.db");
    let conn = Database::connect(format!("sqlite://{}?mode=rwc", file.display()))
        .await
        .unwrap();
    for sql in LEAKY {
        conn.execute_unprepared(sql).await.unwrap();
    }
    // 250 events of Anna (a fan-out) and 300 notes joined on the customer number, a
    // column that is not a key (the Home24 mistake).
    let events: Vec<String> = (0..250).map(|i| format!("({}, 1)", 1000 + i)).collect();
    conn.execute_unprepared(&format!("INSERT INTO events VALUES {}", events.join(", ")))
        .await
        .unwrap();
    let notes: Vec<String> = (0..300)
        .map(|i| format!("({}, 'K-1', 'note')", 5000 + i))
        .collect();
    conn.execute_unprepared(&format!("INSERT INTO notes VALUES {}", notes.join(", ")))
        .await
        .unwrap();
    conn.close().await.unwrap();
    let admin = principal(&app, Role::Admin);
    let wf = &app.workflow;
    let source = wf
        .create_data_source(
            &admin,
            SourceDraft {
                name: "Leaky shop".into(),
                description: None,
                owner: None,
                country: None,
                processor_id: None,
                connector_kind: ConnectorKind::Sqlite,
                connector_config: json!({"path": file.display().to_string()}),
            },
        )
        .await
        .unwrap();
    let mut ids = std::collections::HashMap::new();
    for (location, identity, references) in [
        ("customers.id", None, None),
        ("customers.email", Some(IdentityType::Email), None),
        (
            "customers.customer_number",
            Some(IdentityType::CustomerNumber),
            None,
        ),
        ("customers.phone", Some(IdentityType::Phone), None),
        ("addresses.id", None, None),
        ("addresses.street", None, None),
        ("orders.id", None, None),
        ("orders.customer_id", None, Some("customers.id")),
        ("orders.address_id", None, Some("addresses.id")),
        ("tickets.customer_email", Some(IdentityType::Email), None),
        ("tickets.body", None, None),
        ("events.id", None, None),
        ("events.customer_id", None, Some("customers.id")),
        ("notes.id", None, None),
        (
            "notes.customer_number",
            None,
            Some("customers.customer_number"),
        ),
    ] {
        let field = wf
            .create_data_field(
                &admin,
                FieldDraft {
                    source_id: source.id,
                    location: location.into(),
                    description: None,
                    data_category_id: None,
                    identifies_subject: identity.is_some(),
                    identity_type: identity,
                    references_id: references.map(|r| ids[r]),
                    erasure_strategy: ErasureStrategy::SetNull,
                },
            )
            .await
            .unwrap();
        ids.insert(location, field.id);
    }
    // Ben is a known subject (he asked before).
    collecting(&app, "ben@example.com").await;
    let id = collecting(&app, "anna@example.com").await;
    let options = fast();
    while !matches!(
        wf.collect_once("leak-test", &options).await.unwrap(),
        workflow::collection::Pass::Idle
    ) {}
    const FINDINGS: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest {
        state version openLeakFindings
        leakFindings { id kind state detail recordKey recordId location }
        records { id recordKey location value }
    } } }";
    let gid = api::graphql::ids::global_id("SubjectRequest", id).to_string();
    let read = || async {
        app.gql_ok(&app.keys[&Role::Reviewer], FINDINGS, json!({"id": gid}))
            .await["node"]
            .clone()
    };
    let r = read().await;
    assert_eq!(r["state"], "IN_REVIEW", "{r}");
    let findings = r["leakFindings"].as_array().unwrap().clone();
    let count = |kind: &str| findings.iter().filter(|f| f["kind"] == kind).count();
    assert_eq!(
        count("FOREIGN_IDENTIFIER"),
        3,
        "phone, card, IBAN: {findings:#?}"
    );
    assert_eq!(
        count("OTHER_SUBJECT_IDENTITY"),
        1,
        "Ben's address: {findings:#?}"
    );
    // The shared address, and every one of the 300 notes reached through the
    // customer number (any of them may be somebody else's).
    assert_eq!(
        count("SHARED_REFERENCE"),
        301,
        "address and notes: {findings:#?}"
    );
    for i in 0..300 {
        let key = format!("notes(id={})", 5000 + i);
        assert!(
            findings
                .iter()
                .any(|f| f["kind"] == "SHARED_REFERENCE" && f["recordKey"] == key),
            "{key} is flagged"
        );
    }
    assert_eq!(count("FAN_OUT"), 2, "events and notes: {findings:#?}");
    assert_eq!(r["openLeakFindings"], 307);
    let shared = findings
        .iter()
        .find(|f| f["recordKey"] == "addresses(id=500)")
        .expect("the shared address is flagged");
    assert_eq!(shared["kind"], "SHARED_REFERENCE");
    assert!(
        !r["records"].to_string().contains("orders(id=12)"),
        "Ben's order is not collected through the shared address"
    );
    for f in &findings {
        let detail = f["detail"].as_str().unwrap();
        for secret in ["ben@example.com", "2222222", "4111", "DE89"] {
            assert!(
                !detail.contains(secret),
                "details never repeat values: {detail}"
            );
        }
    }
    // Approval is refused while anything is open.
    let approve = "mutation($id: ID!, $v: Int!) { approveRequest(input: {requestId: $id, version: $v}) { request { state } } }";
    let refused = app
        .gql(
            &app.keys[&Role::Reviewer],
            approve,
            json!({"id": gid, "v": r["version"]}),
        )
        .await;
    crate::common::assert_code(&refused, "INVALID_TRANSITION");
    assert!(
        refused.to_string().contains("307 leak finding(s)"),
        "{refused}"
    );
    // Redacting the ticket text resolves its four findings at once.
    let body = r["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["location"] == "tickets.body")
        .unwrap();
    app.gql_ok(
        &app.keys[&Role::Reviewer],
        "mutation($id: ID!) { redactRecord(input: {recordId: $id, reason: \"names other people\"}) { request { id } } }",
        json!({"id": body["id"]}),
    )
    .await;
    let r = read().await;
    assert_eq!(r["openLeakFindings"], 303, "{r}");
    // A dismissal needs a reason; then the rest is dismissed.
    let dismiss = "mutation($id: ID!, $reason: String!) { dismissLeakFinding(input: {findingId: $id, reason: $reason}) { finding { state resolution } request { version } } }";
    let open: Vec<Value> = r["leakFindings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["state"] == "OPEN")
        .cloned()
        .collect();
    let blank = app
        .gql(
            &app.keys[&Role::Reviewer],
            dismiss,
            json!({"id": open[0]["id"], "reason": "  "}),
        )
        .await;
    crate::common::assert_code(&blank, "VALIDATION");
    let steward = app
        .gql(
            &app.keys[&Role::Steward],
            dismiss,
            json!({"id": open[0]["id"], "reason": "fine"}),
        )
        .await;
    crate::common::assert_code(&steward, "FORBIDDEN");
    let mut version = Value::Null;
    for f in &open {
        let d = app
            .gql_ok(
                &app.keys[&Role::Reviewer],
                dismiss,
                json!({"id": f["id"], "reason": "checked: Anna's own data"}),
            )
            .await;
        assert_eq!(d["dismissLeakFinding"]["finding"]["state"], "DISMISSED");
        version = d["dismissLeakFinding"]["request"]["version"].clone();
    }
    // A dismissal stands: dismissing again (another reason) is a conflict.
    let again = app
        .gql(
            &app.keys[&Role::Reviewer],
            dismiss,
            json!({"id": open[0]["id"], "reason": "something else"}),
        )
        .await;
    crate::common::assert_code(&again, "CONFLICT");
    assert_eq!(
        blank["errors"][0]["extensions"]["fields"]
            .as_array()
            .map(Vec::len),
        Some(1),
        "one message for a blank reason: {blank}"
    );
    let approved = app
        .gql_ok(
            &app.keys[&Role::Reviewer],
            approve,
            json!({"id": gid, "v": version}),
        )
        .await;
    assert_eq!(approved["approveRequest"]["request"]["state"], "APPROVED");
    let timeline = app
        .gql_ok(
            &app.keys[&Role::Dpo],
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { timeline(first: 100) { nodes { message } } } } }",
            json!({"id": gid}),
        )
        .await
        .to_string();
    assert!(
        timeline.contains("leak guard: 307 finding(s)"),
        "{timeline}"
    );
    assert!(timeline.contains("leak finding dismissed"), "{timeline}");
}
e2e!(
    planted_leaks_of_every_kind_are_flagged_and_block_approval,
    planted_leaks_are_flagged_and_block_approval
);
