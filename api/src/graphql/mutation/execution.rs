//! Mutations of rectification, restriction and objection: corrections proposed and
//! withdrawn before approval, restrictions lifted after.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::error::ApiResult;
use crate::graphql::inputs::requests::RequestPayload;
use crate::graphql::types::execution::{Correction, ProcessingRestriction};
use crate::graphql::types::requests::SubjectRequest;
use crate::graphql::{ids, session};

/// Input of `proposeCorrection`.
#[derive(InputObject, Debug)]
pub struct ProposeCorrectionInput {
    /// The RECTIFICATION request (global ID).
    pub request_id: ID,
    /// The field to correct (global ID), a field of the record's table.
    pub field_id: ID,
    /// The record, as collected for the request (`CollectedRecord.recordKey`,
    /// e.g. `customers(id=42)`).
    pub record_key: String,
    /// The corrected value, at most 10,000 characters. Written in the column's own
    /// type (a date as `2024-03-01`).
    pub value: String,
}

/// Result of `proposeCorrection`.
#[derive(SimpleObject)]
pub struct ProposeCorrectionPayload {
    /// The correction.
    pub correction: Correction,
}

/// Input of `withdrawCorrection`.
#[derive(InputObject, Debug)]
pub struct WithdrawCorrectionInput {
    /// The correction (global ID).
    pub correction_id: ID,
}

/// Input of `liftRestriction`.
#[derive(InputObject, Debug)]
pub struct LiftRestrictionInput {
    /// The RESTRICTION or OBJECTION request (global ID).
    pub request_id: ID,
    /// Why (Art. 18(2)/(3): e.g. the accuracy was verified; for an objection: the
    /// subject withdrew it, or compelling legitimate grounds under Art. 21(1));
    /// at most 2000 characters. The subject is told, with this reason.
    pub reason: String,
}

/// Result of `liftRestriction`.
#[derive(SimpleObject)]
pub struct LiftRestrictionPayload {
    /// The request's marks, now lifted.
    pub restrictions: Vec<ProcessingRestriction>,
    /// The request.
    pub request: SubjectRequest,
}

/// Corrections and restrictions.
#[derive(Default)]
pub struct ExecutionMutation;

#[Object]
impl ExecutionMutation {
    /// Records what the subject says is the correct value of a field of a record
    /// collected for a RECTIFICATION request (Art. 16), while it is COLLECTING,
    /// IN_REVIEW or CHANGES_REQUESTED; the reviewer approves the corrections with the
    /// request, and they are written to the sources when it is carried out. Proposing
    /// again for the same field and record replaces the value (the last one wins).
    /// Needs `request:update`. VALIDATION for a request of another kind, a record
    /// not collected for it, a field of another table, a declared reference or the
    /// field one points to (changing it would move records between people: correct
    /// those by hand), or an identifying value Auskunft knows as another person's;
    /// CONFLICT after approval.
    async fn propose_correction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request, field, record and corrected value.")]
        input: ProposeCorrectionInput,
    ) -> ApiResult<ProposeCorrectionPayload> {
        let s = session(ctx)?;
        let request_id = ids::decode(&input.request_id, "SubjectRequest", &["input", "requestId"])?;
        let field_id = ids::decode(&input.field_id, "DataField", &["input", "fieldId"])?;
        let correction = s
            .workflow()
            .propose_correction(
                s.principal()?,
                workflow::execution::NewCorrection {
                    request_id,
                    field_id,
                    record_key: input.record_key,
                    value: input.value,
                },
            )
            .await?;
        Ok(ProposeCorrectionPayload {
            correction: correction.into(),
        })
    }

    /// Withdraws a correction before approval (`request:update`); CONFLICT after.
    async fn withdraw_correction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The correction.")] input: WithdrawCorrectionInput,
    ) -> ApiResult<RequestPayload> {
        let s = session(ctx)?;
        let id = ids::decode(
            &input.correction_id,
            "Correction",
            &["input", "correctionId"],
        )?;
        let request = s.workflow().withdraw_correction(s.principal()?, id).await?;
        Ok(RequestPayload {
            request: request.into(),
        })
    }

    /// Lifts the restriction (or objection) a request put on the subject's records
    /// (`request:review`): campaign checks include the person again, the retention
    /// sweep treats the records as any other. The subject is told by e-mail first
    /// (Art. 18(3)), in the same transaction. CONFLICT while an execution task of the
    /// request is not done, or when nothing stands to lift.
    async fn lift_restriction(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request and the reason.")] input: LiftRestrictionInput,
    ) -> ApiResult<LiftRestrictionPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.request_id, "SubjectRequest", &["input", "requestId"])?;
        let (marks, request) = s
            .workflow()
            .lift_restriction(s.principal()?, id, &input.reason)
            .await?;
        Ok(LiftRestrictionPayload {
            restrictions: marks.into_iter().map(Into::into).collect(),
            request: request.into(),
        })
    }
}
