//! Which mapped timestamp fields start a retention policy's period.

use std::collections::{HashMap, HashSet};

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use entity::{data_field, data_source, retention_policy, retention_trigger_field};

use crate::Workflow;
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::connectors::ConnectorKind;
use crate::error::{Result, Validator};
use crate::register::view::{DataFieldView, RetentionPolicyView};

/// Most trigger fields one policy may name.
pub const MAX_TRIGGER_FIELDS: usize = 50;

impl Workflow {
    /// The trigger fields of a policy of the organization, in field order.
    pub async fn retention_trigger_fields(
        &self,
        principal: &Principal,
        policy_id: Uuid,
    ) -> Result<Vec<DataFieldView>> {
        let ids: Vec<Uuid> = retention_trigger_field::Entity::find()
            .filter(retention_trigger_field::Column::OrgId.eq(principal.org_id))
            .filter(retention_trigger_field::Column::PolicyId.eq(policy_id))
            .order_by_asc(retention_trigger_field::Column::FieldId)
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(|l| l.field_id)
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        self.data_fields_by_ids(principal, &ids).await
    }

    /// Replaces the trigger fields of a retention policy: mapped fields of SQL
    /// sources whose latest value starts the period (an empty list stops sweeping
    /// the policy).
    #[tracing::instrument(skip(self, field_ids), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn set_retention_trigger_fields(
        &self,
        principal: &Principal,
        policy_id: Uuid,
        field_ids: Vec<Uuid>,
    ) -> Result<RetentionPolicyView> {
        let tx = self.store.begin().await?;
        let policy = retention_policy::Entity::find_by_id(policy_id)
            .filter(retention_policy::Column::OrgId.eq(principal.org_id))
            .one(tx.conn())
            .await?
            .ok_or(crate::error::Error::NotFound {
                what: "retention policy",
            })?;
        let fields: HashMap<Uuid, data_field::Model> = data_field::Entity::find()
            .filter(data_field::Column::OrgId.eq(principal.org_id))
            .filter(data_field::Column::Id.is_in(field_ids.iter().copied()))
            .all(tx.conn())
            .await?
            .into_iter()
            .map(|f| (f.id, f))
            .collect();
        let sources: HashMap<Uuid, data_source::Model> = data_source::Entity::find()
            .filter(data_source::Column::OrgId.eq(principal.org_id))
            .filter(data_source::Column::Id.is_in(fields.values().map(|f| f.source_id)))
            .all(tx.conn())
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let mut v = Validator::default();
        v.check(
            field_ids.len() <= MAX_TRIGGER_FIELDS,
            &["input", "fieldIds"],
            "at most 50 trigger fields",
        );
        v.finish()?;
        let mut v = Validator::default();
        // Fields other fields point at (keys), among the named ones.
        let referenced: HashSet<Uuid> = data_field::Entity::find()
            .filter(data_field::Column::OrgId.eq(principal.org_id))
            .filter(data_field::Column::ReferencesId.is_in(field_ids.iter().copied()))
            .all(tx.conn())
            .await?
            .into_iter()
            .filter_map(|f| f.references_id)
            .collect();
        let mut seen = HashSet::new();
        for (i, id) in field_ids.iter().enumerate() {
            let index = i.to_string();
            let path = ["input", "fieldIds", index.as_str()];
            if !seen.insert(*id) {
                v.check(false, &path, "is listed twice");
                continue;
            }
            let Some(field) = fields.get(id) else {
                v.check(false, &path, "no such data field in the organization");
                continue;
            };
            let kind = sources
                .get(&field.source_id)
                .and_then(|s| s.connector_kind.parse::<ConnectorKind>().ok());
            v.check(
                matches!(
                    kind,
                    Some(ConnectorKind::Postgres | ConnectorKind::Mysql | ConnectorKind::Sqlite)
                ),
                &path,
                "is not in a SQL source: the sweep reads trigger dates from PostgreSQL, MySQL/MariaDB and SQLite sources",
            );
            v.check(
                !field.identifies_subject,
                &path,
                "identifies the subject: a trigger field holds a date",
            );
            v.check(
                field.references_id.is_none() && !referenced.contains(id),
                &path,
                "is a key (it references, or is referenced by, another field): a trigger field holds a date",
            );
        }
        v.finish()?;
        let before: Vec<Uuid> = retention_trigger_field::Entity::find()
            .filter(retention_trigger_field::Column::PolicyId.eq(policy.id))
            .all(tx.conn())
            .await?
            .into_iter()
            .map(|l| l.field_id)
            .collect();
        retention_trigger_field::Entity::delete_many()
            .filter(retention_trigger_field::Column::PolicyId.eq(policy.id))
            .exec(tx.conn())
            .await?;
        if !field_ids.is_empty() {
            retention_trigger_field::Entity::insert_many(field_ids.iter().map(|id| {
                retention_trigger_field::ActiveModel {
                    policy_id: sea_orm::Set(policy.id),
                    field_id: sea_orm::Set(*id),
                    org_id: sea_orm::Set(principal.org_id),
                }
            }))
            .exec(tx.conn())
            .await?;
        }
        let entry = Entry::success("setRetentionTriggerFields", "RetentionPolicy", policy.id)
            .before(json!({ "triggerFieldIds": before }))
            .after(json!({ "triggerFieldIds": field_ids }));
        self.commit_audited(tx, principal, entry).await?;
        policy.try_into()
    }
}
