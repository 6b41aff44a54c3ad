//! The request workflow end to end, one file per behaviour: the whole path over HTTP
//! and WebSocket; concurrency; deadlines; flags; bulk actions; stalled requests;
//! attachments; stored invariants; page cost; retries. The helpers they share.

mod attachments;
mod bulk;
mod concurrency;
mod deadlines;
mod flags;
mod invariants;
mod retries;
mod stalled;
mod statements;
mod whole_path;

use serde_json::{Value, json};
use workflow::Role;
use workflow::requests::{Fire, RequestEvent};

use crate::common::{TestApp, WsClient};

const REQUEST_FIELDS: &str = "id state version dueDate effectiveDueDate isOverdue possiblyExcessive duplicateOfId allowedEvents \
    identities { kind value verifiedAt } tasks { id kind state sourceName } recordsCount redactionsCount";

/// A manual source with one mapped e-mail field, so requests get one collection task.
pub(crate) async fn mapped_source(app: &TestApp) -> (String, String) {
    let admin = app.key(Role::Admin);
    let source = app
        .gql_ok(
            admin,
            "mutation { createDataSource(input: {name: \"CRM\", connectorKind: MANUAL, connectorConfig: {contact: \"crm-team@example.com\"}}) { dataSource { id } } }",
            json!({}),
        )
        .await["createDataSource"]["dataSource"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let field = app
        .gql_ok(
            admin,
            "mutation($s: ID!) { createDataField(input: {sourceId: $s, location: \"contacts.email\", erasureStrategy: DELETE_ROW, identifiesSubject: true, identityType: EMAIL}) { dataField { id } } }",
            json!({"s": source}),
        )
        .await["createDataField"]["dataField"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (source, field)
}

async fn submit(app: &TestApp, email: &str, extra: Value) -> Value {
    let mut input = json!({
        "kind": "ACCESS", "channel": "WEB_FORM", "text": "Bitte Auskunft nach Art. 15 DSGVO.",
        "identities": [{"kind": "EMAIL", "value": email}],
    });
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    app.gql_ok(
        app.key(Role::Integrator),
        &format!("mutation($i: SubmitRequestInput!) {{ submitRequest(input: $i) {{ created request {{ {REQUEST_FIELDS} }} }} }}"),
        json!({"i": input}),
    )
    .await["submitRequest"]
        .clone()
}

async fn mutate(app: &TestApp, role: Role, name: &str, input: Value) -> Value {
    app.gql(
        app.key(role),
        &format!(
            "mutation($i: {}Input!) {{ {name}(input: $i) {{ request {{ {REQUEST_FIELDS} }} }} }}",
            input_type(name)
        ),
        json!({"i": input}),
    )
    .await
}

fn input_type(mutation: &str) -> &'static str {
    match mutation {
        "startEmailVerification" => "StartEmailVerification",
        "confirmEmailVerification" => "ConfirmEmailVerification",
        "verifyIdentity" => "VerifyIdentity",
        "requestChanges" | "failVerification" | "extendDeadline" => "ReasonedTransition",
        "rejectRequest" => "RejectRequest",
        "cancelRequest" => "CancelRequest",
        "claimRequest" | "unclaimRequest" | "resendVerificationCode" => "RequestId",
        "addReviewComment" | "addRequestComment" => "AddComment",
        "redactRecord" => "RedactRecord",
        "dispatchRequest" => "DispatchRequest",
        _ => "Transition",
    }
}

async fn ok(app: &TestApp, role: Role, name: &str, input: Value) -> Value {
    let body = mutate(app, role, name, input).await;
    assert!(body.get("errors").is_none(), "{name} as {role}: {body:#}");
    body["data"][name]["request"].clone()
}

async fn next_data(ws: &mut WsClient, id: &str) -> Value {
    loop {
        let msg = ws
            .next()
            .await
            .unwrap_or_else(|| panic!("no event for subscription {id} within 10 s"));
        assert_ne!(msg["type"], "__closed", "subscription {id}: {msg}");
        if msg["type"] == "next" && msg["id"] == id {
            assert!(msg["payload"]["errors"].is_null(), "{msg}");
            return msg["payload"]["data"].clone();
        }
        assert_ne!(msg["type"], "error", "{msg}");
    }
}

fn code_from(mail: &str) -> String {
    mail.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code in the mail")
        .to_owned()
}

/// Brings a fresh request to IN_REVIEW through the workflow (no mapped sources: no tasks).
pub(crate) async fn in_review(app: &TestApp, n: usize) -> uuid::Uuid {
    let wf = &app.workflow;
    let agent = principal(app, Role::Agent);
    let submitted = wf
        .submit_request(
            &principal(app, Role::Integrator),
            workflow::requests::NewRequest {
                kind: workflow::requests::RequestKind::Access,
                channel: workflow::requests::Channel::Api,
                identities: vec![workflow::requests::NewIdentity {
                    kind: workflow::register::fields::IdentityType::Email,
                    value: format!("race{n}@example.com"),
                }],
                text: None,
                is_test: true,
                received_at: None,
                idempotency_key: None,
                attachments: vec![],
            },
        )
        .await
        .unwrap();
    let id = submitted.request.id;
    let r = wf
        .verify_identity(
            &agent,
            id,
            Some(1),
            workflow::requests::VerificationMethod::DocumentCheck,
            "ID card".into(),
        )
        .await
        .unwrap();
    wf.fire(
        &agent,
        Fire {
            request_id: id,
            version: r.version,
            event: RequestEvent::SubmitForReview,
            reason: None,
            ground: None,
        },
    )
    .await
    .unwrap();
    id
}

pub(crate) fn principal(app: &TestApp, role: Role) -> workflow::Principal {
    workflow::Principal {
        key_id: app.key_ids[&role],
        org_id: app.org_id,
        key_name: format!("test {role}"),
        kind: workflow::PrincipalKind::ApiKey,
    }
}
