//! Register inputs: data sources.

use super::*;

/// Filters of `dataSources`; all given filters must match.
#[derive(InputObject, Debug, Default)]
pub struct DataSourceFilter {
    /// Case-insensitive part of the name, matched literally; at most 200 characters without control characters.
    pub search: Option<String>,
    /// Only this connector kind.
    pub connector_kind: Option<ConnectorKind>,
}

/// Input of `createDataSource`.
#[derive(InputObject, Debug)]
pub struct CreateDataSourceInput {
    /// Name, unique in the organization (1–200 characters).
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Responsible team or person.
    pub owner: Option<String>,
    /// Where the data is stored (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// The processor operating it: a recipient of kind `PROCESSOR`.
    pub processor_id: Option<ID>,
    /// How Auskunft reaches it.
    pub connector_kind: ConnectorKind,
    /// Configuration satisfying the kind's JSON Schema (see `connectorSchemas`),
    /// secrets included; secrets are stored encrypted and never returned.
    pub connector_config: async_graphql::Json<serde_json::Value>,
}

/// Input of `updateDataSource`: an omitted field stays as it is, `null` clears it.
#[derive(InputObject, Debug)]
pub struct UpdateDataSourceInput {
    /// The data source.
    pub id: ID,
    /// Name.
    pub name: Option<String>,
    /// Explanation.
    pub description: MaybeUndefined<String>,
    /// Responsible team or person.
    pub owner: MaybeUndefined<String>,
    /// Where the data is stored.
    pub country: MaybeUndefined<String>,
    /// The processor operating it.
    pub processor_id: MaybeUndefined<ID>,
    /// A new connector kind (stored secrets are dropped when the kind changes).
    pub connector_kind: Option<ConnectorKind>,
    /// The whole new configuration; secrets it omits keep their stored values.
    pub connector_config: Option<async_graphql::Json<serde_json::Value>>,
    /// Stored secrets to remove.
    #[graphql(default)]
    pub clear_secrets: Vec<String>,
}

/// Result of `createDataSource` and `updateDataSource`.
#[derive(SimpleObject)]
pub struct DataSourcePayload {
    /// The data source after the change.
    pub data_source: DataSource,
}
