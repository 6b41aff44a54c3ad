//! A lawyer's redaction survives re-collection of the same value at the same place;
//! redactions that no longer apply are named in the timeline as dropped, and the
//! reviewer sees what changed since they sent the request back (issue 10, section 5).

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, assert_code, e2e, workflow_id};

const RECORDS: &str = "records { id location value redaction { reason } changeSinceLastReview } \
    changesSinceLastReview { reviewedAt newCount changedCount unchangedCount \
    gone { previousRecordId location sourceName wasRedacted } }";

struct Flow {
    request: String,
    task: String,
    field: String,
}

async fn gql(app: &TestApp, role: Role, query: &str, vars: Value) -> Value {
    app.gql_ok(app.key(role), query, vars).await
}

async fn transition(app: &TestApp, role: Role, name: &str, input: Value) -> Value {
    let ty = match name {
        "requestChanges" => "ReasonedTransition",
        "verifyIdentity" => "VerifyIdentity",
        "redactRecord" => "RedactRecord",
        "unredactRecord" => "UnredactRecord",
        "claimRequest" => "RequestId",
        _ => "Transition",
    };
    gql(
        app,
        role,
        &format!("mutation($i: {ty}Input!) {{ {name}(input: $i) {{ request {{ version state {RECORDS} }} }} }}"),
        json!({"i": input}),
    )
    .await[name]["request"]
        .clone()
}

/// A mapped source, a request verified by staff, its one collection task.
async fn collecting(app: &TestApp) -> Flow {
    let source = gql(
        app,
        Role::Admin,
        "mutation { createDataSource(input: {name: \"CRM\", connectorKind: MANUAL, connectorConfig: {contact: \"crm-team@example.com\"}}) { dataSource { id } } }",
        json!({}),
    )
    .await["createDataSource"]["dataSource"]["id"]
        .clone();
    let field = gql(
        app,
        Role::Admin,
        "mutation($s: ID!) { createDataField(input: {sourceId: $s, location: \"contacts.email\", erasureStrategy: DELETE_ROW, identifiesSubject: true, identityType: EMAIL}) { dataField { id } } }",
        json!({"s": source}),
    )
    .await["createDataField"]["dataField"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let request = gql(
        app,
        Role::Integrator,
        "mutation { submitRequest(input: {kind: ACCESS, channel: WEB_FORM, identities: [{kind: EMAIL, value: \"erika@example.com\"}]}) { request { id } } }",
        json!({}),
    )
    .await["submitRequest"]["request"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    transition(
        app,
        Role::Agent,
        "verifyIdentity",
        json!({"requestId": request, "version": 1, "method": "DOCUMENT_CHECK", "evidence": "ID card"}),
    )
    .await;
    let task = gql(
        app,
        Role::Dpo,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { tasks { id } } } }",
        json!({"id": request}),
    )
    .await["node"]["tasks"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Flow {
        request,
        task,
        field,
    }
}

/// Completes the task with `values` (location -> value; `contacts.email` is the
/// mapped field) and submits for review; returns the request as the reviewer sees it.
async fn collect_and_submit(app: &TestApp, flow: &Flow, values: &[(&str, &str)]) -> Value {
    collect_named(app, flow, values, true).await
}

/// Like [`collect_and_submit`]; with `by_field` false every value is named by its
/// location only, the mapped field's too.
async fn collect_named(
    app: &TestApp,
    flow: &Flow,
    values: &[(&str, &str)],
    by_field: bool,
) -> Value {
    let values: Vec<Value> = values
        .iter()
        .map(|(location, value)| {
            if by_field && *location == "contacts.email" {
                json!({"fieldId": flow.field, "value": value})
            } else {
                json!({"location": location, "value": value})
            }
        })
        .collect();
    let version = gql(
        app,
        Role::Dpo,
        "mutation($t: ID!, $v: [CollectedValueInput!]!) { completeTask(input: {taskId: $t, values: $v}) { request { version } } }",
        json!({"t": flow.task, "v": values}),
    )
    .await["completeTask"]["request"]["version"]
        .clone();
    transition(
        app,
        Role::Dpo,
        "submitForReview",
        json!({"requestId": flow.request, "version": version}),
    )
    .await
}

fn record<'a>(request: &'a Value, location: &str) -> &'a Value {
    request["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["location"] == location)
        .unwrap_or_else(|| panic!("a record at {location}: {request:#}"))
}

/// The reviewer redacts the note and sends the request back; collection resumes.
async fn redact_note_and_send_back(app: &TestApp, flow: &Flow, reviewed: &Value) {
    redact_and_send_back(app, flow, reviewed, "contacts.note").await
}

async fn redact_and_send_back(app: &TestApp, flow: &Flow, reviewed: &Value, location: &str) {
    assert_eq!(reviewed["state"], "IN_REVIEW");
    assert!(
        reviewed["changesSinceLastReview"].is_null(),
        "never sent back yet: {reviewed:#}"
    );
    assert!(record(reviewed, location)["changeSinceLastReview"].is_null());
    let note = record(reviewed, location)["id"].clone();
    let r = transition(
        app,
        Role::Reviewer,
        "redactRecord",
        json!({"recordId": note, "reason": "call centre note, not the subject's data"}),
    )
    .await;
    // A decision stands until it is withdrawn: redacting again does not replace the
    // reason, and withdrawing a redaction that does not exist is no silent success.
    // Neither changes the request.
    let again = app
        .gql(
            app.key(Role::Reviewer),
            "mutation($id: ID!) { redactRecord(input: {recordId: $id, reason: \"another reason\"}) { request { version } } }",
            json!({"id": note}),
        )
        .await;
    assert_code(&again, "CONFLICT");
    assert!(
        again["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("call centre note")),
        "the conflict names the standing reason: {again}"
    );
    // Fetched by its ID, the value carries its redaction as in the request's list.
    let by_id = app
        .gql_ok(
            app.key(Role::Reviewer),
            "query($id: ID!) { node(id: $id) { ... on CollectedRecord { location redaction { reason } } } }",
            json!({"id": note}),
        )
        .await;
    assert_eq!(
        by_id["node"],
        json!({"location": location, "redaction": {"reason": "call centre note, not the subject's data"}})
    );
    let unredacted = reviewed["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rec| rec["location"] != location)
        .expect("another record")["id"]
        .clone();
    let none = app
        .gql(
            app.key(Role::Reviewer),
            "mutation($id: ID!) { unredactRecord(input: {recordId: $id}) { request { version } } }",
            json!({"id": unredacted}),
        )
        .await;
    assert_code(&none, "CONFLICT");
    let now = gql(
        app,
        Role::Reviewer,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { version } } }",
        json!({"id": flow.request}),
    )
    .await;
    assert_eq!(now["node"]["version"], r["version"], "nothing changed");
    assert_eq!(
        record(&r, location)["redaction"]["reason"],
        "call centre note, not the subject's data"
    );
    // Withdrawn and given again: the audit log names each action as what it was.
    let r = transition(
        app,
        Role::Reviewer,
        "unredactRecord",
        json!({"recordId": note}),
    )
    .await;
    assert!(record(&r, location)["redaction"].is_null());
    let r = transition(
        app,
        Role::Reviewer,
        "redactRecord",
        json!({"recordId": note, "reason": "call centre note, not the subject's data"}),
    )
    .await;
    let audited = app
        .gql_ok(
            app.key(Role::Auditor),
            "query($id: String!) { auditEvents(last: 10, filter: {objectId: $id}) { nodes { operation outcome } } }",
            json!({"id": workflow_id(&note).to_string()}),
        )
        .await;
    let ops: Vec<(&str, &str)> = audited["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["outcome"] == "SUCCESS")
        .map(|n| {
            (
                n["operation"].as_str().unwrap(),
                n["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ops.iter().map(|(op, _)| *op).collect::<Vec<_>>(),
        ["redactRecord", "unredactRecord", "redactRecord"],
        "{audited:#}"
    );
    let r = transition(
        app,
        Role::Reviewer,
        "requestChanges",
        json!({"requestId": flow.request, "version": r["version"], "reason": "please search the CRM again"}),
    )
    .await;
    assert_eq!(r["state"], "CHANGES_REQUESTED");
    let r = transition(
        app,
        Role::Dpo,
        "resumeCollection",
        json!({"requestId": flow.request, "version": r["version"]}),
    )
    .await;
    assert_eq!(r["state"], "COLLECTING");
}

async fn timeline(app: &TestApp, flow: &Flow) -> Vec<Value> {
    gql(
        app,
        Role::Reviewer,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { timeline(first: 100) { nodes { kind message } } } } }",
        json!({"id": flow.request}),
    )
    .await["node"]["timeline"]["nodes"]
        .as_array()
        .unwrap()
        .clone()
}

const FIRST: &[(&str, &str)] = &[
    ("contacts.email", "erika@example.com"),
    ("contacts.note", "Rückruf erbeten, Tel. von Herrn Weiß"),
    ("contacts.phone", "+49301234567"),
];

async fn a_redaction_survives_collecting_the_same_value_again(app: TestApp) {
    let flow = collecting(&app).await;
    let reviewed = collect_and_submit(&app, &flow, FIRST).await;
    redact_note_and_send_back(&app, &flow, &reviewed).await;

    // The same values again (in another order), then resubmitted.
    let mut again = FIRST.to_vec();
    again.reverse();
    let r = collect_and_submit(&app, &flow, &again).await;
    assert_eq!(r["state"], "IN_REVIEW");
    let note = record(&r, "contacts.note");
    assert_eq!(
        note["redaction"]["reason"], "call centre note, not the subject's data",
        "the redaction is kept: {r:#}"
    );
    for location in ["contacts.email", "contacts.note", "contacts.phone"] {
        assert_eq!(record(&r, location)["changeSinceLastReview"], "UNCHANGED");
    }
    let changes = &r["changesSinceLastReview"];
    assert!(changes["reviewedAt"].is_string());
    assert_eq!(
        (
            changes["newCount"].clone(),
            changes["changedCount"].clone(),
            changes["unchangedCount"].clone(),
            changes["gone"].clone()
        ),
        (json!(0), json!(0), json!(3), json!([]))
    );
    let entries = timeline(&app, &flow).await;
    assert!(
        !entries.iter().any(|e| e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("dropped")),
        "nothing dropped: {entries:#?}"
    );
    assert!(entries.iter().any(|e| {
        e["kind"] == "TASK"
            && e["message"]
                .as_str()
                .unwrap_or_default()
                .contains("1 redaction(s) kept")
    }));
}
e2e!(
    redaction_survives_recollection,
    a_redaction_survives_collecting_the_same_value_again
);

async fn a_changed_value_drops_its_redaction_and_gone_records_are_reported(app: TestApp) {
    let flow = collecting(&app).await;
    let reviewed = collect_and_submit(&app, &flow, FIRST).await;
    let old_phone = record(&reviewed, "contacts.phone")["id"].clone();
    redact_note_and_send_back(&app, &flow, &reviewed).await;

    // The note changed, the phone number is gone, a fax number is new.
    let r = collect_and_submit(
        &app,
        &flow,
        &[
            ("contacts.email", "erika@example.com"),
            ("contacts.note", "Rückruf erledigt"),
            ("contacts.fax", "+49301234599"),
        ],
    )
    .await;
    let note = record(&r, "contacts.note");
    assert!(
        note["redaction"].is_null(),
        "another value: the redaction no longer applies: {r:#}"
    );
    assert_eq!(note["changeSinceLastReview"], "CHANGED");
    assert_eq!(
        record(&r, "contacts.email")["changeSinceLastReview"],
        "UNCHANGED"
    );
    assert_eq!(record(&r, "contacts.fax")["changeSinceLastReview"], "NEW");
    let changes = &r["changesSinceLastReview"];
    assert_eq!(
        (
            changes["newCount"].clone(),
            changes["changedCount"].clone(),
            changes["unchangedCount"].clone()
        ),
        (json!(1), json!(1), json!(1))
    );
    assert_eq!(
        changes["gone"],
        json!([{"previousRecordId": old_phone, "location": "contacts.phone", "sourceName": "CRM", "wasRedacted": false}])
    );
    let entries = timeline(&app, &flow).await;
    let dropped: Vec<&str> = entries
        .iter()
        .filter(|e| e["kind"] == "REDACTION")
        .filter_map(|e| e["message"].as_str())
        .filter(|m| m.contains("dropped"))
        .collect();
    assert_eq!(dropped.len(), 1, "{entries:#?}");
    assert!(
        dropped[0].contains("contacts.note")
            && dropped[0].contains("call centre note, not the subject's data"),
        "the timeline names the dropped redaction: {}",
        dropped[0]
    );

    // A redacted record that is gone is reported as such.
    let note = record(&r, "contacts.note")["id"].clone();
    let _ = transition(
        &app,
        Role::Reviewer,
        "redactRecord",
        json!({"recordId": note, "reason": "still not the subject's data"}),
    )
    .await;
    let version = gql(
        &app,
        Role::Reviewer,
        "query($id: ID!) { node(id: $id) { ... on SubjectRequest { version } } }",
        json!({"id": flow.request}),
    )
    .await["node"]["version"]
        .clone();
    let r = transition(
        &app,
        Role::Reviewer,
        "requestChanges",
        json!({"requestId": flow.request, "version": version, "reason": "once more"}),
    )
    .await;
    transition(
        &app,
        Role::Dpo,
        "resumeCollection",
        json!({"requestId": flow.request, "version": r["version"]}),
    )
    .await;
    let r = collect_and_submit(&app, &flow, &[("contacts.email", "erika@example.com")]).await;
    let gone = r["changesSinceLastReview"]["gone"].as_array().unwrap();
    let note_gone = gone
        .iter()
        .find(|g| g["location"] == "contacts.note")
        .expect("the note is gone");
    assert_eq!(note_gone["wasRedacted"], true);
    assert_eq!(gone.len(), 2, "note and fax are gone: {gone:#?}");
}
e2e!(
    changed_and_gone_records,
    a_changed_value_drops_its_redaction_and_gone_records_are_reported
);

/// A value named by its location is the field mapped at that location: re-collecting
/// the mapped field's value by location keeps the redaction made on it.
async fn a_redaction_survives_when_the_same_place_is_named_by_location(app: TestApp) {
    let flow = collecting(&app).await;
    let reviewed = collect_and_submit(&app, &flow, FIRST).await;
    redact_and_send_back(&app, &flow, &reviewed, "contacts.email").await;
    let r = collect_named(&app, &flow, FIRST, false).await;
    let email = record(&r, "contacts.email");
    assert_eq!(
        email["redaction"]["reason"], "call centre note, not the subject's data",
        "the redaction is kept: {r:#}"
    );
    assert_eq!(email["changeSinceLastReview"], "UNCHANGED", "{r:#}");
    assert_eq!(r["changesSinceLastReview"]["gone"], json!([]), "{r:#}");
}
e2e!(
    redaction_survives_by_location,
    a_redaction_survives_when_the_same_place_is_named_by_location
);
