//! DataLoaders, one per relation, keyed by the foreign key and created per request
//! (or per WebSocket connection) for its principal, so caches never cross principals
//! and a page costs one query per relation, not one per row.
//!
//! Batching by time window alone is not deterministic (the batch is dispatched on
//! another worker after 1 ms, while a slow resolver may still be registering keys),
//! so connection resolvers prefetch each selected relation for the whole page with
//! one `load_many`, and the per-request cache serves the nested fields.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use uuid::Uuid;
use workflow::entity::{collected_record, redaction, request_attachment, subject_category};
use workflow::register::view::{
    DataCategoryView, DataFieldView, DataSourceView, PurposeView, RecipientView,
    RetentionPolicyView, TransferView,
};
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
    type Value = RecipientView;
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
    type Value = Vec<TransferView>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .transfers_of_recipients(self.0.principal()?, keys)
            .await?;
        let mut by_recipient: HashMap<Uuid, Vec<TransferView>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            by_recipient.entry(row.recipient_id).or_default().push(row);
        }
        Ok(by_recipient)
    }
}

/// Defines a loader of the rows linked to processing activities, keyed by activity
/// id, each list in creation order.
macro_rules! activity_links {
    ($(#[$meta:meta])* $name:ident, $model:ty, $method:ident) => {
        $(#[$meta])*
        pub struct $name(Scope);

        impl Loader<Uuid> for $name {
            type Value = Vec<$model>;
            type Error = ApiError;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
                let rows = self.0.workflow.$method(self.0.principal()?, keys).await?;
                let mut by_activity: HashMap<Uuid, Vec<$model>> = keys.iter().map(|k| (*k, Vec::new())).collect();
                for (activity, row) in rows {
                    by_activity.entry(activity).or_default().push(row);
                }
                for rows in by_activity.values_mut() {
                    rows.sort_by_key(|r| r.id);
                }
                Ok(by_activity)
            }
        }
    };
}

activity_links!(
    /// Purposes by activity id.
    PurposesByActivity, PurposeView, purposes_of_activities
);
activity_links!(
    /// Data categories by activity id.
    DataCategoriesByActivity, DataCategoryView, data_categories_of_activities
);
activity_links!(
    /// Subject categories by activity id.
    SubjectCategoriesByActivity, subject_category::Model, subject_categories_of_activities
);
activity_links!(
    /// Recipients by activity id.
    RecipientsByActivity, RecipientView, recipients_of_activities
);
activity_links!(
    /// Transfers by activity id.
    TransfersByActivity, TransferView, transfers_of_activities
);
activity_links!(
    /// Data sources by activity id.
    SourcesByActivity, DataSourceView, sources_of_activities
);

/// Retention policies by id.
pub struct RetentionPolicyById(Scope);

impl Loader<Uuid> for RetentionPolicyById {
    type Value = RetentionPolicyView;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .retention_policies_by_ids(self.0.principal()?, keys)
            .await?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }
}

/// Defines a loader of rows by their id.
macro_rules! by_id {
    ($(#[$meta:meta])* $name:ident, $model:ty, $method:ident) => {
        $(#[$meta])*
        pub struct $name(Scope);

        impl Loader<Uuid> for $name {
            type Value = $model;
            type Error = ApiError;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
                let rows = self.0.workflow.$method(self.0.principal()?, keys).await?;
                Ok(rows.into_iter().map(|r| (r.id, r)).collect())
            }
        }
    };
}

by_id!(
    /// Data categories by id.
    DataCategoryById, DataCategoryView, data_categories_by_ids
);
by_id!(
    /// Data fields by id.
    DataFieldById, DataFieldView, data_fields_by_ids
);
by_id!(
    /// Data sources by id.
    DataSourceById, DataSourceView, data_sources_by_ids
);
by_id!(
    /// Purposes by id.
    PurposeById, PurposeView, purposes_by_ids
);
by_id!(
    /// Requests by id.
    RequestById, workflow::requests::RequestView, requests_by_ids
);

/// The actors (people, API keys, the system's own) behind stored principal ids.
pub struct ActorById(Scope);

impl Loader<Uuid> for ActorById {
    type Value = workflow::access::actors::ActorView;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .actors_by_ids(self.0.principal()?, keys)
            .await?;
        Ok(rows.into_iter().map(|a| (a.id(), a)).collect())
    }
}

/// Fields by source id, in creation order.
pub struct FieldsBySource(Scope);

impl Loader<Uuid> for FieldsBySource {
    type Value = Vec<DataFieldView>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .data_fields_of_sources(self.0.principal()?, keys)
            .await?;
        let mut by_source: HashMap<Uuid, Vec<DataFieldView>> =
            keys.iter().map(|k| (*k, Vec::new())).collect();
        for row in rows {
            by_source.entry(row.source_id).or_default().push(row);
        }
        Ok(by_source)
    }
}

/// Defines a loader of rows grouped by a parent key (`$key` of each row), each list
/// in the order the workflow returns.
macro_rules! grouped {
    ($(#[$meta:meta])* $name:ident, $value:ty, $method:ident, |$row:ident| $key:expr) => {
        $(#[$meta])*
        pub struct $name(Scope);

        impl Loader<Uuid> for $name {
            type Value = Vec<$value>;
            type Error = ApiError;

            async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
                let rows = self.0.workflow.$method(self.0.principal()?, keys).await?;
                let mut grouped: HashMap<Uuid, Vec<$value>> =
                    keys.iter().map(|k| (*k, Vec::new())).collect();
                for $row in rows {
                    grouped.entry($key).or_default().push($row);
                }
                Ok(grouped)
            }
        }
    };
}

grouped!(
    /// Identities each request gave, by request id.
    IdentitiesByRequest, (Uuid, workflow::requests::IdentityView), identities_of_requests, |r| r.0
);
grouped!(
    /// Identities found on the way by request id.
    FoundIdentitiesByRequest, workflow::collection::found::FoundIdentityView, found_identities_of_requests, |r| r.request_id
);
grouped!(
    /// Tasks by request id.
    TasksByRequest, workflow::requests::TaskView, tasks_of_requests, |r| r.request_id
);
grouped!(
    /// Collected records (with opened values) by request id.
    RecordsByRequest, (collected_record::Model, String), records_of_requests, |r| r.0.request_id
);
grouped!(
    /// Redactions by request id.
    RedactionsByRequest, redaction::Model, redactions_of_requests, |r| r.request_id
);
grouped!(
    /// Leak findings (with where each stands) by request id.
    LeakFindingsByRequest, workflow::collection::leaks::LeakFindingView, leak_findings_of_requests, |r| r.finding.request_id
);
grouped!(
    /// Corrections (values opened) by request id.
    CorrectionsByRequest, workflow::execution::CorrectionView, corrections_of_requests, |r| r.request_id
);
grouped!(
    /// Restriction and objection marks by request id.
    RestrictionsByRequest, workflow::execution::RestrictionView, restrictions_of_requests, |r| r.request_id
);
grouped!(
    /// Attachments (without content) by request id.
    AttachmentsByRequest, request_attachment::Model, attachments_of_requests, |r| r.request_id
);

grouped!(
    /// Files uploaded as task results (without content) by task id.
    FilesByTask, request_attachment::Model, files_of_tasks, |r| r.task_id.unwrap_or_default()
);

/// The current answer package (without content) by request id (only requests
/// that have one).
pub struct AnswerPackageByRequest(Scope);

impl Loader<Uuid> for AnswerPackageByRequest {
    type Value = workflow::answer::AnswerPackageView;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .current_answer_packages(self.0.principal()?, keys)
            .await?;
        Ok(rows.into_iter().map(|p| (p.request_id, p)).collect())
    }
}

/// What changed since the last review, by request id (only reviewed requests).
pub struct ReviewChangesByRequest(Scope);

impl Loader<Uuid> for ReviewChangesByRequest {
    type Value = workflow::requests::ReviewChanges;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .review_changes_of_requests(self.0.principal()?, keys)
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// Data source names by id.
pub struct SourceNameById(Scope);

impl Loader<Uuid> for SourceNameById {
    type Value = String;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .source_names(self.0.principal()?, keys)
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// Why requests are stalled, by request id.
pub struct StalledReasonsByRequest(Scope);

impl Loader<Uuid> for StalledReasonsByRequest {
    type Value = Vec<workflow::requests::StalledReason>;
    type Error = ApiError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Self::Value>, Self::Error> {
        let rows = self
            .0
            .workflow
            .stalled_reasons_of(self.0.principal()?, keys)
            .await?;
        Ok(rows.into_iter().collect())
    }
}

/// A prefetch in flight, boxed so a resolver can run the selected ones side by side.
pub type Prefetch<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>> + Send + 'a>>;

/// A loader with a cache that lives as long as its request.
pub type Cached<T> = DataLoader<T, HashMapCache>;

/// All loaders of one request.
pub struct Loaders {
    /// Recipients by id.
    pub recipient: Cached<RecipientById>,
    /// Transfers by recipient id.
    pub transfers: Cached<TransfersByRecipient>,
    /// Retention policies by id.
    pub retention_policy: Cached<RetentionPolicyById>,
    /// Purposes by activity id.
    pub activity_purposes: Cached<PurposesByActivity>,
    /// Data categories by activity id.
    pub activity_data_categories: Cached<DataCategoriesByActivity>,
    /// Subject categories by activity id.
    pub activity_subject_categories: Cached<SubjectCategoriesByActivity>,
    /// Recipients by activity id.
    pub activity_recipients: Cached<RecipientsByActivity>,
    /// Transfers by activity id.
    pub activity_transfers: Cached<TransfersByActivity>,
    /// Data sources by activity id.
    pub activity_sources: Cached<SourcesByActivity>,
    /// Data categories by id.
    pub data_category: Cached<DataCategoryById>,
    /// Data fields by id.
    pub data_field: Cached<DataFieldById>,
    /// Fields by source id.
    pub source_fields: Cached<FieldsBySource>,
    /// Data sources by id.
    pub data_source: Cached<DataSourceById>,
    /// Requests by id.
    pub request: Cached<RequestById>,
    /// Purposes by id.
    pub purpose: Cached<PurposeById>,
    /// People, API keys and system actors by principal id.
    pub actor: Cached<ActorById>,
    /// Identities each request gave, by request id.
    pub request_identities: Cached<IdentitiesByRequest>,
    /// Tasks by request id.
    pub request_tasks: Cached<TasksByRequest>,
    /// Collected records by request id.
    pub request_records: Cached<RecordsByRequest>,
    /// Redactions by request id.
    pub request_redactions: Cached<RedactionsByRequest>,
    /// Leak findings by request id.
    pub request_leak_findings: Cached<LeakFindingsByRequest>,
    /// Identities found on the way by request id.
    pub request_found_identities: Cached<FoundIdentitiesByRequest>,
    /// Attachments by request id.
    pub request_attachments: Cached<AttachmentsByRequest>,
    /// Corrections by request id.
    pub request_corrections: Cached<CorrectionsByRequest>,
    /// Restriction marks by request id.
    pub request_restrictions: Cached<RestrictionsByRequest>,
    /// Uploaded files by task id.
    pub task_files: Cached<FilesByTask>,
    /// The current answer package by request id.
    pub answer_packages: Cached<AnswerPackageByRequest>,
    /// Changes since the last review by request id.
    pub review_changes: Cached<ReviewChangesByRequest>,
    /// Data source names by id.
    pub source_name: Cached<SourceNameById>,
    /// Stalled reasons by request id.
    pub stalled_reasons: Cached<StalledReasonsByRequest>,
    /// The organization's clock (its local day).
    pub clock: OrgClock,
    /// Whether answers are cached for the request (not on long-lived connections).
    cache: bool,
}

/// The principal's organization's clock, read once per request (each time on
/// long-lived connections, whose answers must not go stale).
pub struct OrgClock {
    scope: Scope,
    cache: bool,
    cached: tokio::sync::OnceCell<workflow::requests::LocalClock>,
}

impl OrgClock {
    /// The organization's clock.
    pub async fn get(&self) -> Result<workflow::requests::LocalClock, ApiError> {
        let load = || async {
            Ok::<_, ApiError>(
                self.scope
                    .workflow
                    .local_clock(self.scope.principal()?)
                    .await?,
            )
        };
        if self.cache {
            self.cached.get_or_try_init(load).await.copied()
        } else {
            load().await
        }
    }
}

impl Loaders {
    /// Fresh loaders for one request of `principal`. `cache: false` for long-lived
    /// connections, whose answers must not go stale.
    pub fn new(workflow: Workflow, principal: Option<Principal>, cache: bool) -> Self {
        let scope = Scope {
            workflow,
            principal,
        };
        fn make<T: Loader<Uuid>>(loader: T, cache: bool) -> Cached<T> {
            let loader = DataLoader::with_cache(loader, tokio::spawn, HashMapCache::default());
            loader.enable_all_cache(cache);
            loader
        }
        Self {
            recipient: make(RecipientById(scope.clone()), cache),
            transfers: make(TransfersByRecipient(scope.clone()), cache),
            retention_policy: make(RetentionPolicyById(scope.clone()), cache),
            activity_purposes: make(PurposesByActivity(scope.clone()), cache),
            activity_data_categories: make(DataCategoriesByActivity(scope.clone()), cache),
            activity_subject_categories: make(SubjectCategoriesByActivity(scope.clone()), cache),
            activity_recipients: make(RecipientsByActivity(scope.clone()), cache),
            activity_transfers: make(TransfersByActivity(scope.clone()), cache),
            activity_sources: make(SourcesByActivity(scope.clone()), cache),
            data_category: make(DataCategoryById(scope.clone()), cache),
            data_field: make(DataFieldById(scope.clone()), cache),
            source_fields: make(FieldsBySource(scope.clone()), cache),
            data_source: make(DataSourceById(scope.clone()), cache),
            request: make(RequestById(scope.clone()), cache),
            purpose: make(PurposeById(scope.clone()), cache),
            actor: make(ActorById(scope.clone()), cache),
            request_identities: make(IdentitiesByRequest(scope.clone()), cache),
            request_tasks: make(TasksByRequest(scope.clone()), cache),
            request_records: make(RecordsByRequest(scope.clone()), cache),
            request_redactions: make(RedactionsByRequest(scope.clone()), cache),
            request_leak_findings: make(LeakFindingsByRequest(scope.clone()), cache),
            request_found_identities: make(FoundIdentitiesByRequest(scope.clone()), cache),
            request_attachments: make(AttachmentsByRequest(scope.clone()), cache),
            request_corrections: make(CorrectionsByRequest(scope.clone()), cache),
            request_restrictions: make(RestrictionsByRequest(scope.clone()), cache),
            task_files: make(FilesByTask(scope.clone()), cache),
            answer_packages: make(AnswerPackageByRequest(scope.clone()), cache),
            review_changes: make(ReviewChangesByRequest(scope.clone()), cache),
            source_name: make(SourceNameById(scope.clone()), cache),
            stalled_reasons: make(StalledReasonsByRequest(scope.clone()), cache),
            clock: OrgClock {
                scope,
                cache,
                cached: tokio::sync::OnceCell::new(),
            },
            cache,
        }
    }

    /// Whether prefetching pays: answers are cached for this request.
    pub fn caches(&self) -> bool {
        self.cache
    }

    /// Loads `keys` at once, on this task and without the batching delay, and
    /// keeps the answers for the page's nested fields. For connection resolvers,
    /// which know every key of the page before the fields ask. Does nothing on
    /// long-lived connections (no cache: the fields load for themselves).
    pub async fn prefetch<T>(
        &self,
        loader: &Cached<T>,
        keys: impl IntoIterator<Item = Uuid>,
    ) -> Result<(), ApiError>
    where
        T: Loader<Uuid, Error = ApiError>,
    {
        if !self.cache {
            return Ok(());
        }
        let keys: Vec<Uuid> = keys
            .into_iter()
            .collect::<std::collections::HashSet<_>>()
            .into_iter()
            .collect();
        if keys.is_empty() {
            return Ok(());
        }
        let values = loader.loader().load(&keys).await?;
        loader.feed_many(values).await;
        Ok(())
    }
}

/// The request's loaders.
pub fn loaders<'a>(ctx: &async_graphql::Context<'a>) -> Result<&'a Loaders, ApiError> {
    ctx.data::<Loaders>()
        .map_err(|_| ApiError::unauthenticated())
}
