//! Importing a register document into an organization whose register is empty,
//! in one transaction: every row passes the same checks as when it is created
//! through the API, and an error names the document path of the offending row.

use std::collections::HashMap;
use std::str::FromStr;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{
    data_category, data_source, organization, processing_activity, purpose, recipient,
    retention_policy, subject_category,
};

use super::{DOCUMENT_FORMAT, DOCUMENT_VERSION, RegisterDocument};
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::store::Conn;
use crate::error::{Error, FieldError, Result, Validator};
use crate::register::activities::{self, ActivityDraft};
use crate::register::fields::{self, FieldDraft};
use crate::register::purposes::{self, PurposeDraft};
use crate::register::recipients::{self, RecipientDraft, TransferDraft};
use crate::register::retention::{self, RetentionDraft};
use crate::register::sources::{self, SourceDraft};
use crate::register::taxonomy::{self, NewDataCategory, NewSubjectCategory, Sensitivity};
use crate::{Action, Object, Workflow, now};

/// What an import created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub data_categories: usize,
    pub subject_categories: usize,
    pub purposes: usize,
    pub retention_policies: usize,
    pub recipients: usize,
    pub transfers: usize,
    pub data_sources: usize,
    pub data_fields: usize,
    pub processing_activities: usize,
}

/// A path into the imported document: `input.document.<section>.<index>`.
fn at(section: &str, index: usize) -> Vec<String> {
    vec![
        "input".into(),
        "document".into(),
        section.into(),
        index.to_string(),
    ]
}

/// Re-roots a validation error of a single-row check (`input.name`) at the row of
/// the document it came from.
fn located(prefix: &[String], e: Error) -> Error {
    match e {
        Error::Validation(errors) => Error::Validation(
            errors
                .into_iter()
                .map(|f| FieldError {
                    path: prefix
                        .iter()
                        .cloned()
                        .chain(f.path.into_iter().skip_while(|p| p == "input"))
                        .collect(),
                    message: f.message,
                })
                .collect(),
        ),
        Error::NotFound { what } => Error::Validation(vec![FieldError {
            path: prefix.to_vec(),
            message: format!("refers to a {what} the document does not define"),
        }]),
        other => other,
    }
}

fn parse<T: FromStr<Err = Error>>(value: &str, prefix: &[String], field: &str) -> Result<T> {
    value.parse().map_err(|_| {
        let mut path = prefix.to_vec();
        path.push(field.into());
        Error::Validation(vec![FieldError {
            path,
            message: format!("unknown value `{value}`"),
        }])
    })
}

/// The id of `name` in `ids`, or VALIDATION at `prefix.field`.
fn lookup(
    ids: &HashMap<String, Uuid>,
    name: &str,
    prefix: &[String],
    field: &str,
    what: &str,
) -> Result<Uuid> {
    ids.get(name).copied().ok_or_else(|| {
        let mut path = prefix.to_vec();
        path.push(field.into());
        Error::Validation(vec![FieldError {
            path,
            message: format!("unknown {what} `{name}`"),
        }])
    })
}

fn lookup_all(
    ids: &HashMap<String, Uuid>,
    names: &[String],
    prefix: &[String],
    field: &str,
    what: &str,
) -> Result<Vec<Uuid>> {
    names
        .iter()
        .map(|n| lookup(ids, n, prefix, field, what))
        .collect()
}

/// CONFLICT unless the organization's register holds nothing but its taxonomy.
async fn ensure_empty<C: Conn>(conn: &C, org_id: Uuid) -> Result<()> {
    let counts = [
        (
            "processing activities",
            processing_activity::Entity::find()
                .filter(processing_activity::Column::OrgId.eq(org_id))
                .count(conn)
                .await?,
        ),
        (
            "purposes",
            purpose::Entity::find()
                .filter(purpose::Column::OrgId.eq(org_id))
                .count(conn)
                .await?,
        ),
        (
            "retention policies",
            retention_policy::Entity::find()
                .filter(retention_policy::Column::OrgId.eq(org_id))
                .count(conn)
                .await?,
        ),
        (
            "recipients",
            recipient::Entity::find()
                .filter(recipient::Column::OrgId.eq(org_id))
                .count(conn)
                .await?,
        ),
        (
            "data sources",
            data_source::Entity::find()
                .filter(data_source::Column::OrgId.eq(org_id))
                .count(conn)
                .await?,
        ),
    ];
    let held: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if held.is_empty() {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "a register is imported into an organization whose register is empty; this one holds {}",
            held.join(", ")
        )))
    }
}

/// Writes the controller details (not the name: organization names are unique in
/// an installation, and the importing organization keeps its own).
async fn import_controller<C: Conn>(conn: &C, org_id: Uuid, doc: &RegisterDocument) -> Result<()> {
    let c = &doc.controller;
    let mut v = Validator::default();
    const AT: [&str; 3] = ["input", "document", "controller"];
    let address = c
        .address
        .as_deref()
        .map(|a| v.multiline_text(a, &[AT[0], AT[1], AT[2], "address"], 1000));
    let country = c
        .country
        .as_deref()
        .map(|x| v.country(x, &[AT[0], AT[1], AT[2], "country"]));
    let email = c
        .email
        .as_deref()
        .map(|x| v.email(x, &[AT[0], AT[1], AT[2], "email"]));
    let phone = c
        .phone
        .as_deref()
        .map(|x| v.phone(x, &[AT[0], AT[1], AT[2], "phone"]));
    let authority = c
        .supervisory_authority
        .as_deref()
        .map(|x| v.text(x, &[AT[0], AT[1], AT[2], "supervisoryAuthority"], 300));
    let mut contact = |x: &Option<super::ContactDoc>, field: &str| {
        x.as_ref().map(|x| {
            (
                v.text(&x.name, &[AT[0], AT[1], AT[2], field, "name"], 200),
                x.address
                    .as_deref()
                    .map(|a| v.multiline_text(a, &[AT[0], AT[1], AT[2], field, "address"], 1000)),
                x.email
                    .as_deref()
                    .map(|e| v.email(e, &[AT[0], AT[1], AT[2], field, "email"])),
                x.phone
                    .as_deref()
                    .map(|ph| v.phone(ph, &[AT[0], AT[1], AT[2], field, "phone"])),
            )
        })
    };
    let dpo = contact(&c.data_protection_officer, "dataProtectionOfficer");
    let rep = contact(&c.eu_representative, "euRepresentative");
    v.finish()?;
    let org = organization::Entity::find_by_id(org_id)
        .one(conn)
        .await?
        .ok_or(Error::NotFound {
            what: "organization",
        })?;
    let mut active = org.into_active_model();
    active.address = Set(address);
    active.country = Set(country);
    active.email = Set(email);
    active.phone = Set(phone);
    active.supervisory_authority = Set(authority);
    let (n, a, e, ph) = dpo.map_or((None, None, None, None), |(n, a, e, p)| (Some(n), a, e, p));
    active.dpo_name = Set(n);
    active.dpo_address = Set(a);
    active.dpo_email = Set(e);
    active.dpo_phone = Set(ph);
    let (n, a, e, ph) = rep.map_or((None, None, None, None), |(n, a, e, p)| (Some(n), a, e, p));
    active.representative_name = Set(n);
    active.representative_address = Set(a);
    active.representative_email = Set(e);
    active.representative_phone = Set(ph);
    active.updated_at = Set(now());
    active.update(conn).await?;
    Ok(())
}

impl Workflow {
    /// Imports a register document into the principal's organization, whose
    /// register must be empty (CONFLICT otherwise). All or nothing: one transaction,
    /// one audit event. Needs create permission on the register and data sources.
    #[tracing::instrument(skip(self, doc), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn import_register(
        &self,
        principal: &Principal,
        doc: RegisterDocument,
    ) -> Result<ImportSummary> {
        for object in [Object::Register, Object::DataSource] {
            self.authz
                .require(principal.key_id, principal.org_id, object, Action::Create)
                .await?;
        }
        if doc.format != DOCUMENT_FORMAT || doc.version != DOCUMENT_VERSION {
            return Err(Error::invalid(
                &["input", "document", "format"],
                format!(
                    "expected format `{DOCUMENT_FORMAT}` version {DOCUMENT_VERSION}, got `{}` version {}",
                    doc.format, doc.version
                ),
            ));
        }
        let org_id = principal.org_id;
        let tx = self.store.begin().await?;
        let conn = tx.conn();
        ensure_empty(conn, org_id).await?;
        import_controller(conn, org_id, &doc).await?;
        let mut summary = ImportSummary::default();

        // Taxonomy: the document's categories replace the seeded ones (unused in an
        // empty register). Keys sort parents first.
        let mut category_docs = doc.data_categories.clone();
        category_docs.sort_by(|a, b| a.key.cmp(&b.key));
        let existing: HashMap<String, data_category::Model> = data_category::Entity::find()
            .filter(data_category::Column::OrgId.eq(org_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.key.clone(), c))
            .collect();
        let mut category_ids = HashMap::new();
        for (i, c) in category_docs.iter().enumerate() {
            let prefix = at("dataCategories", i);
            let sensitivity: Sensitivity = parse(&c.sensitivity, &prefix, "sensitivity")?;
            let id = match existing.get(&c.key) {
                Some(row) => {
                    if row.name != c.name
                        || row.description != c.description
                        || row.sensitivity != c.sensitivity
                    {
                        let mut active = row.clone().into_active_model();
                        active.name = Set(c.name.clone());
                        active.description = Set(c.description.clone());
                        active.sensitivity = Set(sensitivity.as_str().to_owned());
                        active.updated_at = Set(now());
                        active.update(conn).await?;
                    }
                    row.id
                }
                None => {
                    summary.data_categories += 1;
                    taxonomy::insert_data_category(
                        conn,
                        org_id,
                        NewDataCategory {
                            key: c.key.clone(),
                            name: c.name.clone(),
                            description: c.description.clone(),
                            sensitivity,
                        },
                    )
                    .await
                    .map_err(|e| located(&prefix, e))?
                    .id
                }
            };
            category_ids.insert(c.key.clone(), id);
        }
        let stale: Vec<Uuid> = existing
            .values()
            .filter(|c| !category_ids.contains_key(&c.key))
            .map(|c| c.id)
            .collect();
        if !stale.is_empty() {
            data_category::Entity::delete_many()
                .filter(data_category::Column::Id.is_in(stale))
                .exec(conn)
                .await?;
        }
        let existing: HashMap<String, subject_category::Model> = subject_category::Entity::find()
            .filter(subject_category::Column::OrgId.eq(org_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.key.clone(), c))
            .collect();
        let mut subject_ids = HashMap::new();
        for (i, c) in doc.subject_categories.iter().enumerate() {
            let id = match existing.get(&c.key) {
                Some(row) => {
                    if row.name != c.name || row.description != c.description {
                        let mut active = row.clone().into_active_model();
                        active.name = Set(c.name.clone());
                        active.description = Set(c.description.clone());
                        active.updated_at = Set(now());
                        active.update(conn).await?;
                    }
                    row.id
                }
                None => {
                    summary.subject_categories += 1;
                    taxonomy::insert_subject_category(
                        conn,
                        org_id,
                        NewSubjectCategory {
                            key: c.key.clone(),
                            name: c.name.clone(),
                            description: c.description.clone(),
                        },
                    )
                    .await
                    .map_err(|e| located(&at("subjectCategories", i), e))?
                    .id
                }
            };
            subject_ids.insert(c.key.clone(), id);
        }
        let stale: Vec<Uuid> = existing
            .values()
            .filter(|c| !subject_ids.contains_key(&c.key))
            .map(|c| c.id)
            .collect();
        if !stale.is_empty() {
            subject_category::Entity::delete_many()
                .filter(subject_category::Column::Id.is_in(stale))
                .exec(conn)
                .await?;
        }

        let mut purpose_ids = HashMap::new();
        for (i, p) in doc.purposes.iter().enumerate() {
            let prefix = at("purposes", i);
            let draft = PurposeDraft {
                name: p.name.clone(),
                description: p.description.clone(),
                legal_basis: parse(&p.legal_basis, &prefix, "legalBasis")?,
                legal_reference: p.legal_reference.clone(),
                balancing_test: p.balancing_test.clone(),
                special_category_condition: p
                    .special_category_condition
                    .as_deref()
                    .map(|c| parse(c, &prefix, "specialCategoryCondition"))
                    .transpose()?,
            };
            let row = purposes::insert_purpose(conn, org_id, draft)
                .await
                .map_err(|e| located(&prefix, e))?;
            purpose_ids.insert(row.name, row.id);
        }
        summary.purposes = purpose_ids.len();

        let mut retention_ids = HashMap::new();
        for (i, r) in doc.retention_policies.iter().enumerate() {
            let prefix = at("retentionPolicies", i);
            let draft = RetentionDraft {
                name: r.name.clone(),
                description: r.description.clone(),
                duration: r.duration.clone(),
                trigger: parse(&r.trigger, &prefix, "trigger")?,
                trigger_description: r.trigger_description.clone(),
                legal_reference: r.legal_reference.clone(),
                action_at_expiry: parse(&r.action_at_expiry, &prefix, "actionAtExpiry")?,
            };
            let row = retention::insert_retention_policy(conn, org_id, draft)
                .await
                .map_err(|e| located(&prefix, e))?;
            retention_ids.insert(row.name, row.id);
        }
        summary.retention_policies = retention_ids.len();

        let mut recipient_ids = HashMap::new();
        let mut transfer_ids: HashMap<(String, String), Uuid> = HashMap::new();
        for (i, r) in doc.recipients.iter().enumerate() {
            let prefix = at("recipients", i);
            let draft = RecipientDraft {
                name: r.name.clone(),
                kind: parse(&r.kind, &prefix, "kind")?,
                country: r.country.clone(),
                description: r.description.clone(),
                contract_reference: r.contract_reference.clone(),
                notice_email: r.notice_email.clone(),
            };
            let row = recipients::insert_recipient(conn, org_id, draft)
                .await
                .map_err(|e| located(&prefix, e))?;
            for (j, t) in r.transfers.iter().enumerate() {
                let mut tprefix = prefix.clone();
                tprefix.extend(["transfers".to_owned(), j.to_string()]);
                let draft = TransferDraft {
                    recipient_id: row.id,
                    country: t.country.clone(),
                    safeguard: parse(&t.safeguard, &tprefix, "safeguard")?,
                    safeguard_description: t.safeguard_description.clone(),
                };
                let created = recipients::insert_transfer(conn, org_id, draft)
                    .await
                    .map_err(|e| located(&tprefix, e))?;
                if transfer_ids
                    .insert((row.name.clone(), created.country.clone()), created.id)
                    .is_some()
                {
                    return Err(Error::invalid(
                        &tprefix.iter().map(String::as_str).collect::<Vec<_>>(),
                        "one transfer per recipient and country: activities refer to transfers by both",
                    ));
                }
                summary.transfers += 1;
            }
            recipient_ids.insert(row.name, row.id);
        }
        summary.recipients = recipient_ids.len();

        let mut source_ids = HashMap::new();
        for (i, s) in doc.data_sources.iter().enumerate() {
            let prefix = at("dataSources", i);
            let draft = SourceDraft {
                name: s.name.clone(),
                description: s.description.clone(),
                owner: s.owner.clone(),
                country: s.country.clone(),
                processor_id: s
                    .processor
                    .as_deref()
                    .map(|p| lookup(&recipient_ids, p, &prefix, "processor", "recipient"))
                    .transpose()?,
                connector_kind: parse(&s.connector_kind, &prefix, "connectorKind")?,
                connector_config: s.connector_config.clone(),
            };
            let (source, _) =
                sources::insert_data_source(conn, &self.cipher, &self.sources, org_id, draft)
                    .await
                    .map_err(|e| located(&prefix, e))?;
            // Referenced fields first; a pass without progress means a cycle or a
            // reference to a location the source does not map.
            let mut field_ids: HashMap<String, Uuid> = HashMap::new();
            let mut pending: Vec<(usize, &super::DataFieldDoc)> =
                s.fields.iter().enumerate().collect();
            while !pending.is_empty() {
                let (ready, waiting): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(_, f)| {
                    f.references
                        .as_ref()
                        .is_none_or(|r| field_ids.contains_key(r))
                });
                if ready.is_empty() {
                    let (j, f) = waiting[0];
                    let mut path = prefix.clone();
                    path.extend(["fields".to_owned(), j.to_string(), "references".to_owned()]);
                    return Err(Error::Validation(vec![FieldError {
                        path,
                        message: format!(
                            "`{}` refers to `{}`, which this source does not map, or the references form a cycle",
                            f.location,
                            f.references.as_deref().unwrap_or_default()
                        ),
                    }]));
                }
                for (j, f) in ready {
                    let mut fprefix = prefix.clone();
                    fprefix.extend(["fields".to_owned(), j.to_string()]);
                    let draft = FieldDraft {
                        source_id: source.id,
                        location: f.location.clone(),
                        description: f.description.clone(),
                        data_category_id: f
                            .data_category
                            .as_deref()
                            .map(|k| {
                                lookup(&category_ids, k, &fprefix, "dataCategory", "data category")
                            })
                            .transpose()?,
                        identifies_subject: f.identifies_subject,
                        identity_type: f
                            .identity_type
                            .as_deref()
                            .map(|t| parse(t, &fprefix, "identityType"))
                            .transpose()?,
                        references_id: f
                            .references
                            .as_ref()
                            .and_then(|r| field_ids.get(r).copied()),
                        erasure_strategy: parse(&f.erasure_strategy, &fprefix, "erasureStrategy")?,
                    };
                    let row = fields::insert_field(conn, org_id, draft)
                        .await
                        .map_err(|e| located(&fprefix, e))?;
                    field_ids.insert(row.location, row.id);
                    summary.data_fields += 1;
                }
                pending = waiting;
            }
            source_ids.insert(source.name, source.id);
        }
        summary.data_sources = source_ids.len();

        for (i, a) in doc.processing_activities.iter().enumerate() {
            let prefix = at("processingActivities", i);
            let draft = ActivityDraft {
                name: a.name.clone(),
                description: a.description.clone(),
                status: Some(parse(&a.status, &prefix, "status")?),
                owner: a.owner.clone(),
                tom_description: a.tom_description.clone(),
                automated_decision_making: a.automated_decision_making,
                automated_decision_logic: a.automated_decision_logic.clone(),
                dpia_required: a.dpia_required,
                dpia_reference: a.dpia_reference.clone(),
                retention_policy_id: a
                    .retention_policy
                    .as_deref()
                    .map(|r| {
                        lookup(
                            &retention_ids,
                            r,
                            &prefix,
                            "retentionPolicy",
                            "retention policy",
                        )
                    })
                    .transpose()?,
                next_review_on: a.next_review_on,
                purpose_ids: lookup_all(&purpose_ids, &a.purposes, &prefix, "purposes", "purpose")?,
                data_category_ids: lookup_all(
                    &category_ids,
                    &a.data_categories,
                    &prefix,
                    "dataCategories",
                    "data category",
                )?,
                subject_category_ids: lookup_all(
                    &subject_ids,
                    &a.subject_categories,
                    &prefix,
                    "subjectCategories",
                    "subject category",
                )?,
                recipient_ids: lookup_all(
                    &recipient_ids,
                    &a.recipients,
                    &prefix,
                    "recipients",
                    "recipient",
                )?,
                transfer_ids: a
                    .transfers
                    .iter()
                    .map(|t| {
                        transfer_ids
                            .get(&(t.recipient.clone(), t.country.clone()))
                            .copied()
                            .ok_or_else(|| {
                                let mut path = prefix.clone();
                                path.push("transfers".into());
                                Error::Validation(vec![FieldError {
                                    path,
                                    message: format!(
                                        "no transfer to {} recorded for `{}`",
                                        t.country, t.recipient
                                    ),
                                }])
                            })
                    })
                    .collect::<Result<_>>()?,
                source_ids: lookup_all(&source_ids, &a.sources, &prefix, "sources", "data source")?,
            };
            activities::insert_processing_activity(conn, org_id, draft)
                .await
                .map_err(|e| located(&prefix, e))?;
            summary.processing_activities += 1;
        }

        let entry = Entry::success("importRegister", "Organization", org_id).after(json!({
            "dataCategories": summary.data_categories, "subjectCategories": summary.subject_categories,
            "purposes": summary.purposes, "retentionPolicies": summary.retention_policies,
            "recipients": summary.recipients, "transfers": summary.transfers,
            "dataSources": summary.data_sources, "dataFields": summary.data_fields,
            "processingActivities": summary.processing_activities,
        }));
        self.commit_audited(tx, principal, entry).await?;
        Ok(summary)
    }
}
