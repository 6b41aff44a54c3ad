//! DataLoaders, one per relation, keyed by the foreign key and created per request
//! (or per WebSocket connection) for its principal, so caches never cross principals
//! and a page costs one query per relation, not one per row.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use uuid::Uuid;
use workflow::entity::{recipient, transfer};
use workflow::{Principal, Workflow};

use crate::error::ApiError;

/// Loads what a principal may see.
#[derive(Clone)]
pub struct Scope {
    workflow: Workflow,
    principal: Option<Principal>,
}

impl Scope {
    fn principal(&self) -> Result<&Principal, ApiError> {
        self.principal
            .as_ref()
            .ok_or_else(ApiError::unauthenticated)
    }
}

/// Recipients by id.
pub struct RecipientById(Scope);

impl Loader<Uuid> for RecipientById {
    type Value = recipient::Model;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .recipients_by_ids(self.0.principal()?, keys)
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Transfers by recipient id.
pub struct TransfersByRecipient(Scope);

impl Loader<Uuid> for TransfersByRecipient {
    type Value = Vec<transfer::Model>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .transfers_of_recipients(self.0.principal()?, keys)
            .await?;
        let mut by_recipient: HashMap<Uuid, Vec<transfer::Model>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            by_recipient.entry(row.recipient_id).or_default().push(row);
        }
        Ok(by_recipient)
    }
}

/// All loaders of one request.
pub struct Loaders {
    /// Recipients by id.
    pub recipient: DataLoader<RecipientById>,
    /// Transfers by recipient id.
    pub transfers: DataLoader<TransfersByRecipient>,
}

impl Loaders {
    /// Fresh loaders for one request of `principal`.
    pub fn new(workflow: Workflow, principal: Option<Principal>) -> Self {
        let scope = Scope {
            workflow,
            principal,
        };
        Self {
            recipient: DataLoader::new(RecipientById(scope.clone()), tokio::spawn),
            transfers: DataLoader::new(TransfersByRecipient(scope), tokio::spawn),
        }
    }
}

/// The request's loaders.
pub fn loaders<'a>(ctx: &async_graphql::Context<'a>) -> Result<&'a Loaders, ApiError> {
    ctx.data::<Loaders>()
        .map_err(|_| ApiError::unauthenticated())
}
