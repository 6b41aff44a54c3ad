//! Output types of the retention sweep.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use workflow::retention as wr;

use crate::error::ApiResult;
use crate::graphql::ids::{self, global_id};
use crate::graphql::loaders::loaders;
use crate::graphql::session;
use crate::graphql::types::register::{IdentityType, RetentionPolicy};
use crate::graphql::types::requests::SubjectRequest;

mirror_enum! {
    /// What the retention sweep found for a record, or why it could not sweep.
    RetentionOutcome = wr::RetentionOutcome {
        /// Dry run: past every period that covers it; a real run opens an erasure
        /// request (or a review) for it.
        Expired,
        /// An erasure request was opened for it (see `request`).
        ErasureRequested,
        /// An earlier run opened an erasure request for it (see `request`).
        AlreadyRequested,
        /// Its policy says a person decides at expiry (action REVIEW).
        ReviewDue,
        /// A value an erasure kept under a legal hold whose duty has ended (Art.
        /// 17(3)), not erased yet: a dry run, a source changed by hand (the request's
        /// steward erases it there), a source that refused, or a policy whose action
        /// at expiry is REVIEW. `detail` names the fields, grounds and why,
        /// `request` the erasure that kept it, `expiredOn` the day the hold ended.
        HoldEnded,
        /// A value kept under a legal hold whose duty has ended, erased or anonymized
        /// by this run as the holding policy's action at expiry says (row deleted
        /// or values erased; the erasure report shows it, with `releasedAt`).
        HoldReleased,
        /// Past its period, but an identity in it also identifies a record still
        /// within its period (or without a date): an erasure request by it would reach
        /// that record too, so a person decides (see `detail`).
        SharedIdentity,
        /// Past its period, but the record holds no identity to open a request with.
        NoIdentity,
        /// Past its period, but its processing is restricted at the subject's request
        /// (Art. 18(1)(c), e.g. for legal claims): kept until a reviewer lifts the
        /// restriction; no erasure request.
        Restricted,
        /// A trigger value is not a date the sweep reads (ISO 8601); the record is
        /// left alone.
        UnreadableDate,
        /// The policy names no trigger field, so it is not swept
        /// (`setRetentionTriggerFields`).
        NoTrigger,
        /// The source could not be swept, or the request could not be opened (see
        /// `detail`).
        Failed,
    }
}

/// One run of the retention sweep: scheduled (`[retention] sweep_interval_hours`),
/// `auskunft retention sweep`, or `runRetentionSweep`.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct RetentionRun {
    /// Global ID.
    pub id: ID,
    /// Only reported: no request was opened.
    pub dry_run: bool,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it finished; null while it runs (or when it was interrupted).
    pub finished_at: Option<DateTime<Utc>>,
    /// Who started it: `api-key:<name>`, `cli` or `scheduler`.
    pub started_by: String,
    /// Records examined (rows of the tables that identify subjects).
    pub examined: i32,
    /// Records past every retention period that covers them.
    pub expired: i32,
    /// Erasure requests this run opened.
    pub requested: i32,
    /// Findings that need a person: FAILED, UNREADABLE_DATE, NO_IDENTITY,
    /// SHARED_IDENTITY, HOLD_ENDED.
    pub problems: i32,
    #[graphql(skip)]
    pub uuid: Uuid,
}

#[ComplexObject]
impl RetentionRun {
    /// What the run found, in the order it found it.
    #[allow(clippy::too_many_arguments)]
    async fn findings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only findings with this outcome.")] outcome: Option<RetentionOutcome>,
        #[graphql(desc = "Items from the front (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<RetentionFindingConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .retention_findings(s.principal()?, self.uuid, outcome.map(Into::into), &page)
            .await?;
        Ok(RetentionFindingConnection::from_page(
            page,
            |f| f.id.to_string(),
            RetentionFinding::from,
        ))
    }
}

impl From<wr::RetentionRunView> for RetentionRun {
    fn from(r: wr::RetentionRunView) -> Self {
        Self {
            id: global_id("RetentionRun", r.id),
            uuid: r.id,
            dry_run: r.dry_run,
            started_at: r.started_at,
            finished_at: r.finished_at,
            started_by: r.started_by,
            examined: r.examined,
            expired: r.expired,
            requested: r.requested,
            problems: r.problems,
        }
    }
}

super::connection::connection!(
    RetentionRunConnection,
    RetentionRunEdge,
    RetentionRun,
    "A page of retention sweep runs (Relay cursor connection).",
    "A run with its cursor."
);

/// An identity read from a record the sweep found.
#[derive(SimpleObject, Clone, Debug)]
pub struct RetentionIdentity {
    /// What it is.
    pub kind: IdentityType,
    /// The value as stored in the source.
    pub value: String,
}

/// What a run found: a record past its retention period (and what was done about
/// it), or a policy or source that could not be swept.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct RetentionFinding {
    /// Global ID (`node` fetches it).
    pub id: ID,
    /// The record (`customers(id=4)`): a pointer, no value.
    pub record_key: Option<String>,
    /// The identities found in the record. Personal data: needs the permission to
    /// read collected data (`request:read_data`); without it this field alone is
    /// null with a FORBIDDEN error, the rest of the finding stays readable.
    pub identities: Option<Vec<RetentionIdentity>>,
    /// The latest trigger date of the record (last order, last contact ...).
    pub last_event_at: Option<DateTime<Utc>>,
    /// The day the last retention period covering the record ended.
    pub expired_on: Option<NaiveDate>,
    /// What the sweep found or did.
    pub outcome: RetentionOutcome,
    /// Why, in words (for problems).
    pub detail: Option<String>,
    /// The policy (global ID) whose period ended last for the record, or that could
    /// not be swept.
    pub policy_id: Option<ID>,
    /// The data source (global ID).
    pub source_id: Option<ID>,
    /// The erasure request opened or found (global ID).
    pub request_id: Option<ID>,
    #[graphql(skip)]
    pub policy: Option<Uuid>,
    #[graphql(skip)]
    pub source: Option<Uuid>,
    #[graphql(skip)]
    pub request: Option<Uuid>,
}

#[ComplexObject]
impl RetentionFinding {
    /// The retention policy; null when it was deleted since.
    async fn retention_policy(&self, ctx: &Context<'_>) -> ApiResult<Option<RetentionPolicy>> {
        let Some(id) = self.policy else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .retention_policy
            .load_one(id)
            .await?
            .map(RetentionPolicy::from))
    }

    /// The data source's name; null when it was deleted since.
    async fn source_name(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let Some(id) = self.source else {
            return Ok(None);
        };
        Ok(loaders(ctx)?.source_name.load_one(id).await?)
    }

    /// The erasure request opened or found.
    async fn request(&self, ctx: &Context<'_>) -> ApiResult<Option<SubjectRequest>> {
        let Some(id) = self.request else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .request
            .load_one(id)
            .await?
            .map(SubjectRequest::from))
    }

    /// The data source; null when it was deleted since.
    async fn source(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::graphql::types::register::DataSource>> {
        let Some(id) = self.source else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .data_source
            .load_one(id)
            .await?
            .map(Into::into))
    }
}

impl From<wr::RetentionFindingView> for RetentionFinding {
    fn from(f: wr::RetentionFindingView) -> Self {
        Self {
            id: global_id("RetentionFinding", f.id),
            record_key: f.record_key,
            identities: Some(
                f.identities
                    .into_iter()
                    .map(|i| RetentionIdentity {
                        kind: i.kind.into(),
                        value: i.value,
                    })
                    .collect(),
            ),
            last_event_at: f.last_event_at,
            expired_on: f.expired_on,
            outcome: f.outcome.into(),
            detail: f.detail,
            policy_id: f.policy_id.map(|p| global_id("RetentionPolicy", p)),
            source_id: f.source_id.map(|p| global_id("DataSource", p)),
            request_id: f.request_id.map(|p| global_id("SubjectRequest", p)),
            policy: f.policy_id,
            source: f.source_id,
            request: f.request_id,
        }
    }
}

super::connection::connection!(
    RetentionFindingConnection,
    RetentionFindingEdge,
    RetentionFinding,
    "A page of a run's findings (Relay cursor connection).",
    "A finding with its cursor."
);
