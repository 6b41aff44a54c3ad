//! Data fields: where in a source a category of personal data lives, whether it
//! identifies the data subject (and so can be searched), which other field it points
//! to (the graph the collection engine traverses), and how it is erased.

use std::collections::HashSet;

use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{data_category, data_field};

use super::view::{DataCategoryView, DataFieldView};
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::connectors::{ConnectorKind, connector};
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

stored_enum! {
    /// What kind of identifier a field holds.
    IdentityType {
        /// An e-mail address.
        Email => "EMAIL",
        /// A phone number.
        Phone => "PHONE",
        /// A customer number.
        CustomerNumber => "CUSTOMER_NUMBER",
        /// A postal address.
        PostalAddress => "POSTAL_ADDRESS",
        /// Another identifier (user name, member number ...).
        Other => "OTHER",
    }
}

stored_enum! {
    /// How a field is erased when a data subject's erasure is carried out.
    ErasureStrategy {
        /// Delete the whole row.
        DeleteRow => "DELETE_ROW",
        /// Set the value to NULL.
        SetNull => "SET_NULL",
        /// Replace the value by a mask.
        Mask => "MASK",
        /// Replace the value by a non-identifying one.
        Anonymize => "ANONYMIZE",
        /// Keep it under a legal hold (e.g. § 147 AO) and restrict processing.
        KeepUnderHold => "KEEP_UNDER_HOLD",
    }
}

/// The identifier kinds a source is searched by, each once: for SQL and MANUAL
/// sources those of its identifying fields (in field order), for HTTP sources those
/// of its search templates (in template order).
pub fn identity_keys(
    kind: ConnectorKind,
    config: &serde_json::Value,
    fields: &[DataFieldView],
) -> Vec<IdentityType> {
    let mut keys = Vec::new();
    for field in fields.iter().filter(|f| f.identifies_subject) {
        if let Some(kind) = field.identity_type
            && !keys.contains(&kind)
        {
            keys.push(kind);
        }
    }
    let empty = serde_json::Map::new();
    let config = config.as_object().unwrap_or(&empty);
    connector(kind).search_keys(config, keys)
}

/// A field as it will be stored.
#[derive(Debug, Clone)]
pub struct FieldDraft {
    /// The source.
    pub source_id: Uuid,
    /// `table.column`, `schema.table.column`, a JSON path `$...`, or a description.
    pub location: String,
    /// Explanation.
    pub description: Option<String>,
    /// Category of the data.
    pub data_category_id: Option<Uuid>,
    /// Whether the field identifies the subject.
    pub identifies_subject: bool,
    /// The identifier kind (required when identifying).
    pub identity_type: Option<IdentityType>,
    /// The field it points to (same source).
    pub references_id: Option<Uuid>,
    /// How it is erased.
    pub erasure_strategy: ErasureStrategy,
}

/// A change: `None` keeps, `Some(None)` clears (the source is fixed).
#[derive(Debug, Clone, Default)]
#[allow(missing_docs)]
pub struct FieldPatch {
    pub location: Option<String>,
    pub description: Option<Option<String>>,
    pub data_category_id: Option<Option<Uuid>>,
    pub identifies_subject: Option<bool>,
    pub identity_type: Option<Option<IdentityType>>,
    pub references_id: Option<Option<Uuid>>,
    pub erasure_strategy: Option<ErasureStrategy>,
}

/// Filters of the field listing.
#[derive(Debug, Clone, Default)]
pub struct FieldFilter {
    /// Only fields of this source.
    pub source_id: Option<Uuid>,
    /// Only fields of this category.
    pub data_category_id: Option<Uuid>,
    /// Only identifying (or only non-identifying) fields.
    pub identifies_subject: Option<bool>,
    /// Case-insensitive part of the location.
    pub search: Option<String>,
}

/// Checks a location for the source's connector kind.
fn check_location(v: &mut Validator, kind: ConnectorKind, location: &str) -> String {
    let location = v.text(location, &["input", "location"], 300);
    if let Err(message) = connector(kind).check_location(&location) {
        v.check(false, &["input", "location"], message);
    }
    location
}

pub(crate) fn state(f: &data_field::Model) -> serde_json::Value {
    json!({
        "sourceId": f.source_id, "location": f.location, "description": f.description,
        "dataCategoryId": f.data_category_id, "identifiesSubject": f.identifies_subject,
        "identityType": f.identity_type, "referencesId": f.references_id, "erasureStrategy": f.erasure_strategy,
    })
}

async fn find<C: Conn>(conn: &C, org_id: Uuid, id: Uuid) -> Result<data_field::Model> {
    data_field::Entity::find_by_id(id)
        .filter(data_field::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound { what: "data field" })
}

/// Validates a draft against its source, category and reference graph.
async fn checked<C: Conn>(
    conn: &C,
    org_id: Uuid,
    id: Option<Uuid>,
    d: FieldDraft,
) -> Result<FieldDraft> {
    let source = super::sources::find(conn, org_id, d.source_id).await?;
    let kind: ConnectorKind = source.connector_kind.parse()?;
    let mut v = Validator::default();
    let location = check_location(&mut v, kind, &d.location);
    let description = d
        .description
        .map(|t| v.multiline_text(&t, &["input", "description"], 2000))
        .filter(|t| !t.is_empty());
    v.check(
        !d.identifies_subject || d.identity_type.is_some(),
        &["input", "identityType"],
        "say what kind of identifier an identifying field holds",
    );
    v.check(
        d.identifies_subject || d.identity_type.is_none(),
        &["input", "identityType"],
        "only identifying fields have an identity type; set identifiesSubject",
    );
    v.check(
        d.references_id.is_none() || d.references_id != id,
        &["input", "referencesId"],
        "a field cannot reference itself",
    );
    v.finish()?;
    if let Some(category) = d.data_category_id {
        data_category::Entity::find_by_id(category)
            .filter(data_category::Column::OrgId.eq(org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound {
                what: "data category",
            })?;
    }
    if let Some(target) = d.references_id {
        let target = find(conn, org_id, target).await?;
        if target.source_id != d.source_id {
            return Err(Error::invalid(
                &["input", "referencesId"],
                "references are followed within one source; the referenced field belongs to another source",
            ));
        }
        // Follow the chain: reaching this field again would be a cycle the collection
        // engine cannot traverse.
        if let Some(me) = id {
            let mut seen = HashSet::new();
            let mut next = Some(target);
            while let Some(field) = next {
                if field.id == me {
                    return Err(Error::invalid(
                        &["input", "referencesId"],
                        format!(
                            "this reference would close a cycle through `{}`",
                            field.location
                        ),
                    ));
                }
                if !seen.insert(field.id) {
                    break;
                }
                next = match field.references_id {
                    Some(r) => Some(find(conn, org_id, r).await?),
                    None => None,
                };
            }
        }
    }
    let clash = data_field::Entity::find()
        .filter(data_field::Column::SourceId.eq(d.source_id))
        .filter(data_field::Column::Location.eq(location.clone()))
        .one(conn)
        .await?;
    if let Some(other) = clash
        && Some(other.id) != id
    {
        return Err(Error::Conflict(format!(
            "`{location}` is mapped in this source already"
        )));
    }
    Ok(FieldDraft {
        location,
        description,
        ..d
    })
}

/// Checks a draft and stores it as a new field (the caller commits and audits).
pub(crate) async fn insert_field<C: Conn>(
    conn: &C,
    org_id: Uuid,
    draft: FieldDraft,
) -> Result<data_field::Model> {
    let d = checked(conn, org_id, None, draft).await?;
    let at = now();
    Ok(data_field::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        source_id: Set(d.source_id),
        location: Set(d.location),
        description: Set(d.description),
        data_category_id: Set(d.data_category_id),
        identifies_subject: Set(d.identifies_subject),
        identity_type: Set(d.identity_type.map(|t| t.as_str().to_owned())),
        references_id: Set(d.references_id),
        erasure_strategy: Set(d.erasure_strategy.as_str().to_owned()),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?)
}

/// CONFLICT when fields still use the data source or category.
pub(crate) async fn ensure_no_fields<C: Conn>(
    conn: &C,
    column: data_field::Column,
    id: Uuid,
    what: &str,
) -> Result<()> {
    let fields = data_field::Entity::find()
        .filter(column.eq(id))
        .order_by_asc(data_field::Column::Location)
        .all(conn)
        .await?;
    if fields.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = fields
        .iter()
        .take(5)
        .map(|f| format!("`{}`", f.location))
        .collect();
    let more = fields.len().saturating_sub(5);
    Err(Error::Conflict(format!(
        "{what} is used by the fields {}{}: remove them first",
        names.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        }
    )))
}

impl Workflow {
    /// Fields of the organization, in creation order.
    pub async fn data_fields(
        &self,
        principal: &Principal,
        filter: &FieldFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<DataFieldView>> {
        use data_field::Column as C;
        let mut select = data_field::Entity::find().filter(C::OrgId.eq(principal.org_id));
        select = crate::core::search::filter_contains(
            select,
            &[C::Location],
            filter.search.as_deref(),
            &["filter", "search"],
        )?;
        if let Some(s) = filter.source_id {
            select = select.filter(C::SourceId.eq(s));
        }
        if let Some(c) = filter.data_category_id {
            select = select.filter(C::DataCategoryId.eq(c));
        }
        if let Some(i) = filter.identifies_subject {
            select = select.filter(C::IdentifiesSubject.eq(i));
        }
        paginate(self.store.conn(), select, C::Id, page)
            .await?
            .try_map(DataFieldView::try_from)
    }

    /// One field of the organization.
    pub async fn data_field(&self, principal: &Principal, id: Uuid) -> Result<DataFieldView> {
        find(self.store.conn(), principal.org_id, id)
            .await?
            .try_into()
    }

    /// Fields by id (for DataLoaders; one query).
    pub async fn data_fields_by_ids(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<DataFieldView>> {
        super::view::views(
            data_field::Entity::find()
                .filter(data_field::Column::OrgId.eq(principal.org_id))
                .filter(data_field::Column::Id.is_in(ids.iter().copied()))
                .all(self.store.conn())
                .await?,
        )
    }

    /// Fields of these sources (for DataLoaders; one query).
    pub async fn data_fields_of_sources(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<DataFieldView>> {
        super::view::views(
            data_field::Entity::find()
                .filter(data_field::Column::OrgId.eq(principal.org_id))
                .filter(data_field::Column::SourceId.is_in(ids.iter().copied()))
                .order_by_asc(data_field::Column::Id)
                .all(self.store.conn())
                .await?,
        )
    }

    /// Data categories by id (for DataLoaders; one query).
    pub async fn data_categories_by_ids(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<DataCategoryView>> {
        Ok(data_category::Entity::find()
            .filter(data_category::Column::OrgId.eq(principal.org_id))
            .filter(data_category::Column::Id.is_in(ids.iter().copied()))
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(DataCategoryView::from)
            .collect())
    }

    /// Maps a field of a source.
    #[tracing::instrument(skip(self, draft), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_data_field(
        &self,
        principal: &Principal,
        draft: FieldDraft,
    ) -> Result<DataFieldView> {
        let tx = self.store.begin().await?;
        let created = insert_field(tx.conn(), principal.org_id, draft).await?;
        let entry =
            Entry::success("createDataField", "DataField", created.id).after(state(&created));
        self.commit_audited(tx, principal, entry).await?;
        created.try_into()
    }

    /// Changes a field; the result must satisfy the rules of a new one.
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_data_field(
        &self,
        principal: &Principal,
        id: Uuid,
        patch: FieldPatch,
    ) -> Result<DataFieldView> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        let draft = FieldDraft {
            source_id: existing.source_id,
            location: patch.location.unwrap_or_else(|| existing.location.clone()),
            description: patch
                .description
                .unwrap_or_else(|| existing.description.clone()),
            data_category_id: patch.data_category_id.unwrap_or(existing.data_category_id),
            identifies_subject: patch
                .identifies_subject
                .unwrap_or(existing.identifies_subject),
            identity_type: match patch.identity_type {
                Some(t) => t,
                None => existing
                    .identity_type
                    .as_deref()
                    .map(str::parse)
                    .transpose()?,
            },
            references_id: patch.references_id.unwrap_or(existing.references_id),
            erasure_strategy: match patch.erasure_strategy {
                Some(e) => e,
                None => existing.erasure_strategy.parse()?,
            },
        };
        let d = checked(tx.conn(), principal.org_id, Some(existing.id), draft).await?;
        let before = state(&existing);
        let mut active = existing.into_active_model();
        active.location = Set(d.location);
        active.description = Set(d.description);
        active.data_category_id = Set(d.data_category_id);
        active.identifies_subject = Set(d.identifies_subject);
        active.identity_type = Set(d.identity_type.map(|t| t.as_str().to_owned()));
        active.references_id = Set(d.references_id);
        active.erasure_strategy = Set(d.erasure_strategy.as_str().to_owned());
        active.updated_at = Set(now());
        let updated = active.update(tx.conn()).await?;
        let entry = Entry::success("updateDataField", "DataField", updated.id)
            .before(before)
            .after(state(&updated));
        self.commit_audited(tx, principal, entry).await?;
        updated.try_into()
    }

    /// Deletes a field; CONFLICT while other fields reference it.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn delete_data_field(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let tx = self.store.begin().await?;
        let existing = find(tx.conn(), principal.org_id, id).await?;
        ensure_no_fields(
            tx.conn(),
            data_field::Column::ReferencesId,
            existing.id,
            &format!("field `{}`", existing.location),
        )
        .await?;
        data_field::Entity::delete_by_id(existing.id)
            .exec(tx.conn())
            .await?;
        let entry =
            Entry::success("deleteDataField", "DataField", existing.id).before(state(&existing));
        self.commit_audited(tx, principal, entry).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_fit_the_connector_kind() {
        let ok = |kind, loc| {
            let mut v = Validator::default();
            check_location(&mut v, kind, loc);
            v.finish().is_ok()
        };
        assert!(ok(ConnectorKind::Postgres, "customers.email"));
        assert!(ok(ConnectorKind::Postgres, "crm.contacts.email"));
        assert!(!ok(ConnectorKind::Sqlite, "customers"));
        assert!(!ok(ConnectorKind::Mysql, "customers.e-mail"));
        assert!(!ok(ConnectorKind::Mysql, "a.b.c.d"));
        assert!(ok(ConnectorKind::Http, "$.contacts[*].email"));
        assert!(!ok(ConnectorKind::Http, "contacts.email"));
        assert!(ok(
            ConnectorKind::Manual,
            "Threads from the requester's addresses"
        ));
    }
}
