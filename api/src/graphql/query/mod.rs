//! Query roots, one per domain, merged in `graphql::Query`.

pub mod admin;
pub mod answer;
pub mod audit;
pub mod consent;
pub mod dispatch;
pub mod erasure;
pub mod node;
pub mod people;
pub mod register;
pub mod requests;
pub mod retention;
pub mod webhooks;
