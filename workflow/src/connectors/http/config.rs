//! The configuration of an HTTP source, read once per collection (and checked when
//! the source is registered): base URL, authentication, limits and the search
//! templates with their JSON paths and JSON Schemas compiled.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::{Map, Value};
use serde_json_path::JsonPath;
use url::Url;

use crate::connectors::ConfigProblem;
use crate::connectors::guard::Stage;
use crate::register::fields::IdentityType;

/// The placeholder a search template fills with the identity.
pub(super) const PLACEHOLDER: &str = "{value}";
/// The default name of a search's records.
const DEFAULT_NAME: &str = "records";
/// The default per-request timeout (seconds).
const DEFAULT_TIMEOUT: u64 = 30;
/// The default number of repetitions after a transient failure.
const DEFAULT_RETRIES: u32 = 2;
/// The default most pages per identity.
const DEFAULT_MAX_PAGES: u32 = 50;

/// Request headers a configuration may not set: they would change where the
/// request goes or how it is framed.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
];

/// HTTP method of a search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Method {
    Get,
    Post,
}

/// How further pages are fetched.
#[derive(Debug)]
pub(super) enum Pagination {
    /// One page only.
    None,
    /// A link to the next page at this JSON path of a response.
    Next(JsonPath),
    /// A page-number query parameter, counted from `first`.
    Page { parameter: String, first: u64 },
    /// A cursor query parameter; the next cursor at this JSON path of a response.
    Cursor { parameter: String, cursor: JsonPath },
}

/// One compiled search template.
#[derive(Debug)]
pub(super) struct Search {
    /// Its index in the configuration (for messages).
    pub index: usize,
    pub identity_type: IdentityType,
    pub name: String,
    pub method: Method,
    /// Path template below the base URL, starting with `/`.
    pub path: String,
    /// Query parameter templates, in configuration order.
    pub query: Vec<(String, String)>,
    /// Body template (POST).
    pub body: Option<Value>,
    /// The records path as written (fields written below it are relative to it).
    pub records_text: Option<String>,
    pub records: Option<JsonPath>,
    pub id: Option<JsonPath>,
    pub empty_on_not_found: bool,
    /// The search's own response schema, else the source's.
    pub schema: Option<jsonschema::Validator>,
    pub pagination: Pagination,
    pub max_pages: u32,
}

impl Search {
    /// What this search is called in messages.
    pub(super) fn label(&self) -> String {
        format!("search {} (`{}`)", self.index, self.name)
    }
}

/// A compiled HTTP configuration.
#[derive(Debug)]
pub(super) struct HttpConfig {
    pub base: Url,
    /// Authentication and extra headers, marked sensitive.
    pub headers: HeaderMap,
    pub timeout: Duration,
    pub retries: u32,
    pub searches: Vec<Search>,
}

/// Reads configurations, collecting every problem with its path.
#[derive(Default)]
struct Reader {
    problems: Vec<ConfigProblem>,
}

impl Reader {
    fn problem(&mut self, path: &[&str], message: impl Into<String>) {
        self.problems.push(ConfigProblem::new(path, message));
    }

    fn json_path(&mut self, text: &str, path: &[&str]) -> Option<JsonPath> {
        match JsonPath::parse(text) {
            Ok(p) => Some(p),
            Err(_) => {
                self.problem(path, "must be a JSON path (RFC 9535) like `$.data[*]`");
                None
            }
        }
    }

    fn schema(&mut self, schema: Option<&Value>, path: &[&str]) -> Option<jsonschema::Validator> {
        let schema = schema?;
        match crate::connectors::data_schema(schema) {
            Ok(v) => Some(v),
            Err(_) => {
                self.problem(
                    path,
                    "must be a valid JSON Schema (remote references are not fetched)",
                );
                None
            }
        }
    }
}

fn text<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    map.get(key).and_then(Value::as_str)
}

/// Whether a template string uses the placeholder.
fn uses_value(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains(PLACEHOLDER),
        Value::Array(items) => items.iter().any(uses_value),
        Value::Object(map) => map.values().any(uses_value),
        _ => false,
    }
}

/// Checks a path template: `/` separated segments, no `.` or `..`, braces only in
/// the placeholder.
fn check_path_template(template: &str) -> Result<(), &'static str> {
    if !template.starts_with('/') {
        return Err("must start with `/`");
    }
    for segment in template.split('/').skip(1) {
        let decoded = percent_encoding::percent_decode_str(segment).decode_utf8_lossy();
        if matches!(decoded.as_ref(), "." | "..") {
            return Err("must not contain `.` or `..` segments");
        }
        let rest = segment.replace(PLACEHOLDER, "");
        if rest.contains(['{', '}']) {
            return Err("may use `{value}` in braces, nothing else");
        }
    }
    Ok(())
}

/// The authentication and extra headers. Missing credentials are a problem only
/// when collecting: a source may be registered (or imported) before its secrets are
/// set, and an update that omits them keeps the stored ones.
fn auth_headers(reader: &mut Reader, config: &Map<String, Value>, stage: Stage) -> HeaderMap {
    let collecting = stage == Stage::Connect;
    let mut headers = HeaderMap::new();
    let sensitive = |v: &str, reader: &mut Reader, path: &[&str]| match HeaderValue::from_str(v) {
        Ok(mut v) => {
            v.set_sensitive(true);
            Some(v)
        }
        Err(_) => {
            reader.problem(path, "must be a valid HTTP header value (no line breaks)");
            None
        }
    };
    match text(config, "auth").unwrap_or("none") {
        "bearer" => match text(config, "token") {
            Some(token) if !token.is_empty() => {
                if let Some(v) = sensitive(&format!("Bearer {token}"), reader, &["token"]) {
                    headers.insert(AUTHORIZATION, v);
                }
            }
            _ if collecting => reader.problem(&["token"], "is required with auth = bearer"),
            _ => {}
        },
        "basic" => {
            use base64::Engine;
            let user = text(config, "username").unwrap_or_default();
            if user.is_empty() && collecting {
                reader.problem(&["username"], "is required with auth = basic");
            } else if user.contains(':') {
                reader.problem(&["username"], "must not contain `:` (HTTP basic auth)");
            }
            let password = text(config, "password").unwrap_or_default();
            let encoded = base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{password}").as_bytes());
            if let Some(v) = sensitive(&format!("Basic {encoded}"), reader, &["password"]) {
                headers.insert(AUTHORIZATION, v);
            }
        }
        _ => {}
    }
    if let Some(extra) = config.get("headers").and_then(Value::as_object) {
        for (name, value) in extra {
            let path = ["headers", name.as_str()];
            let Ok(header) = HeaderName::from_bytes(name.as_bytes()) else {
                reader.problem(&path, "is not a valid HTTP header name");
                continue;
            };
            if RESERVED_HEADERS.contains(&header.as_str())
                || (header == AUTHORIZATION && headers.contains_key(AUTHORIZATION))
            {
                reader.problem(&path, "may not be set here");
                continue;
            }
            if let Some(v) = value
                .as_str()
                .and_then(|value| sensitive(value, reader, &path))
            {
                headers.insert(header, v);
            }
        }
    }
    headers
}

fn pagination(reader: &mut Reader, raw: Option<&Value>, at: &str) -> (Pagination, u32) {
    let Some(raw) = raw.and_then(Value::as_object) else {
        return (Pagination::None, 1);
    };
    let max_pages = raw
        .get("maxPages")
        .and_then(Value::as_u64)
        .map_or(DEFAULT_MAX_PAGES, |n| n.clamp(1, 1000) as u32);
    let path = |key: &'static str| ["search", at, "pagination", key];
    let parameter = text(raw, "parameter").map(str::to_owned);
    let before = reader.problems.len();
    let pagination = match text(raw, "kind") {
        Some("next") => text(raw, "next")
            .and_then(|p| reader.json_path(p, &path("next")))
            .map(Pagination::Next),
        Some("page") => parameter.map(|parameter| Pagination::Page {
            parameter,
            first: raw.get("firstPage").and_then(Value::as_u64).unwrap_or(1),
        }),
        Some("cursor") => text(raw, "cursor")
            .and_then(|p| reader.json_path(p, &path("cursor")))
            .zip(parameter)
            .map(|(cursor, parameter)| Pagination::Cursor { parameter, cursor }),
        _ => None,
    };
    match pagination {
        Some(p) => (p, max_pages),
        None => {
            if reader.problems.len() == before {
                reader.problem(&path("kind"), "is incomplete");
            }
            (Pagination::None, 1)
        }
    }
}

fn search(
    reader: &mut Reader,
    index: usize,
    raw: &Value,
    source_schema: Option<&Value>,
) -> Option<Search> {
    let at = index.to_string();
    let at = at.as_str();
    let Some(raw) = raw.as_object() else {
        reader.problem(&["search", at], "must be an object");
        return None;
    };
    let identity_type = text(raw, "identityType").and_then(|t| t.parse::<IdentityType>().ok());
    if identity_type.is_none() {
        reader.problem(&["search", at, "identityType"], "must be an identity type");
    }
    let path = text(raw, "path").unwrap_or_default().to_owned();
    if let Err(message) = check_path_template(&path) {
        reader.problem(&["search", at, "path"], message);
    }
    let query: Vec<(String, String)> = raw
        .get("query")
        .and_then(Value::as_object)
        .map(|q| {
            q.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let body = raw.get("body").cloned();
    let method = match text(raw, "method") {
        Some("POST") => Method::Post,
        _ => Method::Get,
    };
    if body.is_some() && method == Method::Get {
        reader.problem(&["search", at, "body"], "needs method POST");
    }
    let filled = path.contains(PLACEHOLDER)
        || query.iter().any(|(_, v)| v.contains(PLACEHOLDER))
        || body.as_ref().is_some_and(uses_value);
    if !filled {
        // Without the identity in the request, the search would list everyone.
        reader.problem(
            &["search", at],
            "must put `{value}` (the identity) into the path, a query parameter or the body",
        );
    }
    let records_text = text(raw, "records").map(str::to_owned);
    let records = records_text
        .as_deref()
        .and_then(|p| reader.json_path(p, &["search", at, "records"]));
    let id =
        text(raw, "idProperty").and_then(|p| reader.json_path(p, &["search", at, "idProperty"]));
    let schema = match raw.get("responseSchema") {
        Some(own) => reader.schema(Some(own), &["search", at, "responseSchema"]),
        None => reader.schema(source_schema, &["responseSchema"]),
    };
    let (pagination, max_pages) = pagination(reader, raw.get("pagination"), at);
    Some(Search {
        index,
        identity_type: identity_type?,
        name: text(raw, "name").unwrap_or(DEFAULT_NAME).to_owned(),
        method,
        path,
        query,
        body,
        records_text,
        records,
        id,
        empty_on_not_found: raw
            .get("emptyOnNotFound")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        schema,
        pagination,
        max_pages,
    })
}

impl HttpConfig {
    /// Reads a configuration (secrets merged in when collecting); every problem with
    /// its path.
    pub(super) fn read(
        config: &Map<String, Value>,
        stage: Stage,
    ) -> Result<Self, Vec<ConfigProblem>> {
        let mut reader = Reader::default();
        let base = text(config, "baseUrl")
            .and_then(|u| Url::parse(u).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if base.is_none() {
            reader.problem(&["baseUrl"], "must be an http or https URL with a host");
        }
        if base
            .as_ref()
            .is_some_and(|u| !u.username().is_empty() || u.password().is_some())
        {
            reader.problem(
                &["baseUrl"],
                "must not carry credentials; use auth = basic with username and password",
            );
        }
        let headers = auth_headers(&mut reader, config, stage);
        // The source's response schema is checked even without searches.
        let source_schema = config.get("responseSchema");
        if config.get("search").is_none() {
            reader.schema(source_schema, &["responseSchema"]);
        }
        let searches: Vec<Search> = config
            .get("search")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .enumerate()
                    .filter_map(|(i, raw)| search(&mut reader, i, raw, source_schema))
                    .collect()
            })
            .unwrap_or_default();
        if !reader.problems.is_empty() {
            return Err(reader.problems);
        }
        Ok(Self {
            base: base.expect("checked above"),
            headers,
            timeout: Duration::from_secs(
                config
                    .get("timeoutSeconds")
                    .and_then(Value::as_u64)
                    .unwrap_or(DEFAULT_TIMEOUT)
                    .clamp(1, 300),
            ),
            retries: config
                .get("retries")
                .and_then(Value::as_u64)
                .map_or(DEFAULT_RETRIES, |n| n.min(5) as u32),
            searches,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(config: Value) -> Vec<String> {
        match HttpConfig::read(config.as_object().unwrap(), Stage::Connect) {
            Ok(_) => Vec::new(),
            Err(p) => p.into_iter().map(|p| p.path.join(".")).collect(),
        }
    }

    #[test]
    fn a_complete_configuration_compiles() {
        let config = json!({
            "baseUrl": "https://crm.example/api/", "auth": "bearer", "token": "t",
            "headers": {"X-Api-Key": "k"}, "timeoutSeconds": 5, "retries": 1,
            "responseSchema": {"type": "object"},
            "search": [
                {"identityType": "EMAIL", "name": "contacts", "path": "/contacts",
                 "query": {"email": "{value}"}, "records": "$.data[*]", "idProperty": "$.id",
                 "pagination": {"kind": "next", "next": "$.links.next", "maxPages": 3}},
                {"identityType": "CUSTOMER_NUMBER", "method": "POST", "path": "/search",
                 "body": {"filter": {"number": "{value}"}},
                 "pagination": {"kind": "cursor", "parameter": "after", "cursor": "$.cursor"}},
                {"identityType": "PHONE", "path": "/phones/{value}", "emptyOnNotFound": true,
                 "responseSchema": {"type": "array"},
                 "pagination": {"kind": "page", "parameter": "page", "firstPage": 0}}
            ]
        });
        let read = HttpConfig::read(config.as_object().unwrap(), Stage::Connect).unwrap();
        assert_eq!(read.searches.len(), 3);
        assert_eq!(read.timeout, Duration::from_secs(5));
        assert_eq!(read.retries, 1);
        assert!(read.headers[AUTHORIZATION].is_sensitive());
        assert!(matches!(
            read.searches[2].pagination,
            Pagination::Page { first: 0, .. }
        ));
        assert_eq!(read.searches[1].method, Method::Post);
        assert_eq!(read.searches[0].max_pages, 3);
        assert_eq!(read.searches[1].max_pages, DEFAULT_MAX_PAGES);
    }

    #[test]
    fn secrets_may_come_later_but_are_needed_to_collect() {
        let config = json!({"baseUrl": "https://crm.example", "auth": "basic"});
        let config = config.as_object().unwrap();
        assert!(HttpConfig::read(config, Stage::Register).is_ok());
        let problems: Vec<String> = HttpConfig::read(config, Stage::Connect)
            .unwrap_err()
            .into_iter()
            .map(|p| p.path.join("."))
            .collect();
        assert_eq!(problems, ["username"]);
    }

    #[test]
    fn problems_name_their_place() {
        let base = |search: Value| json!({"baseUrl": "https://crm.example", "search": [search]});
        let cases = [
            (
                base(json!({"identityType": "EMAIL", "path": "/contacts"})),
                "search.0",
            ),
            (
                base(json!({"identityType": "EMAIL", "path": "/a/../{value}"})),
                "search.0.path",
            ),
            (
                base(json!({"identityType": "EMAIL", "path": "/a/.%2E/{value}"})),
                "search.0.path",
            ),
            (
                base(json!({"identityType": "EMAIL", "path": "/a/{other}/{value}"})),
                "search.0.path",
            ),
            (
                base(json!({"identityType": "EMAIL", "path": "/{value}", "records": "data[*]"})),
                "search.0.records",
            ),
            (
                base(json!({"identityType": "EMAIL", "path": "/{value}", "idProperty": "$..["})),
                "search.0.idProperty",
            ),
            (
                base(
                    json!({"identityType": "EMAIL", "path": "/{value}", "responseSchema": {"type": 5}}),
                ),
                "search.0.responseSchema",
            ),
            (
                base(
                    json!({"identityType": "EMAIL", "path": "/{value}", "pagination": {"kind": "next", "next": "links.next"}}),
                ),
                "search.0.pagination.next",
            ),
            (
                base(json!({"identityType": "EMAIL", "path": "/x", "body": {"q": "{value}"}})),
                "search.0.body",
            ),
            (
                json!({"baseUrl": "https://crm.example", "auth": "bearer"}),
                "token",
            ),
            (json!({"baseUrl": "https://u:p@crm.example"}), "baseUrl"),
            (
                json!({"baseUrl": "https://crm.example", "headers": {"Host": "evil.example"}}),
                "headers.Host",
            ),
            (
                json!({"baseUrl": "https://crm.example", "headers": {"X-Key": "a\nb"}}),
                "headers.X-Key",
            ),
            (
                json!({"baseUrl": "https://crm.example", "responseSchema": {"type": "nope"}}),
                "responseSchema",
            ),
        ];
        for (config, path) in cases {
            assert_eq!(problems(config.clone()), [path], "{config}");
        }
    }
}
