//! Processing activities: the completeness and legal rules, filters, protection of
//! what activities use, and one SQL statement per relation however long the page.

use serde_json::{Value, json};
use workflow::Role;

use crate::common::{TestApp, assert_code, create_org, e2e, error_paths};

/// A small register; returns the ids by name.
pub(crate) struct Register {
    pub(crate) contract: String,
    pub(crate) newsletter: String,
    pub(crate) care: String,
    pub(crate) email: String,
    pub(crate) health: String,
    pub(crate) customers: String,
    pub(crate) payfast: String,
    pub(crate) parcel: String,
    pub(crate) us_transfer: String,
    pub(crate) tax: String,
    pub(crate) mailbox: String,
}

async fn category(app: &TestApp, key: &str) -> String {
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

async fn id_of(app: &TestApp, query: &str, vars: Value, path: &[&str]) -> String {
    let mut data = app.gql_ok(app.key(Role::Dpo), query, vars).await;
    for p in path {
        data = data[*p].clone();
    }
    data["id"].as_str().unwrap().to_owned()
}

pub(crate) async fn register(app: &TestApp) -> Register {
    let purpose =
        "mutation($i: CreatePurposeInput!) { createPurpose(input: $i) { purpose { id } } }";
    let p = |i: Value| id_of(app, purpose, json!({"i": i}), &["createPurpose", "purpose"]);
    let recipient =
        "mutation($i: CreateRecipientInput!) { createRecipient(input: $i) { recipient { id } } }";
    let r = |i: Value| {
        id_of(
            app,
            recipient,
            json!({"i": i}),
            &["createRecipient", "recipient"],
        )
    };
    let contract = p(json!({"name": "Order fulfilment", "legalBasis": "CONTRACT"})).await;
    let newsletter = p(json!({"name": "Newsletter", "legalBasis": "CONSENT"})).await;
    let care = p(json!({"name": "Allergy-safe delivery", "legalBasis": "CONSENT", "specialCategoryCondition": "EXPLICIT_CONSENT"})).await;
    let payfast = r(json!({"name": "PayFast Inc.", "kind": "PROCESSOR", "country": "US"})).await;
    let parcel = r(json!({"name": "Paketdienst", "kind": "THIRD_PARTY", "country": "DE"})).await;
    let us_transfer = id_of(
        app,
        "mutation($i: CreateTransferInput!) { createTransfer(input: $i) { transfer { id } } }",
        json!({"i": {"recipientId": payfast, "country": "US", "safeguard": "STANDARD_CONTRACTUAL_CLAUSES"}}),
        &["createTransfer", "transfer"],
    )
    .await;
    let tax = id_of(
        app,
        "mutation($i: CreateRetentionPolicyInput!) { createRetentionPolicy(input: $i) { retentionPolicy { id } } }",
        json!({"i": {"name": "Tax records", "duration": "P10Y", "trigger": "AFTER_END_OF_CALENDAR_YEAR", "actionAtExpiry": "DELETE", "legalReference": "§ 147 AO"}}),
        &["createRetentionPolicy", "retentionPolicy"],
    )
    .await;
    let customers = app
        .gql_ok(
            app.key(Role::Dpo),
            "{ subjectCategories(search: \"customers\") { nodes { id } } }",
            json!({}),
        )
        .await["subjectCategories"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mailbox = id_of(
        app,
        "mutation($i: CreateDataSourceInput!) { createDataSource(input: $i) { dataSource { id } } }",
        json!({"i": {"name": "Support mailbox", "connectorKind": "MANUAL", "connectorConfig": {"contact": "support@example.com"}}}),
        &["createDataSource", "dataSource"],
    )
    .await;
    Register {
        mailbox,
        contract,
        newsletter,
        care,
        email: category(app, "contact.email").await,
        health: category(app, "health").await,
        customers,
        payfast,
        parcel,
        us_transfer,
        tax,
    }
}

const CREATE: &str = "mutation($i: CreateProcessingActivityInput!) { createProcessingActivity(input: $i) { processingActivity { id name status } } }";

async fn activities_follow_the_legal_rules(app: TestApp) {
    let r = register(&app).await;
    let dpo = app.key(Role::Dpo);
    // An active activity must be complete.
    let body = app
        .gql(
            dpo,
            CREATE,
            json!({"i": {"name": "Shop", "status": "ACTIVE"}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        error_paths(&body),
        [
            "input.purposeIds",
            "input.dataCategoryIds",
            "input.subjectCategoryIds"
        ]
    );
    // Special categories need an Art. 9(2) condition on every purpose.
    let body = app
        .gql(dpo, CREATE, json!({"i": {"name": "Meals", "purposeIds": [r.contract, r.care], "dataCategoryIds": [r.health]}}))
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(error_paths(&body), ["input.purposeIds"]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Order fulfilment"),
        "names the purpose: {body}"
    );
    // Automated decisions need their logic; transfers need their recipient.
    let body = app
        .gql(
            dpo,
            CREATE,
            json!({"i": {"name": "Scoring", "automatedDecisionMaking": true}}),
        )
        .await;
    assert_eq!(error_paths(&body), ["input.automatedDecisionLogic"]);
    let body = app
        .gql(
            dpo,
            CREATE,
            json!({"i": {"name": "Pay", "transferIds": [r.us_transfer]}}),
        )
        .await;
    assert_eq!(error_paths(&body), ["input.transferIds"]);
    // Ids of the wrong type or of other organizations.
    let body = app
        .gql(
            dpo,
            CREATE,
            json!({"i": {"name": "X", "purposeIds": [r.email]}}),
        )
        .await;
    assert_eq!(error_paths(&body), ["input.purposeIds.0"]);
    let other = create_org(&app.workflow, "Woanders AG").await;
    let body = app
        .gql(
            &other.keys[&Role::Dpo],
            CREATE,
            json!({"i": {"name": "X", "purposeIds": [r.contract]}}),
        )
        .await;
    assert_code(&body, "NOT_FOUND");

    // A complete activity, read back with everything it links to.
    let data = app
        .gql_ok(
            dpo,
            CREATE,
            json!({"i": {
                "name": "Online shop orders", "status": "ACTIVE", "owner": "E-Commerce",
                "tomDescription": "TLS, encrypted backups, role-based access",
                "purposeIds": [r.contract, r.contract], "dataCategoryIds": [r.email],
                "subjectCategoryIds": [r.customers], "recipientIds": [r.payfast, r.parcel],
                "transferIds": [r.us_transfer], "retentionPolicyId": r.tax, "nextReviewOn": "2027-01-31",
                "sourceIds": [r.mailbox]
            }}),
        )
        .await;
    let shop = data["createProcessingActivity"]["processingActivity"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = "query($id: ID!) { node(id: $id) { ... on ProcessingActivity { name status owner nextReviewOn
        purposes { name legalBasis } dataCategories { key sensitivity } subjectCategories { key }
        recipients { name kind } transfers { country safeguard recipient { name } } retentionPolicy { name duration }
        sources { name connectorKind } } } }";
    let read = app
        .gql_ok(app.key(Role::Integrator), q, json!({"id": shop}))
        .await;
    assert_eq!(
        read["node"],
        json!({
            "name": "Online shop orders", "status": "ACTIVE", "owner": "E-Commerce", "nextReviewOn": "2027-01-31",
            "purposes": [{"name": "Order fulfilment", "legalBasis": "CONTRACT"}],
            "dataCategories": [{"key": "contact.email", "sensitivity": "ORDINARY"}],
            "subjectCategories": [{"key": "customers"}],
            "recipients": [{"name": "PayFast Inc.", "kind": "PROCESSOR"}, {"name": "Paketdienst", "kind": "THIRD_PARTY"}],
            "transfers": [{"country": "US", "safeguard": "STANDARD_CONTRACTUAL_CLAUSES", "recipient": {"name": "PayFast Inc."}}],
            "retentionPolicy": {"name": "Tax records", "duration": "P10Y"},
            "sources": [{"name": "Support mailbox", "connectorKind": "MANUAL"}]
        })
    );
    // Updates replace links and are checked like new activities.
    let update = "mutation($i: UpdateProcessingActivityInput!) { updateProcessingActivity(input: $i) { processingActivity { purposes { name } recipients { name } } } }";
    let body = app
        .gql(
            dpo,
            update,
            json!({"i": {"id": shop, "recipientIds": [r.parcel]}}),
        )
        .await;
    assert_eq!(
        error_paths(&body),
        ["input.transferIds"],
        "dropping the recipient strands its transfer"
    );
    let data = app
        .gql_ok(dpo, update, json!({"i": {"id": shop, "recipientIds": [r.parcel], "transferIds": [], "purposeIds": [r.contract, r.newsletter]}}))
        .await;
    assert_eq!(
        data["updateProcessingActivity"]["processingActivity"],
        json!({"purposes": [{"name": "Order fulfilment"}, {"name": "Newsletter"}], "recipients": [{"name": "Paketdienst"}]})
    );
    // What an activity uses cannot be deleted; the message names the activity.
    for (mutation, id) in [
        ("deletePurpose", &r.contract),
        ("deleteDataCategory", &r.email),
        ("deleteSubjectCategory", &r.customers),
        ("deleteRecipient", &r.parcel),
        ("deleteRetentionPolicy", &r.tax),
        ("deleteDataSource", &r.mailbox),
    ] {
        let body = app
            .gql(
                dpo,
                &format!("mutation($id: ID!) {{ {mutation}(input: {{id: $id}}) {{ deletedId }} }}"),
                json!({"id": id}),
            )
            .await;
        assert_code(&body, "CONFLICT");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("Online shop orders"),
            "{mutation}: {body}"
        );
    }
    app.gql_ok(
        dpo,
        "mutation($id: ID!) { deleteProcessingActivity(input: {id: $id}) { deletedId } }",
        json!({"id": shop}),
    )
    .await;
    app.gql_ok(
        dpo,
        "mutation($id: ID!) { deletePurpose(input: {id: $id}) { deletedId } }",
        json!({"id": r.contract}),
    )
    .await;
    let _ = r.care;
}
e2e!(rules, activities_follow_the_legal_rules);

async fn activities_can_be_filtered_as_frontends_need(app: TestApp) {
    let r = register(&app).await;
    let dpo = app.key(Role::Dpo);
    app.gql_ok(dpo, CREATE, json!({"i": {"name": "Orders", "status": "ACTIVE", "purposeIds": [r.contract], "dataCategoryIds": [r.email], "subjectCategoryIds": [r.customers], "nextReviewOn": "2026-01-15"}})).await;
    app.gql_ok(dpo, CREATE, json!({"i": {"name": "Newsletter mailing", "purposeIds": [r.newsletter], "dataCategoryIds": [r.email], "nextReviewOn": "2030-06-01", "sourceIds": [r.mailbox]}})).await;
    app.gql_ok(dpo, CREATE, json!({"i": {"name": "Meal allergies", "status": "RETIRED", "purposeIds": [r.care], "dataCategoryIds": [r.health]}})).await;
    let q = "query($f: ProcessingActivityFilter) { processingActivities(filter: $f) { totalCount nodes { name } } }";
    let names = |data: &Value| -> Vec<String> {
        data["processingActivities"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let reader = app.key(Role::Auditor);
    assert_eq!(
        names(
            &app.gql_ok(reader, q, json!({"f": {"legalBasis": "CONSENT"}}))
                .await
        ),
        ["Newsletter mailing", "Meal allergies"]
    );
    assert_eq!(
        names(
            &app.gql_ok(reader, q, json!({"f": {"dataCategoryId": r.email}}))
                .await
        ),
        ["Orders", "Newsletter mailing"]
    );
    assert_eq!(
        names(
            &app.gql_ok(reader, q, json!({"f": {"sourceId": r.mailbox}}))
                .await
        ),
        ["Newsletter mailing"]
    );
    let bad = app
        .gql(reader, q, json!({"f": {"sourceId": r.email}}))
        .await;
    assert_code(&bad, "VALIDATION");
    assert_eq!(
        names(
            &app.gql_ok(reader, q, json!({"f": {"status": "ACTIVE"}}))
                .await
        ),
        ["Orders"]
    );
    assert_eq!(
        names(
            &app.gql_ok(reader, q, json!({"f": {"reviewDueBy": "2026-11-23"}}))
                .await
        ),
        ["Orders"]
    );
    assert_eq!(
        names(
            &app.gql_ok(
                reader,
                q,
                json!({"f": {"search": "MEAL", "status": "RETIRED"}})
            )
            .await
        ),
        ["Meal allergies"]
    );
    let _ = (r.payfast, r.parcel, r.us_transfer, r.tax);
}
e2e!(filters, activities_can_be_filtered_as_frontends_need);

/// The number of SQL statements for a page does not grow with the page size.
async fn a_page_costs_the_same_statements_for_10_and_100_activities(app: TestApp) {
    let r = register(&app).await;
    let principal = workflow::Principal {
        key_id: app.key_ids[&Role::Dpo],
        org_id: app.org_id,
        key_name: "t".into(),
        kind: workflow::PrincipalKind::ApiKey,
    };
    let uuid = |gid: &str| {
        api::graphql::ids::decode_any(&async_graphql::ID(gid.to_owned()), &["x"])
            .unwrap()
            .1
    };
    for i in 0..100 {
        let draft = workflow::register::activities::ActivityDraft {
            name: format!("Activity {i:03}"),
            status: Some(workflow::register::activities::ActivityStatus::Active),
            purpose_ids: vec![uuid(&r.contract), uuid(&r.newsletter)],
            data_category_ids: vec![uuid(&r.email)],
            subject_category_ids: vec![uuid(&r.customers)],
            recipient_ids: vec![uuid(&r.payfast), uuid(&r.parcel)],
            transfer_ids: vec![uuid(&r.us_transfer)],
            source_ids: vec![uuid(&r.mailbox)],
            retention_policy_id: Some(uuid(&r.tax)),
            ..Default::default()
        };
        app.workflow
            .create_processing_activity(&principal, draft)
            .await
            .unwrap();
    }
    // What the issue names: purposes with legal bases, data categories, sources,
    // recipients, transfers; then everything an activity links to.
    let q = "query($n: Int) { processingActivities(first: $n) { totalCount nodes { name
        purposes { name legalBasis } dataCategories { key } sources { name connectorKind }
        recipients { name } transfers { country safeguard } } } }";
    let q_all = "query($n: Int) { processingActivities(first: $n) { totalCount nodes { name
        purposes { name legalBasis } dataCategories { key } subjectCategories { key }
        sources { name } recipients { name } transfers { country }
        retentionPolicy { duration } } } }";
    // The first use of a key records `lastUsedAt` (at most once a minute); that is
    // not a cost of the page, so use the key once before measuring.
    app.gql_ok(app.key(Role::Auditor), "{ me { apiKeyName } }", json!({}))
        .await;
    let count = |q: &'static str, n: i32| {
        let app = &app;
        async move {
            let before = app.workflow.store().statements_executed();
            let data = app.gql_ok(app.key(Role::Auditor), q, json!({"n": n})).await;
            let spent = app.workflow.store().statements_executed() - before;
            let nodes = data["processingActivities"]["nodes"].as_array().unwrap();
            assert_eq!(nodes.len(), n as usize);
            assert_eq!(nodes[0]["purposes"].as_array().unwrap().len(), 2);
            assert_eq!(nodes[n as usize - 1]["transfers"][0]["country"], "US");
            assert_eq!(
                nodes[n as usize - 1]["sources"][0]["name"],
                "Support mailbox"
            );
            spent
        }
    };
    let counts = [count(q, 10).await, count(q, 100).await];
    assert_eq!(
        counts[0], counts[1],
        "statements for 10 vs 100 rows: {counts:?}"
    );
    // key lookup, policy revision (rules changed by another process?), count, rows,
    // and one per relation (5)
    assert!(
        counts[1] <= 9,
        "at most 9 statements per page, got {counts:?}"
    );
    let all = [count(q_all, 10).await, count(q_all, 100).await];
    assert_eq!(all[0], all[1], "statements for 10 vs 100 rows: {all:?}");
    assert_eq!(
        all[0],
        counts[0] + 2,
        "subject categories and retention: one each"
    );
}
e2e!(
    statement_count,
    a_page_costs_the_same_statements_for_10_and_100_activities
);

async fn register_findings_point_the_dpo_at_the_gaps(app: TestApp) {
    let r = register(&app).await;
    let dpo = app.key(Role::Dpo);
    let scoring = app
        .gql_ok(dpo, CREATE, json!({"i": {
            "name": "Allergy profile", "status": "ACTIVE", "purposeIds": [r.care], "dataCategoryIds": [r.health],
            "subjectCategoryIds": [r.customers], "recipientIds": [r.payfast], "nextReviewOn": "2026-06-30",
            "automatedDecisionMaking": true, "automatedDecisionLogic": "Suggests meals without allergens."
        }}))
        .await["createProcessingActivity"]["processingActivity"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q = "query($min: FindingSeverity, $asOf: NaiveDate) { registerFindings(filter: {minSeverity: $min, asOf: $asOf}, first: 100) { totalCount nodes { kind severity objectType objectId message } } }";
    let all = app
        .gql_ok(app.key(Role::Auditor), q, json!({"asOf": "2026-11-23"}))
        .await;
    let findings = all["registerFindings"]["nodes"].as_array().unwrap().clone();
    let kinds: Vec<(&str, &str)> = findings
        .iter()
        .map(|f| (f["kind"].as_str().unwrap(), f["severity"].as_str().unwrap()))
        .collect();
    for expected in [
        ("SPECIAL_DATA_WITHOUT_DPIA", "ERROR"),
        ("THIRD_COUNTRY_RECIPIENT_WITHOUT_TRANSFER", "ERROR"),
        ("ACTIVITY_WITHOUT_RETENTION", "WARNING"),
        ("REVIEW_OVERDUE", "WARNING"),
        ("AUTOMATED_DECISIONS_WITHOUT_DPIA", "WARNING"),
        ("CONTROLLER_DETAILS_INCOMPLETE", "WARNING"),
        ("PURPOSE_WITHOUT_ACTIVITY", "INFO"),
        ("RECIPIENT_WITHOUT_ACTIVITY", "INFO"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }
    let severities: Vec<&str> = kinds.iter().map(|(_, s)| *s).collect();
    let mut sorted = severities.clone();
    sorted.sort_by_key(|s| match *s {
        "ERROR" => 0,
        "WARNING" => 1,
        _ => 2,
    });
    assert_eq!(severities, sorted, "most severe first");
    let third = findings
        .iter()
        .find(|f| f["kind"] == "THIRD_COUNTRY_RECIPIENT_WITHOUT_TRANSFER")
        .unwrap();
    assert_eq!(third["objectId"], scoring.as_str());
    assert!(
        third["message"].as_str().unwrap().contains("PayFast Inc."),
        "{third}"
    );
    // Only errors.
    let errors = app
        .gql_ok(
            app.key(Role::Auditor),
            q,
            json!({"min": "ERROR", "asOf": "2026-11-23"}),
        )
        .await;
    assert_eq!(errors["registerFindings"]["totalCount"], 2);
    // Fixing the gaps removes the findings.
    app.gql_ok(dpo, "mutation($i: UpdateProcessingActivityInput!) { updateProcessingActivity(input: $i) { processingActivity { id } } }",
        json!({"i": {"id": scoring, "dpiaRequired": true, "transferIds": [r.us_transfer], "retentionPolicyId": r.tax, "nextReviewOn": "2027-06-30"}}))
        .await;
    let after = app
        .gql_ok(app.key(Role::Auditor), q, json!({"asOf": "2026-11-23"}))
        .await;
    let kinds: Vec<&str> = after["registerFindings"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    for gone in [
        "SPECIAL_DATA_WITHOUT_DPIA",
        "THIRD_COUNTRY_RECIPIENT_WITHOUT_TRANSFER",
        "ACTIVITY_WITHOUT_RETENTION",
        "REVIEW_OVERDUE",
        "AUTOMATED_DECISIONS_WITHOUT_DPIA",
    ] {
        assert!(!kinds.contains(&gone), "{gone} should be fixed: {kinds:?}");
    }
}
e2e!(findings, register_findings_point_the_dpo_at_the_gaps);
