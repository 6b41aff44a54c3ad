//! The consent ledger over HTTP on the demo, as a shop's sign-up form, its campaign
//! tool and the subscriber would use it: a double opt-in mailed through a real SMTP
//! server and confirmed on the link's page (GET shows, POST confirms), campaign
//! checks with the reason for every identity left out, the subscriber's one-click
//! unsubscribe link, `consent.changed` webhooks signed to a real receiver, CSV
//! import all or nothing, and bad input refused with its place.

use serde_json::{Value, json};
use workflow::Role;
use workflow::core::outbox::SmtpMailer;

use crate::common::{TestApp, assert_code, create_org, error_paths};
use crate::demo::{demo_e2e, gql};
use crate::smtp::SmtpServer;
use crate::webhooks::{Receiver, deliver_all, verify};

const NEW: &str = "neu.kundin@example.org";

pub(crate) const CHECK: &str = "query($p: ID!, $c: ConsentChannel!, $i: IdentityInput!) { consentCheck(purposeId: $p, channel: $c, identity: $i) { allowed reason unsubscribeUrl consent { id state identity events { action state previousState source textVersion ip userAgent actorName } } } }";
const BULK: &str = "query($p: ID!, $c: ConsentChannel!, $ids: [String!]!) { consentCheckBulk(purposeId: $p, channel: $c, identities: $ids) { allowed unsubscribeUrls excluded { reason identities } } }";
pub(crate) const REQUEST_CONSENT: &str = "mutation($in: RequestConsentInput!) { requestConsent(input: $in) { consent { id state expiresAt identity } } }";
const RECORD: &str =
    "mutation($in: RecordConsentInput!) { recordConsent(input: $in) { consent { id state } } }";
const IMPORT: &str = "mutation($in: ImportConsentsInput!) { importConsents(input: $in) { rows changed unchanged dryRun } }";
const COUNT: &str = "query { consents(first: 1) { totalCount } }";

/// The global ID of the demo's purpose `name`.
pub(crate) async fn purpose(app: &TestApp, name: &str) -> String {
    let data = gql(
        app,
        Role::Integrator,
        "query { purposes(first: 100) { nodes { id name } } }",
        json!({}),
    )
    .await;
    data["purposes"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no purpose {name}: {data}"))["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A check of `email` for the newsletter by e-mail.
pub(crate) async fn check(app: &TestApp, newsletter: &str, email: &str) -> Value {
    gql(
        app,
        Role::Integrator,
        CHECK,
        json!({"p": newsletter, "c": "EMAIL", "i": {"kind": "EMAIL", "value": email}}),
    )
    .await["consentCheck"]
        .clone()
}

/// Delivers the outbox to `server` and returns the confirmation link mailed to `to`
/// (the last one), as a path on the test's server.
pub(crate) async fn confirmation_link(app: &TestApp, server: &SmtpServer, to: &str) -> String {
    let mailer = SmtpMailer::new(&server.url(None), "datenschutz@shop.example", None).unwrap();
    for _ in 0..3 {
        app.workflow.deliver_outbox(&mailer, 100).await.unwrap();
    }
    let mail = server
        .received()
        .into_iter()
        .rev()
        .find(|m| m.to.iter().any(|t| t == to))
        .unwrap_or_else(|| panic!("no mail to {to}"));
    let parsed = mail.parsed();
    let text = parsed.body_text(0).unwrap().into_owned();
    assert!(
        parsed.subject().unwrap().contains("Please confirm"),
        "{text}"
    );
    let start = text.find("/consent/confirm/").expect("a confirmation link");
    text[start..].split_whitespace().next().unwrap().to_owned()
}

/// POSTs to a link of the subject's pages with a browser's user agent.
pub(crate) async fn post(app: &TestApp, path: &str, body: &str) -> (u16, String) {
    let response = app
        .client
        .post(app.url(path))
        .header("user-agent", "Mozilla/5.0 (Test)")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn get(app: &TestApp, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

fn evidence() -> Value {
    json!({"source": "shop sign-up form", "textVersion": "newsletter-2026-11", "ip": "203.0.113.7", "userAgent": "Mozilla/5.0"})
}

async fn double_opt_in_campaign_checks_and_unsubscribe(app: TestApp) {
    let newsletter = purpose(&app, "Newsletter").await;
    let server = SmtpServer::start(None).await;
    let receiver = Receiver::default();
    let hook = receiver.start().await;
    let created = gql(
        &app,
        Role::Admin,
        "mutation($in: CreateWebhookSubscriptionInput!) { createWebhookSubscription(input: $in) { secret } }",
        json!({"in": {"url": hook, "events": ["CONSENT_CHANGED"]}}),
    )
    .await;
    let secret = created["createWebhookSubscription"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    // The demo's ledger came in from the CRM export: Erika subscribed, Max
    // unsubscribed by phone.
    assert_eq!(
        check(&app, &newsletter, "erika.mustermann@example.org").await["allowed"],
        true
    );
    let max = check(&app, &newsletter, "max.mustermann@example.org").await;
    assert_eq!(max["reason"], "WITHDRAWN", "{max}");
    let events = &max["consent"]["events"];
    assert_eq!(events[0]["action"], "IMPORTED");
    assert_eq!(events[1]["previousState"], "GRANTED");
    assert_eq!(
        events[1]["source"],
        "call to customer service (CRM activity a-602)"
    );

    // Double opt-in: the sign-up form asks, the address gets a link.
    let asked = gql(
        &app,
        Role::Integrator,
        REQUEST_CONSENT,
        json!({"in": {"purposeId": newsletter, "email": NEW, "evidence": evidence()}}),
    )
    .await;
    let consent = &asked["requestConsent"]["consent"];
    assert_eq!(consent["state"], "PENDING");
    assert!(consent["expiresAt"].is_string());
    assert!(
        !asked.to_string().contains("/consent/confirm/"),
        "the token stays in the mail"
    );
    assert_eq!(check(&app, &newsletter, NEW).await["reason"], "PENDING");
    // Asking again at once is refused (no mail bombing through the form).
    let again = app
        .gql(
            app.key(Role::Integrator),
            REQUEST_CONSENT,
            json!({"in": {"purposeId": newsletter, "email": NEW, "evidence": evidence()}}),
        )
        .await;
    assert_code(&again, "CONFLICT");

    let link = confirmation_link(&app, &server, NEW).await;
    // GET shows what is confirmed and changes nothing (mail scanners follow links).
    let (status, page, headers) = get(&app, &link).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Newsletter") && page.contains("<form method=\"post\">"),
        "{page}"
    );
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(check(&app, &newsletter, NEW).await["reason"], "PENDING");
    // POST confirms, with the person's IP address and user agent as evidence.
    let (status, page) = post(&app, &link, "").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("confirmed"), "{page}");
    let granted = check(&app, &newsletter, NEW).await;
    assert_eq!(granted["allowed"], true, "{granted}");
    let events = granted["consent"]["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["action"], "REQUESTED");
    assert_eq!(events[0]["ip"], "203.0.113.7");
    assert_eq!(events[0]["textVersion"], "newsletter-2026-11");
    assert_eq!(events[1]["action"], "CONFIRMED");
    assert_eq!(events[1]["ip"], "127.0.0.1");
    assert_eq!(events[1]["userAgent"], "Mozilla/5.0 (Test)");
    assert_eq!(events[1]["actorName"], "subject (consent link)");
    // A second click changes nothing; asking again is refused (granted already).
    let (status, _) = post(&app, &link, "").await;
    assert_eq!(status, 200);
    assert_eq!(
        check(&app, &newsletter, NEW).await["consent"]["events"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let again = app
        .gql(
            app.key(Role::Integrator),
            REQUEST_CONSENT,
            json!({"in": {"purposeId": newsletter, "email": NEW, "evidence": evidence()}}),
        )
        .await;
    assert_code(&again, "CONFLICT");
    // Unknown and malformed links are 404 pages.
    for bad in [
        "/consent/confirm/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "/consent/confirm/%3Cscript%3E",
        "/consent/unsubscribe/00000000000000000000000000000000000000000000000000000000000000000",
    ] {
        assert_eq!(post(&app, bad, "").await.0, 404, "{bad}");
        assert_eq!(get(&app, bad).await.0, 404, "{bad}");
    }

    // A campaign list: the allowed subset, and every other identity by reason.
    let restricted = gql(
        &app,
        Role::Integrator,
        "mutation($e: String!) { submitRequest(input: {kind: OBJECTION, channel: WEB_FORM, identities: [{kind: EMAIL, value: $e}]}) { request { id } } }",
        json!({"e": "Erika.Mustermann@example.org"}),
    )
    .await;
    assert!(restricted["submitRequest"]["request"]["id"].is_string());
    let list = json!([
        " Neu.Kundin@EXAMPLE.org ",
        "erika.mustermann@example.org",
        "max.mustermann@example.org",
        "aylin.demir@example.net",
        "not an address",
        "nobody@example.com",
    ]);
    let bulk = gql(
        &app,
        Role::Integrator,
        BULK,
        json!({"p": newsletter, "c": "EMAIL", "ids": list}),
    )
    .await["consentCheckBulk"]
        .clone();
    assert_eq!(
        bulk["allowed"],
        json!([" Neu.Kundin@EXAMPLE.org "]),
        "{bulk}"
    );
    assert_eq!(
        bulk["excluded"],
        json!([
            {"reason": "INVALID_IDENTITY", "identities": ["not an address"]},
            {"reason": "OBJECTED", "identities": ["erika.mustermann@example.org"]},
            {"reason": "NO_CONSENT", "identities": ["aylin.demir@example.net", "nobody@example.com"]},
            {"reason": "WITHDRAWN", "identities": ["max.mustermann@example.org"]},
        ]),
        "{bulk}"
    );
    let unsubscribe = bulk["unsubscribeUrls"][0].as_str().unwrap().to_owned();
    assert_eq!(
        check(&app, &newsletter, NEW).await["unsubscribeUrl"],
        unsubscribe.as_str()
    );
    // Links never take a host or scheme a caller slips into forwarding headers.
    let spoofed: Value = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(app.key(Role::Integrator))
        .header("x-forwarded-host", "evil.example")
        .header("x-forwarded-proto", "javascript")
        .json(&json!({"query": CHECK, "variables": {"p": newsletter, "c": "EMAIL", "i": {"kind": "EMAIL", "value": NEW}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = spoofed["data"]["consentCheck"]["unsubscribeUrl"]
        .as_str()
        .unwrap_or_else(|| panic!("{spoofed}"));
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    // Another channel's consent is another consent (and a phone number is another
    // identity: the demo never saw it together with Erika's address).
    let phone = gql(
        &app,
        Role::Integrator,
        CHECK,
        json!({"p": newsletter, "c": "PHONE", "i": {"kind": "PHONE", "value": "030 1234567"}}),
    )
    .await;
    assert_eq!(phone["consentCheck"]["reason"], "DENIED", "{phone}");

    // The subscriber's one-click unsubscribe (RFC 8058), then the page says so.
    let path = &unsubscribe[unsubscribe.find("/consent/unsubscribe/").unwrap()..];
    let (status, page, _) = get(&app, path).await;
    assert_eq!(status, 200);
    assert!(page.contains("<form method=\"post\">"));
    assert_eq!(
        check(&app, &newsletter, NEW).await["allowed"],
        true,
        "GET changes nothing"
    );
    let (status, page) = post(&app, path, "List-Unsubscribe=One-Click").await;
    assert_eq!(status, 200, "{page}");
    let withdrawn = check(&app, &newsletter, NEW).await;
    assert_eq!(withdrawn["reason"], "WITHDRAWN");
    assert_eq!(
        withdrawn["consent"]["events"][2]["source"],
        "unsubscribe link"
    );
    assert_eq!(post(&app, path, "").await.0, 200, "twice changes nothing");
    assert_eq!(
        check(&app, &newsletter, NEW).await["consent"]["events"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // The old confirmation link cannot grant again.
    assert_eq!(post(&app, &link, "").await.0, 404);
    assert_eq!(check(&app, &newsletter, NEW).await["reason"], "WITHDRAWN");

    // Every change went to the webhook, signed, naming the identity.
    deliver_all(&app).await;
    let posts = receiver.posts();
    let states: Vec<(String, String)> = posts
        .iter()
        .map(|p| {
            assert!(verify(&secret, p), "signature of {p:?}");
            assert_eq!(p.event, "consent.changed");
            let body: Value = serde_json::from_str(&p.body).unwrap();
            assert_eq!(body["data"]["identity"]["value"], NEW);
            (
                body["data"]["previousState"]
                    .as_str()
                    .unwrap_or("-")
                    .to_owned(),
                body["data"]["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut states = states;
    states.sort();
    assert_eq!(
        states,
        [
            ("-".to_owned(), "PENDING".to_owned()),
            ("GRANTED".to_owned(), "WITHDRAWN".to_owned()),
            ("PENDING".to_owned(), "GRANTED".to_owned()),
        ]
    );

    // An expired link: PENDING until it ends, then EXPIRED, and confirming is 410.
    let late = "spaet@example.org";
    gql(
        &app,
        Role::Integrator,
        REQUEST_CONSENT,
        json!({"in": {"purposeId": newsletter, "email": late, "evidence": evidence(), "expiresInDays": 1}}),
    )
    .await;
    let late_link = confirmation_link(&app, &server, late).await;
    {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        use workflow::entity::consent;
        consent::Entity::update_many()
            .col_expr(
                consent::Column::ExpiresAt,
                sea_orm::sea_query::Expr::value(chrono::Utc::now() - chrono::Duration::hours(1)),
            )
            .filter(consent::Column::State.eq("PENDING"))
            .exec(app.workflow.store().conn())
            .await
            .unwrap();
    }
    assert_eq!(check(&app, &newsletter, late).await["reason"], "EXPIRED");
    let (status, page) = post(&app, &late_link, "").await;
    assert_eq!(status, 410, "{page}");
    assert_eq!(check(&app, &newsletter, late).await["reason"], "EXPIRED");
}
demo_e2e!(
    consent_double_opt_in,
    double_opt_in_campaign_checks_and_unsubscribe
);

async fn consent_input_is_checked_and_imports_are_all_or_nothing(app: TestApp) {
    let newsletter = purpose(&app, "Newsletter").await;
    // An identity given where an object belongs: coded, and the address is not
    // repeated in the message.
    let body = app
        .gql(
            app.key(Role::Integrator),
            "query($p: ID!) { consentCheck(purposeId: $p, channel: EMAIL, identity: \"rené@example.org\") { allowed } }",
            json!({"p": newsletter}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert!(!body.to_string().contains("rené"), "{body}");
    let body = app
        .gql(
            app.key(Role::Integrator),
            CHECK,
            json!({"p": newsletter, "c": "EMAIL", "i": "rené@example.org"}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert!(!body.to_string().contains("rené"), "{body}");
    let record = |input: Value| {
        let app = &app;
        async move {
            app.gql(app.key(Role::Agent), RECORD, json!({"in": input}))
                .await
        }
    };
    let base = json!({"purposeId": newsletter, "channel": "EMAIL", "identity": {"kind": "EMAIL", "value": "anruf@example.org"}, "state": "GRANTED", "evidence": {"source": "call centre"}});
    let with = |extra: Value| {
        let mut input = base.clone();
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        input
    };
    for (input, path) in [
        (with(json!({"state": "PENDING"})), "input.state"),
        (with(json!({"channel": "PHONE"})), "input.identity.kind"),
        (
            with(json!({"identity": {"kind": "EMAIL", "value": "kein at"}})),
            "input.identity.value",
        ),
        (with(json!({"evidence": {}})), "input.evidence.source"),
        (
            with(json!({"evidence": {"source": "x", "ip": "999.1.1.1"}})),
            "input.evidence.ip",
        ),
        (
            with(json!({"evidence": {"source": "x", "occurredAt": "2999-01-01T00:00:00Z"}})),
            "input.evidence.occurredAt",
        ),
        (
            with(json!({"evidence": {"source": "x".repeat(201)}})),
            "input.evidence.source",
        ),
    ] {
        let body = record(input.clone()).await;
        assert_code(&body, "VALIDATION");
        assert_eq!(error_paths(&body), [path], "{input}: {body}");
    }
    let body = record(with(
        json!({"purposeId": "UHVycG9zZTowMDAwMDAwMC0wMDAwLTAwMDAtMDAwMC0wMDAwMDAwMDAwMDE"}),
    ))
    .await;
    assert_code(&body, "NOT_FOUND");
    let before = gql(&app, Role::Auditor, COUNT, json!({})).await["consents"]["totalCount"].clone();
    // A phone consent recorded from a call, with its time.
    let body = record(json!({"purposeId": newsletter, "channel": "PHONE", "identity": {"kind": "PHONE", "value": "+49 170 5550100"}, "state": "GRANTED", "evidence": {"source": "outbound call, recorded", "occurredAt": "2026-11-02T10:00:00Z"}})).await;
    assert_eq!(
        body["data"]["recordConsent"]["consent"]["state"], "GRANTED",
        "{body}"
    );
    // requestConsent only for e-mail proof; confirmConsent only with a real token.
    let body = app
        .gql(
            app.key(Role::Integrator),
            REQUEST_CONSENT,
            json!({"in": {"purposeId": newsletter, "channel": "PHONE", "email": NEW, "evidence": evidence()}}),
        )
        .await;
    assert_eq!(error_paths(&body), ["input.channel"], "{body}");
    let body = app
        .gql(
            app.key(Role::Integrator),
            REQUEST_CONSENT,
            json!({"in": {"purposeId": newsletter, "email": NEW, "evidence": evidence(), "expiresInDays": 31}}),
        )
        .await;
    assert_eq!(error_paths(&body), ["input.expiresInDays"], "{body}");
    let body = app
        .gql(
            app.key(Role::Integrator),
            "mutation { confirmConsent(input: {token: \"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"}) { consent { id } } }",
            json!({}),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    let body = app
        .gql(
            app.key(Role::Integrator),
            "mutation($in: WithdrawConsentInput!) { withdrawConsent(input: $in) { consent { id } } }",
            json!({"in": {"purposeId": newsletter, "channel": "EMAIL", "identity": {"kind": "EMAIL", "value": "unbekannt@example.org"}, "evidence": {"source": "x"}}}),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    // Roles: the auditor reads but does not record; the steward does neither.
    let body = app
        .gql(app.key(Role::Auditor), RECORD, json!({"in": base}))
        .await;
    assert_code(&body, "FORBIDDEN");
    let body = app
        .gql(
            app.key(Role::Steward),
            BULK,
            json!({"p": newsletter, "c": "EMAIL", "ids": ["a@example.org"]}),
        )
        .await;
    assert_code(&body, "FORBIDDEN");
    // Too many identities for one check. Refused before any database work, so one
    // backend suffices: the 2 MB document costs seconds of CPU in a debug build, and
    // three at once starved other tests' 10 s waits.
    if app.db.backend == crate::common::Backend::Sqlite {
        let many: Vec<String> = (0..100_001).map(|i| format!("k{i}@example.org")).collect();
        let body = app
            .gql(
                app.key(Role::Integrator),
                BULK,
                json!({"p": newsletter, "c": "EMAIL", "ids": many}),
            )
            .await;
        assert_code(&body, "VALIDATION");
        assert_eq!(error_paths(&body), ["identities"]);
    }
    // Another organization sees none of it.
    let other = create_org(&app.workflow, "Andere GmbH").await;
    let body = app
        .gql(
            &other.keys[&Role::Integrator],
            CHECK,
            json!({"p": newsletter, "c": "EMAIL", "i": {"kind": "EMAIL", "value": "erika.mustermann@example.org"}}),
        )
        .await;
    assert_code(&body, "NOT_FOUND");
    let body = app.gql(&other.keys[&Role::Auditor], COUNT, json!({})).await;
    assert_eq!(body["data"]["consents"]["totalCount"], 0, "{body}");

    // An import with errors names each bad cell and writes nothing.
    let after_record =
        gql(&app, Role::Auditor, COUNT, json!({})).await["consents"]["totalCount"].clone();
    assert_eq!(after_record.as_i64().unwrap(), before.as_i64().unwrap() + 1);
    let bad = "identity,purpose,channel,state,occurred_at\n\
               gut@example.org,Newsletter,EMAIL,GRANTED,2026-01-01T00:00:00Z\n\
               auch.gut@example.org,Newsletter,FAX,GRANTED,\n\
               drei@example.org,Newsletter,EMAIL,PENDING,\n\
               vier@example.org,Kein Zweck,EMAIL,GRANTED,\n\
               fuenf@example.org,Newsletter,EMAIL,GRANTED,gestern\n\
               keine adresse,Newsletter,EMAIL,DENIED,\n";
    let body = app
        .gql(
            app.key(Role::Integrator),
            IMPORT,
            json!({"in": {"csv": bad}}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    assert_eq!(
        error_paths(&body),
        [
            "input.csv.3.channel",
            "input.csv.4.state",
            "input.csv.5.purpose",
            "input.csv.6.occurred_at",
            "input.csv.7.identity",
        ],
        "{body}"
    );
    let body = app
        .gql(
            app.key(Role::Integrator),
            IMPORT,
            json!({"in": {"csv": "identity,purpose,colour\nx@example.org,Newsletter,blau\n"}}),
        )
        .await;
    assert_eq!(
        error_paths(&body),
        [
            "input.csv.1.colour",
            "input.csv.1.channel",
            "input.csv.1.state"
        ],
        "{body}"
    );
    // A column named twice, and a row with more cells than the header names.
    let body = app
        .gql(
            app.key(Role::Integrator),
            IMPORT,
            json!({"in": {"csv": "state,identity,purpose,channel,state\nGRANTED,x@example.org,Newsletter,EMAIL,DENIED\n"}}),
        )
        .await;
    assert_eq!(error_paths(&body), ["input.csv.1.state"], "{body}");
    let body = app
        .gql(
            app.key(Role::Integrator),
            IMPORT,
            json!({"in": {"csv": "identity,purpose,channel,state\nx@example.org,Newsletter,EMAIL,GRANTED,extra\n"}}),
        )
        .await;
    assert_eq!(error_paths(&body), ["input.csv.2"], "{body}");
    assert_eq!(
        gql(&app, Role::Auditor, COUNT, json!({})).await["consents"]["totalCount"],
        after_record
    );
    // A good file (`;` separated, as German spreadsheets write it): a dry run writes
    // nothing, the import writes every row.
    let good = "Identity;Purpose;Channel;State;Source\n\
                gut@example.org;Newsletter;EMAIL;GRANTED;Messe 2026\n\
                auch.gut@example.org;Newsletter;EMAIL;DENIED;Messe 2026\n\
                erika.mustermann@example.org;Newsletter;EMAIL;GRANTED;Messe 2026\n";
    let dry = gql(
        &app,
        Role::Integrator,
        IMPORT,
        json!({"in": {"csv": good, "dryRun": true}}),
    )
    .await;
    assert_eq!(
        dry["importConsents"],
        json!({"rows": 3, "changed": 3, "unchanged": 0, "dryRun": true})
    );
    assert_eq!(
        gql(&app, Role::Auditor, COUNT, json!({})).await["consents"]["totalCount"],
        after_record
    );
    let done = gql(&app, Role::Integrator, IMPORT, json!({"in": {"csv": good}})).await;
    assert_eq!(
        done["importConsents"],
        json!({"rows": 3, "changed": 2, "unchanged": 1, "dryRun": false})
    );
    assert_eq!(
        gql(&app, Role::Auditor, COUNT, json!({})).await["consents"]["totalCount"]
            .as_i64()
            .unwrap(),
        after_record.as_i64().unwrap() + 2
    );
    let listed = gql(
        &app,
        Role::Reviewer,
        "query($i: IdentityInput!) { consents(filter: {identity: $i}) { nodes { id purposeName channel state identity events { action source } } } }",
        json!({"i": {"kind": "EMAIL", "value": "GUT@example.org"}}),
    )
    .await;
    assert_eq!(
        listed["consents"]["nodes"][0]["events"],
        json!([{"action": "IMPORTED", "source": "Messe 2026"}]),
        "{listed}"
    );
    // A purpose with consents stays: they must remain provable.
    let made = gql(
        &app,
        Role::Dpo,
        "mutation { createPurpose(input: {name: \"Gewinnspiel\", legalBasis: CONSENT}) { purpose { id } } }",
        json!({}),
    )
    .await;
    let contest = made["createPurpose"]["purpose"]["id"].clone();
    let body = record(json!({"purposeId": contest, "channel": "EMAIL", "identity": {"kind": "EMAIL", "value": "gewinner@example.org"}, "state": "GRANTED", "evidence": {"source": "contest form"}})).await;
    assert_eq!(
        body["data"]["recordConsent"]["consent"]["state"], "GRANTED",
        "{body}"
    );
    let body = app
        .gql(
            app.key(Role::Dpo),
            "mutation($id: ID!) { deletePurpose(input: {id: $id}) { __typename } }",
            json!({"id": contest}),
        )
        .await;
    assert_code(&body, "CONFLICT");
    // A consent is a node.
    let id = listed["consents"]["nodes"][0]["id"].clone();
    let node = gql(
        &app,
        Role::Auditor,
        "query($id: ID!) { node(id: $id) { ... on Consent { id state } } }",
        json!({"id": id}),
    )
    .await;
    assert_eq!(node["node"]["state"], "GRANTED");
}
demo_e2e!(
    consent_input,
    consent_input_is_checked_and_imports_are_all_or_nothing
);
