//! Register types: processing activities (Art. 30(1)).

use super::*;

mirror_enum! {
    /// Where a processing activity stands.
    ActivityStatus = workflow::register::activities::ActivityStatus {
        /// Being prepared; the completeness rules do not apply yet.
        Draft,
        /// In force: needs purposes, data categories and subject categories.
        Active,
        /// No longer carried out; kept for the record.
        Retired,
    }
}

/// A processing activity (Art. 30(1)): what is done with personal data, for which
/// purposes and on which legal basis, about whom, shared with whom, kept how long,
/// protected how.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ProcessingActivity {
    /// Global ID.
    pub id: ID,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Where the activity stands.
    pub status: ActivityStatus,
    /// Responsible department or person.
    pub owner: Option<String>,
    /// Technical and organisational measures (Art. 30(1)(g), 32).
    pub tom_description: Option<String>,
    /// Whether decisions are made by automated means incl. profiling (Art. 22).
    pub automated_decision_making: bool,
    /// The logic involved, its significance and consequences (Art. 13(2)(f)).
    pub automated_decision_logic: Option<String>,
    /// Whether a data protection impact assessment is required (Art. 35).
    pub dpia_required: bool,
    /// Where the DPIA is documented.
    pub dpia_reference: Option<String>,
    /// When the activity is to be reviewed next.
    pub next_review_on: Option<chrono::NaiveDate>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
    #[graphql(skip)]
    pub retention_policy_id: Option<uuid::Uuid>,
}

#[async_graphql::ComplexObject]
impl ProcessingActivity {
    /// Purposes, each with its legal basis.
    async fn purposes(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<Purpose>> {
        convert_all(
            crate::graphql::loaders::loaders(ctx)?
                .activity_purposes
                .load_one(self.uuid)
                .await?,
        )
    }

    /// Categories of personal data processed.
    async fn data_categories(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<DataCategory>> {
        let rows = crate::graphql::loaders::loaders(ctx)?
            .activity_data_categories
            .load_one(self.uuid)
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(DataCategory::from)
            .collect())
    }

    /// Categories of data subjects concerned.
    async fn subject_categories(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<SubjectCategory>> {
        let rows = crate::graphql::loaders::loaders(ctx)?
            .activity_subject_categories
            .load_one(self.uuid)
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(SubjectCategory::from)
            .collect())
    }

    /// Recipients of the data.
    async fn recipients(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<Recipient>> {
        convert_all(
            crate::graphql::loaders::loaders(ctx)?
                .activity_recipients
                .load_one(self.uuid)
                .await?,
        )
    }

    /// Transfers to third countries.
    async fn transfers(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<Transfer>> {
        convert_all(
            crate::graphql::loaders::loaders(ctx)?
                .activity_transfers
                .load_one(self.uuid)
                .await?,
        )
    }

    /// Data sources the activity processes personal data from (needs read
    /// permission on data sources).
    async fn sources(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<DataSource>> {
        convert_all(
            crate::graphql::loaders::loaders(ctx)?
                .activity_sources
                .load_one(self.uuid)
                .await?,
        )
    }

    /// How long the data is kept (null: none recorded yet, a register finding).
    async fn retention_policy(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<RetentionPolicy>> {
        let Some(id) = self.retention_policy_id else {
            return Ok(None);
        };
        let row = crate::graphql::loaders::loaders(ctx)?
            .retention_policy
            .load_one(id)
            .await?;
        Ok(row.map(RetentionPolicy::from))
    }
}

impl From<v::ActivityView> for ProcessingActivity {
    fn from(v: v::ActivityView) -> Self {
        Self {
            id: global_id("ProcessingActivity", v.id),
            uuid: v.id,
            status: v.status.into(),
            retention_policy_id: v.retention_policy_id,
            name: v.name,
            description: v.description,
            owner: v.owner,
            tom_description: v.tom_description,
            automated_decision_making: v.automated_decision_making,
            automated_decision_logic: v.automated_decision_logic,
            dpia_required: v.dpia_required,
            dpia_reference: v.dpia_reference,
            next_review_on: v.next_review_on,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

crate::graphql::types::connection::connection!(
    ProcessingActivityConnection,
    ProcessingActivityEdge,
    ProcessingActivity,
    "A page of processing activities (Relay cursor connection).",
    "A processing activity with its cursor."
);
