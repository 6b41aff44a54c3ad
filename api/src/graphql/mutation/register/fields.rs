//! Register mutations: data fields, field-mapping suggestions and register imports.

use async_graphql::{Context, Object};
use workflow::register::fields;

use crate::graphql::types::register::DataField;

use crate::error::ApiResult;
use crate::graphql::inputs::register::*;
use crate::graphql::{ids, session};

/// Data fields, field-mapping suggestions and register imports.
#[derive(Default)]
pub struct DataFieldMutation;

#[Object]
impl DataFieldMutation {
    /// Turns suggestions of `inspectSource` into fields, in one transaction. The
    /// source is inspected again: a location that is not (or no longer) an unmapped
    /// column is a VALIDATION error naming its position; foreign keys to mapped or
    /// accepted columns become references. CONFLICT when the catalog cannot be read.
    async fn suggest_field_mappings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: SuggestFieldMappingsInput,
    ) -> ApiResult<SuggestFieldMappingsPayload> {
        let s = session(ctx)?;
        let source_id = ids::decode(&input.source_id, "DataSource", &["input", "sourceId"])?;
        let mut accepted = Vec::with_capacity(input.accept.len());
        for (i, a) in input.accept.into_iter().enumerate() {
            let path = ["input", "accept", &i.to_string(), "dataCategoryId"];
            accepted.push(workflow::register::drift::Accepted {
                location: a.location,
                data_category_id: a
                    .data_category_id
                    .map(|id| ids::decode(&id, "DataCategory", &path))
                    .transpose()?,
            });
        }
        let created = s
            .workflow()
            .suggest_field_mappings(s.principal()?, source_id, accepted)
            .await?;
        Ok(SuggestFieldMappingsPayload {
            data_fields: created.into_iter().map(DataField::from).collect(),
        })
    }

    /// Imports a register document (`registerExport(format: JSON)`) into this
    /// organization, whose register must be empty (CONFLICT otherwise). All or
    /// nothing, in one transaction; a bad row is a VALIDATION error with its path in
    /// the document. Controller details are taken over, the organization's name is
    /// kept; connector secrets must be entered again. Needs create permission on
    /// the register and on data sources.
    async fn import_register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ImportRegisterInput,
    ) -> ApiResult<crate::graphql::types::export::ImportRegisterPayload> {
        let s = session(ctx)?;
        let document: workflow::register::export::RegisterDocument =
            serde_json::from_value(input.document.0).map_err(|e| {
                crate::error::ApiError::from(workflow::Error::invalid(
                    &["input", "document"],
                    format!("not a register document: {e}"),
                ))
            })?;
        let summary = s
            .workflow()
            .import_register(s.principal()?, document)
            .await?;
        Ok(summary.into())
    }

    /// Maps where in a source a category of personal data lives.
    async fn create_data_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateDataFieldInput,
    ) -> ApiResult<DataFieldPayload> {
        let s = session(ctx)?;
        let draft = fields::FieldDraft {
            source_id: ids::decode(&input.source_id, "DataSource", &["input", "sourceId"])?,
            location: input.location,
            description: input.description,
            data_category_id: input
                .data_category_id
                .map(|id| ids::decode(&id, "DataCategory", &["input", "dataCategoryId"]))
                .transpose()?,
            identifies_subject: input.identifies_subject,
            identity_type: input.identity_type.map(Into::into),
            references_id: input
                .references_id
                .map(|id| ids::decode(&id, "DataField", &["input", "referencesId"]))
                .transpose()?,
            erasure_strategy: input.erasure_strategy.into(),
        };
        let created = s
            .workflow()
            .create_data_field(s.principal()?, draft)
            .await?;
        Ok(DataFieldPayload {
            data_field: DataField::from(created),
        })
    }

    /// Changes a field mapping.
    async fn update_data_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateDataFieldInput,
    ) -> ApiResult<DataFieldPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataField", &["input", "id"])?;
        let optional_id =
            |value: async_graphql::MaybeUndefined<async_graphql::ID>, t: &str, f: &str| {
                patch(value)
                    .map(|id| id.map(|id| ids::decode(&id, t, &["input", f])).transpose())
                    .transpose()
            };
        let change = fields::FieldPatch {
            location: input.location,
            description: patch(input.description),
            data_category_id: optional_id(
                input.data_category_id,
                "DataCategory",
                "dataCategoryId",
            )?,
            identifies_subject: input.identifies_subject,
            identity_type: patch(input.identity_type).map(|t| t.map(Into::into)),
            references_id: optional_id(input.references_id, "DataField", "referencesId")?,
            erasure_strategy: input.erasure_strategy.map(Into::into),
        };
        let updated = s
            .workflow()
            .update_data_field(s.principal()?, id, change)
            .await?;
        Ok(DataFieldPayload {
            data_field: DataField::from(updated),
        })
    }

    /// Removes a field mapping. CONFLICT while other fields reference it.
    async fn delete_data_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataField", &["input", "id"])?;
        s.workflow().delete_data_field(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }
}
