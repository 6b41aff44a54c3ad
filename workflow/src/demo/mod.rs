//! The demo setup of `serve --demo`: a demo organization, one API key per role, a
//! small register with the demo shop database as a source, a CRM the demo server
//! serves itself ([`crm`]), and sample requests.

pub mod crm;
pub mod register;
pub mod requests;

use crate::access::audit::Actor;
use crate::access::authz::Role;
use crate::error::Result;
use crate::{NewApiKey, Workflow};

/// Name of the demo organization.
pub const DEMO_ORGANIZATION: &str = "Demo Möbelhaus GmbH";

/// What the demo created, for printing.
#[derive(Debug, Clone)]
pub struct DemoSetup {
    /// The demo organization.
    pub organization: entity::organization::Model,
    /// Whether it was created now (false: it existed, keys were re-issued).
    pub created: bool,
    /// One full key per role, in role order.
    pub keys: Vec<(Role, String)>,
}

fn key_name(role: Role) -> String {
    format!("demo {role}")
}

/// The demo's consent ledger, as a CRM export would bring it in (the contacts of
/// the demo CRM: Erika subscribed to the newsletter, Max subscribed and unsubscribed
/// by phone, Erika refused calls).
const DEMO_CONSENTS: &str = "\
identity,purpose,channel,state,occurred_at,source,text_version
erika.mustermann@example.org,Newsletter,EMAIL,GRANTED,2024-03-02T09:14:00Z,shop sign-up form (double opt-in),newsletter-2024-01
max.mustermann@example.org,Newsletter,EMAIL,GRANTED,2024-06-11T17:40:00Z,shop sign-up form (double opt-in),newsletter-2024-01
max.mustermann@example.org,Newsletter,EMAIL,WITHDRAWN,2025-11-20T10:05:00Z,call to customer service (CRM activity a-602),
+49 30 1234567,Newsletter,PHONE,DENIED,2024-03-02T09:14:00Z,shop sign-up form,newsletter-2024-01
";

impl Workflow {
    /// An active admin key of the organization to act as (demo maintenance only).
    async fn admin_principal(&self, org: &entity::organization::Model) -> Result<crate::Principal> {
        let page = crate::PageRequest {
            first: Some(100),
            ..Default::default()
        };
        let probe = crate::Principal {
            key_id: uuid::Uuid::nil(),
            org_id: org.id,
            key_name: "demo".into(),
            kind: crate::PrincipalKind::ApiKey,
        };
        for key in self.api_keys(&probe, false, &page).await?.items {
            if self.roles_of_key(&key).await.contains(&Role::Admin) {
                return Ok(crate::Principal {
                    key_id: key.id,
                    org_id: org.id,
                    key_name: key.name,
                    kind: crate::PrincipalKind::ApiKey,
                });
            }
        }
        Err(crate::Error::Conflict(format!(
            "the demo organization `{}` has no active admin key left; start with a fresh database",
            org.name
        )))
    }
}

/// The demo controller's details (Art. 13/14, Art. 30(1)(a)): what its answers name
/// as controller, data protection officer and supervisory authority. Fictitious.
fn demo_controller() -> crate::access::organizations::OrganizationPatch {
    use crate::access::organizations::{Contact, OrganizationPatch};
    OrganizationPatch {
        address: Some(Some("Musterstraße 1, 10115 Berlin".to_owned())),
        country: Some(Some("DE".to_owned())),
        email: Some(Some("datenschutz@moebelhaus.example".to_owned())),
        phone: Some(Some("+49 30 1234567".to_owned())),
        dpo: Some(Some(Contact {
            name: "Dr. Erika Mustermann (Datenschutzbeauftragte)".to_owned(),
            address: Some("Musterstraße 1, 10115 Berlin".to_owned()),
            email: Some("dsb@moebelhaus.example".to_owned()),
            phone: None,
        })),
        supervisory_authority: Some(Some(
            "Berliner Beauftragte für Datenschutz und Informationsfreiheit, Alt-Moabit 59-61, \
             10555 Berlin"
                .to_owned(),
        )),
        ..Default::default()
    }
}

impl Workflow {
    /// Creates the demo organization if missing and issues a fresh key per role.
    /// Keys are stored hashed, so earlier demo keys cannot be shown again: they are
    /// revoked and replaced, and the new ones printed.
    ///
    /// On first creation the demo organization also gets a register for an online
    /// furniture shop and a shop database at `shop_db` (a SQLite file).
    pub async fn ensure_demo(&self, shop_db: &std::path::Path) -> Result<DemoSetup> {
        let actor = Actor::system("demo");
        let (organization, admin, created) =
            match self.organization_named(DEMO_ORGANIZATION).await? {
                Some(org) => {
                    let admin = self.admin_principal(&org).await?;
                    (org, admin, false)
                }
                None => {
                    let new = self.create_organization(DEMO_ORGANIZATION, &actor).await?;
                    let admin = crate::Principal {
                        key_id: new.admin_key.key.id,
                        org_id: new.organization.id,
                        key_name: new.admin_key.key.name.clone(),
                        kind: crate::PrincipalKind::ApiKey,
                    };
                    let organization = self.update_organization(&admin, demo_controller()).await?;
                    self.seed_demo_register(&admin, shop_db).await?;
                    (organization, admin, true)
                }
            };
        // Replace earlier demo keys (their secrets are unknown by now).
        let page = crate::PageRequest {
            first: Some(100),
            ..Default::default()
        };
        let mut keys = Vec::new();
        let mut reviewer = None;
        let existing = self.api_keys(&admin, false, &page).await?.items;
        for role in Role::ALL {
            let name = key_name(*role);
            let issued = self
                .create_api_key(
                    &admin,
                    NewApiKey {
                        name: name.clone(),
                        roles: vec![*role],
                    },
                )
                .await?;
            for old in existing.iter().filter(|k| k.name == name) {
                self.revoke_api_key(&admin, old.id).await?;
            }
            if *role == Role::Reviewer {
                reviewer = Some(crate::Principal {
                    key_id: issued.key.id,
                    org_id: organization.id,
                    key_name: name.clone(),
                    kind: crate::PrincipalKind::ApiKey,
                });
            }
            keys.push((*role, issued.secret));
        }
        if created && let Some(reviewer) = &reviewer {
            self.seed_demo_requests(&admin, reviewer).await?;
            self.import_consents(&admin, DEMO_CONSENTS, false).await?;
        }
        Ok(DemoSetup {
            organization,
            created,
            keys,
        })
    }
}

impl Workflow {
    /// Points the demo's CRM source at the CRM the demo server serves at `server`
    /// (its real address, e.g. `http://127.0.0.1:8080`, known once the port is bound)
    /// with the token `crm` accepts. Only the source's `baseUrl` and `token` change,
    /// and only while `baseUrl` still names a demo CRM (someone who pointed the source
    /// elsewhere keeps their setting). Returns whether the source was updated.
    pub async fn connect_demo_crm(&self, server: &str, crm: &crm::DemoCrm) -> Result<bool> {
        let Some(org) = self.organization_named(DEMO_ORGANIZATION).await? else {
            return Ok(false);
        };
        let admin = self.admin_principal(&org).await?;
        let page = crate::PageRequest {
            first: Some(100),
            ..Default::default()
        };
        let filter = crate::register::sources::SourceFilter {
            search: Some(register::DEMO_CRM_SOURCE.to_owned()),
            connector_kind: Some(crate::connectors::ConnectorKind::Http),
        };
        let Some(source) = self
            .data_sources(&admin, &filter, &page)
            .await?
            .items
            .into_iter()
            .find(|s| s.name == register::DEMO_CRM_SOURCE)
        else {
            return Ok(false);
        };
        let mut config = source.connector_config.clone();
        let demo_url = config
            .get("baseUrl")
            .and_then(serde_json::Value::as_str)
            .and_then(|u| url::Url::parse(u).ok())
            .is_some_and(|u| u.path().trim_end_matches('/') == crm::DEMO_CRM_PATH);
        let Some(map) = config.as_object_mut().filter(|_| demo_url) else {
            return Ok(false);
        };
        let fresh = crm::source_config(server, crm.token());
        map.insert("baseUrl".into(), fresh["baseUrl"].clone());
        map.insert("token".into(), fresh["token"].clone());
        self.update_data_source(
            &admin,
            source.id,
            crate::register::sources::SourcePatch {
                connector_config: Some(config),
                ..Default::default()
            },
        )
        .await?;
        Ok(true)
    }
}
