//! Register types: data sources.

use super::*;

mirror_enum! {
    /// How Auskunft reaches a data source.
    ConnectorKind = workflow::connectors::ConnectorKind {
        /// A PostgreSQL database.
        Postgres,
        /// A MySQL or MariaDB database.
        Mysql,
        /// A SQLite database file.
        Sqlite,
        /// An HTTP JSON API (CRM, newsletter tool, ticket system).
        Http,
        /// Searched by a person (mailbox, paper files).
        Manual,
    }
}

/// The JSON Schema of a connector kind's configuration, for rendering forms.
/// Properties marked `writeOnly` are secrets.
#[derive(SimpleObject, Clone, Debug)]
pub struct ConnectorSchema {
    /// The connector kind.
    pub kind: ConnectorKind,
    /// The JSON Schema (draft 2020-12) its `connectorConfig` must satisfy.
    pub schema: async_graphql::Json<serde_json::Value>,
    /// Names of the secret properties (write-only).
    pub secret_properties: Vec<String>,
}

/// A system that holds personal data (shop database, CRM, invoicing, newsletter
/// tool, mailbox) and how Auskunft reaches it.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct DataSource {
    /// Global ID.
    pub id: ID,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Responsible team or person.
    pub owner: Option<String>,
    /// Where the data is stored (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// How Auskunft reaches it.
    pub connector_kind: ConnectorKind,
    /// The connector configuration without its secrets.
    pub connector_config: async_graphql::Json<serde_json::Value>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub processor_id: Option<uuid::Uuid>,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
    /// The sealed secrets, decrypted only when `secretsSet` is selected.
    #[graphql(skip)]
    pub sealed_secrets: Option<String>,
}

#[async_graphql::ComplexObject]
impl DataSource {
    /// Names of the secrets stored for it (their values are never returned).
    async fn secrets_set(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<String>> {
        Ok(crate::graphql::session(ctx)?
            .workflow()
            .data_source_secret_names(self.sealed_secrets.as_deref())?)
    }

    /// Where in this source personal data lives, in creation order.
    async fn fields(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<DataField>> {
        let rows = crate::graphql::loaders::loaders(ctx)?
            .source_fields
            .load_one(self.uuid)
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(DataField::from)
            .collect())
    }

    /// The identifiers this source is searched by: for SQL and MANUAL sources the
    /// kinds of its identifying fields, for HTTP sources the kinds of its search
    /// templates (`connectorConfig.search[].identityType`; an identity kind without a
    /// template is never sent to the source).
    async fn identity_keys(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<IdentityType>> {
        let rows = crate::graphql::loaders::loaders(ctx)?
            .source_fields
            .load_one(self.uuid)
            .await?;
        let keys = workflow::register::fields::identity_keys(
            self.connector_kind.into(),
            &self.connector_config.0,
            &rows.unwrap_or_default(),
        );
        Ok(keys.into_iter().map(Into::into).collect())
    }

    /// The processor operating the system (Art. 28), if any.
    async fn processor(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<Recipient>> {
        let Some(id) = self.processor_id else {
            return Ok(None);
        };
        let row = crate::graphql::loaders::loaders(ctx)?
            .recipient
            .load_one(id)
            .await?;
        Ok(row.map(Recipient::from))
    }
}

impl From<v::DataSourceView> for DataSource {
    fn from(v: v::DataSourceView) -> Self {
        Self {
            id: global_id("DataSource", v.id),
            uuid: v.id,
            connector_kind: v.connector_kind.into(),
            connector_config: async_graphql::Json(v.connector_config),
            processor_id: v.processor_id,
            sealed_secrets: v.sealed_secrets,
            name: v.name,
            description: v.description,
            owner: v.owner,
            country: v.country,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

crate::graphql::types::connection::connection!(
    DataSourceConnection,
    DataSourceEdge,
    DataSource,
    "A page of data sources (Relay cursor connection).",
    "A data source with its cursor."
);
