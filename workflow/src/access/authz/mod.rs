//! Who may do what: Casbin RBAC with the organization as domain.
//!
//! The model is embedded; the policy is data in `casbin_rule`, seeded per organization
//! from `default_policy.csv` and edited through [`crate::Workflow`]'s policy functions.
//! Objects and actions are Rust enums rendered in exactly one place ([`Object::as_str`],
//! [`Action::as_str`]).

mod adapter;

use std::str::FromStr;
use std::sync::Arc;

use casbin::{CoreApi, DefaultModel, Enforcer, RbacApi};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, Set};
use tokio::sync::{Mutex, RwLock, watch};
use uuid::Uuid;

use entity::{casbin_rule, policy_revision};

pub use adapter::SeaOrmAdapter;
pub(crate) use adapter::{new_row as adapter_row, rule_condition};

use crate::core::store::{Conn, Store};
use crate::error::{Error, Result};

/// The embedded Casbin model.
pub const MODEL: &str = include_str!("model.conf");
/// The default policy, as shipped.
pub const DEFAULT_POLICY: &str = include_str!("default_policy.csv");

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name used in policies.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> std::result::Result<Self, String> {
                match s { $($text => Ok($name::$variant),)+ other => Err(format!("unknown {} `{other}`", stringify!($name).to_lowercase())) }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// The roles of design §5.
    Role {
        /// Everything, including keys and policies.
        Admin => "admin",
        /// Privacy officer.
        Dpo => "dpo",
        /// Owns data sources, answers manual tasks.
        Steward => "steward",
        /// Lawyer: approves, rejects, requests changes, redacts.
        Reviewer => "reviewer",
        /// Intake, identity check, dispatch.
        Agent => "agent",
        /// Reads everything, changes nothing.
        Auditor => "auditor",
        /// API clients.
        Integrator => "integrator",
    }
}

string_enum! {
    /// What a permission is about.
    Object {
        /// The organization (controller) record.
        Organization => "organization",
        /// API keys.
        ApiKey => "api_key",
        /// Role assignments and permission rules.
        Policy => "policy",
        /// The audit log.
        AuditEvent => "audit_event",
        /// The register of processing activities: taxonomy, purposes, recipients,
        /// transfers, retention, activities.
        Register => "register",
        /// Data sources and where in them personal data lives (fields).
        DataSource => "data_source",
        /// Data-subject requests, their subjects, tasks, timeline and review.
        Request => "request",
        /// The consent ledger: consents, their evidence, campaign checks.
        Consent => "consent",
        /// The retention sweep: its runs and what they found.
        Retention => "retention",
    }
}

string_enum! {
    /// What is done to an object.
    Action {
        /// Read.
        Read => "read",
        /// Create.
        Create => "create",
        /// Change.
        Update => "update",
        /// Delete or revoke.
        Delete => "delete",
        /// Check a requester's identity (request workflow).
        Verify => "verify",
        /// Complete or fail collection tasks: write what was found in a source.
        Collect => "collect",
        /// Decide as a lawyer: approve, reject, request changes, redact, comment.
        Review => "review",
        /// Carry out erasure, restriction or rectification.
        Execute => "execute",
        /// Send the answer and close the request.
        Dispatch => "dispatch",
        /// Cancel a request withdrawn by the subject.
        Cancel => "cancel",
        /// Extend the deadline (Art. 12(3) sentence 2).
        Extend => "extend",
        /// See the personal data collected for a request (its records).
        ReadData => "read_data",
        /// Hand a collected request to legal review, or back to collection after the
        /// reviewer requested changes.
        Submit => "submit",
    }
}

/// One rule of the shipped default policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRule {
    /// Policy version that introduced the rule.
    pub since: i32,
    /// Role granted.
    pub role: Role,
    /// Object.
    pub object: Object,
    /// Action.
    pub action: Action,
    /// Policy version that withdrew the rule, if one did.
    pub withdrawn: Option<i32>,
}

impl DefaultRule {
    /// Whether an organization at policy `version` holds the rule by default.
    pub fn in_force_at(&self, version: i32) -> bool {
        self.since <= version && self.withdrawn.is_none_or(|w| version < w)
    }
}

/// Parses `default_policy.csv`: `since, role, object, action[, withdrawn]`, `#`
/// comments. Returns every line, withdrawn ones included (the upgrade needs them).
pub fn parse_policy(text: &str) -> std::result::Result<Vec<DefaultRule>, String> {
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |e: String| format!("line {}: {e}", n + 1);
        let version = |s: &str| {
            s.parse::<i32>()
                .map_err(|_| at(format!("bad version `{s}`")))
        };
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let (since, role, object, action, withdrawn) = match cols[..] {
            [since, role, object, action] => (since, role, object, action, None),
            [since, role, object, action, withdrawn] => {
                (since, role, object, action, Some(version(withdrawn)?))
            }
            _ => return Err(at("expected 4 or 5 columns".into())),
        };
        let rule = DefaultRule {
            since: version(since)?,
            role: role.parse().map_err(at)?,
            object: object.parse().map_err(at)?,
            action: action.parse().map_err(at)?,
            withdrawn,
        };
        if rule.withdrawn.is_some_and(|w| w <= rule.since) {
            return Err(at("withdrawn before it was introduced".into()));
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// Every line of the shipped default policy, withdrawn rules included.
pub fn default_policy_history() -> &'static [DefaultRule] {
    static RULES: std::sync::LazyLock<Vec<DefaultRule>> = std::sync::LazyLock::new(|| {
        parse_policy(DEFAULT_POLICY).expect("default_policy.csv is valid (tested)")
    });
    &RULES
}

/// The shipped default policy as it stands: what a new organization gets.
pub fn default_policy() -> Vec<&'static DefaultRule> {
    let version = default_policy_version();
    default_policy_history()
        .iter()
        .filter(|r| r.in_force_at(version))
        .collect()
}

/// The newest policy version in the shipped default policy.
pub fn default_policy_version() -> i32 {
    default_policy_history()
        .iter()
        .flat_map(|r| [Some(r.since), r.withdrawn])
        .flatten()
        .max()
        .unwrap_or(0)
}

/// The Casbin subject of an API key.
pub fn subject(key_id: Uuid) -> String {
    format!("key:{key_id}")
}

/// The Casbin domain of an organization.
pub fn domain(org_id: Uuid) -> String {
    org_id.to_string()
}

/// The shared enforcer. Reads take a read lock; policy changes are written to the
/// database in the caller's transaction (which also bumps the policy revision, see
/// [`insert_rules`] and [`delete_rules`]) and then reloaded here.
///
/// Rules written by another process (`auskunft init`, another replica, a CLI) are
/// seen through the revision: [`Authz::refresh`] compares the database's revision with
/// the one loaded (one single-row read) and reloads when it moved. The server calls it
/// on every authentication and once a second in the background.
#[derive(Clone)]
pub struct Authz {
    enforcer: Arc<RwLock<Enforcer>>,
    db: DatabaseConnection,
    /// Serializes reloads, so requests noticing one change reload once.
    reload_lock: Arc<Mutex<()>>,
    /// The revision the enforcer holds; receivers learn of every reload.
    loaded: Arc<watch::Sender<i64>>,
}

/// Marks the policy as changed, in the transaction of every `casbin_rule` write (see
/// [`insert_rules`], [`delete_rules`]), so every process holding the policy in memory
/// sees that it must reload.
async fn bump_revision<C: Conn>(conn: &C) -> Result<()> {
    let bumped = policy_revision::Entity::update_many()
        .col_expr(
            policy_revision::Column::Revision,
            Expr::col(policy_revision::Column::Revision).add(1),
        )
        .filter(policy_revision::Column::Id.eq(REVISION_ROW))
        .exec(conn)
        .await?;
    if bumped.rows_affected == 0 {
        // The migration creates the row; recreate it if someone removed it.
        policy_revision::Entity::insert(policy_revision::ActiveModel {
            id: Set(REVISION_ROW),
            revision: Set(1),
        })
        .exec(conn)
        .await?;
    }
    Ok(())
}

/// Inserts rules (`p` or `g` rows) and bumps the revision: the one way rules are added.
pub(crate) async fn insert_rules<C: Conn>(
    conn: &C,
    rows: Vec<casbin_rule::ActiveModel>,
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    casbin_rule::Entity::insert_many(rows).exec(conn).await?;
    bump_revision(conn).await
}

/// Inserts one rule and bumps the revision; its row id.
pub(crate) async fn insert_rule<C: Conn>(conn: &C, ptype: &str, rule: &[String]) -> Result<i64> {
    let inserted = casbin_rule::Entity::insert(adapter_row(ptype, rule))
        .exec(conn)
        .await?;
    bump_revision(conn).await?;
    Ok(inserted.last_insert_id)
}

/// Deletes the rules matching `cond` and bumps the revision if any were: the one way
/// rules are removed. How many were.
pub(crate) async fn delete_rules<C: Conn>(conn: &C, cond: Condition) -> Result<u64> {
    let removed = casbin_rule::Entity::delete_many()
        .filter(cond)
        .exec(conn)
        .await?
        .rows_affected;
    if removed > 0 {
        bump_revision(conn).await?;
    }
    Ok(removed)
}

/// The policy revision stored in the database.
async fn stored_revision<C: Conn>(conn: &C) -> Result<i64> {
    Ok(policy_revision::Entity::find_by_id(REVISION_ROW)
        .one(conn)
        .await?
        .map_or(0, |row| row.revision))
}

const REVISION_ROW: i32 = 1;

impl Authz {
    /// Loads the model and every organization's policy.
    pub async fn load(store: &Store) -> Result<Self> {
        let model = DefaultModel::from_str(MODEL).await?;
        // Read before the rules are loaded (see `reload_locked`).
        let revision = stored_revision(store.conn()).await?;
        // Creating the enforcer loads the policy.
        let mut enforcer = Enforcer::new(model, SeaOrmAdapter::new(store.conn().clone())).await?;
        // Policy rows are written by our own transactions, never by the enforcer.
        enforcer.enable_auto_save(false);
        Ok(Self {
            enforcer: Arc::new(RwLock::new(enforcer)),
            db: store.conn().clone(),
            reload_lock: Arc::new(Mutex::new(())),
            loaded: Arc::new(watch::Sender::new(revision)),
        })
    }

    /// Reloads the whole policy from the database (after a committed change).
    pub async fn reload(&self) -> Result<()> {
        let _turn = self.reload_lock.lock().await;
        self.reload_locked().await
    }

    async fn reload_locked(&self) -> Result<()> {
        // Decisions wait from here until the new rules are in (a change committed by
        // this process is decided on with its rules, not the old ones).
        let mut enforcer = self.enforcer.write().await;
        // The revision is read before the rules: a change committed in between is
        // loaded with the older number and so loaded once more later, never missed.
        let revision = stored_revision(&self.db).await?;
        enforcer.load_policy().await?;
        self.loaded.send_replace(revision);
        Ok(())
    }

    /// Reloads the policy if another process (or this one) changed it since it was
    /// loaded: one single-row read when nothing changed. Whether it reloaded.
    pub async fn refresh(&self) -> Result<bool> {
        let stored = stored_revision(&self.db).await?;
        if stored == *self.loaded.borrow() {
            return Ok(false);
        }
        let _turn = self.reload_lock.lock().await;
        if stored == *self.loaded.borrow() {
            return Ok(false); // reloaded by a concurrent caller meanwhile
        }
        self.reload_locked().await?;
        tracing::debug!(revision = stored, "policy changed elsewhere; reloaded");
        Ok(true)
    }

    /// The policy revision the enforcer holds.
    pub fn revision(&self) -> i64 {
        *self.loaded.borrow()
    }

    /// Notified after every reload with the revision loaded (changes made here, or
    /// noticed by [`Authz::refresh`]): e.g. to re-check open WebSocket connections.
    pub fn watch_revision(&self) -> watch::Receiver<i64> {
        self.loaded.subscribe()
    }

    /// Whether the key may perform `action` on `object` in its organization.
    pub async fn is_allowed(
        &self,
        key_id: Uuid,
        org_id: Uuid,
        object: Object,
        action: Action,
    ) -> Result<bool> {
        if key_id == crate::access::principal::WORKER_ID {
            // The collection engine stores what it found and hands the request to
            // review; nothing else.
            return Ok(
                object == Object::Request && matches!(action, Action::Collect | Action::Submit)
            );
        }
        if key_id == crate::access::principal::RETENTION_ID {
            // The retention sweep opens erasure requests for the controller's own
            // records and confirms their identity; nothing else.
            return Ok(
                object == Object::Request && matches!(action, Action::Create | Action::Verify)
            );
        }
        let allowed = self.enforcer.read().await.enforce((
            subject(key_id),
            domain(org_id),
            object.as_str(),
            action.as_str(),
        ))?;
        Ok(allowed)
    }

    /// Like [`Authz::is_allowed`], but FORBIDDEN when not.
    pub async fn require(
        &self,
        key_id: Uuid,
        org_id: Uuid,
        object: Object,
        action: Action,
    ) -> Result<()> {
        if self.is_allowed(key_id, org_id, object, action).await? {
            Ok(())
        } else {
            Err(Error::Forbidden {
                object: object.as_str().to_owned(),
                action: action.as_str().to_owned(),
            })
        }
    }

    /// The roles of a key in its organization, sorted.
    pub async fn roles_of(&self, key_id: Uuid, org_id: Uuid) -> Vec<Role> {
        let enforcer = self.enforcer.read().await;
        let mut roles: Vec<Role> = enforcer
            .get_roles_for_user(&subject(key_id), Some(&domain(org_id)))
            .iter()
            .filter_map(|r| r.parse().ok())
            .collect();
        roles.sort();
        roles
    }

    /// Every (object, action) pair the key may perform.
    pub async fn permissions_of(
        &self,
        key_id: Uuid,
        org_id: Uuid,
    ) -> Result<Vec<(Object, Action)>> {
        let enforcer = self.enforcer.read().await;
        let (sub, dom) = (subject(key_id), domain(org_id));
        let mut allowed = Vec::new();
        for object in Object::ALL {
            for action in Action::ALL {
                if enforcer.enforce((
                    sub.as_str(),
                    dom.as_str(),
                    object.as_str(),
                    action.as_str(),
                ))? {
                    allowed.push((*object, *action));
                }
            }
        }
        Ok(allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use casbin::MemoryAdapter;
    use casbin::MgmtApi;

    #[test]
    fn shipped_policy_parses_and_names_only_known_values() {
        let rules = parse_policy(DEFAULT_POLICY).unwrap();
        assert!(rules.len() > 10);
        assert_eq!(default_policy_version(), 6);
        let mut seen = std::collections::HashSet::new();
        for r in &rules {
            assert!(
                seen.insert((r.role, r.object, r.action)),
                "{r:?} is listed twice"
            );
        }
    }

    #[test]
    fn bad_policy_lines_are_reported_with_line_numbers() {
        assert_eq!(
            parse_policy("1, admin, nothing, read").unwrap_err(),
            "line 1: unknown object `nothing`"
        );
        assert!(
            parse_policy("x, admin")
                .unwrap_err()
                .contains("4 or 5 columns")
        );
        assert_eq!(
            parse_policy("3, agent, request, collect, 3").unwrap_err(),
            "line 1: withdrawn before it was introduced"
        );
        let withdrawn = &parse_policy("3, agent, request, collect, 4").unwrap()[0];
        assert_eq!(withdrawn.withdrawn, Some(4));
        assert!(!withdrawn.in_force_at(2));
        assert!(withdrawn.in_force_at(3));
        assert!(!withdrawn.in_force_at(4));
    }

    /// Truth table of the shipped policy through the real model (casbin-rs style).
    #[tokio::test]
    async fn policy_truth_table() {
        let model = DefaultModel::from_str(MODEL).await.unwrap();
        let mut e = Enforcer::new(model, MemoryAdapter::default())
            .await
            .unwrap();
        let org = "org-a";
        for rule in default_policy() {
            e.add_policy(vec![
                rule.role.as_str().into(),
                org.into(),
                rule.object.as_str().into(),
                rule.action.as_str().into(),
            ])
            .await
            .unwrap();
        }
        for role in Role::ALL {
            e.add_grouping_policy(vec![
                format!("key:{role}"),
                role.as_str().into(),
                org.into(),
            ])
            .await
            .unwrap();
        }
        let can = |role: &str, obj: &str, act: &str| {
            e.enforce((format!("key:{role}"), org, obj, act)).unwrap()
        };
        let can_elsewhere = |role: &str, obj: &str, act: &str| {
            e.enforce((format!("key:{role}"), "org-b", obj, act))
                .unwrap()
        };
        assert!(can("admin", "api_key", "create"));
        assert!(can("admin", "policy", "update"));
        assert!(can("dpo", "audit_event", "read"));
        assert!(can("auditor", "audit_event", "read"));
        assert!(can("integrator", "organization", "read"));
        assert!(
            !can("auditor", "api_key", "create"),
            "auditors change nothing"
        );
        assert!(
            !can("auditor", "policy", "update"),
            "auditors change nothing"
        );
        assert!(!can("dpo", "api_key", "create"), "only admins issue keys");
        assert!(!can("reviewer", "audit_event", "read"));
        assert!(!can("integrator", "api_key", "read"));
        assert!(!can("agent", "policy", "read"));
        assert!(
            !can_elsewhere("admin", "api_key", "read"),
            "roles hold in their own organization only"
        );
        assert!(!can("nobody", "organization", "read"), "deny by default");
        // Version 4: writing collected data is the steward's, submitting the agent's.
        assert!(can("steward", "request", "collect"));
        assert!(!can("agent", "request", "collect"));
        assert!(can("agent", "request", "submit"));
        assert!(!can("steward", "request", "submit"));
        assert!(!can("reviewer", "request", "update"));
    }
}
