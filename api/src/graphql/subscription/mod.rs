//! Subscription roots (graphql-transport-ws on `/graphql/ws`).

use async_graphql::{Context, ID, Subscription};
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tokio_stream::wrappers::BroadcastStream;
use workflow::DomainEvent;

use crate::error::ApiError;
use crate::graphql::types::AuditEvent;
use crate::graphql::types::requests::{
    RequestUpdate, ReviewQueueUpdate, SubjectRequest, TimelineEntry,
};
use crate::graphql::{ids, session};

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
                        Some(AuditEvent::from(*row))
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

    /// Changes of the review queue of the caller's organization (requests entering,
    /// leaving, or changing while IN_REVIEW), within a second of the commit.
    async fn review_queue_changed(
        &self,
        ctx: &Context<'_>,
    ) -> Result<BoxStream<'static, ReviewQueueUpdate>, ApiError> {
        let s = session(ctx)?;
        s.check_field("Subscription", "reviewQueueChanged").await?;
        let org_id = s.principal()?.org_id;
        Ok(request_changes(s, org_id)
            .filter_map(|change| async move {
                let kind = change.queue_change()?;
                Some(ReviewQueueUpdate {
                    change: kind.into(),
                    request: SubjectRequest::from(change.request),
                    entry: TimelineEntry::from(change.entry),
                })
            })
            .boxed())
    }

    /// Every change of one request (its timeline as it grows), within a second of
    /// the commit.
    async fn request_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request to follow.")] request_id: ID,
    ) -> Result<BoxStream<'static, RequestUpdate>, ApiError> {
        let s = session(ctx)?;
        s.check_field("Subscription", "requestEvents").await?;
        let id = ids::decode(&request_id, "SubjectRequest", &["requestId"])?;
        let principal = s.principal()?;
        // NOT_FOUND for requests of other organizations, as for queries.
        s.workflow().request(principal, id).await?;
        Ok(request_changes(s, principal.org_id)
            .filter_map(move |change| async move {
                if change.request.id != id {
                    return None;
                }
                Some(RequestUpdate {
                    request: SubjectRequest::from(change.request),
                    entry: TimelineEntry::from(change.entry),
                })
            })
            .boxed())
    }
}

/// The committed request changes of one organization.
fn request_changes(
    s: &crate::permissions::Session,
    org_id: uuid::Uuid,
) -> impl futures_util::Stream<Item = workflow::RequestChange> + Send + 'static {
    BroadcastStream::new(s.workflow().events().subscribe()).filter_map(move |event| async move {
        match event {
            Ok(DomainEvent::RequestChanged(change)) if change.request.org_id == org_id => {
                Some(*change)
            }
            Ok(_) => None,
            Err(lagged) => {
                tracing::warn!(error = %lagged, "request subscriber lagged; events skipped");
                None
            }
        }
    })
}
