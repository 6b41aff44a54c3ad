//! Data sources: the systems that hold personal data (shop database, CRM, invoicing,
//! newsletter tool, mailbox) and the connector Auskunft reaches them with.
//!
//! A connector's configuration is validated against the JSON Schema of its kind
//! (the connector modules' `*.schema.json`, also served through the API so frontends can render
//! forms). Properties the schema marks `writeOnly` are secrets: they are split off,
//! encrypted with AES-256-GCM and never returned or logged; an update that omits a
//! secret keeps the stored one.

use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use entity::{data_source, recipient};

use super::recipients::RecipientKind;
use super::view::DataSourceView;
use crate::access::audit::Entry;
use crate::access::principal::Principal;
pub use crate::connectors::ConnectorKind;
use crate::connectors::guard::SourceGuard;
use crate::connectors::{check_config, split};
use crate::core::crypto::Cipher;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

/// A data source as it will be stored (configuration with secrets).
#[derive(Debug, Clone)]
pub struct SourceDraft {
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Responsible team or person.
    pub owner: Option<String>,
    /// Where the data is stored (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// The processor operating it (a recipient of kind PROCESSOR).
    pub processor_id: Option<Uuid>,
    /// How Auskunft reaches it.
    pub connector_kind: ConnectorKind,
    /// Configuration, secrets included.
    pub connector_config: Value,
}

/// A change: `None` keeps, `Some(None)` clears. A given configuration replaces the
/// stored one, except for secrets it omits (kept unless named in `clear_secrets`).
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct SourcePatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub owner: Option<Option<String>>,
    pub country: Option<Option<String>>,
    pub processor_id: Option<Option<Uuid>>,
    pub connector_kind: Option<ConnectorKind>,
    pub connector_config: Option<Value>,
    pub clear_secrets: Vec<String>,
}

/// Filters of the source listing.
#[derive(Debug, Clone, Default)]
pub struct SourceFilter {
    /// Case-insensitive part of the name.
    pub search: Option<String>,
    /// Only this connector kind.
    pub connector_kind: Option<ConnectorKind>,
}

/// The names of the secrets stored for a source.
pub fn stored_secret_names(cipher: &Cipher, sealed: Option<&str>) -> Result<Vec<String>> {
    Ok(stored_secrets(cipher, sealed)?.keys().cloned().collect())
}

/// The connector config with its secrets merged in, for connecting to the source.
/// Never log or return it.
pub(crate) fn connection_config(
    cipher: &Cipher,
    source: &data_source::Model,
) -> Result<Map<String, Value>> {
    let mut config = match &source.connector_config {
        Value::Object(map) => map.clone(),
        _ => Map::new(),
    };
    config.extend(stored_secrets(cipher, source.secrets.as_deref())?);
    Ok(config)
}

fn stored_secrets(cipher: &Cipher, sealed: Option<&str>) -> Result<Map<String, Value>> {
    match sealed {
        None => Ok(Map::new()),
        Some(sealed) => {
            let bytes = cipher.decrypt(sealed)?;
            serde_json::from_slice(&bytes)
                .map_err(|_| Error::Internal("stored secrets are not a JSON object".into()))
        }
    }
}

fn state(s: &data_source::Model, secret_names: &[String]) -> Value {
    json!({
        "name": s.name, "description": s.description, "owner": s.owner, "country": s.country,
        "processorId": s.processor_id, "connectorKind": s.connector_kind,
        "connectorConfig": s.connector_config, "secretsSet": secret_names,
    })
}

/// A source of the organization; NOT_FOUND otherwise.
pub(crate) async fn find<C: Conn>(conn: &C, org_id: Uuid, id: Uuid) -> Result<data_source::Model> {
    use data_source::Column as C;
    super::find_in_org::<data_source::Entity, _>(conn, (C::OrgId, C::Id), org_id, id, "data source")
        .await
}

async fn check_processor<C: Conn>(conn: &C, org_id: Uuid, id: Option<Uuid>) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    let processor = recipient::Entity::find_by_id(id)
        .filter(recipient::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound { what: "recipient" })?;
    if processor.kind != RecipientKind::Processor.as_str() {
        return Err(Error::invalid(
            &["input", "processorId"],
            format!(
                "`{}` is not a processor (Art. 28); record it as a recipient of kind PROCESSOR",
                processor.name
            ),
        ));
    }
    Ok(())
}

async fn ensure_unique_name<C: Conn>(
    conn: &C,
    org_id: Uuid,
    name: &str,
    except: Option<Uuid>,
) -> Result<()> {
    use data_source::Column as C;
    super::ensure_unique_name::<data_source::Entity, _>(
        conn,
        (C::OrgId, C::Name, C::Id),
        org_id,
        name,
        except,
        "data source",
    )
    .await
}

/// The cleaned fields of a draft, and the sealed secrets.
struct Prepared {
    name: String,
    description: Option<String>,
    owner: Option<String>,
    country: Option<String>,
    plain: Value,
    secrets: Option<String>,
    secret_names: Vec<String>,
}

fn prepare(cipher: &Cipher, guard: &SourceGuard, d: SourceDraft) -> Result<Prepared> {
    let mut v = Validator::default();
    let name = v.text(&d.name, &["input", "name"], 200);
    let description = v.optional_text(d.description, &["input", "description"], 5000);
    let owner = v.optional_text(d.owner, &["input", "owner"], 200);
    let country = d.country.map(|c| v.country(&c, &["input", "country"]));
    v.finish()?;
    check_config(d.connector_kind, &d.connector_config)?;
    if let Value::Object(config) = &d.connector_config {
        guard.check_registration(d.connector_kind, config)?;
    }
    let (plain, secrets) = split(d.connector_kind, d.connector_config);
    let secret_names: Vec<String> = secrets.keys().cloned().collect();
    let secrets = if secrets.is_empty() {
        None
    } else {
        Some(cipher.encrypt(Value::Object(secrets).to_string().as_bytes())?)
    };
    Ok(Prepared {
        name,
        description,
        owner,
        country,
        plain,
        secrets,
        secret_names,
    })
}

/// Checks and stores what `Workflow::create_data_source` adds, inside the caller's
/// transaction (the caller audits and commits); returns the names of the secrets.
pub(crate) async fn insert_data_source<C: Conn>(
    conn: &C,
    cipher: &Cipher,
    guard: &SourceGuard,
    org_id: Uuid,
    draft: SourceDraft,
) -> Result<(data_source::Model, Vec<String>)> {
    let kind = draft.connector_kind;
    let processor_id = draft.processor_id;
    let p = prepare(cipher, guard, draft)?;
    ensure_unique_name(conn, org_id, &p.name, None).await?;
    check_processor(conn, org_id, processor_id).await?;
    let at = now();
    let created = data_source::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        name: Set(p.name),
        description: Set(p.description),
        owner: Set(p.owner),
        country: Set(p.country),
        processor_id: Set(processor_id),
        connector_kind: Set(kind.as_str().to_owned()),
        connector_config: Set(p.plain),
        secrets: Set(p.secrets),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok((created, p.secret_names))
}

impl Workflow {
    /// Data sources of the organization, in creation order.
    pub async fn data_sources(
        &self,
        principal: &Principal,
        filter: &SourceFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<DataSourceView>> {
        use data_source::Column as C;
        let mut select = data_source::Entity::find().filter(C::OrgId.eq(principal.org_id));
        select = crate::core::search::filter_contains(
            select,
            &[C::Name],
            filter.search.as_deref(),
            &["filter", "search"],
        )?;
        if let Some(kind) = filter.connector_kind {
            select = select.filter(C::ConnectorKind.eq(kind.as_str()));
        }
        paginate(self.store.conn(), select, C::Id, page)
            .await?
            .try_map(DataSourceView::try_from)
    }

    /// One data source of the organization.
    pub async fn data_source(&self, principal: &Principal, id: Uuid) -> Result<DataSourceView> {
        find(self.store.conn(), principal.org_id, id)
            .await?
            .try_into()
    }

    /// The organization's data sources with these ids, in one query (for DataLoaders).
    pub async fn data_sources_by_ids(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<DataSourceView>> {
        data_source::Entity::find()
            .filter(data_source::Column::OrgId.eq(principal.org_id))
            .filter(data_source::Column::Id.is_in(ids.iter().copied()))
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(TryInto::try_into)
            .collect()
    }

    /// The names of the secrets stored for a source (never their values).
    /// Decrypts, so call it only when the names are asked for.
    pub fn data_source_secret_names(&self, sealed: Option<&str>) -> Result<Vec<String>> {
        stored_secret_names(&self.cipher, sealed)
    }

    /// Adds a data source.
    #[tracing::instrument(skip(self, draft), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_data_source(
        &self,
        principal: &Principal,
        draft: SourceDraft,
    ) -> Result<DataSourceView> {
        let tx = self.store.begin().await?;
        let (created, secret_names) = insert_data_source(
            tx.conn(),
            &self.cipher,
            &self.sources,
            principal.org_id,
            draft,
        )
        .await?;
        let entry = Entry::success("createDataSource", "DataSource", created.id)
            .after(state(&created, &secret_names));
        self.commit_audited(tx, principal, entry).await?;
        created.try_into()
    }

    /// Changes a data source; see [`SourcePatch`] for how secrets are kept.
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_data_source(
        &self,
        principal: &Principal,
        id: Uuid,
        patch: SourcePatch,
    ) -> Result<DataSourceView> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        let old_kind: ConnectorKind = existing.connector_kind.parse()?;
        let kind = patch.connector_kind.unwrap_or(old_kind);
        let old_secrets = stored_secrets(&self.cipher, existing.secrets.as_deref())?;
        let unknown: Vec<&String> = patch
            .clear_secrets
            .iter()
            .filter(|s| !old_secrets.contains_key(*s))
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid(
                &["input", "clearSecrets"],
                format!(
                    "no stored secret named {}",
                    unknown
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mut config = match patch.connector_config {
            Some(Value::Object(map)) => map,
            Some(_) => {
                return Err(Error::invalid(
                    &["input", "connectorConfig"],
                    "must be a JSON object",
                ));
            }
            None => existing
                .connector_config
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        // Secrets the input does not repeat are kept (same kind, same destination)
        // unless cleared. Pointing a source elsewhere (another host, another origin)
        // with its stored password would hand the password to whoever is there.
        if kind == old_kind {
            let connector = crate::connectors::connector(kind);
            let old_config = existing
                .connector_config
                .as_object()
                .cloned()
                .unwrap_or_default();
            let moved = connector.destination(&old_config) != connector.destination(&config);
            let mut kept = Vec::new();
            for (name, value) in old_secrets {
                if !patch.clear_secrets.contains(&name) && !config.contains_key(&name) {
                    kept.push(name.clone());
                    config.insert(name, value);
                }
            }
            if moved && !kept.is_empty() {
                return Err(Error::invalid(
                    &["input", "connectorConfig"],
                    format!(
                        "the source now points elsewhere: give its secrets again or clear them \
                         ({})",
                        kept.iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
        let processor_id = patch.processor_id.unwrap_or(existing.processor_id);
        let draft = SourceDraft {
            name: patch.name.unwrap_or_else(|| existing.name.clone()),
            description: patch
                .description
                .unwrap_or_else(|| existing.description.clone()),
            owner: patch.owner.unwrap_or_else(|| existing.owner.clone()),
            country: patch.country.unwrap_or_else(|| existing.country.clone()),
            processor_id,
            connector_kind: kind,
            connector_config: Value::Object(config),
        };
        let p = prepare(&self.cipher, &self.sources, draft)?;
        ensure_unique_name(tx.conn(), principal.org_id, &p.name, Some(existing.id)).await?;
        check_processor(tx.conn(), principal.org_id, processor_id).await?;
        let before = state(
            &existing,
            &stored_secret_names(&self.cipher, existing.secrets.as_deref())?,
        );
        let mut active = existing.into_active_model();
        active.name = Set(p.name);
        active.description = Set(p.description);
        active.owner = Set(p.owner);
        active.country = Set(p.country);
        active.processor_id = Set(processor_id);
        active.connector_kind = Set(kind.as_str().to_owned());
        active.connector_config = Set(p.plain);
        active.secrets = Set(p.secrets);
        active.updated_at = Set(now());
        let updated = active.update(tx.conn()).await?;
        let entry = Entry::success("updateDataSource", "DataSource", updated.id)
            .before(before)
            .after(state(&updated, &p.secret_names));
        self.commit_audited(tx, principal, entry).await?;
        updated.try_into()
    }

    /// Deletes a data source.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn delete_data_source(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        super::activities::ensure_unlinked::<entity::activity_source::Entity, _>(
            tx.conn(),
            entity::activity_source::Column::SourceId,
            existing.id,
            |j| j.activity_id,
            &format!("data source `{}`", existing.name),
        )
        .await?;
        super::fields::ensure_no_fields(
            tx.conn(),
            entity::data_field::Column::SourceId,
            existing.id,
            &format!("data source `{}`", existing.name),
        )
        .await?;
        let before = state(
            &existing,
            &stored_secret_names(&self.cipher, existing.secrets.as_deref())?,
        );
        data_source::Entity::delete_by_id(existing.id)
            .exec(tx.conn())
            .await?;
        let entry = Entry::success("deleteDataSource", "DataSource", existing.id).before(before);
        self.commit_audited(tx, principal, entry).await
    }
}
