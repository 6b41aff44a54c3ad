//! Retention policies: how long data is kept (ISO 8601 duration), from when, on what
//! legal ground, and what happens when the period ends.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use entity::retention_policy;

use super::view::RetentionPolicyView;
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Result, Validator};
use crate::{Workflow, new_id, now};

stored_enum! {
    /// When a retention period starts.
    RetentionTrigger {
        /// When the data was collected.
        AfterCollection => "AFTER_COLLECTION",
        /// After the last contact with the data subject.
        AfterLastContact => "AFTER_LAST_CONTACT",
        /// After the contract ended.
        AfterEndOfContract => "AFTER_END_OF_CONTRACT",
        /// At the end of the calendar year in which the record was made (German
        /// commercial and tax records, § 257(5) HGB, § 147(4) AO).
        AfterEndOfCalendarYear => "AFTER_END_OF_CALENDAR_YEAR",
        /// After consent was withdrawn.
        AfterConsentWithdrawn => "AFTER_CONSENT_WITHDRAWN",
        /// Another event, described in `triggerDescription`.
        Other => "OTHER",
    }
}

stored_enum! {
    /// What happens when a retention period ends.
    ExpiryAction {
        /// Delete the data.
        Delete => "DELETE",
        /// Anonymize it so that it no longer relates to a person.
        Anonymize => "ANONYMIZE",
        /// A person reviews whether it may be kept longer.
        Review => "REVIEW",
    }
}

/// Checks an ISO 8601 duration (`P10Y`, `P6M`, `P1Y6M`, `P2W`, `PT36H`) that is
/// longer than zero and returns it upper-cased.
pub fn check_duration(v: &mut Validator, value: &str, path: &[&str]) -> String {
    let value = value.trim().to_ascii_uppercase();
    let parsed = match iso8601::parsers::parse_duration(value.as_bytes()) {
        Ok((&[], duration)) => Some(duration),
        _ => None,
    };
    let positive = match parsed {
        Some(iso8601::Duration::Weeks(w)) => w > 0,
        Some(iso8601::Duration::YMDHMS {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millisecond,
        }) => year + month + day + hour + minute + second + millisecond > 0,
        None => false,
    };
    v.check(
        positive,
        path,
        "must be an ISO 8601 duration longer than zero, like P10Y, P6M, P1Y6M, P30D or P2W",
    );
    value
}

/// A retention policy as it will be stored; validated as a whole.
#[derive(Debug, Clone)]
pub struct RetentionDraft {
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// ISO 8601 duration.
    pub duration: String,
    /// When the period starts.
    pub trigger: RetentionTrigger,
    /// The event, when the trigger is OTHER (required then).
    pub trigger_description: Option<String>,
    /// Legal ground, e.g. `§ 147 AO`.
    pub legal_reference: Option<String>,
    /// What happens at the end.
    pub action_at_expiry: ExpiryAction,
}

/// A change to a retention policy: `None` keeps, `Some(None)` clears.
#[derive(Debug, Clone, Default)]
pub struct RetentionPatch {
    /// Name.
    pub name: Option<String>,
    /// Explanation.
    pub description: Option<Option<String>>,
    /// ISO 8601 duration.
    pub duration: Option<String>,
    /// Start of the period.
    pub trigger: Option<RetentionTrigger>,
    /// The event for OTHER.
    pub trigger_description: Option<Option<String>>,
    /// Legal ground.
    pub legal_reference: Option<Option<String>>,
    /// Action at the end.
    pub action_at_expiry: Option<ExpiryAction>,
}

impl RetentionDraft {
    fn validated(self) -> Result<Self> {
        let mut v = Validator::default();
        let name = v.text(&self.name, &["input", "name"], 200);
        let description = v.optional_text(self.description, &["input", "description"], 5000);
        let duration = check_duration(&mut v, &self.duration, &["input", "duration"]);
        let trigger_description = v.optional_text(
            self.trigger_description,
            &["input", "triggerDescription"],
            1000,
        );
        let legal_reference =
            v.optional_text(self.legal_reference, &["input", "legalReference"], 300);
        v.check(
            self.trigger != RetentionTrigger::Other || trigger_description.is_some(),
            &["input", "triggerDescription"],
            "describe the event that starts the period when the trigger is OTHER",
        );
        v.finish()?;
        Ok(Self {
            name,
            description,
            duration,
            trigger_description,
            legal_reference,
            ..self
        })
    }
}

fn state(r: &retention_policy::Model) -> serde_json::Value {
    json!({
        "name": r.name, "description": r.description, "duration": r.duration,
        "trigger": r.trigger, "triggerDescription": r.trigger_description,
        "legalReference": r.legal_reference, "actionAtExpiry": r.action_at_expiry,
    })
}

async fn find<C: Conn>(conn: &C, org_id: Uuid, id: Uuid) -> Result<retention_policy::Model> {
    use retention_policy::Column as C;
    super::find_in_org::<retention_policy::Entity, _>(
        conn,
        (C::OrgId, C::Id),
        org_id,
        id,
        "retention policy",
    )
    .await
}

async fn ensure_unique_name<C: Conn>(
    conn: &C,
    org_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    use retention_policy::Column as C;
    super::ensure_unique_name::<retention_policy::Entity, _>(
        conn,
        (C::OrgId, C::Name, C::Id),
        org_id,
        name,
        except,
        "retention policy",
    )
    .await
}

/// Checks and stores what `Workflow::create_retention_policy` adds, inside the caller's
/// transaction (the caller audits and commits).
pub(crate) async fn insert_retention_policy<C: Conn>(
    conn: &C,
    org_id: Uuid,
    draft: RetentionDraft,
) -> Result<retention_policy::Model> {
    let d = draft.validated()?;
    ensure_unique_name(conn, org_id, &d.name, None).await?;
    let at = now();
    let created = retention_policy::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(d.name),
        description: Set(d.description),
        duration: Set(d.duration),
        trigger: Set(d.trigger.as_str().to_owned()),
        trigger_description: Set(d.trigger_description),
        legal_reference: Set(d.legal_reference),
        action_at_expiry: Set(d.action_at_expiry.as_str().to_owned()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(created)
}

impl Workflow {
    /// Retention policies of the organization, in creation order.
    pub async fn retention_policies(
        &self,
        principal: &Principal,
        search: Option<&str>,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<RetentionPolicyView>> {
        use retention_policy::Column as C;
        let select = retention_policy::Entity::find().filter(C::OrgId.eq(principal.org_id));
        let select = crate::core::search::filter_contains(
            select,
            &[C::Name, C::LegalReference],
            search,
            &["search"],
        )?;
        paginate(self.store.conn(), select, C::Id, page)
            .await?
            .try_map(RetentionPolicyView::try_from)
    }

    /// One retention policy of the organization.
    pub async fn retention_policy(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<RetentionPolicyView> {
        find(self.store.conn(), principal.org_id, id)
            .await?
            .try_into()
    }

    /// Adds a retention policy.
    #[tracing::instrument(skip(self, draft), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_retention_policy(
        &self,
        principal: &Principal,
        draft: RetentionDraft,
    ) -> Result<RetentionPolicyView> {
        let tx = self.store.begin().await?;
        let created = insert_retention_policy(tx.conn(), principal.org_id, draft).await?;
        let entry = Entry::success("createRetentionPolicy", "RetentionPolicy", created.id)
            .after(state(&created));
        self.commit_audited(tx, principal, entry).await?;
        created.try_into()
    }

    /// Changes a retention policy; the result must satisfy the rules of a new one.
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_retention_policy(
        &self,
        principal: &Principal,
        id: Uuid,
        patch: RetentionPatch,
    ) -> Result<RetentionPolicyView> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        let d = RetentionDraft {
            name: patch.name.unwrap_or_else(|| existing.name.clone()),
            description: patch
                .description
                .unwrap_or_else(|| existing.description.clone()),
            duration: patch.duration.unwrap_or_else(|| existing.duration.clone()),
            trigger: match patch.trigger {
                Some(t) => t,
                None => existing.trigger.parse()?,
            },
            trigger_description: patch
                .trigger_description
                .unwrap_or_else(|| existing.trigger_description.clone()),
            legal_reference: patch
                .legal_reference
                .unwrap_or_else(|| existing.legal_reference.clone()),
            action_at_expiry: match patch.action_at_expiry {
                Some(a) => a,
                None => existing.action_at_expiry.parse()?,
            },
        }
        .validated()?;
        ensure_unique_name(tx.conn(), principal.org_id, &d.name, Some(existing.id)).await?;
        let before = state(&existing);
        let mut active = existing.into_active_model();
        active.name = Set(d.name);
        active.description = Set(d.description);
        active.duration = Set(d.duration);
        active.trigger = Set(d.trigger.as_str().to_owned());
        active.trigger_description = Set(d.trigger_description);
        active.legal_reference = Set(d.legal_reference);
        active.action_at_expiry = Set(d.action_at_expiry.as_str().to_owned());
        active.updated_at = Set(now());
        let updated = active.update(tx.conn()).await?;
        let entry = Entry::success("updateRetentionPolicy", "RetentionPolicy", updated.id)
            .before(before)
            .after(state(&updated));
        self.commit_audited(tx, principal, entry).await?;
        updated.try_into()
    }

    /// Deletes a retention policy.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn delete_retention_policy(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        super::activities::ensure_retention_unused(tx.conn(), existing.id).await?;
        retention_policy::Entity::delete_by_id(existing.id)
            .exec(tx.conn())
            .await?;
        let entry = Entry::success("deleteRetentionPolicy", "RetentionPolicy", existing.id)
            .before(state(&existing));
        self.commit_audited(tx, principal, entry).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_iso_8601_and_positive() {
        for good in [
            "P10Y",
            "p6y",
            "P6M",
            "P1Y6M",
            "P30D",
            "P2W",
            "PT36H",
            "P1Y2M3DT4H5M6S",
        ] {
            let mut v = Validator::default();
            check_duration(&mut v, good, &["d"]);
            assert!(v.finish().is_ok(), "{good}");
        }
        for bad in [
            "",
            "10Y",
            "P",
            "P0D",
            "P0Y0M",
            "P10Yx",
            "ten years",
            "P-1Y",
            "PT",
            "P1.5Y junk",
        ] {
            let mut v = Validator::default();
            check_duration(&mut v, bad, &["d"]);
            assert!(v.finish().is_err(), "{bad:?} must be rejected");
        }
    }
}
