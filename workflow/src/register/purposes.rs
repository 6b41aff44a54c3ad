//! Purposes of processing and their legal basis: all six bases of Art. 6(1), the
//! documented balancing test for legitimate interests, the legal reference for legal
//! obligations and public tasks, and the Art. 9(2) condition for special categories.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::purpose;

use super::view::PurposeView;
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

stored_enum! {
    /// The legal bases of GDPR Art. 6(1).
    LegalBasis {
        /// (a) consent of the data subject.
        Consent => "CONSENT",
        /// (b) performance of a contract or steps before entering into one.
        Contract => "CONTRACT",
        /// (c) compliance with a legal obligation.
        LegalObligation => "LEGAL_OBLIGATION",
        /// (d) vital interests of a natural person.
        VitalInterests => "VITAL_INTERESTS",
        /// (e) a task in the public interest or official authority.
        PublicTask => "PUBLIC_TASK",
        /// (f) legitimate interests, after a balancing test.
        LegitimateInterests => "LEGITIMATE_INTERESTS",
    }
}

stored_enum! {
    /// The conditions of GDPR Art. 9(2) under which special categories may be processed.
    SpecialCategoryCondition {
        /// (a) explicit consent.
        ExplicitConsent => "EXPLICIT_CONSENT",
        /// (b) employment, social security and social protection law.
        EmploymentSocialSecurity => "EMPLOYMENT_SOCIAL_SECURITY",
        /// (c) vital interests where consent cannot be given.
        VitalInterests => "VITAL_INTERESTS",
        /// (d) not-for-profit bodies with a political, philosophical, religious or
        /// trade-union aim, for their members.
        NotForProfitBody => "NOT_FOR_PROFIT_BODY",
        /// (e) data manifestly made public by the data subject.
        MadePublicBySubject => "MADE_PUBLIC_BY_SUBJECT",
        /// (f) legal claims or courts acting in their judicial capacity.
        LegalClaims => "LEGAL_CLAIMS",
        /// (g) substantial public interest on the basis of law.
        SubstantialPublicInterest => "SUBSTANTIAL_PUBLIC_INTEREST",
        /// (h) preventive or occupational medicine, health or social care.
        HealthOrSocialCare => "HEALTH_OR_SOCIAL_CARE",
        /// (i) public health.
        PublicHealth => "PUBLIC_HEALTH",
        /// (j) archiving in the public interest, research or statistics.
        ArchivingResearchStatistics => "ARCHIVING_RESEARCH_STATISTICS",
    }
}

/// A purpose as it will be stored; validated as a whole on create and update.
#[derive(Debug, Clone)]
pub struct PurposeDraft {
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation, as shown to data subjects in access answers.
    pub description: Option<String>,
    /// Art. 6(1) basis.
    pub legal_basis: LegalBasis,
    /// The law or contract relied on; required for legal obligations and public tasks.
    pub legal_reference: Option<String>,
    /// Balancing test; required for legitimate interests.
    pub balancing_test: Option<String>,
    /// Art. 9(2) condition, where special categories are processed for this purpose.
    pub special_category_condition: Option<SpecialCategoryCondition>,
}

/// A change to a purpose: `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct PurposePatch {
    /// Name.
    pub name: Option<String>,
    /// Explanation.
    pub description: Option<Option<String>>,
    /// Art. 6(1) basis.
    pub legal_basis: Option<LegalBasis>,
    /// Legal reference.
    pub legal_reference: Option<Option<String>>,
    /// Balancing test.
    pub balancing_test: Option<Option<String>>,
    /// Art. 9(2) condition.
    pub special_category_condition: Option<Option<SpecialCategoryCondition>>,
}

/// Filters of the purpose listing.
#[derive(Debug, Clone, Default)]
pub struct PurposeFilter {
    /// Case-insensitive part of the name.
    pub search: Option<String>,
    /// Only this basis.
    pub legal_basis: Option<LegalBasis>,
}

impl PurposeDraft {
    fn validated(self) -> Result<Self> {
        let mut v = Validator::default();
        let name = v.text(&self.name, &["input", "name"], 200);
        let description = v.optional_text(self.description, &["input", "description"], 5000);
        let legal_reference =
            v.optional_text(self.legal_reference, &["input", "legalReference"], 300);
        let balancing_test =
            v.optional_text(self.balancing_test, &["input", "balancingTest"], 20_000);
        v.check(
            self.legal_basis != LegalBasis::LegitimateInterests || balancing_test.is_some(),
            &["input", "balancingTest"],
            "legitimate interests (Art. 6(1)(f)) need the documented balancing test",
        );
        v.check(
            !matches!(self.legal_basis, LegalBasis::LegalObligation | LegalBasis::PublicTask)
                || legal_reference.is_some(),
            &["input", "legalReference"],
            "a legal obligation or public task needs the law it is laid down in (Art. 6(3)), e.g. `§ 147 AO`",
        );
        v.finish()?;
        Ok(Self {
            name,
            description,
            legal_reference,
            balancing_test,
            ..self
        })
    }
}

fn state(p: &purpose::Model) -> serde_json::Value {
    json!({
        "name": p.name, "description": p.description, "legalBasis": p.legal_basis,
        "legalReference": p.legal_reference, "balancingTest": p.balancing_test,
        "specialCategoryCondition": p.special_category_condition,
    })
}

async fn find<C: Conn>(conn: &C, org_id: Uuid, id: Uuid) -> Result<purpose::Model> {
    use purpose::Column as C;
    super::find_in_org::<purpose::Entity, _>(conn, (C::OrgId, C::Id), org_id, id, "purpose").await
}

async fn ensure_unique_name<C: Conn>(
    conn: &C,
    org_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    use purpose::Column as C;
    super::ensure_unique_name::<purpose::Entity, _>(
        conn,
        (C::OrgId, C::Name, C::Id),
        org_id,
        name,
        except,
        "purpose",
    )
    .await
}

fn draft_of(p: &purpose::Model) -> Result<PurposeDraft> {
    Ok(PurposeDraft {
        name: p.name.clone(),
        description: p.description.clone(),
        legal_basis: p.legal_basis.parse()?,
        legal_reference: p.legal_reference.clone(),
        balancing_test: p.balancing_test.clone(),
        special_category_condition: p
            .special_category_condition
            .as_deref()
            .map(str::parse)
            .transpose()?,
    })
}

/// Checks and stores what `Workflow::create_purpose` adds, inside the caller's
/// transaction (the caller audits and commits).
pub(crate) async fn insert_purpose<C: Conn>(
    conn: &C,
    org_id: Uuid,
    draft: PurposeDraft,
) -> Result<purpose::Model> {
    let d = draft.validated()?;
    ensure_unique_name(conn, org_id, &d.name, None).await?;
    let at = now();
    let created = purpose::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(d.name),
        description: Set(d.description),
        legal_basis: Set(d.legal_basis.as_str().to_owned()),
        legal_reference: Set(d.legal_reference),
        balancing_test: Set(d.balancing_test),
        special_category_condition: Set(d
            .special_category_condition
            .map(|c| c.as_str().to_owned())),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(created)
}

impl Workflow {
    /// Purposes of the organization, in creation order.
    #[tracing::instrument(skip(self, filter, page), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn purposes(
        &self,
        principal: &Principal,
        filter: &PurposeFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<PurposeView>> {
        use purpose::Column as C;
        let mut select = purpose::Entity::find().filter(C::OrgId.eq(principal.org_id));
        select = crate::core::search::filter_contains(
            select,
            &[C::Name],
            filter.search.as_deref(),
            &["filter", "search"],
        )?;
        if let Some(basis) = filter.legal_basis {
            select = select.filter(C::LegalBasis.eq(basis.as_str()));
        }
        paginate(self.store.conn(), select, C::Id, page)
            .await?
            .try_map(PurposeView::try_from)
    }

    /// One purpose of the organization.
    pub async fn purpose(&self, principal: &Principal, id: Uuid) -> Result<PurposeView> {
        find(self.store.conn(), principal.org_id, id)
            .await?
            .try_into()
    }

    /// The organization's purposes with these ids, in one query (for DataLoaders).
    pub async fn purposes_by_ids(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<PurposeView>> {
        purpose::Entity::find()
            .filter(purpose::Column::OrgId.eq(principal.org_id))
            .filter(purpose::Column::Id.is_in(ids.iter().copied()))
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// Adds a purpose.
    #[tracing::instrument(skip(self, draft), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_purpose(
        &self,
        principal: &Principal,
        draft: PurposeDraft,
    ) -> Result<PurposeView> {
        let tx = self.store.begin().await?;
        let created = insert_purpose(tx.conn(), principal.org_id, draft).await?;
        let entry = Entry::success("createPurpose", "Purpose", created.id).after(state(&created));
        self.commit_audited(tx, principal, entry).await?;
        created.try_into()
    }

    /// Changes a purpose; the result must satisfy the same rules as a new one.
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_purpose(
        &self,
        principal: &Principal,
        id: Uuid,
        patch: PurposePatch,
    ) -> Result<PurposeView> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        let current = draft_of(&existing)?;
        let d = PurposeDraft {
            name: patch.name.unwrap_or(current.name),
            description: patch.description.unwrap_or(current.description),
            legal_basis: patch.legal_basis.unwrap_or(current.legal_basis),
            legal_reference: patch.legal_reference.unwrap_or(current.legal_reference),
            balancing_test: patch.balancing_test.unwrap_or(current.balancing_test),
            special_category_condition: patch
                .special_category_condition
                .unwrap_or(current.special_category_condition),
        }
        .validated()?;
        ensure_unique_name(tx.conn(), principal.org_id, &d.name, Some(existing.id)).await?;
        let before = state(&existing);
        let mut active = existing.into_active_model();
        active.name = Set(d.name);
        active.description = Set(d.description);
        active.legal_basis = Set(d.legal_basis.as_str().to_owned());
        active.legal_reference = Set(d.legal_reference);
        active.balancing_test = Set(d.balancing_test);
        active.special_category_condition =
            Set(d.special_category_condition.map(|c| c.as_str().to_owned()));
        active.updated_at = Set(now());
        let updated = active.update(tx.conn()).await?;
        let entry = Entry::success("updatePurpose", "Purpose", updated.id)
            .before(before)
            .after(state(&updated));
        self.commit_audited(tx, principal, entry).await?;
        updated.try_into()
    }

    /// Deletes a purpose.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn delete_purpose(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        super::activities::ensure_unlinked::<entity::activity_purpose::Entity, _>(
            tx.conn(),
            entity::activity_purpose::Column::PurposeId,
            existing.id,
            |j| j.activity_id,
            &format!("purpose `{}`", existing.name),
        )
        .await?;
        // Consents are evidence (Art. 7(1) GDPR): their purpose stays.
        let consents = entity::consent::Entity::find()
            .filter(entity::consent::Column::PurposeId.eq(existing.id))
            .count(tx.conn())
            .await?;
        if consents > 0 {
            return Err(Error::Conflict(format!(
                "purpose `{}` has {consents} consents in the ledger, which must stay provable: \
                 it cannot be deleted",
                existing.name
            )));
        }
        purpose::Entity::delete_by_id(existing.id)
            .exec(tx.conn())
            .await?;
        let entry =
            Entry::success("deletePurpose", "Purpose", existing.id).before(state(&existing));
        self.commit_audited(tx, principal, entry).await
    }
}
