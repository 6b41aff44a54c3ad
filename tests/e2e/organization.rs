//! Controller details (Art. 30(1)(a)): partial updates, clearing, validation with
//! field paths, audit, and isolation between organizations.

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, assert_code, create_org, e2e, error_paths};

const DETAILS: &str = "{ organization { name address country email phone supervisoryAuthority dpo { name address email phone } representative { name email } } }";

async fn controller_details_are_updated_partially_and_audited(app: TestApp) {
    let other = create_org(&app.workflow, "Unbeteiligt GmbH").await;
    let dpo = app.key(Role::Dpo);
    let update = "mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { organization { name country email dpo { name email } } } }";
    let data = app
        .gql_ok(
            dpo,
            update,
            json!({"i": {
                "address": "Möbelstraße 1\n10115 Berlin",
                "country": "de",
                "email": "Datenschutz@Moebel.EXAMPLE",
                "phone": "+49 30 1234567",
                "dpo": {"name": "Dr. Erika Mustermann", "email": "dpo@moebel.example"},
                "supervisoryAuthority": "Berliner Beauftragte für Datenschutz und Informationsfreiheit"
            }}),
        )
        .await;
    assert_eq!(
        data["updateOrganization"]["organization"]["country"], "DE",
        "country codes are upper-cased"
    );
    assert_eq!(
        data["updateOrganization"]["organization"]["email"], "Datenschutz@moebel.example",
        "domains are lower-cased"
    );
    // Omitted fields stay; null clears.
    app.gql_ok(dpo, update, json!({"i": {"phone": null, "representative": {"name": "EU Rep Ltd", "email": "rep@example.ie"}}})).await;
    let data = app
        .gql_ok(app.key(Role::Integrator), DETAILS, json!({}))
        .await;
    let org = &data["organization"];
    assert_eq!(org["phone"], json!(null));
    assert_eq!(org["address"], "Möbelstraße 1\n10115 Berlin");
    assert_eq!(
        org["dpo"],
        json!({"name": "Dr. Erika Mustermann", "address": null, "email": "dpo@moebel.example", "phone": null})
    );
    assert_eq!(
        org["representative"],
        json!({"name": "EU Rep Ltd", "email": "rep@example.ie"})
    );
    app.gql_ok(dpo, update, json!({"i": {"dpo": null}})).await;
    let data = app.gql_ok(dpo, DETAILS, json!({})).await;
    assert_eq!(data["organization"]["dpo"], json!(null));

    // Every change is audited with digests of before and after.
    let events = app
        .gql_ok(app.key(Role::Auditor), "{ auditEvents(filter: {operation: \"updateOrganization\"}) { totalCount nodes { beforeDigest afterDigest } } }", json!({}))
        .await;
    assert_eq!(events["auditEvents"]["totalCount"], 3);
    // The other organization is untouched.
    let theirs = app
        .gql_ok(&other.keys[&Role::Admin], DETAILS, json!({}))
        .await;
    assert_eq!(theirs["organization"]["country"], json!(null));
    assert_eq!(theirs["organization"]["name"], "Unbeteiligt GmbH");
}
e2e!(update, controller_details_are_updated_partially_and_audited);

async fn bad_controller_details_are_rejected_with_field_paths(app: TestApp) {
    let update = "mutation($i: UpdateOrganizationInput!) { updateOrganization(input: $i) { organization { name } } }";
    let body = app
        .gql(
            app.key(Role::Admin),
            update,
            json!({"i": {"name": " ", "country": "Germany", "email": "nope", "dpo": {"name": "", "email": "x@"}}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let paths = error_paths(&body);
    assert_eq!(
        paths,
        [
            "input.name",
            "input.country",
            "input.email",
            "input.dpo.name",
            "input.dpo.email"
        ]
    );
    // Renaming onto another organization's name is a conflict.
    create_org(&app.workflow, "Schon Vergeben AG").await;
    let body = app
        .gql(
            app.key(Role::Admin),
            update,
            json!({"i": {"name": "Schon Vergeben AG"}}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    // Nothing changed.
    let data = app.gql_ok(app.key(Role::Admin), DETAILS, json!({})).await;
    assert!(
        data["organization"]["name"]
            .as_str()
            .unwrap()
            .starts_with("Test Org")
    );
    assert_eq!(data["organization"]["country"], json!(null));
    // Roles without organization:update are refused.
    let body = app
        .gql(
            app.key(Role::Auditor),
            update,
            json!({"i": {"country": "DE"}}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
}
e2e!(
    validation,
    bad_controller_details_are_rejected_with_field_paths
);
