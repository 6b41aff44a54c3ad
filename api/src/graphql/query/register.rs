use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::inputs::register::DataCategoryFilter;
use crate::graphql::types::register::{
    DataCategory, DataCategoryConnection, SubjectCategory, SubjectCategoryConnection,
};
use crate::graphql::{ids, session};

/// The register of processing activities (GDPR Art. 30).
#[derive(Default)]
pub struct RegisterQuery;

#[Object]
impl RegisterQuery {
    /// Categories of personal data, in creation order (the seeded taxonomy first).
    async fn data_categories(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<DataCategoryFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<DataCategoryConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default().into();
        let page = s
            .workflow()
            .data_categories(s.principal()?, &filter, &page)
            .await?;
        Ok(DataCategoryConnection::from_page(
            page,
            |c| c.id.to_string(),
            DataCategory::from,
        ))
    }

    /// Categories of data subjects, in creation order (the seeded taxonomy first).
    async fn subject_categories(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Case-insensitive part of the key or name.")] search: Option<String>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<SubjectCategoryConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .subject_categories(s.principal()?, search.as_deref(), &page)
            .await?;
        Ok(SubjectCategoryConnection::from_page(
            page,
            |c| c.id.to_string(),
            SubjectCategory::from,
        ))
    }
}
