//! The HTTP connector against a real HTTP server the test starts on 127.0.0.1 (poem):
//! authentication, the three kinds of pagination, schema checks, retries, timeouts,
//! redirects and links that leave the origin, hostile identities.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use poem::http::{HeaderMap, StatusCode};
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{IntoResponse, Response, Server};
use serde_json::{Value, json};
use uuid::Uuid;

use super::HttpConnector;
use crate::connectors::guard::{SourceGuard, SourceSettings};
use crate::connectors::{CollectError, CollectJob, Connector, Found, SearchIdentity, sql};
use crate::register::fields::IdentityType;
use entity::{data_field, data_source};

/// One request the test server received.
#[derive(Debug, Clone)]
struct Hit {
    method: String,
    /// As sent (percent-encoded).
    path: String,
    /// Decoded query parameters in order.
    query: Vec<(String, String)>,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Hit {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A real HTTP server on a random port of 127.0.0.1 answering with `answer`.
struct TestServer {
    base: String,
    port: u16,
    hits: Arc<Mutex<Vec<Hit>>>,
}

impl TestServer {
    async fn start<F, Fut>(answer: F) -> Self
    where
        F: Fn(Hit, usize) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response> + Send + 'static,
    {
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let port = acceptor.local_addr()[0].as_socket_addr().unwrap().port();
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let recorded = hits.clone();
        let answer = Arc::new(answer);
        let endpoint = poem::endpoint::make(move |req: poem::Request| {
            let recorded = recorded.clone();
            let answer = answer.clone();
            async move {
                let query = url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                let hit = Hit {
                    method: req.method().to_string(),
                    path: req.uri().path().to_owned(),
                    query,
                    headers: req.headers().clone(),
                    body: req.into_body().into_vec().await.unwrap_or_default(),
                };
                let n = {
                    let mut hits = recorded.lock().unwrap();
                    hits.push(hit.clone());
                    hits.len()
                };
                answer(hit, n).await
            }
        });
        tokio::spawn(Server::new_with_acceptor(acceptor).run(endpoint));
        Self {
            base: format!("http://127.0.0.1:{port}/api"),
            port,
            hits,
        }
    }

    fn hits(&self) -> Vec<Hit> {
        self.hits.lock().unwrap().clone()
    }
}

fn json_response(body: Value) -> Response {
    poem::web::Json(body).into_response()
}

fn status(code: u16) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap())
        .body("error page")
}

fn email(value: &str) -> SearchIdentity {
    SearchIdentity {
        kind: IdentityType::Email,
        value: value.to_owned(),
        as_given: None,
    }
}

fn field_id(location: &str) -> Uuid {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(location.as_bytes());
    Uuid::from_slice(&digest[..16]).unwrap()
}

/// Collects from a source with `config`, mapped `fields` and `identities`; the
/// values come back as `(key, [(location, value)])`.
async fn collect_with(
    config: Value,
    fields: &[&str],
    identities: &[SearchIdentity],
    allowed_hosts: Option<Vec<String>>,
) -> Result<Vec<(String, Vec<(String, String)>)>, CollectError> {
    let at = chrono::Utc::now();
    let source = data_source::Model {
        id: Uuid::new_v4(),
        org_id: Uuid::new_v4(),
        name: "CRM".into(),
        description: None,
        owner: None,
        country: None,
        processor_id: None,
        connector_kind: "HTTP".into(),
        connector_config: config.clone(),
        secrets: None,
        created_at: at,
        updated_at: at,
    };
    let fields: Vec<data_field::Model> = fields
        .iter()
        .map(|location| data_field::Model {
            id: field_id(location),
            org_id: source.org_id,
            source_id: source.id,
            location: (*location).to_owned(),
            description: None,
            data_category_id: None,
            identifies_subject: false,
            identity_type: None,
            references_id: None,
            erasure_strategy: "DELETE_ROW".into(),
            created_at: at,
            updated_at: at,
        })
        .collect();
    let guard = SourceGuard::new(
        SourceSettings {
            allowed_hosts,
            ..SourceSettings::default()
        },
        None,
    );
    let pools = sql::Pools::default();
    let config = config.as_object().unwrap().clone();
    let job = CollectJob {
        source: &source,
        config: &config,
        fields: &fields,
        identities,
        guard: &guard,
        pools: &pools,
    };
    let found: Vec<Found> = HttpConnector.collect(&job).await?;
    Ok(found
        .into_iter()
        .map(|f| {
            let values = f
                .values
                .into_iter()
                .map(|v| {
                    let location = fields.iter().find(|d| d.id == v.field_id).unwrap();
                    (location.location.clone(), v.value)
                })
                .collect();
            (f.key, values)
        })
        .collect())
}

async fn collect(
    config: Value,
    fields: &[&str],
    identities: &[SearchIdentity],
) -> Result<Vec<(String, Vec<(String, String)>)>, CollectError> {
    collect_with(config, fields, identities, None).await
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[tokio::test]
async fn next_links_are_followed_with_the_bearer_token() {
    let server = TestServer::start(|hit, _| async move {
        if hit.header("authorization") != Some("Bearer t0k3n") {
            return status(401);
        }
        assert_eq!(hit.param("email"), Some("anna@example.com"));
        let page = if hit.param("cursor") == Some("2") {
            json!({"data": [{"id": 3, "email": "anna@example.com", "name": "Anna B.", "tags": []}],
                   "links": {"next": null}})
        } else {
            json!({"data": [
                    {"id": 1, "email": "anna@example.com", "name": "Anna", "tags": ["vip", "b2b"]},
                    {"id": 2, "email": "anna@example.com", "name": null, "tags": ["old"]}],
                   "links": {"next": "contacts?email=anna%40example.com&cursor=2"}})
        };
        json_response(page)
    })
    .await;
    let config = json!({
        "baseUrl": server.base, "auth": "bearer", "token": "t0k3n",
        "search": [{"identityType": "EMAIL", "name": "contacts", "path": "/contacts",
                    "query": {"email": "{value}"}, "records": "$.data[*]", "idProperty": "$.id",
                    "pagination": {"kind": "next", "next": "$.links.next"}}]
    });
    let found = collect(
        config,
        &["$.data[*].email", "$.name", "$.data[*].tags[*]"],
        &[email("anna@example.com")],
    )
    .await
    .unwrap();
    assert_eq!(
        found,
        [
            (
                "contacts(id=1)".to_owned(),
                pairs(&[
                    ("$.data[*].email", "anna@example.com"),
                    ("$.name", "Anna"),
                    ("$.data[*].tags[*]", "vip"),
                    ("$.data[*].tags[*]", "b2b"),
                ])
            ),
            (
                "contacts(id=2)".to_owned(),
                pairs(&[
                    ("$.data[*].email", "anna@example.com"),
                    ("$.data[*].tags[*]", "old"),
                ])
            ),
            (
                "contacts(id=3)".to_owned(),
                pairs(&[
                    ("$.data[*].email", "anna@example.com"),
                    ("$.name", "Anna B."),
                ])
            ),
        ]
    );
    let hits = server.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].path, "/api/contacts");
    assert_eq!(hits[1].path, "/api/contacts");
    assert_eq!(hits[1].param("cursor"), Some("2"));
    assert_eq!(hits[0].header("accept"), Some("application/json"));
}

#[tokio::test]
async fn page_numbers_are_counted_until_an_empty_page_with_basic_auth() {
    let server = TestServer::start(|hit, _| async move {
        // "shop:s3cr3t:x" in base64: a colon in the password is fine.
        if hit.header("authorization") != Some("Basic c2hvcDpzM2NyM3Q6eA==") {
            return status(401);
        }
        let records = match hit.param("page") {
            Some("1") => json!([{"phone": "+4930123", "city": "Berlin"}, {"phone": "+4930123", "city": "Köln"}]),
            Some("2") => json!([{"phone": "+4930123", "city": "Bonn"}]),
            _ => json!([]),
        };
        json_response(records)
    })
    .await;
    let config = json!({
        "baseUrl": server.base, "auth": "basic", "username": "shop", "password": "s3cr3t:x",
        "search": [{"identityType": "PHONE", "name": "addresses", "path": "/addresses",
                    "query": {"phone": "{value}"},
                    "pagination": {"kind": "page", "parameter": "page"}}]
    });
    let phone = SearchIdentity {
        kind: IdentityType::Phone,
        value: "+4930123".into(),
        as_given: None,
    };
    let found = collect(
        config,
        &["$[*].city"],
        &[phone, email("not@searched.example")],
    )
    .await
    .unwrap();
    let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["/addresses/0", "/addresses/1", "/addresses/2"]);
    assert_eq!(found[2].1, pairs(&[("$[*].city", "Bonn")]));
    let pages: Vec<Option<String>> = server
        .hits()
        .iter()
        .map(|h| h.param("page").map(str::to_owned))
        .collect();
    assert_eq!(pages, ["1", "2", "3"].map(|p| Some(p.to_owned())));
}

#[tokio::test]
async fn cursors_are_passed_on_and_post_bodies_carry_the_identity() {
    let server = TestServer::start(|hit, _| async move {
        if hit.header("x-api-key") != Some("key-123") || hit.method != "POST" {
            return status(403);
        }
        let body: Value = serde_json::from_slice(&hit.body).unwrap();
        assert_eq!(body, json!({"filter": {"number": "K-4711"}, "limit": 1}));
        match hit.param("after") {
            None => {
                json_response(json!({"items": [{"no": "K-4711", "total": 12.5}], "next": "c2"}))
            }
            Some("c2") => {
                json_response(json!({"items": [{"no": "K-4711", "total": 7}], "next": ""}))
            }
            Some(_) => status(400),
        }
    })
    .await;
    let config = json!({
        "baseUrl": server.base, "headers": {"X-Api-Key": "key-123"},
        "search": [{"identityType": "CUSTOMER_NUMBER", "name": "invoices", "method": "POST",
                    "path": "/invoices/search", "body": {"filter": {"number": "{value}"}, "limit": 1},
                    "records": "$.items[*]",
                    "pagination": {"kind": "cursor", "parameter": "after", "cursor": "$.next"}}]
    });
    let number = SearchIdentity {
        kind: IdentityType::CustomerNumber,
        value: "K-4711".into(),
        as_given: None,
    };
    let found = collect(config, &["$.items[*].total"], &[number])
        .await
        .unwrap();
    assert_eq!(
        found,
        [
            (
                "/invoices/0".to_owned(),
                pairs(&[("$.items[*].total", "12.5")])
            ),
            (
                "/invoices/1".to_owned(),
                pairs(&[("$.items[*].total", "7")])
            ),
        ]
    );
    assert_eq!(server.hits().len(), 2);
}

#[tokio::test]
async fn a_response_outside_the_schema_fails_naming_the_path_not_the_value() {
    let server = TestServer::start(|_, _| async move {
        json_response(json!({"data": [{"email": "ok@example.com"}, {"email": 4711_0815}]}))
    })
    .await;
    let config = json!({
        "baseUrl": server.base,
        "responseSchema": {"type": "object", "required": ["data"], "properties": {
            "data": {"type": "array", "items": {"type": "object", "properties": {"email": {"type": "string"}}}}}},
        "search": [{"identityType": "EMAIL", "path": "/c", "query": {"e": "{value}"}, "records": "$.data[*]"}]
    });
    let err = collect(config, &["$.data[*].email"], &[email("a@example.com")])
        .await
        .unwrap_err();
    let CollectError::Invalid(message) = err else {
        panic!("{err:?}")
    };
    assert!(message.contains("/data/1/email"), "{message}");
    assert!(!message.contains("47110815"), "{message}");
}

#[tokio::test]
async fn server_errors_are_repeated_with_backoff_and_then_succeed() {
    let server = TestServer::start(|_, n| async move {
        if n == 1 {
            status(500)
        } else {
            json_response(json!({"email": "a@example.com"}))
        }
    })
    .await;
    let config = json!({
        "baseUrl": server.base,
        "search": [{"identityType": "EMAIL", "path": "/contacts/{value}"}]
    });
    let found = collect(config, &["$.email"], &[email("a@example.com")])
        .await
        .unwrap();
    assert_eq!(
        found,
        [(
            "/records/0".to_owned(),
            pairs(&[("$.email", "a@example.com")])
        )]
    );
    assert_eq!(server.hits().len(), 2);

    // Repetitions are bounded.
    let down = TestServer::start(|_, _| async move { status(503) }).await;
    let config = json!({
        "baseUrl": down.base, "retries": 1,
        "search": [{"identityType": "EMAIL", "path": "/contacts/{value}"}]
    });
    let err = collect(config, &["$.email"], &[email("a@example.com")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CollectError::Unreachable(m) if m.contains("503") && m.contains("2 attempts")),
        "{err:?}"
    );
    assert_eq!(down.hits().len(), 2);
}

#[tokio::test]
async fn refused_credentials_are_not_repeated_and_say_so() {
    let server = TestServer::start(|_, _| async move { status(401) }).await;
    let config = json!({
        "baseUrl": server.base, "auth": "bearer", "token": "expired",
        "search": [{"identityType": "EMAIL", "path": "/contacts/{value}"}]
    });
    let err = collect(config, &["$.email"], &[email("a@example.com")])
        .await
        .unwrap_err();
    let CollectError::Unreachable(message) = err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("401") && message.contains("credentials"),
        "{message}"
    );
    assert!(!message.contains("expired") && !message.contains("a@example.com"));
    assert_eq!(server.hits().len(), 1, "4xx is never repeated");

    // Other 4xx are errors too, unless 404 means "not there".
    let missing = TestServer::start(|_, _| async move { status(404) }).await;
    let mut config = json!({
        "baseUrl": missing.base,
        "search": [{"identityType": "EMAIL", "path": "/contacts/{value}"}]
    });
    let err = collect(config.clone(), &["$.email"], &[email("a@example.com")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CollectError::Unreachable(m) if m.contains("404")),
        "{err:?}"
    );
    config["search"][0]["emptyOnNotFound"] = json!(true);
    let found = collect(config, &["$.email"], &[email("a@example.com")])
        .await
        .unwrap();
    assert!(found.is_empty());
    assert_eq!(missing.hits().len(), 2);
}

#[tokio::test]
async fn a_slow_source_times_out() {
    let server = TestServer::start(|_, _| async move {
        tokio::time::sleep(Duration::from_secs(5)).await;
        json_response(json!({}))
    })
    .await;
    let config = json!({
        "baseUrl": server.base, "timeoutSeconds": 1, "retries": 0,
        "search": [{"identityType": "EMAIL", "path": "/contacts/{value}"}]
    });
    let started = Instant::now();
    let err = collect(config, &["$.email"], &[email("a@example.com")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CollectError::Unreachable(m) if m.contains("no answer within 1 second")),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn hostile_identities_never_change_the_path_the_query_or_the_host() {
    let server = TestServer::start(|_, _| async move { json_response(json!([])) }).await;
    let hostile = [
        "quote\"and'apostrophe",
        "100% & co",
        "a&admin=true",
        "x#fragment",
        "../../admin",
        "a/b",
        "nul\0byte",
        "?page=99",
        "Jörg Weiß 😀 中文",
        "@evil.example:80",
        "%2e%2e%2fadmin",
    ];
    let long = "€".repeat(10 * 1024 / 3);
    let identities: Vec<SearchIdentity> = hostile
        .iter()
        .map(|v| email(v))
        .chain(std::iter::once(email(&long)))
        .collect();
    let config = json!({
        "baseUrl": server.base,
        "search": [{"identityType": "EMAIL", "path": "/contacts/{value}/notes",
                    "query": {"q": "mail:{value}"}}]
    });
    collect(config, &["$.email"], &identities).await.unwrap();
    let hits = server.hits();
    assert_eq!(hits.len(), identities.len());
    let mut received: Vec<String> = hits
        .iter()
        .map(|hit| {
            let segments: Vec<&str> = hit.path.split('/').collect();
            assert_eq!(segments.len(), 5, "{}", hit.path);
            assert_eq!(
                (segments[1], segments[2], segments[4]),
                ("api", "contacts", "notes")
            );
            let value = percent_encoding::percent_decode_str(segments[3])
                .decode_utf8()
                .unwrap()
                .into_owned();
            assert_eq!(hit.query.len(), 1, "{:?}", hit.query);
            assert_eq!(hit.query[0].1, format!("mail:{value}"));
            value
        })
        .collect();
    let mut expected: Vec<String> = identities.iter().map(|i| i.value.clone()).collect();
    received.sort();
    expected.sort();
    assert_eq!(received, expected);

    // A value of dots only cannot be a path segment: refused, never normalized away.
    let config = json!({
        "baseUrl": server.base,
        "search": [{"identityType": "EMAIL", "path": "/contacts/{value}"}]
    });
    let err = collect(config, &["$.email"], &[email("..")])
        .await
        .unwrap_err();
    assert!(matches!(err, CollectError::Mapping(_)), "{err:?}");
    assert_eq!(server.hits().len(), identities.len());
}

#[tokio::test]
async fn links_and_redirects_never_leave_the_origin() {
    let elsewhere = TestServer::start(|_, _| async move { json_response(json!([])) }).await;
    let other = elsewhere.base.clone();
    let server = TestServer::start(move |hit, _| {
        let other = other.clone();
        async move {
            match hit.path.as_str() {
                "/api/next" => json_response(json!({"data": [], "next": format!("{other}/steal")})),
                "/api/redirect" => Response::builder()
                    .status(StatusCode::FOUND)
                    .header("location", format!("{other}/steal"))
                    .finish(),
                "/api/moved" => Response::builder()
                    .status(StatusCode::FOUND)
                    .header("location", "/api/here")
                    .finish(),
                "/api/here" => json_response(json!({"data": [{"email": "a@example.com"}]})),
                "/api/loop" => {
                    json_response(json!({"data": [{"email": "a@example.com"}], "next": "loop?x=1"}))
                }
                _ => status(404),
            }
        }
    })
    .await;
    let search = |path: &str| {
        json!({
            "baseUrl": server.base, "auth": "bearer", "token": "secret-token",
            "search": [{"identityType": "EMAIL", "path": path, "query": {"e": "{value}"},
                        "records": "$.data[*]",
                        "pagination": {"kind": "next", "next": "$.next", "maxPages": 3}}]
        })
    };
    let who = [email("a@example.com")];
    let err = collect(search("/next"), &["$.email"], &who)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CollectError::Invalid(m) if m.contains("origin")),
        "{err:?}"
    );
    let err = collect(search("/redirect"), &["$.email"], &who)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CollectError::Unreachable(m) if m.contains("redirect")),
        "{err:?}"
    );
    assert!(
        elsewhere.hits().is_empty(),
        "nothing (and no token) went elsewhere"
    );
    // Within the origin, redirects are followed.
    let found = collect(search("/moved"), &["$.data[*].email"], &who)
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    // A link back to a page already fetched ends as an error, not a loop.
    let err = collect(search("/loop"), &["$.email"], &who)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CollectError::Invalid(m) if m.contains("already fetched")),
        "{err:?}"
    );

    // The allowed hosts apply when collecting, too.
    let err = collect_with(
        search("/here"),
        &["$.email"],
        &who,
        Some(vec!["crm.example".into()]),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, CollectError::Unreachable(m) if m.contains("allowed_hosts")),
        "{err:?}"
    );
    let found = collect_with(
        search("/here"),
        &["$.data[*].email"],
        &who,
        Some(vec!["127.0.0.1".into()]),
    )
    .await
    .unwrap();
    assert_eq!(found.len(), 1);
    assert_ne!(elsewhere.port, server.port);
}

#[tokio::test]
async fn too_many_pages_fail_instead_of_answering_in_part() {
    let server = TestServer::start(|hit, _| async move {
        let page: u32 = hit.param("p").and_then(|p| p.parse().ok()).unwrap_or(0);
        json_response(json!([{"n": page}]))
    })
    .await;
    let config = json!({
        "baseUrl": server.base,
        "search": [{"identityType": "EMAIL", "path": "/c", "query": {"e": "{value}"},
                    "pagination": {"kind": "page", "parameter": "p", "firstPage": 0, "maxPages": 4}}]
    });
    let err = collect(config, &["$.n"], &[email("a@example.com")])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CollectError::Mapping(m) if m.contains("more than 4 pages")),
        "{err:?}"
    );
    assert_eq!(server.hits().len(), 4);
}

#[tokio::test]
async fn oversized_and_non_json_answers_are_refused() {
    let server = TestServer::start(|hit, _| async move {
        if hit.path.ends_with("/big") {
            let filler = "x".repeat(11 * 1024 * 1024);
            json_response(json!({ "filler": filler }))
        } else {
            Response::builder()
                .content_type("text/html")
                .body("<html>login</html>")
        }
    })
    .await;
    let config = |path: &str| {
        json!({"baseUrl": server.base,
               "search": [{"identityType": "EMAIL", "path": path, "query": {"e": "{value}"}}]})
    };
    let who = [email("a@example.com")];
    let err = collect(config("/big"), &["$.filler"], &who)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, CollectError::Invalid(m) if m.contains("MiB")),
        "{err:?}"
    );
    let err = collect(config("/html"), &["$.x"], &who).await.unwrap_err();
    assert!(
        matches!(&err, CollectError::Invalid(m) if m.contains("not JSON")),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_same_record_found_twice_is_kept_once() {
    let server = TestServer::start(|_, _| async move {
        json_response(
            json!([{"id": "c-1", "email": "anna@example.com"}, {"email": "anna@example.com"}]),
        )
    })
    .await;
    let config = json!({
        "baseUrl": server.base,
        "search": [{"identityType": "EMAIL", "name": "contacts", "path": "/c",
                    "query": {"e": "{value}"}, "idProperty": "$.id"}]
    });
    // Searched by the normalized value and the value as given: two requests.
    let who = [SearchIdentity {
        kind: IdentityType::Email,
        value: "anna@example.com".into(),
        as_given: Some("Anna@Example.com".into()),
    }];
    let found = collect(config, &["$[*].email"], &who).await.unwrap();
    let keys: Vec<&str> = found.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["contacts(id=c-1)", "/contacts/0"]);
    assert_eq!(server.hits().len(), 2);
}

#[tokio::test]
async fn a_source_without_searches_is_a_mapping_problem() {
    let err = collect(
        json!({"baseUrl": "http://127.0.0.1:9/api"}),
        &["$.email"],
        &[email("a@example.com")],
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, CollectError::Mapping(m) if m.contains("search")),
        "{err:?}"
    );
}
