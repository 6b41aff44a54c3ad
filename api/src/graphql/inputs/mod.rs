//! Input and payload types of the mutations, one module per domain.

pub mod admin;
pub mod answer;
pub mod audit;
pub mod consent;
pub mod dispatch;
pub mod people;
pub mod register;
pub mod requests;
pub mod webhooks;
