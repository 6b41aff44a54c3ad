//! The demo as `serve --demo` runs it, over HTTP as a frontend would: an access
//! request of a demo shop customer is collected automatically from the shop database
//! (SQL) and from the CRM the demo server serves itself (HTTP, bearer token, two
//! pages), the support mailbox (MANUAL) is answered by a steward's upload, and the
//! reviewer approves the answer. With the deliberately wrong mapping switched on (an
//! ordinary `updateDataField`: the delivery postal code joined to the customers'
//! non-unique postal code), the leak guard flags the other customer's data and
//! approval is refused until every finding is resolved.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{Backend, TestApp, assert_code, error_paths};

const MAX: &str = "max.mustermann@example.org";
const ERIKA: &str = "erika.mustermann@example.org";
/// Erika's rows in the shop database (her order shares Max's postal code).
const ERIKAS_ROWS: [&str; 3] = ["customers(id=1)", "orders(id=1)", "invoices(id=1)"];

pub(crate) const REQUEST: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest { id state version openLeakFindings leakFindings { id kind recordId recordKey location detail state } tasks { id sourceName automatic state note error records { id recordKey location value dataCategory { key } } } } } }";

/// Runs `body` against a demo server on `backend`, or reports the skip.
pub(crate) async fn run_demo<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(TestApp) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    match TestApp::spawn_demo(backend).await {
        Some(app) => body(app).await,
        None => eprintln!("skipped: {backend:?} not configured (set AUSKUNFT_TEST_*_URL)"),
    }
}

/// Defines `name::{sqlite, postgres, mysql}` tests running `body(TestApp)` on a demo
/// server.
macro_rules! demo_e2e {
    ($name:ident, $body:ident) => {
        mod $name {
            use crate::common::Backend;
            use crate::demo::run_demo;
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run_demo(Backend::Sqlite, super::$body).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run_demo(Backend::Postgres, super::$body).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn mysql() {
                run_demo(Backend::Mysql, super::$body).await
            }
        }
    };
}
pub(crate) use demo_e2e;

pub(crate) async fn gql(app: &TestApp, role: Role, query: &str, vars: Value) -> Value {
    app.gql_ok(app.key(role), query, vars).await
}

pub(crate) async fn request(app: &TestApp, id: &str) -> Value {
    gql(app, Role::Reviewer, REQUEST, json!({"id": id})).await["node"].clone()
}

/// Submits an ACCESS request for `email` (as the shop's web form would).
async fn submit(app: &TestApp, email: &str) -> String {
    let data = gql(
        app,
        Role::Integrator,
        "mutation($e: String!) { submitRequest(input: {kind: ACCESS, channel: WEB_FORM, identities: [{kind: EMAIL, value: $e}]}) { request { id } } }",
        json!({"e": email}),
    )
    .await;
    data["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Submits and verifies (known customer): the request enters COLLECTING, and waits
/// until the workers are done with the SQL and HTTP sources. Returns the request.
async fn collected(app: &TestApp, email: &str) -> Value {
    let id = submit(app, email).await;
    let data = gql(
        app,
        Role::Agent,
        "mutation($id: ID!) { verifyIdentity(input: {requestId: $id, version: 1, method: KNOWN_CUSTOMER, evidence: \"Kundennummer am Telefon genannt\"}) { request { state tasks { sourceName automatic } } } }",
        json!({"id": id}),
    )
    .await;
    let r = &data["verifyIdentity"]["request"];
    assert_eq!(r["state"], "COLLECTING", "{r}");
    let mut tasks: Vec<(String, bool)> = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["sourceName"].as_str().unwrap().to_owned(),
                t["automatic"].as_bool().unwrap(),
            )
        })
        .collect();
    tasks.sort();
    assert_eq!(
        tasks,
        [
            ("CRM".to_owned(), true),
            ("Shop database".to_owned(), true),
            ("Support mailbox".to_owned(), false)
        ],
        "one task per mapped source"
    );
    let started = Instant::now();
    loop {
        let r = request(app, &id).await;
        let automatic: Vec<&Value> = r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["automatic"] == true)
            .collect();
        assert!(
            automatic.iter().all(|t| t["state"] != "FAILED"),
            "a task failed: {r:#}"
        );
        if automatic.iter().all(|t| t["state"] == "DONE") {
            return r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not collected within 60 s: {r:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub(crate) fn task<'a>(r: &'a Value, source: &str) -> &'a Value {
    r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["sourceName"] == source)
        .unwrap_or_else(|| panic!("a task for {source}: {r:#}"))
}

/// The record keys of a task, sorted and deduplicated.
fn record_keys(task: &Value) -> Vec<String> {
    let mut keys: Vec<String> = task["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["recordKey"].as_str().unwrap().to_owned())
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// The steward answers the support mailbox task with an upload; returns the version.
async fn upload_mailbox(app: &TestApp, r: &Value, content: &str) -> Value {
    let data = gql(
        app,
        Role::Steward,
        "mutation($t: ID!, $c: String!) { uploadTaskResult(input: {taskId: $t, format: JSON, content: $c, note: \"Postfach nach der Adresse durchsucht\"}) { task { state } request { state version } } }",
        json!({"t": task(r, "Support mailbox")["id"], "c": content}),
    )
    .await;
    assert_eq!(data["uploadTaskResult"]["task"]["state"], "DONE");
    assert_eq!(data["uploadTaskResult"]["request"]["state"], "COLLECTING");
    data["uploadTaskResult"]["request"]["version"].clone()
}

/// The agent hands the collected request to review.
pub(crate) async fn submit_for_review(app: &TestApp, id: &Value, version: &Value) {
    let data = gql(
        app,
        Role::Agent,
        "mutation($id: ID!, $v: Int!) { submitForReview(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": id, "v": version}),
    )
    .await;
    assert_eq!(data["submitForReview"]["request"]["state"], "IN_REVIEW");
}

pub(crate) async fn approve(app: &TestApp, id: &Value) -> Value {
    let version = request(app, id.as_str().unwrap()).await["version"].clone();
    app.gql(
        app.key(Role::Reviewer),
        "mutation($id: ID!, $v: Int!) { approveRequest(input: {requestId: $id, version: $v}) { request { state answerPackage { digest downloadUrl } } } }",
        json!({"id": id, "v": version}),
    )
    .await
}

/// Sets the wrong mapping (`referencesId` a field id) or takes it back (`null`), as
/// the DPO through GraphQL.
async fn wrong_mapping(app: &TestApp, on: bool) {
    let data = gql(
        app,
        Role::Dpo,
        "{ dataFields(first: 10, filter: {search: \"postal_code\"}) { nodes { id location } } }",
        json!({}),
    )
    .await;
    let id_of = |location: &str| {
        data["dataFields"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["location"] == location)
            .unwrap_or_else(|| panic!("{location} is mapped: {data}"))["id"]
            .clone()
    };
    let references = if on {
        id_of("customers.postal_code")
    } else {
        Value::Null
    };
    let data = gql(
        app,
        Role::Dpo,
        "mutation($id: ID!, $r: ID) { updateDataField(input: {id: $id, referencesId: $r}) { dataField { references { location } } } }",
        json!({"id": id_of("orders.delivery_postal_code"), "r": references}),
    )
    .await;
    let expected = if on {
        json!({"location": "customers.postal_code"})
    } else {
        Value::Null
    };
    assert_eq!(data["updateDataField"]["dataField"]["references"], expected);
}

async fn a_demo_access_request_is_collected_from_shop_crm_and_mailbox(app: TestApp) {
    // What each source is searched by: the shop by its identifying columns, the CRM
    // only by its search templates (e-mail), although its contacts hold a phone
    // number and a customer number too.
    let sources = gql(
        &app,
        Role::Admin,
        "{ dataSources(first: 20) { nodes { name identityKeys } } }",
        json!({}),
    )
    .await;
    let keys = |name: &str| {
        sources["dataSources"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("a source named {name}: {sources}"))["identityKeys"]
            .clone()
    };
    assert_eq!(keys("CRM"), json!(["EMAIL"]));
    assert_eq!(
        keys("Shop database"),
        json!(["CUSTOMER_NUMBER", "EMAIL", "PHONE"])
    );
    let r = collected(&app, MAX).await;
    // The shop database (SQL): the customer, the order, the ticket, the invoice.
    let shop = task(&r, "Shop database");
    assert_eq!(
        record_keys(shop),
        [
            "customers(id=2)",
            "invoices(id=2)",
            "orders(id=2)",
            "support_tickets(id=1)"
        ],
        "{shop:#}"
    );
    // The CRM (HTTP, served by the demo server): the contact and its activities,
    // which come two per page, so the third is on the second page.
    let crm = task(&r, "CRM");
    assert_eq!(
        record_keys(crm),
        [
            "activities(id=a-601)",
            "activities(id=a-602)",
            "activities(id=a-603)",
            "contacts(id=c-1002)"
        ],
        "{crm:#}"
    );
    let value = |t: &Value, location: &str| -> Vec<String> {
        t["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["location"] == location)
            .map(|v| v["value"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(value(crm, "$.email"), [MAX]);
    assert_eq!(value(crm, "$.marketing.post"), ["true"]);
    assert!(
        value(crm, "$.subject").contains(&"Newsletter abbestellt".to_owned()),
        "{crm:#}"
    );
    assert!(
        crm["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["location"] == "$.segment")
            .all(|v| v["dataCategory"]["key"] == "marketing.preferences")
    );
    assert_eq!(value(shop, "customers.customer_number"), ["K-100002"]);
    // Nobody else's data.
    let all = r.to_string();
    assert!(!all.contains(ERIKA) && !all.contains("K-100001"), "{r:#}");

    // The support mailbox waits for its steward: a bad upload is refused, naming
    // the place of each problem; a good one completes the task.
    let mailbox = task(&r, "Support mailbox");
    assert_eq!(mailbox["state"], "OPEN");
    let bad = app
        .gql(
            app.key(Role::Steward),
            "mutation($t: ID!, $c: String!) { uploadTaskResult(input: {taskId: $t, format: JSON, content: $c}) { task { state } } }",
            json!({"t": mailbox["id"], "c": r#"[{"date": "2025-11-16", "from": "x@example.org", "subject": "Re", "colour": "red"}, {"from": 5}]"#}),
        )
        .await;
    assert_code(&bad, "VALIDATION");
    let paths = error_paths(&bad);
    assert!(
        paths.iter().any(|p| p.starts_with("input.content.0")),
        "{bad:#}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("input.content.1")),
        "{bad:#}"
    );
    let version = upload_mailbox(
        &app,
        &r,
        r#"[{"date": "2025-11-16", "from": "max.mustermann@example.org", "subject": "Re: Stehleuchte Aalto", "message": "Danke, der Ersatz ist angekommen."}]"#,
    )
    .await;
    submit_for_review(&app, &r["id"], &version).await;
    let r = request(&app, r["id"].as_str().unwrap()).await;
    assert_eq!(r["state"], "IN_REVIEW");
    assert_eq!(r["openLeakFindings"], 0, "the demo mapping is clean: {r:#}");
    assert_eq!(
        value(task(&r, "Support mailbox"), "message"),
        ["Danke, der Ersatz ist angekommen."]
    );

    // The reviewer previews the answer: the CRM's data with its source.
    let preview = gql(
        &app,
        Role::Reviewer,
        "query($id: ID!) { answerPreview(requestId: $id, language: EN) { letterText document } }",
        json!({"id": r["id"]}),
    )
    .await;
    let letter = preview["answerPreview"]["letterText"].as_str().unwrap();
    for expected in [
        "Stehleuchte Aalto beschädigt",
        "CRM",
        "Support mailbox",
        "K-100002",
    ] {
        assert!(letter.contains(expected), "{expected} in {letter}");
    }
    // Four-eyes: the reviewer approves; the answer package is frozen.
    let approved = approve(&app, &r["id"]).await;
    let request = &approved["data"]["approveRequest"]["request"];
    assert_eq!(request["state"], "APPROVED", "{approved:#}");
    let url = request["answerPackage"]["downloadUrl"].as_str().unwrap();
    let zip = app
        .client
        .get(app.url(&url[url.find("/answers/").unwrap()..]))
        .send()
        .await
        .unwrap();
    assert_eq!(zip.status().as_u16(), 200);
}

async fn the_wrong_mapping_leaks_and_blocks_approval_until_resolved(app: TestApp) {
    // Erika is known: she asked before (the other subject the wrong join reaches).
    submit(&app, ERIKA).await;
    wrong_mapping(&app, true).await;
    let r = collected(&app, MAX).await;
    let version = upload_mailbox(&app, &r, "[]").await;
    submit_for_review(&app, &r["id"], &version).await;
    let r = request(&app, r["id"].as_str().unwrap()).await;
    // Erika's order and customer row came along through the shared postal code.
    let shop = task(&r, "Shop database");
    assert!(
        record_keys(shop).contains(&"customers(id=1)".to_owned()),
        "{shop:#}"
    );
    let findings = r["leakFindings"].as_array().unwrap();
    let kinds: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "SHARED_REFERENCE",
        "OTHER_SUBJECT_IDENTITY",
        "FOREIGN_IDENTIFIER",
    ] {
        assert!(kinds.contains(kind), "{kind} in {findings:#?}");
    }
    assert!(findings.iter().all(|f| f["state"] == "OPEN"));
    // Erika's e-mail address is named as another subject's identity; Max's own data
    // is not flagged.
    let flagged: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| {
            (
                f["recordKey"].as_str().unwrap_or_default(),
                f["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        flagged.contains(&("customers(id=1)", "OTHER_SUBJECT_IDENTITY")),
        "{flagged:?}"
    );
    assert!(
        flagged.iter().all(|(key, _)| ERIKAS_ROWS.contains(key)),
        "only Erika's rows: {flagged:?}"
    );
    // Every one of Erika's rows is flagged as a record, not only the order the wrong
    // join reached: her customer row and invoice were reached from it.
    for key in ERIKAS_ROWS {
        assert!(
            flagged.contains(&(key, "SHARED_REFERENCE")),
            "{key} is flagged as a record: {flagged:?}"
        );
    }
    assert!(r["openLeakFindings"].as_i64().unwrap() >= 3, "{r:#}");

    // Approval is refused while any finding is open.
    let refused = approve(&app, &r["id"]).await;
    assert_code(&refused, "INVALID_TRANSITION");
    // The reviewer redacts Erika's rows (every value of them) but one: still refused.
    let records: Vec<Value> = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["records"].as_array().unwrap().clone())
        .collect();
    let erikas: Vec<&Value> = records
        .iter()
        .filter(|v| ERIKAS_ROWS.contains(&v["recordKey"].as_str().unwrap()))
        .collect();
    assert!(erikas.len() > 3);
    let redact = |record: Value| {
        let app = &app;
        async move {
            gql(
                app,
                Role::Reviewer,
                "mutation($id: ID!) { redactRecord(input: {recordId: $id, reason: \"Daten einer anderen Kundin (falsche Verknüpfung über die Postleitzahl)\"}) { request { version } } }",
                json!({"id": record}),
            )
            .await;
        }
    };
    let last = findings
        .iter()
        .find(|f| f["kind"] == "OTHER_SUBJECT_IDENTITY")
        .unwrap()["recordId"]
        .clone();
    for v in erikas.iter().filter(|v| v["id"] != last) {
        redact(v["id"].clone()).await;
    }
    let still = approve(&app, &r["id"]).await;
    assert_code(&still, "INVALID_TRANSITION");
    redact(last).await;
    let r2 = request(&app, r["id"].as_str().unwrap()).await;
    assert_eq!(r2["openLeakFindings"], 0, "{r2:#}");
    let approved = approve(&app, &r["id"]).await;
    assert_eq!(
        approved["data"]["approveRequest"]["request"]["state"], "APPROVED",
        "{approved:#}"
    );

    // The same wrong join on a new request, resolved in bulk: the reviewer redacts
    // every record finding at once and dismisses the rest at once.
    let first_findings: Vec<Value> = findings.iter().map(|f| f["id"].clone()).collect();
    let r = collected(&app, MAX).await;
    let version = upload_mailbox(&app, &r, "[]").await;
    submit_for_review(&app, &r["id"], &version).await;
    let r = request(&app, r["id"].as_str().unwrap()).await;
    let findings = r["leakFindings"].as_array().unwrap().clone();
    let of_kind = |shared: bool| -> Vec<Value> {
        findings
            .iter()
            .filter(|f| (f["kind"] == "SHARED_REFERENCE") == shared)
            .map(|f| f["id"].clone())
            .collect()
    };
    let (shared, rest) = (of_kind(true), of_kind(false));
    assert!(!shared.is_empty() && !rest.is_empty(), "{findings:#?}");
    let resolve = |ids: Vec<Value>, resolution: &'static str| {
        let app = &app;
        let id = r["id"].clone();
        async move {
            app.gql(
                app.key(Role::Reviewer),
                "mutation($id: ID!, $f: [ID!]!, $r: LeakResolution!) { resolveLeakFindings(input: {requestId: $id, findingIds: $f, resolution: $r, reason: \"Daten einer anderen Kundin (falsche Verknüpfung über die Postleitzahl)\"}) { request { version openLeakFindings leakFindings { id state } } } }",
                json!({"id": id, "f": ids, "r": resolution}),
            )
            .await
        }
    };
    // Bad input resolves nothing: a finding named twice, a finding of another
    // request, the id of something else.
    let twice = resolve(vec![shared[0].clone(), shared[0].clone()], "REDACT").await;
    assert_code(&twice, "VALIDATION");
    let foreign = resolve(vec![shared[0].clone(), first_findings[0].clone()], "REDACT").await;
    assert_code(&foreign, "VALIDATION");
    assert_eq!(error_paths(&foreign), ["input.findingIds.1"], "{foreign}");
    let not_a_finding = resolve(vec![shared[0].clone(), r["id"].clone()], "DISMISS").await;
    assert_code(&not_a_finding, "VALIDATION");
    let unchanged = request(&app, r["id"].as_str().unwrap()).await;
    assert_eq!(unchanged["version"], r["version"], "nothing was resolved");
    assert_eq!(unchanged["openLeakFindings"], r["openLeakFindings"]);
    // The record findings, redacted at once; then the others, dismissed at once.
    let redacted = resolve(shared.clone(), "REDACT").await;
    let after = &redacted["data"]["resolveLeakFindings"]["request"];
    assert!(
        after["version"].as_i64() > r["version"].as_i64(),
        "{redacted}"
    );
    for f in after["leakFindings"].as_array().unwrap() {
        let expected = if shared.contains(&f["id"]) {
            "REDACTED"
        } else {
            "OPEN"
        };
        // A value finding in one of the redacted records is resolved with it.
        assert!(
            f["state"] == expected || f["state"] == "REDACTED",
            "{f} after redacting the records: {redacted}"
        );
    }
    let still_open: Vec<Value> = after["leakFindings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["state"] == "OPEN")
        .map(|f| f["id"].clone())
        .collect();
    if !still_open.is_empty() {
        let dismissed = resolve(still_open, "DISMISS").await;
        assert_eq!(
            dismissed["data"]["resolveLeakFindings"]["request"]["openLeakFindings"], 0,
            "{dismissed}"
        );
    }
    // Resolved is resolved: naming a redacted finding again is refused.
    let again = resolve(vec![shared[0].clone()], "DISMISS").await;
    assert_code(&again, "VALIDATION");
    let timeline = gql(
        &app,
        Role::Reviewer,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { timeline(first: 100) { nodes { message } } } } }",
        json!({"id": r["id"]}),
    )
    .await;
    let messages: Vec<&str> = timeline["node"]["timeline"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["message"].as_str())
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with(&format!(
            "{} leak finding(s) resolved by redacting",
            shared.len()
        ))),
        "{messages:#?}"
    );
    let approved = approve(&app, &r["id"]).await;
    assert_eq!(
        approved["data"]["approveRequest"]["request"]["state"], "APPROVED",
        "{approved:#}"
    );

    // Switched off again, a new request finds only Max's data and no findings.
    wrong_mapping(&app, false).await;
    let r = collected(&app, MAX).await;
    let version = upload_mailbox(&app, &r, "[]").await;
    submit_for_review(&app, &r["id"], &version).await;
    let r = request(&app, r["id"].as_str().unwrap()).await;
    assert_eq!(r["openLeakFindings"], 0, "{r:#}");
    assert!(!record_keys(task(&r, "Shop database")).contains(&"customers(id=1)".to_owned()));
}

demo_e2e!(
    demo_collects_shop_crm_and_mailbox,
    a_demo_access_request_is_collected_from_shop_crm_and_mailbox
);
demo_e2e!(
    demo_wrong_mapping,
    the_wrong_mapping_leaks_and_blocks_approval_until_resolved
);
