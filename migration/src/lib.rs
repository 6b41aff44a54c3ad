//! Database migrations for SQLite, PostgreSQL and MySQL/MariaDB (one migration per file).
//!
//! Migrations never import entity structs and never seed demo data: they describe
//! tables, and where stored values must change with the code (canonical identities)
//! they change them with plain statements and the shared `identity` crate, so they
//! stay valid when the entities evolve.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261123_000001_create_organization;
mod m20261123_000002_create_api_key;
mod m20261123_000003_create_casbin_rule;
mod m20261123_000004_create_audit_event;
mod m20261123_000005_add_controller_details;
mod m20261123_000006_create_taxonomy;
mod m20261123_000007_create_purpose_and_retention;
mod m20261123_000008_create_recipient_and_transfer;
mod m20261123_000009_create_processing_activity;
mod m20261123_000010_create_data_source;
mod m20261123_000011_create_data_field;
mod m20261123_000012_create_activity_source;
mod m20261123_000013_create_request_settings;
mod m20261123_000014_create_subject_request;
mod m20261123_000015_create_request_task;
mod m20261123_000016_create_outbox;
mod m20261129_000017_canonical_identities;
mod m20261129_000018_add_time_zone;
mod m20261129_000019_request_counters_and_review_baseline;
mod m20261129_000021_create_policy_revision;
mod m20261129_000022_collection_engine;
mod m20261129_000023_answer;
mod m20261129_000024_create_leak_finding;
mod m20261129_000025_task_files;
mod m20261129_000027_create_found_identity;
mod m20261129_000028_create_request_identity;
mod m20261129_000029_collected_record_checks;
mod m20261130_000030_collected_record_task_cascade;
mod m20261130_000031_request_task_claim_order;
mod m20261130_000032_dispatch;
mod m20261130_000033_webhooks;
mod m20261130_000034_minimization;
mod m20261130_000035_erasure;
mod m20261130_000036_recipient_notices;
mod m20261130_000037_consent;
mod m20261130_000038_retention_sweep;
mod m20261201_000039_execution;
mod m20261201_000040_hold_action;
mod m20261202_000041_people;

/// All migrations in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_organization::Migration),
            Box::new(m20261123_000002_create_api_key::Migration),
            Box::new(m20261123_000003_create_casbin_rule::Migration),
            Box::new(m20261123_000004_create_audit_event::Migration),
            Box::new(m20261123_000005_add_controller_details::Migration),
            Box::new(m20261123_000006_create_taxonomy::Migration),
            Box::new(m20261123_000007_create_purpose_and_retention::Migration),
            Box::new(m20261123_000008_create_recipient_and_transfer::Migration),
            Box::new(m20261123_000009_create_processing_activity::Migration),
            Box::new(m20261123_000010_create_data_source::Migration),
            Box::new(m20261123_000011_create_data_field::Migration),
            Box::new(m20261123_000012_create_activity_source::Migration),
            Box::new(m20261123_000013_create_request_settings::Migration),
            Box::new(m20261123_000014_create_subject_request::Migration),
            Box::new(m20261123_000015_create_request_task::Migration),
            Box::new(m20261123_000016_create_outbox::Migration),
            Box::new(m20261129_000017_canonical_identities::Migration),
            Box::new(m20261129_000018_add_time_zone::Migration),
            Box::new(m20261129_000019_request_counters_and_review_baseline::Migration),
            Box::new(m20261129_000021_create_policy_revision::Migration),
            Box::new(m20261129_000022_collection_engine::Migration),
            Box::new(m20261129_000023_answer::Migration),
            Box::new(m20261129_000024_create_leak_finding::Migration),
            Box::new(m20261129_000025_task_files::Migration),
            Box::new(m20261129_000027_create_found_identity::Migration),
            Box::new(m20261129_000028_create_request_identity::Migration),
            Box::new(m20261129_000029_collected_record_checks::Migration),
            Box::new(m20261130_000030_collected_record_task_cascade::Migration),
            Box::new(m20261130_000031_request_task_claim_order::Migration),
            Box::new(m20261130_000032_dispatch::Migration),
            Box::new(m20261130_000033_webhooks::Migration),
            Box::new(m20261130_000034_minimization::Migration),
            Box::new(m20261130_000035_erasure::Migration),
            Box::new(m20261130_000036_recipient_notices::Migration),
            Box::new(m20261130_000037_consent::Migration),
            Box::new(m20261130_000038_retention_sweep::Migration),
            Box::new(m20261201_000039_execution::Migration),
            Box::new(m20261201_000040_hold_action::Migration),
            Box::new(m20261202_000041_people::Migration),
        ]
    }
}
