//! Staff sign in through OpenID Connect: a real issuer started by the test on
//! 127.0.0.1 (discovery document and JWKS over HTTP), tokens signed with the test's
//! keys (`tests/fixtures/oidc/`). Valid tokens per role and per algorithm; every
//! kind of bad token refused; keys rotated; four-eyes compares people, not tokens;
//! people listed, deactivated and given extra roles.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use poem::web::Data;
use poem::{EndpointExt, Route, get, handler};
use serde_json::{Value, json};
use tokio::sync::Mutex;
use workflow::Role;

use crate::common::{Backend, TestApp, assert_code, e2e};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/oidc");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

fn public_jwk(kid: &str) -> Value {
    serde_json::from_slice(&fixture(&format!("{kid}.jwk.json"))).unwrap()
}

/// The issuer: its discovery document and the JWKS it currently publishes.
#[derive(Clone)]
struct Issuer {
    url: String,
    jwks: Arc<Mutex<Value>>,
    jwks_fetches: Arc<AtomicUsize>,
}

#[handler]
async fn discovery(issuer: Data<&Issuer>) -> poem::web::Json<Value> {
    poem::web::Json(json!({
        "issuer": issuer.url,
        "jwks_uri": format!("{}/jwks", issuer.url),
        "authorization_endpoint": format!("{}/auth", issuer.url),
        "id_token_signing_alg_values_supported": ["RS256", "ES256", "EdDSA"],
    }))
}

#[handler]
async fn jwks(issuer: Data<&Issuer>) -> poem::web::Json<Value> {
    issuer.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    poem::web::Json(issuer.jwks.lock().await.clone())
}

impl Issuer {
    /// Serves on 127.0.0.1 with the keys `kids` published.
    async fn start(kids: &[&str]) -> Self {
        let published = Arc::new(Mutex::new(Value::Null));
        let fetch_count = Arc::<AtomicUsize>::default();
        let (keys, fetches) = (published.clone(), fetch_count.clone());
        let addr = crate::common::serve_on_loopback(move |addr| {
            let issuer = Self {
                url: format!("http://{addr}/realms/staff"),
                jwks: keys,
                jwks_fetches: fetches,
            };
            Route::new()
                .at(
                    "/realms/staff/.well-known/openid-configuration",
                    get(discovery),
                )
                .at("/realms/staff/jwks", get(jwks))
                .data(issuer)
        })
        .await;
        let issuer = Self {
            url: format!("http://{addr}/realms/staff"),
            jwks: published,
            jwks_fetches: fetch_count,
        };
        issuer.publish(kids).await;
        issuer
    }

    async fn publish(&self, kids: &[&str]) {
        *self.jwks.lock().await =
            json!({"keys": kids.iter().map(|k| public_jwk(k)).collect::<Vec<_>>()});
    }

    fn fetches(&self) -> usize {
        self.jwks_fetches.load(Ordering::SeqCst)
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims of a token of this issuer for `sub`, valid for ten minutes.
fn claims(issuer: &Issuer, sub: &str, roles: &[&str]) -> Value {
    json!({
        "iss": issuer.url,
        "aud": "auskunft",
        "sub": sub,
        "exp": unix_now() + 600,
        "nbf": unix_now() - 5,
        "iat": unix_now() - 5,
        "name": format!("Person {sub}"),
        "email": format!("{sub}@example.com"),
        "realm_access": {"roles": roles},
    })
}

/// Signs `claims` with the fixture key `kid`.
fn sign(kid: &str, claims: &Value) -> String {
    let pem = fixture(&format!("{kid}.pem"));
    let (alg, key) = match kid {
        k if k.starts_with("rsa") => (Algorithm::RS256, EncodingKey::from_rsa_pem(&pem).unwrap()),
        k if k.starts_with("ec") => (Algorithm::ES256, EncodingKey::from_ec_pem(&pem).unwrap()),
        _ => (Algorithm::EdDSA, EncodingKey::from_ed_pem(&pem).unwrap()),
    };
    let mut header = Header::new(alg);
    header.kid = Some(kid.to_owned());
    jsonwebtoken::encode(&header, claims, &key).unwrap()
}

/// A JWT with a made-up header and signature, as an attacker would craft it.
fn crafted(header: &Value, claims: &Value, signature: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{}",
        b64.encode(header.to_string()),
        b64.encode(claims.to_string()),
        b64.encode(signature)
    )
}

/// Asserts that `token` is refused: 401 UNAUTHENTICATED, with a message saying `says`.
async fn assert_refused(app: &TestApp, token: &str, says: &str) {
    let (status, body) = app.gql_status(Some(token), ME, json!({})).await;
    assert_eq!(status, 401, "{says}: {body}");
    assert_code(&body, "UNAUTHENTICATED");
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains(says), "expected `{says}`: {message}");
}

/// Trusts the issuer for the app's organization: realm role `lawyer` → REVIEWER,
/// `privacy` → DPO, `intake` → AGENT and STEWARD.
async fn trust(app: &TestApp, issuer: &Issuer) {
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($issuer: String!) { setIdentityProvider(input: {issuer: $issuer, audience: \"auskunft\", rolesClaim: \"realm_access.roles\", roleMap: [{claimValue: \"lawyer\", roles: [REVIEWER]}, {claimValue: \"privacy\", roles: [DPO]}, {claimValue: \"intake\", roles: [AGENT, STEWARD]}]}) { identityProvider { id roleMap { claimValue roles } } } }",
        json!({"issuer": issuer.url}),
    )
    .await;
}

/// The Person ID of the bearer of `token` (recorded on first sight).
async fn person_id(app: &TestApp, token: &str) -> Value {
    app.gql_ok(token, "{ me { person { id } } }", json!({}))
        .await["me"]["person"]["id"]
        .clone()
}

const ME: &str = "{ me { kind name apiKeyId roles person { id subject name email claimRoles } } }";

async fn signs_in_people_through_their_identity_provider(app: TestApp) {
    let issuer = Issuer::start(&["rsa-1", "ec-1", "ed-1"]).await;
    // Not trusted yet: refused.
    let token = sign("rsa-1", &claims(&issuer, "alice", &["lawyer"]));
    assert_refused(&app, &token, "not trusted").await;
    trust(&app, &issuer).await;

    // Valid tokens, one per algorithm and role mapping.
    for (kid, sub, roles, expected) in [
        ("rsa-1", "alice", vec!["lawyer"], json!(["REVIEWER"])),
        ("ec-1", "bob", vec!["privacy", "unmapped"], json!(["DPO"])),
        ("ed-1", "carol", vec!["intake"], json!(["STEWARD", "AGENT"])),
    ] {
        let token = sign(kid, &claims(&issuer, sub, &roles));
        let me = app.gql_ok(&token, ME, json!({})).await["me"].clone();
        assert_eq!(me["kind"], "PERSON", "{me}");
        assert_eq!(me["name"], format!("Person {sub}"));
        assert!(me["apiKeyId"].is_null());
        assert_eq!(me["person"]["subject"], sub);
        assert_eq!(me["person"]["email"], format!("{sub}@example.com"));
        let mut got: Vec<String> = serde_json::from_value(me["roles"].clone()).unwrap();
        let mut want: Vec<String> = serde_json::from_value(expected).unwrap();
        got.sort();
        want.sort();
        assert_eq!(got, want, "{kid}");
    }
    // Claims are text for people and the audit log: control and direction-changing
    // characters are dropped, an e-mail that is none is not kept, and a subject with
    // a NUL is refused (PostgreSQL could not even store it).
    let mut odd = claims(&issuer, "odd", &["lawyer"]);
    odd["name"] = json!("Ri\u{0}ta \u{202E}evil");
    odd["email"] = json!("<script>alert(1)</script>");
    let me = app.gql_ok(&sign("ed-1", &odd), ME, json!({})).await["me"].clone();
    assert_eq!(me["name"], "Rita evil", "{me}");
    assert!(me["person"]["email"].is_null(), "{me}");
    odd["sub"] = json!("nul\u{0}sub");
    assert_refused(&app, &sign("ed-1", &odd), "control characters").await;

    // The roles follow the claims: alice's next token makes her a DPO instead.
    let token = sign("rsa-1", &claims(&issuer, "alice", &["privacy"]));
    let me = app.gql_ok(&token, ME, json!({})).await["me"].clone();
    assert_eq!(me["roles"], json!(["DPO"]), "{me}");
    // What a role may not do is refused to the person too.
    let token = sign("rsa-1", &claims(&issuer, "alice", &["lawyer"]));
    let body = app
        .gql(&token, "{ apiKeys { totalCount } }", json!({}))
        .await;
    assert_code(&body, "FORBIDDEN");

    // Bad tokens: each refused with 401 UNAUTHENTICATED and a message saying why.
    let good = claims(&issuer, "alice", &["lawyer"]);
    let with = |patch: Value| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            c[k] = v.clone();
        }
        c
    };
    let rsa_public = fixture("rsa-1.pub.pem");
    let hs256_with_public_key = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("rsa-1".into());
        jsonwebtoken::encode(
            &header,
            &good,
            &EncodingKey::from_secret(&rsa_public).unwrap(),
        )
        .unwrap()
    };
    let cases = [
        (
            "expired",
            sign("rsa-1", &with(json!({"exp": unix_now() - 120}))),
            "expired",
        ),
        (
            "not yet valid",
            sign("rsa-1", &with(json!({"nbf": unix_now() + 600}))),
            "not valid yet",
        ),
        (
            "wrong issuer",
            sign("rsa-1", &with(json!({"iss": "http://127.0.0.1:1/evil"}))),
            "issuer",
        ),
        (
            "issuer spelled differently",
            sign("rsa-1", &with(json!({"iss": format!("{}/", issuer.url)}))),
            "issuer",
        ),
        (
            "wrong audience",
            sign("rsa-1", &with(json!({"aud": "another-app"}))),
            "audience",
        ),
        (
            "no subject",
            sign("rsa-1", &{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("sub");
                c
            }),
            "exp, iss, aud or sub",
        ),
        (
            "no expiry",
            sign("rsa-1", &{
                let mut c = good.clone();
                c.as_object_mut().unwrap().remove("exp");
                c
            }),
            "exp, iss, aud or sub",
        ),
        (
            "alg none",
            crafted(&json!({"alg": "none", "typ": "JWT"}), &good, b""),
            "JWT",
        ),
        (
            "HS256 with the public key as secret",
            hs256_with_public_key,
            "algorithm",
        ),
        (
            "RS256 header on the EC key",
            crafted(&json!({"alg": "RS256", "kid": "ec-1"}), &good, b"x"),
            "does not fit",
        ),
        (
            "signature of another key",
            {
                let t = sign("rsa-1", &good);
                let other = sign("rsa-2", &good);
                let sig = other.rsplit('.').next().unwrap().to_owned();
                format!("{}.{sig}", t.rsplit_once('.').unwrap().0)
            },
            "signature",
        ),
        (
            "claims changed after signing",
            {
                let t = sign("rsa-1", &good);
                let parts: Vec<&str> = t.split('.').collect();
                use base64::Engine;
                let forged = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(with(json!({"realm_access": {"roles": ["privacy"]}})).to_string());
                format!("{}.{forged}.{}", parts[0], parts[2])
            },
            "signature",
        ),
        ("garbage", "a.b.c".to_owned(), "JWT"),
    ];
    for (case, token, says) in cases {
        eprintln!("bad token: {case}");
        assert_refused(&app, &token, says).await;
    }

    // An unknown key id fetches the keys again, at most once in the refetch
    // interval, however many such tokens arrive.
    let fetched = issuer.fetches();
    for _ in 0..5 {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("made-up".into());
        let token = jsonwebtoken::encode(
            &header,
            &good,
            &EncodingKey::from_rsa_pem(&fixture("rsa-1.pem")).unwrap(),
        )
        .unwrap();
        assert_refused(&app, &token, "not one of the issuer's").await;
    }
    assert!(
        issuer.fetches() - fetched <= 1,
        "{} fetches",
        issuer.fetches() - fetched
    );

    // Key rotation: the issuer publishes rsa-2 instead of rsa-1; a token signed
    // with rsa-2 is accepted once the interval has passed.
    issuer.publish(&["rsa-2", "ec-1", "ed-1"]).await;
    tokio::time::sleep(crate::common::OIDC_REFETCH_AFTER + Duration::from_millis(100)).await;
    let token = sign("rsa-2", &claims(&issuer, "alice", &["lawyer"]));
    let me = app.gql_ok(&token, ME, json!({})).await["me"].clone();
    assert_eq!(me["person"]["subject"], "alice");
    // The retired key is no longer accepted.
    tokio::time::sleep(crate::common::OIDC_REFETCH_AFTER + Duration::from_millis(100)).await;
    assert_refused(&app, &sign("rsa-1", &good), "not one of the issuer's").await;

    // The people, for the admin: each recorded once, however many tokens.
    let people = app
        .gql_ok(
            app.key(Role::Admin),
            "{ persons { totalCount nodes { id subject name active claimRoles extraRoles } } }",
            json!({}),
        )
        .await["persons"]
        .clone();
    assert_eq!(people["totalCount"], 4, "{people}");
    let bob = people["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["subject"] == "bob")
        .unwrap()["id"]
        .clone();
    // Extra roles beyond the claims, effective at once.
    let data = app
        .gql_ok(
            app.key(Role::Admin),
            "mutation($id: ID!) { setPersonRoles(input: {personId: $id, extraRoles: [AUDITOR]}) { person { extraRoles } } }",
            json!({"id": bob}),
        )
        .await;
    assert_eq!(
        data["setPersonRoles"]["person"]["extraRoles"],
        json!(["AUDITOR"])
    );
    let bob_token = sign("ec-1", &claims(&issuer, "bob", &["privacy"]));
    let me = app.gql_ok(&bob_token, ME, json!({})).await["me"].clone();
    let mut roles: Vec<String> = serde_json::from_value(me["roles"].clone()).unwrap();
    roles.sort();
    assert_eq!(roles, ["AUDITOR", "DPO"]);
    // Deactivated: the next request is refused, whatever the token says.
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { deactivatePerson(input: {personId: $id}) { person { active } } }",
        json!({"id": bob}),
    )
    .await;
    assert_refused(&app, &bob_token, "deactivated").await;
    // The audit log names the people who acted.
    let audit = app
        .gql_ok(
            app.key(Role::Auditor),
            "{ auditEvents(last: 20, filter: {operation: \"deactivatePerson\"}) { nodes { actorName objectType } } }",
            json!({}),
        )
        .await;
    assert_eq!(audit["auditEvents"]["nodes"][0]["objectType"], "Person");

    // Another organization trusts the same issuer with its own audience: a token
    // naming both audiences names no one organization.
    let other = crate::common::create_org(&app.workflow, "Other Org").await;
    app.gql_ok(
        &other.keys[&Role::Admin],
        "mutation($issuer: String!) { setIdentityProvider(input: {issuer: $issuer, audience: \"auskunft-b\", rolesClaim: \"roles\", roleMap: []}) { identityProvider { id } } }",
        json!({"issuer": issuer.url}),
    )
    .await;
    let both = sign("rsa-2", &with(json!({"aud": ["auskunft", "auskunft-b"]})));
    assert_refused(&app, &both, "more than one").await;
    let body = app
        .gql(
            &other.keys[&Role::Admin],
            "mutation($issuer: String!) { setIdentityProvider(input: {issuer: $issuer, audience: \"auskunft\", rolesClaim: \"roles\", roleMap: []}) { identityProvider { id } } }",
            json!({"issuer": issuer.url}),
        )
        .await;
    assert_code(&body, "CONFLICT");

    // The provider no longer trusted: its tokens are refused (the other organization
    // still trusts the issuer, for its own audience), its people hold no
    // roles, and stay listed.
    let providers = app
        .gql_ok(
            app.key(Role::Admin),
            "{ identityProviders { id issuer } }",
            json!({}),
        )
        .await;
    assert_eq!(providers["identityProviders"][0]["issuer"], issuer.url);
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { removeIdentityProvider(input: {id: $id}) { removedId } }",
        json!({"id": providers["identityProviders"][0]["id"]}),
    )
    .await;
    let token = sign("rsa-2", &claims(&issuer, "alice", &["lawyer"]));
    assert_refused(&app, &token, "audience").await;
    let alice = app
        .gql_ok(
            app.key(Role::Admin),
            "{ persons(includeInactive: true) { totalCount nodes { id subject } } }",
            json!({}),
        )
        .await;
    assert_eq!(alice["persons"]["totalCount"], 4, "{alice}");
}
/// The app for the sign-in test: it presents more bad tokens from one address than
/// the sign-in throttle lets through by default (20 at once).
async fn lenient(backend: Backend) -> Option<TestApp> {
    let limits = api::Limits {
        auth: api::throttle::AuthLimits {
            client_burst: 200,
            ..Default::default()
        },
        ..Default::default()
    };
    TestApp::spawn_with(backend, limits).await
}

mod sign_in {
    use crate::common::Backend;

    async fn run(backend: Backend) {
        match super::lenient(backend).await {
            Some(app) => super::signs_in_people_through_their_identity_provider(app).await,
            None => eprintln!("skipped: {backend:?} not configured"),
        }
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        run(Backend::Sqlite).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() {
        run(Backend::Postgres).await
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn mysql() {
        run(Backend::Mysql).await
    }
}

/// Bad tokens count as failed sign-ins: an address that presents too many is
/// locked out like one guessing API keys.
async fn bad_tokens_are_throttled(app: TestApp) {
    let issuer = Issuer::start(&["rsa-1"]).await;
    trust(&app, &issuer).await;
    let expired = {
        let mut c = claims(&issuer, "mallory", &["lawyer"]);
        c["exp"] = json!(unix_now() - 600);
        sign("rsa-1", &c)
    };
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(app.gql_status(Some(&expired), ME, json!({})).await.0);
    }
    assert_eq!(statuses[0], 401);
    assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
}
e2e!(throttled, bad_tokens_are_throttled);

/// Four-eyes compares people: a person who collected a request may not approve it,
/// even with another token (another key, other roles); another person may.
async fn four_eyes_compares_people_not_tokens(app: TestApp) {
    let issuer = Issuer::start(&["rsa-1", "ec-1"]).await;
    trust(&app, &issuer).await;
    let dora_collects = sign("rsa-1", &claims(&issuer, "dora", &["intake"]));
    let id = json!(crate::role_matrix::request_in_review_as(&app, &dora_collects).await);
    let version = app
        .gql_ok(
            app.key(Role::Auditor),
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { version } } }",
            json!({"id": id}),
        )
        .await["node"]["version"]
        .clone();
    // Dora again, with another key and the lawyer role: refused.
    let dora_reviews = sign("ec-1", &claims(&issuer, "dora", &["lawyer"]));
    let approve = "mutation($id: ID!, $v: Int!) { approveRequest(input: {requestId: $id, version: $v}) { request { state } } }";
    let body = app
        .gql(&dora_reviews, approve, json!({"id": id, "v": version}))
        .await;
    let code = crate::common::error_code(&body)
        .unwrap_or_default()
        .to_owned();
    assert!(code == "FORBIDDEN", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("four-eyes")
            || body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("submitted"),
        "{body}"
    );
    // Nor with an API key Dora mints as an admin: the key acts for her.
    let dora_id = person_id(&app, &dora_reviews).await;
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { setPersonRoles(input: {personId: $id, extraRoles: [ADMIN]}) { person { id } } }",
        json!({"id": dora_id}),
    )
    .await;
    let minted = app
        .gql_ok(
            &dora_reviews,
            "mutation { createApiKey(input: {name: \"dora's reviewer\", roles: [REVIEWER]}) { secret } }",
            json!({}),
        )
        .await["createApiKey"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = app
        .gql(&minted, approve, json!({"id": id, "v": version}))
        .await;
    assert_code(&body, "FORBIDDEN");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("four-eyes"),
        "{body}"
    );
    // The audit log names Dora by her person ID, and filters by it.
    let audit = app
        .gql_ok(
            app.key(Role::Auditor),
            "query($id: ID!) { auditEvents(last: 50, filter: {actorId: $id}) { nodes { actorId actorName operation } } }",
            json!({"id": dora_id}),
        )
        .await;
    let nodes = audit["auditEvents"]["nodes"].as_array().unwrap();
    assert!(
        nodes.iter().any(|n| n["operation"] == "createApiKey"),
        "{audit}"
    );
    assert!(nodes.iter().all(|n| n["actorId"] == dora_id), "{audit}");
    // Emil, another person, approves.
    let emil = sign("rsa-1", &claims(&issuer, "emil", &["lawyer"]));
    let data = app
        .gql_ok(&emil, approve, json!({"id": id, "v": version}))
        .await;
    assert_eq!(data["approveRequest"]["request"]["state"], "APPROVED");
    // The timeline names the people.
    let timeline = app
        .gql_ok(
            app.key(Role::Auditor),
            "query($id: ID!) { node(id: $id) { ... on SubjectRequest { timeline(first: 50) { nodes { actorName event } } } } }",
            json!({"id": id}),
        )
        .await;
    let actors: Vec<&str> = timeline["node"]["timeline"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| !e["event"].is_null())
        .map(|e| e["actorName"].as_str().unwrap())
        .collect();
    assert!(
        actors.iter().any(|a| a.contains("Person dora")),
        "{actors:?}"
    );
    assert!(
        actors.iter().any(|a| a.contains("Person emil")),
        "{actors:?}"
    );
}
e2e!(four_eyes, four_eyes_compares_people_not_tokens);

/// Decisions name the person behind them: who submitted, who claimed, who is
/// assigned, who acted on the timeline, as Person objects and Person IDs that
/// `node` resolves; work can be assigned to a person, not to a deactivated one.
async fn the_graph_names_people(app: TestApp) {
    let issuer = Issuer::start(&["rsa-1"]).await;
    trust(&app, &issuer).await;
    let dora = sign("rsa-1", &claims(&issuer, "dora", &["intake", "privacy"]));
    let id = json!(crate::role_matrix::request_in_review_as(&app, &dora).await);
    let providers = app
        .gql_ok(
            app.key(Role::Admin),
            "{ identityProviders { id } }",
            json!({}),
        )
        .await;
    crate::graph::assert_nodes_resolve(
        &app,
        Role::Admin,
        &[(
            providers["identityProviders"][0]["id"].clone(),
            "IdentityProvider",
        )],
    )
    .await;
    let emil = sign("rsa-1", &claims(&issuer, "emil", &["lawyer"]));
    app.gql_ok(
        &emil,
        "mutation($id: ID!) { claimRequest(input: {requestId: $id}) { request { id } } }",
        json!({"id": id}),
    )
    .await;
    let emil_id = person_id(&app, &emil).await;
    let assign = "mutation($id: ID!, $to: ID) { assignRequest(input: {requestId: $id, assigneeId: $to}) { request { assigneeId } } }";
    let data = app
        .gql_ok(
            app.key(Role::Admin),
            assign,
            json!({"id": id, "to": emil_id}),
        )
        .await;
    assert_eq!(data["assignRequest"]["request"]["assigneeId"], emil_id);
    // A reviewer's screen: names, without any permission to read keys or people.
    let q = "query($id: ID!) { node(id: $id) { ... on SubjectRequest {
        assigneeId assignee { __typename ... on Person { id name email } }
        claimedById claimedBy { ... on Person { name } }
        submittedForReviewById submittedForReviewBy { ... on Person { id name } }
        timeline(first: 50) { nodes { actorId actor { __typename ... on Person { name } } } } } } }";
    let r = app
        .gql_ok(app.key(Role::Reviewer), q, json!({"id": id}))
        .await["node"]
        .clone();
    assert_eq!(r["assignee"]["__typename"], "Person");
    assert_eq!(r["assignee"]["name"], "Person emil");
    assert_eq!(r["assignee"]["email"], "emil@example.com");
    assert_eq!(r["assigneeId"], emil_id);
    assert_eq!(r["claimedById"], emil_id);
    assert_eq!(r["claimedBy"]["name"], "Person emil");
    assert_eq!(r["submittedForReviewBy"]["name"], "Person dora");
    assert_eq!(r["submittedForReviewById"], r["submittedForReviewBy"]["id"]);
    let dora_id = r["submittedForReviewById"].clone();
    let people: Vec<&Value> = r["timeline"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor"]["__typename"] == "Person")
        .collect();
    assert!(
        people
            .iter()
            .any(|e| e["actor"]["name"] == "Person dora" && e["actorId"] == dora_id),
        "{r}"
    );
    // The Person IDs resolve, and filter the list.
    let node = app
        .gql_ok(
            app.key(Role::Admin),
            "query($id: ID!) { node(id: $id) { __typename ... on Person { name } } }",
            json!({"id": dora_id}),
        )
        .await;
    assert_eq!(node["node"]["name"], "Person dora");
    let listed = app
        .gql_ok(
            app.key(Role::Reviewer),
            "query($to: ID!) { requests(filter: {assigneeId: $to}) { totalCount } }",
            json!({"to": emil_id}),
        )
        .await;
    assert_eq!(listed["requests"]["totalCount"], 1);
    // A deactivated person cannot be given work; the assignment stays.
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { deactivatePerson(input: {personId: $id}) { person { active } } }",
        json!({"id": dora_id}),
    )
    .await;
    let body = app
        .gql(
            app.key(Role::Admin),
            assign,
            json!({"id": id, "to": dora_id}),
        )
        .await;
    assert_code(&body, "VALIDATION");
    let r = app
        .gql_ok(app.key(Role::Reviewer), q, json!({"id": id}))
        .await;
    assert_eq!(r["node"]["assigneeId"], emil_id);
}
e2e!(graph_names_people, the_graph_names_people);

/// A download link a person asks for acts for that person (not for an API key):
/// it works while they may sign in and stops when they are deactivated.
async fn links_act_for_the_person_who_asked(app: TestApp) {
    let issuer = Issuer::start(&["rsa-1"]).await;
    trust(&app, &issuer).await;
    let dora = sign("rsa-1", &claims(&issuer, "dora", &["privacy"]));
    let link = |token: String| {
        let app = &app;
        async move {
            let data = app
                .gql_ok(&token, "{ registerExport(format: CSV) { url } }", json!({}))
                .await;
            data["registerExport"]["url"].as_str().unwrap().to_owned()
        }
    };
    let url = link(dora.clone()).await;
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let dora_id = person_id(&app, &dora).await;
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { deactivatePerson(input: {personId: $id}) { person { active } } }",
        json!({"id": dora_id}),
    )
    .await;
    let response = app.client.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 401);
}
e2e!(person_links, links_act_for_the_person_who_asked);

/// The WebSocket `connection_init` takes a person's token like the HTTP header; the
/// connection is closed (4401) when the token expires, and (4403) when the person is
/// deactivated.
async fn websocket_connections_end_with_the_token(app: TestApp) {
    let issuer = Issuer::start(&["rsa-1"]).await;
    trust(&app, &issuer).await;
    // A token that expires in three seconds.
    let mut short = claims(&issuer, "frieda", &["lawyer"]);
    short["exp"] = json!(unix_now() + 3);
    let token = sign("rsa-1", &short);
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {token}")}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.subscribe("q", "subscription { reviewQueueChanged { __typename } }")
        .await;
    let closed = ws.until_closed().await;
    assert_eq!(closed["code"], 4401, "{closed}");
    assert!(
        closed["reason"].as_str().unwrap().contains("expired"),
        "{closed}"
    );

    // A person whose identity provider is no longer trusted.
    let token = sign("rsa-1", &claims(&issuer, "hanna", &["lawyer"]));
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {token}")}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.subscribe("q", "subscription { reviewQueueChanged { __typename } }")
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let provider = app
        .gql_ok(
            app.key(Role::Admin),
            "{ identityProviders { id } }",
            json!({}),
        )
        .await["identityProviders"][0]["id"]
        .clone();
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { removeIdentityProvider(input: {id: $id}) { removedId } }",
        json!({"id": provider}),
    )
    .await;
    assert_eq!(ws.until_closed().await["code"], 4403);
    trust(&app, &issuer).await;

    // A person deactivated while connected.
    let token = sign("rsa-1", &claims(&issuer, "gustav", &["lawyer"]));
    let mut ws = app
        .ws_connect(json!({"Authorization": format!("Bearer {token}")}))
        .await;
    assert_eq!(ws.next().await.unwrap()["type"], "connection_ack");
    ws.subscribe("q", "subscription { reviewQueueChanged { __typename } }")
        .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let gustav = person_id(&app, &token).await;
    // A change of the policy that is not theirs comes first (it must not be what
    // closes the connection; see subscriptions.rs for keys).
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { revokeRole(input: {apiKeyId: $id, role: DPO}) { __typename } }",
        json!({"id": api::graphql::ids::global_id("ApiKey", app.key_ids[&Role::Dpo])}),
    )
    .await;
    app.gql_ok(
        app.key(Role::Admin),
        "mutation($id: ID!) { deactivatePerson(input: {personId: $id}) { person { active } } }",
        json!({"id": gustav}),
    )
    .await;
    let closed = ws.until_closed().await;
    assert_eq!(closed["code"], 4403, "{closed}");
}
e2e!(websocket, websocket_connections_end_with_the_token);

/// A provider that does not answer properly is asked once for all the tokens waiting
/// on it, not once per token (each would wait out the timeout in turn); once it
/// answers again, after the refetch interval, its tokens are accepted.
async fn a_failing_provider_is_asked_once(app: TestApp) {
    let issuer = Issuer::start(&["rsa-1"]).await;
    *issuer.jwks.lock().await = json!("not a key set");
    trust(&app, &issuer).await;
    let token = sign("rsa-1", &claims(&issuer, "ida", &["lawyer"]));
    let attempts = (0..10).map(|_| app.gql_status(Some(&token), ME, json!({})));
    for (status, body) in futures_util::future::join_all(attempts).await {
        assert_eq!(status, 401, "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("could not be reached"),
            "{body}"
        );
    }
    assert_eq!(issuer.fetches(), 1);
    issuer.publish(&["rsa-1"]).await;
    tokio::time::sleep(crate::common::OIDC_REFETCH_AFTER + Duration::from_millis(100)).await;
    let me = app.gql_ok(&token, ME, json!({})).await;
    assert_eq!(me["me"]["kind"], "PERSON");
}
e2e!(failing_provider, a_failing_provider_is_asked_once);
