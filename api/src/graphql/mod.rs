//! The GraphQL schema: merged per-domain roots, types, inputs.

pub mod ids;
pub mod inputs;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod types;

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    NextResolve, NextSubscribe, ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Context, MergedObject, SDLExportOptions, Schema};
use async_graphql::{ServerResult, Value, Variables};
use futures_util::stream::{BoxStream, StreamExt};

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
    .extension(Pipeline {
        guard: limits::DocumentGuard {
            limits: limits.document,
            max_depth: limits.max_depth,
        },
    })
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .finish()
}

/// The schema's one extension, for every operation over HTTP and WebSocket alike:
///
/// 1. the document is bounded before it is parsed ([`limits::DocumentGuard`]);
/// 2. every field is authorized, and a field that fails becomes null as the spec
///    says ([`Authorization`]);
/// 3. every error carries `extensions.code` ([`crate::error::label_uncoded`]).
///
/// One extension rather than one per concern: async-graphql runs every extension's
/// `resolve` hook for every field and list item, as a boxed future, even where the
/// hook does nothing.
struct Pipeline {
    guard: limits::DocumentGuard,
}

impl ExtensionFactory for Pipeline {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PipelineExtension {
            guard: self.guard,
            authorization: Authorization::default(),
        })
    }
}

/// [`Pipeline`] for one operation (or one subscription).
struct PipelineExtension {
    guard: limits::DocumentGuard,
    authorization: Authorization,
}

#[async_trait::async_trait]
impl Extension for PipelineExtension {
    async fn request(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextRequest<'_>,
    ) -> async_graphql::Response {
        crate::error::label_uncoded(next.run(ctx).await)
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, async_graphql::Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, async_graphql::Response> {
        self.authorization
            .subscribe(ctx, stream, next)
            .map(crate::error::label_uncoded)
            .boxed()
    }

    async fn parse_query(
        &self,
        _ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        _next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        self.guard.parse(query, variables)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> async_graphql::Response {
        self.authorization.execute(ctx, operation_name, next).await
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        self.authorization.resolve(ctx, info, next).await
    }
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
