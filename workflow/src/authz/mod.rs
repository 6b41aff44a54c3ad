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
use tokio::sync::RwLock;
use uuid::Uuid;

pub use adapter::SeaOrmAdapter;
pub(crate) use adapter::{new_row as adapter_row, rule_condition};

use crate::error::{Error, Result};
use crate::store::Store;

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
        /// Complete collection tasks and submit for review.
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
}

/// Parses `default_policy.csv`: `since, role, object, action`, `#` comments.
pub fn parse_policy(text: &str) -> std::result::Result<Vec<DefaultRule>, String> {
    let mut rules = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split(',').map(str::trim).collect();
        let [since, role, object, action] = cols[..] else {
            return Err(format!("line {}: expected 4 columns", n + 1));
        };
        rules.push(DefaultRule {
            since: since
                .parse()
                .map_err(|_| format!("line {}: bad version `{since}`", n + 1))?,
            role: role.parse().map_err(|e| format!("line {}: {e}", n + 1))?,
            object: object.parse().map_err(|e| format!("line {}: {e}", n + 1))?,
            action: action.parse().map_err(|e| format!("line {}: {e}", n + 1))?,
        });
    }
    Ok(rules)
}

/// The shipped default policy.
pub fn default_policy() -> &'static [DefaultRule] {
    static RULES: std::sync::LazyLock<Vec<DefaultRule>> = std::sync::LazyLock::new(|| {
        parse_policy(DEFAULT_POLICY).expect("default_policy.csv is valid (tested)")
    });
    &RULES
}

/// The newest policy version in the shipped default policy.
pub fn default_policy_version() -> i32 {
    default_policy().iter().map(|r| r.since).max().unwrap_or(0)
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
/// database in the caller's transaction and then reloaded here.
#[derive(Clone)]
pub struct Authz {
    enforcer: Arc<RwLock<Enforcer>>,
}

impl Authz {
    /// Loads the model and every organization's policy.
    pub async fn load(store: &Store) -> Result<Self> {
        let model = DefaultModel::from_str(MODEL).await?;
        let mut enforcer = Enforcer::new(model, SeaOrmAdapter::new(store.conn().clone())).await?;
        // Policy rows are written by our own transactions, never by the enforcer.
        enforcer.enable_auto_save(false);
        Ok(Self {
            enforcer: Arc::new(RwLock::new(enforcer)),
        })
    }

    /// Reloads the whole policy from the database (after a committed change).
    pub async fn reload(&self) -> Result<()> {
        self.enforcer.write().await.load_policy().await?;
        Ok(())
    }

    /// Whether the key may perform `action` on `object` in its organization.
    pub async fn is_allowed(
        &self,
        key_id: Uuid,
        org_id: Uuid,
        object: Object,
        action: Action,
    ) -> Result<bool> {
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
        assert_eq!(default_policy_version(), 3);
    }

    #[test]
    fn bad_policy_lines_are_reported_with_line_numbers() {
        assert_eq!(
            parse_policy("1, admin, nothing, read").unwrap_err(),
            "line 1: unknown object `nothing`"
        );
        assert!(parse_policy("x, admin").unwrap_err().contains("4 columns"));
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
    }
}
