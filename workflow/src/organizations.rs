//! Organizations (controllers): creation with their default policy, first admin key
//! and audit chain, and upgrades of the default policy.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use entity::{casbin_rule, organization};

use crate::api_keys::{self, IssuedKey};
use crate::audit::{self, Actor, Entry};
use crate::authz::{self, DefaultRule, Role};
use crate::error::{Error, Result, Validator};
use crate::principal::Principal;
use crate::store::Conn;
use crate::{Workflow, new_id, now};

/// A new organization and its first admin key.
#[derive(Debug, Clone)]
pub struct NewOrganization {
    /// The organization.
    pub organization: organization::Model,
    /// Its first admin key (the secret is shown once).
    pub admin_key: IssuedKey,
}

fn rule_values(org_id: Uuid, r: &DefaultRule) -> Vec<String> {
    vec![
        r.role.as_str().to_owned(),
        authz::domain(org_id),
        r.object.as_str().to_owned(),
        r.action.as_str().to_owned(),
    ]
}

/// Inserts the rules the organization does not have yet; returns how many.
async fn insert_missing_rules<C: Conn>(
    conn: &C,
    org_id: Uuid,
    rules: &[&DefaultRule],
) -> Result<usize> {
    let existing: std::collections::HashSet<Vec<String>> = casbin_rule::Entity::find()
        .filter(casbin_rule::Column::Ptype.eq("p"))
        .filter(casbin_rule::Column::V1.eq(authz::domain(org_id)))
        .all(conn)
        .await?
        .iter()
        .map(|row| {
            vec![
                row.v0.clone(),
                row.v1.clone(),
                row.v2.clone(),
                row.v3.clone(),
            ]
        })
        .collect();
    let rows: Vec<_> = rules
        .iter()
        .map(|r| rule_values(org_id, r))
        .filter(|values| !existing.contains(values))
        .map(|values| authz::adapter_row("p", &values))
        .collect();
    let added = rows.len();
    if added > 0 {
        casbin_rule::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(added)
}

impl Workflow {
    /// Creates an organization with the default policy and a first admin key.
    /// Organization names are unique so that `init` run twice does not create two.
    #[tracing::instrument(skip(self, actor), err(level = "debug"))]
    pub async fn create_organization(&self, name: &str, actor: &Actor) -> Result<NewOrganization> {
        let mut v = Validator::default();
        let name = v.text(name, &["name"], 200);
        v.finish()?;
        let mut tx = self.store.begin().await?;
        if let Some(existing) = organization::Entity::find()
            .filter(organization::Column::Name.eq(name.clone()))
            .one(tx.conn())
            .await?
        {
            return Err(Error::Conflict(format!(
                "an organization named `{name}` exists already (id {})",
                existing.id
            )));
        }
        let at = now();
        let org = organization::ActiveModel {
            id: Set(new_id()),
            name: Set(name),
            policy_version: Set(authz::default_policy_version()),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(tx.conn())
        .await?;
        audit::start_chain(tx.conn(), org.id).await?;
        let rules: Vec<&DefaultRule> = authz::default_policy().iter().collect();
        insert_missing_rules(tx.conn(), org.id, &rules).await?;
        audit::append(
            &mut tx,
            org.id,
            actor,
            Entry::success("createOrganization", "Organization", org.id)
                .after(json!({"name": org.name})),
        )
        .await?;
        let admin_key =
            api_keys::issue(&mut tx, org.id, "initial admin", &[Role::Admin], actor).await?;
        tx.commit(&self.bus).await?;
        self.authz.reload().await?;
        Ok(NewOrganization {
            organization: org,
            admin_key,
        })
    }

    /// The principal's own organization.
    pub async fn organization(&self, principal: &Principal) -> Result<organization::Model> {
        self.organization_by_id(principal, principal.org_id).await
    }

    /// An organization by id: only the principal's own is visible.
    pub async fn organization_by_id(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<organization::Model> {
        if id != principal.org_id {
            return Err(Error::NotFound {
                what: "organization",
            });
        }
        organization::Entity::find_by_id(id)
            .one(self.store.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "organization",
            })
    }

    /// Finds an organization by its exact name (CLI use).
    pub async fn organization_named(&self, name: &str) -> Result<Option<organization::Model>> {
        Ok(organization::Entity::find()
            .filter(organization::Column::Name.eq(name))
            .one(self.store.conn())
            .await?)
    }

    /// Gives organizations created under an older default policy exactly the rules
    /// introduced since; rules an admin removed earlier are not re-added.
    pub(crate) async fn upgrade_default_policies(&self) -> Result<()> {
        let current = authz::default_policy_version();
        let outdated = organization::Entity::find()
            .filter(organization::Column::PolicyVersion.lt(current))
            .all(self.store.conn())
            .await?;
        for org in outdated {
            let mut tx = self.store.begin().await?;
            let rules: Vec<&DefaultRule> = authz::default_policy()
                .iter()
                .filter(|r| r.since > org.policy_version)
                .collect();
            let added = insert_missing_rules(tx.conn(), org.id, &rules).await?;
            let from = org.policy_version;
            let mut active: organization::ActiveModel = org.into();
            active.policy_version = Set(current);
            let org = active.update(tx.conn()).await?;
            audit::append(
                &mut tx,
                org.id,
                &Actor::system("policy upgrade"),
                Entry::success("upgradeDefaultPolicy", "Organization", org.id)
                    .before(json!({"policyVersion": from}))
                    .after(json!({"policyVersion": current, "rulesAdded": added})),
            )
            .await?;
            tx.commit(&self.bus).await?;
            tracing::info!(org = %org.id, from, to = current, added, "default policy upgraded");
        }
        Ok(())
    }
}
