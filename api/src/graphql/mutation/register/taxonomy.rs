//! Register mutations: categories of personal data and of data subjects.

use async_graphql::{Context, Object};
use workflow::register::taxonomy;

use crate::error::ApiResult;
use crate::graphql::inputs::register::*;
use crate::graphql::{ids, session};

/// Categories of personal data and of data subjects.
#[derive(Default)]
pub struct TaxonomyMutation;

#[Object]
impl TaxonomyMutation {
    /// Adds a category of personal data under an existing parent.
    async fn create_data_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateDataCategoryInput,
    ) -> ApiResult<DataCategoryPayload> {
        let s = session(ctx)?;
        let new = taxonomy::NewDataCategory {
            key: input.key,
            name: input.name,
            description: input.description,
            sensitivity: input.sensitivity.into(),
        };
        let category = s
            .workflow()
            .create_data_category(s.principal()?, new)
            .await?;
        Ok(DataCategoryPayload {
            data_category: category.into(),
        })
    }

    /// Changes a data category's name, description or sensitivity.
    async fn update_data_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateDataCategoryInput,
    ) -> ApiResult<DataCategoryPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataCategory", &["input", "id"])?;
        let change = taxonomy::DataCategoryPatch {
            name: input.name,
            description: patch(input.description),
            sensitivity: input.sensitivity.map(Into::into),
        };
        let category = s
            .workflow()
            .update_data_category(s.principal()?, id, change)
            .await?;
        Ok(DataCategoryPayload {
            data_category: category.into(),
        })
    }

    /// Deletes a data category. CONFLICT while sub-categories exist.
    async fn delete_data_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataCategory", &["input", "id"])?;
        s.workflow()
            .delete_data_category(s.principal()?, id)
            .await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

    /// Adds a category of data subjects.
    async fn create_subject_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateSubjectCategoryInput,
    ) -> ApiResult<SubjectCategoryPayload> {
        let s = session(ctx)?;
        let new = taxonomy::NewSubjectCategory {
            key: input.key,
            name: input.name,
            description: input.description,
        };
        let category = s
            .workflow()
            .create_subject_category(s.principal()?, new)
            .await?;
        Ok(SubjectCategoryPayload {
            subject_category: category.into(),
        })
    }

    /// Changes a subject category's name or description.
    async fn update_subject_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateSubjectCategoryInput,
    ) -> ApiResult<SubjectCategoryPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "SubjectCategory", &["input", "id"])?;
        let change = taxonomy::SubjectCategoryPatch {
            name: input.name,
            description: patch(input.description),
        };
        let category = s
            .workflow()
            .update_subject_category(s.principal()?, id, change)
            .await?;
        Ok(SubjectCategoryPayload {
            subject_category: category.into(),
        })
    }

    /// Deletes a subject category.
    async fn delete_subject_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "SubjectCategory", &["input", "id"])?;
        s.workflow()
            .delete_subject_category(s.principal()?, id)
            .await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }
}
