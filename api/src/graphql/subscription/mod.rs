//! Subscription roots (graphql-transport-ws on `/graphql/ws`).

use async_graphql::{Context, Subscription};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio_stream::wrappers::BroadcastStream;
use workflow::DomainEvent;

use crate::error::ApiError;
use crate::graphql::session;
use crate::graphql::types::AuditEvent;

/// Live events.
#[derive(Default)]
pub struct Subscription;

/// Live events (graphql-transport-ws on `/graphql/ws`; send the API key as
/// `{"Authorization": "Bearer <key>"}` in the `connection_init` payload).
#[Subscription]
impl Subscription {
    /// Every audit event of the caller's organization from now on, as it commits.
    async fn audit_event_added(
        &self,
        ctx: &Context<'_>,
    ) -> Result<BoxStream<'static, AuditEvent>, ApiError> {
        let s = session(ctx)?;
        // Checked when subscribing, and again for every event by the extension.
        s.check_field("Subscription", "auditEventAdded").await?;
        let org_id = s.principal()?.org_id;
        let events = BroadcastStream::new(s.workflow().events().subscribe());
        Ok(events
            .filter_map(move |event| async move {
                match event {
                    Ok(DomainEvent::AuditAppended(row)) if row.org_id == org_id => {
                        Some(AuditEvent::from(row))
                    }
                    Ok(_) => None,
                    Err(lagged) => {
                        tracing::warn!(error = %lagged, "audit subscriber lagged; events skipped");
                        None
                    }
                }
            })
            .boxed())
    }
}
