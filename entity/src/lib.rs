//! sea-orm entities of Auskunft: one module per table, nothing else.
//!
//! Entities derive nothing from GraphQL; the `api` crate converts them into its own
//! types, so columns such as secret hashes can never leak through a derive.

pub mod activity_data_category;
pub mod activity_purpose;
pub mod activity_recipient;
pub mod activity_source;
pub mod activity_subject_category;
pub mod activity_transfer;
pub mod answer_package;
pub mod api_key;
pub mod audit_chain_head;
pub mod audit_event;
pub mod casbin_rule;
pub mod closed_day;
pub mod collected_record;
pub mod consent;
pub mod consent_event;
pub mod data_category;
pub mod data_field;
pub mod data_source;
pub mod data_subject;
pub mod dispatch;
pub mod download_link;
pub mod erasure_outcome;
pub mod found_identity;
pub mod leak_finding;
pub mod letter_template;
pub mod organization;
pub mod outbox;
pub mod policy_revision;
pub mod processing_activity;
pub mod purpose;
pub mod recipient;
pub mod recipient_notice;
pub mod redaction;
pub mod request_attachment;
pub mod request_event;
pub mod request_identity;
pub mod request_purge;
pub mod request_settings;
pub mod request_task;
pub mod retention_finding;
pub mod retention_policy;
pub mod retention_run;
pub mod retention_trigger_field;
pub mod review_baseline;
pub mod subject_category;
pub mod subject_identity;
pub mod subject_request;
pub mod suppression_entry;
pub mod transfer;
pub mod verification_challenge;
pub mod webhook_delivery;
pub mod webhook_subscription;
