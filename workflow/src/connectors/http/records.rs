//! Records in responses: picked by the search's `records` path, named by their id
//! (`contacts(id=42)`) or by their place in the list of records found
//! (`/contacts/0`), each field's values read by the field's JSON path relative to
//! the record.
//!
//! A field's location is a JSON path. Written below the records path of a search
//! (`$.data[*].email` with records `$.data[*]`), the rest is read from each record
//! (`$.email`); any other location is read from each record as it is (so `$.email`
//! works with every search). Without a records path, `$[*]` is the prefix.

use std::collections::{HashMap, HashSet};

use serde_json::Value;
use serde_json_path::JsonPath;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::config::Search;
use crate::connectors::{CollectError, Found, FoundValue};
use entity::data_field;

/// Most records one collection may gather before it stops as a mapping problem.
pub(super) const MAX_RECORDS: usize = 10_000;
/// Longest value taken (characters), as for values entered by hand.
pub(super) const MAX_VALUE_CHARS: usize = 10_000;
/// Longest id kept verbatim in a record key; longer ones are digested.
const MAX_ID_CHARS: usize = 200;

/// The JSON path a field is read by, relative to a record of `search`.
pub(super) fn relative_location(location: &str, search: &Search) -> String {
    let prefix = search.records_text.as_deref().unwrap_or("$[*]");
    match location.strip_prefix(prefix) {
        Some("") => "$".to_owned(),
        Some(rest) if rest.starts_with(['.', '[']) => format!("${rest}"),
        _ => location.to_owned(),
    }
}

/// The fields of a search, each with its compiled relative path.
pub(super) fn field_paths(
    fields: &[data_field::Model],
    search: &Search,
) -> Result<Vec<(Uuid, String, JsonPath)>, CollectError> {
    fields
        .iter()
        .map(|f| {
            let relative = relative_location(&f.location, search);
            JsonPath::parse(&relative)
                .map(|p| (f.id, f.location.clone(), p))
                .map_err(|_| {
                    CollectError::Mapping(format!(
                        "the location of field `{}` is not a JSON path",
                        f.location
                    ))
                })
        })
        .collect()
}

/// A JSON value as the text stored for it; `None` for null and empty strings.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The records of one response.
pub(super) fn records_of<'v>(response: &'v Value, search: &Search) -> Vec<&'v Value> {
    match (&search.records, response) {
        (Some(path), _) => path.query(response).all(),
        (None, Value::Array(items)) => items.iter().collect(),
        (None, other) => vec![other],
    }
}

/// The first scalar at `path` in `value`, as text.
pub(super) fn scalar_at(value: &Value, path: &JsonPath) -> Option<String> {
    path.query(value).all().into_iter().find_map(|v| match v {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => as_text(v),
        _ => None,
    })
}

/// What a collection gathered so far, deduplicated.
#[derive(Default)]
pub(super) struct Gathered {
    pub found: Vec<Found>,
    /// Keys taken (records with an id).
    keys: HashSet<String>,
    /// Per name: records without an id so far, and their content (to drop the same
    /// record found again by another identity or search).
    anonymous: HashMap<String, (usize, HashSet<String>)>,
}

impl Gathered {
    /// Adds the records of one response; returns how many it held (counting those
    /// already gathered).
    pub(super) fn take(
        &mut self,
        response: &Value,
        search: &Search,
        fields: &[(Uuid, String, JsonPath)],
    ) -> Result<usize, CollectError> {
        let records = records_of(response, search);
        for record in &records {
            let id = search.id.as_ref().and_then(|p| scalar_at(record, p));
            let key = match id {
                Some(id) => {
                    let id = if id.chars().count() > MAX_ID_CHARS || id.contains(char::is_control) {
                        format!("#{}", &hex::encode(Sha256::digest(id.as_bytes()))[..16])
                    } else {
                        format!("id={id}")
                    };
                    let key = format!("{}({id})", search.name);
                    if !self.keys.insert(key.clone()) {
                        continue;
                    }
                    key
                }
                None => {
                    let (count, seen) = self.anonymous.entry(search.name.clone()).or_default();
                    if !seen.insert(record.to_string()) {
                        continue;
                    }
                    *count += 1;
                    format!("/{}/{}", search.name, *count - 1)
                }
            };
            let mut values = Vec::new();
            for (field_id, location, path) in fields {
                for node in path.query(record).all() {
                    let Some(value) = as_text(node) else { continue };
                    if value.chars().count() > MAX_VALUE_CHARS {
                        return Err(CollectError::Invalid(format!(
                            "a value of field `{location}` in record `{key}` is longer than \
                             {MAX_VALUE_CHARS} characters"
                        )));
                    }
                    values.push(FoundValue {
                        field_id: *field_id,
                        value,
                    });
                }
            }
            self.found.push(Found {
                key,
                values,
                flags: Vec::new(),
            });
            if self.found.len() > MAX_RECORDS {
                return Err(CollectError::Mapping(format!(
                    "more than {MAX_RECORDS} records found; check the records path and the \
                     request template of {}",
                    search.label()
                )));
            }
        }
        Ok(records.len())
    }
}
