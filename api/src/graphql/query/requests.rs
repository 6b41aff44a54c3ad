//! Queries of the request workflow.

use async_graphql::{Context, Object};

use crate::error::{ApiError, ApiResult};
use crate::graphql::inputs::requests::RequestFilter;
use crate::graphql::loaders::Prefetch;
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
                .map(|id| ids::decode_assignable(&id, &["filter", "assigneeId"]))
                .transpose()?,
            identity: f.identity.map(|i| (i.kind.into(), i.value)),
        })
    }
}

/// Loads each selected relation for the whole page at once (see `loaders`), so a
/// page costs one statement per relation, not one per request. The relations of
/// the page load side by side; the edges of its tasks and records after them.
async fn prefetch(
    ctx: &Context<'_>,
    page: &workflow::Page<workflow::requests::RequestView>,
) -> ApiResult<()> {
    let ahead = ctx.look_ahead();
    let node = |field: &str| {
        let nodes = ahead.field("nodes").field(field);
        if nodes.exists() {
            nodes
        } else {
            ahead.field("edges").field("node").field(field)
        }
    };
    let selects = |field: &str| node(field).exists();
    let ids: Vec<uuid::Uuid> = page.items.iter().map(|r| r.id).collect();
    let l = crate::graphql::loaders::loaders(ctx)?;
    if !l.caches() {
        return Ok(());
    }
    let mut first: Vec<Prefetch<'_>> = Vec::new();
    macro_rules! by_request {
        ($loader:ident) => {
            first.push(Box::pin(l.prefetch(&l.$loader, ids.clone())))
        };
    }
    let task_edges = ["source", "completedBy", "completedById"]
        .iter()
        .any(|f| node("tasks").field(f).exists());
    let record_edges = ["source", "field", "task"]
        .iter()
        .any(|f| node("records").field(f).exists());
    if selects("tasks") || node("records").field("task").exists() {
        by_request!(request_tasks);
    }
    if selects("records") || selects("recordsCount") {
        by_request!(request_records);
    }
    if selects("records") || selects("redactionsCount") {
        by_request!(request_redactions);
    }
    if selects("changesSinceLastReview") || node("records").field("changeSinceLastReview").exists()
    {
        by_request!(review_changes);
    }
    if selects("attachments") {
        by_request!(request_attachments);
    }
    if selects("answerPackage") {
        by_request!(answer_packages);
    }
    if selects("stalledReasons") {
        by_request!(stalled_reasons);
    }
    if selects("identities") {
        by_request!(request_identities);
    }
    let actor_fields = [
        "assignee",
        "assigneeId",
        "claimedBy",
        "claimedById",
        "submittedForReviewBy",
        "submittedForReviewById",
    ];
    let mut actors: Vec<uuid::Uuid> = Vec::new();
    if actor_fields.iter().any(|f| selects(f)) {
        actors.extend(
            page.items
                .iter()
                .flat_map(|r| [r.assignee_id, r.claimed_by, r.submitted_for_review_by])
                .flatten(),
        );
    }
    if selects("duplicateOf") {
        let duplicates = page.items.iter().filter_map(|r| r.duplicate_of);
        first.push(Box::pin(
            l.prefetch(&l.request, duplicates.collect::<Vec<_>>()),
        ));
    }
    futures_util::future::try_join_all(first).await?;

    // The edges of the page's tasks and records, from what was just loaded.
    let mut sources: Vec<uuid::Uuid> = Vec::new();
    let mut fields: Vec<uuid::Uuid> = Vec::new();
    if task_edges {
        let tasks = l.request_tasks.load_many(ids.iter().copied()).await?;
        for task in tasks.values().flatten() {
            sources.push(task.source_id);
            actors.extend(task.completed_by);
        }
    }
    if record_edges {
        let records = l.request_records.load_many(ids.iter().copied()).await?;
        for (record, _) in records.values().flatten() {
            sources.push(record.source_id);
            fields.extend(record.field_id);
        }
    }
    futures_util::future::try_join_all([
        Box::pin(l.prefetch(&l.actor, actors)) as Prefetch<'_>,
        Box::pin(l.prefetch(&l.data_source, sources)),
        Box::pin(l.prefetch(&l.data_field, fields)),
    ])
    .await?;
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
