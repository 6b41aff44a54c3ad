//! Recipients of personal data (Art. 4(9), 30(1)(d)) and transfers to third countries
//! with their safeguards (Art. 30(1)(e), 44-49).

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{recipient, transfer};

use super::view::{RecipientView, TransferView};
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

stored_enum! {
    /// Who receives the data.
    RecipientKind {
        /// Another department of the controller.
        Internal => "INTERNAL",
        /// A processor acting on the controller's behalf (Art. 28).
        Processor => "PROCESSOR",
        /// A third party that decides on its own purposes (Art. 4(10)).
        ThirdParty => "THIRD_PARTY",
        /// A public authority (tax office, police, courts).
        PublicAuthority => "PUBLIC_AUTHORITY",
    }
}

stored_enum! {
    /// The ground on which a transfer to a third country is lawful.
    Safeguard {
        /// Art. 45: the Commission decided the country's protection is adequate.
        AdequacyDecision => "ADEQUACY_DECISION",
        /// Art. 46(2)(c): standard contractual clauses.
        StandardContractualClauses => "STANDARD_CONTRACTUAL_CLAUSES",
        /// Art. 47: binding corporate rules.
        BindingCorporateRules => "BINDING_CORPORATE_RULES",
        /// Art. 46(2)(e): an approved code of conduct.
        ApprovedCodeOfConduct => "APPROVED_CODE_OF_CONDUCT",
        /// Art. 46(2)(f): an approved certification mechanism.
        ApprovedCertification => "APPROVED_CERTIFICATION",
        /// Art. 49: a derogation for a specific situation (to be described).
        DerogationArt49 => "DEROGATION_ART49",
    }
}

/// Member states of the EEA (EU 27, Iceland, Liechtenstein, Norway): transfers there
/// are not third-country transfers.
pub const EEA: &[&str] = &[
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV",
    "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO",
];

/// A recipient as it will be stored.
#[derive(Debug, Clone)]
pub struct RecipientDraft {
    /// Name, unique in the organization.
    pub name: String,
    /// Kind.
    pub kind: RecipientKind,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Explanation.
    pub description: Option<String>,
    /// Contract, e.g. the data processing agreement.
    pub contract_reference: Option<String>,
    /// Where notices of erasure, rectification and restriction go (Art. 19); without
    /// it, a notice is a task for staff.
    pub notice_email: Option<String>,
}

/// A change to a recipient: `None` keeps, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct RecipientPatch {
    /// Name.
    pub name: Option<String>,
    /// Kind.
    pub kind: Option<RecipientKind>,
    /// Country.
    pub country: Option<Option<String>>,
    /// Explanation.
    pub description: Option<Option<String>>,
    /// Contract reference.
    pub contract_reference: Option<Option<String>>,
    /// Address for Art. 19 notices.
    pub notice_email: Option<Option<String>>,
}

/// A transfer as it will be stored.
#[derive(Debug, Clone)]
pub struct TransferDraft {
    /// The receiving recipient.
    pub recipient_id: Uuid,
    /// The third country (ISO 3166-1 alpha-2, outside the EEA).
    pub country: String,
    /// The ground of the transfer.
    pub safeguard: Safeguard,
    /// Details (decision, clauses module, derogation); required for Art. 49.
    pub safeguard_description: Option<String>,
}

/// A change to a transfer: `None` keeps, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct TransferPatch {
    /// Country.
    pub country: Option<String>,
    /// Safeguard.
    pub safeguard: Option<Safeguard>,
    /// Details.
    pub safeguard_description: Option<Option<String>>,
}

impl RecipientDraft {
    fn validated(self) -> Result<Self> {
        let mut v = Validator::default();
        let name = v.text(&self.name, &["input", "name"], 200);
        let country = self.country.map(|c| v.country(&c, &["input", "country"]));
        let description = v.optional_text(self.description, &["input", "description"], 5000);
        let contract_reference = v.optional_text(
            self.contract_reference,
            &["input", "contractReference"],
            300,
        );
        let notice_email = self.notice_email.and_then(|e| {
            let e = e.trim().to_owned();
            if e.is_empty() {
                return None;
            }
            match identity::email(&e) {
                Ok(canonical) => Some(canonical),
                Err(problem) => {
                    v.check(false, &["input", "noticeEmail"], problem.0);
                    None
                }
            }
        });
        v.finish()?;
        Ok(Self {
            name,
            country,
            description,
            contract_reference,
            notice_email,
            ..self
        })
    }
}

impl TransferDraft {
    fn validated(self) -> Result<Self> {
        let mut v = Validator::default();
        let country = v.country(&self.country, &["input", "country"]);
        v.check(
            !EEA.contains(&country.as_str()),
            &["input", "country"],
            format!("{country} is in the EEA: that is no third-country transfer"),
        );
        let safeguard_description = v.optional_text(
            self.safeguard_description,
            &["input", "safeguardDescription"],
            5000,
        );
        v.check(
            self.safeguard != Safeguard::DerogationArt49 || safeguard_description.is_some(),
            &["input", "safeguardDescription"],
            "name the Art. 49(1) derogation relied on and why it applies",
        );
        v.finish()?;
        Ok(Self {
            country,
            safeguard_description,
            ..self
        })
    }
}

fn recipient_state(r: &recipient::Model) -> serde_json::Value {
    json!({"name": r.name, "kind": r.kind, "country": r.country, "description": r.description,
           "contractReference": r.contract_reference, "noticeEmail": r.notice_email})
}

fn transfer_state(t: &transfer::Model) -> serde_json::Value {
    json!({"recipientId": t.recipient_id, "country": t.country, "safeguard": t.safeguard,
           "safeguardDescription": t.safeguard_description})
}

async fn find_recipient<C: Conn>(conn: &C, org_id: Uuid, id: Uuid) -> Result<recipient::Model> {
    use recipient::Column as C;
    super::find_in_org::<recipient::Entity, _>(conn, (C::OrgId, C::Id), org_id, id, "recipient")
        .await
}

async fn find_transfer<C: Conn>(conn: &C, org_id: Uuid, id: Uuid) -> Result<transfer::Model> {
    use transfer::Column as C;
    super::find_in_org::<transfer::Entity, _>(conn, (C::OrgId, C::Id), org_id, id, "transfer").await
}

async fn ensure_unique_name<C: Conn>(
    conn: &C,
    org_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    use recipient::Column as C;
    super::ensure_unique_name::<recipient::Entity, _>(
        conn,
        (C::OrgId, C::Name, C::Id),
        org_id,
        name,
        except,
        "recipient",
    )
    .await
}

/// Filters of the recipient listing.
#[derive(Debug, Clone, Default)]
pub struct RecipientFilter {
    /// Case-insensitive part of the name.
    pub search: Option<String>,
    /// Only this kind.
    pub kind: Option<RecipientKind>,
}

/// Checks and stores what `Workflow::create_recipient` adds, inside the caller's
/// transaction (the caller audits and commits).
pub(crate) async fn insert_recipient<C: Conn>(
    conn: &C,
    org_id: Uuid,
    draft: RecipientDraft,
) -> Result<recipient::Model> {
    let d = draft.validated()?;
    ensure_unique_name(conn, org_id, &d.name, None).await?;
    let at = now();
    let created = recipient::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(d.name),
        kind: Set(d.kind.as_str().to_owned()),
        country: Set(d.country),
        description: Set(d.description),
        contract_reference: Set(d.contract_reference),
        notice_email: Set(d.notice_email),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(created)
}

/// Checks and stores what `Workflow::create_transfer` adds, inside the caller's
/// transaction (the caller audits and commits).
pub(crate) async fn insert_transfer<C: Conn>(
    conn: &C,
    org_id: Uuid,
    draft: TransferDraft,
) -> Result<transfer::Model> {
    let d = draft.validated()?;
    find_recipient(conn, org_id, d.recipient_id).await?;
    let at = now();
    let created = transfer::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        recipient_id: Set(d.recipient_id),
        country: Set(d.country),
        safeguard: Set(d.safeguard.as_str().to_owned()),
        safeguard_description: Set(d.safeguard_description),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(created)
}

impl Workflow {
    /// Recipients of the organization, in creation order.
    pub async fn recipients(
        &self,
        principal: &Principal,
        filter: &RecipientFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<RecipientView>> {
        use recipient::Column as C;
        let mut select = recipient::Entity::find().filter(C::OrgId.eq(principal.org_id));
        select = crate::core::search::filter_contains(
            select,
            &[C::Name],
            filter.search.as_deref(),
            &["filter", "search"],
        )?;
        if let Some(kind) = filter.kind {
            select = select.filter(C::Kind.eq(kind.as_str()));
        }
        paginate(self.store.conn(), select, C::Id, page)
            .await?
            .try_map(RecipientView::try_from)
    }

    /// One recipient of the organization.
    pub async fn recipient(&self, principal: &Principal, id: Uuid) -> Result<RecipientView> {
        find_recipient(self.store.conn(), principal.org_id, id)
            .await?
            .try_into()
    }

    /// The organization's recipients with these ids, in one query (for DataLoaders).
    pub async fn recipients_by_ids(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<RecipientView>> {
        super::view::views(
            recipient::Entity::find()
                .filter(recipient::Column::OrgId.eq(principal.org_id))
                .filter(recipient::Column::Id.is_in(ids.iter().copied()))
                .all(self.store.conn())
                .await?,
        )
    }

    /// The transfers of these recipients, in one query (for DataLoaders).
    pub async fn transfers_of_recipients(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<TransferView>> {
        super::view::views(
            transfer::Entity::find()
                .filter(transfer::Column::OrgId.eq(principal.org_id))
                .filter(transfer::Column::RecipientId.is_in(ids.iter().copied()))
                .order_by_asc(transfer::Column::Id)
                .all(self.store.conn())
                .await?,
        )
    }

    /// Adds a recipient.
    #[tracing::instrument(skip(self, draft), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_recipient(
        &self,
        principal: &Principal,
        draft: RecipientDraft,
    ) -> Result<RecipientView> {
        let tx = self.store.begin().await?;
        let created = insert_recipient(tx.conn(), principal.org_id, draft).await?;
        let entry = Entry::success("createRecipient", "Recipient", created.id)
            .after(recipient_state(&created));
        self.commit_audited(tx, principal, entry).await?;
        created.try_into()
    }

    /// Changes a recipient.
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_recipient(
        &self,
        principal: &Principal,
        id: Uuid,
        patch: RecipientPatch,
    ) -> Result<RecipientView> {
        let tx = self.store.begin().await?;
        let existing = find_recipient(tx.conn(), principal.org_id, id).await?;
        let d = RecipientDraft {
            name: patch.name.unwrap_or_else(|| existing.name.clone()),
            kind: match patch.kind {
                Some(k) => k,
                None => existing.kind.parse()?,
            },
            country: patch.country.unwrap_or_else(|| existing.country.clone()),
            description: patch
                .description
                .unwrap_or_else(|| existing.description.clone()),
            contract_reference: patch
                .contract_reference
                .unwrap_or_else(|| existing.contract_reference.clone()),
            notice_email: patch
                .notice_email
                .unwrap_or_else(|| existing.notice_email.clone()),
        }
        .validated()?;
        ensure_unique_name(tx.conn(), principal.org_id, &d.name, Some(existing.id)).await?;
        let before = recipient_state(&existing);
        let mut active = existing.into_active_model();
        active.name = Set(d.name);
        active.kind = Set(d.kind.as_str().to_owned());
        active.country = Set(d.country);
        active.description = Set(d.description);
        active.contract_reference = Set(d.contract_reference);
        active.notice_email = Set(d.notice_email);
        active.updated_at = Set(now());
        let updated = active.update(tx.conn()).await?;
        let entry = Entry::success("updateRecipient", "Recipient", updated.id)
            .before(before)
            .after(recipient_state(&updated));
        self.commit_audited(tx, principal, entry).await?;
        updated.try_into()
    }

    /// Deletes a recipient; CONFLICT while transfers to it are recorded.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn delete_recipient(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let tx = self.store.begin().await?;
        let existing = find_recipient(tx.conn(), principal.org_id, id).await?;
        super::activities::ensure_unlinked::<entity::activity_recipient::Entity, _>(
            tx.conn(),
            entity::activity_recipient::Column::RecipientId,
            existing.id,
            |j| j.activity_id,
            &format!("recipient `{}`", existing.name),
        )
        .await?;
        let transfers = transfer::Entity::find()
            .filter(transfer::Column::RecipientId.eq(existing.id))
            .all(tx.conn())
            .await?;
        if !transfers.is_empty() {
            let countries: Vec<&str> = transfers.iter().map(|t| t.country.as_str()).collect();
            return Err(Error::Conflict(format!(
                "recipient `{}` still has {} transfer(s) (to {}): delete them first",
                existing.name,
                transfers.len(),
                countries.join(", ")
            )));
        }
        recipient::Entity::delete_by_id(existing.id)
            .exec(tx.conn())
            .await?;
        let entry = Entry::success("deleteRecipient", "Recipient", existing.id)
            .before(recipient_state(&existing));
        self.commit_audited(tx, principal, entry).await
    }

    /// One transfer of the organization.
    pub async fn transfer(&self, principal: &Principal, id: Uuid) -> Result<TransferView> {
        find_transfer(self.store.conn(), principal.org_id, id)
            .await?
            .try_into()
    }

    /// Records a transfer to a recipient in a third country.
    #[tracing::instrument(skip(self, draft), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_transfer(
        &self,
        principal: &Principal,
        draft: TransferDraft,
    ) -> Result<TransferView> {
        let tx = self.store.begin().await?;
        let created = insert_transfer(tx.conn(), principal.org_id, draft).await?;
        let entry = Entry::success("createTransfer", "Transfer", created.id)
            .after(transfer_state(&created));
        self.commit_audited(tx, principal, entry).await?;
        created.try_into()
    }

    /// Changes a transfer (the recipient is fixed).
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_transfer(
        &self,
        principal: &Principal,
        id: Uuid,
        patch: TransferPatch,
    ) -> Result<TransferView> {
        let tx = self.store.begin().await?;
        let existing = find_transfer(tx.conn(), principal.org_id, id).await?;
        let d = TransferDraft {
            recipient_id: existing.recipient_id,
            country: patch.country.unwrap_or_else(|| existing.country.clone()),
            safeguard: match patch.safeguard {
                Some(s) => s,
                None => existing.safeguard.parse()?,
            },
            safeguard_description: patch
                .safeguard_description
                .unwrap_or_else(|| existing.safeguard_description.clone()),
        }
        .validated()?;
        let before = transfer_state(&existing);
        let mut active = existing.into_active_model();
        active.country = Set(d.country);
        active.safeguard = Set(d.safeguard.as_str().to_owned());
        active.safeguard_description = Set(d.safeguard_description);
        active.updated_at = Set(now());
        let updated = active.update(tx.conn()).await?;
        let entry = Entry::success("updateTransfer", "Transfer", updated.id)
            .before(before)
            .after(transfer_state(&updated));
        self.commit_audited(tx, principal, entry).await?;
        updated.try_into()
    }

    /// Deletes a transfer.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn delete_transfer(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let tx = self.store.begin().await?;
        let existing = find_transfer(tx.conn(), principal.org_id, id).await?;
        super::activities::ensure_unlinked::<entity::activity_transfer::Entity, _>(
            tx.conn(),
            entity::activity_transfer::Column::TransferId,
            existing.id,
            |j| j.activity_id,
            &format!("the transfer to {}", existing.country),
        )
        .await?;
        transfer::Entity::delete_by_id(existing.id)
            .exec(tx.conn())
            .await?;
        let entry = Entry::success("deleteTransfer", "Transfer", existing.id)
            .before(transfer_state(&existing));
        self.commit_audited(tx, principal, entry).await
    }
}
