//! Inputs and payloads of the request workflow.

use async_graphql::{ID, InputObject, MaybeUndefined, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};

use crate::graphql::types::register::IdentityType;
use crate::graphql::types::requests::{
    BulkItemResult, DeadlineBasis, HolidayRegion, LeakFinding, RejectionGround, RequestChannel,
    RequestKind, RequestSettings, RequestState, RequestTask, SubjectRequest, UploadFormat,
    VerificationMethod,
};

/// One way the requester can be identified.
#[derive(InputObject, Debug)]
pub struct IdentityInput {
    /// Kind of identifier.
    pub kind: IdentityType,
    /// The value as given: kept as given for display, and matched by its canonical
    /// spelling (e-mail in NFC, lower-cased, ASCII domain; phone in E.164, read with
    /// the organization's phone region when it has no country code).
    pub value: String,
}

/// A file received with the request.
#[derive(InputObject, Debug)]
pub struct AttachmentInput {
    /// File name.
    pub file_name: String,
    /// Media type, e.g. `application/pdf`.
    pub media_type: String,
    /// Content, base64 (standard alphabet), at most 5 MiB decoded.
    pub content_base64: String,
}

/// A request as received.
#[derive(InputObject, Debug)]
pub struct SubmitRequestInput {
    /// What is asked for.
    pub kind: RequestKind,
    /// How it arrived.
    pub channel: RequestChannel,
    /// Who asks: at least one identity (e-mail, phone, customer number ...).
    pub identities: Vec<IdentityInput>,
    /// The request as received, verbatim.
    pub text: Option<String>,
    /// A test request: runs end to end, excluded from statistics, never mailed to real addresses.
    #[graphql(default)]
    pub is_test: bool,
    /// When it arrived, for letters and e-mails received earlier (not in the future).
    /// The deadline runs from here. Default: now.
    pub received_at: Option<DateTime<Utc>>,
    /// A key of your choice; a retry with the same key returns the first request.
    pub idempotency_key: Option<String>,
    /// Files received with it (at most 10).
    #[graphql(default)]
    pub attachments: Vec<AttachmentInput>,
}

/// A decision on the request version the caller saw.
#[derive(InputObject, Debug)]
pub struct TransitionInput {
    /// The request.
    pub request_id: ID,
    /// The `version` the decision is based on; CONFLICT if the request changed since.
    pub version: i32,
}

/// A decision that needs a reason.
#[derive(InputObject, Debug)]
pub struct ReasonedTransitionInput {
    /// The request.
    pub request_id: ID,
    /// The `version` the decision is based on.
    pub version: i32,
    /// Why; recorded in the timeline (and told to the subject where the law says so).
    pub reason: String,
}

/// Cancel a request the subject withdrew.
#[derive(InputObject, Debug)]
pub struct CancelRequestInput {
    /// The request.
    pub request_id: ID,
    /// The `version` the decision is based on.
    pub version: i32,
    /// How the withdrawal arrived, for the record.
    pub reason: Option<String>,
}

/// Refuse a request under Art. 12(5).
#[derive(InputObject, Debug)]
pub struct RejectRequestInput {
    /// The request.
    pub request_id: ID,
    /// The `version` the decision is based on.
    pub version: i32,
    /// The legal ground.
    pub ground: RejectionGround,
    /// The reasons, told to the subject (Art. 12(4)).
    pub reason: String,
}

/// Send a verification code to the requester's e-mail address.
#[derive(InputObject, Debug)]
pub struct StartEmailVerificationInput {
    /// The request.
    pub request_id: ID,
    /// The `version` the caller saw.
    pub version: i32,
    /// Which e-mail address (`value` of one of the request's identities); default: the first.
    pub email: Option<String>,
}

/// A request by id.
#[derive(InputObject, Debug)]
pub struct RequestIdInput {
    /// The request.
    pub request_id: ID,
}

/// The code the requester entered.
#[derive(InputObject, Debug)]
pub struct ConfirmEmailVerificationInput {
    /// The request.
    pub request_id: ID,
    /// The six-digit code from the e-mail.
    pub code: String,
}

/// Staff verification of the requester's identity.
#[derive(InputObject, Debug)]
pub struct VerifyIdentityInput {
    /// The request.
    pub request_id: ID,
    /// The `version` the caller saw.
    pub version: i32,
    /// How the identity was checked (not EMAIL_CODE).
    pub method: VerificationMethod,
    /// What was checked, e.g. "Personalausweis, letzte 4 Ziffern 1234, Adresse stimmt".
    pub evidence: String,
}

/// One value found in a source.
#[derive(InputObject, Debug)]
pub struct CollectedValueInput {
    /// The mapped field of the task's source it comes from.
    pub field_id: Option<ID>,
    /// Where it was found, when no field is named.
    pub location: Option<String>,
    /// The value.
    pub value: String,
}

/// Complete a task by hand.
#[derive(InputObject, Debug)]
pub struct CompleteTaskInput {
    /// The task.
    pub task_id: ID,
    /// What the source holds about the subject (replaces earlier results; empty: nothing).
    #[graphql(default)]
    pub values: Vec<CollectedValueInput>,
    /// How it was searched or carried out.
    pub note: Option<String>,
}

/// Dismiss a leak finding.
#[derive(InputObject, Debug)]
pub struct DismissLeakFindingInput {
    /// The finding.
    pub finding_id: ID,
    /// Why the value or record is the requester's after all (kept in the timeline
    /// and with the finding).
    pub reason: String,
}

/// Resolve several open leak findings of one request at once, all or none.
#[derive(InputObject, Debug)]
pub struct ResolveLeakFindingsInput {
    /// The request the findings belong to.
    pub request_id: ID,
    /// The findings: each must be an open finding of this request, named once (at
    /// most 1000).
    pub finding_ids: Vec<ID>,
    /// Redact their data or dismiss them.
    pub resolution: crate::graphql::types::requests::LeakResolution,
    /// Why (kept in the timeline, and with each redaction or dismissal).
    pub reason: String,
}

/// The finding and its request after the change.
#[derive(SimpleObject)]
pub struct LeakFindingPayload {
    /// The finding.
    pub finding: LeakFinding,
    /// The request (its version changed).
    pub request: SubjectRequest,
}

/// Restart an automatic collection task.
#[derive(InputObject, Debug)]
pub struct RetryTaskInput {
    /// The task.
    pub task_id: ID,
}

/// Complete a collection task with an upload: records (JSON or CSV) or a file.
#[derive(InputObject, Debug)]
pub struct UploadTaskResultInput {
    /// The task (a COLLECT task of a request in COLLECTING).
    pub task_id: ID,
    /// How `content` is given.
    pub format: UploadFormat,
    /// JSON: an array of objects (or one object), one record each. CSV: a header row
    /// naming the properties, then one row per record (empty cells are left out;
    /// cells are typed as the source's recordSchema says). FILE: the file in base64
    /// (standard alphabet), at most 5 MiB decoded. A property is stored as the field
    /// whose location is the property's name, else under its name. At most 5000
    /// records; replaces what the task stored before.
    pub content: String,
    /// The file's name (FILE only, required there).
    pub file_name: Option<String>,
    /// The file's media type (FILE only; default application/octet-stream).
    pub media_type: Option<String>,
    /// How the source was searched.
    pub note: Option<String>,
}

/// Mark a task failed.
#[derive(InputObject, Debug)]
pub struct FailTaskInput {
    /// The task.
    pub task_id: ID,
    /// What went wrong.
    pub error: String,
}

/// A comment on a request.
#[derive(InputObject, Debug)]
pub struct AddCommentInput {
    /// The request.
    pub request_id: ID,
    /// The comment.
    pub text: String,
}

/// Leave a collected record out of the answer.
#[derive(InputObject, Debug)]
pub struct RedactRecordInput {
    /// The record.
    pub record_id: ID,
    /// Why, e.g. "data of another customer".
    pub reason: String,
}

/// Withdraw a redaction.
#[derive(InputObject, Debug)]
pub struct UnredactRecordInput {
    /// The record.
    pub record_id: ID,
}

/// Assign a request.
#[derive(InputObject, Debug)]
pub struct AssignRequestInput {
    /// The request.
    pub request_id: ID,
    /// Global ID of the person or API key to assign; null unassigns.
    pub assignee_id: Option<ID>,
}

/// Verify several requests by staff check with the same evidence.
#[derive(InputObject, Debug)]
pub struct BulkVerifyInput {
    /// The requests (at most 100).
    pub request_ids: Vec<ID>,
    /// How the identities were checked.
    pub method: VerificationMethod,
    /// What was checked.
    pub evidence: String,
}

/// Assign several requests.
#[derive(InputObject, Debug)]
pub struct BulkAssignInput {
    /// The requests (at most 100).
    pub request_ids: Vec<ID>,
    /// Global ID of the person or API key; null unassigns.
    pub assignee_id: Option<ID>,
}

/// Cancel several requests.
#[derive(InputObject, Debug)]
pub struct BulkCancelInput {
    /// The requests (at most 100).
    pub request_ids: Vec<ID>,
    /// How the withdrawals arrived.
    pub reason: Option<String>,
}

/// A day the organization is closed.
#[derive(InputObject, Debug)]
pub struct ClosedDayInput {
    /// The day.
    pub day: NaiveDate,
    /// Why.
    pub note: Option<String>,
}

/// Change how the organization runs requests; omitted fields stay.
#[derive(InputObject, Debug)]
pub struct UpdateRequestSettingsInput {
    /// The state whose holidays count; null for federal holidays only.
    #[graphql(default)]
    pub holiday_region: MaybeUndefined<HolidayRegion>,
    /// When the deadline starts (for requests received from now on).
    pub deadline_start: Option<DeadlineBasis>,
    /// 1 to 100.
    pub excessive_threshold: Option<i32>,
    /// 1 to 8760.
    pub stall_after_hours: Option<i32>,
    /// 0 to 3650: days after a request ended before its collected data is purged.
    pub purge_after_days: Option<i32>,
    /// The complete list of closed days (replaces the current one).
    pub closed_days: Option<Vec<ClosedDayInput>>,
    /// IANA time zone of the organization's local day, e.g. `Europe/Berlin` (for
    /// requests received from now on; overdue and due-soon follow at once).
    pub time_zone: Option<String>,
    /// Region (ISO 3166-1 alpha-2, e.g. `DE`) whose numbering plan reads phone
    /// numbers given without a country code.
    pub phone_region: Option<String>,
}

/// Filters of the request listing; all given ones must hold.
#[derive(InputObject, Debug, Default)]
pub struct RequestFilter {
    /// In one of these states.
    pub states: Option<Vec<RequestState>>,
    /// Of this kind.
    pub kind: Option<RequestKind>,
    /// Open and past the deadline.
    #[graphql(default)]
    pub overdue: bool,
    /// Open and due within this many days (0 = today).
    pub due_within_days: Option<i32>,
    /// Only test requests (true) or only real ones (false).
    pub is_test: Option<bool>,
    /// Assigned to this person or API key.
    pub assignee_id: Option<ID>,
    /// Of the subject with this identity.
    pub identity: Option<IdentityInput>,
}

/// The request after the change.
#[derive(SimpleObject)]
pub struct RequestPayload {
    /// The request.
    pub request: SubjectRequest,
}

/// The outcome of a submit.
#[derive(SimpleObject)]
pub struct SubmitRequestPayload {
    /// The request.
    pub request: SubjectRequest,
    /// False when the idempotency key named an earlier submit, which is returned.
    pub created: bool,
}

/// The task and its request after the change.
#[derive(SimpleObject)]
pub struct TaskPayload {
    /// The task.
    pub task: RequestTask,
    /// The request (its version changed).
    pub request: SubjectRequest,
}

/// One result per request, in input order.
#[derive(SimpleObject)]
pub struct BulkRequestPayload {
    /// The results.
    pub results: Vec<BulkItemResult>,
    /// How many applied.
    pub succeeded: i32,
    /// How many did not.
    pub failed: i32,
}

/// The settings after the change.
#[derive(SimpleObject)]
pub struct RequestSettingsPayload {
    /// The settings.
    pub settings: RequestSettings,
}
