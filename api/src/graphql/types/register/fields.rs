//! Register types: data fields: where each category of personal data lives.

use super::*;

mirror_enum! {
    /// What kind of identifier a field holds.
    IdentityType = workflow::register::fields::IdentityType {
        /// An e-mail address.
        Email,
        /// A phone number.
        Phone,
        /// A customer number.
        CustomerNumber,
        /// A postal address.
        PostalAddress,
        /// Another identifier (user name, member number ...).
        Other,
    }
}

mirror_enum! {
    /// How a field is erased when a data subject's erasure is carried out.
    ErasureStrategy = workflow::register::fields::ErasureStrategy {
        /// Delete the whole row.
        DeleteRow,
        /// Set the value to NULL.
        SetNull,
        /// Replace the value by a mask.
        Mask,
        /// Replace the value by a non-identifying one.
        Anonymize,
        /// Keep it under a legal hold (e.g. § 147 AO) and restrict its processing.
        KeepUnderHold,
    }
}

/// Where in a data source a category of personal data lives (`table.column`, a
/// JSON path, or a description for manual sources).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct DataField {
    /// Global ID.
    pub id: ID,
    /// Global ID of the source.
    pub source_id: ID,
    /// `table.column` (SQL), `$...` JSON path (HTTP), or a description (MANUAL).
    pub location: String,
    /// Explanation.
    pub description: Option<String>,
    /// Whether the field can be searched to find a data subject.
    pub identifies_subject: bool,
    /// The identifier kind, for identifying fields.
    pub identity_type: Option<IdentityType>,
    /// How the field is erased.
    pub erasure_strategy: ErasureStrategy,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub data_category_id: Option<uuid::Uuid>,
    #[graphql(skip)]
    pub references_id: Option<uuid::Uuid>,
    #[graphql(skip)]
    pub source_uuid: uuid::Uuid,
}

#[async_graphql::ComplexObject]
impl DataField {
    /// The category of the data (null: not categorized yet, a register finding).
    async fn data_category(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<DataCategory>> {
        let Some(id) = self.data_category_id else {
            return Ok(None);
        };
        let row = crate::graphql::loaders::loaders(ctx)?
            .data_category
            .load_one(id)
            .await?;
        Ok(row.map(DataCategory::from))
    }

    /// The data source it lives in.
    async fn source(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<DataSource>> {
        crate::graphql::types::requests::data_source(ctx, self.source_uuid).await
    }

    /// The field this one points to (e.g. `orders.customer_id` → `customers.id`).
    async fn references(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<DataField>> {
        let Some(id) = self.references_id else {
            return Ok(None);
        };
        let row = crate::graphql::loaders::loaders(ctx)?
            .data_field
            .load_one(id)
            .await?;
        Ok(row.map(DataField::from))
    }
}

impl From<v::DataFieldView> for DataField {
    fn from(v: v::DataFieldView) -> Self {
        Self {
            id: global_id("DataField", v.id),
            source_id: global_id("DataSource", v.source_id),
            identity_type: v.identity_type.map(Into::into),
            erasure_strategy: v.erasure_strategy.into(),
            data_category_id: v.data_category_id,
            references_id: v.references_id,
            source_uuid: v.source_id,
            location: v.location,
            description: v.description,
            identifies_subject: v.identifies_subject,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

crate::graphql::types::connection::connection!(
    DataFieldConnection,
    DataFieldEdge,
    DataField,
    "A page of data fields (Relay cursor connection).",
    "A data field with its cursor."
);
