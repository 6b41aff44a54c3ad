//! A sample answer with every item present: what a template must be able to render
//! before it is saved, and the fixture of the unit tests.

use chrono::{NaiveDate, TimeZone, Utc};

use super::Language;
use super::assemble::{Found, Inputs, assemble};
use super::model::{Answer, Identity, RequestInfo};
use crate::register::export::*;

fn s(v: &str) -> String {
    v.to_owned()
}

/// A small register: a shop with an order activity (contract, a processor abroad,
/// retention), a newsletter (consent) and a scoring activity (automated decision).
pub(crate) fn register() -> RegisterDocument {
    RegisterDocument {
        format: s(DOCUMENT_FORMAT),
        version: DOCUMENT_VERSION,
        exported_at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(),
        controller: ControllerDoc {
            name: s("Beispiel Möbel GmbH"),
            address: Some(s("Hauptstraße 1\n10115 Berlin")),
            country: Some(s("DE")),
            email: Some(s("datenschutz@example.com")),
            phone: None,
            data_protection_officer: Some(ContactDoc {
                name: s("Dana Schutz"),
                address: None,
                email: Some(s("dpo@example.com")),
                phone: None,
            }),
            eu_representative: None,
            supervisory_authority: Some(s(
                "Berliner Beauftragte für Datenschutz und Informationsfreiheit",
            )),
        },
        data_categories: vec![
            DataCategoryDoc {
                key: s("contact"),
                name: s("Kontaktdaten"),
                description: None,
                sensitivity: s("ORDINARY"),
            },
            DataCategoryDoc {
                key: s("contact.email"),
                name: s("E-Mail-Adresse"),
                description: None,
                sensitivity: s("ORDINARY"),
            },
            DataCategoryDoc {
                key: s("financial.score"),
                name: s("Bonitätswert"),
                description: None,
                sensitivity: s("ORDINARY"),
            },
        ],
        subject_categories: vec![],
        purposes: vec![
            PurposeDoc {
                name: s("Bestellabwicklung"),
                description: Some(s("Bestellungen ausführen und liefern.")),
                legal_basis: s("CONTRACT"),
                legal_reference: None,
                balancing_test: None,
                special_category_condition: None,
            },
            PurposeDoc {
                name: s("Newsletter"),
                description: None,
                legal_basis: s("CONSENT"),
                legal_reference: None,
                balancing_test: None,
                special_category_condition: None,
            },
            PurposeDoc {
                name: s("Betrugsprävention"),
                description: None,
                legal_basis: s("LEGITIMATE_INTERESTS"),
                legal_reference: None,
                balancing_test: Some(s("Zahlungsausfälle vermeiden.")),
                special_category_condition: None,
            },
        ],
        retention_policies: vec![RetentionPolicyDoc {
            name: s("Kundenkonto"),
            description: None,
            duration: s("P3Y"),
            trigger: s("AFTER_LAST_CONTACT"),
            trigger_description: None,
            legal_reference: Some(s("§ 195 BGB")),
            action_at_expiry: s("DELETE"),
        }],
        recipients: vec![RecipientDoc {
            name: s("PayGlobal Inc."),
            kind: s("PROCESSOR"),
            country: Some(s("US")),
            description: None,
            contract_reference: None,
            notice_email: None,
            transfers: vec![TransferDoc {
                country: s("US"),
                safeguard: s("STANDARD_CONTRACTUAL_CLAUSES"),
                safeguard_description: Some(s("SCC 2021/914")),
            }],
        }],
        data_sources: vec![DataSourceDoc {
            name: s("Shop"),
            description: Some(s("Die Datenbank unseres Online-Shops.")),
            owner: None,
            country: Some(s("DE")),
            processor: None,
            connector_kind: s("MANUAL"),
            connector_config: serde_json::json!({}),
            fields: vec![DataFieldDoc {
                location: s("customers.email"),
                description: Some(s("E-Mail")),
                data_category: Some(s("contact.email")),
                identifies_subject: true,
                identity_type: Some(s("EMAIL")),
                references: None,
                erasure_strategy: s("ANONYMIZE"),
            }],
        }],
        processing_activities: vec![
            activity(
                "Bestellungen",
                "Bestellabwicklung",
                &["contact"],
                &["PayGlobal Inc."],
                true,
            ),
            activity("Newsletter", "Newsletter", &["contact.email"], &[], false),
            ActivityDoc {
                automated_decision_making: true,
                automated_decision_logic: Some(s(
                    "Ein Punktwert aus Zahlungsart und Bestellhöhe; ab 80 Punkten prüft ein Mensch.",
                )),
                ..activity(
                    "Bonitätsprüfung",
                    "Betrugsprävention",
                    &["financial.score"],
                    &[],
                    false,
                )
            },
        ],
    }
}

fn activity(
    name: &str,
    purpose: &str,
    categories: &[&str],
    recipients: &[&str],
    transfer: bool,
) -> ActivityDoc {
    ActivityDoc {
        name: s(name),
        description: None,
        status: s("ACTIVE"),
        owner: None,
        purposes: vec![s(purpose)],
        subject_categories: vec![],
        data_categories: categories.iter().map(|c| s(c)).collect(),
        recipients: recipients.iter().map(|r| s(r)).collect(),
        transfers: if transfer {
            vec![TransferRef {
                recipient: s("PayGlobal Inc."),
                country: s("US"),
            }]
        } else {
            vec![]
        },
        retention_policy: Some(s("Kundenkonto")),
        tom_description: None,
        automated_decision_making: false,
        automated_decision_logic: None,
        dpia_required: false,
        dpia_reference: None,
        next_review_on: None,
        sources: vec![],
    }
}

/// Values found for the sample subject.
pub(crate) fn found() -> Vec<Found> {
    let f = |category: Option<&str>, key: Option<&str>, location: &str, value: &str| Found {
        category: category.map(s),
        source: s("Shop"),
        record_key: key.map(s),
        location: s(location),
        value: s(value),
    };
    vec![
        f(
            Some("contact.email"),
            Some("customers(id=42)"),
            "customers.email",
            "erika@example.com",
        ),
        f(
            Some("contact"),
            Some("customers(id=42)"),
            "customers.street",
            "Heidestraße 17 <b>",
        ),
        f(Some("financial.score"), None, "scores.value", "17"),
        f(
            None,
            None,
            "notes.text",
            "Rückruf erbeten & \"bitte\" schnell",
        ),
    ]
}

/// The sample answer.
pub(crate) fn answer(language: Language, is_test: bool) -> Answer {
    let received = Utc.with_ymd_and_hms(2026, 11, 2, 9, 30, 0).unwrap();
    assemble(Inputs {
        language,
        is_test,
        generated_at: Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap(),
        generated_on: NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
        request: RequestInfo {
            id: s("01900000-0000-7000-8000-000000000000"),
            kind: s("ACCESS"),
            received_at: received,
            received_on: received.date_naive(),
            due_date: NaiveDate::from_ymd_opt(2026, 12, 2),
        },
        identities: vec![Identity {
            kind: s("EMAIL"),
            value: s("erika@example.com"),
            verified: true,
        }],
        register: register(),
        found: found(),
        withheld: 1,
    })
}
