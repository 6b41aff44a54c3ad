//! Mutations of the request workflow. Each resolver decodes ids, calls `workflow`
//! (which authorizes the state-machine event itself as well) and converts back.

use async_graphql::{Context, ID, Object};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use uuid::Uuid;
use workflow::requests::{self as rq, Fire, RequestEvent};

use crate::error::{ApiError, ApiResult};
use crate::graphql::inputs::requests::*;
use crate::graphql::types::requests::BulkItemResult;
use crate::graphql::{ids, session};

/// Running data-subject requests.
#[derive(Default)]
pub struct RequestMutation;

fn request_id(id: &ID) -> ApiResult<Uuid> {
    ids::decode(id, "SubjectRequest", &["input", "requestId"])
}

fn request_ids(list: &[ID]) -> ApiResult<Vec<Uuid>> {
    list.iter()
        .enumerate()
        .map(|(i, id)| {
            ids::decode(
                id,
                "SubjectRequest",
                &["input", "requestIds", &i.to_string()],
            )
        })
        .collect()
}

fn payload(request: rq::RequestView) -> ApiResult<RequestPayload> {
    Ok(RequestPayload {
        request: request.into(),
    })
}

fn bulk(outcomes: Vec<rq::BulkOutcome>) -> BulkRequestPayload {
    let results: Vec<BulkItemResult> = outcomes
        .into_iter()
        .map(BulkItemResult::from_outcome)
        .collect();
    let succeeded = results.iter().filter(|r| r.ok).count() as i32;
    BulkRequestPayload {
        failed: results.len() as i32 - succeeded,
        succeeded,
        results,
    }
}

async fn fire(
    ctx: &Context<'_>,
    id: &ID,
    version: i32,
    event: RequestEvent,
    reason: Option<String>,
    ground: Option<rq::RejectionGround>,
) -> ApiResult<RequestPayload> {
    let s = session(ctx)?;
    let fire = Fire {
        request_id: request_id(id)?,
        version,
        event,
        reason,
        ground,
    };
    payload(s.workflow().fire(s.principal()?, fire).await?)
}

fn assignee(id: Option<&ID>) -> ApiResult<Option<Uuid>> {
    id.map(|id| ids::decode_assignable(id, &["input", "assigneeId"]))
        .transpose()
}

#[Object]
impl RequestMutation {
    /// Takes in a data-subject request (web form, e-mail, letter, phone, API). The
    /// requester is matched to known subjects by normalized identities; duplicates
    /// and possibly excessive requests are flagged, never refused automatically.
    async fn submit_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: SubmitRequestInput,
    ) -> ApiResult<SubmitRequestPayload> {
        let s = session(ctx)?;
        let mut attachments = Vec::with_capacity(input.attachments.len());
        for (i, a) in input.attachments.into_iter().enumerate() {
            let content = STANDARD.decode(a.content_base64.trim()).map_err(|_| {
                ApiError::invalid(
                    &["input", "attachments", &i.to_string(), "contentBase64"],
                    "is not base64",
                )
            })?;
            attachments.push(rq::NewAttachment {
                file_name: a.file_name,
                media_type: a.media_type,
                content,
            });
        }
        let new = rq::NewRequest {
            kind: input.kind.into(),
            channel: input.channel.into(),
            identities: input
                .identities
                .into_iter()
                .map(|i| rq::NewIdentity {
                    kind: i.kind.into(),
                    value: i.value,
                })
                .collect(),
            text: input.text,
            is_test: input.is_test,
            received_at: input.received_at,
            idempotency_key: input.idempotency_key,
            attachments,
        };
        let submitted = s.workflow().submit_request(s.principal()?, new).await?;
        Ok(SubmitRequestPayload {
            request: submitted.request.into(),
            created: submitted.created,
        })
    }

    /// Sends a one-time code to the requester's e-mail address (RECEIVED -> VERIFYING).
    async fn start_email_verification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: StartEmailVerificationInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        payload(
            s.workflow()
                .start_email_verification(s.principal()?, id, input.version, input.email)
                .await?,
        )
    }

    /// Sends a new code; the previous one stops working. Rate-limited (one a minute,
    /// five in all): CONFLICT says how long to wait.
    async fn resend_verification_code(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RequestIdInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        payload(
            s.workflow()
                .resend_verification_code(s.principal()?, id)
                .await?,
        )
    }

    /// Checks the code the requester entered. Wrong codes are VALIDATION errors with
    /// the attempts left; after five the request is rejected and the requester told.
    async fn confirm_email_verification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ConfirmEmailVerificationInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        payload(
            s.workflow()
                .confirm_email_verification(s.principal()?, id, &input.code)
                .await?,
        )
    }

    /// Staff verification with recorded evidence; starts collection (one task per
    /// mapped source).
    async fn verify_identity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: VerifyIdentityInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        payload(
            s.workflow()
                .verify_identity(
                    s.principal()?,
                    id,
                    Some(input.version),
                    input.method.into(),
                    input.evidence,
                )
                .await?,
        )
    }

    /// The identity could not be verified: the request is rejected and the requester told.
    async fn fail_verification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ReasonedTransitionInput,
    ) -> ApiResult<RequestPayload> {
        fire(
            ctx,
            &input.request_id,
            input.version,
            RequestEvent::FailVerification,
            Some(input.reason),
            None,
        )
        .await
    }

    /// Completes a task by hand with what the source holds (COLLECT tasks need
    /// request:collect, EXECUTE tasks request:execute).
    async fn complete_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CompleteTaskInput,
    ) -> ApiResult<TaskPayload> {
        let s = session(ctx)?;
        let task_id = ids::decode(&input.task_id, "RequestTask", &["input", "taskId"])?;
        let mut values = Vec::with_capacity(input.values.len());
        for (i, v) in input.values.into_iter().enumerate() {
            let field_id = v
                .field_id
                .map(|f| {
                    ids::decode(
                        &f,
                        "DataField",
                        &["input", "values", &i.to_string(), "fieldId"],
                    )
                })
                .transpose()?;
            values.push(rq::CollectedValue {
                field_id,
                location: v.location,
                value: v.value,
            });
        }
        let (task, request) = s
            .workflow()
            .complete_task(
                s.principal()?,
                task_id,
                rq::TaskOutcome::Done {
                    values,
                    note: input.note,
                },
            )
            .await?;
        Ok(TaskPayload {
            task: task.into(),
            request: request.into(),
        })
    }

    /// Completes a collection task with what a steward found, uploaded as JSON or CSV
    /// records (each checked against the source's recordSchema; every violation is
    /// reported at `input.content.<record>.<property>`) or as a file (request:collect;
    /// the request must be COLLECTING). Replaces what the task stored before.
    async fn upload_task_result(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UploadTaskResultInput,
    ) -> ApiResult<TaskPayload> {
        let s = session(ctx)?;
        let task_id = ids::decode(&input.task_id, "RequestTask", &["input", "taskId"])?;
        let upload = rq::TaskUpload {
            format: input.format.into(),
            content: input.content,
            file_name: input.file_name,
            media_type: input.media_type,
            note: input.note,
        };
        let (task, request) = s
            .workflow()
            .upload_task_result(s.principal()?, task_id, upload)
            .await?;
        Ok(TaskPayload {
            task: task.into(),
            request: request.into(),
        })
    }

    /// Marks a task failed; the request shows up in `stalledRequests` until it is done.
    async fn fail_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: FailTaskInput,
    ) -> ApiResult<TaskPayload> {
        let s = session(ctx)?;
        let task_id = ids::decode(&input.task_id, "RequestTask", &["input", "taskId"])?;
        let (task, request) = s
            .workflow()
            .complete_task(
                s.principal()?,
                task_id,
                rq::TaskOutcome::Failed { error: input.error },
            )
            .await?;
        Ok(TaskPayload {
            task: task.into(),
            request: request.into(),
        })
    }

    /// Dismisses a leak finding with a reason (request:review, while IN_REVIEW). To
    /// resolve a finding by leaving the data out, redact its value instead.
    async fn dismiss_leak_finding(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DismissLeakFindingInput,
    ) -> ApiResult<LeakFindingPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.finding_id, "LeakFinding", &["input", "findingId"])?;
        let (_, request) = s
            .workflow()
            .dismiss_leak_finding(s.principal()?, id, input.reason)
            .await?;
        let finding = s
            .workflow()
            .leak_findings_of_requests(s.principal()?, &[request.id])
            .await?
            .into_iter()
            .find(|f| f.finding.id == id)
            .ok_or(workflow::Error::NotFound {
                what: "leak finding",
            })?;
        Ok(LeakFindingPayload {
            finding: finding.into(),
            request: request.into(),
        })
    }

    /// Resolves several open leak findings of one request at once, all or none
    /// (request:review, while IN_REVIEW): REDACT leaves their data out of the answer,
    /// DISMISS keeps it with the reason. One version change and one timeline entry;
    /// each finding is audited. A finding id that is not an open finding of the
    /// request is a `VALIDATION` error at `input.findingIds.<index>`, and nothing is
    /// resolved.
    async fn resolve_leak_findings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ResolveLeakFindingsInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let request = ids::decode(&input.request_id, "SubjectRequest", &["input", "requestId"])?;
        let findings = input
            .finding_ids
            .iter()
            .enumerate()
            .map(|(i, id)| ids::decode(id, "LeakFinding", &["input", "findingIds", &i.to_string()]))
            .collect::<Result<Vec<_>, _>>()?;
        payload(
            s.workflow()
                .resolve_leak_findings(
                    s.principal()?,
                    request,
                    &findings,
                    input.resolution.into(),
                    input.reason,
                )
                .await?,
        )
    }

    /// Restarts an automatic collection task now, with fresh attempts: a FAILED or
    /// waiting one, or a DONE one, which searches its source again (after the
    /// reviewer requested changes, say); the new result replaces the earlier one, and
    /// redactions of values found again at the same place are kept (request:collect;
    /// the request must be COLLECTING).
    async fn retry_task(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RetryTaskInput,
    ) -> ApiResult<TaskPayload> {
        let s = session(ctx)?;
        let task_id = ids::decode(&input.task_id, "RequestTask", &["input", "taskId"])?;
        let (task, request) = s.workflow().retry_task(s.principal()?, task_id).await?;
        Ok(TaskPayload {
            task: task.into(),
            request: request.into(),
        })
    }

    /// Hands the collected answer to legal review; every collection task must be done.
    async fn submit_for_review(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: TransitionInput,
    ) -> ApiResult<RequestPayload> {
        fire(
            ctx,
            &input.request_id,
            input.version,
            RequestEvent::SubmitForReview,
            None,
            None,
        )
        .await
    }

    /// Resumes collection after the reviewer requested changes.
    async fn resume_collection(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: TransitionInput,
    ) -> ApiResult<RequestPayload> {
        fire(
            ctx,
            &input.request_id,
            input.version,
            RequestEvent::ResumeCollection,
            None,
            None,
        )
        .await
    }

    /// Claims a request in the review queue so that no other reviewer works on it.
    async fn claim_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RequestIdInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        payload(s.workflow().claim_request(s.principal()?, id).await?)
    }

    /// Releases your claim.
    async fn unclaim_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RequestIdInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        payload(s.workflow().unclaim_request(s.principal()?, id).await?)
    }

    /// Approves the answer (four-eyes: not by who collected or submitted it).
    /// Concurrent approvals: exactly one wins, the others get CONFLICT.
    async fn approve_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: TransitionInput,
    ) -> ApiResult<RequestPayload> {
        fire(
            ctx,
            &input.request_id,
            input.version,
            RequestEvent::Approve,
            None,
            None,
        )
        .await
    }

    /// Sends the request back with a comment (from IN_REVIEW or APPROVED).
    async fn request_changes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ReasonedTransitionInput,
    ) -> ApiResult<RequestPayload> {
        fire(
            ctx,
            &input.request_id,
            input.version,
            RequestEvent::RequestChanges,
            Some(input.reason),
            None,
        )
        .await
    }

    /// Refuses the request under Art. 12(5), with reasons the subject is told.
    async fn reject_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RejectRequestInput,
    ) -> ApiResult<RequestPayload> {
        fire(
            ctx,
            &input.request_id,
            input.version,
            RequestEvent::Reject,
            Some(input.reason),
            Some(input.ground.into()),
        )
        .await
    }

    /// A reviewer's comment on the timeline.
    async fn add_review_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: AddCommentInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        payload(
            s.workflow()
                .add_review_comment(s.principal()?, id, input.text)
                .await?,
        )
    }

    /// A comment on the timeline by whoever works on the request.
    async fn add_request_comment(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: AddCommentInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        payload(
            s.workflow()
                .add_request_comment(s.principal()?, id, input.text)
                .await?,
        )
    }

    /// Leaves a collected record out of the answer (applied when the answer is
    /// built). Only IN_REVIEW; changes the request's version. A record that is
    /// redacted already is a `CONFLICT`: withdraw that redaction first to give
    /// another reason.
    async fn redact_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RedactRecordInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.record_id, "CollectedRecord", &["input", "recordId"])?;
        payload(
            s.workflow()
                .redact_record(s.principal()?, id, Some(input.reason))
                .await?,
        )
    }

    /// Withdraws a redaction (the timeline keeps its reason). Only IN_REVIEW;
    /// changes the request's version. A record without a redaction is a
    /// `CONFLICT`.
    async fn unredact_record(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UnredactRecordInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.record_id, "CollectedRecord", &["input", "recordId"])?;
        payload(s.workflow().redact_record(s.principal()?, id, None).await?)
    }

    /// Starts carrying out an approved erasure, restriction or rectification: one
    /// execution task per mapped source.
    async fn start_execution(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: TransitionInput,
    ) -> ApiResult<RequestPayload> {
        fire(
            ctx,
            &input.request_id,
            input.version,
            RequestEvent::StartExecution,
            None,
            None,
        )
        .await
    }

    /// Closes a dispatched request.
    async fn close_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: TransitionInput,
    ) -> ApiResult<RequestPayload> {
        fire(
            ctx,
            &input.request_id,
            input.version,
            RequestEvent::Close,
            None,
            None,
        )
        .await
    }

    /// Cancels a request the subject withdrew (any open state).
    async fn cancel_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CancelRequestInput,
    ) -> ApiResult<RequestPayload> {
        fire(
            ctx,
            &input.request_id,
            input.version,
            RequestEvent::Cancel,
            input.reason,
            None,
        )
        .await
    }

    /// Assigns a request to an API key of the organization, or unassigns it.
    async fn assign_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: AssignRequestInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        let to = assignee(input.assignee_id.as_ref())?;
        payload(s.workflow().assign_request(s.principal()?, id, to).await?)
    }

    /// Extends the deadline by two further months (Art. 12(3)): once, before the
    /// original deadline ends, with reasons the subject is told.
    async fn extend_deadline(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ReasonedTransitionInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = request_id(&input.request_id)?;
        payload(
            s.workflow()
                .extend_deadline(s.principal()?, id, input.version, input.reason)
                .await?,
        )
    }

    /// Staff-verifies several requests; one result per request, none half-applied.
    async fn bulk_verify(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: BulkVerifyInput,
    ) -> ApiResult<BulkRequestPayload> {
        let s = session(ctx)?;
        let ids = request_ids(&input.request_ids)?;
        Ok(bulk(
            s.workflow()
                .bulk_verify(s.principal()?, &ids, input.method.into(), input.evidence)
                .await?,
        ))
    }

    /// Assigns several requests; one result per request.
    async fn bulk_assign(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: BulkAssignInput,
    ) -> ApiResult<BulkRequestPayload> {
        let s = session(ctx)?;
        let ids = request_ids(&input.request_ids)?;
        let to = assignee(input.assignee_id.as_ref())?;
        Ok(bulk(
            s.workflow().bulk_assign(s.principal()?, &ids, to).await?,
        ))
    }

    /// Cancels several requests; one result per request.
    async fn bulk_cancel(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: BulkCancelInput,
    ) -> ApiResult<BulkRequestPayload> {
        let s = session(ctx)?;
        let ids = request_ids(&input.request_ids)?;
        Ok(bulk(
            s.workflow()
                .bulk_cancel(s.principal()?, &ids, input.reason)
                .await?,
        ))
    }

    /// Changes how the organization runs requests (holidays, deadline start,
    /// excessive threshold, stall time, closed days, time zone, phone region).
    async fn update_request_settings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateRequestSettingsInput,
    ) -> ApiResult<RequestSettingsPayload> {
        let s = session(ctx)?;
        let patch = rq::RequestSettingsPatch {
            holiday_region: crate::graphql::inputs::register::patch(input.holiday_region)
                .map(|r| r.map(Into::into)),
            deadline_start: input.deadline_start.map(Into::into),
            excessive_threshold: input.excessive_threshold,
            stall_after_hours: input.stall_after_hours,
            purge_after_days: input.purge_after_days,
            closed_days: input
                .closed_days
                .map(|days| days.into_iter().map(|d| (d.day, d.note)).collect()),
            time_zone: input.time_zone,
            phone_region: input.phone_region,
        };
        let settings = s
            .workflow()
            .update_request_settings(s.principal()?, patch)
            .await?;
        Ok(RequestSettingsPayload {
            settings: settings.into(),
        })
    }
}
