//! The domain core of Auskunft: register, request workflow, authorization, audit.
//! Knows nothing of GraphQL or HTTP; the `api` crate calls it.
//!
//! Every function that reads or changes organization data takes the calling
//! [`Principal`] and scopes to its organization, so rows of another organization are
//! NOT_FOUND, never FORBIDDEN. Every change is one transaction together with its
//! audit event.

#[macro_use]
mod macros;

pub mod access;
pub mod answer;
pub mod collection;
pub mod connectors;
pub mod consent;
pub mod core;
pub mod demo;
pub mod dispatch;
pub mod erasure;
pub mod error;
pub mod execution;
pub mod register;
pub mod requests;
pub mod retention;
pub mod webhooks;

use chrono::{DateTime, SubsecRound, Utc};
use uuid::Uuid;

pub use self::core::events::{DomainEvent, EventBus};
pub use self::core::paging::{Page, PageRequest};
pub use self::core::store::{ConnectError, Store, StoreOptions};
pub use access::api_keys::{IssuedKey, NewApiKey};
pub use access::authz::{Action, Authz, Object, Role};
pub use access::principal::{Principal, PrincipalKind};
pub use connectors::guard::SourceSettings;
pub use entity;
pub use error::{Error, ErrorCode, FieldError, Result};
pub use requests::RequestChange;

/// A new time-ordered primary key (UUID v7).
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

/// Now, in UTC, at the microsecond precision every backend stores.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Deployment settings of the workflow (from the configuration).
#[derive(Debug, Clone, Default)]
pub struct WorkflowOptions {
    /// What data sources may reach (SQLite directory, host allow-list).
    pub sources: connectors::guard::SourceSettings,
    /// Download links and attachments of dispatched answers.
    pub dispatch: dispatch::DispatchSettings,
    /// Fetching of identity providers' signing keys.
    pub oidc: access::oidc::OidcSettings,
}

/// The handle the API and the CLI work through.
#[derive(Clone)]
pub struct Workflow {
    store: Store,
    authz: Authz,
    bus: EventBus,
    cipher: self::core::crypto::Cipher,
    sources: std::sync::Arc<connectors::guard::SourceGuard>,
    pools: std::sync::Arc<connectors::sql::Pools>,
    dispatch_settings: std::sync::Arc<dispatch::DispatchSettings>,
    webhooks: std::sync::Arc<webhooks::SubscriptionCache>,
    issuers: std::sync::Arc<access::oidc::Issuers>,
}

/// The file of a SQLite store's main database (`None` for other backends and for
/// in-memory databases).
async fn own_database_file(store: &Store) -> Result<Option<std::path::PathBuf>> {
    use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
    if store.backend() != DatabaseBackend::Sqlite {
        return Ok(None);
    }
    let row = store
        .conn()
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Sqlite,
            "SELECT file FROM pragma_database_list WHERE name = 'main'",
        ))
        .await?;
    let file: Option<String> = match row {
        Some(row) => row.try_get("", "file")?,
        None => None,
    };
    Ok(file.filter(|f| !f.is_empty()).map(Into::into))
}

impl Workflow {
    /// Opens the workflow on a migrated store with the key for data at rest and
    /// default [`WorkflowOptions`]; see [`Workflow::open_with`].
    pub async fn open(store: Store, cipher: self::core::crypto::Cipher) -> Result<Self> {
        Self::open_with(store, cipher, WorkflowOptions::default()).await
    }

    /// Opens the workflow on a migrated store with the key for data at rest:
    /// upgrades default policies and taxonomies and loads the enforcer.
    pub async fn open_with(
        store: Store,
        cipher: self::core::crypto::Cipher,
        options: WorkflowOptions,
    ) -> Result<Self> {
        let authz = Authz::load(&store).await?;
        let own_database = own_database_file(&store).await?;
        let sources = connectors::guard::SourceGuard::new(options.sources, own_database.as_deref());
        let workflow = Self {
            store,
            authz,
            bus: EventBus::default(),
            cipher,
            sources: std::sync::Arc::new(sources),
            pools: Default::default(),
            dispatch_settings: std::sync::Arc::new(options.dispatch),
            webhooks: Default::default(),
            issuers: std::sync::Arc::new(access::oidc::Issuers::new(options.oidc)?),
        };
        workflow.upgrade_default_policies().await?;
        workflow.upgrade_default_taxonomies().await?;
        workflow.authz.reload().await?;
        Ok(workflow)
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Statements sent to SQL sources by this process's collections so far.
    pub fn source_statements_executed(&self) -> u64 {
        self.pools.statements_executed()
    }

    /// The authorization engine.
    pub fn authz(&self) -> &Authz {
        &self.authz
    }

    /// Committed domain events.
    pub fn events(&self) -> &EventBus {
        &self.bus
    }

    /// Ends a change: audits it as `principal`'s in the same transaction, commits,
    /// then publishes the transaction's events.
    pub(crate) async fn commit_audited(
        &self,
        tx: self::core::store::Tx,
        principal: &Principal,
        entry: access::audit::Entry,
    ) -> Result<()> {
        self.commit_audited_all(tx, principal, vec![entry]).await
    }

    /// [`Workflow::commit_audited`] with several entries, appended in order.
    pub(crate) async fn commit_audited_all(
        &self,
        mut tx: self::core::store::Tx,
        principal: &Principal,
        entries: Vec<access::audit::Entry>,
    ) -> Result<()> {
        access::audit::append_all(
            &mut tx,
            principal.org_id,
            &access::audit::Actor::from(principal),
            entries,
        )
        .await?;
        tx.commit(&self.bus).await
    }

    /// Ends a change of keys or permissions like [`Workflow::commit_audited`], but
    /// reloads the enforcer between commit and publication: the change applies to the
    /// next request, and subscribers of its events are already judged by it.
    pub(crate) async fn commit_policy_change(
        &self,
        mut tx: self::core::store::Tx,
        principal: &Principal,
        entry: access::audit::Entry,
    ) -> Result<()> {
        access::audit::append(
            &mut tx,
            principal.org_id,
            &access::audit::Actor::from(principal),
            entry,
        )
        .await?;
        tx.commit_then(&self.bus, self.authz.reload()).await
    }
}
