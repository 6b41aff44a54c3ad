//! Queries of the request workflow.

use async_graphql::{Context, Object};

use crate::error::{ApiError, ApiResult};
use crate::graphql::inputs::requests::RequestFilter;
use crate::graphql::types::requests::{RequestSettings, SubjectRequest, SubjectRequestConnection};
use crate::graphql::{ids, session};

/// Data-subject requests.
#[derive(Default)]
pub struct RequestQuery;

impl TryFrom<RequestFilter> for workflow::requests::RequestFilter {
    type Error = ApiError;
    fn try_from(f: RequestFilter) -> Result<Self, ApiError> {
        Ok(Self {
            states: f
                .states
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            kind: f.kind.map(Into::into),
            overdue: f.overdue,
            due_within_days: f.due_within_days,
            is_test: f.is_test,
            assignee_id: f
                .assignee_id
                .map(|id| ids::decode(&id, "ApiKey", &["filter", "assigneeId"]))
                .transpose()?,
            identity: f.identity.map(|i| (i.kind.into(), i.value)),
        })
    }
}

/// Loads each selected relation for the whole page at once (see `loaders`), so a
/// page costs one statement per relation, not one per request.
async fn prefetch(
    ctx: &Context<'_>,
    page: &workflow::Page<workflow::requests::RequestView>,
) -> ApiResult<()> {
    let selects = |field: &str| {
        let ahead = ctx.look_ahead();
        ahead.field("nodes").field(field).exists()
            || ahead.field("edges").field("node").field(field).exists()
    };
    let ids: Vec<uuid::Uuid> = page.items.iter().map(|r| r.id).collect();
    let l = crate::graphql::loaders::loaders(ctx)?;
    if selects("tasks") {
        l.request_tasks.load_many(ids.iter().copied()).await?;
    }
    if selects("records") || selects("recordsCount") {
        l.request_records.load_many(ids.iter().copied()).await?;
    }
    if selects("records") || selects("redactionsCount") {
        l.request_redactions.load_many(ids.iter().copied()).await?;
    }
    let record_changes = {
        let ahead = ctx.look_ahead();
        let field = "changeSinceLastReview";
        ahead.field("nodes").field("records").field(field).exists()
            || ahead
                .field("edges")
                .field("node")
                .field("records")
                .field(field)
                .exists()
    };
    if selects("changesSinceLastReview") || record_changes {
        l.review_changes.load_many(ids.iter().copied()).await?;
    }
    if selects("attachments") {
        l.request_attachments.load_many(ids.iter().copied()).await?;
    }
    if selects("answerPackage") {
        l.answer_packages.load_many(ids.iter().copied()).await?;
    }
    if selects("stalledReasons") {
        l.stalled_reasons.load_many(ids.iter().copied()).await?;
    }
    if selects("identities") {
        l.request_identities.load_many(ids.iter().copied()).await?;
    }
    Ok(())
}

#[Object]
impl RequestQuery {
    /// Requests of the organization, oldest first.
    async fn requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must hold.")] filter: Option<RequestFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<SubjectRequestConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default().try_into()?;
        let page = s
            .workflow()
            .requests(s.principal()?, &filter, &page)
            .await?;
        prefetch(ctx, &page).await?;
        Ok(SubjectRequestConnection::from_page(
            page,
            |r| r.id.to_string(),
            SubjectRequest::from,
        ))
    }

    /// The review queue: requests IN_REVIEW, earliest deadline first.
    async fn review_queue(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<SubjectRequestConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s.workflow().review_queue(s.principal()?, &page).await?;
        prefetch(ctx, &page).await?;
        prefetch(ctx, &page).await?;
        Ok(SubjectRequestConnection::from_page(
            page,
            |r| r.due_sort_key.clone(),
            SubjectRequest::from,
        ))
    }

    /// Open requests that need attention: not moved for longer than `stallAfterHours`,
    /// or with a failed task. Oldest first.
    async fn stalled_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<SubjectRequestConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s.workflow().stalled_requests(s.principal()?, &page).await?;
        prefetch(ctx, &page).await?;
        prefetch(ctx, &page).await?;
        Ok(SubjectRequestConnection::from_page(
            page,
            |r| r.id.to_string(),
            SubjectRequest::from,
        ))
    }

    /// How the organization runs requests.
    async fn request_settings(&self, ctx: &Context<'_>) -> ApiResult<RequestSettings> {
        let s = session(ctx)?;
        Ok(s.workflow().request_settings(s.principal()?).await?.into())
    }
}
