//! Organizations (controllers): creation with their default policy, first admin key
//! and audit chain, and upgrades of the default policy.

use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use entity::{casbin_rule, organization};

use crate::access::api_keys::{self, IssuedKey};
use crate::access::audit::{self, Actor, Entry};
use crate::access::authz::{self, DefaultRule, Role};
use crate::access::principal::Principal;
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
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
    authz::insert_rules(conn, rows).await?;
    Ok(added)
}

/// Removes the organization's copies of `rules`; the ones it held, as
/// `role:object:action` (for the audit).
async fn remove_rules<C: Conn>(
    conn: &C,
    org_id: Uuid,
    rules: &[&DefaultRule],
) -> Result<Vec<String>> {
    let mut removed = Vec::new();
    for rule in rules {
        let values = rule_values(org_id, rule);
        if authz::delete_rules(conn, authz::rule_condition("p", &values)).await? > 0 {
            removed.push(format!("{}:{}:{}", rule.role, rule.object, rule.action));
        }
    }
    Ok(removed)
}

/// A person or office to contact (DPO, EU representative).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contact {
    /// Name (person or company).
    pub name: String,
    /// Postal address.
    pub address: Option<String>,
    /// E-mail address.
    pub email: Option<String>,
    /// Phone number.
    pub phone: Option<String>,
}

/// A change to the controller details; `None` keeps a field, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct OrganizationPatch {
    /// Legal name (cannot be cleared).
    pub name: Option<String>,
    /// Postal address.
    pub address: Option<Option<String>>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<Option<String>>,
    /// Contact e-mail.
    pub email: Option<Option<String>>,
    /// Contact phone.
    pub phone: Option<Option<String>>,
    /// Data protection officer.
    pub dpo: Option<Option<Contact>>,
    /// Representative in the Union (Art. 27).
    pub representative: Option<Option<Contact>>,
    /// Competent supervisory authority.
    pub supervisory_authority: Option<Option<String>>,
    /// Language of access answers (`None` inside: German).
    pub answer_language: Option<Option<crate::answer::Language>>,
}

/// The controller details as audited (Art. 30(1)(a)).
fn controller_state(org: &organization::Model) -> serde_json::Value {
    json!({
        "name": org.name, "address": org.address, "country": org.country,
        "email": org.email, "phone": org.phone,
        "dpo": [org.dpo_name, org.dpo_address, org.dpo_email, org.dpo_phone],
        "representative": [org.representative_name, org.representative_address,
                           org.representative_email, org.representative_phone],
        "supervisoryAuthority": org.supervisory_authority,
        "answerLanguage": org.answer_language,
    })
}

fn validate_contact(v: &mut Validator, contact: &Contact, field: &str) -> Contact {
    Contact {
        name: v.text(&contact.name, &["input", field, "name"], 200),
        address: contact
            .address
            .as_deref()
            .map(|a| v.multiline_text(a, &["input", field, "address"], 1000)),
        email: contact
            .email
            .as_deref()
            .map(|e| v.email(e, &["input", field, "email"])),
        phone: contact
            .phone
            .as_deref()
            .map(|p| v.phone(p, &["input", field, "phone"])),
    }
}

impl Workflow {
    /// Changes the controller details of the principal's organization.
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_organization(
        &self,
        principal: &Principal,
        patch: OrganizationPatch,
    ) -> Result<organization::Model> {
        let mut v = Validator::default();
        let name = patch
            .name
            .as_deref()
            .map(|n| v.text(n, &["input", "name"], 200));
        let address = patch
            .address
            .map(|a| a.map(|a| v.multiline_text(&a, &["input", "address"], 1000)));
        let country = patch
            .country
            .map(|c| c.map(|c| v.country(&c, &["input", "country"])));
        let email = patch
            .email
            .map(|e| e.map(|e| v.email(&e, &["input", "email"])));
        let phone = patch
            .phone
            .map(|p| p.map(|p| v.phone(&p, &["input", "phone"])));
        let dpo = patch
            .dpo
            .map(|c| c.map(|c| validate_contact(&mut v, &c, "dpo")));
        let representative = patch
            .representative
            .map(|c| c.map(|c| validate_contact(&mut v, &c, "representative")));
        let authority = patch
            .supervisory_authority
            .map(|a| a.map(|a| v.text(&a, &["input", "supervisoryAuthority"], 300)));
        v.finish()?;

        let tx = self.store.begin().await?;
        let org = organization::Entity::find_by_id(principal.org_id)
            .one(tx.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "organization",
            })?;
        if let Some(name) = &name
            && *name != org.name
            && let Some(other) = organization::Entity::find()
                .filter(organization::Column::Name.eq(name.clone()))
                .one(tx.conn())
                .await?
        {
            return Err(Error::Conflict(format!(
                "an organization named `{name}` exists already (id {})",
                other.id
            )));
        }
        let before = controller_state(&org);
        let mut active: organization::ActiveModel = org.into();
        if let Some(name) = name {
            active.name = Set(name);
        }
        if let Some(a) = address {
            active.address = Set(a);
        }
        if let Some(c) = country {
            active.country = Set(c);
        }
        if let Some(e) = email {
            active.email = Set(e);
        }
        if let Some(p) = phone {
            active.phone = Set(p);
        }
        if let Some(dpo) = dpo {
            let c = dpo.unwrap_or_default();
            let name = (!c.name.is_empty()).then_some(c.name);
            active.dpo_name = Set(name);
            active.dpo_address = Set(c.address);
            active.dpo_email = Set(c.email);
            active.dpo_phone = Set(c.phone);
        }
        if let Some(rep) = representative {
            let c = rep.unwrap_or_default();
            let name = (!c.name.is_empty()).then_some(c.name);
            active.representative_name = Set(name);
            active.representative_address = Set(c.address);
            active.representative_email = Set(c.email);
            active.representative_phone = Set(c.phone);
        }
        if let Some(a) = authority {
            active.supervisory_authority = Set(a);
        }
        if let Some(language) = patch.answer_language {
            active.answer_language = Set(language.map(|l| l.as_str().to_owned()));
        }
        active.updated_at = Set(now());
        let org = active.update(tx.conn()).await?;
        let entry = Entry::success("updateOrganization", "Organization", org.id)
            .before(before)
            .after(controller_state(&org));
        self.commit_audited(tx, principal, entry).await?;
        Ok(org)
    }

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
            taxonomy_version: Set(crate::register::taxonomy::default_taxonomy().version),
            created_at: Set(at),
            updated_at: Set(at),
            ..Default::default()
        }
        .insert(tx.conn())
        .await?;
        audit::start_chain(tx.conn(), org.id).await?;
        crate::register::taxonomy::seed(tx.conn(), org.id, 0).await?;
        insert_missing_rules(tx.conn(), org.id, &authz::default_policy()).await?;
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
        tx.commit_then(&self.bus, self.authz.reload()).await?;
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

    /// Brings organizations created under an older default policy to the current one:
    /// they get exactly the rules introduced since their version (rules an admin
    /// removed earlier are not re-added) and lose exactly the default rules withdrawn
    /// since, if they still hold them (rules an admin added by hand stay).
    pub(crate) async fn upgrade_default_policies(&self) -> Result<()> {
        let current = authz::default_policy_version();
        let outdated = organization::Entity::find()
            .filter(organization::Column::PolicyVersion.lt(current))
            .all(self.store.conn())
            .await?;
        let history = authz::default_policy_history();
        for org in outdated {
            let from = org.policy_version;
            let mut tx = self.store.begin().await?;
            // Claim the upgrade with one conditional statement: when two processes
            // start at once, only one of them upgrades (the other sees no row).
            let claimed = organization::Entity::update_many()
                .col_expr(organization::Column::PolicyVersion, Expr::value(current))
                .filter(organization::Column::Id.eq(org.id))
                .filter(organization::Column::PolicyVersion.eq(from))
                .exec(tx.conn())
                .await?;
            if claimed.rows_affected == 0 {
                continue;
            }
            let new: Vec<&DefaultRule> = history
                .iter()
                .filter(|r| r.since > from && r.in_force_at(current))
                .collect();
            let added = insert_missing_rules(tx.conn(), org.id, &new).await?;
            let withdrawn: Vec<&DefaultRule> = history
                .iter()
                .filter(|r| r.in_force_at(from) && !r.in_force_at(current))
                .collect();
            let removed = remove_rules(tx.conn(), org.id, &withdrawn).await?;
            audit::append(
                &mut tx,
                org.id,
                &Actor::system("policy upgrade"),
                Entry::success("upgradeDefaultPolicy", "Organization", org.id)
                    .before(json!({"policyVersion": from}))
                    .after(json!({
                        "policyVersion": current,
                        "rulesAdded": added,
                        "rulesRemoved": removed,
                    })),
            )
            .await?;
            tx.commit(&self.bus).await?;
            tracing::info!(org = %org.id, from, to = current, added, removed = ?removed, "default policy upgraded");
        }
        Ok(())
    }
}
