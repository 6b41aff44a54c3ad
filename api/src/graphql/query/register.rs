use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::inputs::register::{
    DataCategoryFilter, DataFieldFilter, DataSourceFilter, ProcessingActivityFilter, PurposeFilter,
    RecipientFilter, RegisterFindingFilter,
};
use crate::graphql::loaders::{Prefetch, loaders};
use crate::graphql::types::drift::SourceInspection;
use crate::graphql::types::export::{RegisterExport, RegisterExportFormat};
use crate::graphql::types::register::{
    ConnectorSchema, DataCategory, DataCategoryConnection, DataField, DataFieldConnection,
    DataSource, DataSourceConnection, ProcessingActivity, ProcessingActivityConnection, Purpose,
    PurposeConnection, Recipient, RecipientConnection, RegisterFinding, RegisterFindingConnection,
    RetentionPolicy, RetentionPolicyConnection, SubjectCategory, SubjectCategoryConnection,
};
use crate::graphql::{ids, session};

/// Whether the connection's items select `field` (through `nodes` or `edges.node`).
fn selects(ctx: &Context<'_>, field: &str) -> bool {
    let ahead = ctx.look_ahead();
    ahead.field("nodes").field(field).exists()
        || ahead.field("edges").field("node").field(field).exists()
}

/// The register of processing activities (GDPR Art. 30).
#[derive(Default)]
pub struct RegisterQuery;

#[Object]
impl RegisterQuery {
    /// Categories of personal data, in creation order (the seeded taxonomy first).
    async fn data_categories(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<DataCategoryFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<DataCategoryConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default().into();
        let page = s
            .workflow()
            .data_categories(s.principal()?, &filter, &page)
            .await?;
        Ok(DataCategoryConnection::from_page(
            page,
            |c| c.id.to_string(),
            DataCategory::from,
        ))
    }

    /// Categories of data subjects, in creation order (the seeded taxonomy first).
    async fn subject_categories(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Case-insensitive part of the key or name, matched literally; at most 200 characters without control characters."
        )]
        search: Option<String>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<SubjectCategoryConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .subject_categories(s.principal()?, search.as_deref(), &page)
            .await?;
        Ok(SubjectCategoryConnection::from_page(
            page,
            |c| c.id.to_string(),
            SubjectCategory::from,
        ))
    }

    /// Purposes of processing with their legal basis, in creation order.
    async fn purposes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<PurposeFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<PurposeConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = workflow::register::purposes::PurposeFilter {
            search: filter.search,
            legal_basis: filter.legal_basis.map(Into::into),
        };
        let page = s
            .workflow()
            .purposes(s.principal()?, &filter, &page)
            .await?;
        let page = page.map(|m| (m.id.to_string(), Purpose::from(m)));
        Ok(PurposeConnection::from_page(
            page,
            |(k, _)| k.clone(),
            |(_, p)| p,
        ))
    }

    /// Retention policies, in creation order.
    async fn retention_policies(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Case-insensitive part of the name or legal reference, matched literally; at most 200 characters without control characters."
        )]
        search: Option<String>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<RetentionPolicyConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .retention_policies(s.principal()?, search.as_deref(), &page)
            .await?;
        let page = page.map(|m| (m.id.to_string(), RetentionPolicy::from(m)));
        Ok(RetentionPolicyConnection::from_page(
            page,
            |(k, _)| k.clone(),
            |(_, r)| r,
        ))
    }

    /// Recipients of personal data, in creation order.
    async fn recipients(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<RecipientFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<RecipientConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let filter = workflow::register::recipients::RecipientFilter {
            search: filter.search,
            kind: filter.kind.map(Into::into),
        };
        let page = s
            .workflow()
            .recipients(s.principal()?, &filter, &page)
            .await?;
        if selects(ctx, "transfers") {
            loaders(ctx)?
                .transfers
                .load_many(page.items.iter().map(|r| r.id))
                .await?;
        }
        let page = page.map(|m| (m.id.to_string(), Recipient::from(m)));
        Ok(RecipientConnection::from_page(
            page,
            |(k, _)| k.clone(),
            |(_, r)| r,
        ))
    }

    /// Processing activities of the register (Art. 30(1)), in creation order.
    async fn processing_activities(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<
            ProcessingActivityFilter,
        >,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<ProcessingActivityConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let f = filter.unwrap_or_default();
        let filter = workflow::register::activities::ActivityFilter {
            search: f.search,
            status: f.status.map(Into::into),
            legal_basis: f.legal_basis.map(Into::into),
            data_category_id: f
                .data_category_id
                .map(|id| ids::decode(&id, "DataCategory", &["filter", "dataCategoryId"]))
                .transpose()?,
            source_id: f
                .source_id
                .map(|id| ids::decode(&id, "DataSource", &["filter", "sourceId"]))
                .transpose()?,
            review_due_by: f.review_due_by,
        };
        let page = s
            .workflow()
            .processing_activities(s.principal()?, &filter, &page)
            .await?;
        // One query per selected relation for the whole page (see `loaders`), side
        // by side and without the batching delay.
        let ids: Vec<uuid::Uuid> = page.items.iter().map(|a| a.id).collect();
        let l = loaders(ctx)?;
        let mut loads: Vec<Prefetch<'_>> = Vec::new();
        macro_rules! by_activity {
            ($field:literal, $loader:ident) => {
                if selects(ctx, $field) {
                    let ids = ids.clone();
                    loads.push(Box::pin(l.prefetch(&l.$loader, ids)));
                }
            };
        }
        by_activity!("purposes", activity_purposes);
        by_activity!("dataCategories", activity_data_categories);
        by_activity!("subjectCategories", activity_subject_categories);
        by_activity!("recipients", activity_recipients);
        by_activity!("transfers", activity_transfers);
        by_activity!("sources", activity_sources);
        if selects(ctx, "retentionPolicy") {
            let policies: Vec<uuid::Uuid> = page
                .items
                .iter()
                .filter_map(|a| a.retention_policy_id)
                .collect();
            loads.push(Box::pin(l.prefetch(&l.retention_policy, policies)));
        }
        futures_util::future::try_join_all(loads).await?;
        let page = page.map(|m| (m.id.to_string(), ProcessingActivity::from(m)));
        Ok(ProcessingActivityConnection::from_page(
            page,
            |(k, _)| k.clone(),
            |(_, a)| a,
        ))
    }

    /// Data sources: the systems holding personal data, in creation order.
    async fn data_sources(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<DataSourceFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<DataSourceConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let f = filter.unwrap_or_default();
        let filter = workflow::register::sources::SourceFilter {
            search: f.search,
            connector_kind: f.connector_kind.map(Into::into),
        };
        let wf = s.workflow();
        let page = wf.data_sources(s.principal()?, &filter, &page).await?;
        let page = page.map(|m| (m.id.to_string(), DataSource::from(m)));
        Ok(DataSourceConnection::from_page(
            page,
            |(k, _)| k.clone(),
            |(_, d)| d,
        ))
    }

    /// Reads the live catalog of a POSTGRES, MYSQL or SQLITE source and compares it
    /// with the mapped fields: unmapped columns (with suggestions), vanished
    /// columns, undeclared foreign keys, unindexed lookup columns. Opens a
    /// connection with the stored credentials, so it needs the right to change
    /// sources. Other connector kinds are a VALIDATION error.
    async fn inspect_source(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The data source.")] id: async_graphql::ID,
    ) -> ApiResult<SourceInspection> {
        let s = session(ctx)?;
        let id = ids::decode(&id, "DataSource", &["id"])?;
        let inspection = s.workflow().inspect_source(s.principal()?, id).await?;
        Ok(SourceInspection::from(inspection))
    }

    /// A short-lived link (five minutes) to download the Art. 30 register in a
    /// format. Needs read permission on the register and on data sources; the
    /// file is rendered when the link is opened. CSV, XLSX and HTML speak the
    /// lawyer's language: headings, legal bases, safeguards and other codes by
    /// their labels, categories by name. JSON keeps the stored codes and keys (it
    /// is also the import format).
    async fn register_export(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file format.")] format: RegisterExportFormat,
        #[graphql(
            desc = "Language of a CSV, XLSX or HTML file (headings and labels); default: the organization's answer language."
        )]
        language: Option<crate::graphql::types::answer::AnswerLanguage>,
    ) -> ApiResult<RegisterExport> {
        let s = session(ctx)?;
        let link = s
            .workflow()
            .register_export_link(s.principal()?, format.into(), language.map(Into::into))
            .await?;
        let origin = ctx
            .data_opt::<crate::graphql::RequestOrigin>()
            .and_then(|o| o.0.clone())
            .unwrap_or_default();
        Ok(RegisterExport {
            url: format!("{origin}/exports/{}", link.token),
            format: link.format.into(),
            expires_at: link.expires_at,
        })
    }

    /// The JSON Schema of every connector kind, for rendering configuration forms.
    async fn connector_schemas(&self) -> Vec<ConnectorSchema> {
        use workflow::connectors::{ConnectorKind as K, connector_schema, secret_properties};
        K::ALL
            .iter()
            .map(|kind| ConnectorSchema {
                kind: (*kind).into(),
                schema: async_graphql::Json(connector_schema(*kind).clone()),
                secret_properties: secret_properties(*kind).to_vec(),
            })
            .collect()
    }

    /// Soft problems of the register (missing retention, overdue reviews, special
    /// data without DPIA, unprotected third-country recipients ...), most severe first.
    async fn register_findings(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<
            RegisterFindingFilter,
        >,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<RegisterFindingConnection> {
        let s = session(ctx)?;
        let filter = filter.unwrap_or_default();
        let (min_severity, as_of) = (filter.min_severity, filter.as_of);
        let page = ids::page_request(first, after, last, before)?;
        let findings = s
            .workflow()
            .register_findings(s.principal()?, as_of, min_severity.map(Into::into))
            .await?;
        let page = workflow::core::paging::page_in_memory(findings, &page)?;
        Ok(RegisterFindingConnection::from_page(
            page,
            |(k, _)| k.to_string(),
            |(_, f)| RegisterFinding::from(f),
        ))
    }

    /// Where personal data lives in the sources, in creation order.
    async fn data_fields(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Filters; all given ones must match.")] filter: Option<DataFieldFilter>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<DataFieldConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let f = filter.unwrap_or_default();
        let filter = workflow::register::fields::FieldFilter {
            source_id: f
                .source_id
                .map(|id| ids::decode(&id, "DataSource", &["filter", "sourceId"]))
                .transpose()?,
            data_category_id: f
                .data_category_id
                .map(|id| ids::decode(&id, "DataCategory", &["filter", "dataCategoryId"]))
                .transpose()?,
            identifies_subject: f.identifies_subject,
            search: f.search,
        };
        let page = s
            .workflow()
            .data_fields(s.principal()?, &filter, &page)
            .await?;
        if selects(ctx, "dataCategory") {
            loaders(ctx)?
                .data_category
                .load_many(page.items.iter().filter_map(|f| f.data_category_id))
                .await?;
        }
        let page = page.map(|m| (m.id.to_string(), DataField::from(m)));
        Ok(DataFieldConnection::from_page(
            page,
            |(k, _)| k.clone(),
            |(_, f)| f,
        ))
    }
}
