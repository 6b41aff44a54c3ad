//! Rendering a register document: JSON (the document itself, with stored codes and
//! keys: it is also the import format), CSV (the overview: one row per activity with
//! every Art. 30(1) item), XLSX (the overview plus one sheet per entity) and printable
//! HTML (minijinja, auto-escaped). CSV, XLSX and HTML speak the lawyer's language,
//! German or English: headings, legal bases, safeguards and the other codes by their
//! labels, categories by their names.

use std::collections::HashMap;

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::labels::{self as l, Label, label};
use super::{ExportFormat, RegisterDocument};
use crate::answer::Language;
use crate::error::{Error, Result};

/// A table: a sheet name, its header and its rows.
struct Table {
    name: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(name: Label, header: &[Label], rows: Vec<Vec<String>>, language: Language) -> Self {
        Self {
            name: name.get(language).to_owned(),
            header: header.iter().map(|h| h.get(language).to_owned()).collect(),
            rows,
        }
    }
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

/// Category names by key (the document refers to categories by key).
struct Names<'a> {
    data: HashMap<&'a str, &'a str>,
    subjects: HashMap<&'a str, &'a str>,
}

impl<'a> Names<'a> {
    fn of(doc: &'a RegisterDocument) -> Self {
        Self {
            data: doc
                .data_categories
                .iter()
                .map(|c| (c.key.as_str(), c.name.as_str()))
                .collect(),
            subjects: doc
                .subject_categories
                .iter()
                .map(|c| (c.key.as_str(), c.name.as_str()))
                .collect(),
        }
    }

    fn data(&self, keys: &[String]) -> String {
        Self::names(&self.data, keys)
    }

    fn subjects(&self, keys: &[String]) -> String {
        Self::names(&self.subjects, keys)
    }

    fn names(names: &HashMap<&str, &str>, keys: &[String]) -> String {
        keys.iter()
            .map(|k| names.get(k.as_str()).copied().unwrap_or(k.as_str()))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// A retention policy in words: "Tax records: 10 years from the end of the calendar
/// year the record was made, then deletion (§ 147 AO)".
fn retention_words(r: &super::RetentionPolicyDoc, language: Language) -> String {
    let then = label!("dann", "then").get(language);
    let mut s = format!(
        "{}: {} {}, {then} {}",
        r.name,
        crate::answer::texts::duration(&r.duration, language),
        l::trigger(&r.trigger, language),
        l::expiry_action(&r.action_at_expiry, language)
    );
    if let Some(reference) = &r.legal_reference {
        s.push_str(&format!(" ({reference})"));
    }
    s
}

/// The overview: one row per processing activity, labelled with the Art. 30(1)
/// letters.
fn overview(doc: &RegisterDocument, language: Language) -> Table {
    let names = Names::of(doc);
    let c = &doc.controller;
    let controller = [Some(c.name.clone()), c.address.clone(), c.email.clone()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ");
    let dpo = c
        .data_protection_officer
        .as_ref()
        .map(|d| {
            [Some(d.name.clone()), d.email.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let rows = doc
        .processing_activities
        .iter()
        .map(|a| {
            let bases = a
                .purposes
                .iter()
                .filter_map(|name| doc.purposes.iter().find(|p| &p.name == name))
                .map(|p| format!("{}: {}", p.name, l::legal_basis(&p.legal_basis, language)))
                .collect::<Vec<_>>()
                .join("; ");
            let special = a
                .data_categories
                .iter()
                .filter(|k| {
                    doc.data_categories
                        .iter()
                        .any(|c| &c.key == *k && c.sensitivity != "ORDINARY")
                })
                .cloned()
                .collect::<Vec<_>>();
            let special = names.data(&special);
            let transfers = a
                .transfers
                .iter()
                .map(|t| {
                    let safeguard = doc
                        .recipients
                        .iter()
                        .find(|r| r.name == t.recipient)
                        .and_then(|r| r.transfers.iter().find(|x| x.country == t.country))
                        .map(|x| l::safeguard(&x.safeguard, language))
                        .unwrap_or_default();
                    format!("{} ({}, {safeguard})", t.recipient, t.country)
                })
                .collect::<Vec<_>>()
                .join("; ");
            let retention = a
                .retention_policy
                .as_ref()
                .and_then(|name| doc.retention_policies.iter().find(|r| &r.name == name))
                .map(|r| retention_words(r, language))
                .unwrap_or_default();
            let yes = |detail: &Option<String>| {
                let yes = l::yes_no(true, language);
                match detail.as_deref() {
                    Some(d) if !d.is_empty() => format!("{yes}: {d}"),
                    _ => yes,
                }
            };
            vec![
                a.name.clone(),
                l::status(&a.status, language),
                opt(&a.owner),
                controller.clone(),
                dpo.clone(),
                a.purposes.join("; "),
                bases,
                names.subjects(&a.subject_categories),
                names.data(&a.data_categories),
                special,
                a.recipients.join("; "),
                transfers,
                retention,
                opt(&a.tom_description),
                if a.automated_decision_making {
                    yes(&a.automated_decision_logic)
                } else {
                    l::yes_no(false, language)
                },
                if a.dpia_required {
                    yes(&a.dpia_reference)
                } else {
                    l::yes_no(false, language)
                },
                a.sources.join("; "),
                a.next_review_on.map(|d| d.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    Table::new(
        label!("Übersicht", "Overview"),
        &OVERVIEW_HEADER,
        rows,
        language,
    )
}

/// The overview's columns, with the letters of Art. 30(1).
const OVERVIEW_HEADER: [Label; 18] = [
    label!("Verarbeitungstätigkeit", "Processing activity"),
    label!("Status", "Status"),
    label!("Verantwortlich im Haus", "Owner"),
    label!("(a) Verantwortlicher", "(a) Controller"),
    label!("(a) Datenschutzbeauftragter", "(a) Data protection officer"),
    label!("(b) Zwecke", "(b) Purposes"),
    label!("(b) Rechtsgrundlagen (Art. 6)", "(b) Legal bases (Art. 6)"),
    label!(
        "(c) Kategorien betroffener Personen",
        "(c) Categories of data subjects"
    ),
    label!(
        "(c) Kategorien personenbezogener Daten",
        "(c) Categories of personal data"
    ),
    label!(
        "(c) Besondere Kategorien (Art. 9/10)",
        "(c) Special categories (Art. 9/10)"
    ),
    label!("(d) Empfänger", "(d) Recipients"),
    label!(
        "(e) Übermittlungen in Drittländer und Garantien",
        "(e) Third-country transfers and safeguards"
    ),
    label!("(f) Löschfristen", "(f) Time limits for erasure"),
    label!(
        "(g) Technische und organisatorische Maßnahmen",
        "(g) Technical and organisational measures"
    ),
    label!(
        "Automatisierte Entscheidungen (Art. 22)",
        "Automated decision-making (Art. 22)"
    ),
    label!("DSFA (Art. 35)", "DPIA (Art. 35)"),
    label!("Datenquellen", "Data sources"),
    label!("Nächste Prüfung", "Next review"),
];

/// One table per entity, for the workbook.
fn entity_tables(doc: &RegisterDocument, language: Language) -> Vec<Table> {
    let c = &doc.controller;
    let names = Names::of(doc);
    let yes_no = |b: bool| l::yes_no(b, language);
    let text = |label: Label| label.get(language).to_owned();
    let contact = |x: &Option<super::ContactDoc>| {
        x.as_ref()
            .map(|d| {
                [
                    Some(d.name.clone()),
                    d.address.clone(),
                    d.email.clone(),
                    d.phone.clone(),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ")
            })
            .unwrap_or_default()
    };
    vec![
        Table::new(
            label!("Verantwortlicher", "Controller"),
            &[label!("Angabe", "Item"), label!("Wert", "Value")],
            vec![
                vec![text(label!("Name", "Name")), c.name.clone()],
                vec![text(label!("Anschrift", "Address")), opt(&c.address)],
                vec![text(label!("Land", "Country")), opt(&c.country)],
                vec![text(label!("E-Mail", "E-mail")), opt(&c.email)],
                vec![text(label!("Telefon", "Phone")), opt(&c.phone)],
                vec![
                    text(label!("Datenschutzbeauftragter", "Data protection officer")),
                    contact(&c.data_protection_officer),
                ],
                vec![
                    text(label!(
                        "Vertreter in der EU (Art. 27)",
                        "Representative in the EU (Art. 27)"
                    )),
                    contact(&c.eu_representative),
                ],
                vec![
                    text(label!("Aufsichtsbehörde", "Supervisory authority")),
                    opt(&c.supervisory_authority),
                ],
            ],
            language,
        ),
        Table::new(
            label!("Tätigkeiten", "Activities"),
            &[
                label!("Name", "Name"),
                label!("Beschreibung", "Description"),
                label!("Status", "Status"),
                label!("Verantwortlich im Haus", "Owner"),
                label!("Zwecke", "Purposes"),
                label!("Betroffene", "Subject categories"),
                label!("Datenkategorien", "Data categories"),
                label!("Empfänger", "Recipients"),
                label!("Übermittlungen", "Transfers"),
                label!("Löschfrist", "Retention policy"),
                label!("TOM", "TOMs"),
                label!("Automatisierte Entscheidungen", "Automated decisions"),
                label!("Logik", "Logic"),
                label!("DSFA erforderlich", "DPIA required"),
                label!("DSFA-Referenz", "DPIA reference"),
                label!("Nächste Prüfung", "Next review"),
                label!("Datenquellen", "Sources"),
            ],
            doc.processing_activities
                .iter()
                .map(|a| {
                    vec![
                        a.name.clone(),
                        opt(&a.description),
                        l::status(&a.status, language),
                        opt(&a.owner),
                        a.purposes.join("; "),
                        names.subjects(&a.subject_categories),
                        names.data(&a.data_categories),
                        a.recipients.join("; "),
                        a.transfers
                            .iter()
                            .map(|t| format!("{} ({})", t.recipient, t.country))
                            .collect::<Vec<_>>()
                            .join("; "),
                        opt(&a.retention_policy),
                        opt(&a.tom_description),
                        yes_no(a.automated_decision_making),
                        opt(&a.automated_decision_logic),
                        yes_no(a.dpia_required),
                        opt(&a.dpia_reference),
                        a.next_review_on.map(|d| d.to_string()).unwrap_or_default(),
                        a.sources.join("; "),
                    ]
                })
                .collect(),
            language,
        ),
        Table::new(
            label!("Zwecke", "Purposes"),
            &[
                label!("Name", "Name"),
                label!("Beschreibung", "Description"),
                label!("Rechtsgrundlage", "Legal basis"),
                label!("Rechtsvorschrift", "Legal reference"),
                label!("Interessenabwägung", "Balancing test"),
                label!("Bedingung nach Art. 9 Abs. 2", "Art. 9(2) condition"),
            ],
            doc.purposes
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        opt(&p.description),
                        l::legal_basis(&p.legal_basis, language),
                        opt(&p.legal_reference),
                        opt(&p.balancing_test),
                        p.special_category_condition
                            .as_deref()
                            .map(|c| l::special_condition(c, language))
                            .unwrap_or_default(),
                    ]
                })
                .collect(),
            language,
        ),
        Table::new(
            label!("Datenkategorien", "Data categories"),
            &[
                label!("Schlüssel", "Key"),
                label!("Name", "Name"),
                label!("Beschreibung", "Description"),
                label!("Schutzbedarf", "Sensitivity"),
            ],
            doc.data_categories
                .iter()
                .map(|c| {
                    vec![
                        c.key.clone(),
                        c.name.clone(),
                        opt(&c.description),
                        l::sensitivity(&c.sensitivity, language),
                    ]
                })
                .collect(),
            language,
        ),
        Table::new(
            label!("Betroffene", "Subject categories"),
            &[
                label!("Schlüssel", "Key"),
                label!("Name", "Name"),
                label!("Beschreibung", "Description"),
            ],
            doc.subject_categories
                .iter()
                .map(|c| vec![c.key.clone(), c.name.clone(), opt(&c.description)])
                .collect(),
            language,
        ),
        Table::new(
            label!("Empfänger", "Recipients"),
            &[
                label!("Name", "Name"),
                label!("Art", "Kind"),
                label!("Land", "Country"),
                label!("Beschreibung", "Description"),
                label!("Vertrag", "Contract reference"),
            ],
            doc.recipients
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        l::recipient_kind(&r.kind, language),
                        opt(&r.country),
                        opt(&r.description),
                        opt(&r.contract_reference),
                    ]
                })
                .collect(),
            language,
        ),
        Table::new(
            label!("Übermittlungen", "Transfers"),
            &[
                label!("Empfänger", "Recipient"),
                label!("Land", "Country"),
                label!("Garantie", "Safeguard"),
                label!("Beschreibung der Garantie", "Safeguard description"),
            ],
            doc.recipients
                .iter()
                .flat_map(|r| {
                    r.transfers.iter().map(move |t| {
                        vec![
                            r.name.clone(),
                            t.country.clone(),
                            l::safeguard(&t.safeguard, language),
                            opt(&t.safeguard_description),
                        ]
                    })
                })
                .collect(),
            language,
        ),
        Table::new(
            label!("Löschfristen", "Retention policies"),
            &[
                label!("Name", "Name"),
                label!("Beschreibung", "Description"),
                label!("Dauer", "Duration"),
                label!("Dauer (ISO 8601)", "Duration (ISO 8601)"),
                label!("Beginn", "Trigger"),
                label!("Beschreibung des Beginns", "Trigger description"),
                label!("Rechtsvorschrift", "Legal reference"),
                label!("Nach Ablauf", "Action at expiry"),
            ],
            doc.retention_policies
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        opt(&r.description),
                        crate::answer::texts::duration(&r.duration, language),
                        r.duration.clone(),
                        l::trigger(&r.trigger, language),
                        opt(&r.trigger_description),
                        opt(&r.legal_reference),
                        l::expiry_action(&r.action_at_expiry, language),
                    ]
                })
                .collect(),
            language,
        ),
        Table::new(
            label!("Datenquellen", "Data sources"),
            &[
                label!("Name", "Name"),
                label!("Beschreibung", "Description"),
                label!("Verantwortlich im Haus", "Owner"),
                label!("Land", "Country"),
                label!("Auftragsverarbeiter", "Processor"),
                label!("Anbindung", "Connector"),
                label!("Felder", "Fields"),
            ],
            doc.data_sources
                .iter()
                .map(|s| {
                    vec![
                        s.name.clone(),
                        opt(&s.description),
                        opt(&s.owner),
                        opt(&s.country),
                        opt(&s.processor),
                        s.connector_kind.clone(),
                        s.fields.len().to_string(),
                    ]
                })
                .collect(),
            language,
        ),
        Table::new(
            label!("Datenfelder", "Data fields"),
            &[
                label!("Quelle", "Source"),
                label!("Ort", "Location"),
                label!("Beschreibung", "Description"),
                label!("Datenkategorie", "Data category"),
                label!("Identifiziert die Person", "Identifies subject"),
                label!("Art der Kennung", "Identity type"),
                label!("Verweist auf", "References"),
                label!("Löschung", "Erasure"),
            ],
            doc.data_sources
                .iter()
                .flat_map(|s| {
                    let names = &names;
                    s.fields.iter().map(move |f| {
                        vec![
                            s.name.clone(),
                            f.location.clone(),
                            opt(&f.description),
                            f.data_category
                                .as_deref()
                                .map(|k| names.data(&[k.to_owned()]))
                                .unwrap_or_default(),
                            yes_no(f.identifies_subject),
                            f.identity_type
                                .as_deref()
                                .map(|t| l::identity_type(t, language))
                                .unwrap_or_default(),
                            opt(&f.references),
                            l::erasure(&f.erasure_strategy, language),
                        ]
                    })
                })
                .collect(),
            language,
        ),
    ]
}

fn csv(doc: &RegisterDocument, language: Language) -> Result<Vec<u8>> {
    let table = overview(doc, language);
    let mut writer = crate::core::csv::CsvWriter::for_spreadsheets();
    writer.write_row(&table.header)?;
    for row in &table.rows {
        writer.write_row(row)?;
    }
    writer.finish()
}

fn xlsx(doc: &RegisterDocument, language: Language) -> Result<Vec<u8>> {
    let build = || -> std::result::Result<Vec<u8>, XlsxError> {
        let mut workbook = Workbook::new();
        let bold = Format::new().set_bold();
        let wrap = Format::new().set_text_wrap();
        let mut tables = vec![overview(doc, language)];
        tables.extend(entity_tables(doc, language));
        for table in tables {
            let sheet = workbook.add_worksheet();
            sheet.set_name(&table.name)?;
            for (col, title) in table.header.iter().enumerate() {
                sheet.write_string_with_format(0, col as u16, title, &bold)?;
            }
            for (r, row) in table.rows.iter().enumerate() {
                for (col, value) in row.iter().enumerate() {
                    sheet.write_string_with_format(r as u32 + 1, col as u16, value, &wrap)?;
                }
            }
            sheet.set_freeze_panes(1, 0)?;
            sheet.set_autofit_max_width(480);
            sheet.autofit();
        }
        workbook.save_to_buffer()
    };
    build().map_err(|e| Error::Internal(format!("writing XLSX: {e}")))
}

const HTML_TEMPLATE: &str = include_str!("register.html");

/// The HTML document's own words.
const HTML_WORDS: &[(&str, Label)] = &[
    (
        "title",
        label!(
            "Verzeichnis von Verarbeitungstätigkeiten (Art. 30 Abs. 1 DSGVO)",
            "Record of processing activities (Art. 30(1) GDPR)"
        ),
    ),
    (
        "short_title",
        label!(
            "Verzeichnis von Verarbeitungstätigkeiten",
            "Record of processing activities"
        ),
    ),
    ("exported", label!("exportiert", "exported")),
    (
        "activities",
        label!("Verarbeitungstätigkeiten", "processing activities"),
    ),
    (
        "controller",
        label!("(a) Verantwortlicher", "(a) Controller"),
    ),
    ("name", label!("Name", "Name")),
    ("address", label!("Anschrift", "Address")),
    ("country", label!("Land", "Country")),
    ("email", label!("E-Mail", "E-mail")),
    ("phone", label!("Telefon", "Phone")),
    (
        "dpo",
        label!("Datenschutzbeauftragter", "Data protection officer"),
    ),
    (
        "representative",
        label!(
            "Vertreter in der EU (Art. 27)",
            "Representative in the EU (Art. 27)"
        ),
    ),
    (
        "authority",
        label!("Aufsichtsbehörde", "Supervisory authority"),
    ),
    ("overview", label!("Übersicht", "Overview")),
    (
        "processing_activities",
        label!("Verarbeitungstätigkeiten", "Processing activities"),
    ),
    ("status", label!("Status", "Status")),
    ("owner", label!("verantwortlich im Haus", "owner")),
    ("next_review", label!("nächste Prüfung", "next review")),
    ("description", label!("Beschreibung", "Description")),
    ("purposes", label!("(b) Zwecke", "(b) Purposes")),
    ("subjects", label!("(c) Betroffene", "(c) Data subjects")),
    (
        "personal_data",
        label!("(c) Personenbezogene Daten", "(c) Personal data"),
    ),
    ("recipients", label!("(d) Empfänger", "(d) Recipients")),
    (
        "transfers",
        label!(
            "(e) Übermittlungen in Drittländer",
            "(e) Third-country transfers"
        ),
    ),
    (
        "erasure",
        label!("(f) Löschfristen", "(f) Time limits for erasure"),
    ),
    (
        "toms",
        label!(
            "(g) Technische und organisatorische Maßnahmen",
            "(g) Technical and organisational measures"
        ),
    ),
    (
        "automated",
        label!("Automatisierte Entscheidungen", "Automated decision-making"),
    ),
    ("dpia", label!("DSFA", "DPIA")),
    ("required", label!("erforderlich", "required")),
    ("not_required", label!("nicht erforderlich", "not required")),
    ("sources", label!("Datenquellen", "Data sources")),
    ("none_recorded", label!("nichts erfasst", "none recorded")),
    ("none", label!("keine", "none")),
    ("yes", label!("ja", "yes")),
    ("no", label!("nein", "no")),
    (
        "purposes_and_bases",
        label!("Zwecke und Rechtsgrundlagen", "Purposes and legal bases"),
    ),
    ("purpose", label!("Zweck", "Purpose")),
    ("legal_basis", label!("Rechtsgrundlage", "Legal basis")),
    (
        "legal_reference",
        label!("Rechtsvorschrift", "Legal reference"),
    ),
    ("balancing", label!("Interessenabwägung", "Balancing test")),
    (
        "condition",
        label!("Bedingung nach Art. 9 Abs. 2", "Art. 9(2) condition"),
    ),
    (
        "recipients_and_transfers",
        label!("Empfänger und Übermittlungen", "Recipients and transfers"),
    ),
    ("recipient", label!("Empfänger", "Recipient")),
    ("kind", label!("Art", "Kind")),
    (
        "transfers_safeguard",
        label!("Übermittlungen (Garantie)", "Transfers (safeguard)"),
    ),
    (
        "retention_policies",
        label!("Löschfristen", "Retention policies"),
    ),
    ("duration", label!("Dauer", "Duration")),
    ("trigger", label!("Beginn", "Trigger")),
    ("at_expiry", label!("Nach Ablauf", "At expiry")),
    ("location", label!("Ort", "Location")),
    ("data_category", label!("Datenkategorie", "Data category")),
    (
        "identifies",
        label!("Identifiziert die Person", "Identifies subject"),
    ),
    ("references", label!("Verweist auf", "References")),
    ("field_erasure", label!("Löschung", "Erasure")),
    (
        "no_fields",
        label!("Keine Felder zugeordnet.", "No fields mapped."),
    ),
];

fn html(doc: &RegisterDocument, language: Language) -> Result<Vec<u8>> {
    let mut env = minijinja::Environment::new();
    env.add_template("register.html", HTML_TEMPLATE)
        .map_err(|e| Error::Internal(format!("HTML template: {e}")))?;
    let overview = overview(doc, language);
    let words: HashMap<&str, &str> = HTML_WORDS
        .iter()
        .map(|(k, l)| (*k, l.get(language)))
        .collect();
    // Each stored code the document holds, by its label.
    let mut codes: HashMap<String, String> = HashMap::new();
    for p in &doc.purposes {
        codes.insert(
            p.legal_basis.clone(),
            l::legal_basis(&p.legal_basis, language),
        );
        if let Some(c) = &p.special_category_condition {
            codes.insert(c.clone(), l::special_condition(c, language));
        }
    }
    for r in &doc.recipients {
        codes.insert(r.kind.clone(), l::recipient_kind(&r.kind, language));
        for t in &r.transfers {
            codes.insert(t.safeguard.clone(), l::safeguard(&t.safeguard, language));
        }
    }
    let status: HashMap<&str, String> = doc
        .processing_activities
        .iter()
        .map(|a| (a.status.as_str(), l::status(&a.status, language)))
        .collect();
    let retention: HashMap<&str, String> = doc
        .retention_policies
        .iter()
        .map(|r| (r.name.as_str(), retention_words(r, language)))
        .collect();
    let all_fields = || doc.data_sources.iter().flat_map(|s| s.fields.iter());
    let erasure: HashMap<&str, String> = all_fields()
        .map(|f| {
            let label = l::erasure(&f.erasure_strategy, language);
            (f.erasure_strategy.as_str(), label)
        })
        .collect();
    let identity: HashMap<&str, String> = all_fields()
        .filter_map(|f| f.identity_type.as_deref())
        .map(|t| (t, l::identity_type(t, language)))
        .collect();
    let names = Names::of(doc);
    let rendered = env
        .get_template("register.html")
        .and_then(|t| {
            t.render(minijinja::context! {
                lang => language.as_str(),
                t => minijinja::value::Serde(&words),
                code => minijinja::value::Serde(&codes),
                status => minijinja::value::Serde(&status),
                retention => minijinja::value::Serde(&retention),
                erasure => minijinja::value::Serde(&erasure),
                identity => minijinja::value::Serde(&identity),
                category => minijinja::value::Serde(&names.data),
                subject => minijinja::value::Serde(&names.subjects),
                doc => minijinja::value::Serde(doc),
                overview_header => minijinja::value::Serde(&overview.header),
                overview_rows => minijinja::value::Serde(&overview.rows),
                exported_on => doc.exported_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })
        })
        .map_err(|e| Error::Internal(format!("rendering HTML: {e}")))?;
    Ok(rendered.into_bytes())
}

/// Renders a document in a format; CSV, XLSX and HTML in `language`.
pub(super) fn render(
    doc: &RegisterDocument,
    format: ExportFormat,
    language: Language,
) -> Result<Vec<u8>> {
    match format {
        ExportFormat::Json => serde_json::to_vec_pretty(doc)
            .map_err(|e| Error::Internal(format!("writing JSON: {e}"))),
        ExportFormat::Csv => csv(doc, language),
        ExportFormat::Xlsx => xlsx(doc, language),
        ExportFormat::Html => html(doc, language),
    }
}
