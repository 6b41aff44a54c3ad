//! Building the answer from the register and the collected values: a pure function,
//! so that it can be tested without a database.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::Language;
use super::model::*;
use super::texts;
use crate::register::export::{ActivityDoc, RegisterDocument};
use crate::register::taxonomy::parent_key;

/// One collected value that is not redacted.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// Category key, if the value's field is mapped to one.
    pub category: Option<String>,
    /// Name of the source it was found in.
    pub source: String,
    /// The record it belongs to.
    pub record_key: Option<String>,
    /// Where in the source.
    pub location: String,
    /// The value.
    pub value: String,
}

/// Everything the answer is built from.
pub(crate) struct Inputs {
    pub language: Language,
    pub is_test: bool,
    pub generated_at: DateTime<Utc>,
    pub generated_on: chrono::NaiveDate,
    pub request: RequestInfo,
    pub identities: Vec<Identity>,
    pub register: RegisterDocument,
    pub found: Vec<Found>,
    /// Values redacted by the reviewer.
    pub withheld: usize,
}

/// The legal bases under which Art. 20 grants portability.
const PORTABLE_BASES: &[&str] = &["CONSENT", "CONTRACT"];

/// Whether an activity's category list covers `key` (itself or an ancestor).
fn covers(activity: &ActivityDoc, key: &str) -> bool {
    let mut current = Some(key);
    while let Some(k) = current {
        if activity.data_categories.iter().any(|c| c == k) {
            return true;
        }
        current = parent_key(k);
    }
    false
}

/// The file name of a category's CSV in the package.
pub(crate) fn csv_file_name(key: Option<&str>) -> String {
    let stem: String = key
        .unwrap_or("other")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("data/{stem}.csv")
}

fn item<T>(article: &'static str, content: T, not_applicable: Option<String>) -> Item<T> {
    Item {
        article,
        applicable: not_applicable.is_none(),
        not_applicable_reason: not_applicable,
        content,
    }
}

/// Builds the answer.
pub(crate) fn assemble(inputs: Inputs) -> Answer {
    let Inputs {
        language,
        is_test,
        generated_at,
        generated_on,
        request,
        identities,
        register,
        found,
        withheld,
    } = inputs;
    let t = |text: &texts::Text| text.get(language);
    // Activities in force or retired (data collected under them may still be kept);
    // drafts are not processing yet.
    let activities: Vec<&ActivityDoc> = register
        .processing_activities
        .iter()
        .filter(|a| a.status != "DRAFT")
        .collect();

    // category -> source -> record -> values, in a stable order.
    type Records = BTreeMap<(bool, String), Vec<(String, String)>>;
    // Uncategorized values last.
    let mut grouped: BTreeMap<(bool, Option<String>), BTreeMap<String, Records>> = BTreeMap::new();
    for (i, f) in found.into_iter().enumerate() {
        // Values without a record key are records of their own.
        let record = match f.record_key {
            Some(k) => (false, k),
            None => (true, format!("{:08}", i)),
        };
        grouped
            .entry((f.category.is_none(), f.category))
            .or_default()
            .entry(f.source)
            .or_default()
            .entry(record)
            .or_default()
            .push((f.location, f.value));
    }
    let label = |source: &str, location: &str| -> Option<String> {
        register
            .data_sources
            .iter()
            .find(|s| s.name == source)?
            .fields
            .iter()
            .find(|f| f.location == location)?
            .description
            .clone()
    };

    let mut categories = Vec::new();
    for ((_, key), sources) in grouped {
        let source_names: BTreeSet<&str> = sources.keys().map(String::as_str).collect();
        let relevant: Vec<&ActivityDoc> = activities
            .iter()
            .copied()
            .filter(|a| match &key {
                Some(k) => {
                    covers(a, k)
                        && (a.sources.is_empty()
                            || a.sources.iter().any(|s| source_names.contains(s.as_str())))
                }
                None => a.sources.iter().any(|s| source_names.contains(s.as_str())),
            })
            .collect();
        let purposes: BTreeSet<Purpose> = relevant
            .iter()
            .flat_map(|a| &a.purposes)
            .filter_map(|name| register.purposes.iter().find(|p| &p.name == name))
            .map(|p| Purpose {
                name: p.name.clone(),
                description: p.description.clone(),
                legal_basis: p.legal_basis.clone(),
                legal_basis_text: t(&texts::legal_basis(&p.legal_basis)),
                legal_reference: p.legal_reference.clone(),
                legitimate_interests: (p.legal_basis == "LEGITIMATE_INTERESTS")
                    .then(|| p.balancing_test.clone())
                    .flatten(),
            })
            .collect();
        let recipients: BTreeSet<Recipient> = relevant
            .iter()
            .flat_map(|a| &a.recipients)
            .filter_map(|name| register.recipients.iter().find(|r| &r.name == name))
            .map(|r| Recipient {
                name: r.name.clone(),
                kind: r.kind.clone(),
                kind_text: t(&texts::recipient_kind(&r.kind)),
                country: r.country.clone(),
                description: r.description.clone(),
            })
            .collect();
        let transfers: BTreeSet<Transfer> = relevant
            .iter()
            .flat_map(|a| &a.transfers)
            .filter_map(|tr| {
                let r = register
                    .recipients
                    .iter()
                    .find(|r| r.name == tr.recipient)?;
                let doc = r.transfers.iter().find(|d| d.country == tr.country)?;
                Some(Transfer {
                    recipient: r.name.clone(),
                    country: doc.country.clone(),
                    safeguard: doc.safeguard.clone(),
                    safeguard_text: t(&texts::safeguard(&doc.safeguard)),
                    safeguard_description: doc.safeguard_description.clone(),
                })
            })
            .collect();
        let retention: BTreeSet<Retention> = relevant
            .iter()
            .filter_map(|a| a.retention_policy.as_ref())
            .filter_map(|name| register.retention_policies.iter().find(|r| &r.name == name))
            .map(|r| {
                let mut text = format!(
                    "{}, {}",
                    texts::duration(&r.duration, language),
                    match (&r.trigger_description, r.trigger.as_str()) {
                        (Some(d), "OTHER") => d.clone(),
                        _ => t(&texts::retention_trigger(&r.trigger)),
                    }
                );
                let action = t(&texts::expiry_action(&r.action_at_expiry));
                if !action.is_empty() {
                    text.push_str(&format!("; {action}"));
                }
                Retention {
                    name: r.name.clone(),
                    duration: r.duration.clone(),
                    text,
                    description: r.description.clone(),
                    legal_reference: r.legal_reference.clone(),
                }
            })
            .collect();
        let automated: BTreeSet<AutomatedDecision> = relevant
            .iter()
            .filter(|a| a.automated_decision_making)
            .map(|a| AutomatedDecision {
                activity: a.name.clone(),
                logic: a.automated_decision_logic.clone().unwrap_or_default(),
            })
            .collect();
        let doc = key
            .as_ref()
            .and_then(|k| register.data_categories.iter().find(|c| &c.key == k));
        let portable = purposes
            .iter()
            .any(|p| PORTABLE_BASES.contains(&p.legal_basis.as_str()));
        categories.push(Category {
            name: match (doc, &key) {
                (Some(d), _) => d.name.clone(),
                (None, Some(k)) => k.clone(),
                (None, None) => t(&texts::UNCATEGORIZED),
            },
            description: doc.and_then(|d| d.description.clone()),
            sensitivity: doc.map_or_else(|| "ORDINARY".to_owned(), |d| d.sensitivity.clone()),
            portable,
            csv_file: portable.then(|| csv_file_name(key.as_deref())),
            sources: sources
                .into_iter()
                .map(|(source, records)| SourceData {
                    records: records
                        .into_iter()
                        .map(|((alone, k), values)| Record {
                            key: (!alone).then_some(k),
                            values: values
                                .into_iter()
                                .map(|(location, value)| FieldValue {
                                    label: label(&source, &location),
                                    location,
                                    value,
                                })
                                .collect(),
                        })
                        .collect(),
                    source,
                })
                .collect(),
            key,
            purposes: purposes.into_iter().collect(),
            recipients: recipients.into_iter().collect(),
            transfers: transfers.into_iter().collect(),
            retention: retention.into_iter().collect(),
            automated_decisions: automated.into_iter().collect(),
        });
    }

    let found_any = !categories.is_empty();
    let purposes: BTreeSet<Purpose> = categories.iter().flat_map(|c| c.purposes.clone()).collect();
    let recipients: BTreeSet<Recipient> = categories
        .iter()
        .flat_map(|c| c.recipients.clone())
        .collect();
    let retention: BTreeSet<Retention> = categories
        .iter()
        .flat_map(|c| c.retention.clone())
        .collect();
    let transfers: BTreeSet<Transfer> = categories
        .iter()
        .flat_map(|c| c.transfers.clone())
        .collect();
    let automated: BTreeSet<AutomatedDecision> = categories
        .iter()
        .flat_map(|c| c.automated_decisions.clone())
        .collect();
    let mut sources: BTreeMap<String, Vec<Option<String>>> = BTreeMap::new();
    for c in &categories {
        for s in &c.sources {
            sources
                .entry(s.source.clone())
                .or_default()
                .push(c.key.clone());
        }
    }
    let no_data = || (!found_any).then(|| t(&texts::NO_DATA));
    let mut rights: Vec<Right> = texts::RIGHTS
        .iter()
        .filter(|(code, ..)| *code != "PORTABILITY" || categories.iter().any(|c| c.portable))
        .map(|(code, article, text)| Right {
            right: (*code).to_owned(),
            article: (*article).to_owned(),
            text: t(text),
        })
        .collect();
    if purposes.iter().any(|p| p.legal_basis == "CONSENT") {
        rights.push(Right {
            right: "WITHDRAW_CONSENT".into(),
            article: match language {
                Language::De => "Art. 7 Abs. 3",
                Language::En => "Art. 7(3)",
            }
            .into(),
            text: t(&texts::WITHDRAW_CONSENT),
        });
    }
    let information = Information {
        purposes: item("15(1)(a)", purposes.into_iter().collect(), no_data()),
        categories: item(
            "15(1)(b)",
            categories
                .iter()
                .map(|c| CategoryRef {
                    key: c.key.clone(),
                    name: c.name.clone(),
                    sensitivity: c.sensitivity.clone(),
                })
                .collect(),
            no_data(),
        ),
        recipients: item(
            "15(1)(c)",
            recipients.iter().cloned().collect(),
            no_data().or_else(|| recipients.is_empty().then(|| t(&texts::NO_RECIPIENTS))),
        ),
        retention: item(
            "15(1)(d)",
            retention.iter().cloned().collect(),
            no_data().or_else(|| retention.is_empty().then(|| t(&texts::NO_RETENTION))),
        ),
        rights: item("15(1)(e)", rights, None),
        complaint: item(
            "15(1)(f)",
            Complaint {
                authority: register.controller.supervisory_authority.clone(),
                text: t(&texts::COMPLAINT),
            },
            None,
        ),
        sources: item(
            "15(1)(g)",
            sources
                .into_iter()
                .map(|(name, categories)| SourceInfo {
                    description: register
                        .data_sources
                        .iter()
                        .find(|s| s.name == name)
                        .and_then(|s| s.description.clone()),
                    name,
                    categories,
                })
                .collect(),
            no_data(),
        ),
        automated_decisions: item(
            "15(1)(h)",
            automated.iter().cloned().collect(),
            automated
                .is_empty()
                .then(|| t(&texts::NO_AUTOMATED_DECISIONS)),
        ),
        transfers: item(
            "15(2)",
            transfers.iter().cloned().collect(),
            transfers.is_empty().then(|| t(&texts::NO_TRANSFERS)),
        ),
    };
    let c = &register.controller;
    let contact = |d: &crate::register::export::ContactDoc| Contact {
        name: d.name.clone(),
        address: d.address.clone(),
        email: d.email.clone(),
        phone: d.phone.clone(),
    };
    Answer {
        format: ANSWER_FORMAT,
        version: ANSWER_VERSION,
        language,
        is_test,
        generated_at,
        generated_on,
        request,
        controller: Controller {
            name: c.name.clone(),
            address: c.address.clone(),
            country: c.country.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            data_protection_officer: c.data_protection_officer.as_ref().map(contact),
            eu_representative: c.eu_representative.as_ref().map(contact),
        },
        subject: Subject { identities },
        categories,
        information,
        withheld: Withheld {
            count: withheld,
            text: (withheld > 0).then(|| t(&texts::WITHHELD)),
        },
    }
}
