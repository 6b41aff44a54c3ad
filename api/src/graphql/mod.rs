//! The GraphQL schema: merged per-domain roots, types, inputs.

pub mod ids;
pub mod inputs;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod precheck;
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
    schema_builder(limits)
        .extension(Pipeline {
            guard: document_guard(limits),
        })
        .finish()
}

fn schema_builder(
    limits: SchemaLimits,
) -> async_graphql::SchemaBuilder<Query, Mutation, subscription::Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        subscription::Subscription,
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
}

fn document_guard(limits: SchemaLimits) -> limits::DocumentGuard {
    limits::DocumentGuard {
        limits: limits.document,
        max_depth: limits.max_depth,
    }
}

/// Runs GraphQL requests over HTTP, deciding field permissions in advance where it can.
///
/// A query whose every selected field the caller may read (see [`precheck`]) runs on a
/// copy of the schema without the per-field extension, so async-graphql resolves it on
/// its fast path. Everything else runs on the full schema ([`build_schema`]): mutations
/// and subscriptions, queries with a field the caller may not read, and documents that
/// do not parse or validate. A query whose run in advance reports any error (a record
/// not found, a refusal inside the workflow) also runs again on the full schema, so
/// every error gets its code, null propagation and audit exactly as before. Queries
/// change nothing, so the second run costs only its time (both runs share the
/// request's timeout); a field that reaches outside the database is never run in
/// advance ([`precheck::REACHES_OUTSIDE`]).
#[derive(Clone)]
pub struct Executor {
    schema: AppSchema,
    unhooked: AppSchema,
    fields: Arc<precheck::SelectedFields>,
    guard: limits::DocumentGuard,
}

/// How an operation's field permissions were checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorized {
    /// Every field the query selects was decided before it ran.
    InAdvance,
    /// Field by field as the operation resolved (the full pipeline).
    PerField,
    /// Decided in advance, but that run reported an error and was discarded: the
    /// query ran again field by field.
    Repeated,
}

impl Authorized {
    /// The metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Authorized::InAdvance => "in_advance",
            Authorized::PerField => "per_field",
            Authorized::Repeated => "repeated",
        }
    }
}

impl Executor {
    /// Both schemas under the same limits.
    pub fn new(limits: SchemaLimits) -> Self {
        let schema = build_schema(limits);
        let fields = precheck::SelectedFields::from_sdl(&schema.sdl());
        Self {
            schema,
            unhooked: schema_builder(limits).finish(),
            fields: Arc::new(fields),
            guard: document_guard(limits),
        }
    }

    /// The full schema (for WebSocket connections, whose sessions are not cached).
    pub fn schema(&self) -> &AppSchema {
        &self.schema
    }

    /// Runs `request` for `session`; `data` adds the other per-request data (loaders,
    /// origin) and is called once per run.
    pub async fn execute(
        &self,
        request: async_graphql::Request,
        session: Session,
        data: impl Fn(async_graphql::Request) -> async_graphql::Request,
    ) -> (async_graphql::Response, Authorized) {
        let authorized = match self.in_advance(&request, &session, &data).await {
            InAdvance::Answered(response) => return (*response, Authorized::InAdvance),
            InAdvance::Discarded => Authorized::Repeated,
            InAdvance::NotDecidable => Authorized::PerField,
        };
        let response = self.schema.execute(data(request.data(session))).await;
        (response, authorized)
    }

    /// The run without the extension, where the query qualifies.
    async fn in_advance(
        &self,
        request: &async_graphql::Request,
        session: &Session,
        data: &impl Fn(async_graphql::Request) -> async_graphql::Request,
    ) -> InAdvance {
        if !request.uploads.is_empty() {
            return InAdvance::NotDecidable;
        }
        let Ok(document) = self.guard.parse(&request.query, &request.variables) else {
            return InAdvance::NotDecidable;
        };
        let Some(needs) = self.fields.rules(
            &document,
            request.operation_name.as_deref(),
            &request.variables,
        ) else {
            return InAdvance::NotDecidable;
        };
        if !session.permits_all(&needs.rules).await {
            return InAdvance::NotDecidable;
        }
        let mut copy =
            async_graphql::Request::new(request.query.clone()).variables(request.variables.clone());
        copy.operation_name.clone_from(&request.operation_name);
        copy.extensions.clone_from(&request.extensions);
        copy.introspection_mode = request.introspection_mode;
        copy.set_parsed_query(document);
        let mut copy = copy.data(session.clone());
        if !needs.node_types.is_empty() {
            copy = copy.data(needs.node_types);
        }
        let response = self.unhooked.execute(data(copy)).await;
        if response.errors.is_empty() {
            InAdvance::Answered(Box::new(response))
        } else {
            InAdvance::Discarded
        }
    }
}

/// What became of a query's run in advance.
enum InAdvance {
    /// It does not qualify (see [`Executor`]); it did not run.
    NotDecidable,
    /// It ran and reported an error: its response is discarded.
    Discarded,
    /// It ran without error: this is the answer.
    Answered(Box<async_graphql::Response>),
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
