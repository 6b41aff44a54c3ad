use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::inputs::register::{DataCategoryFilter, PurposeFilter, RecipientFilter};
use crate::graphql::types::register::{
    DataCategory, DataCategoryConnection, Purpose, PurposeConnection, Recipient,
    RecipientConnection, RetentionPolicy, RetentionPolicyConnection, SubjectCategory,
    SubjectCategoryConnection,
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

    /// Purposes of processing with their legal basis, in creation order.
    async fn purposes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<PurposeFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<PurposeConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = workflow::register::purposes::PurposeFilter {
            search: filter.search,
            legal_basis: filter.legal_basis.map(Into::into),
        };
        let page = s
            .workflow()
            .purposes(s.principal()?, &filter, &page)
            .await?;
        let page =
            page.try_map(|m| Ok::<_, workflow::Error>((m.id.to_string(), Purpose::try_from(m)?)))?;
        Ok(PurposeConnection::from_page(
            page,
            |(k, _)| k.clone(),
            |(_, p)| p,
        ))
    }

    /// Retention policies, in creation order.
    async fn retention_policies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Case-insensitive part of the name or legal reference.")] search: Option<
            String,
        >,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<RetentionPolicyConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .retention_policies(s.principal()?, search.as_deref(), &page)
            .await?;
        let page = page.try_map(|m| {
            Ok::<_, workflow::Error>((m.id.to_string(), RetentionPolicy::try_from(m)?))
        })?;
        Ok(RetentionPolicyConnection::from_page(
            page,
            |(k, _)| k.clone(),
            |(_, r)| r,
        ))
    }

    /// Recipients of personal data, in creation order.
    async fn recipients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<RecipientFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<RecipientConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = workflow::register::recipients::RecipientFilter {
            search: filter.search,
            kind: filter.kind.map(Into::into),
        };
        let page = s
            .workflow()
            .recipients(s.principal()?, &filter, &page)
            .await?;
        let page = page
            .try_map(|m| Ok::<_, workflow::Error>((m.id.to_string(), Recipient::try_from(m)?)))?;
        Ok(RecipientConnection::from_page(
            page,
            |(k, _)| k.clone(),
            |(_, r)| r,
        ))
    }
}
