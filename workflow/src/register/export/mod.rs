//! The Art. 30 register as a document: what a DPO hands to an auditor or a
//! supervisory authority (Art. 30(4)), as JSON, CSV, XLSX or printable HTML, and the
//! JSON form imported into an empty organization.
//!
//! Rows refer to each other by their natural keys (names, category keys, field
//! locations), never by database ids, so a document means the same in every
//! installation and an export of an import equals the original. Connector secrets
//! are never exported; they are entered again after an import.

mod import;
mod labels;
mod link;
mod render;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Query;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use entity::{
    activity_data_category, activity_purpose, activity_recipient, activity_source,
    activity_subject_category, activity_transfer, data_category, data_field, data_source,
    organization, processing_activity, purpose, recipient, retention_policy, subject_category,
    transfer,
};

pub use import::ImportSummary;
pub use link::ExportLink;

use crate::access::principal::Principal;
use crate::answer::Language;
use crate::core::store::Conn;
use crate::error::{Error, Result};
use crate::{Action, Object, Workflow, now};

/// The `format` marker of a register document.
pub const DOCUMENT_FORMAT: &str = "auskunft-register";
/// The version of the document layout this release writes and reads.
pub const DOCUMENT_VERSION: u32 = 1;

stored_enum! {
    /// A file format of the register export.
    ExportFormat {
        /// The register document (also the import format).
        Json => "JSON",
        /// One row per processing activity with every Art. 30(1) item.
        Csv => "CSV",
        /// A workbook: an overview sheet plus one sheet per entity.
        Xlsx => "XLSX",
        /// A printable HTML document.
        Html => "HTML",
    }
}

impl ExportFormat {
    /// File name extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Html => "html",
        }
    }

    /// MIME type.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Xlsx => {
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
            ExportFormat::Html => "text/html; charset=utf-8",
        }
    }
}

/// A contact person (DPO, EU representative).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactDoc {
    pub name: String,
    pub address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Art. 30(1)(a): the controller, its DPO and its representative.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ControllerDoc {
    pub name: String,
    pub address: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub data_protection_officer: Option<ContactDoc>,
    pub eu_representative: Option<ContactDoc>,
    pub supervisory_authority: Option<String>,
}

/// A category of personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataCategoryDoc {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    /// ORDINARY, SPECIAL_ART9 or CRIMINAL_ART10.
    pub sensitivity: String,
}

/// A category of data subjects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubjectCategoryDoc {
    pub key: String,
    pub name: String,
    pub description: Option<String>,
}

/// A purpose with its legal basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PurposeDoc {
    pub name: String,
    pub description: Option<String>,
    pub legal_basis: String,
    pub legal_reference: Option<String>,
    pub balancing_test: Option<String>,
    pub special_category_condition: Option<String>,
}

/// A retention policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RetentionPolicyDoc {
    pub name: String,
    pub description: Option<String>,
    pub duration: String,
    pub trigger: String,
    pub trigger_description: Option<String>,
    pub legal_reference: Option<String>,
    pub action_at_expiry: String,
}

/// A transfer to a third country, under its recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferDoc {
    pub country: String,
    pub safeguard: String,
    pub safeguard_description: Option<String>,
}

/// A recipient with its transfers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RecipientDoc {
    pub name: String,
    pub kind: String,
    pub country: Option<String>,
    pub description: Option<String>,
    pub contract_reference: Option<String>,
    /// Where Art. 19 notices go (absent in exports made before it existed).
    #[serde(default)]
    pub notice_email: Option<String>,
    pub transfers: Vec<TransferDoc>,
}

/// A mapped field of a source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataFieldDoc {
    pub location: String,
    pub description: Option<String>,
    /// Key of the data category.
    pub data_category: Option<String>,
    pub identifies_subject: bool,
    pub identity_type: Option<String>,
    /// Location of the referenced field in the same source.
    pub references: Option<String>,
    pub erasure_strategy: String,
}

/// A data source with its fields (connector secrets are not exported).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataSourceDoc {
    pub name: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub country: Option<String>,
    /// Name of the processor (a recipient) operating it.
    pub processor: Option<String>,
    pub connector_kind: String,
    pub connector_config: serde_json::Value,
    pub fields: Vec<DataFieldDoc>,
}

/// A transfer an activity uses: its recipient and country.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferRef {
    pub recipient: String,
    pub country: String,
}

/// A processing activity with every Art. 30(1) item, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ActivityDoc {
    pub name: String,
    pub description: Option<String>,
    pub status: String,
    pub owner: Option<String>,
    /// (b) purposes, by name.
    pub purposes: Vec<String>,
    /// (c) categories of data subjects, by key.
    pub subject_categories: Vec<String>,
    /// (c) categories of personal data, by key.
    pub data_categories: Vec<String>,
    /// (d) recipients, by name.
    pub recipients: Vec<String>,
    /// (e) transfers to third countries.
    pub transfers: Vec<TransferRef>,
    /// (f) retention policy, by name.
    pub retention_policy: Option<String>,
    /// (g) technical and organisational measures.
    pub tom_description: Option<String>,
    pub automated_decision_making: bool,
    pub automated_decision_logic: Option<String>,
    pub dpia_required: bool,
    pub dpia_reference: Option<String>,
    pub next_review_on: Option<NaiveDate>,
    /// Sources, by name.
    pub sources: Vec<String>,
}

/// The whole register of one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RegisterDocument {
    /// Always `auskunft-register`.
    pub format: String,
    /// Layout version (1).
    pub version: u32,
    /// When the document was produced.
    pub exported_at: DateTime<Utc>,
    pub controller: ControllerDoc,
    pub data_categories: Vec<DataCategoryDoc>,
    pub subject_categories: Vec<SubjectCategoryDoc>,
    pub purposes: Vec<PurposeDoc>,
    pub retention_policies: Vec<RetentionPolicyDoc>,
    pub recipients: Vec<RecipientDoc>,
    pub data_sources: Vec<DataSourceDoc>,
    pub processing_activities: Vec<ActivityDoc>,
}

/// A rendered export.
#[derive(Debug, Clone)]
pub struct ExportFile {
    /// File name to offer, e.g. `register-moebelhaus-2026-11-23.xlsx`.
    pub filename: String,
    /// MIME type.
    pub content_type: &'static str,
    /// The bytes.
    pub bytes: Vec<u8>,
}

async fn all_of<E, C>(
    conn: &C,
    org_col: E::Column,
    org_id: Uuid,
    order: E::Column,
) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    C: Conn,
{
    Ok(E::find()
        .filter(org_col.eq(org_id))
        .order_by_asc(order)
        .all(conn)
        .await?)
}

/// (activity id, target id) pairs of one join table for all activities of an
/// organization, in one query (a subquery, so no bind list grows with the register).
async fn pairs<J, C>(
    conn: &C,
    activity_col: J::Column,
    org_id: Uuid,
    pair: fn(&J::Model) -> (Uuid, Uuid),
) -> Result<Vec<(Uuid, Uuid)>>
where
    J: EntityTrait,
    C: Conn,
{
    let of_org = Query::select()
        .column(processing_activity::Column::Id)
        .from(processing_activity::Entity)
        .and_where(processing_activity::Column::OrgId.eq(org_id))
        .to_owned();
    Ok(J::find()
        .filter(activity_col.in_subquery(of_org))
        .all(conn)
        .await?
        .iter()
        .map(pair)
        .collect())
}

fn contact(
    name: &Option<String>,
    address: &Option<String>,
    email: &Option<String>,
    phone: &Option<String>,
) -> Option<ContactDoc> {
    name.as_ref().map(|name| ContactDoc {
        name: name.clone(),
        address: address.clone(),
        email: email.clone(),
        phone: phone.clone(),
    })
}

/// Names of the targets linked to `activity`, sorted.
fn linked_names(
    links: &[(Uuid, Uuid)],
    activity: Uuid,
    names: &HashMap<Uuid, String>,
) -> Vec<String> {
    let mut out: Vec<String> = links
        .iter()
        .filter(|(a, _)| *a == activity)
        .filter_map(|(_, t)| names.get(t).cloned())
        .collect();
    out.sort();
    out
}

/// Reads the register of an organization as a document.
pub(crate) async fn load<C: Conn>(conn: &C, org_id: Uuid) -> Result<RegisterDocument> {
    let org = organization::Entity::find_by_id(org_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound {
            what: "organization",
        })?;
    let categories = all_of::<data_category::Entity, _>(
        conn,
        data_category::Column::OrgId,
        org_id,
        data_category::Column::Key,
    )
    .await?;
    let subjects = all_of::<subject_category::Entity, _>(
        conn,
        subject_category::Column::OrgId,
        org_id,
        subject_category::Column::Key,
    )
    .await?;
    let purposes =
        all_of::<purpose::Entity, _>(conn, purpose::Column::OrgId, org_id, purpose::Column::Name)
            .await?;
    let retention = all_of::<retention_policy::Entity, _>(
        conn,
        retention_policy::Column::OrgId,
        org_id,
        retention_policy::Column::Name,
    )
    .await?;
    let recipients = all_of::<recipient::Entity, _>(
        conn,
        recipient::Column::OrgId,
        org_id,
        recipient::Column::Name,
    )
    .await?;
    let transfers = all_of::<transfer::Entity, _>(
        conn,
        transfer::Column::OrgId,
        org_id,
        transfer::Column::Country,
    )
    .await?;
    let sources = all_of::<data_source::Entity, _>(
        conn,
        data_source::Column::OrgId,
        org_id,
        data_source::Column::Name,
    )
    .await?;
    let fields = all_of::<data_field::Entity, _>(
        conn,
        data_field::Column::OrgId,
        org_id,
        data_field::Column::Location,
    )
    .await?;
    let activities = all_of::<processing_activity::Entity, _>(
        conn,
        processing_activity::Column::OrgId,
        org_id,
        processing_activity::Column::Name,
    )
    .await?;

    let category_keys: HashMap<Uuid, String> =
        categories.iter().map(|c| (c.id, c.key.clone())).collect();
    let subject_keys: HashMap<Uuid, String> =
        subjects.iter().map(|c| (c.id, c.key.clone())).collect();
    let purpose_names: HashMap<Uuid, String> =
        purposes.iter().map(|p| (p.id, p.name.clone())).collect();
    let recipient_names: HashMap<Uuid, String> =
        recipients.iter().map(|r| (r.id, r.name.clone())).collect();
    let source_names: HashMap<Uuid, String> =
        sources.iter().map(|s| (s.id, s.name.clone())).collect();
    let retention_names: HashMap<Uuid, String> =
        retention.iter().map(|r| (r.id, r.name.clone())).collect();
    let field_locations: HashMap<Uuid, String> =
        fields.iter().map(|f| (f.id, f.location.clone())).collect();
    let transfer_refs: HashMap<Uuid, TransferRef> = transfers
        .iter()
        .map(|t| {
            (
                t.id,
                TransferRef {
                    recipient: recipient_names
                        .get(&t.recipient_id)
                        .cloned()
                        .unwrap_or_default(),
                    country: t.country.clone(),
                },
            )
        })
        .collect();

    let a_purposes = pairs::<activity_purpose::Entity, _>(
        conn,
        activity_purpose::Column::ActivityId,
        org_id,
        |j| (j.activity_id, j.purpose_id),
    )
    .await?;
    let a_categories = pairs::<activity_data_category::Entity, _>(
        conn,
        activity_data_category::Column::ActivityId,
        org_id,
        |j| (j.activity_id, j.data_category_id),
    )
    .await?;
    let a_subjects = pairs::<activity_subject_category::Entity, _>(
        conn,
        activity_subject_category::Column::ActivityId,
        org_id,
        |j| (j.activity_id, j.subject_category_id),
    )
    .await?;
    let a_recipients = pairs::<activity_recipient::Entity, _>(
        conn,
        activity_recipient::Column::ActivityId,
        org_id,
        |j| (j.activity_id, j.recipient_id),
    )
    .await?;
    let a_transfers = pairs::<activity_transfer::Entity, _>(
        conn,
        activity_transfer::Column::ActivityId,
        org_id,
        |j| (j.activity_id, j.transfer_id),
    )
    .await?;
    let a_sources = pairs::<activity_source::Entity, _>(
        conn,
        activity_source::Column::ActivityId,
        org_id,
        |j| (j.activity_id, j.source_id),
    )
    .await?;

    Ok(RegisterDocument {
        format: DOCUMENT_FORMAT.to_owned(),
        version: DOCUMENT_VERSION,
        exported_at: now(),
        controller: ControllerDoc {
            data_protection_officer: contact(
                &org.dpo_name,
                &org.dpo_address,
                &org.dpo_email,
                &org.dpo_phone,
            ),
            eu_representative: contact(
                &org.representative_name,
                &org.representative_address,
                &org.representative_email,
                &org.representative_phone,
            ),
            name: org.name,
            address: org.address,
            country: org.country,
            email: org.email,
            phone: org.phone,
            supervisory_authority: org.supervisory_authority,
        },
        data_categories: categories
            .into_iter()
            .map(|c| DataCategoryDoc {
                key: c.key,
                name: c.name,
                description: c.description,
                sensitivity: c.sensitivity,
            })
            .collect(),
        subject_categories: subjects
            .into_iter()
            .map(|c| SubjectCategoryDoc {
                key: c.key,
                name: c.name,
                description: c.description,
            })
            .collect(),
        purposes: purposes
            .into_iter()
            .map(|p| PurposeDoc {
                name: p.name,
                description: p.description,
                legal_basis: p.legal_basis,
                legal_reference: p.legal_reference,
                balancing_test: p.balancing_test,
                special_category_condition: p.special_category_condition,
            })
            .collect(),
        retention_policies: retention
            .into_iter()
            .map(|r| RetentionPolicyDoc {
                name: r.name,
                description: r.description,
                duration: r.duration,
                trigger: r.trigger,
                trigger_description: r.trigger_description,
                legal_reference: r.legal_reference,
                action_at_expiry: r.action_at_expiry,
            })
            .collect(),
        recipients: recipients
            .into_iter()
            .map(|r| {
                let mut ts: Vec<TransferDoc> = transfers
                    .iter()
                    .filter(|t| t.recipient_id == r.id)
                    .map(|t| TransferDoc {
                        country: t.country.clone(),
                        safeguard: t.safeguard.clone(),
                        safeguard_description: t.safeguard_description.clone(),
                    })
                    .collect();
                ts.sort_by(|a, b| (&a.country, &a.safeguard).cmp(&(&b.country, &b.safeguard)));
                RecipientDoc {
                    name: r.name,
                    kind: r.kind,
                    country: r.country,
                    description: r.description,
                    contract_reference: r.contract_reference,
                    notice_email: r.notice_email,
                    transfers: ts,
                }
            })
            .collect(),
        data_sources: sources
            .into_iter()
            .map(|s| DataSourceDoc {
                fields: fields
                    .iter()
                    .filter(|f| f.source_id == s.id)
                    .map(|f| DataFieldDoc {
                        location: f.location.clone(),
                        description: f.description.clone(),
                        data_category: f
                            .data_category_id
                            .and_then(|id| category_keys.get(&id).cloned()),
                        identifies_subject: f.identifies_subject,
                        identity_type: f.identity_type.clone(),
                        references: f
                            .references_id
                            .and_then(|id| field_locations.get(&id).cloned()),
                        erasure_strategy: f.erasure_strategy.clone(),
                    })
                    .collect(),
                processor: s
                    .processor_id
                    .and_then(|id| recipient_names.get(&id).cloned()),
                name: s.name,
                description: s.description,
                owner: s.owner,
                country: s.country,
                connector_kind: s.connector_kind,
                connector_config: s.connector_config,
            })
            .collect(),
        processing_activities: activities
            .into_iter()
            .map(|a| {
                let mut transfers: Vec<TransferRef> = a_transfers
                    .iter()
                    .filter(|(x, _)| *x == a.id)
                    .filter_map(|(_, t)| transfer_refs.get(t).cloned())
                    .collect();
                transfers.sort();
                ActivityDoc {
                    purposes: linked_names(&a_purposes, a.id, &purpose_names),
                    subject_categories: linked_names(&a_subjects, a.id, &subject_keys),
                    data_categories: linked_names(&a_categories, a.id, &category_keys),
                    recipients: linked_names(&a_recipients, a.id, &recipient_names),
                    sources: linked_names(&a_sources, a.id, &source_names),
                    transfers,
                    retention_policy: a
                        .retention_policy_id
                        .and_then(|id| retention_names.get(&id).cloned()),
                    name: a.name,
                    description: a.description,
                    status: a.status,
                    owner: a.owner,
                    tom_description: a.tom_description,
                    automated_decision_making: a.automated_decision_making,
                    automated_decision_logic: a.automated_decision_logic,
                    dpia_required: a.dpia_required,
                    dpia_reference: a.dpia_reference,
                    next_review_on: a.next_review_on,
                }
            })
            .collect(),
    })
}

fn slug(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').chars().take(60).collect()
}

impl Workflow {
    /// The register as a document. Needs read permission on the register and on
    /// data sources (the document lists the sources and their fields).
    pub async fn register_document(&self, principal: &Principal) -> Result<RegisterDocument> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Register,
                Action::Read,
            )
            .await?;
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::DataSource,
                Action::Read,
            )
            .await?;
        load(self.store.conn(), principal.org_id).await
    }

    /// The register rendered in `format`; CSV, XLSX and HTML in `language`, by
    /// default the organization's answer language.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn export_register(
        &self,
        principal: &Principal,
        format: ExportFormat,
        language: Option<Language>,
    ) -> Result<ExportFile> {
        let doc = self.register_document(principal).await?;
        let language = match language {
            Some(l) => l,
            None => self.export_language(principal.org_id).await?,
        };
        file(doc, format, language)
    }

    /// The language an organization's exports speak when none is asked for: its
    /// answer language.
    async fn export_language(&self, org_id: Uuid) -> Result<Language> {
        let org = organization::Entity::find_by_id(org_id)
            .one(self.store.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "organization",
            })?;
        Ok(crate::answer::default_language(&org))
    }

    /// For the operator's CLI (database access, no API key): the register of the
    /// organization named `org`, or of the only organization when `org` is None.
    pub async fn export_register_of(
        &self,
        org: Option<&str>,
        format: ExportFormat,
        language: Option<Language>,
    ) -> Result<ExportFile> {
        let orgs = organization::Entity::find()
            .order_by_asc(organization::Column::Name)
            .all(self.store.conn())
            .await?;
        let names = || {
            orgs.iter()
                .map(|o| format!("`{}`", o.name))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let chosen = match org {
            Some(name) => orgs.iter().find(|o| o.name == name).ok_or_else(|| {
                Error::invalid(
                    &["org"],
                    format!("no organization named `{name}`; there are {}", names()),
                )
            })?,
            None if orgs.len() == 1 => &orgs[0],
            None if orgs.is_empty() => {
                return Err(Error::invalid(
                    &["org"],
                    "there is no organization yet (auskunft init --org NAME)",
                ));
            }
            None => {
                return Err(Error::invalid(
                    &["org"],
                    format!("name the organization with --org: {}", names()),
                ));
            }
        };
        let doc = load(self.store.conn(), chosen.id).await?;
        let language = language.unwrap_or_else(|| crate::answer::default_language(chosen));
        file(doc, format, language)
    }
}

fn file(doc: RegisterDocument, format: ExportFormat, language: Language) -> Result<ExportFile> {
    let bytes = render::render(&doc, format, language)?;
    Ok(ExportFile {
        filename: format!(
            "register-{}-{}.{}",
            slug(&doc.controller.name),
            doc.exported_at.format("%Y-%m-%d"),
            format.extension()
        ),
        content_type: format.content_type(),
        bytes,
    })
}
