//! Register mutations: processing activities (Art. 30(1)).

use async_graphql::{Context, Object};
use workflow::register::activities;

use crate::graphql::types::register::ProcessingActivity;

use crate::error::ApiResult;
use crate::graphql::inputs::register::*;
use crate::graphql::{ids, session};

/// Processing activities (Art. 30(1)).
#[derive(Default)]
pub struct ActivityMutation;

#[Object]
impl ActivityMutation {
    /// Adds a processing activity with its purposes, categories, recipients,
    /// transfers and retention policy.
    async fn create_processing_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateProcessingActivityInput,
    ) -> ApiResult<ProcessingActivityPayload> {
        let s = session(ctx)?;
        let draft = activities::ActivityDraft {
            name: input.name,
            description: input.description,
            status: input.status.map(Into::into),
            owner: input.owner,
            tom_description: input.tom_description,
            automated_decision_making: input.automated_decision_making,
            automated_decision_logic: input.automated_decision_logic,
            dpia_required: input.dpia_required,
            dpia_reference: input.dpia_reference,
            retention_policy_id: input
                .retention_policy_id
                .map(|id| ids::decode(&id, "RetentionPolicy", &["input", "retentionPolicyId"]))
                .transpose()?,
            next_review_on: input.next_review_on,
            purpose_ids: decode_ids(&input.purpose_ids, "Purpose", "purposeIds")?,
            data_category_ids: decode_ids(
                &input.data_category_ids,
                "DataCategory",
                "dataCategoryIds",
            )?,
            subject_category_ids: decode_ids(
                &input.subject_category_ids,
                "SubjectCategory",
                "subjectCategoryIds",
            )?,
            recipient_ids: decode_ids(&input.recipient_ids, "Recipient", "recipientIds")?,
            transfer_ids: decode_ids(&input.transfer_ids, "Transfer", "transferIds")?,
            source_ids: decode_ids(&input.source_ids, "DataSource", "sourceIds")?,
        };
        let created = s
            .workflow()
            .create_processing_activity(s.principal()?, draft)
            .await?;
        Ok(ProcessingActivityPayload {
            processing_activity: ProcessingActivity::from(created),
        })
    }

    /// Changes a processing activity; the result must satisfy the rules of a new one.
    async fn update_processing_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateProcessingActivityInput,
    ) -> ApiResult<ProcessingActivityPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "ProcessingActivity", &["input", "id"])?;
        let list = |ids: Option<Vec<async_graphql::ID>>, t: &str, f: &str| {
            ids.map(|ids| decode_ids(&ids, t, f)).transpose()
        };
        let change = activities::ActivityPatch {
            name: input.name,
            description: patch(input.description),
            status: input.status.map(Into::into),
            owner: patch(input.owner),
            tom_description: patch(input.tom_description),
            automated_decision_making: input.automated_decision_making,
            automated_decision_logic: patch(input.automated_decision_logic),
            dpia_required: input.dpia_required,
            dpia_reference: patch(input.dpia_reference),
            retention_policy_id: patch(input.retention_policy_id)
                .map(|id| {
                    id.map(|id| {
                        ids::decode(&id, "RetentionPolicy", &["input", "retentionPolicyId"])
                    })
                    .transpose()
                })
                .transpose()?,
            next_review_on: patch(input.next_review_on),
            purpose_ids: list(input.purpose_ids, "Purpose", "purposeIds")?,
            data_category_ids: list(input.data_category_ids, "DataCategory", "dataCategoryIds")?,
            subject_category_ids: list(
                input.subject_category_ids,
                "SubjectCategory",
                "subjectCategoryIds",
            )?,
            recipient_ids: list(input.recipient_ids, "Recipient", "recipientIds")?,
            transfer_ids: list(input.transfer_ids, "Transfer", "transferIds")?,
            source_ids: list(input.source_ids, "DataSource", "sourceIds")?,
        };
        let updated = s
            .workflow()
            .update_processing_activity(s.principal()?, id, change)
            .await?;
        Ok(ProcessingActivityPayload {
            processing_activity: ProcessingActivity::from(updated),
        })
    }

    /// Deletes a processing activity and its links.
    async fn delete_processing_activity(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "ProcessingActivity", &["input", "id"])?;
        s.workflow()
            .delete_processing_activity(s.principal()?, id)
            .await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }
}
