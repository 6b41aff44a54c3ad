//! The register's taxonomy: the seeded default, filters and search, the hierarchy
//! rules, and isolation between organizations.

use serde_json::{Value, json};
use workflow::Role;
use workflow::register::taxonomy::{Sensitivity, default_taxonomy};

use crate::common::{TestApp, assert_code, create_org, e2e};

fn keys(data: &Value, field: &str) -> Vec<String> {
    data[field]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn category_id(app: &TestApp, key: &str) -> String {
    let data = app
        .gql_ok(app.key(Role::Dpo), "query($s: String) { dataCategories(first: 100, filter: {search: $s}) { nodes { id key } } }", json!({"s": key}))
        .await;
    data["dataCategories"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["key"] == key)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn the_default_taxonomy_is_seeded_and_can_be_filtered(app: TestApp) {
    let t = default_taxonomy();
    let integrator = app.key(Role::Integrator);
    let q = "query($f: DataCategoryFilter) { dataCategories(first: 100, filter: $f) { totalCount nodes { key parentKey sensitivity isDefault } } }";
    let all = app.gql_ok(integrator, q, json!({})).await;
    assert_eq!(
        all["dataCategories"]["totalCount"],
        t.data_category.len() as i64
    );
    assert!(
        all["dataCategories"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["isDefault"] == true)
    );
    let special = app
        .gql_ok(integrator, q, json!({"f": {"sensitivity": "SPECIAL_ART9"}}))
        .await;
    let expected = t
        .data_category
        .iter()
        .filter(|e| e.sensitivity == Sensitivity::SpecialArt9)
        .count();
    assert_eq!(special["dataCategories"]["totalCount"], expected as i64);
    let contact = app
        .gql_ok(integrator, q, json!({"f": {"parentKey": "contact"}}))
        .await;
    assert_eq!(
        keys(&contact, "dataCategories"),
        ["contact.email", "contact.phone", "contact.postal_address"]
    );
    let top = app
        .gql_ok(integrator, q, json!({"f": {"parentKey": ""}}))
        .await;
    assert!(
        keys(&top, "dataCategories")
            .iter()
            .all(|k| !k.contains('.'))
    );
    assert!(keys(&top, "dataCategories").contains(&"health".to_owned()));
    let mail = app
        .gql_ok(integrator, q, json!({"f": {"search": "MAIL"}}))
        .await;
    assert_eq!(
        keys(&mail, "dataCategories"),
        ["contact.email", "communication.email_content"]
    );
    let wildcard = app
        .gql_ok(integrator, q, json!({"f": {"search": "%"}}))
        .await;
    assert_eq!(
        wildcard["dataCategories"]["totalCount"], 0,
        "% is matched literally"
    );
    let subjects = app.gql_ok(integrator, "{ subjectCategories(first: 100) { totalCount } s: subjectCategories(search: \"employ\") { nodes { key } } }", json!({})).await;
    assert_eq!(
        subjects["subjectCategories"]["totalCount"],
        t.subject_category.len() as i64
    );
    assert_eq!(keys(&subjects, "s"), ["employees"]);
}
e2e!(seeded, the_default_taxonomy_is_seeded_and_can_be_filtered);

async fn the_hierarchy_rules_hold(app: TestApp) {
    let dpo = app.key(Role::Dpo);
    let create = "mutation($i: CreateDataCategoryInput!) { createDataCategory(input: $i) { dataCategory { id key parentKey sensitivity isDefault } } }";
    // Missing parent, bad key, less sensitive than the parent, duplicate.
    let body = app
        .gql(
            dpo,
            create,
            json!({"i": {"key": "loyalty.points", "name": "Points"}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "key"])
    );
    let body = app
        .gql(
            dpo,
            create,
            json!({"i": {"key": "Loyalty Points", "name": "Points"}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let body = app.gql(dpo, create, json!({"i": {"key": "health.allergies", "name": "Allergies", "sensitivity": "ORDINARY"}})).await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "sensitivity"])
    );
    let body = app
        .gql(
            dpo,
            create,
            json!({"i": {"key": "contact.email", "name": "Again"}}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    // A valid child.
    let data = app
        .gql_ok(dpo, create, json!({"i": {"key": "health.allergies", "name": "Allergies", "sensitivity": "SPECIAL_ART9", "description": "Food allergies for delivery of meals"}}))
        .await;
    let created = &data["createDataCategory"]["dataCategory"];
    assert_eq!(created["parentKey"], "health");
    assert_eq!(created["isDefault"], false);
    // The parent cannot become more sensitive than a child, nor the child less than its parent.
    let contact_id = category_id(&app, "contact").await;
    let update = "mutation($i: UpdateDataCategoryInput!) { updateDataCategory(input: $i) { dataCategory { name sensitivity description } } }";
    let body = app
        .gql(
            dpo,
            update,
            json!({"i": {"id": contact_id, "sensitivity": "SPECIAL_ART9"}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("contact."),
        "names the child: {body}"
    );
    let allergies = created["id"].as_str().unwrap();
    let body = app
        .gql(
            dpo,
            update,
            json!({"i": {"id": allergies, "sensitivity": "ORDINARY"}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let data = app
        .gql_ok(
            dpo,
            update,
            json!({"i": {"id": allergies, "name": "Allergien", "description": null}}),
        )
        .await;
    assert_eq!(
        data["updateDataCategory"]["dataCategory"],
        json!({"name": "Allergien", "sensitivity": "SPECIAL_ART9", "description": null})
    );
    // Deleting a parent with children is refused and names them; a leaf can go.
    let health_id = category_id(&app, "health").await;
    let body = app
        .gql(
            dpo,
            "mutation($id: ID!) { deleteDataCategory(input: {id: $id}) { deletedId } }",
            json!({"id": health_id}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("`health.allergies`"),
        "{body}"
    );
    let data = app
        .gql_ok(
            dpo,
            "mutation($id: ID!) { deleteDataCategory(input: {id: $id}) { deletedId } }",
            json!({"id": allergies}),
        )
        .await;
    assert_eq!(data["deleteDataCategory"]["deletedId"], allergies);
    app.gql_ok(
        dpo,
        "mutation($id: ID!) { deleteDataCategory(input: {id: $id}) { deletedId } }",
        json!({"id": health_id}),
    )
    .await;
    let body = app
        .gql(
            dpo,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": health_id}),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    // Stewards read the register but do not keep it.
    let body = app
        .gql(
            app.key(Role::Steward),
            create,
            json!({"i": {"key": "contact.fax", "name": "Fax"}}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    // Every change is in the audit log.
    let events = app
        .gql_ok(app.key(Role::Auditor), "{ auditEvents(filter: {objectType: \"DataCategory\", outcome: SUCCESS}) { nodes { operation } } }", json!({}))
        .await;
    let ops: Vec<&str> = events["auditEvents"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        ops,
        [
            "createDataCategory",
            "updateDataCategory",
            "deleteDataCategory",
            "deleteDataCategory"
        ]
    );
}
e2e!(hierarchy, the_hierarchy_rules_hold);

async fn subject_categories_are_kept_per_organization(app: TestApp) {
    let other = create_org(&app.workflow, "Andere GmbH").await;
    let dpo = app.key(Role::Dpo);
    let data = app
        .gql_ok(dpo, "mutation { createSubjectCategory(input: {key: \"club_members\", name: \"Club members\"}) { subjectCategory { id key } } }", json!({}))
        .await;
    let id = data["createSubjectCategory"]["subjectCategory"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app.gql(dpo, "mutation { createSubjectCategory(input: {key: \"club_members\", name: \"Again\"}) { subjectCategory { id } } }", json!({})).await;
    assert_code(&body, "CONFLICT");
    let data = app
        .gql_ok(dpo, "mutation($id: ID!) { updateSubjectCategory(input: {id: $id, name: \"Vereinsmitglieder\", description: \"Loyalty club\"}) { subjectCategory { name description } } }", json!({"id": id}))
        .await;
    assert_eq!(
        data["updateSubjectCategory"]["subjectCategory"],
        json!({"name": "Vereinsmitglieder", "description": "Loyalty club"})
    );
    // The other organization neither sees nor touches it.
    let theirs = &other.keys[&Role::Admin];
    let body = app
        .gql(
            theirs,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": id}),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    for m in [
        "mutation($id: ID!) { updateSubjectCategory(input: {id: $id, name: \"x\"}) { subjectCategory { id } } }",
        "mutation($id: ID!) { deleteSubjectCategory(input: {id: $id}) { deletedId } }",
    ] {
        assert_code(&app.gql(theirs, m, json!({"id": id})).await, "NOT_FOUND");
    }
    let listed = app
        .gql_ok(
            theirs,
            "{ subjectCategories(search: \"club\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["subjectCategories"]["totalCount"], 0);
    let their_email = app
        .gql_ok(
            theirs,
            "{ dataCategories(filter: {search: \"contact.email\"}) { nodes { id } } }",
            json!({}),
        )
        .await["dataCategories"]["nodes"][0]["id"]
        .clone();
    assert_code(
        &app.gql(
            dpo,
            "mutation($id: ID!) { deleteDataCategory(input: {id: $id}) { deletedId } }",
            json!({"id": their_email}),
        )
        .await,
        "NOT_FOUND",
    );
    app.gql_ok(
        dpo,
        "mutation($id: ID!) { deleteSubjectCategory(input: {id: $id}) { deletedId } }",
        json!({"id": id}),
    )
    .await;
}
e2e!(subjects, subject_categories_are_kept_per_organization);

/// Organizations from before the taxonomy get it once at startup.
async fn older_organizations_are_seeded_once(app: TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let conn = app.workflow.store().conn();
    let backend = conn.get_database_backend();
    for sql in [
        "DELETE FROM data_category",
        "DELETE FROM subject_category",
        "UPDATE organization SET taxonomy_version = 0",
    ] {
        conn.execute_raw(Statement::from_string(backend, sql.to_owned()))
            .await
            .unwrap();
    }
    let reopened = app.reopen().await.unwrap();
    let principal = workflow::Principal {
        key_id: app.key_ids[&Role::Admin],
        org_id: app.org_id,
        key_name: "t".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    let page = workflow::PageRequest::<uuid::Uuid> {
        first: Some(1),
        ..Default::default()
    };
    let seeded = reopened
        .data_categories(&principal, &Default::default(), &page)
        .await
        .unwrap();
    assert_eq!(
        seeded.total_count as usize,
        default_taxonomy().data_category.len()
    );
    // A second start adds nothing.
    let again = app.reopen().await.unwrap();
    assert_eq!(
        again
            .data_categories(&principal, &Default::default(), &page)
            .await
            .unwrap()
            .total_count,
        seeded.total_count
    );
}
e2e!(seeding_upgrade, older_organizations_are_seeded_once);

async fn purposes_carry_a_valid_legal_basis(app: TestApp) {
    let dpo = app.key(Role::Dpo);
    let create = "mutation($i: CreatePurposeInput!) { createPurpose(input: $i) { purpose { id name legalBasis legalReference balancingTest specialCategoryCondition } } }";
    // Legitimate interests need the balancing test; legal obligations the law.
    let body = app
        .gql(
            dpo,
            create,
            json!({"i": {"name": "Fraud prevention", "legalBasis": "LEGITIMATE_INTERESTS"}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "balancingTest"])
    );
    let body = app.gql(dpo, create, json!({"i": {"name": "Accounting", "legalBasis": "LEGAL_OBLIGATION", "legalReference": "  "}})).await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "legalReference"])
    );
    // Valid purposes on all six bases.
    let purposes = [
        json!({"name": "Newsletter", "legalBasis": "CONSENT"}),
        json!({"name": "Order fulfilment", "legalBasis": "CONTRACT", "description": "Deliver what was bought."}),
        json!({"name": "Accounting", "legalBasis": "LEGAL_OBLIGATION", "legalReference": "§ 147 AO, § 257 HGB"}),
        json!({"name": "Emergency contact", "legalBasis": "VITAL_INTERESTS"}),
        json!({"name": "Statistics for the authority", "legalBasis": "PUBLIC_TASK", "legalReference": "§ 3 BStatG"}),
        json!({"name": "Fraud prevention", "legalBasis": "LEGITIMATE_INTERESTS", "balancingTest": "Our interest in preventing payment fraud outweighs ..."}),
        json!({"name": "Allergy-safe delivery", "legalBasis": "CONSENT", "specialCategoryCondition": "EXPLICIT_CONSENT"}),
    ];
    let mut fraud = String::new();
    for p in &purposes {
        let data = app.gql_ok(dpo, create, json!({"i": p})).await;
        if p["name"] == "Fraud prevention" {
            fraud = data["createPurpose"]["purpose"]["id"]
                .as_str()
                .unwrap()
                .to_owned();
        }
    }
    let body = app
        .gql(
            dpo,
            create,
            json!({"i": {"name": "Newsletter", "legalBasis": "CONSENT"}}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    // The rules also hold for updates: dropping the balancing test of LI is refused,
    // switching to consent and clearing it is fine.
    let update = "mutation($i: UpdatePurposeInput!) { updatePurpose(input: $i) { purpose { legalBasis balancingTest } } }";
    let body = app
        .gql(
            dpo,
            update,
            json!({"i": {"id": fraud, "balancingTest": null}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let data = app
        .gql_ok(
            dpo,
            update,
            json!({"i": {"id": fraud, "legalBasis": "CONSENT", "balancingTest": null}}),
        )
        .await;
    assert_eq!(
        data["updatePurpose"]["purpose"],
        json!({"legalBasis": "CONSENT", "balancingTest": null})
    );
    // Filters.
    let q = "query($f: PurposeFilter) { purposes(filter: $f) { totalCount nodes { name } } }";
    let consent = app
        .gql_ok(
            app.key(Role::Integrator),
            q,
            json!({"f": {"legalBasis": "CONSENT"}}),
        )
        .await;
    assert_eq!(consent["purposes"]["totalCount"], 3);
    let found = app
        .gql_ok(
            app.key(Role::Integrator),
            q,
            json!({"f": {"search": "ACCOUNT"}}),
        )
        .await;
    assert_eq!(found["purposes"]["nodes"], json!([{"name": "Accounting"}]));
    // Delete, then it is gone for node() as well.
    app.gql_ok(
        dpo,
        "mutation($id: ID!) { deletePurpose(input: {id: $id}) { deletedId } }",
        json!({"id": fraud}),
    )
    .await;
    assert_code(
        &app.gql(
            dpo,
            "query($id: ID!) { node(id: $id) { id } }",
            json!({"id": fraud}),
        )
        .await,
        "NOT_FOUND",
    );
    assert_code(
        &app.gql(
            app.key(Role::Steward),
            create,
            json!({"i": {"name": "x", "legalBasis": "CONTRACT"}}),
        )
        .await,
        "FORBIDDEN",
    );
}
e2e!(purposes, purposes_carry_a_valid_legal_basis);

async fn retention_policies_need_a_real_period(app: TestApp) {
    let dpo = app.key(Role::Dpo);
    let create = "mutation($i: CreateRetentionPolicyInput!) { createRetentionPolicy(input: $i) { retentionPolicy { id name duration trigger actionAtExpiry legalReference } } }";
    let base = json!({"name": "Tax records", "duration": "P10Y", "trigger": "AFTER_END_OF_CALENDAR_YEAR", "actionAtExpiry": "DELETE", "legalReference": "§ 147 AO"});
    for (bad, path) in [
        (json!({"duration": "10 years"}), "duration"),
        (json!({"duration": "P0D"}), "duration"),
        (json!({"duration": "P10Yx"}), "duration"),
        (json!({"trigger": "OTHER"}), "triggerDescription"),
        (json!({"name": ""}), "name"),
    ] {
        let mut input = base.clone();
        input
            .as_object_mut()
            .unwrap()
            .extend(bad.as_object().unwrap().clone());
        let body = app.gql(dpo, create, json!({"i": input})).await;
        assert_code(&body, "VALIDATION");
        assert_eq!(
            body["errors"][0]["extensions"]["fields"][0]["path"],
            json!(["input", path]),
            "{input}"
        );
    }
    let data = app.gql_ok(dpo, create, json!({"i": base})).await;
    let policy = &data["createRetentionPolicy"]["retentionPolicy"];
    assert_eq!(policy["duration"], "P10Y");
    let id = policy["id"].as_str().unwrap().to_owned();
    assert_code(&app.gql(dpo, create, json!({"i": base})).await, "CONFLICT");
    let update = "mutation($i: UpdateRetentionPolicyInput!) { updateRetentionPolicy(input: $i) { retentionPolicy { duration trigger actionAtExpiry } } }";
    let data = app
        .gql_ok(
            dpo,
            update,
            json!({"i": {"id": id, "duration": "p6y", "actionAtExpiry": "REVIEW"}}),
        )
        .await;
    assert_eq!(
        data["updateRetentionPolicy"]["retentionPolicy"],
        json!({"duration": "P6Y", "trigger": "AFTER_END_OF_CALENDAR_YEAR", "actionAtExpiry": "REVIEW"})
    );
    assert_code(
        &app.gql(dpo, update, json!({"i": {"id": id, "trigger": "OTHER"}}))
            .await,
        "VALIDATION",
    );
    let found = app
        .gql_ok(
            app.key(Role::Auditor),
            "{ retentionPolicies(search: \"147 ao\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(found["retentionPolicies"]["totalCount"], 1);
    let node = app
        .gql_ok(
            app.key(Role::Reviewer),
            "query($id: ID!) { node(id: $id) { ... on RetentionPolicy { name } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(node["node"]["name"], "Tax records");
    app.gql_ok(
        dpo,
        "mutation($id: ID!) { deleteRetentionPolicy(input: {id: $id}) { deletedId } }",
        json!({"id": id}),
    )
    .await;
}
e2e!(retention, retention_policies_need_a_real_period);

async fn recipients_and_their_third_country_transfers(app: TestApp) {
    let other = create_org(&app.workflow, "Fremd GmbH").await;
    let dpo = app.key(Role::Dpo);
    let create = "mutation($i: CreateRecipientInput!) { createRecipient(input: $i) { recipient { id name kind country } } }";
    let data = app
        .gql_ok(dpo, create, json!({"i": {"name": "PayFast Inc.", "kind": "PROCESSOR", "country": "us", "contractReference": "DPA 2025-03"}}))
        .await;
    let payfast = data["createRecipient"]["recipient"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(data["createRecipient"]["recipient"]["country"], "US");
    app.gql_ok(
        dpo,
        create,
        json!({"i": {"name": "Paketdienst", "kind": "THIRD_PARTY", "country": "DE"}}),
    )
    .await;
    assert_code(
        &app.gql(
            dpo,
            create,
            json!({"i": {"name": "Paketdienst", "kind": "PROCESSOR"}}),
        )
        .await,
        "CONFLICT",
    );
    assert_code(
        &app.gql(
            dpo,
            create,
            json!({"i": {"name": "X", "kind": "PROCESSOR", "country": "USA"}}),
        )
        .await,
        "VALIDATION",
    );

    let transfer = "mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id country safeguard recipient { name } } } }";
    // Not a third country; Art. 49 without saying which derogation.
    let body = app.gql(dpo, transfer, json!({"i": {"recipientId": payfast, "country": "FR", "safeguard": "STANDARD_CONTRACTUAL_CLAUSES"}})).await;
    assert_code(&body, "VALIDATION");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("EEA"),
        "{body}"
    );
    let body = app.gql(dpo, transfer, json!({"i": {"recipientId": payfast, "country": "US", "safeguard": "DEROGATION_ART49"}})).await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        body["errors"][0]["extensions"]["fields"][0]["path"],
        json!(["input", "safeguardDescription"])
    );
    let data = app
        .gql_ok(dpo, transfer, json!({"i": {"recipientId": payfast, "country": "US", "safeguard": "STANDARD_CONTRACTUAL_CLAUSES", "safeguardDescription": "SCC 2021/914, module 2"}}))
        .await;
    assert_eq!(
        data["createTransfer"]["transfer"]["recipient"]["name"],
        "PayFast Inc."
    );
    let transfer_id = data["createTransfer"]["transfer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.gql_ok(dpo, transfer, json!({"i": {"recipientId": payfast, "country": "IN", "safeguard": "BINDING_CORPORATE_RULES"}})).await;
    // Nested: recipients with their transfers (one query per relation).
    let data = app
        .gql_ok(app.key(Role::Reviewer), "{ recipients(filter: {kind: PROCESSOR}) { nodes { name transfers { country safeguard } } } }", json!({}))
        .await;
    assert_eq!(
        data["recipients"]["nodes"],
        json!([{"name": "PayFast Inc.", "transfers": [
            {"country": "US", "safeguard": "STANDARD_CONTRACTUAL_CLAUSES"},
            {"country": "IN", "safeguard": "BINDING_CORPORATE_RULES"}]}])
    );
    // A recipient with transfers cannot be deleted.
    let body = app
        .gql(
            dpo,
            "mutation($id: ID!) { deleteRecipient(input: {id: $id}) { deletedId } }",
            json!({"id": payfast}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("US, IN"),
        "{body}"
    );
    // Updating into the EEA is refused as well.
    let update = "mutation($i: UpdateTransferInput!) { updateTransfer(input: $i) { transfer { country safeguard } } }";
    assert_code(
        &app.gql(
            dpo,
            update,
            json!({"i": {"id": transfer_id, "country": "NO"}}),
        )
        .await,
        "VALIDATION",
    );
    let data = app
        .gql_ok(
            dpo,
            update,
            json!({"i": {"id": transfer_id, "safeguard": "ADEQUACY_DECISION"}}),
        )
        .await;
    assert_eq!(
        data["updateTransfer"]["transfer"],
        json!({"country": "US", "safeguard": "ADEQUACY_DECISION"})
    );
    // Another organization can neither use nor see these rows.
    let theirs = &other.keys[&Role::Admin];
    let body = app.gql(theirs, transfer, json!({"i": {"recipientId": payfast, "country": "US", "safeguard": "ADEQUACY_DECISION"}})).await;
    assert_code(&body, "NOT_FOUND");
    assert_code(
        &app.gql(
            theirs,
            "mutation($id: ID!) { deleteTransfer(input: {id: $id}) { deletedId } }",
            json!({"id": transfer_id}),
        )
        .await,
        "NOT_FOUND",
    );
    let listed = app
        .gql_ok(theirs, "{ recipients { totalCount } }", json!({}))
        .await;
    assert_eq!(listed["recipients"]["totalCount"], 0);
}
e2e!(recipients, recipients_and_their_third_country_transfers);

/// Search arguments (issue 10, section 9): bounded, free of control characters, and
/// `%`, `_` and the escape character match themselves, on every backend.
async fn search_terms_are_bounded_and_matched_literally(app: TestApp) {
    let dpo = app.key(Role::Dpo);
    for name in [
        "100% Rabatt",
        "100 Rabatt",
        "a_b Newsletter",
        "axb Newsletter",
        "Bang! Umfrage",
        "Bang Umfrage",
        "back\\slash",
    ] {
        app.gql_ok(
            dpo,
            "mutation($n: String!) { createPurpose(input: {name: $n, legalBasis: CONSENT}) { purpose { id } } }",
            json!({"n": name}),
        )
        .await;
    }
    let q = "query($s: String) { purposes(first: 100, filter: {search: $s}) { nodes { name } } }";
    let names = |body: &Value| -> Vec<String> {
        body["purposes"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_owned())
            .collect()
    };
    for (term, expected) in [
        ("%", vec!["100% Rabatt"]),
        ("0% r", vec!["100% Rabatt"]),
        ("_", vec!["a_b Newsletter"]),
        ("A_B", vec!["a_b Newsletter"]),
        ("!", vec!["Bang! Umfrage"]),
        ("\\", vec!["back\\slash"]),
        ("rabatt", vec!["100% Rabatt", "100 Rabatt"]),
    ] {
        let data = app.gql_ok(dpo, q, json!({"s": term})).await;
        assert_eq!(names(&data), expected, "search {term:?}");
    }
    // Too long, or with a control character (NUL matched every row on SQLite):
    // VALIDATION naming the argument, on every listing with a search.
    let long = "x".repeat(100_000);
    for term in [long.as_str(), "\0", "a\0", "tab\tstop", "new\nline"] {
        for (query, path) in [
            (q, json!(["filter", "search"])),
            (
                "query($s: String) { dataSources(filter: {search: $s}) { totalCount } }",
                json!(["filter", "search"]),
            ),
            (
                "query($s: String) { dataCategories(filter: {search: $s}) { totalCount } }",
                json!(["filter", "search"]),
            ),
            (
                "query($s: String) { dataCategories(filter: {parentKey: $s}) { totalCount } }",
                json!(["filter", "parentKey"]),
            ),
            (
                "query($s: String) { processingActivities(filter: {search: $s}) { totalCount } }",
                json!(["filter", "search"]),
            ),
            (
                "query($s: String) { recipients(filter: {search: $s}) { totalCount } }",
                json!(["filter", "search"]),
            ),
            (
                "query($s: String) { dataFields(filter: {search: $s}) { totalCount } }",
                json!(["filter", "search"]),
            ),
            (
                "query($s: String) { subjectCategories(search: $s) { totalCount } }",
                json!(["search"]),
            ),
            (
                "query($s: String) { retentionPolicies(search: $s) { totalCount } }",
                json!(["search"]),
            ),
            (
                "query($s: String) { auditEvents(filter: {operation: $s}) { totalCount } }",
                json!(["filter", "operation"]),
            ),
            (
                "query($s: String) { auditEvents(filter: {objectType: $s}) { totalCount } }",
                json!(["filter", "objectType"]),
            ),
            (
                "query($s: String) { auditEvents(filter: {objectId: $s}) { totalCount } }",
                json!(["filter", "objectId"]),
            ),
        ] {
            let body = app.gql(dpo, query, json!({"s": term})).await;
            assert_code(&body, "VALIDATION");
            assert_eq!(
                body["errors"][0]["extensions"]["fields"][0]["path"],
                path,
                "{query} with {} characters",
                term.len()
            );
        }
    }
    let longest = "x".repeat(200);
    let data = app.gql_ok(dpo, q, json!({"s": longest})).await;
    assert_eq!(names(&data), Vec::<String>::new());
    // The parent key is matched literally too.
    let data = app
        .gql_ok(
            dpo,
            "{ a: dataCategories(first: 100, filter: {parentKey: \"%\"}) { totalCount } b: dataCategories(first: 100, filter: {parentKey: \"contac_\"}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["a"]["totalCount"], 0);
    assert_eq!(data["b"]["totalCount"], 0);
}
e2e!(search_terms, search_terms_are_bounded_and_matched_literally);
