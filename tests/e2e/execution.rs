//! Rectification, restriction and objection carried out, end to end over HTTP on
//! every backend, with the SQL shop of the collection tests as the source:
//!
//! - a RECTIFICATION request for Anna: staff propose corrections of her name, her
//!   e-mail address (an identity: she is found again by the new one), a number
//!   column (written in its own type) and a primary key (refused); the reviewer
//!   approves, a worker writes them in one transaction and reads them back; the key
//!   fails the task, the steward corrects it by hand; the audit log holds digests,
//!   not values; Ben's row is untouched;
//! - a RESTRICTION request: while open and once carried out, the campaign check
//!   leaves Anna out; the marks name each approved record; a reviewer lifts them
//!   with a reason, Anna is told by e-mail, and the check no longer names the
//!   restriction; an OBJECTION is carried out the same way.

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, assert_code, error_paths};
use crate::demo::gql;
use crate::erasure::{
    approve_and_start, by_hand, collected_kind, collected_kind_for, shop_url, source_row, tasks,
    work_until,
};

const CORRECTIONS: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest { state version corrections { id location recordKey value valueDigest outcome beforeDigest afterDigest detail carriedOutAt } } } }";
const PROPOSE: &str = "mutation($r: ID!, $f: ID!, $k: String!, $v: String!) { proposeCorrection(input: {requestId: $r, fieldId: $f, recordKey: $k, value: $v}) { correction { id location recordKey value outcome } } }";

/// The collected records of a request: (location, record key) -> (field id, value).
async fn records(app: &TestApp, id: &str) -> Vec<Value> {
    gql(
        app,
        Role::Steward,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { records { location recordKey fieldId value } } } }",
        json!({"id": id}),
    )
    .await["node"]["records"]
        .as_array()
        .unwrap()
        .clone()
}

fn field<'a>(records: &'a [Value], location: &str, key: &str) -> &'a Value {
    &records
        .iter()
        .find(|r| r["location"] == location && r["recordKey"] == key)
        .unwrap_or_else(|| panic!("{location} of {key} collected: {records:#?}"))["fieldId"]
}

async fn propose(
    app: &TestApp,
    role: Role,
    id: &str,
    field: &Value,
    key: &str,
    value: &str,
) -> Value {
    app.gql(
        app.key(role),
        PROPOSE,
        json!({"r": id, "f": field, "k": key, "v": value}),
    )
    .await
}

/// The shop of the rectification test: typed columns, a UNIQUE one, a CHECK
/// constraint and declared references.
const SHOP: &[&str] = &[
    "CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(200) NOT NULL, name VARCHAR(200), customer_number VARCHAR(50) UNIQUE, born DATE, visits INTEGER)",
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, total VARCHAR(20))",
    "CREATE TABLE notes (id BIGINT PRIMARY KEY, customer_email VARCHAR(200), body VARCHAR(100) CHECK (LENGTH(body) <= 10))",
    "INSERT INTO customers VALUES (1, 'anna@example.com', 'Anna', 'K-1', NULL, 3), (2, 'ben@example.com', 'Ben', 'K-2', NULL, 1)",
    "INSERT INTO orders VALUES (10, 1, '99.90'), (12, 2, '7.00')",
    "INSERT INTO notes VALUES (300, 'anna@example.com', 'Sofa'), (301, 'ben@example.com', 'Lampe')",
];

async fn a_rectification_is_written_read_back_and_proven(app: TestApp) {
    use workflow::collection::Pass;
    use workflow::register::fields::IdentityType;
    let email = Some(IdentityType::Email);
    let Some((source, db)) = crate::collection::sql_source(
        &app,
        app.db.backend,
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
            ("customers.born", None, None, None),
            ("customers.visits", None, None, None),
            ("orders.id", None, None, None),
            ("orders.customer_id", None, Some("customers.id"), None),
            ("orders.total", None, None, None),
            ("notes.customer_email", email, None, Some("contact.email")),
            ("notes.body", None, None, None),
        ],
    )
    .await
    else {
        return;
    };
    crate::erasure::make_writable(&app, source).await;
    let url = shop_url(&app, source, &db).await;
    // Ben is known to Auskunft (an earlier request): his address is his.
    collected_kind_for(&app, "ACCESS", "ben@example.com").await;
    let id = collected_kind(&app, "RECTIFICATION", false).await;
    let found = records(&app, &id).await;
    let name = field(&found, "customers.name", "customers(id=1)");
    let mail = field(&found, "customers.email", "customers(id=1)");
    let visits = field(&found, "customers.visits", "customers(id=1)");
    let number = field(&found, "customers.customer_number", "customers(id=1)");
    let body = field(&found, "notes.body", "notes(id=300)");
    let owner = field(&found, "orders.customer_id", "orders(id=10)");
    let key = field(&found, "customers.id", "customers(id=1)");
    // `born` is empty (NULL): its field id comes from the register.
    let born = {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let f = workflow::entity::data_field::Entity::find()
            .filter(workflow::entity::data_field::Column::SourceId.eq(source))
            .filter(workflow::entity::data_field::Column::Location.eq("customers.born"))
            .one(app.workflow.store().conn())
            .await
            .unwrap()
            .unwrap();
        json!(workflow::core::links::global_id("DataField", f.id))
    };

    // Bad input first: nothing of it is stored.
    let r = propose(&app, Role::Agent, &id, name, "customers(id=2)", "Ben").await;
    assert_code(&r, "VALIDATION");
    assert_eq!(
        error_paths(&r),
        ["input.recordKey"],
        "Ben's row was not collected"
    );
    let r = propose(&app, Role::Agent, &id, name, "notes(id=300)", "x").await;
    assert_eq!(
        error_paths(&r),
        ["input.fieldId"],
        "a field of another table"
    );
    for link in [owner, key] {
        let r = propose(&app, Role::Agent, &id, link, "orders(id=10)", "2").await;
        assert_code(&r, "VALIDATION");
        let r = propose(&app, Role::Agent, &id, link, "customers(id=1)", "2").await;
        assert!(
            error_paths(&r).contains(&"input.fieldId".to_owned()),
            "a reference or the key it points to moves records between people: {r}"
        );
    }
    let r = propose(
        &app,
        Role::Agent,
        &id,
        mail,
        "customers(id=1)",
        "Ben@Example.com",
    )
    .await;
    assert_eq!(
        error_paths(&r),
        ["input.value"],
        "another person's address: {r}"
    );
    let r = propose(&app, Role::Agent, &id, name, "customers(id=1)", "  ").await;
    assert_eq!(error_paths(&r), ["input.value"]);
    let r = propose(
        &app,
        Role::Agent,
        &id,
        name,
        "customers(id=1)",
        &"x".repeat(10_001),
    )
    .await;
    assert_eq!(error_paths(&r), ["input.value"]);
    let r = propose(
        &app,
        Role::Integrator,
        &id,
        name,
        "customers(id=1)",
        "Anna K.",
    )
    .await;
    assert_code(&r, "FORBIDDEN");
    let r = propose(
        &app,
        Role::Agent,
        &id,
        &json!("bm9wZQ"),
        "customers(id=1)",
        "x",
    )
    .await;
    assert_code(&r, "VALIDATION");
    let other = collected_kind(&app, "ACCESS", false).await;
    let r = propose(&app, Role::Agent, &other, name, "customers(id=1)", "x").await;
    assert_eq!(error_paths(&r), ["input.requestId"], "{r}");

    // The corrections: proposing again replaces; a withdrawn one is gone.
    for (f, k, v) in [
        (name, "customers(id=1)", "Anna Irrtum"),
        (name, "customers(id=1)", "Anna Schmidt-Ölberg"),
        (mail, "customers(id=1)", "anna.neu@example.com"),
        (&born, "customers(id=1)", "1990-02-01"),
        (visits, "customers(id=1)", "12"),
        (number, "customers(id=1)", "K-1"),
        (body, "notes(id=300)", "viel zu lang für die Spalte"),
    ] {
        let r = propose(&app, Role::Agent, &id, f, k, v).await;
        assert!(r["errors"].is_null(), "{r}");
    }
    let r = propose(&app, Role::Agent, &id, visits, "customers(id=1)", "13").await;
    let extra = r["data"]["proposeCorrection"]["correction"]["id"].clone();
    let listed = gql(&app, Role::Reviewer, CORRECTIONS, json!({"id": id})).await["node"].clone();
    assert_eq!(
        listed["corrections"].as_array().unwrap().len(),
        6,
        "{listed}"
    );
    crate::graph::assert_nodes_resolve(&app, Role::Reviewer, &[(extra.clone(), "Correction")])
        .await;
    assert_eq!(listed["corrections"][0]["value"], "Anna Schmidt-Ölberg");
    gql(
        &app,
        Role::Agent,
        "mutation($c: ID!) { withdrawCorrection(input: {correctionId: $c}) { request { version } } }",
        json!({"c": extra}),
    )
    .await;
    propose(&app, Role::Agent, &id, visits, "customers(id=1)", "12").await;
    // Integrators see where corrections stand, not the values.
    let r = app
        .gql(
            app.key(Role::Integrator),
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { corrections { location outcome value } } } }",
            json!({"id": id}),
        )
        .await;
    assert_code(&r, "FORBIDDEN");
    assert_eq!(r["data"]["node"]["corrections"][0]["value"], Value::Null);
    assert_eq!(
        r["data"]["node"]["corrections"][0]["location"],
        "customers.name"
    );

    approve_and_start(&app, &id).await;
    // Approved: the corrections are fixed.
    let r = propose(&app, Role::Agent, &id, name, "customers(id=1)", "Spät").await;
    assert_code(&r, "CONFLICT");
    work_until(&app, |p| matches!(p, Pass::Failed { .. })).await;

    let r = tasks(&app, &id).await;
    let task = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "EXECUTE")
        .unwrap()
        .clone();
    assert_eq!(task["automatic"], true, "{r:#}");
    assert_eq!(
        task["state"], "FAILED",
        "the note could not be written: {r:#}"
    );
    assert!(
        task["error"].as_str().unwrap().contains("notes.body"),
        "{task}"
    );
    let anna = source_row(
        &url,
        "SELECT name, email, CAST(born AS CHAR(10)), CAST(visits AS CHAR(10)) FROM customers WHERE id = 1",
    )
    .await
    .unwrap();
    let anna: Vec<Option<&str>> = anna.iter().map(|v| v.as_deref().map(str::trim)).collect();
    assert_eq!(
        anna,
        [
            Some("Anna Schmidt-Ölberg"),
            Some("anna.neu@example.com"),
            Some("1990-02-01"),
            Some("12")
        ],
        "written in the columns' own types, though another record was refused"
    );
    assert_eq!(
        source_row(&url, "SELECT body FROM notes WHERE id = 300").await,
        Some(vec![Some("Sofa".to_owned())]),
        "the refused record is unchanged"
    );
    assert_eq!(
        source_row(&url, "SELECT name, email FROM customers WHERE id = 2").await,
        Some(vec![
            Some("Ben".to_owned()),
            Some("ben@example.com".to_owned())
        ]),
        "nobody else's row changes"
    );
    let listed = gql(&app, Role::Reviewer, CORRECTIONS, json!({"id": id})).await["node"].clone();
    let by_location = |l: &str| {
        listed["corrections"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["location"] == l)
            .unwrap_or_else(|| panic!("{l}: {listed:#}"))
            .clone()
    };
    for l in [
        "customers.name",
        "customers.email",
        "customers.born",
        "customers.visits",
    ] {
        let c = by_location(l);
        assert_eq!(c["outcome"], "APPLIED", "{c}");
        assert_eq!(
            c["afterDigest"], c["valueDigest"],
            "read back as written: {c}"
        );
        assert_ne!(c["beforeDigest"], c["valueDigest"], "{c}");
    }
    assert_eq!(
        by_location("customers.born")["beforeDigest"],
        Value::Null,
        "it was empty"
    );
    assert_eq!(
        by_location("customers.customer_number")["outcome"],
        "UNCHANGED"
    );
    let refused = by_location("notes.body");
    assert_eq!(refused["outcome"], "FAILED", "{refused}");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("the source refused"),
        "{refused}"
    );

    // The audit log proves each write with digests, never the values.
    let audit = app
        .gql_ok(
            app.key(Role::Auditor),
            "{ auditEvents(last: 100, filter: {operation: \"rectifyValue\"}) { nodes { outcome errorCode beforeDigest afterDigest } } }",
            json!({}),
        )
        .await;
    let events = audit["auditEvents"]["nodes"].as_array().unwrap();
    assert_eq!(events.len(), 6, "{audit:#}");
    assert_eq!(
        events.iter().filter(|e| e["outcome"] == "SUCCESS").count(),
        5
    );
    assert!(events.iter().all(|e| e["afterDigest"].is_string()));
    assert!(!audit.to_string().contains("Ölberg"));

    // A retry tries the refused one again (and fails again); the steward corrects
    // it by hand and completes the task.
    gql(
        &app,
        Role::Steward,
        "mutation($t: ID!) { retryTask(input: {taskId: $t}) { task { state } } }",
        json!({"t": task["id"]}),
    )
    .await;
    work_until(&app, |p| matches!(p, Pass::Failed { .. })).await;
    assert_eq!(by_location("customers.name")["outcome"], "APPLIED");
    gql(
        &app,
        Role::Steward,
        "mutation($t: ID!) { completeTask(input: {taskId: $t, values: [], note: \"Notiz im CRM gekürzt\"}) { task { state } } }",
        json!({"t": task["id"]}),
    )
    .await;
    let listed = gql(&app, Role::Reviewer, CORRECTIONS, json!({"id": id})).await["node"].clone();
    let outcomes: Vec<&str> = listed["corrections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "APPLIED",
            "APPLIED",
            "APPLIED",
            "UNCHANGED",
            "BY_HAND",
            "APPLIED"
        ],
        "{listed:#}"
    );
    assert_eq!(by_hand(&app, &id, "EXECUTE").await, listed["version"]);
    let timeline = tasks(&app, &id).await["timeline"]["nodes"].clone();
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "CORRECTION"
                && e["message"].as_str().unwrap().contains("4 applied")),
        "{timeline:#}"
    );
}
crate::common::e2e!(
    rectification_in_sql_sources,
    a_rectification_is_written_read_back_and_proven
);

const MARKS: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest { state version restrictions { recordKey ground purposeId liftedAt liftReason } } } }";

async fn newsletter(app: &TestApp) -> Value {
    gql(
        app,
        Role::Dpo,
        "mutation { createPurpose(input: {name: \"Newsletter\", legalBasis: CONSENT}) { purpose { id } } }",
        json!({}),
    )
    .await["createPurpose"]["purpose"]["id"]
        .clone()
}

async fn reason(app: &TestApp, purpose: &Value) -> Value {
    gql(
        app,
        Role::Integrator,
        crate::consent::CHECK,
        json!({"p": purpose, "c": "EMAIL", "i": {"kind": "EMAIL", "value": "anna@example.com"}}),
    )
    .await["consentCheck"]["reason"]
        .clone()
}

async fn restrictions_and_objections_are_marked_and_lifted(app: TestApp) {
    use workflow::collection::Pass;
    let Some((_source, _db)) = crate::collection::shop_source(&app, app.db.backend).await else {
        return;
    };
    let purpose = newsletter(&app).await;
    let id = collected_kind(&app, "RESTRICTION", false).await;
    assert_eq!(
        reason(&app, &purpose).await,
        "RESTRICTED",
        "while it is open"
    );
    // Nothing to lift before it was carried out.
    let lift = "mutation($id: ID!, $r: String!) { liftRestriction(input: {requestId: $id, reason: $r}) { restrictions { liftedAt liftReason } request { state } } }";
    let body = app
        .gql(
            app.key(Role::Reviewer),
            lift,
            json!({"id": id, "r": "geprüft"}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    approve_and_start(&app, &id).await;
    // Not while it is being carried out: a mark made after the lift would bring it
    // back unnoticed.
    let body = app
        .gql(
            app.key(Role::Reviewer),
            lift,
            json!({"id": id, "r": "zu früh"}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    work_until(&app, |p| matches!(p, Pass::Done { .. })).await;
    let r = tasks(&app, &id).await;
    assert!(
        r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == "EXECUTE")
            .all(|t| t["state"] == "DONE" && t["automatic"] == true),
        "{r:#}"
    );
    let marks = gql(&app, Role::Reviewer, MARKS, json!({"id": id})).await["node"].clone();
    let mut keys: Vec<&str> = marks["restrictions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m["ground"], "RESTRICTION");
            assert_eq!(m["purposeId"], Value::Null, "every purpose");
            m["recordKey"].as_str().unwrap()
        })
        .collect();
    keys.sort_unstable();
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
        "Anna's records, nobody else's"
    );
    assert_eq!(
        reason(&app, &purpose).await,
        "RESTRICTED",
        "once carried out"
    );
    // Lifting is a reviewer's decision, with a reason, for these request kinds only.
    let body = app
        .gql(app.key(Role::Agent), lift, json!({"id": id, "r": "x"}))
        .await;
    assert_code(&body, "FORBIDDEN");
    let body = app
        .gql(app.key(Role::Reviewer), lift, json!({"id": id, "r": " "}))
        .await;
    assert_eq!(error_paths(&body), ["input.reason"]);
    let access = collected_kind(&app, "ACCESS", false).await;
    let body = app
        .gql(
            app.key(Role::Reviewer),
            lift,
            json!({"id": access, "r": "x"}),
        )
        .await;
    assert_eq!(error_paths(&body), ["input.requestId"]);
    let data = gql(
        &app,
        Role::Reviewer,
        lift,
        json!({"id": id, "r": "Richtigkeit der Daten bestätigt (Art. 18 Abs. 1 lit. a)"}),
    )
    .await;
    let lifted = data["liftRestriction"]["restrictions"].as_array().unwrap();
    assert_eq!(lifted.len(), 8);
    assert!(lifted.iter().all(|m| m["liftedAt"].is_string()));
    assert_eq!(reason(&app, &purpose).await, "NO_CONSENT", "lifted");
    let body = app
        .gql(
            app.key(Role::Reviewer),
            lift,
            json!({"id": id, "r": "noch einmal"}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    // Anna is told (Art. 18(3)).
    let mails = app
        .workflow
        .outbox_of_request(crate::common::workflow_id(&json!(id)))
        .await
        .unwrap();
    assert!(
        mails
            .iter()
            .any(|m| m.body.contains("Einschränkung der Verarbeitung")
                && m.body.contains("Richtigkeit der Daten bestätigt")),
        "{mails:#?}"
    );

    // An objection is marked for direct marketing (no purpose) at least.
    let id = collected_kind(&app, "OBJECTION", false).await;
    assert_eq!(reason(&app, &purpose).await, "OBJECTED");
    approve_and_start(&app, &id).await;
    work_until(&app, |p| matches!(p, Pass::Done { .. })).await;
    let marks = gql(&app, Role::Reviewer, MARKS, json!({"id": id})).await["node"].clone();
    let marks = marks["restrictions"].as_array().unwrap();
    assert_eq!(marks.len(), 8, "{marks:#?}");
    assert!(marks.iter().all(|m| m["ground"] == "OBJECTION"));
    assert_eq!(reason(&app, &purpose).await, "OBJECTED", "carried out");
}
crate::common::e2e!(
    restriction_in_sql_sources,
    restrictions_and_objections_are_marked_and_lifted
);
