//! Connectors: how Auskunft reaches a data source. One trait, [`Connector`], and one
//! module per kind (`sql/` for PostgreSQL, MySQL/MariaDB and SQLite, `http`,
//! `manual`). Everything that depends on the kind of a source lives behind the trait:
//! the JSON Schema of its configuration, the syntax of a field's location, where it
//! points (checked by the [`guard::SourceGuard`]), catalog inspection, and
//! collection. Registering a new kind means one module and one enum value.

pub mod catalog;
pub mod guard;
mod http;
pub(crate) use http::error_chain;
mod manual;
pub mod sql;

use std::sync::LazyLock;

use serde_json::{Map, Value};

use entity::{data_field, data_source};

use crate::error::{Error, FieldError, Result};
use crate::register::fields::IdentityType;
use catalog::{Catalog, CatalogError};
use guard::{Refusal, SourceGuard, Stage, Target};

stored_enum! {
    /// How Auskunft reaches a source.
    ConnectorKind {
        /// A PostgreSQL database.
        Postgres => "POSTGRES",
        /// A MySQL or MariaDB database.
        Mysql => "MYSQL",
        /// A SQLite database file.
        Sqlite => "SQLITE",
        /// An HTTP JSON API.
        Http => "HTTP",
        /// Searched by a person.
        Manual => "MANUAL",
    }
}

/// What every connector kind knows about its sources.
#[async_trait::async_trait]
pub(crate) trait Connector: Send + Sync + 'static {
    /// The kind it serves.
    fn kind(&self) -> ConnectorKind;

    /// The JSON Schema of its configuration (`writeOnly` properties are secrets).
    fn config_schema(&self) -> &'static str;

    /// Checks the syntax of a field's location in a source of this kind; the error
    /// says what a location must look like.
    fn check_location(&self, location: &str) -> std::result::Result<(), &'static str>;

    /// Resolves and checks where a source with this configuration points, through
    /// the guard's rules (SQLite directory, allowed hosts).
    fn locate(
        &self,
        guard: &SourceGuard,
        config: &Map<String, Value>,
        stage: Stage,
    ) -> std::result::Result<Target, Refusal>;

    /// Where the source's secrets go (a host and port, an origin), if it has a
    /// destination: stored secrets are kept across a change only while it stays the
    /// same, so nobody can point a source elsewhere and receive its password.
    fn destination(&self, _config: &Map<String, Value>) -> Option<String> {
        None
    }

    /// Checks what the JSON Schema of the configuration cannot express (JSON paths,
    /// request templates, embedded JSON Schemas). Runs after the schema passed; each
    /// problem names its path below the configuration and never repeats a value.
    fn check_details(&self, _config: &Map<String, Value>) -> Vec<ConfigProblem> {
        Vec::new()
    }

    /// The identifier kinds a source with this configuration is searched by, given
    /// the kinds of its identifying fields (each once, in field order). SQL and
    /// MANUAL sources are searched by their identifying fields.
    fn search_keys(
        &self,
        _config: &Map<String, Value>,
        field_keys: Vec<IdentityType>,
    ) -> Vec<IdentityType> {
        field_keys
    }

    /// Reads the source's catalog (tables, columns, keys); kinds without one say so.
    async fn catalog(
        &self,
        _guard: &SourceGuard,
        _config: &Map<String, Value>,
    ) -> std::result::Result<Catalog, CatalogError> {
        Err(CatalogError::NotSql(self.kind().as_str()))
    }

    /// Whether erasure can be carried out in a source with this configuration by a
    /// worker; otherwise a steward carries it out by hand.
    fn erases(&self, _config: &Map<String, Value>) -> bool {
        false
    }

    /// Carries out `changes` (rows found by [`Connector::collect`], named by their
    /// keys) in the source, all or nothing. Only kinds that say they
    /// [`Connector::erases`] are asked.
    async fn erase(
        &self,
        _job: &CollectJob<'_>,
        _changes: &[RowChange],
    ) -> std::result::Result<Erased, CollectError> {
        Err(CollectError::Manual(self.kind().as_str()))
    }

    /// For the retention sweep: every record of the source that identifies a subject,
    /// with its identities and the latest values of the trigger fields `triggers`
    /// reachable from it. Only SQL sources can be read whole.
    async fn holders(
        &self,
        _job: &CollectJob<'_>,
        _triggers: &[uuid::Uuid],
    ) -> std::result::Result<Vec<Holder>, CollectError> {
        Err(CollectError::Mapping(format!(
            "{} sources cannot be swept: map the trigger in a SQL source",
            self.kind().as_str()
        )))
    }

    /// Finds everything the source holds about the subject of `job`. Kinds a
    /// person searches (MANUAL) are never collected by a worker.
    async fn collect(&self, job: &CollectJob<'_>) -> std::result::Result<Vec<Found>, CollectError>;
}

/// A problem of a connector configuration the JSON Schema cannot see: the path below
/// the configuration (`["search", "0", "records"]`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigProblem {
    /// Path below the configuration.
    pub path: Vec<String>,
    /// What is wrong; never the value itself.
    pub message: String,
}

impl ConfigProblem {
    pub(crate) fn new(path: &[&str], message: impl Into<String>) -> Self {
        Self {
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            message: message.into(),
        }
    }
}

/// One identity of the subject a collection searches for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchIdentity {
    /// What it is.
    pub kind: IdentityType,
    /// The normalized value (as intake stores it).
    pub value: String,
    /// The value as the requester gave it, when it differs.
    pub as_given: Option<String>,
}

/// What a collection task needs to search one source.
pub(crate) struct CollectJob<'a> {
    /// The source.
    pub source: &'a data_source::Model,
    /// Its connector configuration with the secrets merged in.
    pub config: &'a Map<String, Value>,
    /// Its mapped fields; only these are read.
    pub fields: &'a [data_field::Model],
    /// The subject's verified identities.
    pub identities: &'a [SearchIdentity],
    /// The location checks (SQLite directory, allowed hosts).
    pub guard: &'a SourceGuard,
    /// Connection pools of the sources, kept between tasks.
    pub pools: &'a sql::Pools,
}

/// One record found in a source: a row of a table, an object of an HTTP response or
/// one upload, with the values of its mapped fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where the record is, unique in the task: `customers(id=42)`, `/contacts/0`.
    pub key: String,
    /// The values of its mapped fields (NULLs are left out).
    pub values: Vec<FoundValue>,
    /// What the connector noticed about how the record was reached (a shared
    /// reference, a fan-out): stored as leak findings of the record.
    pub flags: Vec<(crate::collection::leaks::LeakKind, String)>,
}

/// One value of a found record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundValue {
    /// The mapped field.
    pub field_id: uuid::Uuid,
    /// The value as text.
    pub value: String,
}

/// A record that identifies a subject, as the retention sweep sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Where the record is (`customers(id=4)`), as collection names it.
    pub key: String,
    /// The identities in it (values as stored).
    pub identities: Vec<(IdentityType, String)>,
    /// The latest value of each trigger field found for it, as text.
    pub last: Vec<String>,
}

/// What to do to one record a search found, named by its [`Found::key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowChange {
    /// The record.
    pub key: String,
    /// Delete the whole record.
    pub delete: bool,
    /// Otherwise: the new value of each of these fields (`None`: NULL). Key columns
    /// are never changed.
    pub set: Vec<(uuid::Uuid, Option<String>)>,
    /// Write each value in its column's own type (a corrected date goes into a date
    /// column; a type the source cannot take fails the whole change). Otherwise a
    /// text written to a column that holds no text becomes NULL (an erasure's
    /// replacement).
    pub typed: bool,
    /// Only when the row still holds these values (`None`: NULL); otherwise nothing
    /// is changed and the change affects no row. A value kept under a legal hold is
    /// released only from the row that held it, not from one changed since.
    pub expect: Vec<(uuid::Uuid, Option<String>)>,
}

/// What an erasure did.
#[derive(Debug, Clone, Default)]
pub struct Erased {
    /// Rows each change touched, in the order of the changes (0: the row was gone
    /// already, or nothing was to change).
    pub affected: Vec<u64>,
    /// Fields that are (part of) their table's primary key: never changed.
    pub key_fields: std::collections::HashSet<uuid::Uuid>,
    /// Fields whose replacement text became NULL (the column holds no text).
    pub nulled: std::collections::HashSet<uuid::Uuid>,
}

/// Why a collection attempt failed; retried with backoff, then shown to stewards.
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The source could not be reached or answered with an error.
    #[error("{0}")]
    Unreachable(String),
    /// The register does not describe the source well enough to search it.
    #[error("{0}")]
    Mapping(String),
    /// The source answered with something that does not fit its schema.
    #[error("{0}")]
    Invalid(String),
    /// The kind is searched by a person.
    #[error("{0} sources are searched by a person")]
    Manual(&'static str),
}

/// A kind's configuration schema, compiled once.
struct ConfigSchema {
    schema: Value,
    validator: jsonschema::Validator,
    secrets: Vec<String>,
}

impl ConfigSchema {
    fn compile(text: &str) -> Self {
        let schema: Value =
            serde_json::from_str(text).expect("connector schemas are valid JSON (tested)");
        let validator = jsonschema::validator_for(&schema)
            .expect("connector schemas are valid JSON Schemas (tested)");
        let secrets = schema["properties"]
            .as_object()
            .map(|props| {
                props
                    .iter()
                    .filter(|(_, p)| p["writeOnly"] == true)
                    .map(|(name, _)| name.clone())
                    .collect()
            })
            .unwrap_or_default();
        Self {
            schema,
            validator,
            secrets,
        }
    }
}

static POSTGRES: sql::SqlConnector = sql::SqlConnector(sql::Dialect::Postgres);
static MYSQL: sql::SqlConnector = sql::SqlConnector(sql::Dialect::Mysql);
static SQLITE: sql::SqlConnector = sql::SqlConnector(sql::Dialect::Sqlite);

/// The connector of a kind.
pub(crate) fn connector(kind: ConnectorKind) -> &'static dyn Connector {
    match kind {
        ConnectorKind::Postgres => &POSTGRES,
        ConnectorKind::Mysql => &MYSQL,
        ConnectorKind::Sqlite => &SQLITE,
        ConnectorKind::Http => &http::HttpConnector,
        ConnectorKind::Manual => &manual::ManualConnector,
    }
}

static SCHEMAS: LazyLock<Vec<(ConnectorKind, ConfigSchema)>> = LazyLock::new(|| {
    ConnectorKind::ALL
        .iter()
        .map(|&kind| (kind, ConfigSchema::compile(connector(kind).config_schema())))
        .collect()
});

fn compiled(kind: ConnectorKind) -> &'static ConfigSchema {
    SCHEMAS
        .iter()
        .find(|(k, _)| *k == kind)
        .map(|(_, s)| s)
        .expect("every kind has a schema")
}

/// The JSON Schema of a connector kind's configuration.
pub fn connector_schema(kind: ConnectorKind) -> &'static Value {
    &compiled(kind).schema
}

/// The secret (`writeOnly`) properties of a connector kind.
pub fn secret_properties(kind: ConnectorKind) -> &'static [String] {
    &compiled(kind).secrets
}

/// Checks a full configuration (secrets included); every schema error becomes a
/// field error whose path follows the JSON pointer into `input.connectorConfig`.
///
/// Messages never repeat a submitted value (JSON Schema messages normally do, e.g.
/// `"hunter2" is not of type "integer"`): a secret typed into the wrong field or of
/// the wrong type must not come back in an error, a log line or an audit record.
pub(crate) fn check_config(kind: ConnectorKind, config: &Value) -> Result<()> {
    let mut errors: Vec<FieldError> = schema_violations(&compiled(kind).validator, config, 100)
        .into_iter()
        .map(|(at, message)| FieldError {
            path: ["input", "connectorConfig"]
                .iter()
                .map(|s| (*s).to_owned())
                .chain(pointer_segments(&at))
                .collect(),
            message,
        })
        .collect();
    if errors.is_empty()
        && let Value::Object(map) = config
    {
        errors = connector(kind)
            .check_details(map)
            .into_iter()
            .map(|p| FieldError {
                path: ["input", "connectorConfig"]
                    .iter()
                    .map(|s| (*s).to_owned())
                    .chain(p.path)
                    .collect(),
                message: p.message,
            })
            .collect();
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// Compiles a JSON Schema that data from a source is checked against (a MANUAL
/// source's `recordSchema`, an HTTP search's `responseSchema`). Formats are
/// assertions here (`"format": "date"` refuses `31.02.2024`), not the annotations
/// draft 2020-12 makes them by default: a schema that names a format means it.
pub(crate) fn data_schema(
    schema: &Value,
) -> std::result::Result<jsonschema::Validator, jsonschema::ValidationError<'static>> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
}

/// The JSON Schema errors of `instance` against `validator`, as (JSON pointer, message)
/// pairs whose messages never repeat the offending value. A missing required
/// property is named by its own path (`/0/email`), not its object's.
pub(crate) fn schema_violations(
    validator: &jsonschema::Validator,
    instance: &Value,
    limit: usize,
) -> Vec<(String, String)> {
    validator
        .iter_errors(instance)
        .take(limit)
        .map(|e| {
            let mut at = e.instance_path().as_str().to_owned();
            if let jsonschema::error::ValidationErrorKind::Required {
                property: Value::String(property),
            } = e.kind()
            {
                at.push('/');
                at.push_str(&property.replace('~', "~0").replace('/', "~1"));
            }
            (at, e.masked_with("the value").to_string())
        })
        .collect()
}

/// The path segments of a JSON pointer (`/a~1b/0` is `a/b`, `0`).
pub(crate) fn pointer_segments(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .skip(1)
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Splits a configuration into its plain part and its secrets.
pub(crate) fn split(kind: ConnectorKind, config: Value) -> (Value, Map<String, Value>) {
    let mut plain = match config {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let secrets = secret_properties(kind)
        .iter()
        .filter_map(|name| plain.remove(name).map(|v| (name.clone(), v)))
        .collect();
    (Value::Object(plain), secrets)
}

/// A text property of a connector configuration.
pub(crate) fn text<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config.get(key).and_then(Value::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_connector_schema_compiles_and_marks_its_secrets() {
        for kind in ConnectorKind::ALL {
            let schema = connector_schema(*kind);
            assert!(
                schema["description"].is_string(),
                "{kind:?} schema is documented"
            );
        }
        assert_eq!(secret_properties(ConnectorKind::Postgres), ["password"]);
        assert_eq!(
            secret_properties(ConnectorKind::Http),
            ["headers", "password", "token"],
            "extra headers carry API keys: write-only like the token"
        );
        assert!(secret_properties(ConnectorKind::Sqlite).is_empty());
    }

    #[test]
    fn data_schemas_assert_formats() {
        let schema = json!({"type": "object", "required": ["email", "a/b"],
            "properties": {"born": {"type": "string", "format": "date"}}});
        let validator = data_schema(&schema).unwrap();
        let got = schema_violations(&validator, &json!({"born": "31.02.2024"}), 10);
        let mut at: Vec<&str> = got.iter().map(|(a, _)| a.as_str()).collect();
        at.sort_unstable();
        assert_eq!(at, ["/a~1b", "/born", "/email"], "{got:?}");
        assert!(
            got.iter().all(|(_, m)| !m.contains("31.02")),
            "the value is not repeated: {got:?}"
        );
        assert!(
            schema_violations(
                &validator,
                &json!({"born": "2024-02-29", "email": "x", "a/b": 1}),
                10
            )
            .is_empty()
        );
    }

    #[test]
    fn schema_errors_point_into_the_config() {
        let err = check_config(
            ConnectorKind::Postgres,
            &json!({"host": "db", "port": 70000, "user": 5}),
        )
        .unwrap_err();
        let Error::Validation(fields) = err else {
            panic!()
        };
        let paths: Vec<String> = fields.iter().map(|f| f.path.join(".")).collect();
        assert!(
            paths.contains(&"input.connectorConfig.database".to_owned()),
            "a missing property is named by its own path: {paths:?}"
        );
        assert!(
            paths.contains(&"input.connectorConfig.port".to_owned()),
            "{paths:?}"
        );
        assert!(
            paths.contains(&"input.connectorConfig.user".to_owned()),
            "{paths:?}"
        );
        assert!(
            check_config(
                ConnectorKind::Postgres,
                &json!({"host": "db", "database": "shop", "user": "u"})
            )
            .is_ok()
        );
    }

    #[test]
    fn schema_errors_never_repeat_submitted_values() {
        let marker = "Hunter2-S3cret";
        let wrong_values = [
            json!(marker),
            json!(47_110_815_u64),
            json!([marker]),
            json!({ "v": marker }),
            json!(format!("{marker}{}", "x".repeat(300))),
        ];
        for kind in ConnectorKind::ALL {
            let props = connector_schema(*kind)["properties"].as_object().unwrap();
            for wrong in &wrong_values {
                // Every property (secrets included) gets the wrong value at once.
                let config: Map<String, Value> =
                    props.keys().map(|k| (k.clone(), wrong.clone())).collect();
                for config in [Value::Object(config), wrong.clone()] {
                    let Err(Error::Validation(fields)) = check_config(*kind, &config) else {
                        continue;
                    };
                    for f in fields {
                        assert!(
                            !f.message.contains(marker) && !f.message.contains("47110815"),
                            "{kind:?}: {} repeats the value: {}",
                            f.path.join("."),
                            f.message
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn secrets_are_split_off() {
        let (plain, secrets) = split(
            ConnectorKind::Postgres,
            json!({"host": "db", "password": "pw"}),
        );
        assert_eq!(plain, json!({"host": "db"}));
        assert_eq!(Value::Object(secrets), json!({"password": "pw"}));
    }
}
