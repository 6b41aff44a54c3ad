//! Requests to an HTTP source: URLs filled from a template without ever letting the
//! identity change the host, the path's shape or the query's keys; one client per
//! collection with the configured timeout; redirects only within the base URL's
//! origin; responses read up to a size limit; bounded retries with backoff for
//! transient failures (5xx, 429, timeouts, failed connections), never for other 4xx.

use std::sync::Once;
use std::time::Duration;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reqwest::{StatusCode, redirect};
use serde_json::Value;
use url::Url;

use super::config::{HttpConfig, Method, PLACEHOLDER};
use crate::connectors::CollectError;

/// Largest response body read (bytes).
pub(super) const MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;
/// Most redirects followed (within the origin) per request.
const MAX_REDIRECTS: usize = 5;
/// The first pause before a repetition; doubled each time, at most [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Longest a connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything in a path segment is percent-encoded except the unreserved characters
/// (RFC 3986): the identity can never add a `/`, `?`, `#`, `%`-sequence or `;`.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The URL of a search for `value`: the template's path below the base URL (the
/// placeholder percent-encoded), the base URL's query, the template's query with the
/// placeholder filled (form-encoded), then `extra` parameters (pagination).
pub(super) fn search_url(
    base: &Url,
    template: &str,
    query: &[(String, String)],
    value: &str,
    extra: Option<(&str, &str)>,
) -> Result<Url, CollectError> {
    let refused = || {
        CollectError::Mapping(
            "an identity of the subject cannot be put into the URL path of this search \
             (it consists of dots only); search by a query parameter instead"
                .to_owned(),
        )
    };
    let encoded = utf8_percent_encode(value, SEGMENT).to_string();
    let mut path = base.path().trim_end_matches('/').to_owned();
    for segment in template.split('/').skip(1) {
        let filled = segment.replace(PLACEHOLDER, &encoded);
        if segment.contains(PLACEHOLDER) && matches!(filled.as_str(), "." | "..") {
            return Err(refused());
        }
        path.push('/');
        path.push_str(&filled);
    }
    let mut url = base.clone();
    url.set_path(&path);
    url.set_fragment(None);
    if url.path() != path {
        // The URL parser normalized something away: the path would not be the one
        // the template describes.
        return Err(refused());
    }
    {
        let mut pairs = url.query_pairs_mut();
        for (name, template) in query {
            pairs.append_pair(name, &template.replace(PLACEHOLDER, value));
        }
        if let Some((name, v)) = extra {
            pairs.append_pair(name, v);
        }
    }
    if url.query() == Some("") {
        url.set_query(None);
    }
    if url.origin() != base.origin() {
        return Err(refused());
    }
    Ok(url)
}

/// `url` with one query parameter set (replacing an earlier value of it).
pub(super) fn with_parameter(url: &Url, name: &str, value: &str) -> Url {
    let mut out = url.clone();
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    out.set_query(None);
    {
        let mut pairs = out.query_pairs_mut();
        for (k, v) in &kept {
            pairs.append_pair(k, v);
        }
        pairs.append_pair(name, value);
    }
    out
}

/// The body template with the placeholder filled in every string: values are put
/// into JSON strings, never spliced into JSON text.
pub(super) fn fill_body(template: &Value, value: &str) -> Value {
    match template {
        Value::String(s) => Value::String(s.replace(PLACEHOLDER, value)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill_body(v, value)).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), fill_body(v, value)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Installs the process-wide TLS provider (ring) if nothing did yet: reqwest is
/// built without one, and the server binary installs it at startup.
fn ensure_tls_provider() {
    static PROVIDER: Once = Once::new();
    PROVIDER.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Why one attempt failed.
enum Failure {
    /// Worth repeating (5xx, 429, timeout, connection).
    Transient(String),
    /// Not (4xx, invalid answer, refused redirect).
    Fatal(CollectError),
}

/// Sends the requests of one collection.
pub(super) struct Fetcher<'a> {
    client: reqwest::Client,
    config: &'a HttpConfig,
}

impl<'a> Fetcher<'a> {
    pub(super) fn new(config: &'a HttpConfig) -> Result<Self, CollectError> {
        ensure_tls_provider();
        let origin = config.base.origin();
        let policy = redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if attempt.url().origin() == origin {
                attempt.follow()
            } else {
                // Not followed: the 3xx answer comes back and is refused below.
                attempt.stop()
            }
        });
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(config.timeout))
            .redirect(policy)
            .user_agent(concat!("Auskunft/", env!("CARGO_PKG_VERSION")))
            .default_headers(config.headers.clone())
            .build()
            .map_err(|e| CollectError::Unreachable(format!("no HTTP client: {e}")))?;
        Ok(Self { client, config })
    }

    /// Whether `url` may be fetched: on the base URL's origin.
    pub(super) fn same_origin(&self, url: &Url) -> bool {
        url.origin() == self.config.base.origin()
    }

    /// Fetches `url` as JSON, repeating transient failures up to the configured
    /// number of times. `Ok(None)`: 404 where that means "not found".
    /// `what` names the request in messages (never the URL: it holds the identity).
    pub(super) async fn json(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        empty_on_not_found: bool,
        what: &str,
    ) -> Result<Option<Value>, CollectError> {
        let mut pause = FIRST_BACKOFF;
        let mut attempt = 0;
        loop {
            match self.once(method, url, body, empty_on_not_found).await {
                Ok(v) => return Ok(v),
                Err(Failure::Fatal(e)) => return Err(e),
                Err(Failure::Transient(reason)) if attempt >= self.config.retries => {
                    let tries = attempt + 1;
                    return Err(CollectError::Unreachable(format!(
                        "{what}: {reason} ({tries} attempt{})",
                        if tries == 1 { "" } else { "s" }
                    )));
                }
                Err(Failure::Transient(reason)) => {
                    tracing::debug!(%reason, attempt, "HTTP source: repeating a request");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_BACKOFF);
                    attempt += 1;
                }
            }
        }
    }

    async fn once(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        empty_on_not_found: bool,
    ) -> Result<Option<Value>, Failure> {
        let timeout = self.config.timeout.as_secs();
        let transport = |e: reqwest::Error| {
            let e = e.without_url();
            if e.is_timeout() {
                Failure::Transient(format!("no answer within {timeout} second(s)"))
            } else if e.is_redirect() {
                Failure::Fatal(CollectError::Unreachable(format!(
                    "the source redirected more than {MAX_REDIRECTS} times"
                )))
            } else if e.is_connect() {
                Failure::Transient(format!("could not connect: {}", error_chain(&e)))
            } else {
                Failure::Transient(format!("the request failed: {}", error_chain(&e)))
            }
        };
        let request = match method {
            Method::Get => self.client.get(url.clone()),
            Method::Post => self.client.post(url.clone()),
        };
        let request = match body {
            Some(b) => request.json(b),
            None => request,
        };
        let mut response = request
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        let status = response.status();
        let answered = |status: StatusCode| {
            format!(
                "the source answered HTTP {} {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or("")
            )
            .trim_end()
            .to_owned()
        };
        if status.is_redirection() {
            return Err(Failure::Fatal(CollectError::Unreachable(format!(
                "{}: a redirect away from baseUrl's origin is not followed",
                answered(status)
            ))));
        }
        if status == StatusCode::NOT_FOUND && empty_on_not_found {
            return Ok(None);
        }
        if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) {
            return Err(Failure::Fatal(CollectError::Unreachable(format!(
                "{}: the source refused the credentials; check auth, token, password and headers",
                answered(status)
            ))));
        }
        if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
            return Err(Failure::Transient(answered(status)));
        }
        if !status.is_success() {
            return Err(Failure::Fatal(CollectError::Unreachable(answered(status))));
        }
        let too_large = || {
            Failure::Fatal(CollectError::Invalid(format!(
                "the response is larger than {} MiB",
                MAX_RESPONSE_BYTES / 1024 / 1024
            )))
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut bytes: Vec<u8> = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Failure::Fatal(CollectError::Invalid(format!(
                "the response is not JSON (line {}, column {})",
                e.line(),
                e.column()
            )))
        })
    }
}

/// An error with its causes, for messages (reqwest's own message is terse).
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Url {
        Url::parse("https://crm.example/api/v2/?tenant=7").unwrap()
    }

    #[test]
    fn hostile_values_stay_inside_their_segment_and_parameter() {
        let hostile = [
            "a\"b'c",
            "100%",
            "%2e%2e",
            "a&b=c",
            "x#frag",
            "../../admin",
            "a/b",
            "a\\b",
            "nul\0byte",
            "?q=1",
            "Jörg Weiß 😀",
            "@evil.example",
            "\r\nHost: evil",
            "...",
        ];
        for value in hostile {
            let url = search_url(
                &base(),
                "/contacts/{value}/notes",
                &[("q".into(), "email:{value}".into())],
                value,
                None,
            )
            .unwrap_or_else(|e| panic!("{value:?}: {e}"));
            assert_eq!(url.host_str(), Some("crm.example"), "{value:?}");
            let segments: Vec<&str> = url.path_segments().unwrap().collect();
            assert_eq!(segments.len(), 5, "{value:?} -> {url}");
            assert_eq!(
                (segments[0], segments[1], segments[2], segments[4]),
                ("api", "v2", "contacts", "notes"),
                "{value:?}"
            );
            let decoded = percent_encoding::percent_decode_str(segments[3])
                .decode_utf8()
                .unwrap();
            assert_eq!(decoded, value, "the segment carries exactly the value");
            let pairs: Vec<(String, String)> = url
                .query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(
                pairs,
                [
                    ("tenant".to_owned(), "7".to_owned()),
                    ("q".to_owned(), format!("email:{value}"))
                ],
                "{value:?}"
            );
            assert_eq!(url.fragment(), None);
        }
        let long = "x".repeat(10_000);
        let url = search_url(&base(), "/c/{value}", &[], &long, None).unwrap();
        assert!(url.path().ends_with(&long));
    }

    #[test]
    fn dot_segments_are_refused_not_normalized_away() {
        for value in [".", ".."] {
            assert!(
                matches!(
                    search_url(&base(), "/contacts/{value}", &[], value, None),
                    Err(CollectError::Mapping(_))
                ),
                "{value:?}"
            );
        }
        // Inside a longer segment, dots are plain characters.
        let url = search_url(&base(), "/contacts/{value}.json", &[], "..", None).unwrap();
        assert_eq!(url.path(), "/api/v2/contacts/...json");
    }

    #[test]
    fn bodies_carry_the_value_as_json_string_content() {
        let value = "\"}, \"admin\": true, \"x\": {\"";
        let body = fill_body(
            &json!({"filter": {"email": "{value}", "tags": ["a", "{value}"], "limit": 10}}),
            value,
        );
        assert_eq!(body["filter"]["email"], value);
        assert_eq!(body["filter"]["tags"][1], value);
        assert_eq!(body["filter"]["limit"], 10);
        assert!(body.get("admin").is_none());
    }

    #[test]
    fn parameters_are_replaced_not_repeated() {
        let url = Url::parse("https://crm.example/c?email=a%40b&page=1").unwrap();
        let next = with_parameter(&url, "page", "2");
        assert_eq!(next.as_str(), "https://crm.example/c?email=a%40b&page=2");
    }
}
