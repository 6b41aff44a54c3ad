//! Output types of rectification, restriction and objection carried out: the
//! corrections of a request and the marks on restricted records.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use workflow::execution as wx;

use crate::error::ApiResult;
use crate::graphql::types::actor::{Actor, actor, actor_id};
use crate::graphql::types::register::{DataField, DataSource, Purpose};
use crate::graphql::types::requests::{
    SubjectRequest, data_source, optional_field, purpose_by_id, request_by_id,
};

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
#[graphql(complex)]
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
    #[graphql(skip)]
    pub links: Links,
}

/// The ids an execution record links to, for its object fields.
#[derive(Clone, Copy, Debug)]
pub struct Links {
    request: Uuid,
    source: Uuid,
    field: Option<Uuid>,
    actor: Option<Uuid>,
    purpose: Option<Uuid>,
}

#[ComplexObject]
impl Correction {
    /// Global ID of who (person or API key) proposed it.
    async fn proposed_by_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        actor_id(ctx, self.links.actor).await
    }

    /// Who (person or API key) proposed it.
    async fn proposed_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Actor>> {
        actor(ctx, self.links.actor).await
    }

    /// The request.
    async fn request(&self, ctx: &Context<'_>) -> ApiResult<Option<SubjectRequest>> {
        request_by_id(ctx, self.links.request).await
    }

    /// The data source.
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<DataSource>> {
        data_source(ctx, self.links.source).await
    }

    /// The field.
    async fn field(&self, ctx: &Context<'_>) -> ApiResult<Option<DataField>> {
        optional_field(ctx, self.links.field).await
    }
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
            proposed_at: c.proposed_at,
            outcome: c.outcome.map(Into::into),
            before_digest: c.before_digest,
            after_digest: c.after_digest,
            detail: c.detail,
            carried_out_at: c.carried_out_at,
            links: Links {
                request: c.request_id,
                source: c.source_id,
                field: Some(c.field_id),
                actor: c.proposed_by,
                purpose: None,
            },
        }
    }
}

/// A mark that a record's processing is restricted (Art. 18) or objected to
/// (Art. 21). While it stands, campaign checks leave the person out and the
/// retention sweep keeps a restricted record.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
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
    /// Why it was lifted.
    pub lift_reason: Option<String>,
    #[graphql(skip)]
    pub links: Links,
}

#[ComplexObject]
impl ProcessingRestriction {
    /// Global ID of who (person or API key) lifted it.
    async fn lifted_by_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        actor_id(ctx, self.links.actor).await
    }

    /// Who (person or API key) lifted it.
    async fn lifted_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Actor>> {
        actor(ctx, self.links.actor).await
    }

    /// The RESTRICTION or OBJECTION request.
    async fn request(&self, ctx: &Context<'_>) -> ApiResult<Option<SubjectRequest>> {
        request_by_id(ctx, self.links.request).await
    }

    /// The data source.
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<DataSource>> {
        data_source(ctx, self.links.source).await
    }

    /// The purpose it stops; null: every purpose (RESTRICTION) or direct
    /// marketing (OBJECTION).
    async fn purpose(&self, ctx: &Context<'_>) -> ApiResult<Option<Purpose>> {
        purpose_by_id(ctx, self.links.purpose).await
    }
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
            lift_reason: r.lift_reason,
            links: Links {
                request: r.request_id,
                source: r.source_id,
                field: None,
                actor: r.lifted_by,
                purpose: r.purpose_id,
            },
        }
    }
}
