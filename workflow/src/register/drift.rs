//! Schema drift of SQL sources: the register's field mapping compared with the
//! source's live catalog, so the answer to an access request stays in step with the
//! data model (the Home24 lesson). Reports unmapped columns (with suggested data
//! categories), mapped fields whose column is gone, foreign keys not declared as
//! references, and lookup columns without an index; accepted suggestions become
//! fields in one transaction.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use uuid::Uuid;

use entity::{data_category, data_field};

use super::fields::{ErasureStrategy, FieldDraft, IdentityType};
use super::view::{DataCategoryView, DataFieldView, DataSourceView};
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::connectors::ConnectorKind;
use crate::connectors::catalog::{Catalog, CatalogColumn, CatalogError};
use crate::connectors::connector;
use crate::error::{Error, FieldError, Result};
use crate::{Workflow, now};

/// A column of the source that no field maps, with what the register would
/// probably record for it.
#[derive(Debug, Clone)]
pub struct Suggestion {
    /// `table.column`.
    pub location: String,
    /// The column's declared type.
    pub data_type: String,
    /// Suggested category (None: probably technical, or no guess).
    pub data_category: Option<DataCategoryView>,
    /// Suggested identifier kind (the column can find the data subject).
    pub identity_type: Option<IdentityType>,
    /// Suggested erasure strategy.
    pub erasure_strategy: ErasureStrategy,
    /// `table.column` its foreign key points to.
    pub references_location: Option<String>,
    /// Why the category was suggested.
    pub reason: Option<String>,
}

/// A foreign key whose mapped column does not declare the reference.
#[derive(Debug, Clone)]
pub struct UndeclaredReference {
    /// The mapped field holding the foreign key.
    pub field: DataFieldView,
    /// `table.column` the foreign key points to.
    pub references_location: String,
    /// The field mapping that column, if any.
    pub referenced_field: Option<DataFieldView>,
}

/// The result of comparing a source's mapping with its catalog.
#[derive(Debug, Clone)]
pub struct Inspection {
    /// The source.
    pub source: DataSourceView,
    /// When the catalog was read.
    pub inspected_at: DateTime<Utc>,
    /// Why the catalog could not be read (then everything below is empty).
    pub connection_error: Option<String>,
    /// The catalog as read.
    pub catalog: Catalog,
    /// Mapped fields by lower-case `table.column` (see [`Inspection::mapped_field`]).
    mapped: HashMap<String, DataFieldView>,
    /// Columns no field maps, in table and column order.
    pub unmapped: Vec<Suggestion>,
    /// Mapped fields whose table or column no longer exists.
    pub vanished: Vec<DataFieldView>,
    /// Foreign keys the mapping does not declare as references.
    pub undeclared_references: Vec<UndeclaredReference>,
    /// Fields the collection engine looks rows up by (identifying fields and both
    /// ends of references) whose column leads no index.
    pub unindexed_lookups: Vec<DataFieldView>,
}

impl Inspection {
    /// The field mapping `table.column`, if any.
    pub fn mapped_field(&self, table: &str, column: &str) -> Option<&DataFieldView> {
        self.mapped.get(&key(table, column))
    }
}

/// One accepted suggestion.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// `table.column` of an unmapped column.
    pub location: String,
    /// A category other than the suggested one.
    pub data_category_id: Option<Uuid>,
}

/// `(table, column)` of a SQL location in the inspected schema; None for other
/// schemas or malformed locations.
fn table_column(location: &str, schema: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = location.split('.').collect();
    match parts.as_slice() {
        [t, c] => Some((t.to_lowercase(), c.to_lowercase())),
        [s, t, c] if s.eq_ignore_ascii_case(schema) => Some((t.to_lowercase(), c.to_lowercase())),
        _ => None,
    }
}

fn key(table: &str, column: &str) -> String {
    format!("{}.{}", table.to_lowercase(), column.to_lowercase())
}

/// Words of an identifier: `customerEmail2` and `customer_email_2` both give
/// `customer`, `email`, `2`.
fn words(name: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if !ch.is_ascii_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            prev_lower = false;
            continue;
        }
        if ch.is_ascii_uppercase() && prev_lower && !current.is_empty() {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = ch.is_ascii_lowercase() || ch.is_ascii_digit();
        current.push(ch.to_ascii_lowercase());
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

/// Column-name rules, first match wins: any of the words (or the whole name) →
/// category key, identifier kind.
const COLUMN_RULES: &[(&[&str], &str, Option<IdentityType>)] = &[
    (
        &["email", "mail", "emailaddress"],
        "contact.email",
        Some(IdentityType::Email),
    ),
    (
        &["ip", "ipaddress", "ipv4", "ipv6"],
        "online.ip_address",
        None,
    ),
    (
        &[
            "phone",
            "telephone",
            "tel",
            "mobile",
            "cell",
            "fax",
            "handy",
            "telefon",
        ],
        "contact.phone",
        Some(IdentityType::Phone),
    ),
    (
        &["iban", "bic", "bank", "swift"],
        "financial.bank_account",
        None,
    ),
    (
        &["card", "pan", "cc", "cvv", "last4"],
        "financial.payment_card",
        None,
    ),
    (
        &[
            "birth",
            "birthday",
            "birthdate",
            "dob",
            "geburtsdatum",
            "age",
        ],
        "identity.birth_date",
        None,
    ),
    (&["gender", "sex", "geschlecht"], "identity.gender", None),
    (
        &[
            "passport",
            "idcard",
            "identitycard",
            "ausweis",
            "nationalid",
            "ssn",
            "taxid",
        ],
        "identity.id_document",
        None,
    ),
    (
        &[
            "customernumber",
            "customerno",
            "kundennummer",
            "kdnr",
            "membernumber",
        ],
        "account.customer_number",
        Some(IdentityType::CustomerNumber),
    ),
    (
        &["username", "login", "nickname", "handle"],
        "account.username",
        None,
    ),
    (
        &[
            "password", "passwd", "pwd", "hash", "secret", "token", "otp",
        ],
        "account.credentials",
        None,
    ),
    (
        &[
            "street",
            "address",
            "addr",
            "city",
            "zip",
            "zipcode",
            "postal",
            "postcode",
            "plz",
            "housenumber",
            "country",
        ],
        "contact.postal_address",
        None,
    ),
    (
        &[
            "firstname",
            "lastname",
            "surname",
            "givenname",
            "familyname",
            "fullname",
            "vorname",
            "nachname",
        ],
        "identity.name",
        None,
    ),
    (
        &[
            "latitude",
            "longitude",
            "lat",
            "lng",
            "lon",
            "geo",
            "gps",
            "location",
        ],
        "online.location",
        None,
    ),
    (
        &[
            "device",
            "useragent",
            "agent",
            "cookie",
            "fingerprint",
            "session",
        ],
        "online.device_id",
        None,
    ),
    (
        &[
            "health",
            "diagnosis",
            "allergy",
            "allergies",
            "medical",
            "illness",
            "disability",
        ],
        "health",
        None,
    ),
    (
        &["religion", "confession", "religious"],
        "religious_belief",
        None,
    ),
    (
        &["ethnicity", "ethnic", "race"],
        "racial_ethnic_origin",
        None,
    ),
    (&["union"], "trade_union", None),
    (&["salary", "wage", "payroll"], "employment.payroll", None),
    (
        &["creditscore", "score", "schufa"],
        "financial.creditworthiness",
        None,
    ),
];

/// Table-name rules for the remaining non-technical columns of a table.
const TABLE_RULES: &[(&[&str], &str)] = &[
    (
        &["invoice", "invoices", "billing", "receipt", "receipts"],
        "financial.invoices",
    ),
    (
        &[
            "order",
            "orders",
            "item",
            "items",
            "cart",
            "purchase",
            "purchases",
        ],
        "contract.orders",
    ),
    (
        &[
            "shipment",
            "shipments",
            "delivery",
            "deliveries",
            "shipping",
        ],
        "contract.delivery",
    ),
    (
        &["return", "returns", "refund", "refunds"],
        "contract.returns",
    ),
    (
        &[
            "ticket",
            "tickets",
            "support",
            "message",
            "messages",
            "complaint",
        ],
        "communication.support",
    ),
    (
        &["newsletter", "subscriber", "subscribers", "subscription"],
        "marketing.newsletter",
    ),
    (
        &["consent", "consents", "preference", "preferences"],
        "marketing.preferences",
    ),
    (
        &[
            "log",
            "logs",
            "visit",
            "visits",
            "pageview",
            "pageviews",
            "event",
            "events",
        ],
        "online.usage",
    ),
];

/// Tables whose `name` column is a person's name.
const PERSON_TABLES: &[&str] = &[
    "customer",
    "customers",
    "user",
    "users",
    "person",
    "persons",
    "people",
    "contact",
    "contacts",
    "member",
    "members",
    "subscriber",
    "subscribers",
    "employee",
    "employees",
    "client",
    "clients",
    "account",
    "accounts",
    "applicant",
    "applicants",
    "patient",
    "patients",
];

/// Columns that hold no personal data by themselves: bookkeeping and timestamps.
fn is_bookkeeping(w: &[String]) -> bool {
    matches!(
        w,
        [one] if ["id", "uuid", "version", "status", "type", "kind", "created", "updated", "deleted", "currency", "position", "quantity", "qty", "sku", "price", "amount", "total"].contains(&one.as_str())
    ) || matches!(
        w.last().map(String::as_str),
        Some("at" | "on" | "timestamp")
    )
}

/// Keys: `customer_id` points somewhere, it is not personal data by itself.
fn is_key(w: &[String]) -> bool {
    matches!(
        w.last().map(String::as_str),
        Some("id" | "uuid" | "fk" | "key")
    )
}

/// The category key (and identifier kind) a column of `table` probably holds, with
/// the reason; None for technical or unrecognised columns.
pub fn suggest(
    table: &str,
    column: &CatalogColumn,
) -> Option<(&'static str, Option<IdentityType>, String)> {
    let w = words(&column.name);
    let joined = w.concat();
    if column.data_type.contains("inet") {
        return Some((
            "online.ip_address",
            None,
            format!("its type is `{}`", column.data_type),
        ));
    }
    if is_bookkeeping(&w) {
        return None;
    }
    for (names, category, identity) in COLUMN_RULES {
        // Whole words, or long names inside compounds (`customerfirstname`).
        if let Some(hit) = names
            .iter()
            .find(|n| w.iter().any(|x| x == *n) || (n.len() >= 6 && joined.contains(**n)))
        {
            return Some((
                category,
                *identity,
                format!("the column name contains `{hit}`"),
            ));
        }
    }
    let table_words = words(table);
    if w == ["name"]
        && table_words
            .iter()
            .any(|t| PERSON_TABLES.contains(&t.as_str()))
    {
        return Some((
            "identity.name",
            None,
            format!("`name` in the table `{table}`"),
        ));
    }
    if is_key(&w) {
        return None;
    }
    for (names, category) in TABLE_RULES {
        if let Some(hit) = table_words.iter().find(|t| names.contains(&t.as_str())) {
            return Some((category, None, format!("the table name contains `{hit}`")));
        }
    }
    None
}

/// The erasure strategy to propose: invoices stay under the § 147 AO hold, key
/// and NOT NULL columns go with their row, the rest is set to NULL.
fn erasure_for(category: Option<&str>, column: &CatalogColumn) -> ErasureStrategy {
    if category == Some("financial.invoices") {
        ErasureStrategy::KeepUnderHold
    } else if column.primary_key || !column.nullable {
        ErasureStrategy::DeleteRow
    } else {
        ErasureStrategy::SetNull
    }
}

impl Workflow {
    /// Reads the catalog of a POSTGRES, MYSQL or SQLITE source and compares it with
    /// the fields mapped in the register. A source that cannot be reached is
    /// reported in `connection_error`, not as an error.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn inspect_source(&self, principal: &Principal, id: Uuid) -> Result<Inspection> {
        let conn = self.store.conn();
        let source = super::sources::find(conn, principal.org_id, id).await?;
        let kind: ConnectorKind = source.connector_kind.parse()?;
        if !matches!(
            kind,
            ConnectorKind::Postgres | ConnectorKind::Mysql | ConnectorKind::Sqlite
        ) {
            return Err(Error::invalid(
                &["id"],
                format!(
                    "only POSTGRES, MYSQL and SQLITE sources have a catalog to inspect; `{}` is {}",
                    source.name,
                    kind.as_str()
                ),
            ));
        }
        let fields: Vec<DataFieldView> = super::view::views(
            data_field::Entity::find()
                .filter(data_field::Column::SourceId.eq(source.id))
                .order_by_asc(data_field::Column::Location)
                .all(conn)
                .await?,
        )?;
        let categories: HashMap<String, data_category::Model> = data_category::Entity::find()
            .filter(data_category::Column::OrgId.eq(principal.org_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.key.clone(), c))
            .collect();
        let config = super::sources::connection_config(&self.cipher, &source)?;
        let source = DataSourceView::try_from(source)?;
        let inspected_at = now();
        let catalog = match connector(kind).catalog(&self.sources, &config).await {
            Ok(catalog) => catalog,
            Err(e @ (CatalogError::Unreachable(_) | CatalogError::NotSql(_))) => {
                tracing::info!(source = %source.id, error = %e, "source catalog unreadable");
                return Ok(Inspection {
                    source,
                    inspected_at,
                    connection_error: Some(e.to_string()),
                    catalog: Catalog::default(),
                    mapped: HashMap::new(),
                    unmapped: Vec::new(),
                    vanished: Vec::new(),
                    undeclared_references: Vec::new(),
                    unindexed_lookups: Vec::new(),
                });
            }
        };
        Ok(compare(source, inspected_at, catalog, fields, &categories))
    }

    /// Turns accepted suggestions of a fresh inspection into fields, in one
    /// transaction; foreign keys to mapped (or accepted) columns become references.
    #[tracing::instrument(skip(self, accepted), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn suggest_field_mappings(
        &self,
        principal: &Principal,
        source_id: Uuid,
        accepted: Vec<Accepted>,
    ) -> Result<Vec<DataFieldView>> {
        if accepted.is_empty() {
            return Err(Error::invalid(
                &["input", "accept"],
                "accept at least one suggestion",
            ));
        }
        let inspection = self.inspect_source(principal, source_id).await?;
        if let Some(e) = &inspection.connection_error {
            return Err(Error::Conflict(format!(
                "the catalog of `{}` cannot be read, so its columns cannot be checked: {e}",
                inspection.source.name
            )));
        }
        let schema = inspection.catalog.schema.clone();
        let by_location: HashMap<String, &Suggestion> = inspection
            .unmapped
            .iter()
            .map(|s| (s.location.to_lowercase(), s))
            .collect();
        let mut errors = Vec::new();
        let mut chosen: Vec<(Suggestion, Option<Uuid>)> = Vec::new();
        let mut seen = HashSet::new();
        for (i, a) in accepted.iter().enumerate() {
            let found = table_column(a.location.trim(), &schema)
                .and_then(|(t, c)| by_location.get(&key(&t, &c)));
            match found {
                Some(s) if seen.insert(s.location.clone()) => {
                    chosen.push(((*s).clone(), a.data_category_id))
                }
                Some(_) => {}
                None => errors.push(FieldError {
                    path: vec![
                        "input".into(),
                        "accept".into(),
                        i.to_string(),
                        "location".into(),
                    ],
                    message: format!(
                        "`{}` is not an unmapped column of `{}` (inspect the source again)",
                        a.location, inspection.source.name
                    ),
                }),
            }
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        let tx = self.store.begin().await?;
        // Referenced columns first, so references can point at them; what is left
        // after a pass without progress (a cycle) is created without the reference.
        let mut ids: HashMap<String, Uuid> = inspection
            .mapped
            .iter()
            .map(|(k, f)| (k.clone(), f.id))
            .collect();
        let mut pending = chosen;
        let mut created = Vec::new();
        while !pending.is_empty() {
            let accepted_keys: HashSet<String> = pending
                .iter()
                .map(|(s, _)| s.location.to_lowercase())
                .collect();
            let (ready, waiting): (Vec<_>, Vec<_>) = pending.into_iter().partition(|(s, _)| {
                s.references_location.as_ref().is_none_or(|r| {
                    let r = r.to_lowercase();
                    ids.contains_key(&r) || !accepted_keys.contains(&r)
                })
            });
            let (ready, waiting) = if ready.is_empty() {
                (waiting, Vec::new())
            } else {
                (ready, waiting)
            };
            for (s, category) in ready {
                let field = super::fields::insert_field(
                    tx.conn(),
                    principal.org_id,
                    FieldDraft {
                        source_id,
                        location: s.location.clone(),
                        description: s
                            .reason
                            .as_ref()
                            .map(|r| format!("Suggested by inspection: {r}.")),
                        data_category_id: category.or(s.data_category.as_ref().map(|c| c.id)),
                        identifies_subject: s.identity_type.is_some(),
                        identity_type: s.identity_type,
                        references_id: s
                            .references_location
                            .as_ref()
                            .and_then(|r| ids.get(&r.to_lowercase()).copied()),
                        erasure_strategy: s.erasure_strategy,
                    },
                )
                .await?;
                ids.insert(s.location.to_lowercase(), field.id);
                created.push(field);
            }
            pending = waiting;
        }
        let entry = Entry::success("suggestFieldMappings", "DataSource", source_id).after(json!({
            "fields": created.iter().map(super::fields::state).collect::<Vec<_>>(),
        }));
        self.commit_audited(tx, principal, entry).await?;
        super::view::views(created)
    }
}

/// Compares a catalog with the mapped fields.
fn compare(
    source: DataSourceView,
    inspected_at: DateTime<Utc>,
    catalog: Catalog,
    fields: Vec<DataFieldView>,
    categories: &HashMap<String, data_category::Model>,
) -> Inspection {
    let schema = catalog.schema.clone();
    let mut mapped = HashMap::new();
    let mut vanished = Vec::new();
    for field in &fields {
        let Some((t, c)) = table_column(&field.location, &schema) else {
            continue; // another schema: not what this inspection read
        };
        if catalog.column(&t, &c).is_some() {
            mapped.insert(key(&t, &c), field.clone());
        } else {
            vanished.push(field.clone());
        }
    }
    let by_id: HashMap<Uuid, &DataFieldView> = fields.iter().map(|f| (f.id, f)).collect();
    let mut unmapped = Vec::new();
    let mut undeclared_references = Vec::new();
    for table in &catalog.tables {
        for column in &table.columns {
            let k = key(&table.name, &column.name);
            let references_location = column.references.as_ref().map(|(t, c)| format!("{t}.{c}"));
            match mapped.get(&k) {
                Some(field) => {
                    if let Some(target) = &references_location {
                        let referenced_field = mapped.get(&target.to_lowercase()).cloned();
                        let declared = match (&referenced_field, field.references_id) {
                            (Some(r), Some(id)) => r.id == id,
                            _ => false,
                        };
                        if !declared {
                            undeclared_references.push(UndeclaredReference {
                                field: field.clone(),
                                references_location: target.clone(),
                                referenced_field,
                            });
                        }
                    }
                }
                None => {
                    let guess = suggest(&table.name, column);
                    let category = guess
                        .as_ref()
                        .and_then(|(k, _, _)| categories.get(*k))
                        .cloned()
                        .map(DataCategoryView::from);
                    unmapped.push(Suggestion {
                        location: format!("{}.{}", table.name, column.name),
                        data_type: column.data_type.clone(),
                        erasure_strategy: erasure_for(
                            category.as_ref().map(|c| c.key.as_str()),
                            column,
                        ),
                        identity_type: guess.as_ref().and_then(|(_, i, _)| *i),
                        reason: guess.map(|(_, _, r)| r),
                        data_category: category,
                        references_location,
                    });
                }
            }
        }
    }
    // The collection engine looks rows up by identifying fields and follows
    // references in both directions: all of these columns need an index.
    let mut lookups: Vec<&DataFieldView> = Vec::new();
    for field in mapped.values() {
        if field.identifies_subject || field.references_id.is_some() {
            lookups.push(field);
        }
        if let Some(target) = field.references_id.and_then(|id| by_id.get(&id)) {
            lookups.push(target);
        }
    }
    let mut seen = HashSet::new();
    let mut unindexed_lookups: Vec<DataFieldView> = lookups
        .into_iter()
        .filter(|f| seen.insert(f.id))
        .filter(|f| {
            table_column(&f.location, &schema)
                .and_then(|(t, c)| catalog.column(&t, &c))
                .is_some_and(|(_, c)| !c.indexed)
        })
        .cloned()
        .collect();
    unindexed_lookups.sort_by(|a, b| a.location.cmp(&b.location));
    undeclared_references.sort_by(|a, b| a.field.location.cmp(&b.field.location));
    Inspection {
        source,
        inspected_at,
        connection_error: None,
        catalog,
        mapped,
        unmapped,
        vanished,
        undeclared_references,
        unindexed_lookups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, data_type: &str) -> CatalogColumn {
        CatalogColumn {
            name: name.into(),
            data_type: data_type.into(),
            nullable: true,
            primary_key: false,
            indexed: false,
            references: None,
        }
    }

    #[test]
    fn words_split_snake_and_camel_case() {
        assert_eq!(words("customerEmail2"), ["customer", "email2"]);
        assert_eq!(words("date_of_birth"), ["date", "of", "birth"]);
        assert_eq!(words("IBAN"), ["iban"]);
    }

    #[test]
    fn suggestions_follow_names_types_and_tables() {
        let cases = [
            ("customers", "email", "text", Some("contact.email")),
            (
                "customers",
                "EmailAddress",
                "varchar",
                Some("contact.email"),
            ),
            ("customers", "mobile_phone", "text", Some("contact.phone")),
            ("customers", "iban", "text", Some("financial.bank_account")),
            (
                "customers",
                "date_of_birth",
                "date",
                Some("identity.birth_date"),
            ),
            (
                "customers",
                "street",
                "text",
                Some("contact.postal_address"),
            ),
            (
                "customers",
                "zip_code",
                "text",
                Some("contact.postal_address"),
            ),
            ("customers", "first_name", "text", Some("identity.name")),
            ("customers", "name", "text", Some("identity.name")),
            ("products", "name", "text", None),
            ("sessions", "client_ip", "text", Some("online.ip_address")),
            ("sessions", "remote", "inet", Some("online.ip_address")),
            (
                "customers",
                "customer_number",
                "text",
                Some("account.customer_number"),
            ),
            (
                "customers",
                "password_hash",
                "text",
                Some("account.credentials"),
            ),
            ("orders", "customer_id", "integer", None),
            ("orders", "created_at", "timestamp", None),
            ("users", "last_login_at", "timestamp", None),
            (
                "users",
                "customer_first_name",
                "text",
                Some("identity.name"),
            ),
            ("users", "national_id", "text", Some("identity.id_document")),
            ("orders", "note", "text", Some("contract.orders")),
            (
                "invoices",
                "net_total_text",
                "text",
                Some("financial.invoices"),
            ),
            (
                "support_tickets",
                "body",
                "text",
                Some("communication.support"),
            ),
            ("patients", "allergies", "text", Some("health")),
        ];
        for (table, name, ty, expected) in cases {
            assert_eq!(
                suggest(table, &column(name, ty)).map(|(k, _, _)| k),
                expected,
                "{table}.{name}"
            );
        }
        let (_, identity, _) = suggest("customers", &column("email", "text")).unwrap();
        assert_eq!(identity, Some(IdentityType::Email));
    }

    #[test]
    fn locations_resolve_in_the_inspected_schema_only() {
        assert_eq!(
            table_column("Customers.Email", "public"),
            Some(("customers".into(), "email".into()))
        );
        assert_eq!(
            table_column("public.customers.email", "public"),
            Some(("customers".into(), "email".into()))
        );
        assert_eq!(table_column("crm.customers.email", "public"), None);
    }
}
