//! The leak guard (the Home24 lesson): before a request goes to review, every
//! collected value is scanned for data that may belong to somebody else.
//!
//! - FOREIGN_IDENTIFIER: an e-mail address, phone number, IBAN or payment card
//!   number in any value, or a value of a customer-number field, that is not one of
//!   the requester's identities (nor of the record the requester was found by).
//! - OTHER_SUBJECT_IDENTITY: the same, where the value is a known identity of
//!   another data subject of the organization.
//! - SHARED_REFERENCE and FAN_OUT come from the connectors (a row whose other end
//!   also links to rows outside the subject's data; a reference that fans out
//!   unusually far) and are stored with the task's result.
//!
//! Approval is refused while a finding is open: each must be redacted (its value,
//! or for a record finding every value of the record) or dismissed with a reason.
//! A dismissal carries over to the same finding (kind, place, value) when the
//! request is collected again.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use regex::Regex;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::{
    collected_record, data_field, leak_finding, redaction, subject_identity, subject_request,
};

use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::register::fields::IdentityType;
use crate::requests::RequestState;
use crate::{Workflow, new_id, now};

stored_enum! {
    /// Why a collected value or record may belong to someone else.
    LeakKind {
        /// An identifier (e-mail, phone, IBAN, card, customer number) that is not
        /// one of the requester's.
        ForeignIdentifier => "FOREIGN_IDENTIFIER",
        /// A known identity of another data subject.
        OtherSubjectIdentity => "OTHER_SUBJECT_IDENTITY",
        /// A row whose other end also links to rows outside the subject's data.
        SharedReference => "SHARED_REFERENCE",
        /// A reference that fans out unusually far.
        FanOut => "FAN_OUT",
    }
}

stored_enum! {
    /// Where a finding stands.
    FindingStatus {
        /// Not resolved: approval is refused.
        Open => "OPEN",
        /// A reviewer explained why it is the requester's data.
        Dismissed => "DISMISSED",
    }
}

/// Where a finding stands, as a reviewer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingState {
    /// Not resolved: approval is refused.
    Open,
    /// Its value (or every value of its record) is redacted.
    Redacted,
    /// Dismissed with a reason.
    Dismissed,
}

/// A finding with its parsed kind and state.
#[derive(Debug, Clone)]
pub struct LeakFindingView {
    /// The stored finding.
    pub finding: leak_finding::Model,
    /// Its kind.
    pub kind: LeakKind,
    /// Where it stands.
    pub state: FindingState,
}

/// How a finding was found.
const SCAN: &str = "SCAN";
/// Reported by a connector with a task's result.
pub(crate) const TASK: &str = "TASK";

static EMAIL: LazyLock<Regex> = LazyLock::new(|| {
    // Letters of any script: a look-alike domain (Cyrillic а for Latin a) is an
    // address too, and somebody else's.
    Regex::new(r"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+").expect("valid")
});
static IBAN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}\b").expect("valid"));
static CARD: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b[0-9](?:[ \-]?[0-9]){12,18}\b").expect("valid"));
static PHONE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:\+|\b0)[0-9][0-9 /().\-]{5,20}[0-9]").expect("valid"));
/// A date, with a time of day and an offset where given: ISO 8601 as databases print
/// it (`2021-05-03 10:00:00+00`) or the German spelling (`03.05.2021 10:00`).
static DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b(?:[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])|(?:0?[1-9]|[12][0-9]|3[01])\.(?:0?[1-9]|1[0-2])\.[0-9]{4})(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:[.,][0-9]+)?)?(?:Z|[+\-][0-9]{2}(?::?[0-9]{2})?)?)?",
    )
    .expect("valid")
});

/// Whether `s` (spaces removed) passes the IBAN check (ISO 13616, mod 97).
fn is_iban(s: &str) -> bool {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    if !(15..=34).contains(&s.len()) {
        return false;
    }
    let (head, tail) = s.split_at(4);
    let mut rem: u32 = 0;
    for c in tail.chars().chain(head.chars()) {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

/// Whether the digits pass the Luhn check (payment cards).
fn is_card(s: &str) -> bool {
    let digits: Vec<u32> = s.chars().filter_map(|c| c.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let d = d * 2;
                if d > 9 { d - 9 } else { d }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// The canonical spelling of `value` as an identity of `kind`, if it is one.
pub(crate) fn canonical(
    kind: IdentityType,
    value: &str,
    region: identity::PhoneRegion,
) -> Option<String> {
    match kind {
        IdentityType::Email => identity::email(value).ok(),
        IdentityType::Phone => identity::phone(value, region).ok(),
        IdentityType::PostalAddress => Some(identity::multiline_text(value)),
        IdentityType::CustomerNumber | IdentityType::Other => Some(identity::text(value)),
    }
}

/// One identifier found in a value.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Token {
    kind: IdentityType,
    /// Canonical (IBANs and cards: digits and letters only; IBAN/card use kind
    /// OTHER with a prefix).
    value: String,
    what: &'static str,
}

/// The identifiers in a free-text value.
/// The text as the scan reads it: compatibility forms folded (a fullwidth ＠ or
/// digit is the plain one), and invisible format characters (zero-width space and
/// joiner, soft hyphen, byte order mark) removed, so that an identifier cannot hide
/// behind its spelling.
fn readable(value: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::UnicodeNormalization;
    // ASCII is its own NFKC form and holds none of the invisible characters.
    if value.is_ascii() {
        return std::borrow::Cow::Borrowed(value);
    }
    value
        .nfkc()
        .filter(|c| {
            !matches!(
                c,
                '\u{00AD}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
            )
        })
        .collect::<String>()
        .into()
}

fn tokens(value: &str, region: identity::PhoneRegion) -> Vec<Token> {
    let value = readable(value);
    let value = value.as_ref();
    let mut out = Vec::new();
    // Every pattern below needs an ASCII digit or an `@` (after the folding above):
    // names and the like are done here.
    if !value.bytes().any(|b| b.is_ascii_digit() || b == b'@') {
        return out;
    }
    for m in EMAIL.find_iter(value) {
        if let Some(v) = canonical(IdentityType::Email, m.as_str(), region) {
            out.push(Token {
                kind: IdentityType::Email,
                value: v,
                what: "an e-mail address",
            });
        }
    }
    for m in IBAN.find_iter(value) {
        let upper = m.as_str().to_ascii_uppercase();
        if is_iban(&upper) {
            let v: String = upper.chars().filter(|c| !c.is_whitespace()).collect();
            out.push(Token {
                kind: IdentityType::Other,
                value: format!("iban:{v}"),
                what: "an IBAN",
            });
        }
    }
    // What is read as one kind is not read again as another: IBANs hold digits that
    // may pass a card's checksum, and IBANs, cards and dates hold digits a phone
    // number pattern matches (reading a phone number is the scan's dearest step, and
    // a shop's rows are full of order dates). An IBAN when it passed its checksum, or
    // when it is a country code, two digits and nothing but digits (a mistyped
    // German IBAN is neither a card nor a phone number); the shape alone also
    // matches words followed by a number (`AB12 ruft an 030 1234567`). A card only
    // when it passed its checksum: a long phone number looks like a card.
    let mut rest = value.to_owned();
    let blank = |rest: &mut String, range: std::ops::Range<usize>| {
        let spaces = " ".repeat(range.len());
        rest.replace_range(range, &spaces);
    };
    for m in IBAN.find_iter(value).filter(|m| {
        let digits_only = m
            .as_str()
            .get(4..)
            .is_some_and(|rest| rest.bytes().all(|b| b.is_ascii_digit() || b == b' '));
        digits_only || is_iban(&m.as_str().to_ascii_uppercase())
    }) {
        blank(&mut rest, m.range());
    }
    let cards: Vec<std::ops::Range<usize>> = CARD
        .find_iter(&rest)
        .filter(|m| is_card(m.as_str()))
        .map(|m| m.range())
        .collect();
    for range in cards {
        let v: String = rest[range.clone()]
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        out.push(Token {
            kind: IdentityType::Other,
            value: format!("card:{v}"),
            what: "a payment card number",
        });
        blank(&mut rest, range);
    }
    // A date stands alone: digits, a dash or a slash right beside it make it part
    // of something else (`0221-12-10-5432` is a phone number).
    let joined = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_digit() || b"-/+".contains(b));
    let dates: Vec<std::ops::Range<usize>> = DATE
        .find_iter(&rest)
        .map(|m| m.range())
        .filter(|r| {
            let bytes = rest.as_bytes();
            !joined(r.start.checked_sub(1).and_then(|i| bytes.get(i))) && !joined(bytes.get(r.end))
        })
        .collect();
    for range in dates {
        blank(&mut rest, range);
    }
    for m in PHONE.find_iter(&rest) {
        // 00 is the international call prefix: 0049 30 … is +49 30 ….
        let number = match m.as_str().strip_prefix("00") {
            Some(international) => format!("+{international}"),
            None => m.as_str().to_owned(),
        };
        if let Some(v) = canonical(IdentityType::Phone, &number, region) {
            out.push(Token {
                kind: IdentityType::Phone,
                value: v,
                what: "a phone number",
            });
        }
    }
    out
}

/// A finding before it is stored.
struct Candidate {
    kind: LeakKind,
    record: collected_record::Model,
    detail: String,
    fingerprint: String,
    /// The canonical identity, to look up other subjects.
    identity: Option<(IdentityType, String)>,
}

fn fingerprint(parts: &[&str]) -> String {
    let mut d = Sha256::new();
    for p in parts {
        d.update(p.as_bytes());
        d.update([0u8]);
    }
    hex::encode(d.finalize())
}

/// Whether a finding is resolved by redaction: its value is redacted, or (for a
/// record finding) every value of its record.
pub(crate) fn is_redacted(
    finding: &leak_finding::Model,
    records: &[collected_record::Model],
    redacted: &HashSet<Uuid>,
) -> bool {
    if let Some(id) = finding.record_id {
        return redacted.contains(&id);
    }
    let Some(key) = &finding.record_key else {
        return false;
    };
    let mut of_record = records
        .iter()
        .filter(|r| r.record_key.as_ref() == Some(key) && Some(r.task_id) == finding.task_id)
        .peekable();
    of_record.peek().is_some() && of_record.all(|r| redacted.contains(&r.id))
}

/// Most findings resolved by one `resolveLeakFindings`.
pub const MAX_RESOLVED_AT_ONCE: usize = 1000;

/// How a reviewer resolves findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Leave the data out of the answer.
    Redact,
    /// Keep it: the reviewer explains why it is the requester's data.
    Dismiss,
}

/// A redaction of `record_id`, decided by `principal` at `at`.
pub(crate) fn redaction_row(
    principal: &Principal,
    request_id: Uuid,
    record_id: Uuid,
    reason: String,
    at: chrono::DateTime<chrono::Utc>,
) -> redaction::ActiveModel {
    redaction::ActiveModel {
        id: Set(new_id()),
        org_id: Set(principal.org_id),
        request_id: Set(request_id),
        record_id: Set(record_id),
        reason: Set(reason),
        decided_by: Set(Some(principal.key_id)),
        decided_at: Set(at),
    }
}

/// The request of a finding, locked, if its findings can be resolved now: it is
/// IN_REVIEW and not claimed by somebody else.
async fn in_review<C: Conn>(
    conn: &C,
    principal: &Principal,
    request_id: Uuid,
) -> Result<subject_request::Model> {
    let request = crate::requests::find_request_locked(conn, principal.org_id, request_id).await?;
    if request.state != RequestState::InReview.as_str() {
        return Err(Error::Conflict(format!(
            "findings are resolved while the request is IN_REVIEW; it is {}",
            request.state
        )));
    }
    crate::requests::ensure_not_claimed_by_other(&request, principal)?;
    Ok(request)
}

/// The ids of a request's redacted records.
pub(crate) async fn redacted_records<C: Conn>(conn: &C, request_id: Uuid) -> Result<HashSet<Uuid>> {
    let ids: Vec<Uuid> = redaction::Entity::find()
        .select_only()
        .column(redaction::Column::RecordId)
        .filter(redaction::Column::RequestId.eq(request_id))
        .into_tuple()
        .all(conn)
        .await?;
    Ok(ids.into_iter().collect())
}

/// Open findings of a request that no redaction resolves.
pub(crate) async fn unresolved<C: Conn>(conn: &C, request_id: Uuid) -> Result<usize> {
    count_unresolved(conn, request_id, None).await
}

/// [`unresolved`], with the request's collected records when the caller has them
/// already (read in the same transaction).
async fn count_unresolved<C: Conn>(
    conn: &C,
    request_id: Uuid,
    known: Option<&[collected_record::Model]>,
) -> Result<usize> {
    let findings = leak_finding::Entity::find()
        .filter(leak_finding::Column::RequestId.eq(request_id))
        .filter(leak_finding::Column::Status.eq(FindingStatus::Open.as_str()))
        .all(conn)
        .await?;
    if findings.is_empty() {
        return Ok(0);
    }
    let loaded;
    let records = match known {
        Some(records) => records,
        None => {
            loaded = collected_record::Entity::find()
                .filter(collected_record::Column::RequestId.eq(request_id))
                .all(conn)
                .await?;
            &loaded
        }
    };
    let redacted: HashSet<Uuid> = redacted_records(conn, request_id).await?;
    Ok(findings
        .iter()
        .filter(|f| !is_redacted(f, records, &redacted))
        .count())
}

/// What the scan reads from a task's values, worked out from the connector's result
/// before the finish's transaction needs it: the identifiers in each distinct
/// value, and the canonical spelling of each value of an identifying field. The
/// worker reads them on a blocking thread while the transaction's first round trips
/// run, so that the parsing (phone numbers are dear) adds no waiting.
#[derive(Debug, Default)]
pub(crate) struct Readings {
    tokens: HashMap<String, Vec<Token>>,
    canonicals: HashMap<IdentityType, HashMap<String, Option<String>>>,
}

impl Readings {
    /// Reads the values of `found` that belong to `fields`.
    pub(crate) fn of(
        found: &[crate::connectors::Found],
        fields: &[data_field::Model],
        region: identity::PhoneRegion,
    ) -> Self {
        let mut out = Self::default();
        for v in found.iter().flat_map(|r| &r.values) {
            let Some(field) = fields.iter().find(|f| f.id == v.field_id) else {
                continue;
            };
            if !out.tokens.contains_key(&v.value) {
                out.tokens.insert(v.value.clone(), tokens(&v.value, region));
            }
            if let Some(kind) = field.identity_type.as_deref().and_then(|t| t.parse().ok()) {
                let of_kind = out.canonicals.entry(kind).or_default();
                if !of_kind.contains_key(&v.value) {
                    of_kind.insert(v.value.clone(), canonical(kind, &v.value, region));
                }
            }
        }
        out
    }

    /// The canonical spelling of `value` as `kind`, read ahead or now.
    pub(crate) fn canonical(
        &self,
        kind: IdentityType,
        value: &str,
        region: identity::PhoneRegion,
    ) -> Option<String> {
        match self.canonicals.get(&kind).and_then(|m| m.get(value)) {
            Some(c) => c.clone(),
            None => canonical(kind, value, region),
        }
    }
}

/// What the finish of a request's last collection task holds already, so that the
/// scan on the way to review reads only what it does not.
pub(crate) struct Known<'a> {
    /// The organization's phone region.
    pub region: identity::PhoneRegion,
    /// The requester's identity values (given and found, canonical).
    pub own: HashSet<String>,
    /// The finishing task.
    pub task_id: Uuid,
    /// What it stored, with the plain values.
    pub records: Vec<(collected_record::Model, String)>,
    /// The fields of its source.
    pub fields: &'a [data_field::Model],
    /// The request has no other task: no other records or findings exist.
    pub alone: bool,
    /// The findings the task's connector reported with its result.
    pub task_findings: usize,
    /// What was read ahead from the task's values.
    pub readings: Readings,
}

impl Workflow {
    /// Scans a request's collected values inside the transition to review and
    /// replaces its scan findings (keeping dismissals of findings that recur).
    /// Returns how many findings are open.
    pub(crate) async fn scan_leaks<C: Conn>(
        &self,
        conn: &C,
        request: &subject_request::Model,
        known: Option<Known<'_>>,
    ) -> Result<usize> {
        // Never in review before: no scan findings, redactions or dismissals exist
        // (only a reviewer makes those, and the transition to review marks it).
        let first_review = request.submitted_for_review_by.is_none();
        let alone = known
            .as_ref()
            .filter(|k| k.alone && first_review)
            .map(|k| k.task_findings);
        let mut readings = Readings::default();
        let (region, mut opened, mut fields, own) = match known {
            Some(k) => {
                let mut opened = k.records;
                if !k.alone {
                    let others = collected_record::Entity::find()
                        .filter(collected_record::Column::RequestId.eq(request.id))
                        .filter(collected_record::Column::TaskId.ne(k.task_id))
                        .all(conn)
                        .await?;
                    for r in others {
                        let v = self.open_value(&r)?;
                        opened.push((r, v));
                    }
                }
                let fields: HashMap<Uuid, data_field::Model> =
                    k.fields.iter().map(|f| (f.id, f.clone())).collect();
                readings = k.readings;
                (k.region, opened, fields, Some(k.own))
            }
            None => {
                let region = crate::requests::settings::phone_region(conn, request.org_id).await?;
                let opened = collected_record::Entity::find()
                    .filter(collected_record::Column::RequestId.eq(request.id))
                    .all(conn)
                    .await?
                    .into_iter()
                    .map(|r| {
                        let v = self.open_value(&r)?;
                        Ok((r, v))
                    })
                    .collect::<Result<Vec<_>>>()?;
                (region, opened, HashMap::new(), None)
            }
        };
        opened.sort_by_key(|(r, _)| r.id);
        let missing: BTreeSet<Uuid> = opened
            .iter()
            .filter_map(|(r, _)| r.field_id)
            .filter(|f| !fields.contains_key(f))
            .collect();
        if !missing.is_empty() {
            fields.extend(
                data_field::Entity::find()
                    .filter(data_field::Column::Id.is_in(missing))
                    .all(conn)
                    .await?
                    .into_iter()
                    .map(|f| (f.id, f)),
            );
        }
        let identity_of = |r: &collected_record::Model| -> Option<IdentityType> {
            r.field_id
                .and_then(|f| fields.get(&f))
                .and_then(|f| f.identity_type.as_deref())
                .and_then(|t| t.parse().ok())
        };
        // The requester's identities, and the identifiers of the records the
        // requester was found by (their own customer row names their phone).
        let mut own: HashSet<String> = match own {
            Some(own) => own,
            None => super::search_identities(conn, request)
                .await?
                .into_iter()
                .map(|i| i.value)
                .collect(),
        };
        // Each distinct value is read once: a shop customer's e-mail address, phone
        // number or IBAN recurs in many rows, and parsing a phone number is the
        // scan's dearest step.
        let mut canonicals: HashMap<(IdentityType, &str), Option<String>> = HashMap::new();
        let canonical_of: Vec<Option<String>> = opened
            .iter()
            .map(|(r, v)| {
                let kind = identity_of(r)?;
                canonicals
                    .entry((kind, v.as_str()))
                    .or_insert_with(|| readings.canonical(kind, v, region))
                    .clone()
            })
            .collect();
        let anchors: HashSet<(Uuid, &str)> = opened
            .iter()
            .zip(&canonical_of)
            .filter(|(_, c)| c.as_ref().is_some_and(|c| own.contains(c)))
            .filter_map(|((r, _), _)| Some((r.task_id, r.record_key.as_deref()?)))
            .collect();
        for ((r, _), c) in opened.iter().zip(&canonical_of) {
            let anchored = r
                .record_key
                .as_deref()
                .is_some_and(|k| anchors.contains(&(r.task_id, k)));
            // Only the identity fields of that record: free text in it may name
            // anybody.
            if let (true, Some(c)) = (anchored, c) {
                own.insert(c.clone());
            }
        }
        let mut read: HashMap<&str, Vec<Token>> = HashMap::new();
        let mut candidates: Vec<Candidate> = Vec::new();
        for ((r, v), c) in opened.iter().zip(&canonical_of) {
            let mut found: Vec<(IdentityType, &str, &'static str)> = Vec::new();
            if let (Some(IdentityType::CustomerNumber), Some(c)) = (identity_of(r), c) {
                found.push((IdentityType::CustomerNumber, c, "a customer number"));
            }
            let tokens: &[Token] = match readings.tokens.get(v.as_str()) {
                Some(ahead) => ahead,
                None => read.entry(v.as_str()).or_insert_with(|| tokens(v, region)),
            };
            for t in tokens.iter() {
                found.push((t.kind, &t.value, t.what));
            }
            let mut seen = HashSet::new();
            for (kind, value, what) in found {
                if own.contains(value) || !seen.insert(value) {
                    continue;
                }
                candidates.push(Candidate {
                    kind: LeakKind::ForeignIdentifier,
                    record: r.clone(),
                    detail: format!(
                        "`{}` holds {what} that is not one of the requester's identities",
                        r.location
                    ),
                    fingerprint: fingerprint(&[
                        r.record_key.as_deref().unwrap_or(""),
                        &r.location,
                        value,
                    ]),
                    identity: Some((kind, value.to_owned())),
                });
            }
        }
        // Known identities of other subjects of the organization.
        let values: BTreeSet<&str> = candidates
            .iter()
            .filter_map(|c| c.identity.as_ref().map(|(_, v)| v.as_str()))
            .collect();
        // With the kinds too, the lookup walks the unique index (organization, kind,
        // value) instead of every identity of the organization; only same-kind
        // matches count below anyway.
        let kinds: BTreeSet<&str> = candidates
            .iter()
            .filter_map(|c| c.identity.as_ref().map(|(k, _)| k.as_str()))
            .collect();
        if !values.is_empty() {
            let others: HashSet<(String, String)> = subject_identity::Entity::find()
                .filter(subject_identity::Column::OrgId.eq(request.org_id))
                .filter(subject_identity::Column::Kind.is_in(kinds))
                .filter(subject_identity::Column::Value.is_in(values))
                .filter(subject_identity::Column::SubjectId.ne(request.subject_id))
                .all(conn)
                .await?
                .into_iter()
                .map(|i| (i.kind, i.value))
                .collect();
            for c in &mut candidates {
                if let Some((kind, value)) = &c.identity
                    && others.contains(&(kind.as_str().to_owned(), value.clone()))
                {
                    c.kind = LeakKind::OtherSubjectIdentity;
                    c.detail = format!(
                        "`{}` holds a known identity of another data subject",
                        c.record.location
                    );
                }
            }
        }
        // Replace the scan's findings; dismissals of recurring ones stay.
        let existing = if first_review {
            Vec::new()
        } else {
            leak_finding::Entity::find()
                .filter(leak_finding::Column::RequestId.eq(request.id))
                .filter(leak_finding::Column::Origin.eq(SCAN))
                .all(conn)
                .await?
        };
        let had = !existing.is_empty();
        let mut dismissed: HashMap<String, leak_finding::Model> = existing
            .into_iter()
            .filter(|f| f.status == FindingStatus::Dismissed.as_str())
            .map(|f| (format!("{}:{}", f.kind, f.fingerprint), f))
            .collect();
        if had {
            leak_finding::Entity::delete_many()
                .filter(leak_finding::Column::RequestId.eq(request.id))
                .filter(leak_finding::Column::Origin.eq(SCAN))
                .exec(conn)
                .await?;
        }
        let at = now();
        let rows: Vec<leak_finding::ActiveModel> = candidates
            .into_iter()
            .map(|c| {
                let kept = dismissed.remove(&format!("{}:{}", c.kind.as_str(), c.fingerprint));
                leak_finding::ActiveModel {
                    id: Set(new_id()),
                    org_id: Set(request.org_id),
                    request_id: Set(request.id),
                    task_id: Set(Some(c.record.task_id)),
                    origin: Set(SCAN.to_owned()),
                    kind: Set(c.kind.as_str().to_owned()),
                    record_key: Set(c.record.record_key.clone()),
                    record_id: Set(Some(c.record.id)),
                    field_id: Set(c.record.field_id),
                    location: Set(Some(c.record.location.clone())),
                    detail: Set(c.detail),
                    fingerprint: Set(c.fingerprint),
                    status: Set(kept
                        .as_ref()
                        .map_or(FindingStatus::Open.as_str(), |_| {
                            FindingStatus::Dismissed.as_str()
                        })
                        .to_owned()),
                    resolution: Set(kept.as_ref().and_then(|k| k.resolution.clone())),
                    resolved_by: Set(kept.as_ref().and_then(|k| k.resolved_by)),
                    resolved_at: Set(kept.as_ref().and_then(|k| k.resolved_at)),
                    created_at: Set(at),
                }
            })
            .collect();
        let scanned = rows.len();
        for chunk in rows.chunks(500) {
            leak_finding::Entity::insert_many(chunk.to_vec())
                .exec(conn)
                .await?;
        }
        if let Some(task_findings) = alone {
            // Nothing resolved yet: every finding of the one task and of this scan
            // is open.
            return Ok(scanned + task_findings);
        }
        let records: Vec<collected_record::Model> = opened.into_iter().map(|(r, _)| r).collect();
        count_unresolved(conn, request.id, Some(&records)).await
    }

    /// Replaces the findings a connector reported with a task's result (record
    /// findings: shared references, fan-outs); dismissals of recurring ones stay.
    pub(crate) async fn replace_task_findings<C: Conn>(
        &self,
        conn: &C,
        task: &entity::request_task::Model,
        flags: Vec<(String, LeakKind, String)>,
        first: bool,
    ) -> Result<()> {
        let task_id = task.id;
        // A task's first result has no findings to replace.
        let existing = if first {
            Vec::new()
        } else {
            leak_finding::Entity::find()
                .filter(leak_finding::Column::TaskId.eq(task_id))
                .filter(leak_finding::Column::Origin.eq(TASK))
                .all(conn)
                .await?
        };
        if existing.is_empty() && flags.is_empty() {
            return Ok(());
        }
        let had = !existing.is_empty();
        let mut dismissed: HashMap<String, leak_finding::Model> = existing
            .into_iter()
            .filter(|f| f.status == FindingStatus::Dismissed.as_str())
            .map(|f| (f.fingerprint.clone(), f))
            .collect();
        if had {
            leak_finding::Entity::delete_many()
                .filter(leak_finding::Column::TaskId.eq(task_id))
                .filter(leak_finding::Column::Origin.eq(TASK))
                .exec(conn)
                .await?;
        }
        let at = now();
        let rows: Vec<leak_finding::ActiveModel> = flags
            .into_iter()
            .map(|(key, kind, detail)| {
                let fingerprint = fingerprint(&[kind.as_str(), &key, &detail]);
                let kept = dismissed.remove(&fingerprint);
                leak_finding::ActiveModel {
                    id: Set(new_id()),
                    org_id: Set(task.org_id),
                    request_id: Set(task.request_id),
                    task_id: Set(Some(task_id)),
                    origin: Set(TASK.to_owned()),
                    kind: Set(kind.as_str().to_owned()),
                    record_key: Set(Some(key)),
                    record_id: Set(None),
                    field_id: Set(None),
                    location: Set(None),
                    detail: Set(detail),
                    fingerprint: Set(fingerprint),
                    status: Set(kept
                        .as_ref()
                        .map_or(FindingStatus::Open.as_str(), |_| {
                            FindingStatus::Dismissed.as_str()
                        })
                        .to_owned()),
                    resolution: Set(kept.as_ref().and_then(|k| k.resolution.clone())),
                    resolved_by: Set(kept.as_ref().and_then(|k| k.resolved_by)),
                    resolved_at: Set(kept.as_ref().and_then(|k| k.resolved_at)),
                    created_at: Set(at),
                }
            })
            .collect();
        for chunk in rows.chunks(500) {
            leak_finding::Entity::insert_many(chunk.to_vec())
                .exec(conn)
                .await?;
        }
        Ok(())
    }

    /// The leak findings of these requests with where each stands (for
    /// DataLoaders): three queries whatever the number of requests.
    pub async fn leak_findings_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<LeakFindingView>> {
        let conn = self.store.conn();
        let findings = leak_finding::Entity::find()
            .filter(leak_finding::Column::OrgId.eq(principal.org_id))
            .filter(leak_finding::Column::RequestId.is_in(ids.iter().copied()))
            .order_by_asc(leak_finding::Column::CreatedAt)
            .order_by_asc(leak_finding::Column::Id)
            .all(conn)
            .await?;
        if findings.is_empty() {
            return Ok(Vec::new());
        }
        let requests: BTreeSet<Uuid> = findings.iter().map(|f| f.request_id).collect();
        let records = collected_record::Entity::find()
            .filter(collected_record::Column::RequestId.is_in(requests.iter().copied()))
            .all(conn)
            .await?;
        let redacted: HashSet<Uuid> = redaction::Entity::find()
            .filter(redaction::Column::RequestId.is_in(requests.iter().copied()))
            .all(conn)
            .await?
            .into_iter()
            .map(|r| r.record_id)
            .collect();
        findings
            .into_iter()
            .map(|f| {
                let state = if f.status == FindingStatus::Dismissed.as_str() {
                    FindingState::Dismissed
                } else if is_redacted(&f, &records, &redacted) {
                    FindingState::Redacted
                } else {
                    FindingState::Open
                };
                Ok(LeakFindingView {
                    kind: f.kind.parse()?,
                    state,
                    finding: f,
                })
            })
            .collect::<Result<_>>()
    }

    /// Resolves several open findings of one request at once, all or none: DISMISS
    /// records the reviewer's reason on each; REDACT leaves out each finding's value
    /// (a record finding: every value of its record) with the reason. One version
    /// change, one timeline entry, one audit entry per finding (request:review; the
    /// request must be IN_REVIEW). An id that is not an open finding of the request
    /// is a validation error at its index, and nothing is resolved.
    #[tracing::instrument(skip(self, ids, reason), fields(org = %principal.org_id, count = ids.len()), err(level = "debug"))]
    pub async fn resolve_leak_findings(
        &self,
        principal: &Principal,
        request_id: Uuid,
        ids: &[Uuid],
        resolution: Resolution,
        reason: String,
    ) -> Result<crate::requests::RequestView> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                crate::Object::Request,
                crate::Action::Review,
            )
            .await?;
        let mut v = Validator::default();
        let reason = v.text(&reason, &["input", "reason"], 2000);
        v.check(
            !ids.is_empty(),
            &["input", "findingIds"],
            "name at least one finding",
        );
        v.check(
            ids.len() <= MAX_RESOLVED_AT_ONCE,
            &["input", "findingIds"],
            format!("at most {MAX_RESOLVED_AT_ONCE} findings at once"),
        );
        let distinct: HashSet<&Uuid> = ids.iter().collect();
        v.check(
            distinct.len() == ids.len(),
            &["input", "findingIds"],
            "lists a finding twice",
        );
        v.finish()?;
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let request = in_review(conn, principal, request_id).await?;
        let findings = leak_finding::Entity::find()
            .filter(leak_finding::Column::OrgId.eq(principal.org_id))
            .filter(leak_finding::Column::RequestId.eq(request.id))
            .filter(leak_finding::Column::Id.is_in(ids.iter().copied()))
            .all(conn)
            .await?;
        let records = collected_record::Entity::find()
            .filter(collected_record::Column::RequestId.eq(request.id))
            .all(conn)
            .await?;
        let redacted: HashSet<Uuid> = redacted_records(conn, request.id).await?;
        let mut v = Validator::default();
        let mut chosen = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let at = i.to_string();
            let path = ["input", "findingIds", at.as_str()];
            let problem = match findings.iter().find(|f| f.id == *id) {
                None => Some("is not a finding of this request"),
                Some(f) if f.status == FindingStatus::Dismissed.as_str() => {
                    Some("is dismissed already; its reason stands")
                }
                Some(f) if is_redacted(f, &records, &redacted) => {
                    Some("is resolved already: its data is redacted")
                }
                Some(f)
                    if resolution == Resolution::Redact
                        && f.record_id.is_none()
                        && f.record_key.is_none() =>
                {
                    Some("names no record to redact; dismiss it with a reason")
                }
                Some(f) => {
                    chosen.push(f);
                    None
                }
            };
            if let Some(message) = problem {
                v.check(false, &path, message);
            }
        }
        v.finish()?;
        let at = now();
        let message = match resolution {
            Resolution::Dismiss => {
                leak_finding::Entity::update_many()
                    .col_expr(
                        leak_finding::Column::Status,
                        sea_orm::sea_query::Expr::value(FindingStatus::Dismissed.as_str()),
                    )
                    .col_expr(
                        leak_finding::Column::Resolution,
                        sea_orm::sea_query::Expr::value(reason.clone()),
                    )
                    .col_expr(
                        leak_finding::Column::ResolvedBy,
                        sea_orm::sea_query::Expr::value(principal.key_id),
                    )
                    .col_expr(
                        leak_finding::Column::ResolvedAt,
                        sea_orm::sea_query::Expr::value(at),
                    )
                    .filter(leak_finding::Column::Id.is_in(ids.iter().copied()))
                    .exec(conn)
                    .await?;
                format!("{} leak finding(s) dismissed: {reason}", chosen.len())
            }
            Resolution::Redact => {
                let mut to_redact: Vec<Uuid> = Vec::new();
                for f in &chosen {
                    let of_finding = records.iter().filter(|r| match f.record_id {
                        Some(id) => r.id == id,
                        None => {
                            f.record_key.is_some()
                                && r.record_key == f.record_key
                                && Some(r.task_id) == f.task_id
                        }
                    });
                    for r in of_finding {
                        if !redacted.contains(&r.id) && !to_redact.contains(&r.id) {
                            to_redact.push(r.id);
                        }
                    }
                }
                let rows: Vec<redaction::ActiveModel> = to_redact
                    .iter()
                    .map(|&record_id| {
                        redaction_row(principal, request.id, record_id, reason.clone(), at)
                    })
                    .collect();
                for chunk in rows.chunks(500) {
                    redaction::Entity::insert_many(chunk.to_vec())
                        .exec(conn)
                        .await?;
                }
                format!(
                    "{} leak finding(s) resolved by redacting {} record(s): {reason}",
                    chosen.len(),
                    to_redact.len()
                )
            }
        };
        let entries: Vec<Entry> = chosen
            .iter()
            .map(|f| Entry::success("resolveLeakFindings", "LeakFinding", f.id))
            .collect();
        let updated = self
            .review_decision(&mut tx, principal, request, message)
            .await?;
        self.commit_audited_all(tx, principal, entries).await?;
        updated.try_into()
    }

    /// Dismisses a finding with the reviewer's reason (request:review; the request
    /// must be IN_REVIEW). Audited; named in the timeline.
    #[tracing::instrument(skip(self, reason), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn dismiss_leak_finding(
        &self,
        principal: &Principal,
        finding_id: Uuid,
        reason: String,
    ) -> Result<(leak_finding::Model, crate::requests::RequestView)> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                crate::Object::Request,
                crate::Action::Review,
            )
            .await?;
        let mut v = Validator::default();
        let reason = v.text(&reason, &["input", "reason"], 2000);
        v.finish()?;
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let finding = leak_finding::Entity::find_by_id(finding_id)
            .filter(leak_finding::Column::OrgId.eq(principal.org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound {
                what: "leak finding",
            })?;
        let request = in_review(conn, principal, finding.request_id).await?;
        if finding.status == FindingStatus::Dismissed.as_str() {
            // The first reason stays what the audit trail and the timeline show.
            return Err(Error::Conflict(
                "this finding is dismissed already; its reason stands".into(),
            ));
        }
        let at = now();
        let mut active: leak_finding::ActiveModel = finding.clone().into();
        active.status = Set(FindingStatus::Dismissed.as_str().to_owned());
        active.resolution = Set(Some(reason.clone()));
        active.resolved_by = Set(Some(principal.key_id));
        active.resolved_at = Set(Some(at));
        let finding = active.update(conn).await?;
        let message = format!(
            "leak finding dismissed ({}: {}): {reason}",
            finding.kind, finding.detail
        );
        let updated = self
            .review_decision(&mut tx, principal, request, message)
            .await?;
        let entry = Entry::success("dismissLeakFinding", "LeakFinding", finding.id);
        self.commit_audited(tx, principal, entry).await?;
        Ok((finding, updated.try_into()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_found_in_free_text() {
        let region = identity::PhoneRegion::default();
        let found = tokens(
            "Bitte an Ben.Berg@Example.org, Tel. +49 30 1234567, IBAN DE89 3704 0044 0532 0130 00, \
             Karte 4111 1111 1111 1111; Bestellung 12345678 vom 2025-10-02",
            region,
        );
        let kinds: Vec<&str> = found.iter().map(|t| t.what).collect();
        assert_eq!(
            kinds,
            [
                "an e-mail address",
                "an IBAN",
                "a payment card number",
                "a phone number"
            ],
            "{found:?}"
        );
        assert_eq!(found[0].value, "ben.berg@example.org");
        assert_eq!(found[3].value, "+49301234567");
        assert!(tokens("Sofa Lindholm, 3-Sitzer, 129900 Cent", region).is_empty());
    }

    /// Dates and IBAN-shaped text are not read as phone numbers; a phone number
    /// beside them still is.
    #[test]
    fn dates_and_iban_shapes_are_not_phone_numbers() {
        let region = identity::PhoneRegion::default();
        for text in [
            "2021-05-03 10:00:00+00",
            "2021-05-03T10:00:00.123456Z",
            "2021-05-03 10:00:00",
            "03.05.2021 10:00",
            "bestellt am 03.05.2021",
            // Check digits wrong: not an IBAN, and not `0044 0000012345` either, nor
            // the card number its digits spell by chance (they pass Luhn).
            "DE43 3704 0044 0000012345",
        ] {
            assert!(
                tokens(text, region).is_empty(),
                "{text:?}: {:?}",
                tokens(text, region)
            );
        }
        // Each text holds one phone number beside the rest, and only that is found.
        let phone_only = |text: &str| {
            let found = tokens(text, region);
            assert_eq!(found.len(), 1, "{text:?}: {found:?}");
            assert_eq!(found[0].kind, IdentityType::Phone, "{text:?}: {found:?}");
            found[0].value.clone()
        };
        assert_eq!(
            phone_only("2021-05-03 10:00:00+00, Rückruf unter 030 1234567"),
            "+49301234567"
        );
        assert_eq!(
            phone_only("DE43 3704 0044 0000012345 / Tel. 0049 30 1234567"),
            "+49301234567"
        );
        // Digits grouped like a date inside a longer number are the number.
        assert_eq!(phone_only("Tel. 0221-12-10-5432"), "+4922112105432");
        // The shape of an IBAN followed by words is not an IBAN: the number is read.
        assert_eq!(phone_only("Ref AB12 ruft an 030 1234567"), "+49301234567");
    }

    /// Spellings the attack helper slipped past the scan: each is found, as the same
    /// identifier as its plain spelling where there is one.
    #[test]
    fn identifiers_are_found_whatever_their_spelling() {
        let region = identity::PhoneRegion::default();
        let one = |text: &str| {
            let found = tokens(text, region);
            assert_eq!(found.len(), 1, "{text:?}: {found:?}");
            found[0].value.clone()
        };
        assert_eq!(one("Tel. 0049301234567"), "+49301234567");
        assert_eq!(one("Tel. 0049 30 1234567"), "+49301234567");
        assert_eq!(
            one("IBAN de89 3704 0044 0532 0130 00"),
            "iban:DE89370400440532013000"
        );
        assert_eq!(one("erika\u{200B}@example.org"), "erika@example.org");
        assert_eq!(one("erika＠example.org"), "erika@example.org");
        assert_eq!(one("erika@exa\u{00AD}mple.org"), "erika@example.org");
        // Digits of other widths are digits: the shortcut for values without a digit
        // or an `@` looks at the folded text.
        assert_eq!(one("Tel. ＋４９ ３０ １２３４５６７"), "+49301234567");
        assert_eq!(one("Grüße, Tel. 030\u{200B}1234567"), "+49301234567");
        assert!(tokens("Grüße aus Köln, Sofa Lindholm", region).is_empty());
        // A Cyrillic а in the domain is another domain, in its punycode form.
        let lookalike = one("race.upload@ex\u{0430}mple.net");
        assert!(lookalike.starts_with("race.upload@xn--"), "{lookalike}");
    }

    #[test]
    fn checksums_keep_ordinary_numbers_out() {
        assert!(is_iban("DE89370400440532013000"));
        assert!(!is_iban("DE00370400440532013000"));
        assert!(is_card("4111111111111111"));
        assert!(!is_card("4111111111111112"));
    }
}
