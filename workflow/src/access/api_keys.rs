//! API keys: creation (the secret is returned once), listing, revocation,
//! and authentication of a presented key.
//!
//! A key reads `ak_<prefix>_<secret>`: the prefix (12 characters) finds the row, the
//! secret (256 random bits) is compared by its SHA-256 digest. A slow password hash
//! buys nothing for a secret of that entropy and would tax every request.

use chrono::Duration;
use rand::Rng;
use rand::distr::Alphanumeric;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, IntoActiveModel, QueryFilter, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{api_key, casbin_rule};

use crate::access::audit::{self, Actor, Entry};
use crate::access::authz::{self, Role};
use crate::access::principal::Principal;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::{Conn, Tx};
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

const PREFIX_LEN: usize = 12;
/// `last_used_at` is written at most this often per key.
const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

/// A freshly generated key: the row and the full secret key string (shown once).
#[derive(Debug, Clone)]
pub struct IssuedKey {
    /// The stored key.
    pub key: api_key::Model,
    /// The full key to hand to its user; not stored anywhere.
    pub secret: String,
}

/// Input of [`Workflow::create_api_key`].
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// A name saying who or what uses the key.
    pub name: String,
    /// Roles to grant (at least one).
    pub roles: Vec<Role>,
}

fn generate() -> (String, String) {
    let mut rng = rand::rng();
    let prefix: String = (&mut rng)
        .sample_iter(Alphanumeric)
        .take(PREFIX_LEN)
        .map(|c| (c as char).to_ascii_lowercase())
        .collect();
    let secret: String = (&mut rng)
        .sample_iter(Alphanumeric)
        .take(43)
        .map(char::from)
        .collect();
    (prefix, secret)
}

fn secret_hash(secret: &str) -> String {
    audit::sha256_hex(secret.as_bytes())
}

/// Splits `ak_<prefix>_<secret>`.
/// The public prefix of a presented key (`ak_<prefix>_<secret>`), if it is well-formed.
pub fn key_prefix(presented: &str) -> Option<&str> {
    parse_key(presented.trim()).map(|(prefix, _)| prefix)
}

fn parse_key(key: &str) -> Option<(&str, &str)> {
    let rest = key.strip_prefix("ak_")?;
    let (prefix, secret) = rest.split_once('_')?;
    (prefix.len() == PREFIX_LEN && !secret.is_empty()).then_some((prefix, secret))
}

/// The audit view of a key (never the hash).
pub(crate) fn audit_state(key: &api_key::Model, roles: &[Role]) -> serde_json::Value {
    json!({
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
        "revokedAt": key.revoked_at,
    })
}

/// Inserts a key and its role assignments in the caller's transaction.
pub(crate) async fn issue(
    tx: &mut Tx,
    org_id: Uuid,
    name: &str,
    roles: &[Role],
    actor: &Actor,
) -> Result<IssuedKey> {
    let (prefix, secret) = generate();
    let key = api_key::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(name.to_owned()),
        prefix: Set(prefix.clone()),
        secret_hash: Set(secret_hash(&secret)),
        created_at: Set(now()),
        created_by: Set(actor.id),
        last_used_at: Set(None),
        revoked_at: Set(None),
        revoked_by: Set(None),
    }
    .insert(tx.conn())
    .await?;
    for role in roles {
        insert_grouping(tx.conn(), key.id, org_id, *role).await?;
    }
    audit::append(
        tx,
        org_id,
        actor,
        Entry::success("createApiKey", "ApiKey", key.id).after(audit_state(&key, roles)),
    )
    .await?;
    Ok(IssuedKey {
        key,
        secret: format!("ak_{prefix}_{secret}"),
    })
}

pub(crate) async fn insert_grouping<C: Conn>(
    conn: &C,
    key_id: Uuid,
    org_id: Uuid,
    role: Role,
) -> Result<()> {
    let rule = [
        authz::subject(key_id),
        role.as_str().to_owned(),
        authz::domain(org_id),
    ];
    authz::insert_rule(conn, "g", &rule).await?;
    Ok(())
}

/// Validates a key name.
pub(crate) fn validate_name(v: &mut Validator, name: &str, path: &[&str]) -> String {
    v.text(name, path, 200)
}

/// The principal of a key or a person by id, for credentials derived from one
/// (download links); UNAUTHENTICATED when the key is unknown or revoked, or the
/// person deactivated.
pub(crate) async fn principal_of_key<C: crate::core::store::Conn>(
    conn: &C,
    key_id: Uuid,
) -> Result<Principal> {
    if let Some(key) = api_key::Entity::find_by_id(key_id).one(conn).await? {
        if key.revoked_at.is_some() {
            return Err(Error::Unauthenticated("the API key is revoked".into()));
        }
        return Ok(Principal {
            key_id: key.id,
            org_id: key.org_id,
            key_name: key.name,
            kind: crate::PrincipalKind::ApiKey,
        });
    }
    // A person's links act for the person, while they may still sign in.
    crate::access::oidc::active_person_principal(conn, key_id)
        .await?
        .ok_or_else(|| Error::Unauthenticated("the API key or person is unknown or revoked".into()))
}

impl Workflow {
    /// Creates a key in the principal's organization; the secret is in the result only.
    #[tracing::instrument(skip(self, input), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_api_key(
        &self,
        principal: &Principal,
        input: NewApiKey,
    ) -> Result<IssuedKey> {
        let mut v = Validator::default();
        let name = validate_name(&mut v, &input.name, &["input", "name"]);
        v.check(
            !input.roles.is_empty(),
            &["input", "roles"],
            "grant at least one role",
        );
        let mut roles = input.roles;
        roles.sort();
        roles.dedup();
        v.finish()?;
        let mut tx = self.store.begin().await?;
        let issued = issue(
            &mut tx,
            principal.org_id,
            &name,
            &roles,
            &Actor::from(principal),
        )
        .await?;
        tx.commit_then(&self.bus, self.authz.reload()).await?;
        Ok(issued)
    }

    /// Lists the organization's keys, newest last.
    #[tracing::instrument(skip(self, page), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn api_keys(
        &self,
        principal: &Principal,
        include_revoked: bool,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<api_key::Model>> {
        let mut select =
            api_key::Entity::find().filter(api_key::Column::OrgId.eq(principal.org_id));
        if !include_revoked {
            select = select.filter(api_key::Column::RevokedAt.is_null());
        }
        paginate(self.store.conn(), select, api_key::Column::Id, page).await
    }

    /// One key of the principal's organization (NOT_FOUND for other organizations').
    pub async fn api_key(&self, principal: &Principal, id: Uuid) -> Result<api_key::Model> {
        find_in_org(self.store.conn(), principal.org_id, id).await
    }

    /// Revokes a key; it is refused from then on. The organization's last admin key
    /// cannot be revoked (nobody could manage keys any more).
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn revoke_api_key(&self, principal: &Principal, id: Uuid) -> Result<api_key::Model> {
        let tx = self.store.begin().await?;
        let key = find_in_org(tx.conn(), principal.org_id, id).await?;
        if key.revoked_at.is_some() {
            return Err(Error::Conflict(format!(
                "API key `{}` is already revoked",
                key.name
            )));
        }
        let roles = self.authz.roles_of(key.id, key.org_id).await;
        if roles.contains(&Role::Admin) {
            crate::access::policies::ensure_other_admin(tx.conn(), principal.org_id, key.id)
                .await?;
        }
        let before = audit_state(&key, &roles);
        let mut active = key.into_active_model();
        active.revoked_at = Set(Some(now()));
        active.revoked_by = Set(Some(principal.key_id));
        let revoked = active.update(tx.conn()).await?;
        authz::delete_rules(
            tx.conn(),
            Condition::all()
                .add(casbin_rule::Column::Ptype.eq("g"))
                .add(casbin_rule::Column::V0.eq(authz::subject(revoked.id)))
                .add(casbin_rule::Column::V2.eq(authz::domain(revoked.org_id))),
        )
        .await?;
        let entry = Entry::success("revokeApiKey", "ApiKey", revoked.id)
            .before(before)
            .after(audit_state(&revoked, &[]));
        self.commit_policy_change(tx, principal, entry).await?;
        Ok(revoked)
    }

    /// Resolves a presented key to its principal; unknown, malformed and revoked keys
    /// are all UNAUTHENTICATED with the same message (nothing to probe).
    pub async fn authenticate(&self, presented: &str) -> Result<Principal> {
        let refused = || Error::Unauthenticated("the API key is unknown or revoked".into());
        let (prefix, secret) = parse_key(presented.trim()).ok_or_else(refused)?;
        let key = api_key::Entity::find()
            .filter(api_key::Column::Prefix.eq(prefix))
            .one(self.store.conn())
            .await?
            .ok_or_else(refused)?;
        if key.revoked_at.is_some() || key.secret_hash != secret_hash(secret) {
            return Err(refused());
        }
        let at = now();
        if key
            .last_used_at
            .is_none_or(|t| at - t > LAST_USED_GRANULARITY)
        {
            let _turn = self.store.writer_turn().await;
            api_key::Entity::update_many()
                .col_expr(
                    api_key::Column::LastUsedAt,
                    sea_orm::sea_query::Expr::value(at),
                )
                .filter(api_key::Column::Id.eq(key.id))
                .exec(self.store.conn())
                .await?;
        }
        // Rules written by another process (e.g. `auskunft init` creating this very
        // key's organization) apply at once: one single-row read when none were.
        self.authz.refresh().await?;
        Ok(Principal {
            key_id: key.id,
            org_id: key.org_id,
            key_name: key.name,
            kind: crate::PrincipalKind::ApiKey,
        })
    }

    /// Records in the key's organization that sign-ins with the key `prefix` were locked
    /// out after too many failures from `client`. Nothing is recorded for a prefix no key
    /// has: such a lockout belongs to no organization (the server logs it).
    #[tracing::instrument(skip(self), err(level = "debug"))]
    pub async fn record_lockout(&self, prefix: &str, client: &str) -> Result<bool> {
        let Some(key) = api_key::Entity::find()
            .filter(api_key::Column::Prefix.eq(prefix))
            .one(self.store.conn())
            .await?
        else {
            return Ok(false);
        };
        let mut tx = self.store.begin().await?;
        let entry = Entry {
            operation: "authenticate".into(),
            object_type: Some("ApiKey".into()),
            object_id: Some(key.id.to_string()),
            outcome: audit::Outcome::Denied,
            error_code: Some(crate::ErrorCode::RateLimited.as_str().into()),
            before: None,
            after: None,
        };
        let actor = Actor {
            id: None,
            name: format!("client:{client}"),
        };
        audit::append(&mut tx, key.org_id, &actor, entry).await?;
        tx.commit(&self.bus).await?;
        Ok(true)
    }

    /// Whether `principal` still stands as it signed in: its key is not revoked and holds
    /// exactly `roles` (a long-lived connection is closed when this turns false).
    pub async fn principal_unchanged(&self, principal: &Principal, roles: &[Role]) -> Result<bool> {
        if principal.is_person() {
            return self.person_unchanged(principal, roles).await;
        }
        let active = api_key::Entity::find_by_id(principal.key_id)
            .one(self.store.conn())
            .await?
            .is_some_and(|k| k.revoked_at.is_none());
        if !active {
            return Ok(false);
        }
        let now = self
            .authz
            .roles_of(principal.key_id, principal.org_id)
            .await;
        let mut then = roles.to_vec();
        then.sort();
        Ok(now == then)
    }

    /// The roles a key holds in its organization.
    pub async fn roles_of_key(&self, key: &api_key::Model) -> Vec<Role> {
        self.authz.roles_of(key.id, key.org_id).await
    }
}

pub(crate) async fn find_in_org<C: Conn>(
    conn: &C,
    org_id: Uuid,
    id: Uuid,
) -> Result<api_key::Model> {
    api_key::Entity::find_by_id(id)
        .filter(api_key::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound { what: "API key" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_and_differ() {
        let (p1, s1) = generate();
        let (p2, s2) = generate();
        assert_ne!((&p1, &s1), (&p2, &s2));
        let full = format!("ak_{p1}_{s1}");
        assert_eq!(parse_key(&full), Some((p1.as_str(), s1.as_str())));
        assert_eq!(s1.len(), 43, "43 alphanumerics carry more than 256 bits");
    }

    #[test]
    fn malformed_keys_do_not_parse() {
        for bad in [
            "",
            "ak_",
            "ak_short_x",
            "xx_abcdefghijkl_secret",
            "ak_abcdefghijkl_",
        ] {
            assert_eq!(parse_key(bad), None, "{bad:?}");
        }
    }
}
