//! Register types: retention policies.

use super::*;

mirror_enum! {
    /// When a retention period starts.
    RetentionTrigger = workflow::register::retention::RetentionTrigger {
        /// When the data was collected.
        AfterCollection,
        /// After the last contact with the data subject.
        AfterLastContact,
        /// After the contract ended.
        AfterEndOfContract,
        /// At the end of the calendar year of the record (§ 257(5) HGB, § 147(4) AO).
        AfterEndOfCalendarYear,
        /// After consent was withdrawn.
        AfterConsentWithdrawn,
        /// Another event, described in `triggerDescription`.
        Other,
    }
}

mirror_enum! {
    /// What happens when a retention period ends.
    ExpiryAction = workflow::register::retention::ExpiryAction {
        /// The data is deleted.
        Delete,
        /// The data is anonymized.
        Anonymize,
        /// A person reviews whether it may be kept longer.
        Review,
    }
}

/// How long data is kept, from when, on what ground, and what happens then (Art.
/// 5(1)(e), 13(2)(a), 15(1)(d)).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct RetentionPolicy {
    /// Global ID.
    pub id: ID,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// The period as an ISO 8601 duration, e.g. `P10Y`.
    pub duration: String,
    /// When the period starts.
    pub trigger: RetentionTrigger,
    /// The starting event, when `trigger` is `OTHER`.
    pub trigger_description: Option<String>,
    /// Legal ground for keeping the data, e.g. `§ 147 AO`.
    pub legal_reference: Option<String>,
    /// What happens when the period ends.
    pub action_at_expiry: ExpiryAction,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
}

#[async_graphql::ComplexObject]
impl RetentionPolicy {
    /// The mapped timestamp fields whose latest value for a record starts the
    /// period; the retention sweep reads them (`setRetentionTriggerFields`). Empty:
    /// the policy is not swept.
    async fn trigger_fields(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<DataField>> {
        let s = crate::graphql::session(ctx)?;
        Ok(s.workflow()
            .retention_trigger_fields(s.principal()?, self.uuid)
            .await?
            .into_iter()
            .map(DataField::from)
            .collect())
    }
}

impl From<v::RetentionPolicyView> for RetentionPolicy {
    fn from(v: v::RetentionPolicyView) -> Self {
        Self {
            id: global_id("RetentionPolicy", v.id),
            uuid: v.id,
            trigger: v.trigger.into(),
            action_at_expiry: v.action_at_expiry.into(),
            name: v.name,
            description: v.description,
            duration: v.duration,
            trigger_description: v.trigger_description,
            legal_reference: v.legal_reference,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}
