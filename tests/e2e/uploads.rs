//! Manual collection by upload (issue 11): a steward completes a task with JSON or
//! CSV records checked against the source's recordSchema, or with a file; every
//! violation comes back as VALIDATION at its path, never with the value.

use base64::Engine;
use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e, error_paths};

const UPLOAD: &str = "mutation($i: UploadTaskResultInput!) { uploadTaskResult(input: $i) { \
    task { state note completedById files { id fileName mediaType sizeBytes sha256 downloadUrl } } \
    request { version state recordsCount records { id location value redaction { reason } } \
    attachments { fileName } } } }";

/// A value that must never come back in an error.
const MARKER: &str = "Geheim-4711";

struct Flow {
    request: String,
    task: String,
}

/// A MANUAL source with a record schema and two mapped fields, and a request in
/// COLLECTING with its one task.
async fn collecting(app: &TestApp, record_schema: Value) -> Flow {
    let admin = app.key(Role::Admin);
    let source = app
        .gql_ok(
            admin,
            "mutation($c: JSON!) { createDataSource(input: {name: \"Paper files\", connectorKind: MANUAL, connectorConfig: $c}) { dataSource { id } } }",
            json!({"c": {"contact": "office@example.com", "recordSchema": record_schema}}),
        )
        .await["createDataSource"]["dataSource"]["id"]
        .clone();
    for (location, identity) in [
        ("email", "identityType: EMAIL, identifiesSubject: true"),
        ("phone", "identifiesSubject: false"),
    ] {
        app.gql_ok(
            admin,
            &format!("mutation($s: ID!) {{ createDataField(input: {{sourceId: $s, location: \"{location}\", erasureStrategy: DELETE_ROW, {identity}}}) {{ dataField {{ id }} }} }}"),
            json!({"s": source}),
        )
        .await;
    }
    let request = app
        .gql_ok(
            app.key(Role::Integrator),
            "mutation { submitRequest(input: {kind: ACCESS, channel: LETTER, identities: [{kind: EMAIL, value: \"erika@example.com\"}]}) { request { id } } }",
            json!({}),
        )
        .await["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let verified = app
        .gql_ok(
            app.key(Role::Agent),
            "mutation($r: ID!) { verifyIdentity(input: {requestId: $r, version: 1, method: DOCUMENT_CHECK, evidence: \"ID card\"}) { request { state tasks { id } } } }",
            json!({"r": request}),
        )
        .await;
    let verified = &verified["verifyIdentity"]["request"];
    assert_eq!(verified["state"], "COLLECTING");
    Flow {
        request,
        task: verified["tasks"][0]["id"].as_str().unwrap().to_owned(),
    }
}

fn schema() -> Value {
    json!({
        "type": "object",
        "required": ["email"],
        "properties": {
            "email": {"type": "string", "minLength": 3},
            "phone": {"type": ["string", "null"]},
            "age": {"type": "integer", "minimum": 0},
            "note": {"type": "string", "maxLength": 10000},
            "born": {"type": "string", "format": "date"}
        }
    })
}

async fn upload(app: &TestApp, role: Role, flow: &Flow, input: Value) -> Value {
    let mut input = input;
    input["taskId"] = json!(flow.task);
    app.gql(app.key(role), UPLOAD, json!({"i": input})).await
}

async fn upload_ok(app: &TestApp, flow: &Flow, input: Value) -> Value {
    let body = upload(app, Role::Steward, flow, input).await;
    assert!(body["errors"].is_null(), "{body:#}");
    body["data"]["uploadTaskResult"].clone()
}

/// The (record key, location, value) of each stored value, sorted.
async fn stored(app: &TestApp, flow: &Flow) -> Vec<(Option<String>, String, String)> {
    let id = api::graphql::ids::decode(
        &async_graphql::ID(flow.request.clone()),
        "SubjectRequest",
        &["id"],
    )
    .unwrap();
    let principal = crate::requests::principal(app, Role::Dpo);
    let mut rows: Vec<_> = app
        .workflow
        .records_of_requests(&principal, &[id])
        .await
        .unwrap()
        .into_iter()
        .map(|(r, value)| (r.record_key, r.location, value))
        .collect();
    rows.sort();
    rows
}

async fn json_csv_and_file_uploads_complete_the_task(app: TestApp) {
    let flow = collecting(&app, schema()).await;

    // JSON: records matched to the fields by location, others kept by name.
    let done = upload_ok(
        &app,
        &flow,
        json!({"format": "JSON", "note": "searched the binder", "content": json!([
            {"email": "erika@example.com", "phone": "+49 30 1234567", "note": "Brief vom 3. März"},
            {"email": "erika.m@example.com", "age": 41, "phone": null}
        ]).to_string()}),
    )
    .await;
    assert_eq!(done["task"]["state"], "DONE");
    assert_eq!(done["task"]["note"], "searched the binder");
    assert_eq!(done["request"]["state"], "COLLECTING");
    assert_eq!(done["request"]["recordsCount"], 5);
    assert_eq!(
        stored(&app, &flow).await,
        [
            (
                Some("upload/0".into()),
                "email".into(),
                "erika@example.com".into()
            ),
            (
                Some("upload/0".into()),
                "note".into(),
                "Brief vom 3. März".into()
            ),
            (
                Some("upload/0".into()),
                "phone".into(),
                "+49 30 1234567".into()
            ),
            (Some("upload/1".into()), "age".into(), "41".into()),
            (
                Some("upload/1".into()),
                "email".into(),
                "erika.m@example.com".into()
            ),
        ]
    );
    let version = done["request"]["version"].as_i64().unwrap();

    // CSV replaces it; cells are typed by the record schema, empty cells left out,
    // a spreadsheet formula is stored as the text it is.
    let csv = "email,age,note\nerika@example.com,42,\"=HYPERLINK(\"\"http://x\"\")\"\nerika@example.com,,Zweitakte\n";
    let done = upload_ok(&app, &flow, json!({"format": "CSV", "content": csv})).await;
    assert!(done["request"]["version"].as_i64().unwrap() > version);
    assert_eq!(
        stored(&app, &flow).await,
        [
            (Some("upload/0".into()), "age".into(), "42".into()),
            (
                Some("upload/0".into()),
                "email".into(),
                "erika@example.com".into()
            ),
            (
                Some("upload/0".into()),
                "note".into(),
                "=HYPERLINK(\"http://x\")".into()
            ),
            (
                Some("upload/1".into()),
                "email".into(),
                "erika@example.com".into()
            ),
            (Some("upload/1".into()), "note".into(), "Zweitakte".into()),
        ]
    );

    // A file is kept sealed like an attachment, as one record of the task; it is not
    // one of the request's own attachments.
    let letter = "Sehr geehrte Frau Mustermann,\n…\n".as_bytes();
    let done = upload_ok(
        &app,
        &flow,
        json!({"format": "FILE", "fileName": "brief.txt", "mediaType": "text/plain",
               "content": base64::engine::general_purpose::STANDARD.encode(letter)}),
    )
    .await;
    let files = done["task"]["files"].as_array().unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(
        (files[0]["fileName"].clone(), files[0]["sizeBytes"].clone()),
        (json!("brief.txt"), json!(letter.len()))
    );
    assert_eq!(done["request"]["attachments"], json!([]));
    let rows = stored(&app, &flow).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].0.as_deref(), rows[0].1.as_str()),
        (Some("upload/file"), "file")
    );
    let description: Value = serde_json::from_str(&rows[0].2).unwrap();
    assert_eq!(description["fileName"], "brief.txt");
    assert_eq!(description["sha256"], files[0]["sha256"]);
    let url = files[0]["downloadUrl"].as_str().unwrap();
    let url = if url.starts_with("http") {
        url.to_owned()
    } else {
        app.url(url)
    };
    let resp = app.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), letter);

    // Fetched by its ID, the file needs what `RequestTask.files` needs: the
    // integrator, who may read requests but not their data, gets FORBIDDEN and
    // nothing of it, through `node` as through `nodes`.
    let by_id = "query($id: ID!) { node(id: $id) { ... on RequestAttachment { fileName sha256 } } \
                 nodes(ids: [$id]) { ... on RequestAttachment { fileName } } }";
    let vars = json!({"id": files[0]["id"]});
    let denied = app
        .gql(app.key(Role::Integrator), by_id, vars.clone())
        .await;
    assert_code(&denied, "FORBIDDEN");
    assert!(!denied.to_string().contains("brief.txt"), "{denied}");
    let read = app.gql_ok(app.key(Role::Steward), by_id, vars).await;
    assert_eq!(read["node"]["fileName"], "brief.txt");
    assert_eq!(read["node"]["sha256"], files[0]["sha256"]);
    assert_eq!(read["nodes"][0]["fileName"], "brief.txt");

    // Records again replace the file (and its content).
    let done = upload_ok(
        &app,
        &flow,
        json!({"format": "JSON", "content": "{\"email\": \"erika@example.com\"}"}),
    )
    .await;
    assert_eq!(done["task"]["files"], json!([]));
    assert_eq!(done["request"]["recordsCount"], 1);
    let gone = app.client.get(&url).send().await.unwrap();
    assert_eq!(gone.status(), 404);

    // On the timeline and in the audit log.
    let timeline = app
        .gql_ok(
            app.key(Role::Dpo),
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { timeline(first: 100) { nodes { kind message } } } } }",
            json!({"id": flow.request}),
        )
        .await;
    let uploads: Vec<&str> = timeline["node"]["timeline"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "TASK")
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert_eq!(uploads.len(), 4, "{uploads:#?}");
    assert!(
        uploads[0].contains("by upload (JSON): 2 record(s), 5 value(s)"),
        "{uploads:#?}"
    );
    assert!(uploads[2].contains("by upload (FILE)"), "{uploads:#?}");
    assert!(
        !uploads.iter().any(|m| m.contains("brief.txt")),
        "no file names"
    );
    let audit = app
        .gql_ok(
            app.key(Role::Auditor),
            "{ auditEvents(first: 100) { nodes { operation } } }",
            json!({}),
        )
        .await;
    let operations = audit["auditEvents"]["nodes"].as_array().unwrap();
    assert_eq!(
        operations
            .iter()
            .filter(|e| e["operation"] == "uploadTaskResult")
            .count(),
        4
    );
}
e2e!(
    uploads_complete_tasks,
    json_csv_and_file_uploads_complete_the_task
);

async fn a_redaction_survives_the_same_upload_again(app: TestApp) {
    let flow = collecting(&app, schema()).await;
    let records =
        json!([{"email": "erika@example.com", "note": "Anruf von Herrn Weiß"}]).to_string();
    let done = upload_ok(&app, &flow, json!({"format": "JSON", "content": records})).await;
    let r = app
        .gql_ok(
            app.key(Role::Dpo),
            "mutation($i: TransitionInput!) { submitForReview(input: $i) { request { version } } }",
            json!({"i": {"requestId": flow.request, "version": done["request"]["version"]}}),
        )
        .await;
    let note = done["request"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["location"] == "note")
        .unwrap()["id"]
        .clone();
    let redacted = app
        .gql_ok(
            app.key(Role::Reviewer),
            "mutation($r: ID!) { redactRecord(input: {recordId: $r, reason: \"a third person\"}) { request { version } } }",
            json!({"r": note}),
        )
        .await;
    let current = redacted["redactRecord"]["request"]["version"].clone();
    assert!(current.as_i64() >= r["submitForReview"]["request"]["version"].as_i64());
    let sent_back = app
        .gql_ok(
            app.key(Role::Reviewer),
            "mutation($i: ReasonedTransitionInput!) { requestChanges(input: $i) { request { version } } }",
            json!({"i": {"requestId": flow.request, "version": current, "reason": "search again"}}),
        )
        .await;
    app.gql_ok(
        app.key(Role::Dpo),
        "mutation($i: TransitionInput!) { resumeCollection(input: $i) { request { state } } }",
        json!({"i": {"requestId": flow.request, "version": sent_back["requestChanges"]["request"]["version"]}}),
    )
    .await;
    let again = upload_ok(
        &app,
        &flow,
        json!({"format": "CSV", "content": "note,email\nAnruf von Herrn Weiß,erika@example.com\n"}),
    )
    .await;
    let note = again["request"]["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["location"] == "note")
        .unwrap()
        .clone();
    assert_eq!(note["redaction"]["reason"], "a third person", "{again:#}");
}
e2e!(
    upload_keeps_redactions,
    a_redaction_survives_the_same_upload_again
);

async fn hostile_uploads_get_coded_errors_naming_the_path(app: TestApp) {
    let flow = collecting(&app, schema()).await;
    let refused = |body: &Value| {
        assert_code(body, "VALIDATION");
        assert!(
            !body.to_string().contains(MARKER),
            "an error repeats the value: {body:#}"
        );
    };

    // Not JSON, not records.
    for content in [
        "",
        "[{\"email\": ",
        "\"just text\"",
        "{\"a\": 1,}",
        "[1, 2]",
    ] {
        let body = upload(
            &app,
            Role::Steward,
            &flow,
            json!({"format": "JSON", "content": content}),
        )
        .await;
        refused(&body);
        assert!(
            error_paths(&body)
                .iter()
                .all(|p| p.starts_with("input.content")),
            "{body:#}"
        );
    }

    // Wrong types and missing properties: each violation at its path.
    let content = json!([
        {"email": MARKER, "age": MARKER},
        {"phone": 4711},
        {"email": "ok@example.com", "age": -1, "note": "x".repeat(10_001)},
    ])
    .to_string();
    let body = upload(
        &app,
        Role::Steward,
        &flow,
        json!({"format": "JSON", "content": content}),
    )
    .await;
    refused(&body);
    let mut got = error_paths(&body);
    got.sort();
    assert_eq!(
        got,
        [
            "input.content.0.age",
            "input.content.1.email",
            "input.content.1.phone",
            "input.content.2.age",
            "input.content.2.note",
            "input.content.2.note",
        ],
        "{body:#}"
    );

    // A property named twice (JSON would silently keep the last one), a date the
    // schema's `format` refuses, a control character: each named, nothing stored.
    for (content, path, says) in [
        (
            r#"[{"email": "a@example.com", "email": "b@example.com"}]"#,
            "input.content",
            "`email` twice",
        ),
        (
            r#"[{"email": "a@example.com", "born": "31.02.2024"}]"#,
            "input.content.0.born",
            "date",
        ),
        (
            r#"[{"email": "a@example.com", "note": "bell \u0007 and nul \u0000"}]"#,
            "input.content.0.note",
            "control characters",
        ),
    ] {
        let body = upload(
            &app,
            Role::Steward,
            &flow,
            json!({"format": "JSON", "content": content}),
        )
        .await;
        refused(&body);
        assert_eq!(error_paths(&body), [path], "{content}: {body:#}");
        assert!(body.to_string().contains(says), "{content}: {body:#}");
    }

    // CSV with ragged rows, a bad header and values of the wrong type.
    let body = upload(
        &app,
        Role::Steward,
        &flow,
        json!({"format": "CSV", "content": format!("email,age\nok@example.com,{MARKER}\nonly-one\na@b.c,1,extra\n")}),
    )
    .await;
    refused(&body);
    assert_eq!(
        error_paths(&body),
        ["input.content.1", "input.content.2", "input.content.0.age"],
        "{body:#}"
    );
    let body = upload(
        &app,
        Role::Steward,
        &flow,
        json!({"format": "CSV", "content": "email,,email\na,b,c\n"}),
    )
    .await;
    refused(&body);
    assert_eq!(
        error_paths(&body),
        ["input.content.header.1", "input.content.header.2"]
    );

    // 10k rows: refused as a whole, quickly, with a hint.
    let rows: String = (0..10_000)
        .map(|i| format!("user{i}@example.com,{i}\n"))
        .collect();
    let body = upload(
        &app,
        Role::Steward,
        &flow,
        json!({"format": "CSV", "content": format!("email,age\n{rows}")}),
    )
    .await;
    refused(&body);
    assert_eq!(error_paths(&body), ["input.content"]);
    assert!(body.to_string().contains("FILE"), "{body:#}");
    // 10k bad rows in JSON: the list of problems is bounded.
    let bad: Vec<Value> = (0..4_000).map(|_| json!({"age": "x"})).collect();
    let body = upload(
        &app,
        Role::Steward,
        &flow,
        json!({"format": "JSON", "content": Value::Array(bad).to_string()}),
    )
    .await;
    refused(&body);
    let listed = error_paths(&body);
    assert!(listed.len() <= 101, "{}", listed.len());
    assert_eq!(listed.last().map(String::as_str), Some("input.content"));

    // Files: base64, a name, not empty.
    for (input, path) in [
        (
            json!({"format": "FILE", "fileName": "a.pdf", "content": "%%%"}),
            "input.content",
        ),
        (
            json!({"format": "FILE", "content": "aGFsbG8="}),
            "input.fileName",
        ),
        (
            json!({"format": "FILE", "fileName": "a.pdf", "content": ""}),
            "input.content",
        ),
        (
            json!({"format": "FILE", "fileName": "a", "mediaType": "pdf", "content": "aGFsbG8="}),
            "input.mediaType",
        ),
        (
            json!({"format": "JSON", "mediaType": "text/plain", "content": "[]"}),
            "input.mediaType",
        ),
    ] {
        let body = upload(&app, Role::Steward, &flow, input.clone()).await;
        refused(&body);
        assert_eq!(error_paths(&body), [path], "{input}: {body:#}");
    }

    // Nothing was stored by any refused upload; a big valid one goes through.
    assert!(stored(&app, &flow).await.is_empty());
    let rows: String = (0..2_000)
        .map(|i| format!("user{i}@example.com,{i}\n"))
        .collect();
    let done = upload_ok(
        &app,
        &flow,
        json!({"format": "CSV", "content": format!("email,age\n{rows}")}),
    )
    .await;
    assert_eq!(done["request"]["recordsCount"], 4_000);

    // Who and when: a role without request:collect, a bad id, the wrong state.
    let body = upload(
        &app,
        Role::Integrator,
        &flow,
        json!({"format": "JSON", "content": "[]"}),
    )
    .await;
    assert_code(&body, "FORBIDDEN");
    let body = app
        .gql(
            app.key(Role::Steward),
            UPLOAD,
            json!({"i": {"taskId": "bm9wZQ", "format": "JSON", "content": "[]"}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    app.gql_ok(
        app.key(Role::Dpo),
        "mutation($i: TransitionInput!) { submitForReview(input: $i) { request { state } } }",
        json!({"i": {"requestId": flow.request, "version": done["request"]["version"]}}),
    )
    .await;
    let body = upload(
        &app,
        Role::Steward,
        &flow,
        json!({"format": "JSON", "content": "[]"}),
    )
    .await;
    assert_code(&body, "CONFLICT");
}
e2e!(
    hostile_uploads,
    hostile_uploads_get_coded_errors_naming_the_path
);

async fn a_record_schema_must_be_a_schema(app: TestApp) {
    let body = app
        .gql(
            app.key(Role::Admin),
            "mutation($c: JSON!) { createDataSource(input: {name: \"Binder\", connectorKind: MANUAL, connectorConfig: $c}) { dataSource { id } } }",
            json!({"c": {"contact": "office@example.com", "recordSchema": {"type": "no-such-type"}}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(error_paths(&body), ["input.connectorConfig.recordSchema"]);
    // The same for an HTTP source's templates and paths.
    let body = app
        .gql(
            app.key(Role::Admin),
            "mutation($c: JSON!) { createDataSource(input: {name: \"CRM\", connectorKind: HTTP, connectorConfig: $c}) { dataSource { id } } }",
            json!({"c": {"baseUrl": "https://crm.example/api", "search": [
                {"identityType": "EMAIL", "path": "/contacts", "records": "data[*]"}]}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let mut got = error_paths(&body);
    got.sort();
    assert_eq!(
        got,
        [
            "input.connectorConfig.search.0",
            "input.connectorConfig.search.0.records"
        ]
    );
}
e2e!(record_schemas_are_checked, a_record_schema_must_be_a_schema);
