//! Register mutations: data sources.

use async_graphql::{Context, Object};
use workflow::register::sources;

use crate::graphql::types::register::DataSource;

use crate::error::ApiResult;
use crate::graphql::inputs::register::*;
use crate::graphql::{ids, session};

/// Data sources.
#[derive(Default)]
pub struct DataSourceMutation;

#[Object]
impl DataSourceMutation {
    /// Adds a data source with its connector.
    async fn create_data_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateDataSourceInput,
    ) -> ApiResult<DataSourcePayload> {
        let s = session(ctx)?;
        let draft = sources::SourceDraft {
            name: input.name,
            description: input.description,
            owner: input.owner,
            country: input.country,
            processor_id: input
                .processor_id
                .map(|id| ids::decode(&id, "Recipient", &["input", "processorId"]))
                .transpose()?,
            connector_kind: input.connector_kind.into(),
            connector_config: input.connector_config.0,
        };
        let wf = s.workflow();
        let created = wf.create_data_source(s.principal()?, draft).await?;
        Ok(DataSourcePayload {
            data_source: DataSource::from(created),
        })
    }

    /// Changes a data source; secrets the new configuration omits are kept.
    async fn update_data_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateDataSourceInput,
    ) -> ApiResult<DataSourcePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataSource", &["input", "id"])?;
        let change = sources::SourcePatch {
            name: input.name,
            description: patch(input.description),
            owner: patch(input.owner),
            country: patch(input.country),
            processor_id: patch(input.processor_id)
                .map(|id| {
                    id.map(|id| ids::decode(&id, "Recipient", &["input", "processorId"]))
                        .transpose()
                })
                .transpose()?,
            connector_kind: input.connector_kind.map(Into::into),
            connector_config: input.connector_config.map(|c| c.0),
            clear_secrets: input.clear_secrets,
        };
        let wf = s.workflow();
        let updated = wf.update_data_source(s.principal()?, id, change).await?;
        Ok(DataSourcePayload {
            data_source: DataSource::from(updated),
        })
    }

    /// Deletes a data source.
    async fn delete_data_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataSource", &["input", "id"])?;
        s.workflow().delete_data_source(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }
}
