use async_graphql::{Context, Object};
use workflow::register::{activities, fields, purposes, recipients, retention, sources, taxonomy};

use crate::graphql::types::register::{
    DataField, DataSource, ProcessingActivity, Purpose, Recipient, RetentionPolicy, Transfer,
};

use crate::error::ApiResult;
use crate::graphql::inputs::register::*;
use crate::graphql::{ids, session};

/// Keeping the register of processing activities.
#[derive(Default)]
pub struct RegisterMutation;

#[Object]
impl RegisterMutation {
    /// Adds a category of personal data under an existing parent.
    async fn create_data_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateDataCategoryInput,
    ) -> ApiResult<DataCategoryPayload> {
        let s = session(ctx)?;
        let new = taxonomy::NewDataCategory {
            key: input.key,
            name: input.name,
            description: input.description,
            sensitivity: input.sensitivity.into(),
        };
        let category = s
            .workflow()
            .create_data_category(s.principal()?, new)
            .await?;
        Ok(DataCategoryPayload {
            data_category: category.into(),
        })
    }

    /// Changes a data category's name, description or sensitivity.
    async fn update_data_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateDataCategoryInput,
    ) -> ApiResult<DataCategoryPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataCategory", &["input", "id"])?;
        let change = taxonomy::DataCategoryPatch {
            name: input.name,
            description: patch(input.description),
            sensitivity: input.sensitivity.map(Into::into),
        };
        let category = s
            .workflow()
            .update_data_category(s.principal()?, id, change)
            .await?;
        Ok(DataCategoryPayload {
            data_category: category.into(),
        })
    }

    /// Deletes a data category. CONFLICT while sub-categories exist.
    async fn delete_data_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataCategory", &["input", "id"])?;
        s.workflow()
            .delete_data_category(s.principal()?, id)
            .await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

    /// Adds a category of data subjects.
    async fn create_subject_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateSubjectCategoryInput,
    ) -> ApiResult<SubjectCategoryPayload> {
        let s = session(ctx)?;
        let new = taxonomy::NewSubjectCategory {
            key: input.key,
            name: input.name,
            description: input.description,
        };
        let category = s
            .workflow()
            .create_subject_category(s.principal()?, new)
            .await?;
        Ok(SubjectCategoryPayload {
            subject_category: category.into(),
        })
    }

    /// Changes a subject category's name or description.
    async fn update_subject_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateSubjectCategoryInput,
    ) -> ApiResult<SubjectCategoryPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "SubjectCategory", &["input", "id"])?;
        let change = taxonomy::SubjectCategoryPatch {
            name: input.name,
            description: patch(input.description),
        };
        let category = s
            .workflow()
            .update_subject_category(s.principal()?, id, change)
            .await?;
        Ok(SubjectCategoryPayload {
            subject_category: category.into(),
        })
    }

    /// Deletes a subject category.
    async fn delete_subject_category(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "SubjectCategory", &["input", "id"])?;
        s.workflow()
            .delete_subject_category(s.principal()?, id)
            .await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

    /// Adds a purpose with its legal basis.
    async fn create_purpose(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreatePurposeInput,
    ) -> ApiResult<PurposePayload> {
        let s = session(ctx)?;
        let draft = purposes::PurposeDraft {
            name: input.name,
            description: input.description,
            legal_basis: input.legal_basis.into(),
            legal_reference: input.legal_reference,
            balancing_test: input.balancing_test,
            special_category_condition: input.special_category_condition.map(Into::into),
        };
        let created = s.workflow().create_purpose(s.principal()?, draft).await?;
        Ok(PurposePayload {
            purpose: Purpose::from(created),
        })
    }

    /// Changes a purpose; the result must satisfy the rules of a new one.
    async fn update_purpose(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdatePurposeInput,
    ) -> ApiResult<PurposePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Purpose", &["input", "id"])?;
        let change = purposes::PurposePatch {
            name: input.name,
            description: patch(input.description),
            legal_basis: input.legal_basis.map(Into::into),
            legal_reference: patch(input.legal_reference),
            balancing_test: patch(input.balancing_test),
            special_category_condition: patch(input.special_category_condition)
                .map(|c| c.map(Into::into)),
        };
        let updated = s
            .workflow()
            .update_purpose(s.principal()?, id, change)
            .await?;
        Ok(PurposePayload {
            purpose: Purpose::from(updated),
        })
    }

    /// Deletes a purpose.
    async fn delete_purpose(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Purpose", &["input", "id"])?;
        s.workflow().delete_purpose(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

    /// Adds a retention policy.
    async fn create_retention_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateRetentionPolicyInput,
    ) -> ApiResult<RetentionPolicyPayload> {
        let s = session(ctx)?;
        let draft = retention::RetentionDraft {
            name: input.name,
            description: input.description,
            duration: input.duration,
            trigger: input.trigger.into(),
            trigger_description: input.trigger_description,
            legal_reference: input.legal_reference,
            action_at_expiry: input.action_at_expiry.into(),
        };
        let created = s
            .workflow()
            .create_retention_policy(s.principal()?, draft)
            .await?;
        Ok(RetentionPolicyPayload {
            retention_policy: RetentionPolicy::from(created),
        })
    }

    /// Changes a retention policy; the result must satisfy the rules of a new one.
    async fn update_retention_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateRetentionPolicyInput,
    ) -> ApiResult<RetentionPolicyPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "RetentionPolicy", &["input", "id"])?;
        let change = retention::RetentionPatch {
            name: input.name,
            description: patch(input.description),
            duration: input.duration,
            trigger: input.trigger.map(Into::into),
            trigger_description: patch(input.trigger_description),
            legal_reference: patch(input.legal_reference),
            action_at_expiry: input.action_at_expiry.map(Into::into),
        };
        let updated = s
            .workflow()
            .update_retention_policy(s.principal()?, id, change)
            .await?;
        Ok(RetentionPolicyPayload {
            retention_policy: RetentionPolicy::from(updated),
        })
    }

    /// Deletes a retention policy.
    async fn delete_retention_policy(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "RetentionPolicy", &["input", "id"])?;
        s.workflow()
            .delete_retention_policy(s.principal()?, id)
            .await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

    /// Adds a recipient of personal data.
    async fn create_recipient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateRecipientInput,
    ) -> ApiResult<RecipientPayload> {
        let s = session(ctx)?;
        let draft = recipients::RecipientDraft {
            name: input.name,
            kind: input.kind.into(),
            country: input.country,
            description: input.description,
            contract_reference: input.contract_reference,
            notice_email: input.notice_email,
        };
        let created = s.workflow().create_recipient(s.principal()?, draft).await?;
        Ok(RecipientPayload {
            recipient: Recipient::from(created),
        })
    }

    /// Changes a recipient.
    async fn update_recipient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateRecipientInput,
    ) -> ApiResult<RecipientPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Recipient", &["input", "id"])?;
        let change = recipients::RecipientPatch {
            name: input.name,
            kind: input.kind.map(Into::into),
            country: patch(input.country),
            description: patch(input.description),
            contract_reference: patch(input.contract_reference),
            notice_email: patch(input.notice_email),
        };
        let updated = s
            .workflow()
            .update_recipient(s.principal()?, id, change)
            .await?;
        Ok(RecipientPayload {
            recipient: Recipient::from(updated),
        })
    }

    /// Deletes a recipient. CONFLICT while transfers to it are recorded.
    async fn delete_recipient(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Recipient", &["input", "id"])?;
        s.workflow().delete_recipient(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

    /// Records a transfer to a recipient in a third country.
    async fn create_transfer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateTransferInput,
    ) -> ApiResult<TransferPayload> {
        let s = session(ctx)?;
        let recipient_id =
            ids::decode(&input.recipient_id, "Recipient", &["input", "recipientId"])?;
        let draft = recipients::TransferDraft {
            recipient_id,
            country: input.country,
            safeguard: input.safeguard.into(),
            safeguard_description: input.safeguard_description,
        };
        let created = s.workflow().create_transfer(s.principal()?, draft).await?;
        Ok(TransferPayload {
            transfer: Transfer::from(created),
        })
    }

    /// Changes a transfer's country or safeguard.
    async fn update_transfer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateTransferInput,
    ) -> ApiResult<TransferPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Transfer", &["input", "id"])?;
        let change = recipients::TransferPatch {
            country: input.country,
            safeguard: input.safeguard.map(Into::into),
            safeguard_description: patch(input.safeguard_description),
        };
        let updated = s
            .workflow()
            .update_transfer(s.principal()?, id, change)
            .await?;
        Ok(TransferPayload {
            transfer: Transfer::from(updated),
        })
    }

    /// Deletes a transfer.
    async fn delete_transfer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "Transfer", &["input", "id"])?;
        s.workflow().delete_transfer(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

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

    /// Adds a data source with its connector.
    async fn create_data_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateDataSourceInput,
    ) -> ApiResult<DataSourcePayload> {
        let s = session(ctx)?;
        let draft = sources::SourceDraft {
            name: input.name,
            description: input.description,
            owner: input.owner,
            country: input.country,
            processor_id: input
                .processor_id
                .map(|id| ids::decode(&id, "Recipient", &["input", "processorId"]))
                .transpose()?,
            connector_kind: input.connector_kind.into(),
            connector_config: input.connector_config.0,
        };
        let wf = s.workflow();
        let created = wf.create_data_source(s.principal()?, draft).await?;
        Ok(DataSourcePayload {
            data_source: DataSource::from(created),
        })
    }

    /// Changes a data source; secrets the new configuration omits are kept.
    async fn update_data_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateDataSourceInput,
    ) -> ApiResult<DataSourcePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataSource", &["input", "id"])?;
        let change = sources::SourcePatch {
            name: input.name,
            description: patch(input.description),
            owner: patch(input.owner),
            country: patch(input.country),
            processor_id: patch(input.processor_id)
                .map(|id| {
                    id.map(|id| ids::decode(&id, "Recipient", &["input", "processorId"]))
                        .transpose()
                })
                .transpose()?,
            connector_kind: input.connector_kind.map(Into::into),
            connector_config: input.connector_config.map(|c| c.0),
            clear_secrets: input.clear_secrets,
        };
        let wf = s.workflow();
        let updated = wf.update_data_source(s.principal()?, id, change).await?;
        Ok(DataSourcePayload {
            data_source: DataSource::from(updated),
        })
    }

    /// Deletes a data source.
    async fn delete_data_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataSource", &["input", "id"])?;
        s.workflow().delete_data_source(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }

    /// Turns suggestions of `inspectSource` into fields, in one transaction. The
    /// source is inspected again: a location that is not (or no longer) an unmapped
    /// column is a VALIDATION error naming its position; foreign keys to mapped or
    /// accepted columns become references. CONFLICT when the catalog cannot be read.
    async fn suggest_field_mappings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: SuggestFieldMappingsInput,
    ) -> ApiResult<SuggestFieldMappingsPayload> {
        let s = session(ctx)?;
        let source_id = ids::decode(&input.source_id, "DataSource", &["input", "sourceId"])?;
        let mut accepted = Vec::with_capacity(input.accept.len());
        for (i, a) in input.accept.into_iter().enumerate() {
            let path = ["input", "accept", &i.to_string(), "dataCategoryId"];
            accepted.push(workflow::register::drift::Accepted {
                location: a.location,
                data_category_id: a
                    .data_category_id
                    .map(|id| ids::decode(&id, "DataCategory", &path))
                    .transpose()?,
            });
        }
        let created = s
            .workflow()
            .suggest_field_mappings(s.principal()?, source_id, accepted)
            .await?;
        Ok(SuggestFieldMappingsPayload {
            data_fields: created.into_iter().map(DataField::from).collect(),
        })
    }

    /// Imports a register document (`registerExport(format: JSON)`) into this
    /// organization, whose register must be empty (CONFLICT otherwise). All or
    /// nothing, in one transaction; a bad row is a VALIDATION error with its path in
    /// the document. Controller details are taken over, the organization's name is
    /// kept; connector secrets must be entered again. Needs create permission on
    /// the register and on data sources.
    async fn import_register(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: ImportRegisterInput,
    ) -> ApiResult<crate::graphql::types::export::ImportRegisterPayload> {
        let s = session(ctx)?;
        let document: workflow::register::export::RegisterDocument =
            serde_json::from_value(input.document.0).map_err(|e| {
                crate::error::ApiError::from(workflow::Error::invalid(
                    &["input", "document"],
                    format!("not a register document: {e}"),
                ))
            })?;
        let summary = s
            .workflow()
            .import_register(s.principal()?, document)
            .await?;
        Ok(summary.into())
    }

    /// Maps where in a source a category of personal data lives.
    async fn create_data_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: CreateDataFieldInput,
    ) -> ApiResult<DataFieldPayload> {
        let s = session(ctx)?;
        let draft = fields::FieldDraft {
            source_id: ids::decode(&input.source_id, "DataSource", &["input", "sourceId"])?,
            location: input.location,
            description: input.description,
            data_category_id: input
                .data_category_id
                .map(|id| ids::decode(&id, "DataCategory", &["input", "dataCategoryId"]))
                .transpose()?,
            identifies_subject: input.identifies_subject,
            identity_type: input.identity_type.map(Into::into),
            references_id: input
                .references_id
                .map(|id| ids::decode(&id, "DataField", &["input", "referencesId"]))
                .transpose()?,
            erasure_strategy: input.erasure_strategy.into(),
        };
        let created = s
            .workflow()
            .create_data_field(s.principal()?, draft)
            .await?;
        Ok(DataFieldPayload {
            data_field: DataField::from(created),
        })
    }

    /// Changes a field mapping.
    async fn update_data_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: UpdateDataFieldInput,
    ) -> ApiResult<DataFieldPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataField", &["input", "id"])?;
        let optional_id =
            |value: async_graphql::MaybeUndefined<async_graphql::ID>, t: &str, f: &str| {
                patch(value)
                    .map(|id| id.map(|id| ids::decode(&id, t, &["input", f])).transpose())
                    .transpose()
            };
        let change = fields::FieldPatch {
            location: input.location,
            description: patch(input.description),
            data_category_id: optional_id(
                input.data_category_id,
                "DataCategory",
                "dataCategoryId",
            )?,
            identifies_subject: input.identifies_subject,
            identity_type: patch(input.identity_type).map(|t| t.map(Into::into)),
            references_id: optional_id(input.references_id, "DataField", "referencesId")?,
            erasure_strategy: input.erasure_strategy.map(Into::into),
        };
        let updated = s
            .workflow()
            .update_data_field(s.principal()?, id, change)
            .await?;
        Ok(DataFieldPayload {
            data_field: DataField::from(updated),
        })
    }

    /// Removes a field mapping. CONFLICT while other fields reference it.
    async fn delete_data_field(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: DeleteInput,
    ) -> ApiResult<DeletePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "DataField", &["input", "id"])?;
        s.workflow().delete_data_field(s.principal()?, id).await?;
        Ok(DeletePayload {
            deleted_id: input.id,
        })
    }
}
