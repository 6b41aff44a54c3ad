//! Consents from a CSV file (a CRM export, a paper campaign typed in): every row is
//! checked first and every error reported with its line and column; only a file
//! without errors is applied, in one transaction, so nothing is ever half imported.
//!
//! The first line names the columns (any order, any case; `,` or `;` separated, as
//! spreadsheets set to German write it):
//! `identity` (required), `identity_type` (default: the channel's kind), `purpose`
//! (the purpose's name or global ID), `channel`, `state` (GRANTED, DENIED or
//! WITHDRAWN), and the evidence `occurred_at` (RFC 3339), `source` (default "CSV
//! import"), `text_version`, `ip`, `user_agent`.

use std::collections::HashMap;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::purpose;

use super::{
    Actor, Change, CheckedEvidence, ConsentAction, ConsentChannel, ConsentIdentity, ConsentState,
    Evidence, apply, canonical, check_channel, check_evidence,
};
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::error::{Error, Result, Validator};
use crate::register::fields::IdentityType;
use crate::{Action, Workflow, now};

/// Rows one file may hold (split larger files).
pub const MAX_ROWS: usize = 10_000;
/// The largest file.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;
/// Errors reported at most; the rest are summed up in one more.
const MAX_ERRORS: usize = 200;

const COLUMNS: &[&str] = &[
    "identity",
    "identity_type",
    "purpose",
    "channel",
    "state",
    "occurred_at",
    "source",
    "text_version",
    "ip",
    "user_agent",
];

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportedConsents {
    /// Rows read.
    pub rows: usize,
    /// Rows that changed a consent's state (or made a new one).
    pub changed: usize,
    /// Rows that only added evidence to a consent in that state already.
    pub unchanged: usize,
    /// Whether nothing was written (a dry run).
    pub dry_run: bool,
}

/// A row checked.
struct Row {
    line: usize,
    kind: IdentityType,
    value: String,
    as_given: String,
    purpose_id: Uuid,
    channel: ConsentChannel,
    state: ConsentState,
    evidence: CheckedEvidence,
}

/// Reads a purpose cell: a global ID (`Purpose:<uuid>` in URL-safe base64) or a name.
fn purpose_cell(cell: &str, by_name: &HashMap<String, Uuid>, ids: &[Uuid]) -> Option<Uuid> {
    let cell = cell.trim();
    if let Some(id) = by_name.get(cell) {
        return Some(*id);
    }
    match crate::core::links::parse_global_id(cell)? {
        (type_name, id) if type_name == "Purpose" && ids.contains(&id) => Some(id),
        _ => None,
    }
}

impl Workflow {
    /// Imports consents from CSV (`consent:update`), all or nothing. VALIDATION with
    /// one error per bad cell (path `input.csv.<line>.<column>`, the header being
    /// line 1) and nothing applied; in a dry run, checks and counts only.
    pub async fn import_consents(
        &self,
        principal: &Principal,
        csv_text: &str,
        dry_run: bool,
    ) -> Result<ImportedConsents> {
        self.require_consent(principal, Action::Update).await?;
        if csv_text.len() > MAX_BYTES {
            return Err(Error::invalid(
                &["input", "csv"],
                format!("the file must be at most {} MiB", MAX_BYTES / 1024 / 1024),
            ));
        }
        let conn = self.store.conn();
        let org_id = principal.org_id;
        let region = crate::requests::settings::phone_region(conn, org_id).await?;
        let purposes = purpose::Entity::find()
            .filter(purpose::Column::OrgId.eq(org_id))
            .all(conn)
            .await?;
        let by_name: HashMap<String, Uuid> =
            purposes.iter().map(|p| (p.name.clone(), p.id)).collect();
        let purpose_ids: Vec<Uuid> = purposes.iter().map(|p| p.id).collect();
        let at = now();

        let header_line = csv_text.lines().next().unwrap_or_default();
        let delimiter = if header_line.matches(';').count() > header_line.matches(',').count() {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(csv_text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| Error::invalid(&["input", "csv"], format!("unreadable header: {e}")))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_ascii_lowercase())
            .collect();
        let mut v = Validator::default();
        for (i, h) in header.iter().enumerate() {
            v.check(
                COLUMNS.contains(&h.as_str()),
                &["input", "csv", "1", h],
                format!("unknown column; the columns are {}", COLUMNS.join(", ")),
            );
            v.check(
                !header[..i].contains(h),
                &["input", "csv", "1", h],
                "this column appears twice",
            );
        }
        for required in ["identity", "purpose", "channel", "state"] {
            v.check(
                header.iter().any(|h| h == required),
                &["input", "csv", "1", required],
                "this column is required",
            );
        }
        v.finish()?;
        let col = |name: &str| header.iter().position(|h| h == name);

        let mut v = Validator::default();
        let mut errors = 0usize;
        let mut rows: Vec<Row> = Vec::new();
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    let line = e.position().map_or(0, |p| p.line()).to_string();
                    v.check(false, &["input", "csv", &line], format!("unreadable: {e}"));
                    break;
                }
            };
            let line_no = record.position().map_or(0, |p| p.line() as usize);
            if rows.len() + errors >= MAX_ROWS {
                v.check(
                    false,
                    &["input", "csv"],
                    format!("at most {MAX_ROWS} rows per file: split it"),
                );
                break;
            }
            let line = line_no.to_string();
            if record.len() > header.len() {
                v.check(
                    false,
                    &["input", "csv", &line],
                    format!(
                        "{} cells, but the header names {} columns",
                        record.len(),
                        header.len()
                    ),
                );
                errors += 1;
                continue;
            }
            let cell =
                |name: &str| -> &str { col(name).and_then(|i| record.get(i)).unwrap_or_default() };
            let path = |name: &'static str| -> [String; 4] {
                ["input".into(), "csv".into(), line.clone(), name.into()]
            };
            let before = v_len(&v);
            let at_path = |v: &mut Validator, name: &'static str, ok: bool, msg: String| {
                let p = path(name);
                let p: Vec<&str> = p.iter().map(String::as_str).collect();
                v.check(ok, &p, msg);
            };
            let channel = cell("channel")
                .to_ascii_uppercase()
                .parse::<ConsentChannel>()
                .ok();
            at_path(
                &mut v,
                "channel",
                channel.is_some(),
                "must be EMAIL, PHONE, SMS, POST or STORAGE".into(),
            );
            let state = match cell("state").to_ascii_uppercase().as_str() {
                "PENDING" => {
                    at_path(
                        &mut v,
                        "state",
                        false,
                        "PENDING comes only from a double opt-in (requestConsent)".into(),
                    );
                    None
                }
                s => {
                    let parsed = s.parse::<ConsentState>().ok();
                    at_path(
                        &mut v,
                        "state",
                        parsed.is_some(),
                        "must be GRANTED, DENIED or WITHDRAWN".into(),
                    );
                    parsed
                }
            };
            let purpose_id = purpose_cell(cell("purpose"), &by_name, &purpose_ids);
            at_path(
                &mut v,
                "purpose",
                purpose_id.is_some(),
                "no purpose of the register has this name or ID".into(),
            );
            let kind = match cell("identity_type") {
                "" => channel.map(ConsentChannel::identity_type),
                t => {
                    let parsed = t.to_ascii_uppercase().parse::<IdentityType>().ok();
                    at_path(
                        &mut v,
                        "identity_type",
                        parsed.is_some(),
                        "must be EMAIL, PHONE, CUSTOMER_NUMBER, POSTAL_ADDRESS or OTHER".into(),
                    );
                    parsed
                }
            };
            if let (Some(channel), Some(kind)) = (channel, kind) {
                let p = path("identity_type");
                let p: Vec<&str> = p.iter().map(String::as_str).collect();
                check_channel(&mut v, channel, kind, &p);
            }
            let as_given = cell("identity").to_owned();
            let value = kind.map(|kind| {
                let p = path("identity");
                let p: Vec<&str> = p.iter().map(String::as_str).collect();
                canonical(
                    &mut v,
                    &ConsentIdentity {
                        kind,
                        value: as_given.clone(),
                    },
                    &p,
                    region,
                )
            });
            let occurred_at = match cell("occurred_at") {
                "" => None,
                t => {
                    let parsed = chrono::DateTime::parse_from_rfc3339(t)
                        .ok()
                        .map(|d| d.with_timezone(&chrono::Utc));
                    at_path(
                        &mut v,
                        "occurred_at",
                        parsed.is_some(),
                        "must be a time like 2026-03-01T12:00:00Z".into(),
                    );
                    parsed
                }
            };
            let opt = |name: &str| Some(cell(name).to_owned()).filter(|s| !s.is_empty());
            let evidence = {
                let p = ["input".to_owned(), "csv".to_owned(), line.clone()];
                let p: Vec<&str> = p.iter().map(String::as_str).collect();
                check_evidence(
                    &mut v,
                    &Evidence {
                        source: opt("source"),
                        text_version: opt("text_version"),
                        occurred_at,
                        ip: opt("ip"),
                        user_agent: opt("user_agent"),
                    },
                    &p,
                    super::CSV_NAMES,
                    Some("CSV import"),
                    at,
                )
            };
            if v_len(&v) > before {
                errors += 1;
                if errors >= MAX_ERRORS {
                    v.check(
                        false,
                        &["input", "csv"],
                        format!("more than {MAX_ERRORS} rows have errors; fix these first"),
                    );
                    break;
                }
                continue;
            }
            if let (Some(channel), Some(state), Some(purpose_id), Some(kind), Some(value)) =
                (channel, state, purpose_id, kind, value)
            {
                rows.push(Row {
                    line: line_no,
                    kind,
                    value,
                    as_given,
                    purpose_id,
                    channel,
                    state,
                    evidence,
                });
            }
        }
        // An importer must not bring an erased person back.
        for row in rows.iter().filter(|r| r.state == ConsentState::Granted) {
            if crate::erasure::suppression::is_suppressed(
                conn,
                &self.cipher,
                org_id,
                row.kind,
                &row.value,
            )
            .await?
            {
                let line = row.line.to_string();
                v.check(
                    false,
                    &["input", "csv", &line, "identity"],
                    "belongs to a person erased on request (suppression list): not imported",
                );
            }
        }
        v.finish()?;
        if rows.is_empty() {
            return Err(Error::invalid(&["input", "csv"], "the file holds no rows"));
        }
        let mut result = ImportedConsents {
            rows: rows.len(),
            dry_run,
            ..Default::default()
        };
        if dry_run {
            result.changed = rows.len();
            return Ok(result);
        }
        let result = self
            .retrying(|| async {
                let mut result = result.clone();
                let tx = self.store.begin().await?;
                let conn = tx.conn();
                for row in &rows {
                    let (subject_id, identity_id) = crate::requests::subject_of(
                        conn,
                        org_id,
                        row.kind,
                        &row.value,
                        &row.as_given,
                    )
                    .await?;
                    let applied = apply(
                        conn,
                        Change {
                            org_id,
                            subject_id,
                            identity_id,
                            purpose_id: row.purpose_id,
                            channel: row.channel,
                            state: row.state,
                            action: ConsentAction::Imported,
                            evidence: &row.evidence,
                            actor: Actor::Key(principal),
                            token: None,
                        },
                    )
                    .await?;
                    if applied.changed_from.is_some() {
                        result.changed += 1;
                        self.after_change(conn, &applied).await?;
                    } else {
                        result.unchanged += 1;
                    }
                }
                let mut entry = Entry::success("importConsents", "Consent", "");
                entry.object_id = None;
                entry.after = Some(serde_json::json!({
                    "rows": result.rows, "changed": result.changed, "unchanged": result.unchanged
                }));
                self.commit_audited(tx, principal, entry).await?;
                Ok(result)
            })
            .await?;
        Ok(result)
    }
}

fn v_len(v: &Validator) -> usize {
    v.len()
}
