//! A steward's upload as the result of a collection task: JSON (an array of objects,
//! or one object) or CSV (a header row, then one row per record), each record checked
//! against the source's `recordSchema` (MANUAL sources) with every violation reported
//! at its path, or a file kept like a request's attachment.
//!
//! A record's properties are matched to the source's fields by location: the
//! property `email` is the field whose location is `email`; a property no field has
//! is kept under its name, like a location entered by hand. The values of one record
//! share the record key `upload/<n>` (`n` counts records from 0, in the order
//! uploaded); a file is one record, `upload/file`. An upload replaces what the task
//! stored before, and completes the task.

use base64::Engine;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::{data_field, data_source, request_attachment};

use super::intake::MAX_ATTACHMENT_BYTES;
use super::tasks::{CONTROL_CHARACTERS, NewValue, TaskEnd, TaskKind, TaskState, is_plain_text};
use crate::access::principal::Principal;
use crate::connectors::{ConnectorKind, pointer_segments, schema_violations};
use crate::error::{Error, Result, Validator};
use crate::{Workflow, new_id, now};

/// Most records in one upload (larger exports are uploaded as a file).
pub const MAX_UPLOAD_RECORDS: usize = 5_000;
/// Most values in one upload.
pub const MAX_UPLOAD_VALUES: usize = 50_000;
/// Longest value (characters), as for values entered by hand.
const MAX_VALUE_CHARS: usize = 10_000;
/// Longest property name (it becomes the location).
const MAX_NAME_CHARS: usize = 300;
/// Most problems listed in one answer; the rest are counted.
const MAX_REPORTED: usize = 100;

/// How an upload is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadFormat {
    /// An array of JSON objects, or one object.
    Json,
    /// CSV with a header row naming the properties.
    Csv,
    /// Any file (base64), kept sealed as one record.
    File,
}

impl UploadFormat {
    fn as_str(self) -> &'static str {
        match self {
            UploadFormat::Json => "JSON",
            UploadFormat::Csv => "CSV",
            UploadFormat::File => "FILE",
        }
    }
}

/// What a steward uploads as the result of a collection task.
#[derive(Debug, Clone)]
pub struct TaskUpload {
    /// How `content` is given.
    pub format: UploadFormat,
    /// JSON or CSV text; for FILE the file's bytes in base64.
    pub content: String,
    /// The file's name (required for FILE).
    pub file_name: Option<String>,
    /// The file's media type (FILE; default `application/octet-stream`).
    pub media_type: Option<String>,
    /// How the source was searched.
    pub note: Option<String>,
}

/// Problems found in an upload, at most [`MAX_REPORTED`] listed.
#[derive(Default)]
struct Problems {
    listed: Vec<(Vec<String>, String)>,
    more: usize,
}

impl Problems {
    fn add(&mut self, path: Vec<String>, message: impl Into<String>) {
        if self.listed.len() < MAX_REPORTED {
            self.listed.push((path, message.into()));
        } else {
            self.more += 1;
        }
    }

    fn at(&mut self, record: usize, rest: &[&str], message: impl Into<String>) {
        let mut path = vec!["input".to_owned(), "content".to_owned(), record.to_string()];
        path.extend(rest.iter().map(|s| (*s).to_owned()));
        self.add(path, message);
    }

    fn content(&mut self, message: impl Into<String>) {
        self.add(vec!["input".to_owned(), "content".to_owned()], message);
    }

    fn into_validator(self, v: &mut Validator) {
        for (path, message) in &self.listed {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            v.check(false, &path, message.clone());
        }
        if self.more > 0 {
            v.check(
                false,
                &["input", "content"],
                format!("{} more problem(s) not listed", self.more),
            );
        }
    }
}

/// A record of an upload with its place (index in the array, row after the header).
type Record = (usize, Map<String, Value>);

/// A JSON value read like [`Value`], except that an object naming a property twice
/// is an error: `serde_json` would keep the last one and silently drop a value.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<Value, E> {
        Ok(v.into())
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<Value, E> {
        Ok(v.into())
    }
    fn visit_f64<E>(self, v: f64) -> std::result::Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> std::result::Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Value, A::Error> {
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                let shown: String = key.chars().take(60).collect();
                return Err(serde::de::Error::custom(format!(
                    "an object names the property `{}` twice",
                    shown.escape_debug()
                )));
            }
            let Strict(value) = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// The records of a JSON upload.
fn json_records(problems: &mut Problems, content: &str) -> Vec<Record> {
    let parsed: Value = match serde_json::from_str::<Strict>(content) {
        Ok(Strict(v)) => v,
        // A duplicate property: the message says which, and where.
        Err(e) if e.is_data() => {
            problems.content(e.to_string());
            return Vec::new();
        }
        Err(e) => {
            problems.content(format!(
                "is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ));
            return Vec::new();
        }
    };
    let items = match parsed {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => {
            problems.content("must be a JSON object or an array of objects");
            return Vec::new();
        }
    };
    if items.len() > MAX_UPLOAD_RECORDS {
        problems.content(too_many());
        return Vec::new();
    }
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| match item {
            Value::Object(map) => Some((i, map)),
            _ => {
                problems.at(i, &[], "must be an object");
                None
            }
        })
        .collect()
}

fn too_many() -> String {
    format!("at most {MAX_UPLOAD_RECORDS} records per upload; upload larger exports as a FILE")
}

/// The JSON types a schema property allows (`type` as a string or a list).
fn allowed_types(property: Option<&Value>) -> Vec<&str> {
    match property.and_then(|p| p.get("type")) {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// A CSV cell as JSON: typed as the record schema's property says (`integer`,
/// `number`, `boolean`) when it reads as one and the property does not allow text.
fn cell_value(cell: &str, property: Option<&Value>) -> Value {
    let types = allowed_types(property);
    if !types.contains(&"string") {
        for t in &types {
            let typed = match *t {
                "integer" => cell.parse::<i64>().ok().map(Value::from),
                "number" => cell
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .and_then(serde_json::Number::from_f64)
                    .map(Value::Number),
                "boolean" => match cell {
                    "true" => Some(Value::Bool(true)),
                    "false" => Some(Value::Bool(false)),
                    _ => None,
                },
                _ => None,
            };
            if let Some(typed) = typed {
                return typed;
            }
        }
    }
    Value::String(cell.to_owned())
}

/// The records of a CSV upload: one per row after the header; empty cells are left
/// out; rows with another number of cells than the header are refused.
fn csv_records(problems: &mut Problems, content: &str, schema: Option<&Value>) -> Vec<Record> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(content.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_owned()).collect(),
        Err(_) => {
            problems.content("must be CSV with a header row");
            return Vec::new();
        }
    };
    let header_path = |column: usize| {
        vec![
            "input".to_owned(),
            "content".to_owned(),
            "header".to_owned(),
            column.to_string(),
        ]
    };
    if header.iter().all(String::is_empty) {
        problems.content("must start with a header row naming the properties");
        return Vec::new();
    }
    let mut header_ok = true;
    for (i, name) in header.iter().enumerate() {
        if name.is_empty() {
            problems.add(header_path(i), "names no property");
            header_ok = false;
        } else if header[..i].contains(name) {
            problems.add(header_path(i), "names a property an earlier column names");
            header_ok = false;
        }
    }
    if !header_ok {
        // The rows cannot be read without a header that names each column once.
        return Vec::new();
    }
    let properties = schema.and_then(|s| s.get("properties"));
    let mut records = Vec::new();
    for (i, row) in reader.records().enumerate() {
        if i >= MAX_UPLOAD_RECORDS {
            problems.content(too_many());
            return Vec::new();
        }
        let row = match row {
            Ok(row) => row,
            Err(_) => {
                problems.at(i, &[], "is not a valid CSV row");
                continue;
            }
        };
        if row.len() != header.len() {
            problems.at(
                i,
                &[],
                format!(
                    "has {} cell(s), the header row has {}",
                    row.len(),
                    header.len()
                ),
            );
            continue;
        }
        let record: Map<String, Value> = header
            .iter()
            .zip(row.iter())
            .filter(|(_, cell)| !cell.is_empty())
            .map(|(name, cell)| {
                let property = properties.and_then(|p| p.get(name.as_str()));
                (name.clone(), cell_value(cell, property))
            })
            .collect();
        records.push((i, record));
    }
    records
}

/// The text stored for a JSON value; `None` for null and empty text.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The values of the records, each property matched to the field of that location.
fn record_values<'f>(
    problems: &mut Problems,
    records: &[Record],
    fields: &'f [data_field::Model],
) -> Vec<NewValue<'f>> {
    let mut values = Vec::new();
    for (i, record) in records {
        let i = *i;
        for (name, value) in record {
            let Some(text) = as_text(value) else {
                continue;
            };
            let name = name.trim();
            if name.is_empty()
                || name.chars().count() > MAX_NAME_CHARS
                || name.chars().any(char::is_control)
            {
                problems.at(
                    i,
                    &[],
                    format!(
                        "property names must be 1 to {MAX_NAME_CHARS} characters without control characters"
                    ),
                );
                continue;
            }
            if text.chars().count() > MAX_VALUE_CHARS {
                problems.at(
                    i,
                    &[name],
                    format!("must be at most {MAX_VALUE_CHARS} characters"),
                );
                continue;
            }
            if !is_plain_text(&text) {
                problems.at(i, &[name], CONTROL_CHARACTERS);
                continue;
            }
            values.push(NewValue {
                field: fields.iter().find(|f| f.location == name),
                location: name.to_owned(),
                record_key: Some(format!("upload/{i}")),
                value: text,
                sealed: None,
            });
        }
    }
    if values.len() > MAX_UPLOAD_VALUES {
        problems.content(format!("at most {MAX_UPLOAD_VALUES} values per upload"));
    }
    values
}

/// The record schema of a MANUAL source, compiled.
fn record_schema(source: &data_source::Model) -> Result<Option<(Value, jsonschema::Validator)>> {
    if source.connector_kind != ConnectorKind::Manual.as_str() {
        return Ok(None);
    }
    let Some(schema) = source.connector_config.get("recordSchema") else {
        return Ok(None);
    };
    let validator = crate::connectors::data_schema(schema).map_err(|_| {
        Error::Conflict(
            "the source's recordSchema is not a valid JSON Schema; a steward must fix the source"
                .to_owned(),
        )
    })?;
    Ok(Some((schema.clone(), validator)))
}

impl Workflow {
    /// Completes a COLLECT task with an upload (see the module documentation): the
    /// same permission (`request:collect`) and state (COLLECTING) as completing it by
    /// hand; replaces what the task stored before; audited, on the timeline.
    #[tracing::instrument(skip(self, upload), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn upload_task_result(
        &self,
        principal: &Principal,
        task_id: Uuid,
        upload: TaskUpload,
    ) -> Result<(super::TaskView, super::RequestView)> {
        let tx = self.store.begin().await?;
        let conn = tx.conn();
        let open = self.open_task(conn, principal, task_id).await?;
        if open.kind != TaskKind::Collect {
            return Err(Error::invalid(
                &["input", "taskId"],
                "is an execution task; uploads are the results of collection tasks",
            ));
        }
        let source = data_source::Entity::find_by_id(open.task.source_id)
            .filter(data_source::Column::OrgId.eq(principal.org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound {
                what: "data source",
            })?;
        let fields = data_field::Entity::find()
            .filter(data_field::Column::SourceId.eq(source.id))
            .all(conn)
            .await?;
        let mut v = Validator::default();
        let note = v.optional_text(upload.note, &["input", "note"], 5000);
        let at = now();
        let mut problems = Problems::default();
        let (values, file, summary) = match upload.format {
            UploadFormat::Json | UploadFormat::Csv => {
                v.check(
                    upload.media_type.is_none(),
                    &["input", "mediaType"],
                    "is for FILE uploads",
                );
                let schema = record_schema(&source)?;
                let records = if upload.format == UploadFormat::Json {
                    json_records(&mut problems, &upload.content)
                } else {
                    csv_records(
                        &mut problems,
                        &upload.content,
                        schema.as_ref().map(|s| &s.0),
                    )
                };
                if let Some((_, validator)) = &schema {
                    for (i, record) in &records {
                        let record = Value::Object(record.clone());
                        for (at, message) in schema_violations(validator, &record, MAX_REPORTED) {
                            let rest = pointer_segments(&at);
                            let rest: Vec<&str> = rest.iter().map(String::as_str).collect();
                            problems.at(*i, &rest, message);
                        }
                    }
                }
                let values = record_values(&mut problems, &records, &fields);
                let summary = format!("{} record(s), {} value(s)", records.len(), values.len());
                (values, None, summary)
            }
            UploadFormat::File => {
                let file_name = upload.file_name.as_deref().unwrap_or_default();
                let file_name = v.text(file_name, &["input", "fileName"], 255);
                let media_type = upload
                    .media_type
                    .as_deref()
                    .map_or("application/octet-stream", str::trim)
                    .to_owned();
                v.check(
                    media_type.contains('/')
                        && media_type.len() <= 100
                        && !media_type.chars().any(char::is_control),
                    &["input", "mediaType"],
                    "must be a media type like application/pdf",
                );
                let compact: String = upload
                    .content
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact.as_bytes())
                    .unwrap_or_else(|_| {
                        problems.content("is not base64");
                        Vec::new()
                    });
                if bytes.is_empty() && !compact.is_empty() {
                    // Not base64: already reported.
                } else if bytes.is_empty() {
                    problems.content("must not be empty");
                } else if bytes.len() > MAX_ATTACHMENT_BYTES {
                    problems.content(format!(
                        "must be at most {} MiB",
                        MAX_ATTACHMENT_BYTES / 1024 / 1024
                    ));
                }
                let id = new_id();
                let sha256 = hex::encode(Sha256::digest(&bytes));
                let description = serde_json::json!({
                    "attachmentId": id, "fileName": file_name, "mediaType": media_type,
                    "sizeBytes": bytes.len(), "sha256": sha256,
                });
                let summary = format!("a file of {} byte(s) ({media_type})", bytes.len());
                let file = request_attachment::ActiveModel {
                    id: Set(id),
                    org_id: Set(principal.org_id),
                    request_id: Set(open.request.id),
                    task_id: Set(Some(open.task.id)),
                    file_name: Set(file_name),
                    media_type: Set(media_type),
                    size_bytes: Set(bytes.len() as i64),
                    sha256: Set(sha256),
                    content: Set(self.cipher.encrypt(&bytes)?),
                    created_by: Set(Some(principal.key_id)),
                    created_at: Set(at),
                };
                let record = NewValue {
                    field: fields.iter().find(|f| f.location == "file"),
                    location: "file".to_owned(),
                    record_key: Some("upload/file".to_owned()),
                    value: description.to_string(),
                    sealed: None,
                };
                (vec![record], Some(file), summary)
            }
        };
        problems.into_validator(&mut v);
        v.finish()?;
        let replaced = self
            .replace_task_results(conn, &open.task, values, Vec::new(), at)
            .await?;
        if let Some(file) = file {
            file.insert(conn).await?;
        }
        let mut active = open.task.clone().into_active_model();
        active.state = Set(TaskState::Done.as_str().to_owned());
        active.note = Set(note);
        active.error = Set(None);
        active.completed_by = Set(Some(principal.key_id));
        active.completed_at = Set(Some(at));
        let mut message = format!(
            "COLLECT task done by upload ({}): {summary}",
            upload.format.as_str()
        );
        if replaced.kept > 0 {
            message.push_str(&format!(
                "; {} redaction(s) kept for values collected again at the same place",
                replaced.kept
            ));
        }
        let end = TaskEnd {
            active,
            message,
            dropped: replaced.dropped,
        };
        self.finish_task(tx, principal, open, end, "uploadTaskResult")
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(problems: &Problems) -> Vec<String> {
        problems.listed.iter().map(|(p, _)| p.join(".")).collect()
    }

    #[test]
    fn json_uploads_are_objects_or_arrays_of_objects() {
        let mut p = Problems::default();
        let records = json_records(&mut p, r#"[{"email": "a@example.com"}, 5, {"x": null}]"#);
        let places: Vec<usize> = records.iter().map(|r| r.0).collect();
        assert_eq!(places, [0, 2]);
        assert_eq!(paths(&p), ["input.content.1"]);
        let mut p = Problems::default();
        assert_eq!(json_records(&mut p, r#"{"email": "a"}"#).len(), 1);
        for bad in ["", "[{", "\"text\"", "{\"a\": 1,}"] {
            let mut p = Problems::default();
            assert!(json_records(&mut p, bad).is_empty());
            assert_eq!(paths(&p), ["input.content"], "{bad:?}");
        }
    }

    #[test]
    fn a_property_named_twice_is_refused_not_dropped() {
        let mut p = Problems::default();
        let records = json_records(
            &mut p,
            r#"[{"email": "a@example.com", "x": {"y": 1, "y": 2}}]"#,
        );
        assert!(records.is_empty());
        assert_eq!(paths(&p), ["input.content"]);
        let message = &p.listed[0].1;
        assert!(
            message.contains("`y` twice") && message.contains("line 1"),
            "{message}"
        );
        let mut p = Problems::default();
        let records = json_records(&mut p, r#"{"a": [1, 2.5, true, null, "x", {"b": "c"}]}"#);
        assert!(p.listed.is_empty());
        assert_eq!(
            Value::Object(records[0].1.clone()),
            json!({"a": [1, 2.5, true, null, "x", {"b": "c"}]})
        );
    }

    #[test]
    fn control_characters_in_values_are_refused() {
        let fields: Vec<data_field::Model> = Vec::new();
        let mut p = Problems::default();
        let records = json_records(
            &mut p,
            "[{\"a\": \"line one\\nline two\\ttab\"}, {\"a\": \"nul\\u0000\", \"b\": \"esc\\u001b[31m\"}]",
        );
        let values = record_values(&mut p, &records, &fields);
        assert_eq!(values.len(), 1, "the line breaks and the tab are fine");
        assert_eq!(paths(&p), ["input.content.1.a", "input.content.1.b"]);
    }

    #[test]
    fn csv_cells_are_typed_by_the_record_schema() {
        let schema = json!({"properties": {
            "age": {"type": "integer"}, "score": {"type": ["number", "null"]},
            "active": {"type": "boolean"}, "zip": {"type": "string"}}});
        let mut p = Problems::default();
        let records = csv_records(
            &mut p,
            "age,score,active,zip,name\n42,1.5,true,01067,Anna\nx,,false,,\n",
            Some(&schema),
        );
        assert!(p.listed.is_empty());
        assert_eq!(
            Value::Object(records[0].1.clone()),
            json!({"age": 42, "score": 1.5, "active": true, "zip": "01067", "name": "Anna"})
        );
        assert_eq!(
            (records[1].0, Value::Object(records[1].1.clone())),
            (1, json!({"age": "x", "active": false}))
        );
    }

    #[test]
    fn ragged_rows_and_bad_headers_are_named() {
        let mut p = Problems::default();
        let records = csv_records(&mut p, "a,b\n1,2\n1\n1,2,3\n\"x\"\"y\",2\n", None);
        let places: Vec<usize> = records.iter().map(|r| r.0).collect();
        assert_eq!(places, [0, 3], "records keep their row");
        assert_eq!(paths(&p), ["input.content.1", "input.content.2"]);
        let mut p = Problems::default();
        assert!(csv_records(&mut p, "a,,a\n1,2,3\n", None).is_empty());
        assert_eq!(
            paths(&p),
            ["input.content.header.1", "input.content.header.2"]
        );
        let mut p = Problems::default();
        assert!(csv_records(&mut p, "", None).is_empty());
        assert_eq!(paths(&p), ["input.content"]);
    }

    #[test]
    fn problems_are_listed_up_to_a_bound() {
        let mut p = Problems::default();
        let rows: String = (0..500).map(|_| "1\n").collect();
        csv_records(&mut p, &format!("a,b\n{rows}"), None);
        assert_eq!(p.listed.len(), MAX_REPORTED);
        assert_eq!(p.more, 500 - MAX_REPORTED);
    }

    #[test]
    fn pointers_become_path_segments() {
        assert_eq!(pointer_segments("/a~1b/0/c~0d"), ["a/b", "0", "c~d"]);
        assert!(pointer_segments("").is_empty());
    }
}
