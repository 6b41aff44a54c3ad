//! Queries of the retention sweep.

use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::types::retention::{RetentionRun, RetentionRunConnection};
use crate::graphql::{ids, session};

/// Runs of the retention sweep.
#[derive(Default)]
pub struct RetentionQuery;

#[Object]
impl RetentionQuery {
    /// The organization's retention sweep runs, oldest first (`last: 1` for the
    /// latest).
    async fn retention_runs(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the front (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<RetentionRunConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s.workflow().retention_runs(s.principal()?, &page).await?;
        Ok(RetentionRunConnection::from_page(
            page,
            |r| r.id.to_string(),
            RetentionRun::from,
        ))
    }
}
