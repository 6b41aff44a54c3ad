//! Data-subject requests: the request, its subject's identities, tasks, collected
//! records, redactions, timeline, attachments, settings and bulk results.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;
use workflow::entity::{collected_record, redaction, request_attachment};
use workflow::requests::{self as rq, machine};

use crate::error::{ApiError, ApiResult};
use crate::graphql::ids::global_id;
use crate::graphql::loaders::loaders;
use crate::graphql::types::actor::{Actor, actor, actor_id};
use crate::graphql::types::connection::connection;
use crate::graphql::types::register::{DataCategory, DataField, DataSource, IdentityType};

mirror_enum! {
    /// What the data subject asks for.
    RequestKind = machine::RequestKind {
        /// Art. 15: access to the data and information about its processing.
        Access,
        /// Art. 16: correction of inaccurate data.
        Rectification,
        /// Art. 17: erasure.
        Erasure,
        /// Art. 18: restriction of processing.
        Restriction,
        /// Art. 20: a portable copy.
        Portability,
        /// Art. 21: objection to processing.
        Objection,
    }
}

mirror_enum! {
    /// Where a request stands in the workflow.
    RequestState = machine::RequestState {
        /// Received; identity not yet checked.
        Received,
        /// Identity verification under way (e.g. a code was sent).
        Verifying,
        /// Identity verified; data is collected from every mapped source.
        Collecting,
        /// Collected; waiting for a lawyer's decision (the review queue).
        InReview,
        /// The reviewer sent it back with comments.
        ChangesRequested,
        /// Approved by a reviewer other than who collected and submitted it.
        Approved,
        /// Erasure, restriction or rectification is being carried out.
        Executing,
        /// The answer went out; its content is final.
        Dispatched,
        /// Done.
        Closed,
        /// Refused (identity not verified, or Art. 12(5)).
        Rejected,
        /// Withdrawn by the subject.
        Cancelled,
    }
}

mirror_enum! {
    /// An event of the request state machine; each needs its own permission.
    WorkflowEvent = machine::RequestEvent {
        /// Start verifying the identity (request:verify).
        StartVerification,
        /// The identity is verified; collection starts (request:verify).
        ConfirmIdentity,
        /// The identity could not be verified; refused (request:verify).
        FailVerification,
        /// Collection complete; hand over to legal review (request:collect).
        SubmitForReview,
        /// The reviewer sends it back (request:review).
        RequestChanges,
        /// Collection resumes after requested changes (request:collect).
        ResumeCollection,
        /// The reviewer approves (request:review; four-eyes).
        Approve,
        /// Refused under Art. 12(5) (request:review).
        Reject,
        /// Start carrying out erasure, restriction or rectification (request:execute).
        StartExecution,
        /// The answer went out (request:dispatch).
        Dispatch,
        /// Close a dispatched request (request:dispatch).
        Close,
        /// The subject withdrew the request (request:cancel).
        Cancel,
    }
}

mirror_enum! {
    /// How the request reached the organization.
    RequestChannel = rq::Channel {
        /// The organization's web form.
        WebForm,
        /// An e-mail.
        Email,
        /// A letter.
        Letter,
        /// A phone call.
        Phone,
        /// An integration through the API.
        Api,
        /// Opened by the retention sweep for a record whose retention period ended
        /// (the controller's own erasure, Art. 17(1)(a)). Set by the sweep only:
        /// VALIDATION from `submitRequest`.
        Retention,
    }
}

mirror_enum! {
    /// When the one-month deadline of Art. 12(3) starts.
    DeadlineBasis = rq::DeadlineBasis {
        /// On receipt (default).
        Receipt,
        /// On successful identity verification.
        Verification,
    }
}

mirror_enum! {
    /// How a requester's identity was verified.
    VerificationMethod = rq::VerificationMethod {
        /// A one-time code sent to a known e-mail address.
        EmailCode,
        /// Staff checked an identity document (the evidence names which).
        DocumentCheck,
        /// Staff matched the requester to a known customer.
        KnownCustomer,
        /// The requester was logged in to their account (asserted by an integrator).
        AuthenticatedAccount,
        /// Another method, described in the evidence.
        Other,
    }
}

mirror_enum! {
    /// Why a request was refused.
    RejectionGround = rq::RejectionGround {
        /// The identity could not be verified (Art. 12(6)).
        IdentityNotVerified,
        /// Art. 12(5): manifestly unfounded.
        ManifestlyUnfounded,
        /// Art. 12(5): excessive, in particular repetitive.
        Excessive,
    }
}

mirror_enum! {
    /// What a timeline entry records.
    TimelineEntryKind = rq::TimelineKind {
        /// The request was received.
        Received,
        /// A state transition.
        Transition,
        /// A comment by whoever works on the request.
        Comment,
        /// A reviewer's comment.
        ReviewComment,
        /// Assigned or unassigned.
        Assigned,
        /// Claimed in the review queue.
        Claimed,
        /// Released from the review queue.
        Unclaimed,
        /// The deadline was extended.
        Extended,
        /// Identity verification (code sent, wrong code).
        Verification,
        /// A task was completed or failed.
        Task,
        /// A record was redacted, the redaction withdrawn, or redactions dropped
        /// because their values were not collected again.
        Redaction,
        /// The answer was dispatched (channel, recipient, SHA-256 digest), the
        /// subject downloaded it, or its download link was withdrawn.
        Dispatch,
        /// The collected data was purged `purgeAfterDays` after the request ended;
        /// the timeline, the proof of dispatch and the digests stay.
        Purge,
        /// A correction (RECTIFICATION) was proposed, withdrawn or written to a
        /// source; values never appear here, only where they are.
        Correction,
        /// Records were marked restricted or objected to (RESTRICTION, OBJECTION),
        /// or the marks were lifted.
        Restriction,
    }
}

mirror_enum! {
    /// How a collected record compares with the records the reviewer saw when they
    /// last sent the request back: same place (task, mapped field, location) and value.
    RecordChange = rq::RecordChange {
        /// Nothing was collected at its place then.
        New,
        /// Something else was collected at its place then.
        Changed,
        /// The same value was collected at the same place then.
        Unchanged,
    }
}

mirror_enum! {
    /// How an upload (uploadTaskResult) is given.
    UploadFormat = rq::UploadFormat {
        /// An array of JSON objects, or one object: one record each.
        Json,
        /// CSV: a header row naming the properties, then one row per record.
        Csv,
        /// Any file, base64-encoded: kept sealed like a request's attachment, one record.
        File,
    }
}

mirror_enum! {
    /// What a task does in its source.
    TaskKind = rq::TaskKind {
        /// Collect what the source holds about the subject.
        Collect,
        /// Carry out erasure, restriction or rectification in the source.
        Execute,
    }
}

mirror_enum! {
    /// Why a collected value or record may belong to someone else (the leak guard).
    LeakKind = workflow::collection::leaks::LeakKind {
        /// An identifier (e-mail address, phone number, IBAN, payment card number,
        /// customer number) that is not one of the requester's identities.
        ForeignIdentifier,
        /// A known identity of another data subject of the organization.
        OtherSubjectIdentity,
        /// A row the subject's data references that other rows, outside the
        /// subject's data, reference too; or a row reached through a reference to a
        /// column that is not a unique key.
        SharedReference,
        /// A reference that reached unusually many rows.
        FanOut,
    }
}

mirror_enum! {
    /// How `resolveLeakFindings` resolves the findings it names.
    LeakResolution = workflow::collection::leaks::Resolution {
        /// Leave the data out of the answer: each finding's value, or for a record
        /// finding every value of its record, is redacted with the reason.
        Redact,
        /// Keep the data: the reason says why it is the requester's after all.
        Dismiss,
    }
}

mirror_enum! {
    /// Where a leak finding stands.
    LeakFindingState = workflow::collection::leaks::FindingState {
        /// Not resolved: approval is refused until it is redacted or dismissed.
        Open,
        /// Its value (or every value of its record) is redacted.
        Redacted,
        /// A reviewer dismissed it with a reason.
        Dismissed,
    }
}

/// A collected value or record that may belong to somebody else. Approval is
/// refused while any finding of the request is OPEN.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct LeakFinding {
    /// Global ID.
    pub id: ID,
    /// Why.
    pub kind: LeakKind,
    /// Where it stands.
    pub state: LeakFindingState,
    /// What was found, naming the field or reference (never the value itself).
    pub detail: String,
    /// The record it concerns (see `CollectedRecord.recordKey`).
    pub record_key: Option<String>,
    /// Global ID of the collected value it concerns; redacting it resolves the
    /// finding. Null for a record finding: redact every value of the record.
    pub record_id: Option<ID>,
    /// Global ID of the mapped field, if any.
    pub field_id: Option<ID>,
    /// Where the value was found.
    pub location: Option<String>,
    /// The reviewer's reason, when dismissed.
    pub resolution: Option<String>,
    /// When it was dismissed.
    pub resolved_at: Option<DateTime<Utc>>,
    /// When the leak guard found it.
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub resolved_by: Option<Uuid>,
    #[graphql(skip)]
    pub request_uuid: Uuid,
    #[graphql(skip)]
    pub record_uuid: Option<Uuid>,
    #[graphql(skip)]
    pub field_uuid: Option<Uuid>,
}

#[ComplexObject]
impl LeakFinding {
    /// Global ID of who (person or API key) dismissed it.
    async fn resolved_by_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        actor_id(ctx, self.resolved_by).await
    }

    /// Who (person or API key) dismissed it.
    async fn resolved_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Actor>> {
        actor(ctx, self.resolved_by).await
    }

    /// The collected value it concerns (null for a record finding, or when that
    /// value is no longer collected). Collected personal data: needs
    /// request:read_data.
    async fn record(&self, ctx: &Context<'_>) -> ApiResult<Option<CollectedRecord>> {
        let Some(id) = self.record_uuid else {
            return Ok(None);
        };
        Ok(request_records(ctx, self.request_uuid)
            .await?
            .into_iter()
            .find(|r| r.record_uuid == id))
    }

    /// The mapped field, if any.
    async fn field(&self, ctx: &Context<'_>) -> ApiResult<Option<DataField>> {
        optional_field(ctx, self.field_uuid).await
    }
}

impl From<workflow::collection::leaks::LeakFindingView> for LeakFinding {
    fn from(v: workflow::collection::leaks::LeakFindingView) -> Self {
        let f = v.finding;
        Self {
            id: global_id("LeakFinding", f.id),
            kind: v.kind.into(),
            state: v.state.into(),
            detail: f.detail,
            record_key: f.record_key,
            record_id: f.record_id.map(|r| global_id("CollectedRecord", r)),
            field_id: f.field_id.map(|r| global_id("DataField", r)),
            location: f.location,
            resolution: f.resolution,
            resolved_at: f.resolved_at,
            created_at: f.created_at,
            resolved_by: f.resolved_by,
            request_uuid: f.request_id,
            record_uuid: f.record_id,
            field_uuid: f.field_id,
        }
    }
}

mirror_enum! {
    /// Where a task stands.
    TaskState = rq::TaskState {
        /// Not done yet.
        Open,
        /// Done.
        Done,
        /// Failed; the request shows up in `stalledRequests` until it is done.
        Failed,
    }
}

mirror_enum! {
    /// A German state whose public holidays count besides the federal ones.
    HolidayRegion = rq::GermanState {
        /// Baden-Württemberg (DE-BW).
        BadenWuerttemberg,
        /// Bayern (DE-BY).
        Bayern,
        /// Berlin (DE-BE).
        Berlin,
        /// Brandenburg (DE-BB).
        Brandenburg,
        /// Bremen (DE-HB).
        Bremen,
        /// Hamburg (DE-HH).
        Hamburg,
        /// Hessen (DE-HE).
        Hessen,
        /// Mecklenburg-Vorpommern (DE-MV).
        MecklenburgVorpommern,
        /// Niedersachsen (DE-NI).
        Niedersachsen,
        /// Nordrhein-Westfalen (DE-NW).
        NordrheinWestfalen,
        /// Rheinland-Pfalz (DE-RP).
        RheinlandPfalz,
        /// Saarland (DE-SL).
        Saarland,
        /// Sachsen (DE-SN).
        Sachsen,
        /// Sachsen-Anhalt (DE-ST).
        SachsenAnhalt,
        /// Schleswig-Holstein (DE-SH).
        SchleswigHolstein,
        /// Thüringen (DE-TH).
        Thueringen,
    }
}

/// Why a request is listed among the stalled ones.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum StalledReason {
    /// It has not changed state for longer than the organization's `stallAfterHours`.
    NotMoved,
    /// One of its tasks failed.
    TaskFailed,
}

impl From<rq::StalledReason> for StalledReason {
    fn from(r: rq::StalledReason) -> Self {
        match r {
            rq::StalledReason::NotMoved => Self::NotMoved,
            rq::StalledReason::TaskFailed => Self::TaskFailed,
        }
    }
}

/// A data-subject request (Art. 15-21) and where it stands.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct SubjectRequest {
    /// Global ID.
    pub id: ID,
    /// What is asked for.
    pub kind: RequestKind,
    /// Where it stands.
    pub state: RequestState,
    /// How it arrived.
    pub channel: RequestChannel,
    /// When it arrived (the deadline runs from here unless the organization counts
    /// from verification).
    pub received_at: DateTime<Utc>,
    /// From when the deadline runs, as configured when it arrived.
    pub deadline_basis: DeadlineBasis,
    /// The day the deadline started (null until verification when it runs from there).
    pub deadline_start: Option<NaiveDate>,
    /// The Art. 12(3) deadline: one month per Regulation 1182/71 (month-end clamp,
    /// weekend and holiday roll-forward).
    pub due_date: Option<NaiveDate>,
    /// The extended deadline (three months from the start), if extended.
    pub extended_due_date: Option<NaiveDate>,
    /// The deadline that applies: the extended one if any, else the original.
    pub effective_due_date: Option<NaiveDate>,
    /// Why the deadline was extended.
    pub extension_reason: Option<String>,
    /// A test request: runs end to end, excluded from statistics, never mailed to real addresses.
    pub is_test: bool,
    /// Optimistic locking: send it with every decision; CONFLICT if it moved on.
    pub version: i32,
    /// The request as received, verbatim.
    pub text: Option<String>,
    /// More requests by this subject within 12 months than the organization's
    /// threshold: possibly excessive (Art. 12(5)), for the reviewer to decide.
    pub possibly_excessive: bool,
    /// When the identity was verified.
    pub verified_at: Option<DateTime<Utc>>,
    /// How it was verified.
    pub verification_method: Option<VerificationMethod>,
    /// What staff checked (e.g. which document).
    pub verification_evidence: Option<String>,
    /// Why it was refused.
    pub rejection_ground: Option<RejectionGround>,
    /// Reason given with the last transition that needed one.
    pub state_reason: Option<String>,
    /// When the state last changed.
    pub state_changed_at: DateTime<Utc>,
    /// When it was claimed.
    pub claimed_at: Option<DateTime<Utc>>,
    /// When it was created here.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Events the current state allows (permissions and guards aside).
    pub allowed_events: Vec<WorkflowEvent>,
    #[graphql(skip)]
    pub uuid: Uuid,
    #[graphql(skip)]
    pub subject_id: Uuid,
    /// The request as workflow sees it (for `isOverdue`).
    #[graphql(skip)]
    pub view: Box<rq::RequestView>,
}

impl From<rq::RequestView> for SubjectRequest {
    fn from(v: rq::RequestView) -> Self {
        Self {
            id: global_id("SubjectRequest", v.id),
            kind: v.kind.into(),
            state: v.state.into(),
            channel: v.channel.into(),
            received_at: v.received_at,
            deadline_basis: v.deadline_basis.into(),
            deadline_start: v.deadline_start,
            due_date: v.due_date,
            extended_due_date: v.extended_due_date,
            effective_due_date: v.effective_due_date(),
            extension_reason: v.extension_reason.clone(),
            is_test: v.is_test,
            version: v.version,
            text: v.request_text.clone(),
            possibly_excessive: v.possibly_excessive,
            verified_at: v.verified_at,
            verification_method: v.verification_method.map(Into::into),
            verification_evidence: v.verification_evidence.clone(),
            rejection_ground: v.rejection_ground.map(Into::into),
            state_reason: v.state_reason.clone(),
            state_changed_at: v.state_changed_at,
            claimed_at: v.claimed_at,
            created_at: v.created_at,
            updated_at: v.updated_at,
            allowed_events: v.allowed_events().into_iter().map(Into::into).collect(),
            uuid: v.id,
            subject_id: v.subject_id,
            view: Box::new(v),
        }
    }
}

#[ComplexObject]
impl SubjectRequest {
    /// Global ID of the person or API key it is assigned to.
    async fn assignee_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        actor_id(ctx, self.view.assignee_id).await
    }

    /// The person or API key it is assigned to.
    async fn assignee(&self, ctx: &Context<'_>) -> ApiResult<Option<Actor>> {
        actor(ctx, self.view.assignee_id).await
    }

    /// Global ID of the reviewer (person or API key) who claimed it in the review
    /// queue.
    async fn claimed_by_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        actor_id(ctx, self.view.claimed_by).await
    }

    /// The reviewer (person or API key) who claimed it in the review queue.
    async fn claimed_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Actor>> {
        actor(ctx, self.view.claimed_by).await
    }

    /// Global ID of who submitted it for review (may not approve it).
    async fn submitted_for_review_by_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        actor_id(ctx, self.view.submitted_for_review_by).await
    }

    /// Who submitted it for review (may not approve it, four-eyes).
    async fn submitted_for_review_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Actor>> {
        actor(ctx, self.view.submitted_for_review_by).await
    }

    /// Global ID of an open request of the same kind by the same subject this one
    /// possibly duplicates.
    async fn duplicate_of_id(&self) -> Option<ID> {
        self.view
            .duplicate_of
            .map(|d| global_id("SubjectRequest", d))
    }

    /// The open request of the same kind by the same subject this one possibly
    /// duplicates.
    async fn duplicate_of(&self, ctx: &Context<'_>) -> ApiResult<Option<SubjectRequest>> {
        let Some(id) = self.view.duplicate_of else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .request
            .load_one(id)
            .await?
            .map(SubjectRequest::from))
    }

    /// Open and past its effective deadline, judged by the organization's local day
    /// (its time zone), not by UTC.
    async fn is_overdue(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let today = loaders(ctx)?.clock.get().await?.today();
        Ok(self.view.is_overdue(today))
    }

    /// The ways the requester can be identified (normalized), as this request gave
    /// them. Identities another request of the same subject gave are not shown, and
    /// this request's collection never searches them.
    async fn identities(&self, ctx: &Context<'_>) -> ApiResult<Vec<SubjectIdentity>> {
        let rows = loaders(ctx)?
            .request_identities
            .load_one(self.uuid)
            .await?
            .unwrap_or_default();
        Ok(rows
            .into_iter()
            .map(|(_, i)| SubjectIdentity::from(i))
            .collect())
    }

    /// One task per mapped source (collection, then execution for erasure and the like).
    async fn tasks(&self, ctx: &Context<'_>) -> ApiResult<Vec<RequestTask>> {
        let rows = loaders(ctx)?
            .request_tasks
            .load_one(self.uuid)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(RequestTask::from).collect())
    }

    /// What the tasks found, values included; redacted records carry their redaction.
    async fn records(&self, ctx: &Context<'_>) -> ApiResult<Vec<CollectedRecord>> {
        request_records(ctx, self.uuid).await
    }

    /// What the tasks found, in the shape a reviewer reads it: by source, then by
    /// data category, then by record (a table row, an object of an HTTP response, an
    /// upload) with its values. Holds the same values as `records`, each once, with
    /// their redactions.
    async fn collected(&self, ctx: &Context<'_>) -> ApiResult<Vec<CollectedSource>> {
        let records = request_records(ctx, self.uuid).await?;
        Ok(
            workflow::collection::grouped::group(records, |r: &CollectedRecord| &r.model)
                .into_iter()
                .map(CollectedSource::from)
                .collect(),
        )
    }

    /// How many distinct records (rows, objects, uploads) the tasks collected; a
    /// record has one or more values (`recordsCount` counts values).
    async fn found_records_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let rows = loaders(ctx)?
            .request_records
            .load_one(self.uuid)
            .await?
            .unwrap_or_default();
        let keys: std::collections::HashSet<(Uuid, String)> = rows
            .iter()
            .map(|(m, _)| (m.source_id, workflow::collection::grouped::record_key(m)))
            .collect();
        Ok(keys.len() as i32)
    }

    /// What changed in the records since a reviewer last sent this request back
    /// (REQUEST_CHANGES): counts of new, changed and unchanged records and the
    /// records that are gone; each record says its own `changeSinceLastReview`.
    /// Null while no reviewer has sent it back.
    async fn changes_since_last_review(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<ReviewChanges>> {
        Ok(loaders(ctx)?
            .review_changes
            .load_one(self.uuid)
            .await?
            .map(|c| ReviewChanges::new(self.uuid, c)))
    }

    /// How many values the tasks collected (see `foundRecordsCount` for records).
    async fn records_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        Ok(loaders(ctx)?
            .request_records
            .load_one(self.uuid)
            .await?
            .map_or(0, |r| r.len() as i32))
    }

    /// What the leak guard found before review: values or records that may belong
    /// to somebody else, each with its state.
    async fn leak_findings(&self, ctx: &Context<'_>) -> ApiResult<Vec<LeakFinding>> {
        Ok(loaders(ctx)?
            .request_leak_findings
            .load_one(self.uuid)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(LeakFinding::from)
            .collect())
    }

    /// Identifiers of the requester that collection read from their own records
    /// (the customer number on the customer row found by e-mail) and searched the
    /// request's other sources for too. Only identifying fields of records found by
    /// an identity already searched for count, and never a known identity of another
    /// data subject.
    async fn identities_found_on_the_way(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<FoundIdentity>> {
        Ok(loaders(ctx)?
            .request_found_identities
            .load_one(self.uuid)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(FoundIdentity::from)
            .collect())
    }

    /// How many leak findings are still open (approval is refused while any is).
    async fn open_leak_findings(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        Ok(loaders(ctx)?
            .request_leak_findings
            .load_one(self.uuid)
            .await?
            .map_or(0, |f| {
                f.iter()
                    .filter(|f| f.state == workflow::collection::leaks::FindingState::Open)
                    .count() as i32
            }))
    }

    /// RECTIFICATION: the corrected values the subject asked for, each with what
    /// became of it when carried out. Collected personal data: needs
    /// request:read_data.
    async fn corrections(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::graphql::types::execution::Correction>> {
        Ok(loaders(ctx)?
            .request_corrections
            .load_one(self.uuid)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// RESTRICTION and OBJECTION: the marks carried out on the subject's records,
    /// standing or lifted.
    async fn restrictions(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<crate::graphql::types::execution::ProcessingRestriction>> {
        Ok(loaders(ctx)?
            .request_restrictions
            .load_one(self.uuid)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// How many records the reviewer redacted.
    async fn redactions_count(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        Ok(loaders(ctx)?
            .request_redactions
            .load_one(self.uuid)
            .await?
            .map_or(0, |r| r.len() as i32))
    }

    /// Files received with the request (metadata; content is kept sealed).
    async fn attachments(&self, ctx: &Context<'_>) -> ApiResult<Vec<RequestAttachment>> {
        let rows = loaders(ctx)?
            .request_attachments
            .load_one(self.uuid)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(RequestAttachment::from).collect())
    }

    /// The timeline: every transition, comment, assignment, claim and task, oldest first.
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<TimelineEntryConnection> {
        let s = crate::graphql::session(ctx)?;
        let page = crate::graphql::ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .request_timeline(s.principal()?, self.uuid, &page)
            .await?;
        Ok(TimelineEntryConnection::from_page(
            page,
            |e| e.id.to_string(),
            TimelineEntry::from,
        ))
    }

    /// The answer package frozen at the request's approval (ACCESS and PORTABILITY
    /// requests); null before approval and after the reviewer sent the approved
    /// request back.
    async fn answer_package(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Option<crate::graphql::types::answer::AnswerPackage>> {
        Ok(loaders(ctx)?
            .answer_packages
            .load_one(self.uuid)
            .await?
            .map(crate::graphql::types::answer::AnswerPackage::from))
    }

    /// Why this request needs attention (empty when it does not).
    async fn stalled_reasons(&self, ctx: &Context<'_>) -> ApiResult<Vec<StalledReason>> {
        Ok(loaders(ctx)?
            .stalled_reasons
            .load_one(self.uuid)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// One way a data subject can be identified.
#[derive(SimpleObject, Clone, Debug)]
pub struct SubjectIdentity {
    /// Kind of identifier.
    pub kind: IdentityType,
    /// Canonical value, as matching, filters and duplicate detection compare it:
    /// e-mail in Unicode NFC, lower-cased, with the domain in its ASCII (punycode)
    /// form; phone in E.164; other kinds with whitespace collapsed.
    pub value: String,
    /// The value as the requester first gave it (for letters and display).
    pub value_as_given: String,
    /// When it was verified (e.g. by an e-mail code).
    pub verified_at: Option<DateTime<Utc>>,
    /// How it was verified.
    pub verification_method: Option<VerificationMethod>,
}

impl From<rq::IdentityView> for SubjectIdentity {
    fn from(v: rq::IdentityView) -> Self {
        Self {
            kind: v.kind.into(),
            value: v.value,
            value_as_given: v.value_as_given,
            verified_at: v.verified_at,
            verification_method: v.verification_method.map(Into::into),
        }
    }
}

/// A collection or execution job of a request in one data source.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct RequestTask {
    /// Global ID.
    pub id: ID,
    /// Collect or execute.
    pub kind: TaskKind,
    /// Where it stands.
    pub state: TaskState,
    /// Global ID of the data source.
    pub source_id: ID,
    /// A note of who completed it (e.g. how the source was searched).
    pub note: Option<String>,
    /// What went wrong, if it failed.
    pub error: Option<String>,
    /// Whether the collection engine completed it.
    pub completed_by_worker: bool,
    /// When it was completed.
    pub completed_at: Option<DateTime<Utc>>,
    /// How often it was attempted (by a worker, or completed or failed by hand).
    pub attempts: i32,
    /// Whether a worker collects it (SQL and HTTP sources); MANUAL sources are
    /// searched by a steward.
    pub automatic: bool,
    /// Until when a worker holds it (a lease that runs out makes it claimable again).
    pub lease_until: Option<DateTime<Utc>>,
    /// The last sign of life of the worker holding it.
    pub heartbeat_at: Option<DateTime<Utc>>,
    /// Not retried before this time (backoff after a failed attempt).
    pub retry_after: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub source_uuid: Uuid,
    #[graphql(skip)]
    pub request_uuid: Uuid,
    #[graphql(skip)]
    pub uuid: Uuid,
    #[graphql(skip)]
    pub completed_by: Option<Uuid>,
}

impl From<rq::TaskView> for RequestTask {
    fn from(v: rq::TaskView) -> Self {
        Self {
            id: global_id("RequestTask", v.id),
            kind: v.kind.into(),
            state: v.state.into(),
            source_id: global_id("DataSource", v.source_id),
            note: v.note,
            error: v.error,
            completed_by_worker: v.completed_by_worker,
            completed_at: v.completed_at,
            attempts: v.attempts,
            automatic: v.automatic,
            lease_until: v.lease_until,
            heartbeat_at: v.heartbeat_at,
            retry_after: v.retry_after,
            created_at: v.created_at,
            source_uuid: v.source_id,
            request_uuid: v.request_id,
            uuid: v.id,
            completed_by: v.completed_by,
        }
    }
}

#[ComplexObject]
impl RequestTask {
    /// Global ID of the person or API key that completed it (none when the
    /// collection engine did).
    async fn completed_by_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        actor_id(ctx, self.completed_by).await
    }

    /// The person or API key that completed it (none when the collection engine did).
    async fn completed_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Actor>> {
        actor(ctx, self.completed_by).await
    }

    /// The data source it searches.
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<DataSource>> {
        data_source(ctx, self.source_uuid).await
    }

    /// The request it belongs to.
    async fn request(&self, ctx: &Context<'_>) -> ApiResult<Option<SubjectRequest>> {
        request_by_id(ctx, self.request_uuid).await
    }

    /// Files a steward uploaded as the task's result (uploadTaskResult with FILE);
    /// metadata only, the content is kept sealed. Collected personal data: needs
    /// request:read_data.
    async fn files(&self, ctx: &Context<'_>) -> ApiResult<Vec<RequestAttachment>> {
        let rows = loaders(ctx)?
            .task_files
            .load_one(self.uuid)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(RequestAttachment::from).collect())
    }

    /// What this task found in its source (the request's records of this source,
    /// in the order found), values included; redacted records carry their redaction.
    /// Collected personal data: needs request:read_data.
    async fn records(&self, ctx: &Context<'_>) -> ApiResult<Vec<CollectedRecord>> {
        let mut records = request_records(ctx, self.request_uuid).await?;
        records.retain(|r| r.model.task_id == self.uuid);
        Ok(records)
    }

    /// Name of the data source.
    async fn source_name(&self, ctx: &Context<'_>) -> ApiResult<String> {
        source_name(ctx, self.source_uuid).await
    }
}

/// A reviewer's decision to leave a record out of the answer.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Redaction {
    /// Why (e.g. "data of another person").
    pub reason: String,
    /// When.
    pub decided_at: DateTime<Utc>,
    #[graphql(skip)]
    pub decided_by: Option<Uuid>,
}

#[ComplexObject]
impl Redaction {
    /// Global ID of the reviewer (person or API key) who redacted it.
    async fn decided_by_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        actor_id(ctx, self.decided_by).await
    }

    /// The reviewer (person or API key) who redacted it.
    async fn decided_by(&self, ctx: &Context<'_>) -> ApiResult<Option<Actor>> {
        actor(ctx, self.decided_by).await
    }
}

/// What changed in a request's records since the reviewer last sent it back.
#[derive(SimpleObject, Clone, Debug)]
pub struct ReviewChanges {
    /// When the reviewer sent the request back (what they saw then is compared).
    pub reviewed_at: DateTime<Utc>,
    /// Records with nothing at their place then.
    pub new_count: i32,
    /// Records whose place held another value then.
    pub changed_count: i32,
    /// Records collected again with the same value at the same place.
    pub unchanged_count: i32,
    /// Records the reviewer saw that have nothing at their place now.
    pub gone: Vec<GoneRecord>,
}

impl ReviewChanges {
    /// What changed in the records of `request`.
    fn new(request: Uuid, c: rq::ReviewChanges) -> Self {
        Self {
            reviewed_at: c.reviewed_at,
            new_count: c.count(rq::RecordChange::New) as i32,
            changed_count: c.count(rq::RecordChange::Changed) as i32,
            unchanged_count: c.count(rq::RecordChange::Unchanged) as i32,
            gone: c
                .gone
                .into_iter()
                .map(|b| GoneRecord {
                    previous_record_id: global_id("CollectedRecord", b.record_id),
                    task_id: global_id("RequestTask", b.task_id),
                    source_id: global_id("DataSource", b.source_id),
                    field_id: b.field_id.map(|f| global_id("DataField", f)),
                    location: b.location,
                    was_redacted: b.redacted,
                    source_uuid: b.source_id,
                    field_uuid: b.field_id,
                    request_uuid: request,
                    task_uuid: b.task_id,
                })
                .collect(),
        }
    }
}

/// A record the reviewer saw at the last review that is not collected any more
/// (its value is not kept).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct GoneRecord {
    /// Global ID the record had (it no longer resolves).
    pub previous_record_id: ID,
    /// Global ID of the task that had found it.
    pub task_id: ID,
    /// Global ID of the data source.
    pub source_id: ID,
    /// Global ID of the mapped field, if it was found in one.
    pub field_id: Option<ID>,
    /// Where it was found (`table.column`, JSON path ...).
    pub location: String,
    /// Whether the reviewer had redacted it (that redaction was dropped).
    pub was_redacted: bool,
    #[graphql(skip)]
    pub source_uuid: Uuid,
    #[graphql(skip)]
    pub field_uuid: Option<Uuid>,
    #[graphql(skip)]
    pub request_uuid: Uuid,
    #[graphql(skip)]
    pub task_uuid: Uuid,
}

#[ComplexObject]
impl GoneRecord {
    /// The task that had found it.
    async fn task(&self, ctx: &Context<'_>) -> ApiResult<Option<RequestTask>> {
        task_of(ctx, self.request_uuid, self.task_uuid).await
    }

    /// Name of the data source.
    async fn source_name(&self, ctx: &Context<'_>) -> ApiResult<String> {
        source_name(ctx, self.source_uuid).await
    }

    /// The data source.
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<DataSource>> {
        data_source(ctx, self.source_uuid).await
    }

    /// The mapped field it was found in, if any.
    async fn field(&self, ctx: &Context<'_>) -> ApiResult<Option<DataField>> {
        optional_field(ctx, self.field_uuid).await
    }
}

/// One value a task found about the subject.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct CollectedRecord {
    /// Global ID.
    pub id: ID,
    /// Global ID of the task that found it.
    pub task_id: ID,
    /// Global ID of the data source.
    pub source_id: ID,
    /// Where it was found (`table.column`, JSON path ...).
    pub location: String,
    /// The record (table row, object of an HTTP response, upload) the value belongs
    /// to, e.g. `customers(id=42)`; the values of one record share it. A value
    /// entered by hand is a record of its own (its ID).
    pub record_key: String,
    /// Global ID of the mapped data field, if any.
    pub field_id: Option<ID>,
    /// The value.
    pub value: String,
    /// The redaction, if the reviewer decided to leave it out.
    pub redaction: Option<Redaction>,
    /// When it was collected.
    pub collected_at: DateTime<Utc>,
    #[graphql(skip)]
    pub category_id: Option<Uuid>,
    #[graphql(skip)]
    pub record_uuid: Uuid,
    #[graphql(skip)]
    pub request_uuid: Uuid,
    /// The stored row (sealed value), for grouping.
    #[graphql(skip)]
    pub model: collected_record::Model,
}

impl CollectedRecord {
    pub(crate) fn new(
        m: collected_record::Model,
        value: String,
        r: Option<redaction::Model>,
    ) -> Self {
        Self {
            id: global_id("CollectedRecord", m.id),
            task_id: global_id("RequestTask", m.task_id),
            source_id: global_id("DataSource", m.source_id),
            location: m.location.clone(),
            record_key: workflow::collection::grouped::record_key(&m),
            field_id: m.field_id.map(|f| global_id("DataField", f)),
            value,
            redaction: r.map(|r| Redaction {
                reason: r.reason,
                decided_by: r.decided_by,
                decided_at: r.decided_at,
            }),
            collected_at: m.created_at,
            category_id: m.data_category_id,
            record_uuid: m.id,
            request_uuid: m.request_id,
            model: m,
        }
    }
}

/// An identifier of the requester found on the way, during collection.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct FoundIdentity {
    /// Kind of identifier.
    pub kind: IdentityType,
    /// Canonical value (as `SubjectIdentity.value`).
    pub value: String,
    /// Global ID of the data source it was read from.
    pub source_id: ID,
    /// The record it was read from, e.g. `customers(id=42)`.
    pub record_key: String,
    /// Global ID of the identifying data field it was read from.
    pub field_id: ID,
    /// When it was found.
    pub found_at: DateTime<Utc>,
    #[graphql(skip)]
    pub source_uuid: Uuid,
    #[graphql(skip)]
    pub field_uuid: Uuid,
}

#[ComplexObject]
impl FoundIdentity {
    /// Name of the data source it was read from.
    async fn source_name(&self, ctx: &Context<'_>) -> ApiResult<String> {
        source_name(ctx, self.source_uuid).await
    }

    /// The data source it was read from.
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<DataSource>> {
        data_source(ctx, self.source_uuid).await
    }

    /// The identifying data field it was read from.
    async fn field(&self, ctx: &Context<'_>) -> ApiResult<Option<DataField>> {
        optional_field(ctx, Some(self.field_uuid)).await
    }
}

impl From<workflow::collection::found::FoundIdentityView> for FoundIdentity {
    fn from(f: workflow::collection::found::FoundIdentityView) -> Self {
        Self {
            kind: f.kind.into(),
            value: f.value,
            source_id: global_id("DataSource", f.source_id),
            record_key: f.record_key,
            field_id: global_id("DataField", f.field_id),
            found_at: f.found_at,
            source_uuid: f.source_id,
            field_uuid: f.field_id,
        }
    }
}

/// The values one source gave about the subject, by data category.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct CollectedSource {
    /// Global ID of the data source.
    pub source_id: ID,
    /// Distinct records (rows, objects, uploads) of this source; a record with
    /// values of two categories counts once.
    pub records_count: i32,
    /// The source's values by data category, in the order first found.
    pub categories: Vec<CollectedCategory>,
    #[graphql(skip)]
    pub source_uuid: Uuid,
}

#[ComplexObject]
impl CollectedSource {
    /// Name of the data source.
    async fn source_name(&self, ctx: &Context<'_>) -> ApiResult<String> {
        source_name(ctx, self.source_uuid).await
    }

    /// The data source.
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<DataSource>> {
        data_source(ctx, self.source_uuid).await
    }
}

impl From<workflow::collection::grouped::SourceGroup<CollectedRecord>> for CollectedSource {
    fn from(g: workflow::collection::grouped::SourceGroup<CollectedRecord>) -> Self {
        Self {
            source_id: global_id("DataSource", g.source_id),
            records_count: g.records as i32,
            categories: g
                .categories
                .into_iter()
                .map(|c| CollectedCategory {
                    data_category_id: c.category_id.map(|id| global_id("DataCategory", id)),
                    records: c
                        .records
                        .into_iter()
                        .map(|r| FoundRecord {
                            record_key: r.record_key,
                            task_id: global_id("RequestTask", r.task_id),
                            values: r.values,
                        })
                        .collect(),
                    category_uuid: c.category_id,
                })
                .collect(),
            source_uuid: g.source_id,
        }
    }
}

/// The records of one source with values of one data category.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct CollectedCategory {
    /// Global ID of the data category; null for values whose field maps no category
    /// (or values entered without a field).
    pub data_category_id: Option<ID>,
    /// The records, each with its values of this category only.
    pub records: Vec<FoundRecord>,
    #[graphql(skip)]
    pub category_uuid: Option<Uuid>,
}

#[ComplexObject]
impl CollectedCategory {
    /// The data category; null as for `dataCategoryId`.
    async fn data_category(&self, ctx: &Context<'_>) -> ApiResult<Option<DataCategory>> {
        let Some(id) = self.category_uuid else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .data_category
            .load_one(id)
            .await?
            .map(Into::into))
    }
}

/// One record a source gave (a table row, an object of an HTTP response, an
/// upload), with its values of one data category.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct FoundRecord {
    /// The record, e.g. `customers(id=42)` or `/contacts/0` (see
    /// `CollectedRecord.recordKey`).
    pub record_key: String,
    /// Global ID of the task that found it.
    pub task_id: ID,
    /// Its values (with their redactions), each tagged with its field and location.
    pub values: Vec<CollectedRecord>,
}

#[ComplexObject]
impl FoundRecord {
    /// The task that found it.
    async fn task(&self, ctx: &Context<'_>) -> ApiResult<Option<RequestTask>> {
        match self.values.first() {
            Some(v) => task_of(ctx, v.request_uuid, v.model.task_id).await,
            None => Ok(None),
        }
    }
}

#[ComplexObject]
impl CollectedRecord {
    /// How it compares with what the reviewer saw when they last sent the request
    /// back; null while no reviewer has sent it back.
    async fn change_since_last_review(&self, ctx: &Context<'_>) -> ApiResult<Option<RecordChange>> {
        Ok(loaders(ctx)?
            .review_changes
            .load_one(self.request_uuid)
            .await?
            .and_then(|c| c.records.get(&self.record_uuid).copied())
            .map(Into::into))
    }

    /// The task that found it.
    async fn task(&self, ctx: &Context<'_>) -> ApiResult<Option<RequestTask>> {
        task_of(ctx, self.request_uuid, self.model.task_id).await
    }

    /// The data source it was found in.
    async fn source(&self, ctx: &Context<'_>) -> ApiResult<Option<DataSource>> {
        data_source(ctx, self.model.source_id).await
    }

    /// The mapped data field, if any.
    async fn field(&self, ctx: &Context<'_>) -> ApiResult<Option<DataField>> {
        optional_field(ctx, self.model.field_id).await
    }

    /// The category of data, from the mapped field.
    async fn data_category(&self, ctx: &Context<'_>) -> ApiResult<Option<DataCategory>> {
        let Some(id) = self.category_id else {
            return Ok(None);
        };
        Ok(loaders(ctx)?
            .data_category
            .load_one(id)
            .await?
            .map(Into::into))
    }
}

/// A file received with a request, or uploaded as a task's result.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct RequestAttachment {
    /// Global ID.
    pub id: ID,
    /// File name as received.
    pub file_name: String,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content (hex), to prove what was received.
    pub sha256: String,
    /// When it was stored.
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: Uuid,
}

#[ComplexObject]
impl RequestAttachment {
    /// A link to download the file, valid for five minutes; `GET` it (no header
    /// needed). The key that asked must still be allowed to read requests then.
    async fn download_url(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let s = crate::graphql::session(ctx)?;
        let (token, _) = s
            .workflow()
            .attachment_link(s.principal()?, self.uuid)
            .await?;
        let origin = ctx
            .data_opt::<crate::graphql::RequestOrigin>()
            .and_then(|o| o.0.clone())
            .unwrap_or_default();
        Ok(format!("{origin}/attachments/{token}"))
    }
}

impl From<request_attachment::Model> for RequestAttachment {
    fn from(m: request_attachment::Model) -> Self {
        Self {
            uuid: m.id,
            id: global_id("RequestAttachment", m.id),
            file_name: m.file_name,
            media_type: m.media_type,
            size_bytes: m.size_bytes,
            sha256: m.sha256,
            created_at: m.created_at,
        }
    }
}

/// One entry of a request's timeline.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct TimelineEntry {
    /// Global ID.
    pub id: ID,
    /// Global ID of the request.
    pub request_id: ID,
    /// What it records.
    pub kind: TimelineEntryKind,
    /// The state-machine event (transitions only).
    pub event: Option<WorkflowEvent>,
    /// State before (transitions only).
    pub from_state: Option<RequestState>,
    /// State after (transitions only).
    pub to_state: Option<RequestState>,
    /// Name of who acted, as it was then (a person's, an API key's or the
    /// system's).
    pub actor_name: String,
    /// Reason, comment or details.
    pub message: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
    #[graphql(skip)]
    pub actor_uuid: Option<Uuid>,
    #[graphql(skip)]
    pub request_uuid: Uuid,
}

#[ComplexObject]
impl TimelineEntry {
    /// The request.
    async fn request(&self, ctx: &Context<'_>) -> ApiResult<Option<SubjectRequest>> {
        request_by_id(ctx, self.request_uuid).await
    }

    /// Global ID of who acted: a Person, an ApiKey or a SystemActor.
    async fn actor_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        actor_id(ctx, self.actor_uuid).await
    }

    /// Who acted: a person, an API key or the system.
    async fn actor(&self, ctx: &Context<'_>) -> ApiResult<Option<Actor>> {
        actor(ctx, self.actor_uuid).await
    }
}

impl From<rq::TimelineEntryView> for TimelineEntry {
    fn from(v: rq::TimelineEntryView) -> Self {
        Self {
            id: global_id("TimelineEntry", v.id),
            request_id: global_id("SubjectRequest", v.request_id),
            kind: v.kind.into(),
            event: v.event.map(Into::into),
            from_state: v.from_state.map(Into::into),
            to_state: v.to_state.map(Into::into),
            actor_name: v.actor_name,
            message: v.message,
            at: v.at,
            actor_uuid: v.actor_id,
            request_uuid: v.request_id,
        }
    }
}

connection!(
    SubjectRequestConnection,
    SubjectRequestEdge,
    SubjectRequest,
    "A page of requests.",
    "A request in a page."
);
connection!(
    TimelineEntryConnection,
    TimelineEntryEdge,
    TimelineEntry,
    "A page of a request's timeline.",
    "A timeline entry in a page."
);

/// A day the organization is closed (deadlines ending on it roll forward).
#[derive(SimpleObject, Clone, Debug)]
pub struct ClosedDay {
    /// The day.
    pub day: NaiveDate,
    /// Why (e.g. "Betriebsferien").
    pub note: Option<String>,
}

/// A public holiday.
#[derive(SimpleObject, Clone, Debug)]
pub struct Holiday {
    /// The day.
    pub date: NaiveDate,
    /// Its German name.
    pub name: String,
}

/// How the organization runs requests.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct RequestSettings {
    /// The state whose holidays count besides the German federal ones.
    pub holiday_region: Option<HolidayRegion>,
    /// When the deadline starts; recorded on each request as it arrives.
    pub deadline_start: DeadlineBasis,
    /// More requests than this per subject within 12 months are flagged as possibly excessive.
    pub excessive_threshold: i32,
    /// Open requests that have not moved for this many hours show up as stalled.
    pub stall_after_hours: i32,
    /// Days the organization is closed.
    pub closed_days: Vec<ClosedDay>,
    /// IANA time zone of the organization's local day (e.g. `Europe/Berlin`): the day
    /// of receipt, due dates and whether a request is overdue are local dates there.
    pub time_zone: String,
    /// Region (ISO 3166-1 alpha-2, e.g. `DE`) whose numbering plan reads phone
    /// numbers given without a country code.
    pub phone_region: String,
    /// Days after a request ended (CLOSED, REJECTED, CANCELLED) before its collected
    /// data (records, found identities, uploaded files, the answer package's content,
    /// message bodies) is purged; the timeline, the proof of dispatch and the digests
    /// stay. 0 purges at the next hourly run.
    pub purge_after_days: i32,
    #[graphql(skip)]
    pub calendar: rq::Calendar,
}

impl From<rq::RequestSettings> for RequestSettings {
    fn from(s: rq::RequestSettings) -> Self {
        Self {
            calendar: s.calendar(),
            holiday_region: s.holiday_region.map(Into::into),
            deadline_start: s.deadline_start.into(),
            excessive_threshold: s.excessive_threshold,
            stall_after_hours: s.stall_after_hours,
            time_zone: s.time_zone.name().to_owned(),
            phone_region: s.phone_region.as_str().to_owned(),
            purge_after_days: s.purge_after_days,
            closed_days: s
                .closed_days
                .into_iter()
                .map(|(day, note)| ClosedDay { day, note })
                .collect(),
        }
    }
}

#[ComplexObject]
impl RequestSettings {
    /// The public holidays of a year that count for deadlines (federal and the region's).
    async fn holidays(
        &self,
        #[graphql(desc = "The year, 1900 to 2200.")] year: i32,
    ) -> ApiResult<Vec<Holiday>> {
        if !(1900..=2200).contains(&year) {
            return Err(ApiError::invalid(
                &["year"],
                "must be between 1900 and 2200",
            ));
        }
        Ok(rq::deadline::german_holidays(year, self.calendar.state)
            .into_iter()
            .map(|(date, name)| Holiday {
                date,
                name: name.to_owned(),
            })
            .collect())
    }

    /// The deadline a request received on `receivedOn` would get.
    async fn due_date_for(
        &self,
        #[graphql(desc = "The day of receipt.")] received_on: NaiveDate,
    ) -> NaiveDate {
        self.calendar.due_date(received_on)
    }
}

/// The error of one item of a bulk action.
#[derive(SimpleObject, Clone, Debug)]
pub struct BulkItemError {
    /// The code it would have as a GraphQL error (CONFLICT, INVALID_TRANSITION ...).
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// The result of a bulk action for one request.
#[derive(SimpleObject, Clone, Debug)]
pub struct BulkItemResult {
    /// Global ID of the request.
    pub request_id: ID,
    /// Whether the action applied.
    pub ok: bool,
    /// The request after the action (null if it failed).
    pub request: Option<SubjectRequest>,
    /// Why it did not apply.
    pub error: Option<BulkItemError>,
}

impl BulkItemResult {
    /// Converts a workflow outcome.
    pub fn from_outcome(o: rq::BulkOutcome) -> Self {
        let request_id = global_id("SubjectRequest", o.request_id);
        match o.result {
            Ok(request) => Self {
                request_id,
                ok: true,
                request: Some(request.into()),
                error: None,
            },
            Err(err) => {
                let api = ApiError::from(err);
                let code = api.code().as_str().to_owned();
                let message = async_graphql::Error::from(api).message;
                Self {
                    request_id,
                    ok: false,
                    request: None,
                    error: Some(BulkItemError { code, message }),
                }
            }
        }
    }
}

/// How a request's place in the review queue changed.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum QueueChange {
    /// It entered the queue.
    Entered,
    /// It left the queue (approved, sent back, rejected, cancelled).
    Left,
    /// It is in the queue and changed (claimed, commented, redacted).
    Updated,
}

impl From<rq::QueueChange> for QueueChange {
    fn from(c: rq::QueueChange) -> Self {
        match c {
            rq::QueueChange::Entered => Self::Entered,
            rq::QueueChange::Left => Self::Left,
            rq::QueueChange::Updated => Self::Updated,
        }
    }
}

/// A change of the review queue.
#[derive(SimpleObject, Clone, Debug)]
pub struct ReviewQueueUpdate {
    /// How the queue changed.
    pub change: QueueChange,
    /// The request after the change.
    pub request: SubjectRequest,
    /// The timeline entry of the change.
    pub entry: TimelineEntry,
}

/// A change of one request.
#[derive(SimpleObject, Clone, Debug)]
pub struct RequestUpdate {
    /// The request after the change.
    pub request: SubjectRequest,
    /// The timeline entry of the change.
    pub entry: TimelineEntry,
}

/// The name of a data source, through the page's loader.
async fn source_name(ctx: &Context<'_>, id: Uuid) -> ApiResult<String> {
    loaders(ctx)?
        .source_name
        .load_one(id)
        .await?
        .ok_or_else(|| {
            ApiError::from(workflow::Error::NotFound {
                what: "data source",
            })
        })
}

/// A request's collected values with their redactions, through the page's loaders.
async fn request_records(ctx: &Context<'_>, request: Uuid) -> ApiResult<Vec<CollectedRecord>> {
    records_of(loaders(ctx)?, request).await
}

/// A request's collected values with their redactions, through these loaders.
async fn records_of(
    l: &crate::graphql::loaders::Loaders,
    request: Uuid,
) -> ApiResult<Vec<CollectedRecord>> {
    let rows = l
        .request_records
        .load_one(request)
        .await?
        .unwrap_or_default();
    let redactions = l
        .request_redactions
        .load_one(request)
        .await?
        .unwrap_or_default();
    let mut redactions: std::collections::HashMap<Uuid, _> =
        redactions.into_iter().map(|r| (r.record_id, r)).collect();
    Ok(rows
        .into_iter()
        .map(|(m, value)| {
            let redaction = redactions.remove(&m.id);
            CollectedRecord::new(m, value, redaction)
        })
        .collect())
}

/// A data source of the organization, through the request's loader (null when it
/// was deleted since).
pub(crate) async fn data_source(ctx: &Context<'_>, id: Uuid) -> ApiResult<Option<DataSource>> {
    Ok(loaders(ctx)?
        .data_source
        .load_one(id)
        .await?
        .map(DataSource::from))
}

/// A data field of the organization, if `id` is given, through the request's loader.
pub(crate) async fn optional_field(
    ctx: &Context<'_>,
    id: Option<Uuid>,
) -> ApiResult<Option<DataField>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx)?
        .data_field
        .load_one(id)
        .await?
        .map(DataField::from))
}

/// A request of the organization, through the request's loader (null when it was
/// purged since).
pub(crate) async fn request_by_id(
    ctx: &Context<'_>,
    id: Uuid,
) -> ApiResult<Option<SubjectRequest>> {
    Ok(loaders(ctx)?
        .request
        .load_one(id)
        .await?
        .map(SubjectRequest::from))
}

/// A purpose of the organization, if `id` is given, through the request's loader.
pub(crate) async fn purpose_by_id(
    ctx: &Context<'_>,
    id: Option<Uuid>,
) -> ApiResult<Option<crate::graphql::types::register::Purpose>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx)?.purpose.load_one(id).await?.map(Into::into))
}

/// A task of a request, through the request's loader (null when it is gone).
async fn task_of(ctx: &Context<'_>, request: Uuid, task: Uuid) -> ApiResult<Option<RequestTask>> {
    Ok(loaders(ctx)?
        .request_tasks
        .load_one(request)
        .await?
        .unwrap_or_default()
        .into_iter()
        .find(|t| t.id == task)
        .map(RequestTask::from))
}
