use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use workflow::entity::subject_category;
use workflow::register::taxonomy;
use workflow::register::view as v;

use crate::graphql::ids::global_id;

/// How sensitive a category of personal data is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum Sensitivity {
    /// Ordinary personal data.
    Ordinary,
    /// Special categories of GDPR Art. 9 (health, religion, biometrics …): processing
    /// needs an Art. 9(2) condition besides an Art. 6 basis.
    #[graphql(name = "SPECIAL_ART9")]
    SpecialArt9,
    /// Criminal convictions and offences (GDPR Art. 10).
    #[graphql(name = "CRIMINAL_ART10")]
    CriminalArt10,
}

impl From<Sensitivity> for taxonomy::Sensitivity {
    fn from(s: Sensitivity) -> Self {
        match s {
            Sensitivity::Ordinary => Self::Ordinary,
            Sensitivity::SpecialArt9 => Self::SpecialArt9,
            Sensitivity::CriminalArt10 => Self::CriminalArt10,
        }
    }
}

impl From<taxonomy::Sensitivity> for Sensitivity {
    fn from(s: taxonomy::Sensitivity) -> Self {
        match s {
            taxonomy::Sensitivity::Ordinary => Self::Ordinary,
            taxonomy::Sensitivity::SpecialArt9 => Self::SpecialArt9,
            taxonomy::Sensitivity::CriminalArt10 => Self::CriminalArt10,
        }
    }
}

/// A category of personal data, keyed hierarchically (`contact.email` lies under
/// `contact`). Sub-categories are at least as sensitive as their parent.
#[derive(SimpleObject, Clone, Debug)]
pub struct DataCategory {
    /// Global ID.
    pub id: ID,
    /// Dot-separated key, unique in the organization; fixed once created.
    pub key: String,
    /// Key of the parent category (null at the top level).
    pub parent_key: Option<String>,
    /// Display name.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// How sensitive the data is.
    pub sensitivity: Sensitivity,
    /// Seeded from the shipped default taxonomy.
    pub is_default: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<v::DataCategoryView> for DataCategory {
    fn from(v: v::DataCategoryView) -> Self {
        Self {
            id: global_id("DataCategory", v.id),
            parent_key: v.parent_key,
            sensitivity: v.sensitivity.into(),
            key: v.key,
            name: v.name,
            description: v.description,
            is_default: v.is_default,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A category of data subjects (customers, employees, applicants …).
#[derive(SimpleObject, Clone, Debug)]
pub struct SubjectCategory {
    /// Global ID.
    pub id: ID,
    /// Key, unique in the organization; fixed once created.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Seeded from the shipped default taxonomy.
    pub is_default: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<subject_category::Model> for SubjectCategory {
    fn from(m: subject_category::Model) -> Self {
        Self {
            id: global_id("SubjectCategory", m.id),
            key: m.key,
            name: m.name,
            description: m.description,
            is_default: m.is_default,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

super::connection::connection!(
    DataCategoryConnection,
    DataCategoryEdge,
    DataCategory,
    "A page of data categories (Relay cursor connection).",
    "A data category with its cursor."
);
super::connection::connection!(
    SubjectCategoryConnection,
    SubjectCategoryEdge,
    SubjectCategory,
    "A page of subject categories (Relay cursor connection).",
    "A subject category with its cursor."
);

mirror_enum! {
    /// The legal bases of GDPR Art. 6(1).
    LegalBasis = workflow::register::purposes::LegalBasis {
        /// (a) The data subject has given consent.
        Consent,
        /// (b) Performance of a contract with the data subject, or steps before one.
        Contract,
        /// (c) A legal obligation of the controller; name the law in `legalReference`.
        LegalObligation,
        /// (d) Vital interests of the data subject or another person.
        VitalInterests,
        /// (e) A task in the public interest or official authority; name the law.
        PublicTask,
        /// (f) Legitimate interests, weighed against the subject's in `balancingTest`.
        LegitimateInterests,
    }
}

mirror_enum! {
    /// The conditions of GDPR Art. 9(2) for processing special categories of data.
    SpecialCategoryCondition = workflow::register::purposes::SpecialCategoryCondition {
        /// (a) Explicit consent.
        ExplicitConsent,
        /// (b) Employment, social security and social protection law.
        EmploymentSocialSecurity,
        /// (c) Vital interests where the subject cannot consent.
        VitalInterests,
        /// (d) Members of a not-for-profit body with a political, philosophical,
        /// religious or trade-union aim.
        NotForProfitBody,
        /// (e) Data the subject has manifestly made public.
        MadePublicBySubject,
        /// (f) Legal claims, or courts acting in their judicial capacity.
        LegalClaims,
        /// (g) Substantial public interest on the basis of law.
        SubstantialPublicInterest,
        /// (h) Preventive or occupational medicine, health or social care.
        HealthOrSocialCare,
        /// (i) Public health.
        PublicHealth,
        /// (j) Archiving in the public interest, research or statistics.
        ArchivingResearchStatistics,
    }
}

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

/// A purpose of processing and its legal basis (Art. 5(1)(b), 6(1), 9(2)); answers
/// to data subjects name it for every category of their data (Art. 15(1)(a)).
#[derive(SimpleObject, Clone, Debug)]
pub struct Purpose {
    /// Global ID.
    pub id: ID,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation in plain language, as shown to data subjects.
    pub description: Option<String>,
    /// The Art. 6(1) legal basis.
    pub legal_basis: LegalBasis,
    /// The law or contract relied on, e.g. `§ 147 AO`.
    pub legal_reference: Option<String>,
    /// The documented balancing test (for legitimate interests).
    pub balancing_test: Option<String>,
    /// The Art. 9(2) condition, where special categories are processed.
    pub special_category_condition: Option<SpecialCategoryCondition>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<v::PurposeView> for Purpose {
    fn from(v: v::PurposeView) -> Self {
        Self {
            id: global_id("Purpose", v.id),
            legal_basis: v.legal_basis.into(),
            special_category_condition: v.special_category_condition.map(Into::into),
            name: v.name,
            description: v.description,
            legal_reference: v.legal_reference,
            balancing_test: v.balancing_test,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
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

super::connection::connection!(
    PurposeConnection,
    PurposeEdge,
    Purpose,
    "A page of purposes (Relay cursor connection).",
    "A purpose with its cursor."
);
super::connection::connection!(
    RetentionPolicyConnection,
    RetentionPolicyEdge,
    RetentionPolicy,
    "A page of retention policies (Relay cursor connection).",
    "A retention policy with its cursor."
);

mirror_enum! {
    /// Who receives personal data.
    RecipientKind = workflow::register::recipients::RecipientKind {
        /// Another department of the controller.
        Internal,
        /// A processor acting on the controller's behalf (Art. 28).
        Processor,
        /// A third party deciding on its own purposes (Art. 4(10)).
        ThirdParty,
        /// A public authority (tax office, police, courts).
        PublicAuthority,
    }
}

mirror_enum! {
    /// The ground on which a transfer to a third country is lawful (Art. 45-49).
    Safeguard = workflow::register::recipients::Safeguard {
        /// Art. 45: an adequacy decision of the Commission.
        AdequacyDecision,
        /// Art. 46(2)(c): standard contractual clauses.
        StandardContractualClauses,
        /// Art. 47: binding corporate rules.
        BindingCorporateRules,
        /// Art. 46(2)(e): an approved code of conduct.
        ApprovedCodeOfConduct,
        /// Art. 46(2)(f): an approved certification mechanism.
        ApprovedCertification,
        /// Art. 49: a derogation for a specific situation, described in
        /// `safeguardDescription`.
        #[graphql(name = "DEROGATION_ART49")]
        DerogationArt49,
    }
}

/// A recipient of personal data (Art. 4(9)): named in answers to data subjects
/// (Art. 15(1)(c)) and in the register (Art. 30(1)(d)).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Recipient {
    /// Global ID.
    pub id: ID,
    /// Name, unique in the organization.
    pub name: String,
    /// Who the recipient is.
    pub kind: RecipientKind,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Explanation.
    pub description: Option<String>,
    /// The contract, e.g. the data processing agreement (Art. 28(3)).
    pub contract_reference: Option<String>,
    /// Where notices of erasure, rectification and restriction go (Art. 19).
    pub notice_email: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
}

#[async_graphql::ComplexObject]
impl Recipient {
    /// Transfers of data to this recipient in third countries.
    async fn transfers(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<Transfer>> {
        let rows = crate::graphql::loaders::loaders(ctx)?
            .transfers
            .load_one(self.uuid)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Transfer::from).collect())
    }
}

impl From<v::RecipientView> for Recipient {
    fn from(v: v::RecipientView) -> Self {
        Self {
            id: global_id("Recipient", v.id),
            uuid: v.id,
            kind: v.kind.into(),
            name: v.name,
            country: v.country,
            description: v.description,
            contract_reference: v.contract_reference,
            notice_email: v.notice_email,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A transfer of personal data to a recipient in a third country, with its safeguard
/// (Art. 15(2), 30(1)(e), 44-49).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Transfer {
    /// Global ID.
    pub id: ID,
    /// The third country (ISO 3166-1 alpha-2).
    pub country: String,
    /// The ground of the transfer.
    pub safeguard: Safeguard,
    /// Details: the decision, the clauses, or the Art. 49 derogation and why it applies.
    pub safeguard_description: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub recipient_id: uuid::Uuid,
}

#[async_graphql::ComplexObject]
impl Transfer {
    /// The receiving recipient.
    async fn recipient(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Recipient> {
        let row = crate::graphql::loaders::loaders(ctx)?
            .recipient
            .load_one(self.recipient_id)
            .await?
            .ok_or_else(|| {
                crate::error::ApiError::from(workflow::Error::NotFound { what: "recipient" })
            })?;
        Ok(Recipient::from(row))
    }
}

impl From<v::TransferView> for Transfer {
    fn from(v: v::TransferView) -> Self {
        Self {
            id: global_id("Transfer", v.id),
            safeguard: v.safeguard.into(),
            recipient_id: v.recipient_id,
            country: v.country,
            safeguard_description: v.safeguard_description,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

super::connection::connection!(
    RecipientConnection,
    RecipientEdge,
    Recipient,
    "A page of recipients (Relay cursor connection).",
    "A recipient with its cursor."
);

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

fn convert_all<M, T: From<M>>(rows: Option<Vec<M>>) -> crate::error::ApiResult<Vec<T>> {
    Ok(rows.unwrap_or_default().into_iter().map(T::from).collect())
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

super::connection::connection!(
    ProcessingActivityConnection,
    ProcessingActivityEdge,
    ProcessingActivity,
    "A page of processing activities (Relay cursor connection).",
    "A processing activity with its cursor."
);

mirror_enum! {
    /// How Auskunft reaches a data source.
    ConnectorKind = workflow::connectors::ConnectorKind {
        /// A PostgreSQL database.
        Postgres,
        /// A MySQL or MariaDB database.
        Mysql,
        /// A SQLite database file.
        Sqlite,
        /// An HTTP JSON API (CRM, newsletter tool, ticket system).
        Http,
        /// Searched by a person (mailbox, paper files).
        Manual,
    }
}

/// The JSON Schema of a connector kind's configuration, for rendering forms.
/// Properties marked `writeOnly` are secrets.
#[derive(SimpleObject, Clone, Debug)]
pub struct ConnectorSchema {
    /// The connector kind.
    pub kind: ConnectorKind,
    /// The JSON Schema (draft 2020-12) its `connectorConfig` must satisfy.
    pub schema: async_graphql::Json<serde_json::Value>,
    /// Names of the secret properties (write-only).
    pub secret_properties: Vec<String>,
}

/// A system that holds personal data (shop database, CRM, invoicing, newsletter
/// tool, mailbox) and how Auskunft reaches it.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct DataSource {
    /// Global ID.
    pub id: ID,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Responsible team or person.
    pub owner: Option<String>,
    /// Where the data is stored (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// How Auskunft reaches it.
    pub connector_kind: ConnectorKind,
    /// The connector configuration without its secrets.
    pub connector_config: async_graphql::Json<serde_json::Value>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub processor_id: Option<uuid::Uuid>,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
    /// The sealed secrets, decrypted only when `secretsSet` is selected.
    #[graphql(skip)]
    pub sealed_secrets: Option<String>,
}

#[async_graphql::ComplexObject]
impl DataSource {
    /// Names of the secrets stored for it (their values are never returned).
    async fn secrets_set(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<String>> {
        Ok(crate::graphql::session(ctx)?
            .workflow()
            .data_source_secret_names(self.sealed_secrets.as_deref())?)
    }

    /// Where in this source personal data lives, in creation order.
    async fn fields(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<DataField>> {
        let rows = crate::graphql::loaders::loaders(ctx)?
            .source_fields
            .load_one(self.uuid)
            .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(DataField::from)
            .collect())
    }

    /// The identifiers this source is searched by: for SQL and MANUAL sources the
    /// kinds of its identifying fields, for HTTP sources the kinds of its search
    /// templates (`connectorConfig.search[].identityType`; an identity kind without a
    /// template is never sent to the source).
    async fn identity_keys(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<IdentityType>> {
        let rows = crate::graphql::loaders::loaders(ctx)?
            .source_fields
            .load_one(self.uuid)
            .await?;
        let keys = workflow::register::fields::identity_keys(
            self.connector_kind.into(),
            &self.connector_config.0,
            &rows.unwrap_or_default(),
        );
        Ok(keys.into_iter().map(Into::into).collect())
    }

    /// The processor operating the system (Art. 28), if any.
    async fn processor(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<Recipient>> {
        let Some(id) = self.processor_id else {
            return Ok(None);
        };
        let row = crate::graphql::loaders::loaders(ctx)?
            .recipient
            .load_one(id)
            .await?;
        Ok(row.map(Recipient::from))
    }
}

impl From<v::DataSourceView> for DataSource {
    fn from(v: v::DataSourceView) -> Self {
        Self {
            id: global_id("DataSource", v.id),
            uuid: v.id,
            connector_kind: v.connector_kind.into(),
            connector_config: async_graphql::Json(v.connector_config),
            processor_id: v.processor_id,
            sealed_secrets: v.sealed_secrets,
            name: v.name,
            description: v.description,
            owner: v.owner,
            country: v.country,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

super::connection::connection!(
    DataSourceConnection,
    DataSourceEdge,
    DataSource,
    "A page of data sources (Relay cursor connection).",
    "A data source with its cursor."
);

mirror_enum! {
    /// How urgent a register finding is.
    FindingSeverity = workflow::register::findings::Severity {
        /// Worth knowing; no legal gap by itself.
        Info,
        /// Likely a gap in the register or in compliance.
        Warning,
        /// A clear gap to close.
        Error,
    }
}

mirror_enum! {
    /// What kind of problem a register finding is.
    FindingKind = workflow::register::findings::FindingKind {
        /// An activity names no retention policy (Art. 30(1)(f)).
        ActivityWithoutRetention,
        /// An activity's review date has passed.
        ReviewOverdue,
        /// Special-category or criminal-offence data without the DPIA flag (Art. 35(3)(b)).
        SpecialDataWithoutDpia,
        /// Automated decision-making without the DPIA flag (Art. 35(3)(a)).
        AutomatedDecisionsWithoutDpia,
        /// An active activity sends data to a recipient outside the EEA without a
        /// recorded transfer and safeguard (Art. 44-49).
        ThirdCountryRecipientWithoutTransfer,
        /// A recipient that no activity uses.
        RecipientWithoutActivity,
        /// A purpose that no activity uses.
        PurposeWithoutActivity,
        /// Controller details needed for the register and for answers are missing.
        ControllerDetailsIncomplete,
        /// A data source with no mapped fields: collection cannot search it.
        SourceWithoutFields,
        /// A field without a data category: answers cannot explain it.
        FieldWithoutCategory,
        /// A data category held in a source but named by no activity: it would appear
        /// in an answer without a purpose or legal basis.
        CategoryWithoutActivity,
    }
}

/// A soft problem of the register, for the DPO's dashboard.
#[derive(SimpleObject, Clone, Debug)]
pub struct RegisterFinding {
    /// What kind of problem.
    pub kind: FindingKind,
    /// How urgent.
    pub severity: FindingSeverity,
    /// What is wrong and how to fix it.
    pub message: String,
    /// Type of the object to fix (`ProcessingActivity`, `Recipient`, ...).
    pub object_type: String,
    /// Global ID of the object to fix (fetch it with `node`).
    pub object_id: ID,
}

impl From<workflow::register::findings::Finding> for RegisterFinding {
    fn from(f: workflow::register::findings::Finding) -> Self {
        Self {
            kind: f.kind.into(),
            severity: f.severity.into(),
            message: f.message,
            object_type: f.object_type.to_owned(),
            object_id: global_id(f.object_type, f.object_id),
        }
    }
}

super::connection::connection!(
    RegisterFindingConnection,
    RegisterFindingEdge,
    RegisterFinding,
    "A page of register findings, most severe first (Relay cursor connection).",
    "A register finding with its cursor."
);

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
            location: v.location,
            description: v.description,
            identifies_subject: v.identifies_subject,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

super::connection::connection!(
    DataFieldConnection,
    DataFieldEdge,
    DataField,
    "A page of data fields (Relay cursor connection).",
    "A data field with its cursor."
);
