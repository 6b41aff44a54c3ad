//! The Art. 15 answer end to end on the demo register: values collected by hand, one
//! redacted, the reviewer's preview in German and English, approval freezing the
//! package (ZIP with letters, PDF, JSON, CSV and a SHA-256 manifest) that never
//! changes afterwards, organization letter templates, and test requests.

use std::io::Read;

use serde_json::{Value, json};
use sha2::Digest;
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e};
use crate::export::demo_register;

/// The other person's details in a support ticket: the reviewer redacts them.
const OTHER_PERSON: &str = "Ersatz bitte an Max Mustermann, Tel. +49 221 7654321";

const PREVIEW: &str = "query($id: ID!, $l: AnswerLanguage) { answerPreview(requestId: $id, language: $l) { language isTest document letterText letterHtml portableCategories } }";
const PACKAGE: &str = "query($id: ID!) { node(id: $id) { ... on SubjectRequest { state version answerPackage { id digest sizeBytes language isTest createdAt downloadUrl } } } }";

pub(crate) async fn gql(app: &TestApp, role: Role, query: &str, vars: Value) -> Value {
    app.gql_ok(app.key(role), query, vars).await
}

/// A verified ACCESS request with its collection task for the shop database.
pub(crate) async fn collecting(app: &TestApp, email: &str, is_test: bool) -> (String, String) {
    collecting_kind(app, email, is_test, "ACCESS").await
}

/// [`collecting`] for a request of `kind`.
pub(crate) async fn collecting_kind(
    app: &TestApp,
    email: &str,
    is_test: bool,
    kind: &str,
) -> (String, String) {
    let data = gql(
        app,
        Role::Integrator,
        "mutation($e: String!, $t: Boolean!, $k: RequestKind!) { submitRequest(input: {kind: $k, channel: WEB_FORM, identities: [{kind: EMAIL, value: $e}], isTest: $t}) { request { id version } } }",
        json!({"e": email, "t": is_test, "k": kind}),
    )
    .await;
    let id = data["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let data = gql(
        app,
        Role::Agent,
        "mutation($id: ID!) { verifyIdentity(input: {requestId: $id, version: 1, method: DOCUMENT_CHECK, evidence: \"Personalausweis\"}) { request { tasks { id sourceName } } } }",
        json!({"id": id}),
    )
    .await;
    let task = data["verifyIdentity"]["request"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["sourceName"] == "Shop database")
        .expect("a task for the shop database")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id, task)
}

/// Completes the task with `values` (location, value) and submits for review.
pub(crate) async fn collect_and_submit(
    app: &TestApp,
    request: &str,
    task: &str,
    values: &[(&str, &str)],
) {
    let values: Vec<Value> = values
        .iter()
        .map(|(l, v)| json!({"location": l, "value": v}))
        .collect();
    let data = gql(
        app,
        Role::Steward,
        "mutation($t: ID!, $v: [CollectedValueInput!]!) { completeTask(input: {taskId: $t, values: $v}) { request { version } } }",
        json!({"t": task, "v": values}),
    )
    .await;
    let mut version = data["completeTask"]["request"]["version"].clone();
    // The demo's other sources (the CRM, the support mailbox) found nothing here.
    let tasks = gql(
        app,
        Role::Steward,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { tasks { id state } } } }",
        json!({"id": request}),
    )
    .await;
    for other in tasks["node"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] == "OPEN")
    {
        let data = gql(
            app,
            Role::Steward,
            "mutation($t: ID!) { completeTask(input: {taskId: $t, values: []}) { request { version } } }",
            json!({"t": other["id"]}),
        )
        .await;
        version = data["completeTask"]["request"]["version"].clone();
    }
    let data = gql(
        app,
        Role::Agent,
        "mutation($id: ID!, $v: Int!) { submitForReview(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": request, "v": version}),
    )
    .await;
    assert_eq!(data["submitForReview"]["request"]["state"], "IN_REVIEW");
}

async fn version(app: &TestApp, request: &str) -> Value {
    gql(app, Role::Reviewer, PACKAGE, json!({"id": request})).await["node"]["version"].clone()
}

/// Approves like a lawyer: first every open leak finding is looked at and, the
/// data being the requester's own here (their invoice IBAN), dismissed with a reason.
pub(crate) async fn approve(app: &TestApp, request: &str) -> Value {
    let findings = gql(
        app,
        Role::Reviewer,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { leakFindings { id state location } } } }",
        json!({"id": request}),
    )
    .await["node"]["leakFindings"]
        .clone();
    let ids: Vec<(Value, &str)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].clone(), "LeakFinding"))
        .collect();
    crate::graph::assert_nodes_resolve(app, Role::Reviewer, &ids).await;
    for f in findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["state"] == "OPEN")
    {
        assert_eq!(
            f["location"], "invoices.iban",
            "only the own IBAN is flagged: {f}"
        );
        gql(
            app,
            Role::Reviewer,
            "mutation($id: ID!) { dismissLeakFinding(input: {findingId: $id, reason: \"the requester's own invoice\"}) { finding { state } } }",
            json!({"id": f["id"]}),
        )
        .await;
    }
    let v = version(app, request).await;
    let data = gql(
        app,
        Role::Reviewer,
        "mutation($id: ID!, $v: Int!) { approveRequest(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": request, "v": v}),
    )
    .await;
    assert_eq!(data["approveRequest"]["request"]["state"], "APPROVED");
    gql(app, Role::Reviewer, PACKAGE, json!({"id": request})).await["node"]["answerPackage"].clone()
}

/// Downloads a package: the ZIP bytes.
async fn download(app: &TestApp, package: &Value) -> Vec<u8> {
    let url = package["downloadUrl"].as_str().unwrap();
    assert!(url.contains("/answers/"), "{url}");
    let response = app
        .client
        .get(app.url(&url[url.find("/answers/").unwrap()..]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(
        response.headers()["content-type"].to_str().unwrap(),
        "application/zip"
    );
    response.bytes().await.unwrap().to_vec()
}

/// The files of a ZIP by name.
pub(crate) fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    (0..zip.len())
        .map(|i| {
            let mut f = zip.by_index(i).unwrap();
            let mut content = Vec::new();
            f.read_to_end(&mut content).unwrap();
            (f.name().unwrap().into_owned(), content)
        })
        .collect()
}

pub(crate) fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("{name} in the package"))
        .1
}

fn pdf_text(pdf: &[u8]) -> String {
    let doc = lopdf::Document::load_mem(pdf).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    doc.extract_text(&pages).unwrap()
}

/// The document satisfies the published JSON Schema of answers.
fn assert_schema_valid(document: &Value) {
    let schema: Value = serde_json::from_str(workflow::answer::ANSWER_SCHEMA).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(document)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// Every Art. 15(1)(a)-(h) and 15(2) item is present or not applicable with a reason.
fn assert_every_item(document: &Value) -> Vec<(String, bool)> {
    let info = &document["information"];
    let mut seen = Vec::new();
    for (key, article) in [
        ("purposes", "15(1)(a)"),
        ("categories", "15(1)(b)"),
        ("recipients", "15(1)(c)"),
        ("retention", "15(1)(d)"),
        ("rights", "15(1)(e)"),
        ("complaint", "15(1)(f)"),
        ("sources", "15(1)(g)"),
        ("automatedDecisions", "15(1)(h)"),
        ("transfers", "15(2)"),
    ] {
        let item = &info[key];
        assert_eq!(item["article"], article, "{key}: {item:#}");
        let applicable = item["applicable"].as_bool().unwrap();
        if applicable {
            assert!(item["notApplicableReason"].is_null());
            assert!(!item["content"].is_null());
        } else {
            assert!(
                item["notApplicableReason"]
                    .as_str()
                    .is_some_and(|r| r.len() > 10),
                "{key} states why it does not apply: {item:#}"
            );
        }
        seen.push((key.to_owned(), applicable));
    }
    seen
}

async fn the_demo_answer_is_complete_redacted_and_frozen_at_approval(app: TestApp) {
    let _shop = demo_register(&app).await;
    gql(
        &app,
        Role::Dpo,
        "mutation { updateOrganization(input: {address: \"Möbelweg 1\\n50667 Köln\", dpo: {name: \"Dana Schutz\", email: \"dpo@moebelhaus.example\"}, supervisoryAuthority: \"Landesbeauftragte für Datenschutz und Informationsfreiheit Nordrhein-Westfalen\"}) { organization { answerLanguage } } }",
        json!({}),
    )
    .await;
    let (request, task) = collecting(&app, "erika.mustermann@example.org", false).await;

    // Before review there is nothing to preview.
    let body = app
        .gql(app.key(Role::Reviewer), PREVIEW, json!({"id": request}))
        .await;
    assert_code(&body, "CONFLICT");

    collect_and_submit(
        &app,
        &request,
        &task,
        &[
            ("customers.email", "erika.mustermann@example.org"),
            ("customers.first_name", "Erika"),
            ("customers.last_name", "Mustermann"),
            ("customers.street", "Heidestraße 17"),
            ("invoices.iban", "DE89370400440532013000"),
            (
                "newsletter_subscribers.email",
                "erika.mustermann@example.org",
            ),
            ("support_tickets.body", OTHER_PERSON),
        ],
    )
    .await;

    // The reviewer sees every item before deciding, and the data.
    let preview =
        gql(&app, Role::Reviewer, PREVIEW, json!({"id": request})).await["answerPreview"].clone();
    assert_eq!(preview["language"], "DE");
    assert_eq!(preview["isTest"], false);
    let document = &preview["document"];
    assert_eq!(document["format"], "auskunft-answer");
    assert_schema_valid(document);
    let items = assert_every_item(document);
    // The demo register: purposes, categories, recipients (parcel service, payment
    // provider, tax office), retention, a US transfer under SCC; no automated
    // decisions (stated as not applicable).
    for (key, applicable) in &items {
        let expected = key != "automatedDecisions";
        assert_eq!(*applicable, expected, "{key}");
    }
    let transfers = &document["information"]["transfers"]["content"];
    assert_eq!(transfers[0]["country"], "US");
    assert_eq!(transfers[0]["safeguard"], "STANDARD_CONTRACTUAL_CLAUSES");
    assert_eq!(
        document["information"]["complaint"]["content"]["authority"],
        "Landesbeauftragte für Datenschutz und Informationsfreiheit Nordrhein-Westfalen"
    );
    let bases: Vec<&str> = document["information"]["purposes"]["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["legalBasis"].as_str().unwrap())
        .collect();
    for basis in ["CONTRACT", "LEGAL_OBLIGATION", "CONSENT"] {
        assert!(bases.contains(&basis), "{basis} in {bases:?}");
    }
    assert!(
        preview["letterText"]
            .as_str()
            .unwrap()
            .contains(OTHER_PERSON)
    );
    // Portability: contract and consent categories, not the bank account (kept for
    // the tax office only, a legal obligation).
    let portable: Vec<&str> = preview["portableCategories"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(portable.contains(&"contact.email"), "{portable:?}");
    assert!(portable.contains(&"marketing.newsletter"), "{portable:?}");
    assert!(
        !portable.contains(&"financial.bank_account"),
        "{portable:?}"
    );

    // Agents and stewards may not preview (request:review).
    for role in [Role::Agent, Role::Steward, Role::Integrator] {
        let body = app
            .gql(app.key(role), PREVIEW, json!({"id": request}))
            .await;
        assert_code(&body, "FORBIDDEN");
    }

    // The reviewer redacts the other person's details.
    let records = gql(
        &app,
        Role::Reviewer,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { records { id location } } } }",
        json!({"id": request}),
    )
    .await["node"]["records"]
        .clone();
    let ticket = records
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["location"] == "support_tickets.body")
        .unwrap()["id"]
        .clone();
    gql(
        &app,
        Role::Reviewer,
        "mutation($id: ID!) { redactRecord(input: {recordId: $id, reason: \"Daten einer anderen Person (Art. 15 Abs. 4)\"}) { request { id } } }",
        json!({"id": ticket}),
    )
    .await;

    // German and English letters; the redacted value is in neither, nor in the JSON.
    for (language, title, withheld) in [
        ("DE", "Auskunft nach Art. 15 DSGVO", "Art. 15 Abs. 4 DSGVO"),
        (
            "EN",
            "Access to your personal data (Art. 15 GDPR)",
            "Art. 15(4) GDPR",
        ),
    ] {
        let preview = gql(
            &app,
            Role::Reviewer,
            PREVIEW,
            json!({"id": request, "l": language}),
        )
        .await["answerPreview"]
            .clone();
        assert_eq!(preview["language"], language);
        assert_eq!(preview["document"]["withheld"]["count"], 1);
        let text = preview["letterText"].as_str().unwrap();
        let html = preview["letterHtml"].as_str().unwrap();
        for letter in [text, html] {
            assert!(letter.contains(title), "{language}: {letter}");
            assert!(letter.contains(withheld), "{language}");
            assert!(letter.contains("Heidestraße 17"));
            assert!(!letter.contains("Max Mustermann"), "{language}: redacted");
        }
        assert!(!preview["document"].to_string().contains("Max Mustermann"));
    }

    // A template the organization saved applies to the letters; a broken one is
    // refused with the field path.
    let body = app
        .gql(
            app.key(Role::Dpo),
            "mutation($b: String!) { setLetterTemplate(input: {language: DE, format: HTML, body: $b}) { template { isCustom } } }",
            json!({"b": "{% for %}"}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "body"])
    );
    let custom = "<h1>{{ controller.name }}</h1>{% for c in categories %}<p>{{ c.name }}</p>{% endfor %}<p>{{ information.complaint.content.authority }}</p><script>{{ '<script>' }}</script>";
    let saved = gql(
        &app,
        Role::Dpo,
        "mutation($b: String!) { setLetterTemplate(input: {language: DE, format: HTML, body: $b}) { template { isCustom language format } } }",
        json!({"b": custom}),
    )
    .await;
    assert_eq!(saved["setLetterTemplate"]["template"]["isCustom"], true);
    let html = gql(
        &app,
        Role::Reviewer,
        PREVIEW,
        json!({"id": request, "l": "DE"}),
    )
    .await["answerPreview"]["letterHtml"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(html.starts_with("<h1>"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "escaped: {html}");
    let templates = gql(
        &app,
        Role::Agent,
        "{ letterTemplates { language format isCustom } }",
        json!({}),
    )
    .await;
    let custom_count = templates["letterTemplates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["isCustom"] == true)
        .count();
    assert_eq!(custom_count, 1);
    gql(
        &app,
        Role::Admin,
        "mutation { resetLetterTemplate(input: {language: DE, format: HTML}) { template { isCustom } } }",
        json!({}),
    )
    .await;

    // The organization answers in English by default from now on.
    gql(
        &app,
        Role::Admin,
        "mutation { updateOrganization(input: {answerLanguage: EN}) { organization { answerLanguage } } }",
        json!({}),
    )
    .await;

    // Approval freezes the package.
    let package = approve(&app, &request).await;
    assert_eq!(package["language"], "EN");
    assert_eq!(package["isTest"], false);
    let digest = package["digest"].as_str().unwrap().to_owned();
    let zip = download(&app, &package).await;
    assert_eq!(sha256(&zip), digest, "the digest is the ZIP's SHA-256");
    assert_eq!(zip.len() as i64, package["sizeBytes"].as_i64().unwrap());
    let files = unzip(&zip);
    let manifest: Value = serde_json::from_slice(file(&files, "manifest.json")).unwrap();
    assert_eq!(manifest["format"], "auskunft-answer-package");
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for name in [
        "letter.html",
        "letter.txt",
        "letter.pdf",
        "answer.json",
        "data/contact.email.csv",
    ] {
        assert!(listed.contains(&name), "{name} in {listed:?}");
    }
    assert!(!listed.contains(&"data/financial.bank_account.csv"));
    assert_eq!(
        files.len(),
        listed.len() + 1,
        "every file but the manifest is listed"
    );
    for f in manifest["files"].as_array().unwrap() {
        let content = file(&files, f["path"].as_str().unwrap());
        assert_eq!(sha256(content), f["sha256"], "{}", f["path"]);
    }
    let answer: Value = serde_json::from_slice(file(&files, "answer.json")).unwrap();
    assert_eq!(answer["language"], "en");
    assert_every_item(&answer);
    assert_schema_valid(&answer);
    let pdf = pdf_text(file(&files, "letter.pdf"));
    assert!(pdf.contains("Access to your personal data"), "{pdf}");
    assert!(pdf.contains("Heidestraße 17"), "umlauts survive: {pdf}");
    let csv = String::from_utf8(file(&files, "data/contact.email.csv").to_vec()).unwrap();
    assert!(csv.contains("erika.mustermann@example.org"), "{csv}");
    // The redacted value is nowhere in the package.
    for (name, content) in &files {
        let text = if name.ends_with(".pdf") {
            pdf_text(content)
        } else {
            String::from_utf8_lossy(content).into_owned()
        };
        assert!(
            !text.contains("Max Mustermann"),
            "{name} leaks the redacted value"
        );
        assert!(!text.contains("7654321"), "{name} leaks the redacted value");
    }

    // Frozen: changing templates, the organization or trying to redact again does not
    // change it; downloading again gives the same bytes.
    gql(
        &app,
        Role::Dpo,
        "mutation { setLetterTemplate(input: {language: EN, format: TEXT, body: \"changed {{ controller.name }}\"}) { template { isCustom } } }",
        json!({}),
    )
    .await;
    let body = app
        .gql(
            app.key(Role::Reviewer),
            "mutation($id: ID!) { unredactRecord(input: {recordId: $id}) { request { id } } }",
            json!({"id": ticket}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    let v = version(&app, &request).await;
    let body = app
        .gql(
            app.key(Role::Dpo),
            "mutation($id: ID!, $v: Int!) { approveRequest(input: {requestId: $id, version: $v}) { request { state } } }",
            json!({"id": request, "v": v}),
        )
        .await;
    assert_code(&body, "INVALID_TRANSITION");
    let again =
        gql(&app, Role::Agent, PACKAGE, json!({"id": request})).await["node"]["answerPackage"]
            .clone();
    assert_eq!(again["digest"], digest.as_str());
    assert_eq!(again["id"], package["id"]);
    assert_eq!(download(&app, &again).await, zip);
    // Integrators do not see the collected data, so not the package either.
    let body = app
        .gql(
            app.key(Role::Integrator),
            "{ requests(first: 10) { nodes { state answerPackage { digest } } } }",
            json!({}),
        )
        .await;
    assert_eq!(body["data"]["requests"]["nodes"][0]["state"], "APPROVED");
    assert!(
        body["data"]["requests"]["nodes"][0]["answerPackage"].is_null(),
        "{body}"
    );
    assert_code(&body, "FORBIDDEN");

    // Sent back after approval: the package no longer applies; the next approval
    // freezes a new one (with the changed template), the old one is kept unchanged.
    let data = gql(
        &app,
        Role::Reviewer,
        "mutation($id: ID!, $v: Int!) { requestChanges(input: {requestId: $id, version: $v, reason: \"Bitte die Rechnung ergänzen\"}) { request { state answerPackage { id } } } }",
        json!({"id": request, "v": v}),
    )
    .await;
    assert_eq!(
        data["requestChanges"]["request"]["state"],
        "CHANGES_REQUESTED"
    );
    assert!(data["requestChanges"]["request"]["answerPackage"].is_null());
    let v = version(&app, &request).await;
    gql(
        &app,
        Role::Agent,
        "mutation($id: ID!, $v: Int!) { resumeCollection(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": request, "v": v}),
    )
    .await;
    let v = version(&app, &request).await;
    gql(
        &app,
        Role::Agent,
        "mutation($id: ID!, $v: Int!) { submitForReview(input: {requestId: $id, version: $v}) { request { state } } }",
        json!({"id": request, "v": v}),
    )
    .await;
    let second = approve(&app, &request).await;
    assert_ne!(second["id"], package["id"]);
    let files = unzip(&download(&app, &second).await);
    assert!(String::from_utf8_lossy(file(&files, "letter.txt")).starts_with("changed "));
    let old = app
        .workflow
        .answer_package_file(
            &crate::requests::principal(&app, Role::Reviewer),
            api::graphql::ids::decode(
                &async_graphql::ID(package["id"].as_str().unwrap().to_owned()),
                "AnswerPackage",
                &["id"],
            )
            .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(old.bytes, zip, "the first package is kept as it was frozen");
}
e2e!(
    demo_answer,
    the_demo_answer_is_complete_redacted_and_frozen_at_approval
);

async fn a_test_request_gets_the_same_answer_marked_as_a_test(app: TestApp) {
    let _shop = demo_register(&app).await;
    let (request, task) = collecting(&app, "test.kunde@example.org", true).await;
    collect_and_submit(
        &app,
        &request,
        &task,
        &[("customers.email", "test.kunde@example.org")],
    )
    .await;
    let preview =
        gql(&app, Role::Dpo, PREVIEW, json!({"id": request})).await["answerPreview"].clone();
    assert_eq!(preview["isTest"], true);
    assert_eq!(preview["document"]["isTest"], true);
    assert_every_item(&preview["document"]);
    assert!(
        preview["letterText"]
            .as_str()
            .unwrap()
            .contains("TESTANFRAGE")
    );
    assert!(
        preview["letterHtml"]
            .as_str()
            .unwrap()
            .contains("TESTANFRAGE")
    );
    let package = approve(&app, &request).await;
    assert_eq!(package["isTest"], true);
    assert_eq!(package["language"], "DE");
    let files = unzip(&download(&app, &package).await);
    let manifest: Value = serde_json::from_slice(file(&files, "manifest.json")).unwrap();
    assert_eq!(manifest["isTest"], true);
    assert!(pdf_text(file(&files, "letter.pdf")).contains("TESTANFRAGE"));
    let answer: Value = serde_json::from_slice(file(&files, "answer.json")).unwrap();
    assert_eq!(answer["isTest"], true);
    assert_eq!(answer["categories"][0]["key"], "contact.email");
    assert_schema_valid(&answer);
}
e2e!(
    test_request_answer,
    a_test_request_gets_the_same_answer_marked_as_a_test
);

async fn hostile_templates_are_refused_quickly_and_nothing_is_saved(app: TestApp) {
    let set = "mutation($l: AnswerLanguage!, $f: LetterFormat!, $b: String!) { setLetterTemplate(input: {language: $l, format: $f, body: $b}) { template { isCustom } } }";
    for (body, why) in [
        ("x".repeat(100_001), "longer than 100,000 characters"),
        ("{% include \"letter.txt\" %}".to_owned(), "includes itself"),
        ("{% include \"/etc/passwd\" %}".to_owned(), "no loader"),
        ("{% extends \"../../etc/hosts\" %}".to_owned(), "no loader"),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}"
                .to_owned(),
            "runs out of fuel or output",
        ),
        (
            "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}".to_owned(),
            "recursion",
        ),
        ("{{ 'x' * 50000000 }}".to_owned(), "output too large"),
        ("{{ controller.name | nosuch }}".to_owned(), "unknown filter"),
    ] {
        for format in ["HTML", "TEXT"] {
            let started = std::time::Instant::now();
            let body = app
                .gql(
                    app.key(Role::Admin),
                    set,
                    json!({"l": "EN", "f": format, "b": body}),
                )
                .await;
            assert_code(&body, "VALIDATION");
            assert_eq!(
                body["errors"][0]["extensions"]["fields"][0]["path"],
                json!(["input", "body"]),
                "{why}: {body}"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{why}: refused within bounded time"
            );
        }
    }
    let templates = gql(
        &app,
        Role::Auditor,
        "{ letterTemplates { isCustom body } }",
        json!({}),
    )
    .await;
    let templates = templates["letterTemplates"].as_array().unwrap();
    assert_eq!(templates.len(), 4, "de/en x HTML/TEXT");
    assert!(templates.iter().all(|t| t["isCustom"] == false));
}
e2e!(
    hostile_templates,
    hostile_templates_are_refused_quickly_and_nothing_is_saved
);
