//! End-to-end tests: the real server on a random port, real HTTP and WebSocket, real
//! databases (SQLite always; PostgreSQL and MariaDB when configured).

// The schema's future is deep (a request reaches its tasks, their source, its fields ...).
#![recursion_limit = "256"]

mod common;

mod activities;
mod answer;
mod api_keys;
mod audit;
mod authz;
mod cli;
mod collection;
mod consent;
mod counters;
mod demo;
mod dispatch;
mod drift;
mod erasure;
mod execution;
mod export;
mod graph;
mod graphiql;
mod hostile;
mod http;
mod identities;
mod local_day;
mod minimization;
mod nulls;
mod oidc;
mod organization;
mod precheck;
mod redactions;
mod register;
mod requests;
mod retention;
mod role_matrix;
mod schema;
mod smtp;
mod sources;
mod subscriptions;
mod tenancy;
mod uploads;
mod webhooks;
