//! Rendering a register document: JSON (the document itself), CSV (the overview:
//! one row per activity with every Art. 30(1) item), XLSX (the overview plus one
//! sheet per entity) and printable HTML (minijinja, auto-escaped).

use rust_xlsxwriter::{Format, Workbook, XlsxError};

use super::{ExportFormat, RegisterDocument};
use crate::error::{Error, Result};

/// A table: a sheet name, its header and its rows.
struct Table {
    name: &'static str,
    header: &'static [&'static str],
    rows: Vec<Vec<String>>,
}

fn opt(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_owned()
}

/// The overview: one row per processing activity, labelled with the Art. 30(1)
/// letters.
fn overview(doc: &RegisterDocument) -> Table {
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
                .map(|p| format!("{}: {}", p.name, p.legal_basis))
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
                .collect::<Vec<_>>()
                .join("; ");
            let transfers = a
                .transfers
                .iter()
                .map(|t| {
                    let safeguard = doc
                        .recipients
                        .iter()
                        .find(|r| r.name == t.recipient)
                        .and_then(|r| r.transfers.iter().find(|x| x.country == t.country))
                        .map(|x| x.safeguard.as_str())
                        .unwrap_or("");
                    format!("{} ({}, {safeguard})", t.recipient, t.country)
                })
                .collect::<Vec<_>>()
                .join("; ");
            let retention = a
                .retention_policy
                .as_ref()
                .and_then(|name| doc.retention_policies.iter().find(|r| &r.name == name))
                .map(|r| {
                    let mut s = format!(
                        "{}: {} {}, then {}",
                        r.name, r.duration, r.trigger, r.action_at_expiry
                    );
                    if let Some(l) = &r.legal_reference {
                        s.push_str(&format!(" ({l})"));
                    }
                    s
                })
                .unwrap_or_default();
            vec![
                a.name.clone(),
                a.status.clone(),
                opt(&a.owner),
                controller.clone(),
                dpo.clone(),
                a.purposes.join("; "),
                bases,
                a.subject_categories.join("; "),
                a.data_categories.join("; "),
                special,
                a.recipients.join("; "),
                transfers,
                retention,
                opt(&a.tom_description),
                if a.automated_decision_making {
                    format!("yes: {}", opt(&a.automated_decision_logic))
                } else {
                    "no".to_owned()
                },
                if a.dpia_required {
                    format!("yes {}", opt(&a.dpia_reference)).trim().to_owned()
                } else {
                    "no".to_owned()
                },
                a.sources.join("; "),
                a.next_review_on.map(|d| d.to_string()).unwrap_or_default(),
            ]
        })
        .collect();
    Table {
        name: "Overview",
        header: &[
            "Processing activity",
            "Status",
            "Owner",
            "(a) Controller",
            "(a) Data protection officer",
            "(b) Purposes",
            "(b) Legal bases (Art. 6)",
            "(c) Categories of data subjects",
            "(c) Categories of personal data",
            "(c) Special categories (Art. 9/10)",
            "(d) Recipients",
            "(e) Third-country transfers and safeguards",
            "(f) Time limits for erasure",
            "(g) Technical and organisational measures",
            "Automated decision-making (Art. 22)",
            "DPIA (Art. 35)",
            "Data sources",
            "Next review",
        ],
        rows,
    }
}

/// One table per entity, for the workbook.
fn entity_tables(doc: &RegisterDocument) -> Vec<Table> {
    let c = &doc.controller;
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
        Table {
            name: "Controller",
            header: &["Item", "Value"],
            rows: vec![
                vec!["Name".into(), c.name.clone()],
                vec!["Address".into(), opt(&c.address)],
                vec!["Country".into(), opt(&c.country)],
                vec!["E-mail".into(), opt(&c.email)],
                vec!["Phone".into(), opt(&c.phone)],
                vec![
                    "Data protection officer".into(),
                    contact(&c.data_protection_officer),
                ],
                vec![
                    "Representative in the EU (Art. 27)".into(),
                    contact(&c.eu_representative),
                ],
                vec![
                    "Supervisory authority".into(),
                    opt(&c.supervisory_authority),
                ],
            ],
        },
        Table {
            name: "Activities",
            header: &[
                "Name",
                "Description",
                "Status",
                "Owner",
                "Purposes",
                "Subject categories",
                "Data categories",
                "Recipients",
                "Transfers",
                "Retention policy",
                "TOMs",
                "Automated decisions",
                "Logic",
                "DPIA required",
                "DPIA reference",
                "Next review",
                "Sources",
            ],
            rows: doc
                .processing_activities
                .iter()
                .map(|a| {
                    vec![
                        a.name.clone(),
                        opt(&a.description),
                        a.status.clone(),
                        opt(&a.owner),
                        a.purposes.join("; "),
                        a.subject_categories.join("; "),
                        a.data_categories.join("; "),
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
        },
        Table {
            name: "Purposes",
            header: &[
                "Name",
                "Description",
                "Legal basis",
                "Legal reference",
                "Balancing test",
                "Art. 9(2) condition",
            ],
            rows: doc
                .purposes
                .iter()
                .map(|p| {
                    vec![
                        p.name.clone(),
                        opt(&p.description),
                        p.legal_basis.clone(),
                        opt(&p.legal_reference),
                        opt(&p.balancing_test),
                        opt(&p.special_category_condition),
                    ]
                })
                .collect(),
        },
        Table {
            name: "Data categories",
            header: &["Key", "Name", "Description", "Sensitivity"],
            rows: doc
                .data_categories
                .iter()
                .map(|c| {
                    vec![
                        c.key.clone(),
                        c.name.clone(),
                        opt(&c.description),
                        c.sensitivity.clone(),
                    ]
                })
                .collect(),
        },
        Table {
            name: "Subject categories",
            header: &["Key", "Name", "Description"],
            rows: doc
                .subject_categories
                .iter()
                .map(|c| vec![c.key.clone(), c.name.clone(), opt(&c.description)])
                .collect(),
        },
        Table {
            name: "Recipients",
            header: &[
                "Name",
                "Kind",
                "Country",
                "Description",
                "Contract reference",
            ],
            rows: doc
                .recipients
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        r.kind.clone(),
                        opt(&r.country),
                        opt(&r.description),
                        opt(&r.contract_reference),
                    ]
                })
                .collect(),
        },
        Table {
            name: "Transfers",
            header: &["Recipient", "Country", "Safeguard", "Safeguard description"],
            rows: doc
                .recipients
                .iter()
                .flat_map(|r| {
                    r.transfers.iter().map(move |t| {
                        vec![
                            r.name.clone(),
                            t.country.clone(),
                            t.safeguard.clone(),
                            opt(&t.safeguard_description),
                        ]
                    })
                })
                .collect(),
        },
        Table {
            name: "Retention policies",
            header: &[
                "Name",
                "Description",
                "Duration (ISO 8601)",
                "Trigger",
                "Trigger description",
                "Legal reference",
                "Action at expiry",
            ],
            rows: doc
                .retention_policies
                .iter()
                .map(|r| {
                    vec![
                        r.name.clone(),
                        opt(&r.description),
                        r.duration.clone(),
                        r.trigger.clone(),
                        opt(&r.trigger_description),
                        opt(&r.legal_reference),
                        r.action_at_expiry.clone(),
                    ]
                })
                .collect(),
        },
        Table {
            name: "Data sources",
            header: &[
                "Name",
                "Description",
                "Owner",
                "Country",
                "Processor",
                "Connector",
                "Fields",
            ],
            rows: doc
                .data_sources
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
        },
        Table {
            name: "Data fields",
            header: &[
                "Source",
                "Location",
                "Description",
                "Data category",
                "Identifies subject",
                "Identity type",
                "References",
                "Erasure",
            ],
            rows: doc
                .data_sources
                .iter()
                .flat_map(|s| {
                    s.fields.iter().map(move |f| {
                        vec![
                            s.name.clone(),
                            f.location.clone(),
                            opt(&f.description),
                            opt(&f.data_category),
                            yes_no(f.identifies_subject),
                            opt(&f.identity_type),
                            opt(&f.references),
                            f.erasure_strategy.clone(),
                        ]
                    })
                })
                .collect(),
        },
    ]
}

fn csv(doc: &RegisterDocument) -> Result<Vec<u8>> {
    let table = overview(doc);
    let mut writer = crate::core::csv::CsvWriter::for_spreadsheets();
    writer.write_row(table.header)?;
    for row in &table.rows {
        writer.write_row(row)?;
    }
    writer.finish()
}

fn xlsx(doc: &RegisterDocument) -> Result<Vec<u8>> {
    let build = || -> std::result::Result<Vec<u8>, XlsxError> {
        let mut workbook = Workbook::new();
        let bold = Format::new().set_bold();
        let wrap = Format::new().set_text_wrap();
        let mut tables = vec![overview(doc)];
        tables.extend(entity_tables(doc));
        for table in tables {
            let sheet = workbook.add_worksheet();
            sheet.set_name(table.name)?;
            for (col, title) in table.header.iter().enumerate() {
                sheet.write_string_with_format(0, col as u16, *title, &bold)?;
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

fn html(doc: &RegisterDocument) -> Result<Vec<u8>> {
    let mut env = minijinja::Environment::new();
    env.add_template("register.html", HTML_TEMPLATE)
        .map_err(|e| Error::Internal(format!("HTML template: {e}")))?;
    let overview = overview(doc);
    let rendered = env
        .get_template("register.html")
        .and_then(|t| {
            t.render(minijinja::context! {
                doc => minijinja::value::Serde(doc),
                overview_header => minijinja::value::Serde(overview.header),
                overview_rows => minijinja::value::Serde(&overview.rows),
                exported_on => doc.exported_at.format("%Y-%m-%d %H:%M UTC").to_string(),
            })
        })
        .map_err(|e| Error::Internal(format!("rendering HTML: {e}")))?;
    Ok(rendered.into_bytes())
}

/// Renders a document in a format.
pub(super) fn render(doc: &RegisterDocument, format: ExportFormat) -> Result<Vec<u8>> {
    match format {
        ExportFormat::Json => serde_json::to_vec_pretty(doc)
            .map_err(|e| Error::Internal(format!("writing JSON: {e}"))),
        ExportFormat::Csv => csv(doc),
        ExportFormat::Xlsx => xlsx(doc),
        ExportFormat::Html => html(doc),
    }
}
