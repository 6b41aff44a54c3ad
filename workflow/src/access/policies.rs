//! Editing who may do what: role assignments of keys and the permission rules of
//! roles, per organization. Changes are written in a transaction with their audit
//! event, then the enforcer reloads, so they apply to the next request.

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;
use uuid::Uuid;

use entity::{api_key, casbin_rule};

use crate::Workflow;
use crate::access::api_keys;
use crate::access::audit::Entry;
use crate::access::authz::{self, Action, Object, Role};
use crate::access::principal::Principal;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Error, Result};

/// One permission rule: `role` may perform `action` on `object`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyRule {
    /// Storage id (the cursor key).
    pub id: i64,
    /// The role.
    pub role: Role,
    /// The object.
    pub object: Object,
    /// The action.
    pub action: Action,
}

fn p_rule(org_id: Uuid, role: Role, object: Object, action: Action) -> Vec<String> {
    vec![
        role.as_str().to_owned(),
        authz::domain(org_id),
        object.as_str().to_owned(),
        action.as_str().to_owned(),
    ]
}

fn g_rule(key_id: Uuid, org_id: Uuid, role: Role) -> Vec<String> {
    vec![
        authz::subject(key_id),
        role.as_str().to_owned(),
        authz::domain(org_id),
    ]
}

async fn rule_exists<C: Conn>(conn: &C, ptype: &str, rule: &[String]) -> Result<bool> {
    Ok(casbin_rule::Entity::find()
        .filter(authz::rule_condition(ptype, rule))
        .count(conn)
        .await?
        > 0)
}

/// Fails with CONFLICT unless an active key other than `except` holds the admin role.
pub(crate) async fn ensure_other_admin<C: Conn>(
    conn: &C,
    org_id: Uuid,
    except: Uuid,
) -> Result<()> {
    let admins = casbin_rule::Entity::find()
        .filter(casbin_rule::Column::Ptype.eq("g"))
        .filter(casbin_rule::Column::V1.eq(Role::Admin.as_str()))
        .filter(casbin_rule::Column::V2.eq(authz::domain(org_id)))
        .all(conn)
        .await?;
    let ids: Vec<Uuid> = admins
        .iter()
        .filter_map(|r| r.v0.strip_prefix("key:").and_then(|id| id.parse().ok()))
        .filter(|id| *id != except)
        .collect();
    let others = api_key::Entity::find()
        .filter(api_key::Column::OrgId.eq(org_id))
        .filter(api_key::Column::RevokedAt.is_null())
        .filter(api_key::Column::Id.is_in(ids))
        .count(conn)
        .await?;
    if others == 0 {
        return Err(Error::Conflict(
            "this is the organization's last active admin key: grant the admin role to another key first".into(),
        ));
    }
    Ok(())
}

/// Rules that keep the organization manageable; removing them is refused.
fn is_protected(role: Role, object: Object, action: Action) -> bool {
    role == Role::Admin
        && object == Object::Policy
        && matches!(action, Action::Read | Action::Update)
}

impl Workflow {
    /// The organization's permission rules, optionally of one role.
    #[tracing::instrument(skip(self, page), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn policies(
        &self,
        principal: &Principal,
        role: Option<Role>,
        page: &PageRequest<i64>,
    ) -> Result<Page<PolicyRule>> {
        let mut select = casbin_rule::Entity::find()
            .filter(casbin_rule::Column::Ptype.eq("p"))
            .filter(casbin_rule::Column::V1.eq(authz::domain(principal.org_id)));
        if let Some(role) = role {
            select = select.filter(casbin_rule::Column::V0.eq(role.as_str()));
        }
        let page = paginate(self.store.conn(), select, casbin_rule::Column::Id, page).await?;
        let rules: Result<Vec<PolicyRule>> = page
            .items
            .iter()
            .map(|row| {
                let bad = |e: String| Error::Internal(format!("casbin_rule {}: {e}", row.id));
                Ok(PolicyRule {
                    id: row.id,
                    role: row.v0.parse().map_err(bad)?,
                    object: row.v2.parse().map_err(bad)?,
                    action: row.v3.parse().map_err(bad)?,
                })
            })
            .collect();
        Ok(Page {
            items: rules?,
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            total_count: page.total_count,
        })
    }

    /// Grants `role` to a key of the organization.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn grant_role(
        &self,
        principal: &Principal,
        key_id: Uuid,
        role: Role,
    ) -> Result<api_key::Model> {
        let tx = self.store.begin().await?;
        let key = api_keys::find_in_org(tx.conn(), principal.org_id, key_id).await?;
        if key.revoked_at.is_some() {
            return Err(Error::Conflict(format!(
                "API key `{}` is revoked",
                key.name
            )));
        }
        if rule_exists(tx.conn(), "g", &g_rule(key.id, key.org_id, role)).await? {
            return Err(Error::Conflict(format!(
                "API key `{}` already has the role {role}",
                key.name
            )));
        }
        let before = self.authz.roles_of(key.id, key.org_id).await;
        api_keys::insert_grouping(tx.conn(), key.id, key.org_id, role).await?;
        let mut after = before.clone();
        after.push(role);
        after.sort();
        let entry = Entry::success("grantRole", "ApiKey", key.id)
            .before(api_keys::audit_state(&key, &before))
            .after(api_keys::audit_state(&key, &after));
        self.commit_policy_change(tx, principal, entry).await?;
        Ok(key)
    }

    /// Takes `role` from a key. The last admin's admin role cannot be taken.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn revoke_role(
        &self,
        principal: &Principal,
        key_id: Uuid,
        role: Role,
    ) -> Result<api_key::Model> {
        let tx = self.store.begin().await?;
        let key = api_keys::find_in_org(tx.conn(), principal.org_id, key_id).await?;
        let rule = g_rule(key.id, key.org_id, role);
        if !rule_exists(tx.conn(), "g", &rule).await? {
            return Err(Error::Conflict(format!(
                "API key `{}` does not have the role {role}",
                key.name
            )));
        }
        if role == Role::Admin {
            ensure_other_admin(tx.conn(), key.org_id, key.id).await?;
        }
        let before = self.authz.roles_of(key.id, key.org_id).await;
        authz::delete_rules(tx.conn(), authz::rule_condition("g", &rule)).await?;
        let after: Vec<Role> = before.iter().copied().filter(|r| *r != role).collect();
        let entry = Entry::success("revokeRole", "ApiKey", key.id)
            .before(api_keys::audit_state(&key, &before))
            .after(api_keys::audit_state(&key, &after));
        self.commit_policy_change(tx, principal, entry).await?;
        Ok(key)
    }

    /// Allows `role` to perform `action` on `object` in the organization.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn add_policy(
        &self,
        principal: &Principal,
        role: Role,
        object: Object,
        action: Action,
    ) -> Result<PolicyRule> {
        let rule = p_rule(principal.org_id, role, object, action);
        let tx = self.store.begin().await?;
        if rule_exists(tx.conn(), "p", &rule).await? {
            return Err(Error::Conflict(format!(
                "role {role} may already {action} {object}"
            )));
        }
        let id = authz::insert_rule(tx.conn(), "p", &rule).await?;
        let entry = Entry::success(
            "addPolicy",
            "PolicyRule",
            format!("{role}:{object}:{action}"),
        )
        .after(
            json!({"role": role.as_str(), "object": object.as_str(), "action": action.as_str()}),
        );
        self.commit_policy_change(tx, principal, entry).await?;
        Ok(PolicyRule {
            id,
            role,
            object,
            action,
        })
    }

    /// Withdraws a permission rule. The admin's rules on `policy` cannot be removed.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn remove_policy(
        &self,
        principal: &Principal,
        role: Role,
        object: Object,
        action: Action,
    ) -> Result<()> {
        if is_protected(role, object, action) {
            return Err(Error::Conflict(format!(
                "the rule `{role} may {action} {object}` keeps the organization manageable and cannot be removed"
            )));
        }
        let rule = p_rule(principal.org_id, role, object, action);
        let tx = self.store.begin().await?;
        let removed = authz::delete_rules(tx.conn(), authz::rule_condition("p", &rule)).await?;
        if removed == 0 {
            return Err(Error::NotFound {
                what: "policy rule",
            });
        }
        let entry = Entry::success(
            "removePolicy",
            "PolicyRule",
            format!("{role}:{object}:{action}"),
        )
        .before(
            json!({"role": role.as_str(), "object": object.as_str(), "action": action.as_str()}),
        );
        self.commit_policy_change(tx, principal, entry).await?;
        Ok(())
    }
}
