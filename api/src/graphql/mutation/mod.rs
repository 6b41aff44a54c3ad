//! Mutation roots, one per domain, merged in `graphql::Mutation`.

pub mod admin;
pub mod answer;
pub mod consent;
pub mod dispatch;
pub mod erasure;
pub mod execution;
pub mod people;
pub mod register;
pub mod requests;
pub mod retention;
pub mod webhooks;
