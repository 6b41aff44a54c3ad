//! In-process domain events for subscriptions. Events are published after commit.
//! (Fan-out across replicas through PostgreSQL LISTEN/NOTIFY comes with scale-out.)

use tokio::sync::broadcast;

use entity::audit_event;

use crate::requests::RequestChange;

/// Something that happened and committed.
#[derive(Debug, Clone)]
pub enum DomainEvent {
    /// A row was appended to an organization's audit chain.
    AuditAppended(Box<audit_event::Model>),
    /// A request changed: its timeline grew, and it may have entered or left the
    /// review queue.
    RequestChanged(Box<RequestChange>),
}

impl DomainEvent {
    /// The organization the event belongs to (subscribers only see their own).
    pub fn org_id(&self) -> uuid::Uuid {
        match self {
            DomainEvent::AuditAppended(e) => e.org_id,
            DomainEvent::RequestChanged(change) => change.request.org_id,
        }
    }
}

/// Broadcast channel of committed events.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<DomainEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new(1024)
    }
}

impl EventBus {
    /// A bus that buffers `capacity` events per slow subscriber.
    pub fn new(capacity: usize) -> Self {
        let (tx, _) = broadcast::channel(capacity);
        Self { tx }
    }

    /// Publishes an event; having no subscribers is fine.
    pub fn publish(&self, event: DomainEvent) {
        let _ = self.tx.send(event);
    }

    /// A new receiver of all events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DomainEvent> {
        self.tx.subscribe()
    }
}
