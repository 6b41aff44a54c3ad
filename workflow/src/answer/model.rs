//! The answer document (JSON schema `answer.schema.json`, format
//! `auskunft-answer` version 1). Field names and meanings are stable within a
//! version; a new version gets a new schema.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::Language;

/// The `format` marker of an answer document.
pub const ANSWER_FORMAT: &str = "auskunft-answer";
/// The layout version of answer documents this release writes.
pub const ANSWER_VERSION: u32 = 1;

/// The Art. 15 answer to one access request.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    /// Always `auskunft-answer`.
    pub format: &'static str,
    /// Layout version (1).
    pub version: u32,
    /// Language of every text in the document (register entries as written).
    pub language: Language,
    /// Built for a test request: not to be sent to anyone.
    pub is_test: bool,
    /// When it was built.
    pub generated_at: DateTime<Utc>,
    /// The organization's local day it was built on (the letter's date).
    pub generated_on: NaiveDate,
    /// The request answered.
    pub request: RequestInfo,
    /// Who answers (Art. 15(1) with Art. 13(1)(a), (b)).
    pub controller: Controller,
    /// How the requester was identified.
    pub subject: Subject,
    /// The data found, by data category, with what the register says about it.
    pub categories: Vec<Category>,
    /// Art. 15(1)(a)-(h) and 15(2), each present or stated as not applicable.
    pub information: Information,
    /// Values left out by the reviewer to protect others (Art. 15(4)).
    pub withheld: Withheld,
}

/// The request answered.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RequestInfo {
    /// Its id.
    pub id: String,
    /// ACCESS, PORTABILITY, ...
    pub kind: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// The organization's local day of receipt.
    pub received_on: NaiveDate,
    /// The deadline that applies.
    pub due_date: Option<NaiveDate>,
}

/// A contact (DPO, EU representative).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub name: String,
    pub address: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// The controller.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Controller {
    pub name: String,
    pub address: Option<String>,
    pub country: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub data_protection_officer: Option<Contact>,
    pub eu_representative: Option<Contact>,
}

/// One way the requester identified themselves, as they gave it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    /// EMAIL, PHONE, CUSTOMER_NUMBER, POSTAL_ADDRESS or OTHER.
    pub kind: String,
    pub value: String,
    pub verified: bool,
}

/// The requester.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subject {
    pub identities: Vec<Identity>,
}

/// A data category found, with the data and the register's information about it.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Category {
    /// Taxonomy key (`contact.email`); null for values of no mapped category.
    pub key: Option<String>,
    pub name: String,
    pub description: Option<String>,
    /// ORDINARY, SPECIAL_ART9 or CRIMINAL_ART10.
    pub sensitivity: String,
    /// Included as CSV for portability (Art. 20: processed on consent or contract).
    pub portable: bool,
    /// Name of its CSV file in the package (`data/<key>.csv`) when portable.
    pub csv_file: Option<String>,
    /// Where it was found: sources, their records and values.
    pub sources: Vec<SourceData>,
    pub purposes: Vec<Purpose>,
    pub recipients: Vec<Recipient>,
    pub transfers: Vec<Transfer>,
    pub retention: Vec<Retention>,
    pub automated_decisions: Vec<AutomatedDecision>,
}

/// The data of one category in one source (Art. 15(1)(g)).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SourceData {
    /// The system it was found in.
    pub source: String,
    pub records: Vec<Record>,
}

/// One record (a table row, an API object, an upload) and its values.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The record, e.g. `customers(id=42)`; null when the value stands alone.
    pub key: Option<String>,
    pub values: Vec<FieldValue>,
}

/// One value.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FieldValue {
    /// Where in the source (`customers.email`).
    pub location: String,
    /// The register's description of the field, if any.
    pub label: Option<String>,
    pub value: String,
}

/// A purpose and its legal basis (Art. 15(1)(a)).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct Purpose {
    pub name: String,
    pub description: Option<String>,
    /// Art. 6(1) code: CONSENT, CONTRACT, LEGAL_OBLIGATION, VITAL_INTERESTS,
    /// PUBLIC_TASK, LEGITIMATE_INTERESTS.
    pub legal_basis: String,
    /// The legal basis in words.
    pub legal_basis_text: String,
    pub legal_reference: Option<String>,
    /// The interests pursued, for legitimate interests (Art. 13(1)(d)).
    pub legitimate_interests: Option<String>,
}

/// A recipient (Art. 15(1)(c)).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    pub name: String,
    /// INTERNAL, PROCESSOR, THIRD_PARTY, PUBLIC_AUTHORITY.
    pub kind: String,
    pub kind_text: String,
    pub country: Option<String>,
    pub description: Option<String>,
}

/// A transfer to a third country and its safeguard (Art. 15(2)).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct Transfer {
    pub recipient: String,
    pub country: String,
    pub safeguard: String,
    pub safeguard_text: String,
    pub safeguard_description: Option<String>,
}

/// How long the data is kept (Art. 15(1)(d)).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct Retention {
    pub name: String,
    /// ISO 8601 duration.
    pub duration: String,
    /// The period, its start and what happens at its end, in words.
    pub text: String,
    pub description: Option<String>,
    pub legal_reference: Option<String>,
}

/// Automated decision-making (Art. 15(1)(h)).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct AutomatedDecision {
    /// The processing activity.
    pub activity: String,
    /// Meaningful information about the logic involved.
    pub logic: String,
}

/// A right of the data subject (Art. 15(1)(e), 7(3), 20).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Right {
    /// RECTIFICATION, ERASURE, RESTRICTION, OBJECTION, PORTABILITY, WITHDRAW_CONSENT.
    pub right: String,
    pub article: String,
    pub text: String,
}

/// The right to complain (Art. 15(1)(f)).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Complaint {
    /// The authority competent for the controller, if recorded.
    pub authority: Option<String>,
    pub text: String,
}

/// A source of the data (Art. 15(1)(g)).
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "camelCase")]
pub struct SourceInfo {
    pub name: String,
    pub description: Option<String>,
    /// Category keys found there (null entries: uncategorized values).
    pub categories: Vec<Option<String>>,
}

/// A category named in Art. 15(1)(b).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CategoryRef {
    pub key: Option<String>,
    pub name: String,
    pub sensitivity: String,
}

/// One item of Art. 15: present with its content, or not applicable with a reason.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Item<T> {
    /// E.g. `15(1)(a)`.
    pub article: &'static str,
    pub applicable: bool,
    /// Why it does not apply (set exactly when `applicable` is false).
    pub not_applicable_reason: Option<String>,
    pub content: T,
}

/// Every Art. 15(1) item (a)-(h) and 15(2).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Information {
    /// (a)
    pub purposes: Item<Vec<Purpose>>,
    /// (b)
    pub categories: Item<Vec<CategoryRef>>,
    /// (c)
    pub recipients: Item<Vec<Recipient>>,
    /// (d)
    pub retention: Item<Vec<Retention>>,
    /// (e)
    pub rights: Item<Vec<Right>>,
    /// (f)
    pub complaint: Item<Complaint>,
    /// (g)
    pub sources: Item<Vec<SourceInfo>>,
    /// (h)
    pub automated_decisions: Item<Vec<AutomatedDecision>>,
    /// Art. 15(2)
    pub transfers: Item<Vec<Transfer>>,
}

/// Values left out of the answer (Art. 15(4)).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Withheld {
    pub count: usize,
    /// Set when `count` > 0.
    pub text: Option<String>,
}
