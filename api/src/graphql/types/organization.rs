use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::graphql::ids::global_id;

/// The controller (GDPR Art. 4(7)) that uses Auskunft; every other object belongs to one.
#[derive(SimpleObject, Clone, Debug)]
pub struct Organization {
    /// Global ID.
    pub id: ID,
    /// Legal name.
    pub name: String,
    /// When it was set up in Auskunft.
    pub created_at: DateTime<Utc>,
    /// When its record last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<workflow::entity::organization::Model> for Organization {
    fn from(m: workflow::entity::organization::Model) -> Self {
        Self {
            id: global_id("Organization", m.id),
            name: m.name,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}
