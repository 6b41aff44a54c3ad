//! HTTP JSON sources: a CRM or newsletter tool reached over its API. Fields are
//! located by JSON path in the responses.

use serde_json::{Map, Value};

use super::guard::{Refusal, SourceGuard, Stage, Target};
use super::{CollectError, CollectJob, Connector, ConnectorKind, Found, text};

/// The connector of HTTP sources.
pub(crate) struct HttpConnector;

#[async_trait::async_trait]
impl Connector for HttpConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Http
    }

    fn config_schema(&self) -> &'static str {
        include_str!("http.schema.json")
    }

    fn check_location(&self, location: &str) -> Result<(), &'static str> {
        if location.starts_with('$') && !location.contains(char::is_whitespace) {
            Ok(())
        } else {
            Err("must be a JSON path like `$.contacts[*].email` for an HTTP source")
        }
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
    async fn collect(&self, _job: &CollectJob<'_>) -> Result<Vec<Found>, CollectError> {
        Err(CollectError::Unreachable(
            "collection from HTTP sources is not built yet".to_owned(),
        ))
    }
}
