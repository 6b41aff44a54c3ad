//! Data categories (hierarchical keys such as `contact.email`, with a sensitivity)
//! and categories of data subjects, seeded from `default_taxonomy.toml`.

use std::collections::HashSet;
use std::str::FromStr;
use std::sync::LazyLock;

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use entity::{data_category, organization, subject_category};

use super::view::DataCategoryView;
use crate::access::audit::{self, Actor, Entry};
use crate::access::principal::Principal;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

/// How sensitive a category of data is; ordered from least to most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Deserialize)]
pub enum Sensitivity {
    /// Ordinary personal data.
    #[default]
    #[serde(rename = "ORDINARY")]
    Ordinary,
    /// Special categories of GDPR Art. 9.
    #[serde(rename = "SPECIAL_ART9")]
    SpecialArt9,
    /// Criminal convictions and offences, GDPR Art. 10.
    #[serde(rename = "CRIMINAL_ART10")]
    CriminalArt10,
}

impl Sensitivity {
    /// Stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Sensitivity::Ordinary => "ORDINARY",
            Sensitivity::SpecialArt9 => "SPECIAL_ART9",
            Sensitivity::CriminalArt10 => "CRIMINAL_ART10",
        }
    }
}

impl FromStr for Sensitivity {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "ORDINARY" => Ok(Sensitivity::Ordinary),
            "SPECIAL_ART9" => Ok(Sensitivity::SpecialArt9),
            "CRIMINAL_ART10" => Ok(Sensitivity::CriminalArt10),
            other => Err(Error::Internal(format!(
                "unknown sensitivity `{other}` in the database"
            ))),
        }
    }
}

/// The sensitivity of a stored category.
pub fn sensitivity_of(category: &data_category::Model) -> Result<Sensitivity> {
    category.sensitivity.parse()
}

/// One entry of the shipped taxonomy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultEntry {
    /// Key.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Sensitivity (data categories only).
    #[serde(default)]
    pub sensitivity: Sensitivity,
    /// Taxonomy version that introduced the entry.
    #[serde(default = "first_version")]
    pub since: i32,
}

fn first_version() -> i32 {
    1
}

/// The shipped taxonomy.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DefaultTaxonomy {
    /// Newest version.
    pub version: i32,
    /// Data categories.
    pub data_category: Vec<DefaultEntry>,
    /// Categories of data subjects.
    pub subject_category: Vec<DefaultEntry>,
}

/// The shipped default taxonomy (`default_taxonomy.toml`).
pub fn default_taxonomy() -> &'static DefaultTaxonomy {
    static TAXONOMY: LazyLock<DefaultTaxonomy> = LazyLock::new(|| {
        toml::from_str(include_str!("default_taxonomy.toml"))
            .expect("default_taxonomy.toml is valid (tested)")
    });
    &TAXONOMY
}

/// The parent key of a hierarchical key (`contact` for `contact.email`).
pub fn parent_key(key: &str) -> Option<&str> {
    key.rsplit_once('.').map(|(parent, _)| parent)
}

const MAX_KEY_DEPTH: usize = 5;

/// Checks a category key: 1–5 dot-separated segments of `a-z`, `0-9`, `_`.
fn check_key(v: &mut Validator, key: &str, path: &[&str]) -> String {
    let key = key.trim().to_owned();
    let segments: Vec<&str> = key.split('.').collect();
    let ok = key.len() <= 100
        && segments.len() <= MAX_KEY_DEPTH
        && segments.iter().all(|s| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        });
    v.check(
        ok,
        path,
        "must be 1 to 5 dot-separated segments of a-z, 0-9 and _, like `contact.email`",
    );
    key
}

fn category_state(c: &data_category::Model) -> serde_json::Value {
    json!({"key": c.key, "name": c.name, "description": c.description, "sensitivity": c.sensitivity})
}

fn subject_state(c: &subject_category::Model) -> serde_json::Value {
    json!({"key": c.key, "name": c.name, "description": c.description})
}

/// Seeds the entries newer than `from_version` whose keys the organization lacks.
/// Returns how many rows were added.
pub(crate) async fn seed<C: Conn>(conn: &C, org_id: Uuid, from_version: i32) -> Result<usize> {
    let taxonomy = default_taxonomy();
    let at = now();
    let have: HashSet<String> = data_category::Entity::find()
        .filter(data_category::Column::OrgId.eq(org_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| c.key)
        .collect();
    let rows: Vec<data_category::ActiveModel> = taxonomy
        .data_category
        .iter()
        .filter(|e| e.since > from_version && !have.contains(&e.key))
        .map(|e| data_category::ActiveModel {
            id: Set(new_id()),
            org_id: Set(org_id),
            key: Set(e.key.clone()),
            name: Set(e.name.clone()),
            description: Set(e.description.clone()),
            sensitivity: Set(e.sensitivity.as_str().to_owned()),
            is_default: Set(true),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .collect();
    let mut added = rows.len();
    if !rows.is_empty() {
        data_category::Entity::insert_many(rows).exec(conn).await?;
    }
    let have: HashSet<String> = subject_category::Entity::find()
        .filter(subject_category::Column::OrgId.eq(org_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|c| c.key)
        .collect();
    let rows: Vec<subject_category::ActiveModel> = taxonomy
        .subject_category
        .iter()
        .filter(|e| e.since > from_version && !have.contains(&e.key))
        .map(|e| subject_category::ActiveModel {
            id: Set(new_id()),
            org_id: Set(org_id),
            key: Set(e.key.clone()),
            name: Set(e.name.clone()),
            description: Set(e.description.clone()),
            is_default: Set(true),
            created_at: Set(at),
            updated_at: Set(at),
        })
        .collect();
    added += rows.len();
    if !rows.is_empty() {
        subject_category::Entity::insert_many(rows)
            .exec(conn)
            .await?;
    }
    Ok(added)
}

/// Filters of the data category listing.
#[derive(Debug, Clone, Default)]
pub struct DataCategoryFilter {
    /// Case-insensitive substring of key or name.
    pub search: Option<String>,
    /// Only this sensitivity.
    pub sensitivity: Option<Sensitivity>,
    /// Only direct children of this key (`""` for top-level categories).
    pub parent_key: Option<String>,
}

/// Input of [`Workflow::create_data_category`].
#[derive(Debug, Clone)]
pub struct NewDataCategory {
    /// Hierarchical key; its parent must exist.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Sensitivity; at least the parent's.
    pub sensitivity: Sensitivity,
}

/// A change to a data category; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct DataCategoryPatch {
    /// Display name.
    pub name: Option<String>,
    /// Explanation (`Some(None)` clears).
    pub description: Option<Option<String>>,
    /// Sensitivity; between the parent's and the least sensitive child's.
    pub sensitivity: Option<Sensitivity>,
}

/// Input of [`Workflow::create_subject_category`].
#[derive(Debug, Clone)]
pub struct NewSubjectCategory {
    /// Key, e.g. `customers`.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
}

/// A change to a subject category; `None` keeps a field.
#[derive(Debug, Clone, Default)]
pub struct SubjectCategoryPatch {
    /// Display name.
    pub name: Option<String>,
    /// Explanation (`Some(None)` clears).
    pub description: Option<Option<String>>,
}

async fn find_category<C: Conn>(conn: &C, org_id: Uuid, id: Uuid) -> Result<data_category::Model> {
    data_category::Entity::find_by_id(id)
        .filter(data_category::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound {
            what: "data category",
        })
}

async fn find_category_by_key<C: Conn>(
    conn: &C,
    org_id: Uuid,
    key: &str,
) -> Result<Option<data_category::Model>> {
    Ok(data_category::Entity::find()
        .filter(data_category::Column::OrgId.eq(org_id))
        .filter(data_category::Column::Key.eq(key))
        .one(conn)
        .await?)
}

/// Direct and indirect children of `key`.
async fn descendants<C: Conn>(
    conn: &C,
    org_id: Uuid,
    key: &str,
) -> Result<Vec<data_category::Model>> {
    Ok(data_category::Entity::find()
        .filter(data_category::Column::OrgId.eq(org_id))
        .filter(data_category::Column::Key.starts_with(format!("{key}.")))
        .order_by_asc(data_category::Column::Key)
        .all(conn)
        .await?)
}

async fn find_subject<C: Conn>(
    conn: &C,
    org_id: Uuid,
    id: Uuid,
) -> Result<subject_category::Model> {
    subject_category::Entity::find_by_id(id)
        .filter(subject_category::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound {
            what: "subject category",
        })
}

/// Checks and stores what `Workflow::create_data_category` adds, inside the caller's
/// transaction (the caller audits and commits).
pub(crate) async fn insert_data_category<C: Conn>(
    conn: &C,
    org_id: Uuid,
    input: NewDataCategory,
) -> Result<data_category::Model> {
    let mut v = Validator::default();
    let key = check_key(&mut v, &input.key, &["input", "key"]);
    let name = v.text(&input.name, &["input", "name"], 200);
    let description = v.optional_text(input.description, &["input", "description"], 2000);
    v.finish()?;
    if find_category_by_key(conn, org_id, &key).await?.is_some() {
        return Err(Error::Conflict(format!(
            "a data category `{key}` exists already"
        )));
    }
    if let Some(parent) = parent_key(&key) {
        let Some(parent) = find_category_by_key(conn, org_id, parent).await? else {
            return Err(Error::invalid(
                &["input", "key"],
                format!("the parent category `{parent}` does not exist; create it first"),
            ));
        };
        if input.sensitivity < sensitivity_of(&parent)? {
            return Err(Error::invalid(
                &["input", "sensitivity"],
                format!(
                    "must be at least {} like its parent `{}`",
                    parent.sensitivity, parent.key
                ),
            ));
        }
    }
    let at = now();
    let category = data_category::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        key: Set(key),
        name: Set(name),
        description: Set(description),
        sensitivity: Set(input.sensitivity.as_str().to_owned()),
        is_default: Set(false),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(category)
}

/// Checks and stores what `Workflow::create_subject_category` adds, inside the caller's
/// transaction (the caller audits and commits).
pub(crate) async fn insert_subject_category<C: Conn>(
    conn: &C,
    org_id: Uuid,
    input: NewSubjectCategory,
) -> Result<subject_category::Model> {
    let mut v = Validator::default();
    let key = check_key(&mut v, &input.key, &["input", "key"]);
    let name = v.text(&input.name, &["input", "name"], 200);
    let description = v.optional_text(input.description, &["input", "description"], 2000);
    v.finish()?;
    let exists = subject_category::Entity::find()
        .filter(subject_category::Column::OrgId.eq(org_id))
        .filter(subject_category::Column::Key.eq(key.clone()))
        .one(conn)
        .await?;
    if exists.is_some() {
        return Err(Error::Conflict(format!(
            "a subject category `{key}` exists already"
        )));
    }
    let at = now();
    let category = subject_category::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        key: Set(key),
        name: Set(name),
        description: Set(description),
        is_default: Set(false),
        created_at: Set(at),
        updated_at: Set(at),
    }
    .insert(conn)
    .await?;
    Ok(category)
}

impl Workflow {
    /// Data categories of the organization, ordered by creation.
    #[tracing::instrument(skip(self, filter, page), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn data_categories(
        &self,
        principal: &Principal,
        filter: &DataCategoryFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<DataCategoryView>> {
        use data_category::Column as C;
        let mut select = data_category::Entity::find().filter(C::OrgId.eq(principal.org_id));
        select = crate::core::search::filter_contains(
            select,
            &[C::Key, C::Name],
            filter.search.as_deref(),
            &["filter", "search"],
        )?;
        if let Some(s) = filter.sensitivity {
            select = select.filter(C::Sensitivity.eq(s.as_str()));
        }
        if let Some(parent) = &filter.parent_key {
            // Checked like a search term; `%` and `_` in it match themselves.
            let parent = crate::core::search::search_term(Some(parent), &["filter", "parentKey"])?
                .map(crate::core::search::escape_like);
            select = match parent {
                None => select.filter(C::Key.not_like("%.%")),
                Some(parent) => select
                    .filter(
                        Expr::col(C::Key).like(crate::core::search::like(format!("{parent}.%"))),
                    )
                    .filter(
                        Expr::col(C::Key)
                            .not_like(crate::core::search::like(format!("{parent}.%.%"))),
                    ),
            };
        }
        Ok(paginate(self.store.conn(), select, C::Id, page)
            .await?
            .map(DataCategoryView::from))
    }

    /// One data category of the organization.
    pub async fn data_category(&self, principal: &Principal, id: Uuid) -> Result<DataCategoryView> {
        Ok(find_category(self.store.conn(), principal.org_id, id)
            .await?
            .into())
    }

    /// Adds a data category under an existing parent.
    #[tracing::instrument(skip(self, input), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_data_category(
        &self,
        principal: &Principal,
        input: NewDataCategory,
    ) -> Result<DataCategoryView> {
        let tx = self.store.begin().await?;
        let category = insert_data_category(tx.conn(), principal.org_id, input).await?;
        let entry = Entry::success("createDataCategory", "DataCategory", category.id)
            .after(category_state(&category));
        self.commit_audited(tx, principal, entry).await?;
        Ok(category.into())
    }

    /// Changes a data category's name, description or sensitivity (the key is fixed).
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_data_category(
        &self,
        principal: &Principal,
        id: Uuid,
        patch: DataCategoryPatch,
    ) -> Result<DataCategoryView> {
        let mut v = Validator::default();
        let name = patch.name.map(|n| v.text(&n, &["input", "name"], 200));
        let description = patch
            .description
            .map(|d| v.optional_text(d, &["input", "description"], 2000));
        v.finish()?;
        let tx = self.store.begin().await?;
        let category = find_category(tx.conn(), principal.org_id, id).await?;
        if let Some(sensitivity) = patch.sensitivity {
            if let Some(parent) = parent_key(&category.key)
                && let Some(parent) =
                    find_category_by_key(tx.conn(), principal.org_id, parent).await?
                && sensitivity < sensitivity_of(&parent)?
            {
                return Err(Error::invalid(
                    &["input", "sensitivity"],
                    format!(
                        "must be at least {} like its parent `{}`",
                        parent.sensitivity, parent.key
                    ),
                ));
            }
            for child in descendants(tx.conn(), principal.org_id, &category.key).await? {
                if sensitivity > sensitivity_of(&child)? {
                    return Err(Error::invalid(
                        &["input", "sensitivity"],
                        format!(
                            "its sub-category `{}` is {}; a category cannot be more sensitive than its children",
                            child.key, child.sensitivity
                        ),
                    ));
                }
            }
        }
        let before = category_state(&category);
        let mut active = category.into_active_model();
        if let Some(name) = name {
            active.name = Set(name);
        }
        if let Some(description) = description {
            active.description = Set(description);
        }
        if let Some(sensitivity) = patch.sensitivity {
            active.sensitivity = Set(sensitivity.as_str().to_owned());
        }
        active.updated_at = Set(now());
        let category = active.update(tx.conn()).await?;
        let entry = Entry::success("updateDataCategory", "DataCategory", category.id)
            .before(before)
            .after(category_state(&category));
        self.commit_audited(tx, principal, entry).await?;
        Ok(category.into())
    }

    /// Deletes a data category; CONFLICT while sub-categories exist.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn delete_data_category(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let tx = self.store.begin().await?;
        let category = find_category(tx.conn(), principal.org_id, id).await?;
        super::fields::ensure_no_fields(
            tx.conn(),
            entity::data_field::Column::DataCategoryId,
            category.id,
            &format!("data category `{}`", category.key),
        )
        .await?;
        super::activities::ensure_unlinked::<entity::activity_data_category::Entity, _>(
            tx.conn(),
            entity::activity_data_category::Column::DataCategoryId,
            category.id,
            |j| j.activity_id,
            &format!("data category `{}`", category.key),
        )
        .await?;
        let children = descendants(tx.conn(), principal.org_id, &category.key).await?;
        if !children.is_empty() {
            let names: Vec<String> = children
                .iter()
                .take(5)
                .map(|c| format!("`{}`", c.key))
                .collect();
            let more = children.len().saturating_sub(5);
            return Err(Error::Conflict(format!(
                "data category `{}` still has sub-categories {}{}: delete them first",
                category.key,
                names.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            )));
        }
        data_category::Entity::delete_by_id(category.id)
            .exec(tx.conn())
            .await?;
        let entry = Entry::success("deleteDataCategory", "DataCategory", category.id)
            .before(category_state(&category));
        self.commit_audited(tx, principal, entry).await
    }

    /// Categories of data subjects of the organization, ordered by creation.
    pub async fn subject_categories(
        &self,
        principal: &Principal,
        search: Option<&str>,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<subject_category::Model>> {
        use subject_category::Column as C;
        let select = subject_category::Entity::find().filter(C::OrgId.eq(principal.org_id));
        let select =
            crate::core::search::filter_contains(select, &[C::Key, C::Name], search, &["search"])?;
        paginate(self.store.conn(), select, C::Id, page).await
    }

    /// One subject category of the organization.
    pub async fn subject_category(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<subject_category::Model> {
        find_subject(self.store.conn(), principal.org_id, id).await
    }

    /// Adds a category of data subjects.
    #[tracing::instrument(skip(self, input), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn create_subject_category(
        &self,
        principal: &Principal,
        input: NewSubjectCategory,
    ) -> Result<subject_category::Model> {
        let tx = self.store.begin().await?;
        let category = insert_subject_category(tx.conn(), principal.org_id, input).await?;
        let entry = Entry::success("createSubjectCategory", "SubjectCategory", category.id)
            .after(subject_state(&category));
        self.commit_audited(tx, principal, entry).await?;
        Ok(category)
    }

    /// Changes a subject category's name or description (the key is fixed).
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_subject_category(
        &self,
        principal: &Principal,
        id: Uuid,
        patch: SubjectCategoryPatch,
    ) -> Result<subject_category::Model> {
        let mut v = Validator::default();
        let name = patch.name.map(|n| v.text(&n, &["input", "name"], 200));
        let description = patch
            .description
            .map(|d| v.optional_text(d, &["input", "description"], 2000));
        v.finish()?;
        let tx = self.store.begin().await?;
        let category = find_subject(tx.conn(), principal.org_id, id).await?;
        let before = subject_state(&category);
        let mut active = category.into_active_model();
        if let Some(name) = name {
            active.name = Set(name);
        }
        if let Some(description) = description {
            active.description = Set(description);
        }
        active.updated_at = Set(now());
        let category = active.update(tx.conn()).await?;
        let entry = Entry::success("updateSubjectCategory", "SubjectCategory", category.id)
            .before(before)
            .after(subject_state(&category));
        self.commit_audited(tx, principal, entry).await?;
        Ok(category)
    }

    /// Deletes a subject category.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn delete_subject_category(&self, principal: &Principal, id: Uuid) -> Result<()> {
        let tx = self.store.begin().await?;
        let category = find_subject(tx.conn(), principal.org_id, id).await?;
        super::activities::ensure_unlinked::<entity::activity_subject_category::Entity, _>(
            tx.conn(),
            entity::activity_subject_category::Column::SubjectCategoryId,
            category.id,
            |j| j.activity_id,
            &format!("subject category `{}`", category.key),
        )
        .await?;
        subject_category::Entity::delete_by_id(category.id)
            .exec(tx.conn())
            .await?;
        let entry = Entry::success("deleteSubjectCategory", "SubjectCategory", category.id)
            .before(subject_state(&category));
        self.commit_audited(tx, principal, entry).await
    }

    /// Seeds organizations created under an older default taxonomy with the newer
    /// entries whose keys they lack.
    pub(crate) async fn upgrade_default_taxonomies(&self) -> Result<()> {
        let current = default_taxonomy().version;
        let outdated = organization::Entity::find()
            .filter(organization::Column::TaxonomyVersion.lt(current))
            .all(self.store.conn())
            .await?;
        for org in outdated {
            let mut tx = self.store.begin().await?;
            let from = org.taxonomy_version;
            let added = seed(tx.conn(), org.id, from).await?;
            let mut active: organization::ActiveModel = org.into();
            active.taxonomy_version = Set(current);
            let org = active.update(tx.conn()).await?;
            let entry = Entry::success("upgradeDefaultTaxonomy", "Organization", org.id)
                .before(json!({"taxonomyVersion": from}))
                .after(json!({"taxonomyVersion": current, "entriesAdded": added}));
            audit::append(&mut tx, org.id, &Actor::system("taxonomy upgrade"), entry).await?;
            tx.commit(&self.bus).await?;
            tracing::info!(org = %org.id, from, to = current, added, "default taxonomy seeded");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn shipped_taxonomy_is_consistent() {
        let t = default_taxonomy();
        let by_key: HashMap<&str, &DefaultEntry> = t
            .data_category
            .iter()
            .map(|e| (e.key.as_str(), e))
            .collect();
        assert_eq!(by_key.len(), t.data_category.len(), "keys are unique");
        for e in &t.data_category {
            let mut v = Validator::default();
            check_key(&mut v, &e.key, &["key"]);
            assert!(v.finish().is_ok(), "bad key {}", e.key);
            if let Some(parent) = parent_key(&e.key) {
                let parent = by_key
                    .get(parent)
                    .unwrap_or_else(|| panic!("{} has no parent", e.key));
                assert!(
                    e.sensitivity >= parent.sensitivity,
                    "{} is less sensitive than its parent",
                    e.key
                );
            }
            assert!(e.since <= t.version);
        }
        for key in [
            "health",
            "genetic",
            "biometric",
            "religious_belief",
            "trade_union",
            "sex_life",
        ] {
            assert_eq!(
                by_key[key].sensitivity,
                Sensitivity::SpecialArt9,
                "{key} is Art. 9 data"
            );
        }
        assert_eq!(by_key["criminal"].sensitivity, Sensitivity::CriminalArt10);
        assert!(t.subject_category.iter().any(|s| s.key == "customers"));
    }

    #[test]
    fn keys_are_checked() {
        for good in ["contact", "contact.email", "a.b.c.d.e", "x_1"] {
            let mut v = Validator::default();
            check_key(&mut v, good, &["k"]);
            assert!(v.finish().is_ok(), "{good}");
        }
        for bad in [
            "",
            "Contact",
            "contact.",
            ".x",
            "a..b",
            "a.b.c.d.e.f",
            "e-mail",
            "kontakt.straße",
        ] {
            let mut v = Validator::default();
            check_key(&mut v, bad, &["k"]);
            assert!(v.finish().is_err(), "{bad:?}");
        }
        assert_eq!(parent_key("contact.email"), Some("contact"));
        assert_eq!(parent_key("contact"), None);
    }
}
