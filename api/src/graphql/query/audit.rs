use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::inputs::audit::AuditEventFilter;
use crate::graphql::types::{AuditEvent, AuditEventConnection};
use crate::graphql::{ids, session};

/// The audit log.
#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// The organization's audit log, oldest first (use `last` for the newest).
    async fn audit_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<AuditEventFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<AuditEventConnection> {
        let s = session(ctx)?;
        let filter = filter.unwrap_or_default().into_workflow()?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .audit_events(s.principal()?, &filter, &page)
            .await?;
        Ok(AuditEventConnection::from_page(
            page,
            |e| e.id.to_string(),
            AuditEvent::from,
        ))
    }
}
