//! The GraphQL API of Auskunft (async-graphql on poem): schema, HTTP server,
//! authentication, Casbin enforcement on every field, health and metrics.
//! Resolvers are thin: authorize, convert, call `workflow`, convert back.

mod consent_pages;
pub mod error;
pub mod graphiql;
pub mod graphql;
pub mod metrics;
pub mod permissions;
pub mod server;
pub mod throttle;

pub use graphql::{AppSchema, SchemaLimits, build_schema, schema_sdl};
pub use server::{Application, Limits, ServerConfig};
