//! The retention sweep over HTTP: the dry run lists the demo customers whose account
//! period ended (Jürgen, last order 2021; Sabine, last ticket 2021) and nobody else;
//! a real run opens one ERASURE request per record (channel RETENTION, identity
//! confirmed, collecting), and a second run opens none; the request is carried out
//! like any erasure, his order and invoice stay under their holds, and the next
//! sweep no longer lists him. On the store's own database as a SQL source: dates as
//! TIMESTAMP columns two references away, several policies over one record, an
//! unreadable date, a record without identity. Roles and bad input.

use serde_json::{Value, json};
use workflow::Role;
use workflow::register::fields::IdentityType;

use crate::common::{TestApp, assert_code, e2e, error_paths};
use crate::demo::{approve, demo_e2e, gql, submit_for_review};
use crate::erasure::{by_hand, shop_row, tasks, until_done};

const SWEEP: &str = "mutation($d: Boolean!) { runRetentionSweep(input: {dryRun: $d}) { run { id dryRun startedBy examined expired requested problems finishedAt } } }";
const FINDINGS: &str = "query($id: ID!) { node(id: $id) { ... on RetentionRun { id expired findings(first: 100) { totalCount nodes { id recordKey outcome identities { kind value } lastEventAt expiredOn detail sourceName retentionPolicy { name } request { id kind channel state } } } } } }";

async fn sweep(app: &TestApp, dry_run: bool) -> Value {
    gql(app, Role::Dpo, SWEEP, json!({"d": dry_run})).await["runRetentionSweep"]["run"].clone()
}

async fn findings(app: &TestApp, role: Role, run: &Value) -> Value {
    let node = gql(app, role, FINDINGS, json!({"id": run["id"]})).await["node"].clone();
    // A finding is a node of its own.
    if let Some(first) = node["findings"]["nodes"].get(0) {
        crate::graph::assert_nodes_resolve(
            app,
            Role::Admin,
            &[(first["id"].clone(), "RetentionFinding")],
        )
        .await;
    }
    node
}

/// The findings of a run with a record: (record key, outcome).
fn records(run: &Value) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = run["findings"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !f["recordKey"].is_null())
        .map(|f| {
            (
                f["recordKey"].as_str().unwrap().to_owned(),
                f["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn finding<'a>(run: &'a Value, key: &str) -> &'a Value {
    run["findings"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["recordKey"] == key)
        .unwrap_or_else(|| panic!("{key} in {run:#}"))
}

async fn the_sweep_finds_the_expired_demo_customers_and_opens_reviewed_erasures(app: TestApp) {
    // The dry run: Jürgen and Sabine, nobody else; two policies are not swept.
    let run = sweep(&app, true).await;
    assert_eq!(run["dryRun"], true);
    assert!(
        run["startedBy"].as_str().unwrap().starts_with("api-key:"),
        "{run}"
    );
    assert_eq!(run["examined"], 6, "five customers and a subscriber: {run}");
    assert_eq!(run["expired"], 2, "{run}");
    assert_eq!(run["requested"], 0);
    assert_eq!(run["problems"], 0);
    assert!(!run["finishedAt"].is_null());
    let found = findings(&app, Role::Reviewer, &run).await;
    assert_eq!(
        records(&found),
        [
            ("customers(id=4)".to_owned(), "EXPIRED".to_owned()),
            ("customers(id=5)".to_owned(), "EXPIRED".to_owned())
        ]
    );
    let juergen = finding(&found, "customers(id=4)");
    assert_eq!(juergen["sourceName"], "Shop database");
    assert_eq!(juergen["retentionPolicy"]["name"], "Customer account");
    assert_eq!(
        juergen["lastEventAt"], "2021-02-11T00:00:00+00:00",
        "his order"
    );
    assert_eq!(juergen["expiredOn"], "2024-02-11");
    assert_eq!(juergen["request"], Value::Null);
    let identities = juergen["identities"].to_string();
    for expected in ["K-100004", "juergen.altmann@example.com", "+49 89 5551234"] {
        assert!(identities.contains(expected), "{identities}");
    }
    assert_eq!(
        finding(&found, "customers(id=5)")["lastEventAt"],
        "2021-06-01T00:00:00+00:00",
        "her support ticket"
    );
    let untriggered: Vec<&Value> = found["findings"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["outcome"] == "NO_TRIGGER")
        .map(|f| &f["retentionPolicy"]["name"])
        .collect();
    assert_eq!(
        untriggered,
        [
            &json!("Invoices and accounting records"),
            &json!("Newsletter subscription")
        ]
    );
    // A dry run opened nothing.
    let none = gql(
        &app,
        Role::Agent,
        "{ requests(first: 100) { nodes { channel } } }",
        json!({}),
    )
    .await;
    assert!(!none.to_string().contains("RETENTION"), "{none}");

    // The real run: one erasure request per record, identity confirmed, collecting.
    let run = sweep(&app, false).await;
    assert_eq!(
        (run["expired"].clone(), run["requested"].clone()),
        (json!(2), json!(2))
    );
    let found = findings(&app, Role::Dpo, &run).await;
    assert_eq!(
        records(&found),
        [
            ("customers(id=4)".to_owned(), "ERASURE_REQUESTED".to_owned()),
            ("customers(id=5)".to_owned(), "ERASURE_REQUESTED".to_owned())
        ]
    );
    let request = finding(&found, "customers(id=4)")["request"].clone();
    assert_eq!(request["kind"], "ERASURE");
    assert_eq!(request["channel"], "RETENTION");
    let id = request["id"].as_str().unwrap().to_owned();
    let other = finding(&found, "customers(id=5)")["request"]["id"].clone();
    assert_ne!(json!(id), other);

    // Again: nothing new, in a dry run or a real one.
    for dry in [true, false] {
        let again = sweep(&app, dry).await;
        assert_eq!(again["requested"], 0, "{again}");
        let found = findings(&app, Role::Auditor, &again).await;
        assert_eq!(
            records(&found),
            [
                ("customers(id=4)".to_owned(), "ALREADY_REQUESTED".to_owned()),
                ("customers(id=5)".to_owned(), "ALREADY_REQUESTED".to_owned())
            ]
        );
        assert_eq!(
            finding(&found, "customers(id=4)")["request"]["id"],
            json!(id)
        );
    }

    // The request takes the path of every erasure: collection, legal review, the
    // executor. His order and invoice stay under their holds.
    until_done(&app, &id, "COLLECT").await;
    let version = by_hand(&app, &id, "COLLECT").await;
    submit_for_review(&app, &json!(id), &version).await;
    let r = crate::demo::request(&app, &id).await;
    for f in r["leakFindings"].as_array().into_iter().flatten() {
        gql(
            &app,
            Role::Reviewer,
            "mutation($id: ID!) { dismissLeakFinding(input: {findingId: $id, reason: \"his own record\"}) { finding { state } } }",
            json!({"id": f["id"]}),
        )
        .await;
    }
    let approved = approve(&app, &json!(id)).await;
    assert_eq!(
        approved["data"]["approveRequest"]["request"]["state"], "APPROVED",
        "{approved}"
    );
    let version = tasks(&app, &id).await["version"].clone();
    gql(
        &app,
        Role::Steward,
        "mutation($id: ID!, $v: Int!) { startExecution(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": id, "v": version}),
    )
    .await;
    until_done(&app, &id, "EXECUTE").await;
    let customer = shop_row(
        &app,
        "SELECT email, phone, created_at FROM customers WHERE id = 4",
    )
    .await;
    assert!(
        customer[0]
            .as_deref()
            .is_some_and(|e| e.ends_with("@anonymized.invalid")),
        "{customer:?}"
    );
    assert_eq!(&customer[1..], &[None, None]);
    assert_eq!(
        shop_row(
            &app,
            "SELECT ordered_at, delivery_street FROM orders WHERE id = 4"
        )
        .await,
        [
            Some("2021-02-11".to_owned()),
            Some("Lindenweg 3".to_owned())
        ],
        "the order is held"
    );
    assert_eq!(
        shop_row(&app, "SELECT invoice_number FROM invoices WHERE id = 3").await,
        [Some("RE-2021-0107".to_owned())],
        "the invoice is held"
    );
    // What is left of him is no longer his: the sweep leaves it alone.
    let after = sweep(&app, true).await;
    let found = findings(&app, Role::Dpo, &after).await;
    assert_eq!(
        records(&found),
        [("customers(id=5)".to_owned(), "ALREADY_REQUESTED".to_owned())]
    );

    // When his order's hold ends, the sweep says so: it is to be erased then.
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
        use workflow::entity::erasure_outcome::{Column as C, Entity};
        let yesterday = chrono::Utc::now().date_naive() - chrono::Days::new(1);
        Entity::update_many()
            .col_expr(C::HeldUntil, Expr::value(yesterday))
            .filter(C::RequestId.eq(crate::common::workflow_id(&json!(id))))
            .filter(C::Outcome.eq("RETAINED"))
            .exec(app.workflow.store().conn())
            .await
            .unwrap();
    }
    let ended = findings(&app, Role::Dpo, &sweep(&app, true).await).await;
    let order = finding(&ended, "orders(id=4)");
    assert_eq!(order["outcome"], "HOLD_ENDED", "{ended:#}");
    assert_eq!(order["request"]["id"], json!(id));
    assert!(
        order["detail"]
            .as_str()
            .unwrap()
            .contains("orders.delivery_street"),
        "{order}"
    );
    assert_eq!(finding(&ended, "invoices(id=3)")["outcome"], "HOLD_ENDED");

    // Someone moved the invoice to another order in the shop since (Max's: it is
    // another person's now): a real run leaves it alone and says why. The order cannot go: the
    // shop's order items (not mapped) still point to it, and the source says so.
    let shop = |sql: &'static str| {
        let file = app.sources_dir.join("auskunft-demo-shop.db");
        async move {
            use sea_orm::ConnectionTrait;
            let conn = sea_orm::Database::connect(format!("sqlite://{}?mode=rw", file.display()))
                .await
                .unwrap();
            conn.execute_unprepared(sql).await.unwrap();
            conn.close().await.unwrap();
        }
    };
    shop("UPDATE invoices SET order_id = 2 WHERE id = 3").await;
    let kept = findings(&app, Role::Dpo, &sweep(&app, false).await).await;
    let invoice = finding(&kept, "invoices(id=3)");
    assert_eq!(invoice["outcome"], "HOLD_ENDED", "{kept:#}");
    assert!(
        invoice["detail"]
            .as_str()
            .unwrap()
            .contains("no longer holds"),
        "{invoice}"
    );
    assert_eq!(
        shop_row(
            &app,
            "SELECT CAST(order_id AS TEXT) FROM invoices WHERE id = 3"
        )
        .await,
        [Some("2".to_owned())],
        "the changed row is untouched"
    );
    let order = finding(&kept, "orders(id=4)");
    assert_eq!(order["outcome"], "HOLD_ENDED", "{kept:#}");
    assert!(
        order["detail"]
            .as_str()
            .unwrap()
            .contains("the source refused to erase it"),
        "{order}"
    );

    // Changed back, and the order items gone, the next run carries both out as
    // their policy says (DELETE), and the erasure report says so, with the day the
    // hold ended.
    shop("UPDATE invoices SET order_id = 4 WHERE id = 3").await;
    shop("DELETE FROM order_items WHERE order_id = 4").await;
    let released = findings(&app, Role::Dpo, &sweep(&app, false).await).await;
    for key in ["orders(id=4)", "invoices(id=3)"] {
        let f = finding(&released, key);
        assert_eq!(f["outcome"], "HOLD_RELEASED", "{released:#}");
        assert_eq!(f["request"]["id"], json!(id));
    }
    for table in ["orders WHERE id = 4", "invoices WHERE id = 3"] {
        assert_eq!(
            shop_row(&app, &format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await,
            [Some("0".to_owned())],
            "{table}"
        );
    }
    let report = gql(
        &app,
        Role::Auditor,
        "query($id: ID!) { erasureReport(requestId: $id) { lines { location result heldUntil releasedAt detail } } }",
        json!({"id": id}),
    )
    .await;
    let lines = report["erasureReport"]["lines"].as_array().unwrap();
    let order_lines: Vec<&Value> = lines
        .iter()
        .filter(|l| l["location"].as_str().unwrap().starts_with("orders."))
        .collect();
    assert!(!order_lines.is_empty(), "{report:#}");
    for l in order_lines {
        assert_eq!(l["result"], "ERASED", "{l}");
        assert!(!l["releasedAt"].is_null(), "{l}");
        assert!(l["detail"].as_str().unwrap().contains("row deleted"), "{l}");
    }
    assert!(
        !lines.iter().any(|l| l["result"] == "RETAINED"),
        "nothing is held any more: {report:#}"
    );
    // Released once: later runs do not find them again.
    let after = findings(&app, Role::Dpo, &sweep(&app, false).await).await;
    assert!(!after.to_string().contains("HOLD_"), "{after:#}");

    // Nobody else may open requests on this channel.
    let body = app
        .gql(
            app.key(Role::Integrator),
            "mutation { submitRequest(input: {kind: ERASURE, channel: RETENTION, identities: [{kind: EMAIL, value: \"a@example.com\"}]}) { request { id } } }",
            json!({}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(error_paths(&body), ["input.channel"]);
}

demo_e2e!(
    retention_demo,
    the_sweep_finds_the_expired_demo_customers_and_opens_reviewed_erasures
);

/// Roles: admins and privacy officers run it; reviewers, stewards and auditors read
/// it; agents and integrators do neither. Trigger fields are checked.
async fn roles_and_bad_trigger_fields(app: TestApp) {
    for role in [
        Role::Reviewer,
        Role::Steward,
        Role::Auditor,
        Role::Agent,
        Role::Integrator,
    ] {
        let body = app.gql(app.key(role), SWEEP, json!({"d": true})).await;
        assert_code(&body, "FORBIDDEN");
    }
    for role in [Role::Agent, Role::Integrator] {
        let body = app
            .gql(
                app.key(role),
                "{ retentionRuns(first: 5) { totalCount } }",
                json!({}),
            )
            .await;
        assert_code(&body, "FORBIDDEN");
    }
    let run =
        gql(&app, Role::Admin, SWEEP, json!({"d": true})).await["runRetentionSweep"]["run"].clone();
    let runs = gql(
        &app,
        Role::Steward,
        "{ retentionRuns(last: 1) { nodes { id } } }",
        json!({}),
    )
    .await;
    assert_eq!(runs["retentionRuns"]["nodes"][0]["id"], run["id"]);

    let policies = gql(
        &app,
        Role::Dpo,
        "{ retentionPolicies(first: 10) { nodes { id name triggerFields { location } } } }",
        json!({}),
    )
    .await;
    let policy = |name: &str| {
        policies["retentionPolicies"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    let account = policy("Customer account");
    let locations: Vec<&str> = account["triggerFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["location"].as_str().unwrap())
        .collect();
    let mut sorted = locations.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "customers.created_at",
            "orders.ordered_at",
            "support_tickets.created_at"
        ]
    );
    let fields = gql(
        &app,
        Role::Dpo,
        "{ dataSources(first: 10) { nodes { name fields { id location } } } }",
        json!({}),
    )
    .await;
    let field = |source: &str, location: &str| {
        fields["dataSources"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == source)
            .and_then(|s| {
                s["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["location"] == location)
            })
            .unwrap_or_else(|| panic!("{source} {location}"))["id"]
            .clone()
    };
    let set = "mutation($p: ID!, $f: [ID!]!) { setRetentionTriggerFields(input: {policyId: $p, fieldIds: $f}) { retentionPolicy { triggerFields { location } } } }";
    let created = field("Shop database", "customers.created_at");
    for (ids, path) in [
        (
            json!([field("Support mailbox", "date")]),
            "input.fieldIds.0",
        ),
        (
            json!([field("Shop database", "customers.email")]),
            "input.fieldIds.0",
        ),
        (
            json!([created.clone(), created.clone()]),
            "input.fieldIds.1",
        ),
    ] {
        let body = app
            .gql(
                app.key(Role::Dpo),
                set,
                json!({"p": account["id"], "f": ids}),
            )
            .await;
        assert_code(&body, "VALIDATION");
        assert_eq!(error_paths(&body), [path], "{body}");
    }
    let many: Vec<Value> = (0..51).map(|_| created.clone()).collect();
    let body = app
        .gql(
            app.key(Role::Dpo),
            set,
            json!({"p": account["id"], "f": many}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        error_paths(&body),
        ["input.fieldIds"],
        "one error, not one per id"
    );
    let body = app
        .gql(
            app.key(Role::Dpo),
            set,
            json!({"p": account["id"], "f": [account["id"]]}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let body = app
        .gql(
            app.key(Role::Reviewer),
            set,
            json!({"p": account["id"], "f": []}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    // Nothing was changed by the refused calls.
    let again = gql(
        &app,
        Role::Dpo,
        "query($id: ID!) { node(id: $id) { ... on RetentionPolicy { triggerFields { location } } } }",
        json!({"id": account["id"]}),
    )
    .await;
    assert_eq!(again["node"]["triggerFields"].as_array().unwrap().len(), 3);
    // An empty list stops sweeping the policy.
    gql(&app, Role::Dpo, set, json!({"p": account["id"], "f": []})).await;
    let run =
        gql(&app, Role::Dpo, SWEEP, json!({"d": true})).await["runRetentionSweep"]["run"].clone();
    assert_eq!(run["expired"], 0, "{run}");
    assert_eq!(run["examined"], 0, "{run}");
}

demo_e2e!(retention_roles, roles_and_bad_trigger_fields);

const SHOP: &[&str] = &[
    "CREATE TABLE accounts (id BIGINT PRIMARY KEY, email VARCHAR(200), created_at TIMESTAMP NULL)",
    "CREATE TABLE orders (id BIGINT PRIMARY KEY, account_id BIGINT, ordered_at TIMESTAMP NULL)",
    "CREATE TABLE payments (id BIGINT PRIMARY KEY, order_id BIGINT, paid_at TIMESTAMP NULL)",
    "CREATE TABLE notes (id BIGINT PRIMARY KEY, account_id BIGINT, written VARCHAR(40))",
    "INSERT INTO accounts VALUES (1, 'old@example.com', '2015-01-01 10:00:00'), (2, 'recent@example.com', '2015-01-01 10:00:00'), \
     (3, 'fresh@example.com', '2026-06-01 10:00:00'), (4, 'nodate@example.com', NULL), (5, 'bad@example.com', '2015-01-01 10:00:00'), \
     (6, NULL, '2010-01-01 10:00:00'), (7, 'RECENT@example.com ', '2010-01-01 10:00:00')",
    "INSERT INTO orders VALUES (10, 1, '2016-05-01 12:00:00'), (11, 2, '2016-05-01 12:00:00'), (12, 99, '2016-01-01 00:00:00')",
    "INSERT INTO payments VALUES (100, 10, '2017-03-01 08:30:00'), (101, 11, '2026-01-15 09:00:00')",
    "INSERT INTO notes VALUES (1000, 5, 'gestern'), (1001, 1, '2016-02-02')",
];

async fn the_sweep_reads_timestamps_through_references_in_sql_sources(app: TestApp) {
    let email = Some(IdentityType::Email);
    let Some((source, _db)) = crate::collection::sql_source(
        &app,
        app.db.backend,
        SHOP,
        &[
            ("accounts.id", None, None, None),
            ("accounts.email", email, None, Some("contact.email")),
            ("accounts.created_at", None, None, None),
            ("orders.id", None, None, None),
            ("orders.account_id", None, Some("accounts.id"), None),
            ("orders.ordered_at", None, None, None),
            ("payments.order_id", None, Some("orders.id"), None),
            ("payments.paid_at", None, None, None),
            ("notes.account_id", None, Some("accounts.id"), None),
            ("notes.written", None, None, None),
            // A stale mapping the sweep does not need: it must not stop it.
            ("notes.ghost", None, None, None),
        ],
    )
    .await
    else {
        return;
    };
    let wf = &app.workflow;
    let admin = crate::requests::principal(&app, Role::Admin);
    let fields = wf.data_fields_of_sources(&admin, &[source]).await.unwrap();
    let id = |location: &str| {
        fields
            .iter()
            .find(|f| f.location == location)
            .map(|f| f.id)
            .unwrap()
    };
    let policy = |name: &str, duration: &str| workflow::register::retention::RetentionDraft {
        name: name.into(),
        description: None,
        duration: duration.into(),
        trigger: workflow::register::retention::RetentionTrigger::AfterLastContact,
        trigger_description: None,
        legal_reference: None,
        action_at_expiry: workflow::register::retention::ExpiryAction::Delete,
    };
    let short = wf
        .create_retention_policy(&admin, policy("Account", "P3Y"))
        .await
        .unwrap();
    wf.set_retention_trigger_fields(
        &admin,
        short.id,
        vec![
            id("accounts.created_at"),
            id("orders.ordered_at"),
            id("payments.paid_at"),
            id("notes.written"),
        ],
    )
    .await
    .unwrap();
    // Keys are not dates.
    for key_field in ["orders.account_id", "accounts.id"] {
        let refused = wf
            .set_retention_trigger_fields(&admin, short.id, vec![id(key_field)])
            .await
            .unwrap_err();
        assert_eq!(
            refused.code(),
            workflow::ErrorCode::Validation,
            "{key_field}"
        );
    }
    let key = |n: u32| format!("accounts(id={n})");
    let outcomes = |run: &Value| records(run);

    let run = sweep(&app, true).await;
    let found = findings(&app, Role::Dpo, &run).await;
    assert_eq!(
        outcomes(&found),
        [
            (key(1), "EXPIRED".to_owned()),
            (key(5), "UNREADABLE_DATE".to_owned()),
            (key(6), "NO_IDENTITY".to_owned()),
            (key(7), "SHARED_IDENTITY".to_owned()),
        ],
        "2 paid in 2026, 3 is new, 4 has no date, 7 shares 2's address: {found:#}"
    );
    assert_eq!(run["examined"], 7);
    assert_eq!(run["expired"], 3, "1, 6 and 7");
    assert_eq!(run["problems"], 3, "5, 6 and 7");
    assert!(
        finding(&found, &key(7))["detail"]
            .as_str()
            .unwrap()
            .contains("accounts(id=2)"),
        "{found:#}"
    );
    let old = finding(&found, &key(1));
    assert_eq!(
        old["lastEventAt"], "2017-03-01T08:30:00+00:00",
        "the payment two references away is the latest"
    );
    assert_eq!(old["expiredOn"], "2020-03-01");
    assert_eq!(
        old["identities"],
        json!([{"kind": "EMAIL", "value": "old@example.com"}])
    );
    assert!(
        !finding(&found, &key(5))["detail"]
            .as_str()
            .unwrap()
            .contains("gestern"),
        "the detail names no value"
    );

    // A second policy that still runs for account 1 keeps it.
    let long = wf
        .create_retention_policy(&admin, policy("Warranty", "P20Y"))
        .await
        .unwrap();
    wf.set_retention_trigger_fields(&admin, long.id, vec![id("orders.ordered_at")])
        .await
        .unwrap();
    let found = findings(&app, Role::Dpo, &sweep(&app, true).await).await;
    assert!(
        !outcomes(&found).contains(&(key(1), "EXPIRED".to_owned())),
        "{found:#}"
    );
    wf.set_retention_trigger_fields(&admin, long.id, vec![])
        .await
        .unwrap();

    // Four real runs at once (the schedule and people): one request for account 1,
    // no run reports a failure.
    let runs = futures_util::future::join_all((0..4).map(|_| sweep(&app, false))).await;
    let opened: i64 = runs.iter().map(|r| r["requested"].as_i64().unwrap()).sum();
    assert_eq!(opened, 1, "{runs:#?}");
    let run = runs.iter().find(|r| r["requested"] == 1).unwrap().clone();
    for other in &runs {
        let found = findings(&app, Role::Dpo, other).await;
        assert!(!found.to_string().contains("\"FAILED\""), "{found:#}");
    }
    let found = findings(&app, Role::Dpo, &run).await;
    let request = &finding(&found, &key(1))["request"];
    assert_eq!(request["state"], "COLLECTING", "{found:#}");
    assert_eq!(request["channel"], "RETENTION");
    let timeline = gql(
        &app,
        Role::Auditor,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { timeline(first: 20) { nodes { kind actorName message } } } } }",
        json!({"id": request["id"]}),
    )
    .await
    .to_string();
    assert!(timeline.contains("retention-sweep"), "{timeline}");
    // Audited as a run of the key that started it.
    let audit = gql(
        &app,
        Role::Auditor,
        "{ auditEvents(last: 20) { nodes { operation objectType } } }",
        json!({}),
    )
    .await
    .to_string();
    assert!(audit.contains("runRetentionSweep"), "{audit}");
}

e2e!(
    retention_in_sql_sources,
    the_sweep_reads_timestamps_through_references_in_sql_sources
);

/// A restricted record is kept past its period (Art. 18(1)(c): the subject may need
/// it for legal claims): the sweep says RESTRICTED and opens no erasure until a
/// reviewer lifts the restriction.
async fn a_restricted_record_outlives_its_period(app: TestApp) {
    let data = gql(
        &app,
        Role::Integrator,
        "mutation { submitRequest(input: {kind: RESTRICTION, channel: WEB_FORM, identities: [{kind: EMAIL, value: \"juergen.altmann@example.com\"}]}) { request { id } } }",
        json!({}),
    )
    .await;
    let id = data["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    gql(
        &app,
        Role::Agent,
        "mutation($id: ID!) { verifyIdentity(input: {requestId: $id, version: 1, method: DOCUMENT_CHECK, evidence: \"Personalausweis\"}) { request { state } } }",
        json!({"id": id}),
    )
    .await;
    until_done(&app, &id, "COLLECT").await;
    let version = by_hand(&app, &id, "COLLECT").await;
    submit_for_review(&app, &json!(id), &version).await;
    let r = crate::demo::request(&app, &id).await;
    for f in r["leakFindings"].as_array().into_iter().flatten() {
        gql(
            &app,
            Role::Reviewer,
            "mutation($id: ID!) { dismissLeakFinding(input: {findingId: $id, reason: \"his own record\"}) { finding { state } } }",
            json!({"id": f["id"]}),
        )
        .await;
    }
    let approved = approve(&app, &json!(id)).await;
    assert_eq!(
        approved["data"]["approveRequest"]["request"]["state"], "APPROVED",
        "{approved}"
    );
    let version = tasks(&app, &id).await["version"].clone();
    gql(
        &app,
        Role::Steward,
        "mutation($id: ID!, $v: Int!) { startExecution(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": id, "v": version}),
    )
    .await;
    until_done(&app, &id, "EXECUTE").await;
    by_hand(&app, &id, "EXECUTE").await;

    // His phone number, read from his customer row on the way, names him too, even
    // where the ledger files a consent under it.
    let newsletter = crate::consent::purpose(&app, "Newsletter").await;
    gql(
        &app,
        Role::Integrator,
        "mutation($p: ID!) { recordConsent(input: {purposeId: $p, channel: PHONE, identity: {kind: PHONE, value: \"+49 89 5551234\"}, state: GRANTED, evidence: {source: \"Hotline\"}}) { consent { state } } }",
        json!({"p": newsletter}),
    )
    .await;
    let check = gql(
        &app,
        Role::Integrator,
        crate::consent::CHECK,
        json!({"p": newsletter, "c": "PHONE", "i": {"kind": "PHONE", "value": "+49 89 5551234"}}),
    )
    .await;
    assert_eq!(check["consentCheck"]["reason"], "RESTRICTED", "{check}");

    let run = sweep(&app, false).await;
    assert_eq!(run["requested"], 1, "Sabine only: {run}");
    let found = findings(&app, Role::Dpo, &run).await;
    assert_eq!(
        records(&found),
        [
            ("customers(id=4)".to_owned(), "RESTRICTED".to_owned()),
            ("customers(id=5)".to_owned(), "ERASURE_REQUESTED".to_owned())
        ]
    );
    assert_eq!(finding(&found, "customers(id=4)")["request"], Value::Null);

    gql(
        &app,
        Role::Reviewer,
        "mutation($id: ID!) { liftRestriction(input: {requestId: $id, reason: \"Rechtsstreit beendet\"}) { request { id } } }",
        json!({"id": id}),
    )
    .await;
    let found = findings(&app, Role::Dpo, &sweep(&app, true).await).await;
    assert_eq!(
        records(&found),
        [
            ("customers(id=4)".to_owned(), "EXPIRED".to_owned()),
            ("customers(id=5)".to_owned(), "ALREADY_REQUESTED".to_owned())
        ],
        "lifted: his period has ended"
    );
}
demo_e2e!(
    retention_restricted,
    a_restricted_record_outlives_its_period
);
