//! Erasure end to end on the demo, over HTTP, as `serve --demo` runs it: an erasure
//! request of a shop customer is collected, approved, and carried out by a worker in
//! the shop database (SQLite, writable): her name and e-mail are anonymized, her
//! phone and address erased, her tickets and newsletter row deleted; her order and
//! invoice stay under their legal holds, restricted with their ground and end. The
//! re-check passes, the CRM and the mailbox are carried out by a steward, the
//! report reaches a real SMTP server with the notice, the parcel service is told by
//! e-mail (Art. 19) and the other recipients by staff, and her identities are on the
//! suppression list. Another customer's rows are untouched.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, EntityTrait};
use serde_json::{Value, json};
use workflow::Role;
use workflow::core::outbox::SmtpMailer;

use crate::common::{TestApp, assert_code, error_paths};
use crate::demo::{approve, demo_e2e, gql, submit_for_review};
use crate::smtp::SmtpServer;

const ERIKA: &str = "erika.mustermann@example.org";
const TASKS: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest { id state version tasks { id kind sourceName automatic state note error } timeline(first: 100) { nodes { kind message actorName } } } } }";
const REPORT: &str = "query($id: ID!) { erasureReport(requestId: $id) { openTasks hasFailures lines { sourceName location result records legalReference heldUntil releasedAt detail } } }";

pub(crate) async fn tasks(app: &TestApp, id: &str) -> Value {
    gql(app, Role::Steward, TASKS, json!({"id": id})).await["node"].clone()
}

/// Waits until every automatic task of `kind` is DONE (none may fail).
pub(crate) async fn until_done(app: &TestApp, id: &str, kind: &str) -> Value {
    let started = Instant::now();
    loop {
        let r = tasks(app, id).await;
        let automatic: Vec<&Value> = r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["kind"] == kind && t["automatic"] == true)
            .collect();
        assert!(
            automatic.iter().all(|t| t["state"] != "FAILED"),
            "a task failed: {r:#}"
        );
        if !automatic.is_empty() && automatic.iter().all(|t| t["state"] == "DONE") {
            return r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not done within 60 s: {r:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Completes the open tasks of `kind` by hand; returns the request's version.
pub(crate) async fn by_hand(app: &TestApp, id: &str, kind: &str) -> Value {
    let r = tasks(app, id).await;
    for t in r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == kind && t["state"] == "OPEN")
    {
        assert_eq!(t["automatic"], false, "{t}");
        gql(
            app,
            Role::Steward,
            "mutation($t: ID!) { completeTask(input: {taskId: $t, values: [], note: \"im System von Hand erledigt\"}) { task { state } } }",
            json!({"t": t["id"]}),
        )
        .await;
    }
    tasks(app, id).await["version"].clone()
}

/// A row of the demo shop database, all columns as text.
pub(crate) async fn shop_row(app: &TestApp, sql: &str) -> Vec<Option<String>> {
    let file = app.sources_dir.join("auskunft-demo-shop.db");
    let conn = Database::connect(format!("sqlite://{}?mode=ro", file.display()))
        .await
        .unwrap();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            sql.to_owned(),
        ))
        .await
        .unwrap();
    let out = match row {
        None => Vec::new(),
        Some(row) => (0..)
            .map_while(|i| row.try_get_by_index::<Option<String>>(i).ok())
            .collect(),
    };
    conn.close().await.unwrap();
    out
}

fn line<'a>(report: &'a Value, location: &str, result: &str) -> &'a Value {
    report["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["location"] == location && l["result"] == result)
        .unwrap_or_else(|| panic!("{location} {result} in {report:#}"))
}

async fn suppression(app: &TestApp, identities: Value) -> Value {
    app.gql(
        app.key(Role::Integrator),
        "query($i: [IdentityInput!]!) { suppressionCheck(identities: $i) { kind value suppressed since } }",
        json!({"i": identities}),
    )
    .await
}

async fn a_demo_erasure_is_carried_out_held_checked_reported_and_suppressed(app: TestApp) {
    // Nobody is suppressed yet.
    let body = suppression(&app, json!([{"kind": "EMAIL", "value": ERIKA}])).await;
    assert_eq!(
        body["data"]["suppressionCheck"][0]["suppressed"], false,
        "{body}"
    );

    let data = gql(
        &app,
        Role::Integrator,
        "mutation($e: String!) { submitRequest(input: {kind: ERASURE, channel: WEB_FORM, identities: [{kind: EMAIL, value: $e}]}) { request { id } } }",
        json!({"e": ERIKA}),
    )
    .await;
    let id = data["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    gql(
        &app,
        Role::Agent,
        "mutation($id: ID!) { verifyIdentity(input: {requestId: $id, version: 1, method: KNOWN_CUSTOMER, evidence: \"Kundennummer am Telefon genannt\"}) { request { state } } }",
        json!({"id": id}),
    )
    .await;
    until_done(&app, &id, "COLLECT").await;
    let version = by_hand(&app, &id, "COLLECT").await;
    submit_for_review(&app, &json!(id), &version).await;
    // Her invoice's IBAN is not one of the identities she gave: the reviewer
    // confirms it is hers.
    let r = crate::demo::request(&app, &id).await;
    for finding in r["leakFindings"].as_array().unwrap() {
        assert_eq!(finding["recordKey"], "invoices(id=1)", "{finding}");
        gql(
            &app,
            Role::Reviewer,
            "mutation($id: ID!) { dismissLeakFinding(input: {findingId: $id, reason: \"her own invoice\"}) { finding { state } } }",
            json!({"id": finding["id"]}),
        )
        .await;
    }
    let approved = approve(&app, &json!(id)).await;
    assert_eq!(
        approved["data"]["approveRequest"]["request"]["state"], "APPROVED",
        "{approved}"
    );
    let version = tasks(&app, &id).await["version"].clone();
    let data = gql(
        &app,
        Role::Steward,
        "mutation($id: ID!, $v: Int!) { startExecution(input: {requestId: $id, version: $v}) { request { state tasks { kind sourceName automatic } } } }",
        json!({"id": id, "v": version}),
    )
    .await;
    let mut execute: Vec<(String, bool)> = data["startExecution"]["request"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["kind"] == "EXECUTE")
        .map(|t| {
            (
                t["sourceName"].as_str().unwrap().to_owned(),
                t["automatic"].as_bool().unwrap(),
            )
        })
        .collect();
    execute.sort();
    assert_eq!(
        execute,
        [
            ("CRM".to_owned(), false),
            ("Shop database".to_owned(), true),
            ("Support mailbox".to_owned(), false)
        ],
        "the writable shop is carried out by a worker, the rest by hand"
    );
    let r = until_done(&app, &id, "EXECUTE").await;
    let shop_task = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "EXECUTE" && t["sourceName"] == "Shop database")
        .unwrap();
    assert_eq!(shop_task["error"], Value::Null);
    let timeline = r["timeline"]["nodes"].to_string();
    assert!(
        timeline.contains("erasure carried out and checked"),
        "{timeline}"
    );

    // The shop database: Erika's customer row stays for her held order, without
    // anything that identifies her; her ticket is gone; her order and invoice stay.
    let customer = shop_row(
        &app,
        "SELECT customer_number, first_name, last_name, email, phone, street, postal_code, birth_date FROM customers WHERE id = 1",
    )
    .await;
    assert_eq!(customer.len(), 8, "{customer:?}");
    for anonymized in &customer[..4] {
        let v = anonymized.as_deref().unwrap();
        assert!(v.starts_with("anon-"), "{customer:?}");
    }
    assert!(
        customer[3]
            .as_deref()
            .unwrap()
            .ends_with("@anonymized.invalid")
    );
    assert_eq!(&customer[4..], &[None, None, None, None], "erased");
    assert!(
        shop_row(
            &app,
            "SELECT CAST(id AS TEXT) FROM newsletter_subscribers WHERE id = 1"
        )
        .await
        .is_empty(),
        "her newsletter subscription is deleted"
    );
    assert_eq!(
        shop_row(
            &app,
            "SELECT CAST(customer_id AS TEXT) FROM support_tickets WHERE id = 1"
        )
        .await,
        [Some("2".to_owned())],
        "Max's ticket stays"
    );
    assert_eq!(
        shop_row(
            &app,
            "SELECT delivery_street, CAST(customer_id AS TEXT) FROM orders WHERE id = 1"
        )
        .await,
        [Some("Heidestraße 17".to_owned()), Some("1".to_owned())],
        "the order is held"
    );
    assert!(
        shop_row(&app, "SELECT iban FROM invoices WHERE id = 1").await[0].is_some(),
        "the invoice is held"
    );
    // Max, who shares her address, is untouched.
    assert_eq!(
        shop_row(
            &app,
            "SELECT email, phone, street FROM customers WHERE id = 2"
        )
        .await,
        [
            Some("max.mustermann@example.org".to_owned()),
            Some("+49 221 7654321".to_owned()),
            Some("Heidestraße 17".to_owned())
        ]
    );

    // The report so far: the shop done, two sources waiting for their steward.
    let report = gql(&app, Role::Auditor, REPORT, json!({"id": id})).await["erasureReport"].clone();
    assert_eq!(report["openTasks"], 2, "{report:#}");
    assert_eq!(report["hasFailures"], false);
    assert_eq!(line(&report, "customers.email", "ANONYMIZED")["records"], 1);
    assert_eq!(line(&report, "customers.phone", "ERASED")["records"], 1);
    assert_eq!(
        line(&report, "newsletter_subscribers.email", "ERASED")["detail"],
        "row deleted"
    );
    let invoice = line(&report, "invoices.iban", "RETAINED");
    assert_eq!(invoice["legalReference"], "§ 147 AO, § 257 HGB");
    let end_of_year = chrono::NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&chrono::Utc::now().date_naive()) + 10,
        12,
        31,
    )
    .unwrap();
    assert_eq!(
        invoice["heldUntil"],
        end_of_year.to_string(),
        "ten years after the end of the year"
    );
    // The order is an accounting record too: of its two duties (three years after
    // her last order, § 195 BGB; ten years, § 147 AO) the longer holds it. Neither
    // maps a date the tax duty counts from, so it counts from today.
    let order = line(&report, "orders.customer_id", "RETAINED");
    assert_eq!(order["legalReference"], "§ 147 AO, § 257 HGB");
    assert_eq!(order["heldUntil"], end_of_year.to_string());
    assert!(
        order["detail"]
            .as_str()
            .unwrap()
            .contains("counted from the day of the erasure"),
        "{order}"
    );

    // Not dispatchable while sources are open; then the steward does the rest.
    let version = tasks(&app, &id).await["version"].clone();
    let early = app
        .gql(
            app.key(Role::Agent),
            "mutation($id: ID!, $v: Int!) { dispatchRequest(input: {requestId: $id, version: $v, channel: EMAIL}) { request { state } } }",
            json!({"id": id, "v": version}),
        )
        .await;
    assert_code(&early, "INVALID_TRANSITION");
    let version = by_hand(&app, &id, "EXECUTE").await;
    let report = gql(&app, Role::Auditor, REPORT, json!({"id": id})).await["erasureReport"].clone();
    assert_eq!(report["openTasks"], 0);
    let by_hand = line(&report, "(whole source)", "BY_HAND");
    assert_eq!(by_hand["records"], 0, "no invented count");
    assert!(
        !by_hand["detail"].as_str().unwrap().contains("von Hand"),
        "the steward's note stays on the task: {report:#}"
    );

    // Dispatch: the notice carries the report and reaches a real SMTP server.
    let server = SmtpServer::start(None).await;
    let body = app
        .gql(
            app.key(Role::Agent),
            "mutation($id: ID!, $v: Int!) { dispatchRequest(input: {requestId: $id, version: $v, channel: EMAIL}) { request { state } proof { notice } } }",
            json!({"id": id, "v": version}),
        )
        .await;
    assert_eq!(
        body["data"]["dispatchRequest"]["request"]["state"], "DISPATCHED",
        "{body}"
    );
    let notice = body["data"]["dispatchRequest"]["proof"]["notice"]
        .as_str()
        .unwrap();
    for expected in [
        "Erasure report",
        "§ 147 AO",
        "invoices.iban",
        "anonymized",
        "kept and restricted",
    ] {
        assert!(notice.contains(expected), "{expected} in {notice}");
    }
    assert!(
        !notice.contains("Heidestraße") && !notice.contains("DE89"),
        "no values: {notice}"
    );
    let mailer = SmtpMailer::new(&server.url(None), "datenschutz@shop.example", None).unwrap();
    for _ in 0..5 {
        app.workflow.deliver_outbox(&mailer, 100).await.unwrap();
    }
    // (The demo's other requests have mail waiting too.)
    let received: Vec<_> = server
        .received()
        .into_iter()
        .filter(|m| m.to == vec![ERIKA.to_owned()])
        .collect();
    assert_eq!(received.len(), 1);
    let text = received[0]
        .parsed()
        .body_text(0)
        .unwrap()
        .replace("\r\n", "\n");
    assert!(text.contains("§ 147 AO"), "{text}");

    // Art. 19: the parcel service was told by e-mail (with whom it concerns), the
    // payment provider and the tax office have no notice address: staff tell them.
    let parcel: Vec<_> = server
        .received()
        .into_iter()
        .filter(|m| m.to == vec!["datenschutz@paketblitz.example".to_owned()])
        .collect();
    assert_eq!(parcel.len(), 1);
    let text = parcel[0]
        .parsed()
        .body_text(0)
        .unwrap()
        .replace("\r\n", "\n");
    for expected in ["Art. 19", ERIKA, "K-100001", "Paketblitz"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    const NOTICES: &str = "query($id: ID!) { recipientNotices(requestId: $id) { id recipientName channel sentTo done note delivery { state } } }";
    let notices =
        gql(&app, Role::Auditor, NOTICES, json!({"id": id})).await["recipientNotices"].clone();
    let ids: Vec<(Value, &str)> = notices
        .as_array()
        .unwrap()
        .iter()
        .map(|n| (n["id"].clone(), "RecipientNotice"))
        .collect();
    crate::graph::assert_nodes_resolve(&app, Role::Auditor, &ids).await;
    let summary: Vec<(String, String, bool)> = notices
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["recipientName"].as_str().unwrap().to_owned(),
                n["channel"].as_str().unwrap().to_owned(),
                n["done"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "Finanzamt (tax office)".to_owned(),
                "MANUAL".to_owned(),
                false
            ),
            (
                "Paketblitz GmbH (parcel service)".to_owned(),
                "EMAIL".to_owned(),
                true
            ),
            (
                "PayGlobal Inc. (payment provider)".to_owned(),
                "MANUAL".to_owned(),
                false
            ),
        ],
        "{notices:#}"
    );
    let confirm = "mutation($id: ID!, $n: String!) { confirmRecipientNotice(input: {noticeId: $id, note: $n}) { notice { done note } } }";
    let payments = notices[2]["id"].clone();
    let blank = app
        .gql(
            app.key(Role::Agent),
            confirm,
            json!({"id": payments, "n": "  "}),
        )
        .await;
    assert_code(&blank, "VALIDATION");
    let forbidden = app
        .gql(
            app.key(Role::Reviewer),
            confirm,
            json!({"id": payments, "n": "x"}),
        )
        .await;
    assert_code(&forbidden, "FORBIDDEN");
    let done = gql(
        &app,
        Role::Agent,
        confirm,
        json!({"id": payments, "n": "über das Händlerportal gemeldet"}),
    )
    .await;
    assert_eq!(done["confirmRecipientNotice"]["notice"]["done"], true);
    let again = app
        .gql(
            app.key(Role::Agent),
            confirm,
            json!({"id": payments, "n": "noch einmal"}),
        )
        .await;
    assert_code(&again, "CONFLICT");
    let mailed = app
        .gql(
            app.key(Role::Agent),
            confirm,
            json!({"id": notices[1]["id"], "n": "x"}),
        )
        .await;
    assert_code(&mailed, "CONFLICT");

    // Her identities are suppressed, however spelled; Max's are not.
    let body = suppression(
        &app,
        json!([
            {"kind": "EMAIL", "value": ERIKA},
            {"kind": "EMAIL", "value": " Erika.Mustermann@EXAMPLE.org "},
            {"kind": "CUSTOMER_NUMBER", "value": "K-100001"},
            {"kind": "EMAIL", "value": "max.mustermann@example.org"},
        ]),
    )
    .await;
    let answers: Vec<bool> = body["data"]["suppressionCheck"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|m| m["suppressed"].as_bool().unwrap())
        .collect();
    assert_eq!(answers, [true, true, true, false], "{body}");
    assert_eq!(
        body["data"]["suppressionCheck"][1]["value"],
        " Erika.Mustermann@EXAMPLE.org "
    );
    assert!(body["data"]["suppressionCheck"][0]["since"].is_string());

    // Her newsletter consent (from the demo's CRM export) no longer counts, and no
    // importer can grant it again; only her own double opt-in brings her back.
    let newsletter = crate::consent::purpose(&app, "Newsletter").await;
    assert_eq!(
        crate::consent::check(&app, &newsletter, ERIKA).await["reason"],
        "SUPPRESSED"
    );
    let body = app
        .gql(
            app.key(Role::Agent),
            "mutation($in: RecordConsentInput!) { recordConsent(input: $in) { consent { id } } }",
            json!({"in": {"purposeId": newsletter, "channel": "EMAIL", "identity": {"kind": "EMAIL", "value": ERIKA}, "state": "GRANTED", "evidence": {"source": "CRM sync"}}}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    let smtp = crate::smtp::SmtpServer::start(None).await;
    gql(
        &app,
        Role::Integrator,
        crate::consent::REQUEST_CONSENT,
        json!({"in": {"purposeId": newsletter, "email": ERIKA, "evidence": {"source": "shop sign-up form"}}}),
    )
    .await;
    let link = crate::consent::confirmation_link(&app, &smtp, ERIKA).await;
    assert_eq!(crate::consent::post(&app, &link, "").await.0, 200);
    let back = crate::consent::check(&app, &newsletter, ERIKA).await;
    assert_eq!(back["allowed"], true, "{back}");
    let body = suppression(&app, json!([{"kind": "EMAIL", "value": ERIKA}])).await;
    assert_eq!(
        body["data"]["suppressionCheck"][0]["suppressed"], false,
        "{body}"
    );

    // Bad input is refused with its place, and nothing else happens.
    let body = suppression(
        &app,
        json!([{"kind": "EMAIL", "value": ERIKA}, {"kind": "EMAIL", "value": "no address"}]),
    )
    .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(error_paths(&body), ["identities.1.value"]);
    let many: Vec<Value> = (0..1001)
        .map(|i| json!({"kind": "EMAIL", "value": format!("k{i}@example.org")}))
        .collect();
    let body = suppression(&app, json!(many)).await;
    assert_code(&body, "VALIDATION");
    // Another organization's report is not found.
    let other = app
        .gql(
            app.key(Role::Auditor),
            REPORT,
            json!({"id": "U3ViamVjdFJlcXVlc3Q6MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAx"}),
        )
        .await;
    assert!(other["errors"].is_array(), "{other}");
}
demo_e2e!(
    demo_erasure,
    a_demo_erasure_is_carried_out_held_checked_reported_and_suppressed
);

/// The shop of the collection tests on the store's own backend, writable, with
/// strategies for erasure; `orders.customer_id` (NOT NULL) is set to NULL at first,
/// which the database refuses.
pub(crate) async fn writable_shop(
    app: &TestApp,
) -> Option<(uuid::Uuid, Option<crate::common::TestDb>)> {
    use workflow::register::fields::ErasureStrategy as S;
    let (source, db) = crate::collection::shop_source(app, app.db.backend).await?;
    make_writable(app, source).await;
    let admin = crate::requests::principal(app, Role::Admin);
    for (location, strategy) in [
        ("customers.email", S::Anonymize),
        ("customers.name", S::Mask),
        ("customers.customer_number", S::Anonymize),
        ("order_items.order_id", S::DeleteRow),
        ("order_items.sku", S::DeleteRow),
        ("invoices.order_id", S::DeleteRow),
        ("invoices.iban", S::DeleteRow),
    ] {
        set_strategy(app, &admin, source, location, strategy).await;
    }
    Some((source, db))
}

/// Lets workers write to a SQL source (`readOnly: false`).
pub(crate) async fn make_writable(app: &TestApp, source: uuid::Uuid) {
    let admin = crate::requests::principal(app, Role::Admin);
    let wf = &app.workflow;
    let conn = wf.store().conn();
    let model = workflow::entity::data_source::Entity::find_by_id(source)
        .one(conn)
        .await
        .unwrap()
        .unwrap();
    let mut config = model.connector_config.clone();
    config["readOnly"] = json!(false);
    wf.update_data_source(
        &admin,
        source,
        workflow::register::sources::SourcePatch {
            connector_config: Some(config),
            ..Default::default()
        },
    )
    .await
    .unwrap();
}

async fn set_strategy(
    app: &TestApp,
    admin: &workflow::Principal,
    source: uuid::Uuid,
    location: &str,
    strategy: workflow::register::fields::ErasureStrategy,
) {
    use sea_orm::{ColumnTrait, QueryFilter};
    use workflow::entity::data_field;
    let field = data_field::Entity::find()
        .filter(data_field::Column::SourceId.eq(source))
        .filter(data_field::Column::Location.eq(location))
        .one(app.workflow.store().conn())
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("{location} is mapped"));
    app.workflow
        .update_data_field(
            admin,
            field.id,
            workflow::register::fields::FieldPatch {
                erasure_strategy: Some(strategy),
                ..Default::default()
            },
        )
        .await
        .unwrap();
}

/// Runs worker passes until one ends the way `stop` wants (or nothing is left).
pub(crate) async fn work_until(app: &TestApp, stop: impl Fn(&workflow::collection::Pass) -> bool) {
    use workflow::collection::Pass;
    let started = Instant::now();
    loop {
        let pass = app
            .workflow
            .collect_once("erasure-test", &crate::collection::fast())
            .await
            .unwrap();
        if stop(&pass) {
            return;
        }
        if pass == Pass::Idle {
            tokio::time::sleep(Duration::from_millis(30)).await;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no end: {pass:?}"
        );
    }
}

pub(crate) async fn source_row(url: &str, sql: &str) -> Option<Vec<Option<String>>> {
    let conn = Database::connect(url).await.unwrap();
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(sea_orm::Statement::from_string(backend, sql.to_owned()))
        .await
        .unwrap();
    conn.close().await.unwrap();
    row.map(|row| {
        (0..)
            .map_while(|i| row.try_get_by_index::<Option<String>>(i).ok())
            .collect()
    })
}

async fn an_erasure_in_a_sql_source_is_all_or_nothing_and_resumes(app: TestApp) {
    use workflow::collection::Pass;
    let Some((source, db)) = writable_shop(&app).await else {
        return;
    };
    let url = shop_url(&app, source, &db).await;
    let text = |c: &str| match app.db.backend {
        crate::common::Backend::Mysql => format!("CAST({c} AS CHAR)"),
        _ => format!("CAST({c} AS TEXT)"),
    };
    let id = executing(&app, false).await;

    // The database refuses NULL in orders.customer_id: the attempts fail, the task
    // is FAILED with the reason, and nothing was changed, not even the customer row
    // that came first.
    work_until(&app, |p| matches!(p, Pass::Failed { last: true, .. })).await;
    let r = tasks(&app, &id).await;
    let task = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "EXECUTE")
        .unwrap()
        .clone();
    assert_eq!(task["state"], "FAILED", "{r:#}");
    assert!(
        task["error"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("null"),
        "{task}"
    );
    assert_eq!(
        source_row(&url, "SELECT email, name FROM customers WHERE id = 1").await,
        Some(vec![
            Some("anna@example.com".to_owned()),
            Some("Anna".to_owned())
        ]),
        "all or nothing"
    );
    let report = gql(&app, Role::Auditor, REPORT, json!({"id": id})).await["erasureReport"].clone();
    assert_eq!(
        report["lines"],
        json!([]),
        "nothing was carried out: {report:#}"
    );
    assert_eq!(report["openTasks"], 1);

    // The steward fixes the register (the order goes as a whole) and retries.
    orders_go_whole(&app, source).await;
    let retried = app
        .gql(
            app.key(Role::Steward),
            "mutation($t: ID!) { retryTask(input: {taskId: $t}) { task { state } } }",
            json!({"t": task["id"]}),
        )
        .await;
    assert_eq!(
        retried["data"]["retryTask"]["task"]["state"], "OPEN",
        "{retried}"
    );
    work_until(&app, |p| matches!(p, Pass::Done { .. })).await;
    let r = tasks(&app, &id).await;
    assert!(
        r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["kind"] == "EXECUTE" && t["state"] == "DONE"),
        "{r:#}"
    );
    let anna = source_row(
        &url,
        "SELECT email, name, customer_number FROM customers WHERE id = 1",
    )
    .await
    .unwrap();
    let email = anna[0].as_deref().unwrap();
    assert!(
        email.starts_with("anon-") && email.ends_with("@anonymized.invalid"),
        "{anna:?}"
    );
    assert_eq!(anna[1].as_deref(), Some("A***"));
    assert!(anna[2].as_deref().unwrap().starts_with("anon-"));
    for gone in [
        "SELECT id FROM orders WHERE id IN (10, 11)",
        "SELECT id FROM order_items WHERE id IN (100, 101, 102)",
        "SELECT id FROM invoices WHERE id = 200",
    ] {
        assert_eq!(source_row(&url, gone).await, None, "{gone}");
    }
    assert_eq!(
        source_row(
            &url,
            &format!(
                "SELECT customer_email, body, {} FROM tickets WHERE id = 300",
                text("order_id")
            )
        )
        .await,
        Some(vec![None, None, None]),
        "set to NULL"
    );
    // Ben and his order are untouched.
    assert_eq!(
        source_row(&url, "SELECT email, name FROM customers WHERE id = 2").await,
        Some(vec![
            Some("ben@example.com".to_owned()),
            Some("Ben".to_owned())
        ])
    );
    assert!(
        source_row(&url, "SELECT id FROM orders WHERE id = 12")
            .await
            .is_some()
    );
    let report = gql(&app, Role::Auditor, REPORT, json!({"id": id})).await["erasureReport"].clone();
    assert_eq!(report["openTasks"], 0, "{report:#}");
    assert_eq!(line(&report, "orders.customer_id", "ERASED")["records"], 2);
    assert_eq!(
        line(&report, "customers.name", "ANONYMIZED")["detail"],
        "masked"
    );
    let body = suppression(&app, json!([{"kind": "EMAIL", "value": "anna@example.com"}, {"kind": "CUSTOMER_NUMBER", "value": "K-1"}])).await;
    assert_eq!(
        body["data"]["suppressionCheck"][0]["suppressed"], true,
        "{body}"
    );
    assert_eq!(
        body["data"]["suppressionCheck"][1]["suppressed"], true,
        "found on the way: {body}"
    );
}
crate::common::e2e!(
    erasure_in_sql_sources,
    an_erasure_in_a_sql_source_is_all_or_nothing_and_resumes
);

/// An approved ERASURE request for Anna of the SQL shop (a test request if `test`),
/// collected and in EXECUTING: its id.
async fn executing(app: &TestApp, test: bool) -> String {
    let id = collected(app, test).await;
    approve_and_start(app, &id).await;
    id
}

/// An ERASURE request for Anna of the SQL shop, collected and IN_REVIEW: its id.
async fn collected(app: &TestApp, test: bool) -> String {
    collected_kind(app, "ERASURE", test).await
}

/// A request of `kind` for Anna of the SQL shop, collected and IN_REVIEW: its id.
pub(crate) async fn collected_kind(app: &TestApp, kind: &str, test: bool) -> String {
    collected_as(app, kind, "Anna@Example.com", test).await
}

/// A request of `kind` for `email`, collected and IN_REVIEW: its id.
pub(crate) async fn collected_kind_for(app: &TestApp, kind: &str, email: &str) -> String {
    collected_as(app, kind, email, false).await
}

async fn collected_as(app: &TestApp, kind: &str, email: &str, test: bool) -> String {
    use workflow::collection::Pass;
    let data = gql(
        app,
        Role::Integrator,
        "mutation($t: Boolean!, $k: RequestKind!, $e: String!) { submitRequest(input: {kind: $k, channel: WEB_FORM, isTest: $t, identities: [{kind: EMAIL, value: $e}]}) { request { id } } }",
        json!({"t": test, "k": kind, "e": email}),
    )
    .await;
    let id = data["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    gql(
        app,
        Role::Agent,
        "mutation($id: ID!) { verifyIdentity(input: {requestId: $id, version: 1, method: DOCUMENT_CHECK, evidence: \"Personalausweis\"}) { request { state } } }",
        json!({"id": id}),
    )
    .await;
    work_until(app, |p| *p == Pass::Idle).await;
    assert_eq!(tasks(app, &id).await["state"], "IN_REVIEW");
    id
}

/// The reviewer approves, the steward starts the execution.
pub(crate) async fn approve_and_start(app: &TestApp, id: &str) {
    crate::answer::approve(app, id).await;
    let version = tasks(app, id).await["version"].clone();
    gql(
        app,
        Role::Steward,
        "mutation($id: ID!, $v: Int!) { startExecution(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": id, "v": version}),
    )
    .await;
}

/// The SQL shop's URL (read-only for SQLite).
pub(crate) async fn shop_url(
    app: &TestApp,
    source: uuid::Uuid,
    db: &Option<crate::common::TestDb>,
) -> String {
    match db {
        Some(db) => db.url.clone(),
        None => {
            let model = workflow::entity::data_source::Entity::find_by_id(source)
                .one(app.workflow.store().conn())
                .await
                .unwrap()
                .unwrap();
            format!(
                "sqlite://{}?mode=ro",
                model.connector_config["path"].as_str().unwrap()
            )
        }
    }
}

async fn a_test_erasure_is_planned_and_reported_but_changes_nothing(app: TestApp) {
    use workflow::collection::Pass;
    let Some((source, db)) = writable_shop(&app).await else {
        return;
    };
    let url = shop_url(&app, source, &db).await;
    orders_go_whole(&app, source).await;
    let id = executing(&app, true).await;
    work_until(&app, |p| matches!(p, Pass::Done { .. })).await;
    assert_eq!(
        source_row(&url, "SELECT email, name FROM customers WHERE id = 1").await,
        Some(vec![
            Some("anna@example.com".to_owned()),
            Some("Anna".to_owned())
        ]),
        "a test request changes nothing"
    );
    assert!(
        source_row(&url, "SELECT id FROM orders WHERE id = 10")
            .await
            .is_some()
    );
    let report = gql(&app, Role::Auditor, REPORT, json!({"id": id})).await["erasureReport"].clone();
    let lines = report["lines"].as_array().unwrap();
    assert!(!lines.is_empty());
    assert!(
        lines.iter().all(|l| l["detail"]
            .as_str()
            .unwrap()
            .starts_with("test request, not carried out")),
        "{report:#}"
    );
    let body = suppression(
        &app,
        json!([{"kind": "EMAIL", "value": "anna@example.com"}]),
    )
    .await;
    assert_eq!(
        body["data"]["suppressionCheck"][0]["suppressed"], false,
        "{body}"
    );
}
crate::common::e2e!(
    test_erasure_in_sql_sources,
    a_test_erasure_is_planned_and_reported_but_changes_nothing
);

/// The reviewer's decisions bound the erasure: a redacted value stays (and its row),
/// a record that appeared after approval is not touched, and both are reported;
/// completing the task by hand does not turn what failed into "erased", and the
/// request, once a source was changed, cannot be cancelled.
async fn only_what_the_reviewer_approved_is_erased(app: TestApp) {
    use workflow::collection::Pass;
    let Some((source, db)) = writable_shop(&app).await else {
        return;
    };
    let url = shop_url(&app, source, &db).await;
    orders_go_whole(&app, source).await;
    let id = collected(&app, false).await;
    let records = gql(
        &app,
        Role::Reviewer,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { records { id location value } } } }",
        json!({"id": id}),
    )
    .await["node"]["records"]
        .clone();
    let name = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["location"] == "customers.name")
        .unwrap_or_else(|| panic!("{records:#}"));
    gql(
        &app,
        Role::Reviewer,
        "mutation($id: ID!) { redactRecord(input: {recordId: $id, reason: \"not hers\"}) { request { id } } }",
        json!({"id": name["id"]}),
    )
    .await;
    approve_and_start(&app, &id).await;
    // A new order of Anna's arrives after approval.
    {
        let conn = Database::connect(url.replace("?mode=ro", ""))
            .await
            .unwrap();
        conn.execute_unprepared("INSERT INTO orders VALUES (14, 1, '3.00')")
            .await
            .unwrap();
        conn.close().await.unwrap();
    }
    work_until(&app, |p| {
        matches!(p, Pass::Done { .. } | Pass::Failed { last: true, .. })
    })
    .await;
    let anna = source_row(&url, "SELECT email, name FROM customers WHERE id = 1")
        .await
        .unwrap();
    assert!(anna[0].as_deref().unwrap().starts_with("anon-"), "{anna:?}");
    assert_eq!(anna[1].as_deref(), Some("Anna"), "the redacted value stays");
    assert!(
        source_row(&url, "SELECT id FROM orders WHERE id = 10")
            .await
            .is_none()
    );
    assert!(
        source_row(&url, "SELECT id FROM orders WHERE id = 14")
            .await
            .is_some(),
        "the order nobody approved is not touched"
    );
    let report = gql(&app, Role::Auditor, REPORT, json!({"id": id})).await["erasureReport"].clone();
    assert_eq!(
        line(&report, "customers.name", "LEFT_OUT")["records"],
        1,
        "{report:#}"
    );
    assert!(
        line(&report, "orders.total", "FAILED")["detail"]
            .as_str()
            .unwrap()
            .contains("not among the records collected and approved"),
        "{report:#}"
    );
    assert_eq!(report["hasFailures"], true);
    let r = tasks(&app, &id).await;
    let task = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["kind"] == "EXECUTE")
        .unwrap()
        .clone();
    assert_eq!(task["state"], "FAILED", "{r:#}");
    // Completing by hand needs a note, and keeps what failed as FAILED.
    let complete = "mutation($t: ID!, $n: String) { completeTask(input: {taskId: $t, values: [], note: $n}) { task { state } } }";
    let body = app
        .gql(
            app.key(Role::Steward),
            complete,
            json!({"t": task["id"], "n": null}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(error_paths(&body), ["input.note"]);
    gql(
        &app,
        Role::Steward,
        complete,
        json!({"t": task["id"], "n": "Bestellung 14 geprüft, bleibt"}),
    )
    .await;
    let report = gql(&app, Role::Auditor, REPORT, json!({"id": id})).await["erasureReport"].clone();
    assert_eq!(report["openTasks"], 0);
    assert_eq!(
        report["hasFailures"], true,
        "FAILED stays FAILED: {report:#}"
    );
    assert!(
        !report.to_string().contains("Bestellung 14"),
        "no steward notes in the report"
    );
    let version = tasks(&app, &id).await["version"].clone();
    let cancel = app
        .gql(
            app.key(Role::Agent),
            "mutation($id: ID!, $v: Int!) { cancelRequest(input: {requestId: $id, version: $v, reason: \"withdrawn\"}) { request { state } } }",
            json!({"id": id, "v": version}),
        )
        .await;
    assert_code(&cancel, "CONFLICT");
    assert_eq!(tasks(&app, &id).await["state"], "EXECUTING");
}
crate::common::e2e!(
    erasure_bounded_by_review,
    only_what_the_reviewer_approved_is_erased
);

/// The register says an order goes as a whole (every field of `orders` DELETE_ROW).
async fn orders_go_whole(app: &TestApp, source: uuid::Uuid) {
    let admin = crate::requests::principal(app, Role::Admin);
    for location in ["orders.id", "orders.customer_id", "orders.total"] {
        set_strategy(
            app,
            &admin,
            source,
            location,
            workflow::register::fields::ErasureStrategy::DeleteRow,
        )
        .await;
    }
}
