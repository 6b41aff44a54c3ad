//! HTTP JSON sources: a CRM or newsletter tool reached over its API.
//!
//! The configuration's `search` templates say how the subject is found: each
//! verified identity of a template's type is put into its path (percent-encoded),
//! query (form-encoded) or JSON body (as string content), and the request is sent
//! with the configured authentication. Responses are checked against the JSON
//! Schema (`responseSchema`), records are picked by JSON path, further pages are
//! followed (next link, page number or cursor) up to `maxPages`, and each mapped
//! field is read from each record by its JSON path (see [`records`]).
//!
//! Every URL fetched (first pages, next links, redirects) stays on the base URL's
//! origin and passes the [`SourceGuard`]'s allowed hosts, so neither an identity
//! value nor a response can send the credentials elsewhere.

mod config;
mod fetch;
pub(crate) use fetch::error_chain;
mod records;
#[cfg(test)]
mod tests;

use std::collections::{BTreeSet, HashSet};

use serde_json::{Map, Value};
use serde_json_path::JsonPath;
use url::Url;

use super::guard::{Refusal, SourceGuard, Stage, Target};
use super::{
    CollectError, CollectJob, ConfigProblem, Connector, ConnectorKind, Found, schema_violations,
    text,
};
use crate::register::fields::IdentityType;
use config::{HttpConfig, Pagination, Search};
use fetch::Fetcher;
use records::Gathered;

/// Most schema violations named in one error.
const MAX_VIOLATIONS: usize = 5;

/// The connector of HTTP sources.
pub(crate) struct HttpConnector;

#[async_trait::async_trait]
impl Connector for HttpConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Http
    }

    fn destination(&self, config: &Map<String, Value>) -> Option<String> {
        let base = config.get("baseUrl").and_then(Value::as_str)?;
        Some(match reqwest::Url::parse(base) {
            Ok(url) => url.origin().ascii_serialization(),
            Err(_) => base.to_owned(),
        })
    }

    fn config_schema(&self) -> &'static str {
        include_str!("http.schema.json")
    }

    fn check_location(&self, location: &str) -> Result<(), &'static str> {
        if location.starts_with('$') && JsonPath::parse(location).is_ok() {
            Ok(())
        } else {
            Err("must be a JSON path like `$.contacts[*].email` for an HTTP source")
        }
    }

    fn check_details(&self, config: &Map<String, Value>) -> Vec<ConfigProblem> {
        HttpConfig::read(config, Stage::Register)
            .err()
            .unwrap_or_default()
    }

    /// The kinds of the search templates: an identity kind without a template is
    /// never sent to the source, whatever its fields hold.
    fn search_keys(
        &self,
        config: &Map<String, Value>,
        _field_keys: Vec<IdentityType>,
    ) -> Vec<IdentityType> {
        let mut keys = Vec::new();
        let templates = config.get("search").and_then(Value::as_array);
        for template in templates.into_iter().flatten() {
            if let Some(kind) = template
                .get("identityType")
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<IdentityType>().ok())
                && !keys.contains(&kind)
            {
                keys.push(kind);
            }
        }
        keys
    }

    fn locate(
        &self,
        guard: &SourceGuard,
        config: &Map<String, Value>,
        _stage: Stage,
    ) -> Result<Target, Refusal> {
        let host = text(config, "baseUrl")
            .and_then(|u| url::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_owned));
        guard.host("baseUrl", host)
    }

    async fn collect(&self, job: &CollectJob<'_>) -> Result<Vec<Found>, CollectError> {
        // Checked again right before connecting: the allowed hosts may have changed.
        self.locate(job.guard, job.config, Stage::Connect)
            .map_err(refused)?;
        let config = HttpConfig::read(job.config, Stage::Connect).map_err(|problems| {
            let list: Vec<String> = problems
                .iter()
                .map(|p| format!("`{}` {}", p.path.join("."), p.message))
                .collect();
            CollectError::Mapping(format!(
                "the connector configuration is not usable: {}",
                list.join("; ")
            ))
        })?;
        if config.searches.is_empty() {
            return Err(CollectError::Mapping(
                "the connector configuration has no `search`: say how the subject is found \
                 (request templates per identity type)"
                    .to_owned(),
            ));
        }
        let fetcher = Fetcher::new(&config)?;
        let mut gathered = Gathered::default();
        for search in &config.searches {
            let fields = records::field_paths(job.fields, search)?;
            let values: BTreeSet<&str> = job
                .identities
                .iter()
                .filter(|i| i.kind == search.identity_type)
                .flat_map(|i| std::iter::once(i.value.as_str()).chain(i.as_given.as_deref()))
                .filter(|v| !v.is_empty())
                .collect();
            for value in values {
                let run = Run {
                    job,
                    config: &config,
                    fetcher: &fetcher,
                    search,
                    fields: &fields,
                };
                run.pages(value, &mut gathered).await?;
            }
        }
        Ok(gathered.found)
    }
}

fn refused(r: Refusal) -> CollectError {
    CollectError::Unreachable(format!("`{}` {}", r.field, r.message))
}

/// One search made with one identity value, page by page.
struct Run<'a> {
    job: &'a CollectJob<'a>,
    config: &'a HttpConfig,
    fetcher: &'a Fetcher<'a>,
    search: &'a Search,
    fields: &'a [(uuid::Uuid, String, JsonPath)],
}

impl Run<'_> {
    async fn pages(&self, value: &str, gathered: &mut Gathered) -> Result<(), CollectError> {
        let search = self.search;
        let first_page = match &search.pagination {
            Pagination::Page { parameter, first } => Some((parameter.as_str(), first.to_string())),
            _ => None,
        };
        let mut url = fetch::search_url(
            &self.config.base,
            &search.path,
            &search.query,
            value,
            first_page.as_ref().map(|(p, n)| (*p, n.as_str())),
        )?;
        let body = search.body.as_ref().map(|b| fetch::fill_body(b, value));
        let mut seen: HashSet<String> = HashSet::new();
        let mut page: u32 = 1;
        loop {
            self.check_host(&url)?;
            let what = format!("{}, page {page}", search.label());
            let Some(response) = self
                .fetcher
                .json(
                    search.method,
                    &url,
                    body.as_ref(),
                    search.empty_on_not_found,
                    &what,
                )
                .await?
            else {
                return Ok(());
            };
            if let Some(schema) = &search.schema {
                let violations = schema_violations(schema, &response, MAX_VIOLATIONS);
                if !violations.is_empty() {
                    let list: Vec<String> = violations
                        .into_iter()
                        .map(|(at, message)| {
                            format!("at `{}`: {message}", if at.is_empty() { "/" } else { &at })
                        })
                        .collect();
                    return Err(CollectError::Invalid(format!(
                        "{what}: the response does not fit the response schema: {}",
                        list.join("; ")
                    )));
                }
            }
            let count = gathered.take(&response, search, self.fields)?;
            let next = match &search.pagination {
                Pagination::None => None,
                Pagination::Next(path) => match records::scalar_at(&response, path) {
                    None => None,
                    Some(link) => {
                        let next = url.join(&link).map_err(|_| {
                            CollectError::Invalid(format!("{what}: the next link is not a URL"))
                        })?;
                        if !self.fetcher.same_origin(&next) {
                            return Err(CollectError::Invalid(format!(
                                "{what}: the next link leaves baseUrl's origin; it is not followed"
                            )));
                        }
                        Some(next)
                    }
                },
                Pagination::Page { parameter, first } => (count > 0).then(|| {
                    fetch::with_parameter(&url, parameter, &(first + u64::from(page)).to_string())
                }),
                Pagination::Cursor { parameter, cursor } => records::scalar_at(&response, cursor)
                    .map(|c| fetch::with_parameter(&url, parameter, &c)),
            };
            let Some(next) = next else {
                return Ok(());
            };
            seen.insert(url.to_string());
            if seen.contains(next.as_str()) {
                return Err(CollectError::Invalid(format!(
                    "{what}: the pagination points back to a page already fetched"
                )));
            }
            if page >= search.max_pages {
                return Err(CollectError::Mapping(format!(
                    "{}: more than {} pages; raise pagination.maxPages or narrow the search \
                     (a partial answer is not given)",
                    search.label(),
                    search.max_pages
                )));
            }
            url = next;
            page += 1;
        }
    }

    /// The guard's allowed hosts apply to every URL fetched.
    fn check_host(&self, url: &Url) -> Result<(), CollectError> {
        self.job
            .guard
            .host("baseUrl", url.host_str().map(str::to_owned))
            .map(|_| ())
            .map_err(refused)
    }
}

#[cfg(test)]
mod destination_tests {
    use serde_json::json;

    use super::HttpConnector;
    use crate::connectors::Connector;

    #[test]
    fn secrets_stay_with_the_origin_of_the_base_url() {
        let at = |url: &str| {
            HttpConnector.destination(json!({"baseUrl": url}).as_object().expect("object"))
        };
        assert_eq!(at("https://crm.example/api/"), at("https://crm.example/v2"));
        assert_eq!(at("https://crm.example/"), at("https://crm.example:443/"));
        assert_ne!(at("https://crm.example/"), at("https://evil.example/"));
        assert_ne!(at("https://crm.example/"), at("http://crm.example/"));
        assert_ne!(at("https://crm.example/"), at("https://crm.example:8443/"));
    }
}
