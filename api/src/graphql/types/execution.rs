//! Output types of rectification, restriction and objection carried out: the
//! corrections of a request and the marks on restricted records.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};
use workflow::execution as wx;

use crate::graphql::ids::global_id;

mirror_enum! {
    /// What became of a correction (RECTIFICATION, Art. 16).
    CorrectionOutcome = wx::CorrectionOutcome {
        /// Written to the source and read back as written.
        Applied,
        /// The source held the corrected value already; nothing was written.
        Unchanged,
        /// Not written (see `detail`): the record is gone, was not approved, may be
        /// another person's, the field is a primary key, or the value did not read
        /// back as written. A steward corrects it by hand and completes the task.
        Failed,
        /// Carried out by a steward outside Auskunft; the task's note says how.
        ByHand,
    }
}

mirror_enum! {
    /// Why processing of a record is limited.
    RestrictionGround = wx::RestrictionGround {
        /// Art. 18 GDPR: restricted; the data may only be stored.
        Restriction,
        /// Art. 21 GDPR: objected to, for the purpose named (none: direct
        /// marketing, where the objection is absolute).
        Objection,
    }
}

/// A corrected value the subject asked for, for one field of one collected record,
/// and what became of it. The values before and after appear only as keyed digests:
/// `afterDigest == valueDigest` proves the source holds the corrected value,
/// `beforeDigest != valueDigest` that it held another.
#[derive(SimpleObject, Clone, Debug)]
pub struct Correction {
    /// Global ID.
    pub id: ID,
    /// The request (global ID).
    pub request_id: ID,
    /// The source (global ID).
    pub source_id: ID,
    /// The field (global ID).
    pub field_id: ID,
    /// The field's location when proposed (`customers.name`).
    pub location: String,
    /// The record (`customers(id=42)`).
    pub record_key: String,
    /// The corrected value (trimmed). Personal data: null, with a FORBIDDEN error,
    /// for callers without request:read_data, leaving the rest of the correction
    /// readable.
    pub value: Option<String>,
    /// Keyed digest (HMAC-SHA-256, hex) of the corrected value.
    pub value_digest: String,
    /// Global ID of the API key that proposed it.
    pub proposed_by_id: Option<ID>,
    /// When it was proposed.
    pub proposed_at: DateTime<Utc>,
    /// What became of it; null until carried out.
    pub outcome: Option<CorrectionOutcome>,
    /// Keyed digest of the value the source held before (null: none).
    pub before_digest: Option<String>,
    /// Keyed digest of the value read back after writing.
    pub after_digest: Option<String>,
    /// How it was done, or why it failed.
    pub detail: Option<String>,
    /// When it was carried out.
    pub carried_out_at: Option<DateTime<Utc>>,
}

impl From<wx::CorrectionView> for Correction {
    fn from(c: wx::CorrectionView) -> Self {
        Self {
            id: global_id("Correction", c.id),
            request_id: global_id("SubjectRequest", c.request_id),
            source_id: global_id("DataSource", c.source_id),
            field_id: global_id("DataField", c.field_id),
            location: c.location,
            record_key: c.record_key,
            value: Some(c.value),
            value_digest: c.value_digest,
            proposed_by_id: c.proposed_by.map(|k| global_id("ApiKey", k)),
            proposed_at: c.proposed_at,
            outcome: c.outcome.map(Into::into),
            before_digest: c.before_digest,
            after_digest: c.after_digest,
            detail: c.detail,
            carried_out_at: c.carried_out_at,
        }
    }
}

/// A mark that a record's processing is restricted (Art. 18) or objected to
/// (Art. 21). While it stands, campaign checks leave the person out and the
/// retention sweep keeps a restricted record.
#[derive(SimpleObject, Clone, Debug)]
pub struct ProcessingRestriction {
    /// Global ID.
    pub id: ID,
    /// The RESTRICTION or OBJECTION request (global ID).
    pub request_id: ID,
    /// The source (global ID).
    pub source_id: ID,
    /// The record (`customers(id=42)`); null: everything of the subject in a source
    /// searched by hand.
    pub record_key: Option<String>,
    /// Restriction or objection.
    pub ground: RestrictionGround,
    /// The purpose it stops (global ID); null: every purpose (RESTRICTION) or
    /// direct marketing (OBJECTION).
    pub purpose_id: Option<ID>,
    /// Since when.
    pub since: DateTime<Utc>,
    /// When it was lifted; null while it stands.
    pub lifted_at: Option<DateTime<Utc>>,
    /// Global ID of the API key that lifted it.
    pub lifted_by_id: Option<ID>,
    /// Why it was lifted.
    pub lift_reason: Option<String>,
}

impl From<wx::RestrictionView> for ProcessingRestriction {
    fn from(r: wx::RestrictionView) -> Self {
        Self {
            id: global_id("ProcessingRestriction", r.id),
            request_id: global_id("SubjectRequest", r.request_id),
            source_id: global_id("DataSource", r.source_id),
            record_key: r.record_key,
            ground: r.ground.into(),
            purpose_id: r.purpose_id.map(|p| global_id("Purpose", p)),
            since: r.since,
            lifted_at: r.lifted_at,
            lifted_by_id: r.lifted_by.map(|k| global_id("ApiKey", k)),
            lift_reason: r.lift_reason,
        }
    }
}
