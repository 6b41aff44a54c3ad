//! One person, one identity, however it is spelled: e-mail addresses in NFC and NFD,
//! internationalized domains in Unicode and punycode, phone numbers with and without
//! country code or trunk prefix are matched to one subject; invalid numbers are
//! refused; stored identities are re-normalized by the migration.

use sea_orm::{ConnectionTrait, Database, EntityTrait, QueryOrder};
use serde_json::{Value, json};
use uuid::Uuid;
use workflow::Role;
use workflow::entity::{data_subject, request_event, subject_identity, subject_request};

use crate::common::{Backend, TestApp, TestDb, assert_code, e2e};

const FIELDS: &str = "id duplicateOfId identities { kind value valueAsGiven }";

async fn submit_as(app: &TestApp, identities: Value) -> Value {
    app.gql(
        app.key(Role::Integrator),
        &format!("mutation($i: SubmitRequestInput!) {{ submitRequest(input: $i) {{ request {{ {FIELDS} }} }} }}"),
        json!({"i": {"kind": "ACCESS", "channel": "EMAIL", "identities": identities}}),
    )
    .await
}

async fn submit(app: &TestApp, kind: &str, value: &str) -> Value {
    let body = submit_as(app, json!([{"kind": kind, "value": value}])).await;
    assert!(body.get("errors").is_none(), "{value}: {body:#}");
    body["data"]["submitRequest"]["request"].clone()
}

async fn count_with_identity(app: &TestApp, kind: &str, value: &str) -> i64 {
    app.gql_ok(
        app.key(Role::Agent),
        "query($k: IdentityType!, $v: String!) { requests(filter: {identity: {kind: $k, value: $v}}) { totalCount } }",
        json!({"k": kind, "v": value}),
    )
    .await["requests"]["totalCount"]
        .as_i64()
        .unwrap()
}

async fn mailboxes_in_nfc_nfd_and_punycode_are_one_subject(app: TestApp) {
    let nfc = "j\u{f6}rg.wei\u{df}@beispiel.example";
    let nfd = "jo\u{308}rg.wei\u{df}@beispiel.example";
    let first = submit(&app, "EMAIL", nfc).await;
    let second = submit(&app, "EMAIL", nfd).await;
    assert_eq!(second["duplicateOfId"], first["id"], "{second:#}");
    assert_eq!(
        second["identities"],
        json!([{"kind": "EMAIL", "value": nfc, "valueAsGiven": nfc}])
    );
    assert_eq!(count_with_identity(&app, "EMAIL", nfd).await, 2);
    assert_eq!(
        count_with_identity(&app, "EMAIL", "JO\u{308}RG.WEI\u{df}@Beispiel.Example").await,
        2
    );
    // A different mailbox that differs only by the accent stays another person
    // (MariaDB's default collation would take them for one).
    let other = submit(&app, "EMAIL", "jorg.wei\u{df}@beispiel.example").await;
    assert_eq!(other["duplicateOfId"], Value::Null, "{other:#}");
    assert_eq!(count_with_identity(&app, "EMAIL", nfc).await, 2);

    // An internationalized domain in its Unicode and its ASCII spelling.
    let unicode = submit(&app, "EMAIL", "Info@B\u{fc}cher.example").await;
    let ascii = submit(&app, "EMAIL", "info@xn--bcher-kva.example").await;
    assert_eq!(ascii["duplicateOfId"], unicode["id"], "{ascii:#}");
    assert_eq!(
        ascii["identities"],
        json!([{"kind": "EMAIL", "value": "info@xn--bcher-kva.example", "valueAsGiven": "Info@B\u{fc}cher.example"}])
    );
    assert_eq!(
        count_with_identity(&app, "EMAIL", "info@bu\u{308}cher.example").await,
        2
    );
}
e2e!(
    mailbox_spellings,
    mailboxes_in_nfc_nfd_and_punycode_are_one_subject
);

async fn numbers_in_every_spelling_are_one_subject(app: TestApp) {
    let international = submit(&app, "PHONE", "+49 (0)221 9876543").await;
    assert_eq!(
        international["identities"],
        json!([{"kind": "PHONE", "value": "+492219876543", "valueAsGiven": "+49 (0)221 9876543"}])
    );
    let national = submit(&app, "PHONE", "0221 9876543").await;
    assert_eq!(
        national["duplicateOfId"], international["id"],
        "{national:#}"
    );
    // Typed without the leading zero: a German number, not Senegal (+221).
    let no_zero = submit(&app, "PHONE", "221 9876543").await;
    assert_eq!(no_zero["duplicateOfId"], international["id"], "{no_zero:#}");
    assert_eq!(
        count_with_identity(&app, "PHONE", "+4902219876543").await,
        3
    );

    for bad in ["12345", "+221 9876543"] {
        let body = submit_as(
            &app,
            json!([{"kind": "EMAIL", "value": "ok@example.com"}, {"kind": "PHONE", "value": bad}]),
        )
        .await;
        assert_code(&body, "VALIDATION");
        assert_eq!(
            body["errors"][0]["extensions"]["fields"][0]["path"],
            json!(["input", "identities", "1", "value"]),
            "{bad}: {body:#}"
        );
    }
    let body = app
        .gql(
            app.key(Role::Agent),
            "{ requests(filter: {identity: {kind: PHONE, value: \"12345\"}}) { totalCount } }",
            json!({}),
        )
        .await;
    assert_code(&body, "VALIDATION");

    // The organization's default region reads national numbers.
    let admin = app.key(Role::Admin);
    let settings = app
        .gql_ok(
            admin,
            "mutation { updateRequestSettings(input: {phoneRegion: \"at\"}) { settings { phoneRegion } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        settings["updateRequestSettings"]["settings"]["phoneRegion"],
        "AT"
    );
    let vienna = submit(&app, "PHONE", "01 5123456").await;
    assert_eq!(vienna["identities"][0]["value"], "+4315123456");
    for bad in ["XX", "DEU", ""] {
        let body = app
            .gql(
                admin,
                "mutation($r: String!) { updateRequestSettings(input: {phoneRegion: $r}) { settings { phoneRegion } } }",
                json!({"r": bad}),
            )
            .await;
        assert_code(&body, "VALIDATION");
        assert_eq!(
            body["errors"][0]["extensions"]["fields"][0]["path"],
            json!(["input", "phoneRegion"])
        );
    }
}
e2e!(number_spellings, numbers_in_every_spelling_are_one_subject);

/// Rows as the old intake stored them, inserted before migration 17 runs (plain
/// statements with typed values, bound as sea-orm binds them for entities).
async fn insert_old_rows(db: &sea_orm::DatabaseConnection) -> (Vec<Uuid>, Vec<Uuid>) {
    use sea_orm::sea_query::{Alias, Query, SimpleExpr};
    let at = |s: &str| -> SimpleExpr {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .to_utc()
            .into()
    };
    let insert = |table: &str, columns: &[&str], values: Vec<SimpleExpr>| {
        Query::insert()
            .into_table(Alias::new(table))
            .columns(columns.iter().map(|c| Alias::new(*c)))
            .values_panic(values)
            .to_owned()
    };
    let org = Uuid::now_v7();
    db.execute(&insert(
        "organization",
        &["id", "name", "created_at", "updated_at"],
        vec![
            org.into(),
            "Alt".into(),
            at("2026-01-01T00:00:00Z"),
            at("2026-01-01T00:00:00Z"),
        ],
    ))
    .await
    .unwrap();
    // Three subjects of one person (an e-mail in NFC with a Unicode domain and in NFD
    // with the punycode domain, a phone spelled two ways by the old intake), and one
    // other person.
    let subjects: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
    for (i, s) in subjects.iter().enumerate() {
        db.execute(&insert(
            "data_subject",
            &["id", "org_id", "created_at"],
            vec![
                (*s).into(),
                org.into(),
                at(&format!("2026-01-0{}T00:00:00Z", i + 1)),
            ],
        ))
        .await
        .unwrap();
    }
    let identities = [
        (0, "EMAIL", "j\u{f6}rg@b\u{fc}cher.example", None),
        (0, "PHONE", "+4902219876543", None),
        // NFD and punycode (rows that MariaDB's collation would not even tell
        // apart when only one of the two differed).
        (
            1,
            "EMAIL",
            "jo\u{308}rg@xn--bcher-kva.example",
            Some("2026-01-05T00:00:00Z"),
        ),
        (2, "PHONE", "+2219876543", None),
        (3, "EMAIL", "info@b\u{fc}cher.example", None),
        (3, "PHONE", "+12345", None),
    ];
    for (i, (subject, kind, value, verified)) in identities.iter().enumerate() {
        db.execute(&insert(
            "subject_identity",
            &[
                "id",
                "org_id",
                "subject_id",
                "kind",
                "value",
                "verified_at",
                "created_at",
            ],
            vec![
                Uuid::now_v7().into(),
                org.into(),
                subjects[*subject].into(),
                (*kind).into(),
                (*value).into(),
                match verified {
                    Some(v) => at(v),
                    None => Option::<chrono::DateTime<chrono::Utc>>::None.into(),
                },
                at(&format!("2026-01-0{}T00:00:00Z", i + 1)),
            ],
        ))
        .await
        .unwrap();
    }
    // One open ACCESS request per subject of the first person, received in order.
    let mut requests = Vec::new();
    for (i, subject) in subjects[..3].iter().enumerate() {
        let id = Uuid::now_v7();
        requests.push(id);
        let received = at(&format!("2026-02-0{}T10:00:00Z", i + 1));
        db.execute(&insert(
            "subject_request",
            &[
                "id",
                "org_id",
                "subject_id",
                "kind",
                "state",
                "channel",
                "received_at",
                "deadline_basis",
                "due_sort_key",
                "is_test",
                "version",
                "possibly_excessive",
                "state_changed_at",
                "created_at",
                "updated_at",
            ],
            vec![
                id.into(),
                org.into(),
                (*subject).into(),
                "ACCESS".into(),
                "RECEIVED".into(),
                "EMAIL".into(),
                received.clone(),
                "RECEIPT".into(),
                format!("9999-12-31/{id}").into(),
                false.into(),
                1.into(),
                false.into(),
                received.clone(),
                received.clone(),
                received,
            ],
        ))
        .await
        .unwrap();
    }
    (subjects, requests)
}

async fn stored_identities_are_renormalized_and_merged(backend: Backend) {
    let Some(test_db) = TestDb::create(backend).await else {
        eprintln!("skipped: {backend:?} not configured");
        return;
    };
    let db = Database::connect(&test_db.url).await.unwrap();
    use migration::MigratorTrait;
    migration::Migrator::up(&db, Some(16)).await.unwrap();
    let (subjects, requests) = insert_old_rows(&db).await;
    migration::Migrator::up(&db, None).await.unwrap();

    let identities = subject_identity::Entity::find()
        .order_by_asc(subject_identity::Column::CreatedAt)
        .all(&db)
        .await
        .unwrap();
    let spelled: Vec<(Uuid, &str, &str, &str, bool)> = identities
        .iter()
        .map(|i| {
            (
                i.subject_id,
                i.kind.as_str(),
                i.value.as_str(),
                i.value_as_given.as_str(),
                i.verified_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        spelled,
        vec![
            (
                subjects[0],
                "PHONE",
                "+492219876543",
                "+4902219876543",
                false
            ),
            // The NFD row was verified: it is the one kept.
            (
                subjects[0],
                "EMAIL",
                "j\u{f6}rg@xn--bcher-kva.example",
                "jo\u{308}rg@xn--bcher-kva.example",
                true
            ),
            (
                subjects[3],
                "EMAIL",
                "info@xn--bcher-kva.example",
                "info@b\u{fc}cher.example",
                false
            ),
            // Invalid, but stored: kept as it was.
            (subjects[3], "PHONE", "+12345", "+12345", false),
        ]
    );
    let remaining: Vec<Uuid> = data_subject::Entity::find()
        .order_by_asc(data_subject::Column::CreatedAt)
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(remaining, vec![subjects[0], subjects[3]]);
    let stored = subject_request::Entity::find()
        .order_by_asc(subject_request::Column::ReceivedAt)
        .all(&db)
        .await
        .unwrap();
    assert!(stored.iter().all(|r| r.subject_id == subjects[0]));
    let links: Vec<Option<Uuid>> = stored.iter().map(|r| r.duplicate_of).collect();
    assert_eq!(links, vec![None, Some(requests[0]), Some(requests[0])]);
    let notes = request_event::Entity::find().all(&db).await.unwrap();
    assert_eq!(notes.len(), 2);
    assert!(notes.iter().all(|n| {
        n.message
            .as_deref()
            .is_some_and(|m| m.contains(&requests[0].to_string()))
    }));
    db.close().await.ok();
}

mod migration_renormalizes {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        stored_identities_are_renormalized_and_merged(Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        stored_identities_are_renormalized_and_merged(Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mysql() {
        stored_identities_are_renormalized_and_merged(Backend::Mysql).await
    }
}

/// First requests of one new person sent at once (a double click, a form and an
/// e-mail): every one is taken in, the identity is stored once, all requests belong
/// to its one subject, and all but the first are marked as duplicates. The losers of
/// the race for the new identity are taken in again instead of failing.
async fn concurrent_first_requests_of_one_person_share_one_subject(app: TestApp) {
    use sea_orm::{ColumnTrait, QueryFilter};
    for round in 0..3 {
        let email = format!("Race{round}@Example.com");
        let mut calls = Vec::new();
        for _ in 0..8 {
            let (client, url) = (app.client.clone(), app.url("/graphql"));
            let key = app.key(Role::Integrator).to_owned();
            let email = email.clone();
            calls.push(tokio::spawn(async move {
                let body: Value = client
                    .post(url)
                    .bearer_auth(key)
                    .json(&json!({
                        "query": format!("mutation($i: SubmitRequestInput!) {{ submitRequest(input: $i) {{ request {{ {FIELDS} }} }} }}"),
                        "variables": {"i": {"kind": "ACCESS", "channel": "WEB_FORM",
                                            "identities": [{"kind": "EMAIL", "value": email}]}}}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                body
            }));
        }
        let mut originals = 0;
        for call in calls {
            let body = call.await.unwrap();
            assert!(body.get("errors").is_none(), "{body:#}");
            originals +=
                usize::from(body["data"]["submitRequest"]["request"]["duplicateOfId"].is_null());
        }
        assert!(originals >= 1);
        let conn = app.workflow.store().conn();
        let stored = subject_identity::Entity::find()
            .filter(subject_identity::Column::Value.eq(email.to_lowercase()))
            .all(conn)
            .await
            .unwrap();
        assert_eq!(stored.len(), 1, "one identity: {stored:?}");
        let of_subject = subject_request::Entity::find()
            .filter(subject_request::Column::SubjectId.eq(stored[0].subject_id))
            .all(conn)
            .await
            .unwrap();
        assert_eq!(
            of_subject.len(),
            8,
            "all eight requests belong to its subject"
        );
    }
}
e2e!(
    first_request_race,
    concurrent_first_requests_of_one_person_share_one_subject
);
