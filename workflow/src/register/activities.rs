//! Processing activities (Art. 30(1)): what is done with personal data, for which
//! purposes, about whom, shared with whom, kept how long, protected how.
//!
//! Hard rules, checked on every create and update against the resulting state:
//! an ACTIVE activity names at least one purpose (hence a legal basis), one data
//! category and one subject category; special categories (Art. 9) need an Art. 9(2)
//! condition on every purpose; criminal-offence data (Art. 10) needs the law on
//! every purpose; automated decision-making (Art. 22) needs its logic described;
//! transfers must go to recipients of the activity. Rows of the register that an
//! activity uses cannot be deleted (CONFLICT naming the activities).

use std::collections::HashSet;

use chrono::NaiveDate;
use sea_orm::sea_query::{ExprTrait, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, FromQueryResult, IntoActiveModel, JoinType,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, Related, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{
    activity_data_category, activity_purpose, activity_recipient, activity_source,
    activity_subject_category, activity_transfer, data_category, data_source, processing_activity,
    purpose, recipient, retention_policy, subject_category, transfer,
};

use super::purposes::LegalBasis;
use super::taxonomy::{Sensitivity, sensitivity_of};
use super::view::{
    ActivityView, DataCategoryView, DataSourceView, PurposeView, RecipientView,
    RetentionPolicyView, TransferView,
};
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

stored_enum! {
    /// Where an activity stands.
    ActivityStatus {
        /// Being prepared; the completeness rules do not apply yet.
        Draft => "DRAFT",
        /// In force.
        Active => "ACTIVE",
        /// No longer carried out; kept for the record.
        Retired => "RETIRED",
    }
}

/// An activity as it will be stored, with the ids it links to.
#[derive(Debug, Clone, Default)]
pub struct ActivityDraft {
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Status.
    pub status: Option<ActivityStatus>,
    /// Responsible department or person.
    pub owner: Option<String>,
    /// Technical and organisational measures (Art. 32).
    pub tom_description: Option<String>,
    /// Automated decision-making incl. profiling (Art. 22).
    pub automated_decision_making: bool,
    /// Its logic, significance and consequences (required when it is used).
    pub automated_decision_logic: Option<String>,
    /// Whether a DPIA is required (Art. 35).
    pub dpia_required: bool,
    /// Where the DPIA is documented.
    pub dpia_reference: Option<String>,
    /// Retention policy.
    pub retention_policy_id: Option<Uuid>,
    /// When the activity is to be reviewed next.
    pub next_review_on: Option<NaiveDate>,
    /// Purposes.
    pub purpose_ids: Vec<Uuid>,
    /// Categories of personal data.
    pub data_category_ids: Vec<Uuid>,
    /// Categories of data subjects.
    pub subject_category_ids: Vec<Uuid>,
    /// Recipients.
    pub recipient_ids: Vec<Uuid>,
    /// Third-country transfers (to the recipients above).
    pub transfer_ids: Vec<Uuid>,
    /// Data sources the activity processes personal data from.
    pub source_ids: Vec<Uuid>,
}

/// A change: `None` keeps a field, `Some(None)` clears it; a given id list replaces
/// the links.
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct ActivityPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub status: Option<ActivityStatus>,
    pub owner: Option<Option<String>>,
    pub tom_description: Option<Option<String>>,
    pub automated_decision_making: Option<bool>,
    pub automated_decision_logic: Option<Option<String>>,
    pub dpia_required: Option<bool>,
    pub dpia_reference: Option<Option<String>>,
    pub retention_policy_id: Option<Option<Uuid>>,
    pub next_review_on: Option<Option<NaiveDate>>,
    pub purpose_ids: Option<Vec<Uuid>>,
    pub data_category_ids: Option<Vec<Uuid>>,
    pub subject_category_ids: Option<Vec<Uuid>>,
    pub recipient_ids: Option<Vec<Uuid>>,
    pub transfer_ids: Option<Vec<Uuid>>,
    pub source_ids: Option<Vec<Uuid>>,
}

/// Filters of the activity listing.
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter {
    /// Case-insensitive part of the name.
    pub search: Option<String>,
    /// Only this status.
    pub status: Option<ActivityStatus>,
    /// Only activities with a purpose on this basis.
    pub legal_basis: Option<LegalBasis>,
    /// Only activities processing this data category.
    pub data_category_id: Option<Uuid>,
    /// Only activities processing data from this source.
    pub source_id: Option<Uuid>,
    /// Only activities whose review is due on or before this date.
    pub review_due_by: Option<NaiveDate>,
}

fn unique(ids: &[Uuid]) -> Vec<Uuid> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

/// Loads the rows of `E` with these ids in the organization; NOT_FOUND if any is missing.
async fn all_in_org<E, C>(
    conn: &C,
    org_id: Uuid,
    (org_col, id_col): (E::Column, E::Column),
    ids: &[Uuid],
    what: &'static str,
) -> Result<Vec<E::Model>>
where
    E: EntityTrait,
    C: Conn,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = E::find()
        .filter(org_col.eq(org_id))
        .filter(id_col.is_in(ids.iter().copied()))
        .all(conn)
        .await?;
    if rows.len() != ids.len() {
        return Err(Error::NotFound { what });
    }
    Ok(rows)
}

/// The rows an activity links to, loaded and checked.
struct Links {
    purposes: Vec<purpose::Model>,
    data_categories: Vec<data_category::Model>,
    subject_categories: Vec<subject_category::Model>,
    recipients: Vec<recipient::Model>,
    transfers: Vec<transfer::Model>,
}

impl ActivityDraft {
    /// Checks the draft as a whole and returns it cleaned, with its linked rows.
    async fn validated<C: Conn>(self, conn: &C, org_id: Uuid) -> Result<(Self, Links)> {
        let mut v = Validator::default();
        let name = v.text(&self.name, &["input", "name"], 200);
        let description = v.optional_text(self.description, &["input", "description"], 10_000);
        let owner = v.optional_text(self.owner, &["input", "owner"], 200);
        let tom_description =
            v.optional_text(self.tom_description, &["input", "tomDescription"], 20_000);
        let automated_decision_logic = v.optional_text(
            self.automated_decision_logic,
            &["input", "automatedDecisionLogic"],
            10_000,
        );
        let dpia_reference = v.optional_text(self.dpia_reference, &["input", "dpiaReference"], 300);
        v.check(
            !self.automated_decision_making || automated_decision_logic.is_some(),
            &["input", "automatedDecisionLogic"],
            "automated decision-making (Art. 22) needs its logic, significance and consequences described (Art. 13(2)(f))",
        );
        v.finish()?;
        let d = Self {
            name,
            description,
            owner,
            tom_description,
            automated_decision_logic,
            dpia_reference,
            purpose_ids: unique(&self.purpose_ids),
            data_category_ids: unique(&self.data_category_ids),
            subject_category_ids: unique(&self.subject_category_ids),
            recipient_ids: unique(&self.recipient_ids),
            transfer_ids: unique(&self.transfer_ids),
            source_ids: unique(&self.source_ids),
            ..self
        };
        use data_category::Column as DC;
        use data_source::Column as DS;
        use purpose::Column as P;
        use recipient::Column as R;
        use subject_category::Column as SC;
        use transfer::Column as T;
        let links = Links {
            purposes: all_in_org::<purpose::Entity, _>(
                conn,
                org_id,
                (P::OrgId, P::Id),
                &d.purpose_ids,
                "purpose",
            )
            .await?,
            data_categories: all_in_org::<data_category::Entity, _>(
                conn,
                org_id,
                (DC::OrgId, DC::Id),
                &d.data_category_ids,
                "data category",
            )
            .await?,
            subject_categories: all_in_org::<subject_category::Entity, _>(
                conn,
                org_id,
                (SC::OrgId, SC::Id),
                &d.subject_category_ids,
                "subject category",
            )
            .await?,
            recipients: all_in_org::<recipient::Entity, _>(
                conn,
                org_id,
                (R::OrgId, R::Id),
                &d.recipient_ids,
                "recipient",
            )
            .await?,
            transfers: all_in_org::<transfer::Entity, _>(
                conn,
                org_id,
                (T::OrgId, T::Id),
                &d.transfer_ids,
                "transfer",
            )
            .await?,
        };
        all_in_org::<data_source::Entity, _>(
            conn,
            org_id,
            (DS::OrgId, DS::Id),
            &d.source_ids,
            "data source",
        )
        .await?;
        if let Some(id) = d.retention_policy_id {
            retention_policy::Entity::find_by_id(id)
                .filter(retention_policy::Column::OrgId.eq(org_id))
                .one(conn)
                .await?
                .ok_or(Error::NotFound {
                    what: "retention policy",
                })?;
        }
        let mut v = Validator::default();
        if d.status == Some(ActivityStatus::Active) {
            v.check(
                !links.purposes.is_empty(),
                &["input", "purposeIds"],
                "an active activity needs at least one purpose (and so a legal basis)",
            );
            v.check(
                !links.data_categories.is_empty(),
                &["input", "dataCategoryIds"],
                "an active activity needs at least one category of personal data",
            );
            v.check(
                !links.subject_categories.is_empty(),
                &["input", "subjectCategoryIds"],
                "an active activity needs at least one category of data subjects",
            );
        }
        let mut sensitivities = Vec::with_capacity(links.data_categories.len());
        for c in &links.data_categories {
            sensitivities.push(sensitivity_of(c)?);
        }
        if sensitivities.contains(&Sensitivity::SpecialArt9) {
            let lacking: Vec<&str> = links
                .purposes
                .iter()
                .filter(|p| p.special_category_condition.is_none())
                .map(|p| p.name.as_str())
                .collect();
            v.check(
                lacking.is_empty(),
                &["input", "purposeIds"],
                format!(
                    "special categories of data (Art. 9) are processed, but these purposes name no Art. 9(2) condition: {}",
                    lacking.join(", ")
                ),
            );
        }
        if sensitivities.contains(&Sensitivity::CriminalArt10) {
            let lacking: Vec<&str> = links
                .purposes
                .iter()
                .filter(|p| p.legal_reference.is_none())
                .map(|p| p.name.as_str())
                .collect();
            v.check(
                lacking.is_empty(),
                &["input", "purposeIds"],
                format!(
                    "criminal-offence data (Art. 10) needs a basis in law, but these purposes name none: {}",
                    lacking.join(", ")
                ),
            );
        }
        let recipients: HashSet<Uuid> = links.recipients.iter().map(|r| r.id).collect();
        let stray: Vec<&str> = links
            .transfers
            .iter()
            .filter(|t| !recipients.contains(&t.recipient_id))
            .map(|t| t.country.as_str())
            .collect();
        v.check(
            stray.is_empty(),
            &["input", "transferIds"],
            format!("transfers must go to recipients of this activity; add their recipients (transfers to {})", stray.join(", ")),
        );
        v.finish()?;
        Ok((d, links))
    }
}

fn state(a: &processing_activity::Model, d: &ActivityDraft) -> serde_json::Value {
    json!({
        "name": a.name, "description": a.description, "status": a.status, "owner": a.owner,
        "tomDescription": a.tom_description, "automatedDecisionMaking": a.automated_decision_making,
        "automatedDecisionLogic": a.automated_decision_logic, "dpiaRequired": a.dpia_required,
        "dpiaReference": a.dpia_reference, "retentionPolicyId": a.retention_policy_id,
        "nextReviewOn": a.next_review_on, "purposeIds": d.purpose_ids, "dataCategoryIds": d.data_category_ids,
        "subjectCategoryIds": d.subject_category_ids, "recipientIds": d.recipient_ids, "transferIds": d.transfer_ids,
        "sourceIds": d.source_ids,
    })
}

/// Replaces the links of an activity in one join table.
async fn set_links<J, C>(
    conn: &C,
    activity_col: J::Column,
    activity_id: Uuid,
    rows: Vec<J::ActiveModel>,
) -> Result<()>
where
    J: EntityTrait,
    C: Conn,
{
    J::delete_many()
        .filter(activity_col.eq(activity_id))
        .exec(conn)
        .await?;
    if !rows.is_empty() {
        J::insert_many(rows).exec(conn).await?;
    }
    Ok(())
}

/// The alias under which [`linked`] selects the join table's activity column.
const LINKED_ACTIVITY: &str = "linked_activity_id";

/// A row of a linked table with the activity it is linked to.
struct Linked<M> {
    activity_id: Uuid,
    model: M,
}

impl<M: FromQueryResult> FromQueryResult for Linked<M> {
    fn from_query_result(res: &QueryResult, pre: &str) -> std::result::Result<Self, DbErr> {
        Ok(Self {
            activity_id: res.try_get(pre, LINKED_ACTIVITY)?,
            model: M::from_query_result(res, pre)?,
        })
    }
}

/// The rows of `T` linked through join table `J` to these activities, as
/// (activity id, row) pairs, in one query.
///
/// The target's columns are selected unprefixed beside the one join-table column
/// that is needed: sea-orm's `find_also_related` names every column of both
/// tables with a prefix that it formats into a new string for each column of each
/// row, which was about a twentieth of the register page's CPU.
async fn linked<J, T, C>(
    conn: &C,
    activity_col: J::Column,
    activity_ids: &[Uuid],
) -> Result<Vec<(Uuid, T::Model)>>
where
    J: EntityTrait + Related<T>,
    T: EntityTrait,
    C: Conn,
{
    let rows = T::find()
        .join_rev(JoinType::InnerJoin, <J as Related<T>>::to())
        .filter(activity_col.is_in(activity_ids.iter().copied()))
        .column_as(activity_col, LINKED_ACTIVITY)
        .into_model::<Linked<T::Model>>()
        .all(conn)
        .await?;
    Ok(rows.into_iter().map(|r| (r.activity_id, r.model)).collect())
}

/// CONFLICT when activities still link to the row `id` through join table `J`.
pub(crate) async fn ensure_unlinked<J, C>(
    conn: &C,
    target_col: J::Column,
    id: Uuid,
    activity_of: fn(&J::Model) -> Uuid,
    what: &str,
) -> Result<()>
where
    J: EntityTrait,
    C: Conn,
{
    let links = J::find().filter(target_col.eq(id)).all(conn).await?;
    if links.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = processing_activity::Entity::find()
        .filter(processing_activity::Column::Id.is_in(links.iter().map(activity_of)))
        .order_by_asc(processing_activity::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| format!("`{}`", a.name))
        .collect();
    Err(Error::Conflict(format!(
        "{what} is used by the processing activities {}: remove it there first",
        names.join(", ")
    )))
}

/// CONFLICT when activities still keep data under the retention policy `id`.
pub(crate) async fn ensure_retention_unused<C: Conn>(conn: &C, id: Uuid) -> Result<()> {
    let names: Vec<String> = processing_activity::Entity::find()
        .filter(processing_activity::Column::RetentionPolicyId.eq(id))
        .order_by_asc(processing_activity::Column::Name)
        .all(conn)
        .await?
        .into_iter()
        .map(|a| format!("`{}`", a.name))
        .collect();
    if names.is_empty() {
        return Ok(());
    }
    Err(Error::Conflict(format!(
        "the retention policy is used by the processing activities {}: remove it there first",
        names.join(", ")
    )))
}

async fn find<C: Conn>(conn: &C, org_id: Uuid, id: Uuid) -> Result<processing_activity::Model> {
    use processing_activity::Column as C;
    super::find_in_org::<processing_activity::Entity, _>(
        conn,
        (C::OrgId, C::Id),
        org_id,
        id,
        "processing activity",
    )
    .await
}

async fn ensure_unique_name<C: Conn>(
    conn: &C,
    org_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    use processing_activity::Column as C;
    super::ensure_unique_name::<processing_activity::Entity, _>(
        conn,
        (C::OrgId, C::Name, C::Id),
        org_id,
        name,
        except,
        "processing activity",
    )
    .await
}

/// Checks and stores what `Workflow::create_processing_activity` adds, with its
/// links, inside the caller's transaction (the caller audits and commits).
pub(crate) async fn insert_processing_activity<C: Conn>(
    conn: &C,
    org_id: Uuid,
    draft: ActivityDraft,
) -> Result<(processing_activity::Model, ActivityDraft)> {
    let draft = ActivityDraft {
        status: Some(draft.status.unwrap_or(ActivityStatus::Draft)),
        ..draft
    };
    let (d, _) = draft.validated(conn, org_id).await?;
    ensure_unique_name(conn, org_id, &d.name, None).await?;
    let at = now();
    let created = processing_activity::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(d.name.clone()),
        description: Set(d.description.clone()),
        status: Set(d
            .status
            .unwrap_or(ActivityStatus::Draft)
            .as_str()
            .to_owned()),
        owner: Set(d.owner.clone()),
        tom_description: Set(d.tom_description.clone()),
        automated_decision_making: Set(d.automated_decision_making),
        automated_decision_logic: Set(d.automated_decision_logic.clone()),
        dpia_required: Set(d.dpia_required),
        dpia_reference: Set(d.dpia_reference.clone()),
        retention_policy_id: Set(d.retention_policy_id),
        next_review_on: Set(d.next_review_on),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?;
    write_links(conn, created.id, &d).await?;
    Ok((created, d))
}

impl Workflow {
    /// Processing activities of the organization, in creation order.
    #[tracing::instrument(skip(self, filter, page), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn processing_activities(
        &self,
        principal: &Principal,
        filter: &ActivityFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<ActivityView>> {
        use processing_activity::Column as C;
        let mut select = processing_activity::Entity::find().filter(C::OrgId.eq(principal.org_id));
        select = crate::core::search::filter_contains(
            select,
            &[C::Name],
            filter.search.as_deref(),
            &["filter", "search"],
        )?;
        if let Some(status) = filter.status {
            select = select.filter(C::Status.eq(status.as_str()));
        }
        if let Some(basis) = filter.legal_basis {
            let with_basis = Query::select()
                .column(activity_purpose::Column::ActivityId)
                .from(activity_purpose::Entity)
                .inner_join(
                    purpose::Entity,
                    sea_orm::sea_query::Expr::col((purpose::Entity, purpose::Column::Id)).equals((
                        activity_purpose::Entity,
                        activity_purpose::Column::PurposeId,
                    )),
                )
                .and_where(
                    sea_orm::sea_query::Expr::col((purpose::Entity, purpose::Column::LegalBasis))
                        .eq(basis.as_str()),
                )
                .to_owned();
            select = select.filter(C::Id.in_subquery(with_basis));
        }
        if let Some(category) = filter.data_category_id {
            let with_category = Query::select()
                .column(activity_data_category::Column::ActivityId)
                .from(activity_data_category::Entity)
                .and_where(activity_data_category::Column::DataCategoryId.eq(category))
                .to_owned();
            select = select.filter(C::Id.in_subquery(with_category));
        }
        if let Some(source) = filter.source_id {
            let with_source = Query::select()
                .column(activity_source::Column::ActivityId)
                .from(activity_source::Entity)
                .and_where(activity_source::Column::SourceId.eq(source))
                .to_owned();
            select = select.filter(C::Id.in_subquery(with_source));
        }
        if let Some(by) = filter.review_due_by {
            select = select.filter(C::NextReviewOn.lte(by));
        }
        paginate(self.store.conn(), select, C::Id, page)
            .await?
            .try_map(ActivityView::try_from)
    }

    /// One processing activity of the organization.
    pub async fn processing_activity(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<ActivityView> {
        find(self.store.conn(), principal.org_id, id)
            .await?
            .try_into()
    }

    /// Adds a processing activity with its links.
    #[tracing::instrument(skip(self, draft), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_processing_activity(
        &self,
        principal: &Principal,
        draft: ActivityDraft,
    ) -> Result<ActivityView> {
        let tx = self.store.begin().await?;
        let (created, d) = insert_processing_activity(tx.conn(), principal.org_id, draft).await?;
        let entry = Entry::success("createProcessingActivity", "ProcessingActivity", created.id)
            .after(state(&created, &d));
        self.commit_audited(tx, principal, entry).await?;
        created.try_into()
    }

    /// Changes a processing activity; the result must satisfy the rules of a new one.
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_processing_activity(
        &self,
        principal: &Principal,
        id: Uuid,
        patch: ActivityPatch,
    ) -> Result<ActivityView> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        let links = link_ids(tx.conn(), existing.id).await?;
        let before = state(&existing, &links);
        let draft = ActivityDraft {
            name: patch.name.unwrap_or_else(|| existing.name.clone()),
            description: patch
                .description
                .unwrap_or_else(|| existing.description.clone()),
            status: Some(match patch.status {
                Some(s) => s,
                None => existing.status.parse()?,
            }),
            owner: patch.owner.unwrap_or_else(|| existing.owner.clone()),
            tom_description: patch
                .tom_description
                .unwrap_or_else(|| existing.tom_description.clone()),
            automated_decision_making: patch
                .automated_decision_making
                .unwrap_or(existing.automated_decision_making),
            automated_decision_logic: patch
                .automated_decision_logic
                .unwrap_or_else(|| existing.automated_decision_logic.clone()),
            dpia_required: patch.dpia_required.unwrap_or(existing.dpia_required),
            dpia_reference: patch
                .dpia_reference
                .unwrap_or_else(|| existing.dpia_reference.clone()),
            retention_policy_id: patch
                .retention_policy_id
                .unwrap_or(existing.retention_policy_id),
            next_review_on: patch.next_review_on.unwrap_or(existing.next_review_on),
            purpose_ids: patch.purpose_ids.unwrap_or(links.purpose_ids),
            data_category_ids: patch.data_category_ids.unwrap_or(links.data_category_ids),
            subject_category_ids: patch
                .subject_category_ids
                .unwrap_or(links.subject_category_ids),
            recipient_ids: patch.recipient_ids.unwrap_or(links.recipient_ids),
            transfer_ids: patch.transfer_ids.unwrap_or(links.transfer_ids),
            source_ids: patch.source_ids.unwrap_or(links.source_ids),
        };
        let (d, _) = draft.validated(tx.conn(), principal.org_id).await?;
        ensure_unique_name(tx.conn(), principal.org_id, &d.name, Some(existing.id)).await?;
        let mut active = existing.into_active_model();
        active.name = Set(d.name.clone());
        active.description = Set(d.description.clone());
        active.status = Set(d
            .status
            .unwrap_or(ActivityStatus::Draft)
            .as_str()
            .to_owned());
        active.owner = Set(d.owner.clone());
        active.tom_description = Set(d.tom_description.clone());
        active.automated_decision_making = Set(d.automated_decision_making);
        active.automated_decision_logic = Set(d.automated_decision_logic.clone());
        active.dpia_required = Set(d.dpia_required);
        active.dpia_reference = Set(d.dpia_reference.clone());
        active.retention_policy_id = Set(d.retention_policy_id);
        active.next_review_on = Set(d.next_review_on);
        active.updated_at = Set(now());
        let updated = active.update(tx.conn()).await?;
        write_links(tx.conn(), updated.id, &d).await?;
        let entry = Entry::success("updateProcessingActivity", "ProcessingActivity", updated.id)
            .before(before)
            .after(state(&updated, &d));
        self.commit_audited(tx, principal, entry).await?;
        updated.try_into()
    }

    /// Deletes a processing activity and its links.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn delete_processing_activity(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        let links = link_ids(tx.conn(), existing.id).await?;
        let before = state(&existing, &links);
        write_links(tx.conn(), existing.id, &ActivityDraft::default()).await?;
        processing_activity::Entity::delete_by_id(existing.id)
            .exec(tx.conn())
            .await?;
        let entry = Entry::success(
            "deleteProcessingActivity",
            "ProcessingActivity",
            existing.id,
        )
        .before(before);
        self.commit_audited(tx, principal, entry).await
    }

    /// Retention policies by id (for DataLoaders; one query).
    pub async fn retention_policies_by_ids(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<RetentionPolicyView>> {
        super::view::views(
            retention_policy::Entity::find()
                .filter(retention_policy::Column::OrgId.eq(principal.org_id))
                .filter(retention_policy::Column::Id.is_in(ids.iter().copied()))
                .all(self.store.conn())
                .await?,
        )
    }
}

/// Everything about an activity's links, from one list of join tables: writing
/// them (`write_links`), reading one activity's ids (`link_ids`), and the loaders'
/// view: for a page of activity ids, the linked rows of one kind as (activity id,
/// row) pairs, in one query per kind, limited to the principal's organization.
macro_rules! activity_links {
    ($($(#[$meta:meta])* $ids:ident, $loader:ident: $join:ident . $col:ident -> $target:ident as $view:ty = $convert:expr;)+) => {
        /// Replaces every link of an activity with those of `d`.
        async fn write_links<C: Conn>(conn: &C, id: Uuid, d: &ActivityDraft) -> Result<()> {
            $(
                set_links::<$join::Entity, _>(
                    conn,
                    $join::Column::ActivityId,
                    id,
                    d.$ids
                        .iter()
                        .map(|t| $join::ActiveModel { activity_id: Set(id), $col: Set(*t) })
                        .collect(),
                )
                .await?;
            )+
            Ok(())
        }

        /// The linked ids of one activity (the other fields stay default).
        async fn link_ids<C: Conn>(conn: &C, id: Uuid) -> Result<ActivityDraft> {
            Ok(ActivityDraft {
                $(
                    $ids: $join::Entity::find()
                        .filter($join::Column::ActivityId.eq(id))
                        .all(conn)
                        .await?
                        .into_iter()
                        .map(|j| j.$col)
                        .collect(),
                )+
                ..Default::default()
            })
        }

        impl Workflow {
            $(
                $(#[$meta])*
                pub async fn $loader(&self, principal: &Principal, ids: &[Uuid]) -> Result<Vec<(Uuid, $view)>> {
                    let rows = linked::<$join::Entity, $target::Entity, _>(
                        self.store.conn(),
                        $join::Column::ActivityId,
                        ids,
                    )
                    .await?;
                    rows.into_iter()
                        .filter(|(_, t)| t.org_id == principal.org_id)
                        .map(|(a, t)| Ok((a, $convert(t)?)))
                        .collect()
                }
            )+
        }
    };
}

activity_links! {
    /// Purposes of these activities (for DataLoaders).
    purpose_ids, purposes_of_activities: activity_purpose.purpose_id -> purpose as PurposeView = PurposeView::try_from;
    /// Data categories of these activities (for DataLoaders).
    data_category_ids, data_categories_of_activities: activity_data_category.data_category_id -> data_category as DataCategoryView = |m| Ok::<_, Error>(DataCategoryView::from(m));
    /// Subject categories of these activities (for DataLoaders).
    subject_category_ids, subject_categories_of_activities: activity_subject_category.subject_category_id -> subject_category as subject_category::Model = Ok::<_, Error>;
    /// Recipients of these activities (for DataLoaders).
    recipient_ids, recipients_of_activities: activity_recipient.recipient_id -> recipient as RecipientView = RecipientView::try_from;
    /// Transfers of these activities (for DataLoaders).
    transfer_ids, transfers_of_activities: activity_transfer.transfer_id -> transfer as TransferView = TransferView::try_from;
    /// Data sources of these activities (for DataLoaders).
    source_ids, sources_of_activities: activity_source.source_id -> data_source as DataSourceView = DataSourceView::try_from;
}
