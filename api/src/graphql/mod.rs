//! The GraphQL schema: merged per-domain roots, types, inputs.

pub mod ids;
pub mod inputs;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use async_graphql::{Context, MergedObject, SDLExportOptions, Schema};

use crate::error::ApiError;
use crate::permissions::{Authorization, Session};

/// All queries.
#[derive(MergedObject, Default)]
pub struct Query(
    query::node::NodeQuery,
    query::admin::AdminQuery,
    query::people::PeopleQuery,
    query::audit::AuditQuery,
    query::register::RegisterQuery,
    query::requests::RequestQuery,
    query::answer::AnswerQuery,
    query::dispatch::DispatchQuery,
    query::erasure::ErasureQuery,
    query::consent::ConsentQuery,
    query::retention::RetentionQuery,
    query::webhooks::WebhookQuery,
);

/// All mutations.
#[derive(MergedObject, Default)]
pub struct Mutation(
    mutation::admin::AdminMutation,
    mutation::people::PeopleMutation,
    mutation::register::RegisterMutation,
    mutation::requests::RequestMutation,
    mutation::answer::AnswerMutation,
    mutation::dispatch::DispatchMutation,
    mutation::erasure::ErasureMutation,
    mutation::execution::ExecutionMutation,
    mutation::consent::ConsentMutation,
    mutation::retention::RetentionMutation,
    mutation::webhooks::WebhookMutation,
);

/// The executable schema.
pub type AppSchema = Schema<Query, Mutation, subscription::Subscription>;

/// Query limits.
#[derive(Debug, Clone, Copy)]
pub struct SchemaLimits {
    /// Maximum query depth.
    pub max_depth: usize,
    /// Maximum query complexity (one point per field, lists count their page size).
    pub max_complexity: usize,
    /// Bounds on the document itself, checked before it is parsed and validated.
    pub document: limits::DocumentLimits,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        Self {
            max_depth: 12,
            max_complexity: 5000,
            document: limits::DocumentLimits::default(),
        }
    }
}

/// Builds the schema; needs no database and no socket (the workflow comes per request
/// through the [`Session`]).
pub fn build_schema(limits: SchemaLimits) -> AppSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    // First, so that no other extension sees a document before it is bounded.
    .extension(limits::DocumentGuard {
        limits: limits.document,
        max_depth: limits.max_depth,
    })
    .extension(crate::error::ErrorCodes)
    .extension(Authorization)
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .finish()
}

/// The SDL as checked in at `schema.graphql`.
pub fn schema_sdl() -> String {
    build_schema(SchemaLimits::default())
        .sdl_with_options(SDLExportOptions::new().sorted_fields().sorted_enum_items())
}

/// The request's session (set by the HTTP and WebSocket handlers).
pub(crate) fn session<'a>(ctx: &Context<'a>) -> Result<&'a Session, ApiError> {
    ctx.data::<Session>()
        .map_err(|_| ApiError::unauthenticated())
}

/// The origin (`scheme://host`) the request was sent to, for absolute links.
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin(pub Option<String>);
