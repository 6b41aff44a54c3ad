//! MANUAL sources: searched by a person (a steward), who enters or uploads what was
//! found (`requests::uploads`); `recordSchema` describes one uploaded record.

use serde_json::{Map, Value};

use super::guard::{Refusal, SourceGuard, Stage, Target};
use super::{CollectError, CollectJob, ConfigProblem, Connector, ConnectorKind, Found};

/// The connector of MANUAL sources.
pub(crate) struct ManualConnector;

#[async_trait::async_trait]
impl Connector for ManualConnector {
    fn kind(&self) -> ConnectorKind {
        ConnectorKind::Manual
    }

    fn config_schema(&self) -> &'static str {
        include_str!("manual.schema.json")
    }

    fn check_location(&self, _location: &str) -> Result<(), &'static str> {
        // Free text: where in the binder or mailbox the steward looks.
        Ok(())
    }

    fn check_details(&self, config: &Map<String, Value>) -> Vec<ConfigProblem> {
        match config.get("recordSchema") {
            Some(schema) if crate::connectors::data_schema(schema).is_err() => {
                vec![ConfigProblem::new(
                    &["recordSchema"],
                    "must be a valid JSON Schema (remote references are not fetched)",
                )]
            }
            _ => Vec::new(),
        }
    }

    fn locate(
        &self,
        _guard: &SourceGuard,
        _config: &Map<String, Value>,
        _stage: Stage,
    ) -> Result<Target, Refusal> {
        Ok(Target::Nothing)
    }
    async fn collect(&self, _job: &CollectJob<'_>) -> Result<Vec<Found>, CollectError> {
        Err(CollectError::Manual("MANUAL"))
    }
}
