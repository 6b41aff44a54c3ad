//! Keeping the register of processing activities (Art. 30): one mutation object per
//! aggregate, as in `workflow::register`, merged into `RegisterMutation`.

use async_graphql::MergedObject;

mod activities;
mod fields;
mod purposes;
mod recipients;
mod retention;
mod sources;
mod taxonomy;

/// Keeping the register of processing activities.
#[derive(MergedObject, Default)]
pub struct RegisterMutation(
    taxonomy::TaxonomyMutation,
    purposes::PurposeMutation,
    retention::RetentionPolicyMutation,
    recipients::RecipientMutation,
    activities::ActivityMutation,
    sources::DataSourceMutation,
    fields::DataFieldMutation,
);
