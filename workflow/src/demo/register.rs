//! The demo's register for an online furniture shop, and its shop database: a SQLite
//! file with customers, orders, order items, invoices, newsletter subscribers and
//! support tickets, registered as a data source.

use std::path::Path;

use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::register::activities::{ActivityDraft, ActivityStatus};
use crate::register::fields::{ErasureStrategy, FieldDraft, IdentityType};
use crate::register::purposes::{LegalBasis, PurposeDraft};
use crate::register::recipients::{RecipientDraft, RecipientKind, Safeguard, TransferDraft};
use crate::register::retention::{ExpiryAction, RetentionDraft, RetentionTrigger};
use crate::register::sources::{ConnectorKind, SourceDraft};
use crate::{PageRequest, Principal, Workflow};

const SHOP_SCHEMA: &[&str] = &[
    "CREATE TABLE IF NOT EXISTS customers (id INTEGER PRIMARY KEY, customer_number TEXT UNIQUE NOT NULL, first_name TEXT, last_name TEXT, email TEXT NOT NULL, phone TEXT, street TEXT, postal_code TEXT, city TEXT, birth_date TEXT, created_at TEXT)",
    "CREATE INDEX IF NOT EXISTS idx_customers_email ON customers(email)",
    "CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL REFERENCES customers(id), ordered_at TEXT, status TEXT, delivery_street TEXT, delivery_postal_code TEXT, delivery_city TEXT, total_cents INTEGER)",
    "CREATE TABLE IF NOT EXISTS order_items (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), article TEXT, quantity INTEGER, price_cents INTEGER)",
    "CREATE TABLE IF NOT EXISTS invoices (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL REFERENCES orders(id), invoice_number TEXT UNIQUE, issued_at TEXT, iban TEXT, amount_cents INTEGER)",
    "CREATE TABLE IF NOT EXISTS newsletter_subscribers (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, opted_in_at TEXT, confirmation_token TEXT)",
    "CREATE TABLE IF NOT EXISTS support_tickets (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), subject TEXT, body TEXT, created_at TEXT)",
];

const SHOP_DATA: &[&str] = &[
    "INSERT OR IGNORE INTO customers VALUES (1, 'K-100001', 'Erika', 'Mustermann', 'erika.mustermann@example.org', '+49 30 1234567', 'Heidestraße 17', '51147', 'Köln', '1964-08-12', '2024-03-01')",
    "INSERT OR IGNORE INTO customers VALUES (2, 'K-100002', 'Max', 'Mustermann', 'max.mustermann@example.org', '+49 221 7654321', 'Heidestraße 17', '51147', 'Köln', '1961-02-03', '2024-05-19')",
    "INSERT OR IGNORE INTO customers VALUES (3, 'K-100003', 'Aylin', 'Demir', 'aylin.demir@example.net', NULL, 'Bergstraße 4', '69117', 'Heidelberg', NULL, '2025-01-07')",
    // Two customers whose last contact is more than three years ago: the retention
    // sweep finds them (the account policy, P3Y after the last contact). Jürgen's
    // order and invoice stay under the § 147 AO hold when his account is erased.
    "INSERT OR IGNORE INTO customers VALUES (4, 'K-100004', 'Jürgen', 'Altmann', 'juergen.altmann@example.com', '+49 89 5551234', 'Lindenweg 3', '80331', 'München', '1958-11-23', '2019-05-14')",
    "INSERT OR IGNORE INTO customers VALUES (5, 'K-100005', 'Sabine', 'Früh', 'sabine.frueh@example.net', NULL, 'Am Hang 9', '01067', 'Dresden', NULL, '2020-09-30')",
    "INSERT OR IGNORE INTO orders VALUES (1, 1, '2025-10-02', 'DELIVERED', 'Heidestraße 17', '51147', 'Köln', 129900)",
    "INSERT OR IGNORE INTO orders VALUES (2, 2, '2025-11-11', 'SHIPPED', 'Heidestraße 17', '51147', 'Köln', 34900)",
    "INSERT OR IGNORE INTO orders VALUES (3, 3, '2026-01-20', 'PAID', 'Bergstraße 4', '69117', 'Heidelberg', 89900)",
    "INSERT OR IGNORE INTO orders VALUES (4, 4, '2021-02-11', 'DELIVERED', 'Lindenweg 3', '80331', 'München', 45900)",
    "INSERT OR IGNORE INTO order_items VALUES (1, 1, 'Sofa Lindholm, 3-Sitzer', 1, 129900)",
    "INSERT OR IGNORE INTO order_items VALUES (2, 2, 'Stehleuchte Aalto', 1, 34900)",
    "INSERT OR IGNORE INTO order_items VALUES (3, 3, 'Esstisch Eiche 180 cm', 1, 89900)",
    "INSERT OR IGNORE INTO invoices VALUES (1, 1, 'RE-2025-0815', '2025-10-02', 'DE89370400440532013000', 129900)",
    "INSERT OR IGNORE INTO invoices VALUES (2, 2, 'RE-2025-1042', '2025-11-11', NULL, 34900)",
    "INSERT OR IGNORE INTO order_items VALUES (4, 4, 'Kommode Birke', 1, 45900)",
    "INSERT OR IGNORE INTO invoices VALUES (3, 4, 'RE-2021-0107', '2021-02-11', NULL, 45900)",
    "INSERT OR IGNORE INTO newsletter_subscribers VALUES (1, 'erika.mustermann@example.org', '2024-03-02', NULL)",
    "INSERT OR IGNORE INTO support_tickets VALUES (2, 5, 'Rückruf', 'Bitte rufen Sie mich wegen der Lieferzeit an.', '2021-06-01')",
    "INSERT OR IGNORE INTO support_tickets VALUES (1, 2, 'Lieferung', 'Die Leuchte kam beschädigt an, bitte Ersatz an Heidestraße 17.', '2025-11-15')",
];

/// Creates (or completes) the demo shop database at `path`.
pub async fn create_shop_database(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Internal(format!(
                "cannot create the directory {}: {e}",
                dir.display()
            ))
        })?;
    }
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let db = Database::connect(url).await?;
    for sql in SHOP_SCHEMA.iter().chain(SHOP_DATA) {
        db.execute_unprepared(sql).await?;
    }
    db.close().await?;
    Ok(())
}

fn ids(found: &[(String, Uuid)], keys: &[&str]) -> Result<Vec<Uuid>> {
    keys.iter()
        .map(|k| {
            found
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, id)| *id)
                .ok_or_else(|| Error::Internal(format!("demo taxonomy lacks `{k}`")))
        })
        .collect()
}

/// Name of the demo's CRM source (an HTTP source served by the demo server).
pub const DEMO_CRM_SOURCE: &str = "CRM";
/// Name of the demo's MANUAL source (a steward searches the support mailbox).
pub const DEMO_MAILBOX_SOURCE: &str = "Support mailbox";
/// The CRM's address until the server has bound its port: nothing listens there.
const UNBOUND_SERVER: &str = "http://127.0.0.1:9";

impl Workflow {
    /// Maps fields (location, category key, identity type) of a demo source.
    async fn map_demo_fields(
        &self,
        admin: &Principal,
        source_id: Uuid,
        categories: &[(String, Uuid)],
        fields: &[(&str, &str, Option<IdentityType>)],
    ) -> Result<()> {
        for (location, category, identity) in fields {
            self.create_data_field(
                admin,
                FieldDraft {
                    source_id,
                    location: (*location).into(),
                    description: None,
                    data_category_id: Some(ids(categories, &[category])?[0]),
                    identifies_subject: identity.is_some(),
                    identity_type: *identity,
                    references_id: None,
                    erasure_strategy: ErasureStrategy::DeleteRow,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Fills the demo organization's register: sources (incl. the shop database at
    /// `shop_db`), purposes, recipients, a transfer, retention and activities.
    pub async fn seed_demo_register(&self, admin: &Principal, shop_db: &Path) -> Result<()> {
        create_shop_database(shop_db).await?;
        let all = PageRequest {
            first: Some(100),
            ..Default::default()
        };
        let categories: Vec<(String, Uuid)> = self
            .data_categories(admin, &Default::default(), &all)
            .await?
            .items
            .into_iter()
            .map(|c| (c.key, c.id))
            .collect();
        let subjects: Vec<(String, Uuid)> = self
            .subject_categories(admin, None, &all)
            .await?
            .items
            .into_iter()
            .map(|c| (c.key, c.id))
            .collect();

        let parcel = self
            .create_recipient(
                admin,
                RecipientDraft {
                    name: "Paketblitz GmbH (parcel service)".into(),
                    kind: RecipientKind::Processor,
                    country: Some("DE".into()),
                    description: Some("Delivers orders; receives name, address and phone.".into()),
                    contract_reference: Some("DPA 2024-02".into()),
                    notice_email: Some("datenschutz@paketblitz.example".into()),
                },
            )
            .await?;
        let payments = self
            .create_recipient(
                admin,
                RecipientDraft {
                    name: "PayGlobal Inc. (payment provider)".into(),
                    kind: RecipientKind::Processor,
                    country: Some("US".into()),
                    description: Some("Card and wallet payments; fraud screening.".into()),
                    contract_reference: Some("DPA + SCC 2021/914 module 2".into()),
                    notice_email: None,
                },
            )
            .await?;
        let tax_office = self
            .create_recipient(
                admin,
                RecipientDraft {
                    name: "Finanzamt (tax office)".into(),
                    kind: RecipientKind::PublicAuthority,
                    country: Some("DE".into()),
                    description: Some("Receives invoices on tax audits.".into()),
                    contract_reference: None,
                    notice_email: None,
                },
            )
            .await?;
        let us = self
            .create_transfer(
                admin,
                TransferDraft {
                    recipient_id: payments.id,
                    country: "US".into(),
                    safeguard: Safeguard::StandardContractualClauses,
                    safeguard_description: Some(
                        "SCC 2021/914, module 2, with transfer impact assessment".into(),
                    ),
                },
            )
            .await?;

        let contract_retention = self
            .create_retention_policy(
                admin,
                RetentionDraft {
                    name: "Customer account".into(),
                    description: Some(
                        "Deleted three years after the last order (limitation period, § 195 BGB)."
                            .into(),
                    ),
                    duration: "P3Y".into(),
                    trigger: RetentionTrigger::AfterLastContact,
                    trigger_description: None,
                    legal_reference: Some("§ 195, § 199 BGB".into()),
                    action_at_expiry: ExpiryAction::Delete,
                },
            )
            .await?;
        let tax_retention = self
            .create_retention_policy(
                admin,
                RetentionDraft {
                    name: "Invoices and accounting records".into(),
                    description: None,
                    duration: "P10Y".into(),
                    trigger: RetentionTrigger::AfterEndOfCalendarYear,
                    trigger_description: None,
                    legal_reference: Some("§ 147 AO, § 257 HGB".into()),
                    action_at_expiry: ExpiryAction::Delete,
                },
            )
            .await?;
        let newsletter_retention = self
            .create_retention_policy(
                admin,
                RetentionDraft {
                    name: "Newsletter subscription".into(),
                    description: Some(
                        "Kept until consent is withdrawn, then the address is removed.".into(),
                    ),
                    duration: "P30D".into(),
                    trigger: RetentionTrigger::AfterConsentWithdrawn,
                    trigger_description: None,
                    legal_reference: None,
                    action_at_expiry: ExpiryAction::Delete,
                },
            )
            .await?;

        let purpose = |name: &str,
                       basis: LegalBasis,
                       reference: Option<&str>,
                       test: Option<&str>,
                       text: &str| PurposeDraft {
            name: name.into(),
            description: Some(text.into()),
            legal_basis: basis,
            legal_reference: reference.map(Into::into),
            balancing_test: test.map(Into::into),
            special_category_condition: None,
        };
        let fulfilment = self
            .create_purpose(
                admin,
                purpose(
                    "Order fulfilment",
                    LegalBasis::Contract,
                    None,
                    None,
                    "Processing orders, delivery, returns and customer service.",
                ),
            )
            .await?;
        let accounting = self
            .create_purpose(
                admin,
                purpose(
                    "Accounting and tax",
                    LegalBasis::LegalObligation,
                    Some("§ 147 AO, § 257 HGB"),
                    None,
                    "Keeping invoices and accounting records as the law requires.",
                ),
            )
            .await?;
        let newsletter = self
            .create_purpose(
                admin,
                purpose(
                    "Newsletter",
                    LegalBasis::Consent,
                    None,
                    None,
                    "Sending offers to subscribers who confirmed by double opt-in.",
                ),
            )
            .await?;
        let fraud = self
            .create_purpose(admin, purpose(
                "Fraud prevention",
                LegalBasis::LegitimateInterests,
                None,
                Some("Interest: avoiding payment fraud and chargebacks. Necessity: only order and payment metadata are checked. Balance: customers expect fraud checks in online payment; no special categories; results are reviewed by staff before an order is refused (no solely automated decision)."),
                "Checking orders for signs of payment fraud.",
            ))
            .await?;

        let source = |name: &str,
                      kind: ConnectorKind,
                      config: serde_json::Value,
                      owner: &str,
                      processor: Option<Uuid>| SourceDraft {
            name: name.into(),
            description: None,
            owner: Some(owner.into()),
            country: Some("DE".into()),
            processor_id: processor,
            connector_kind: kind,
            connector_config: config,
        };
        let shop = self
            .create_data_source(
                admin,
                source(
                    "Shop database",
                    ConnectorKind::Sqlite,
                    json!({"path": self.sources.sqlite_path_for(shop_db), "readOnly": false}),
                    "E-Commerce",
                    None,
                ),
            )
            .await?;
        // Where personal data lives in the shop database.
        let mut mapped: Vec<(String, Uuid)> = Vec::new();
        for (location, category, identity, references, erasure) in [
            ("customers.id", None, None, None, ErasureStrategy::DeleteRow),
            (
                "customers.customer_number",
                Some("account.customer_number"),
                Some(IdentityType::CustomerNumber),
                None,
                ErasureStrategy::Anonymize,
            ),
            (
                "customers.first_name",
                Some("identity.name"),
                None,
                None,
                ErasureStrategy::Anonymize,
            ),
            (
                "customers.last_name",
                Some("identity.name"),
                None,
                None,
                ErasureStrategy::Anonymize,
            ),
            (
                "customers.email",
                Some("contact.email"),
                Some(IdentityType::Email),
                None,
                ErasureStrategy::Anonymize,
            ),
            (
                "customers.phone",
                Some("contact.phone"),
                Some(IdentityType::Phone),
                None,
                ErasureStrategy::SetNull,
            ),
            (
                "customers.street",
                Some("contact.postal_address"),
                None,
                None,
                ErasureStrategy::SetNull,
            ),
            (
                "customers.postal_code",
                Some("contact.postal_address"),
                None,
                None,
                ErasureStrategy::SetNull,
            ),
            (
                "customers.birth_date",
                Some("identity.birth_date"),
                None,
                None,
                ErasureStrategy::SetNull,
            ),
            // Start of the account's retention period, with the last order and
            // the last support ticket (the retention sweep's trigger fields).
            (
                "customers.created_at",
                None,
                None,
                None,
                ErasureStrategy::SetNull,
            ),
            (
                "orders.id",
                None,
                None,
                None,
                ErasureStrategy::KeepUnderHold,
            ),
            (
                "orders.customer_id",
                Some("contract.orders"),
                None,
                Some("customers.id"),
                ErasureStrategy::KeepUnderHold,
            ),
            (
                "orders.delivery_street",
                Some("contract.delivery"),
                None,
                None,
                ErasureStrategy::KeepUnderHold,
            ),
            (
                "orders.delivery_postal_code",
                Some("contract.delivery"),
                None,
                None,
                ErasureStrategy::KeepUnderHold,
            ),
            (
                "orders.ordered_at",
                Some("contract.orders"),
                None,
                None,
                ErasureStrategy::KeepUnderHold,
            ),
            (
                "invoices.order_id",
                Some("financial.invoices"),
                None,
                Some("orders.id"),
                ErasureStrategy::KeepUnderHold,
            ),
            (
                "invoices.iban",
                Some("financial.bank_account"),
                None,
                None,
                ErasureStrategy::KeepUnderHold,
            ),
            (
                "newsletter_subscribers.email",
                Some("marketing.newsletter"),
                Some(IdentityType::Email),
                None,
                ErasureStrategy::DeleteRow,
            ),
            (
                "support_tickets.customer_id",
                Some("communication.support"),
                None,
                Some("customers.id"),
                ErasureStrategy::DeleteRow,
            ),
            (
                "support_tickets.created_at",
                Some("communication.support"),
                None,
                None,
                ErasureStrategy::DeleteRow,
            ),
            (
                "support_tickets.body",
                Some("communication.support"),
                None,
                None,
                ErasureStrategy::DeleteRow,
            ),
        ] {
            let field = self
                .create_data_field(
                    admin,
                    FieldDraft {
                        source_id: shop.id,
                        location: location.into(),
                        description: None,
                        data_category_id: category
                            .map(|c| ids(&categories, &[c]).map(|v| v[0]))
                            .transpose()?,
                        identifies_subject: identity.is_some(),
                        identity_type: identity,
                        references_id: references
                            .and_then(|r| mapped.iter().find(|(l, _)| l == r).map(|(_, id)| *id)),
                        erasure_strategy: erasure,
                    },
                )
                .await?;
            mapped.push((location.to_owned(), field.id));
        }
        // The customer account ends three years after the last contact: the account's
        // creation, the last order or the last support ticket, whichever is latest.
        let triggers = [
            "customers.created_at",
            "orders.ordered_at",
            "support_tickets.created_at",
        ]
        .iter()
        .map(|t| {
            mapped
                .iter()
                .find(|(l, _)| l == t)
                .map(|(_, id)| *id)
                .ok_or_else(|| Error::Internal(format!("demo field `{t}` is not mapped")))
        })
        .collect::<Result<Vec<_>>>()?;
        self.set_retention_trigger_fields(admin, contract_retention.id, triggers)
            .await?;
        // The CRM is served by the demo server itself (`demo::crm`); its address and
        // token are set when the server has bound its port (`connect_demo_crm`).
        let crm = self
            .create_data_source(
                admin,
                source(
                    DEMO_CRM_SOURCE,
                    ConnectorKind::Http,
                    super::crm::source_config(UNBOUND_SERVER, "demo-token-not-real"),
                    "Sales",
                    None,
                ),
            )
            .await?;
        self.map_demo_fields(
            admin,
            crm.id,
            &categories,
            &[
                ("$.email", "contact.email", Some(IdentityType::Email)),
                ("$.firstName", "identity.name", None),
                ("$.lastName", "identity.name", None),
                ("$.phone", "contact.phone", Some(IdentityType::Phone)),
                (
                    "$.customerNumber",
                    "account.customer_number",
                    Some(IdentityType::CustomerNumber),
                ),
                ("$.segment", "marketing.preferences", None),
                ("$.marketing.email", "marketing.preferences", None),
                ("$.marketing.phone", "marketing.preferences", None),
                ("$.marketing.post", "marketing.preferences", None),
                ("$.subject", "communication.support", None),
                ("$.text", "communication.support", None),
            ],
        )
        .await?;
        let invoicing = self
            .create_data_source(
                admin,
                source(
                    "Invoicing",
                    ConnectorKind::Sqlite,
                    json!({"path": shop_db.display().to_string()}),
                    "Accounting",
                    None,
                ),
            )
            .await?;
        let newsletter_tool = self
            .create_data_source(
                admin,
                source(
                    "Newsletter tool",
                    ConnectorKind::Http,
                    json!({"baseUrl": "http://127.0.0.1:9/newsletter/api"}),
                    "Marketing",
                    None,
                ),
            )
            .await?;
        let mailbox = self
            .create_data_source(
                admin,
                source(
                    DEMO_MAILBOX_SOURCE,
                    ConnectorKind::Manual,
                    json!({
                        "contact": "support@moebelhaus.example",
                        "instructions": "Search the support mailbox for the requester's addresses; upload one record per message found (date, from, subject, message), or an empty list.",
                        "recordSchema": {
                            "type": "object",
                            "required": ["date", "from", "subject"],
                            "properties": {
                                "date": {"type": "string", "format": "date", "description": "When the message came in."},
                                "from": {"type": "string", "maxLength": 320, "description": "The sender's address."},
                                "subject": {"type": "string", "maxLength": 500},
                                "message": {"type": "string", "maxLength": 5000, "description": "The message, or a summary of it."}
                            },
                            "additionalProperties": false
                        }
                    }),
                    "Customer service",
                    None,
                ),
            )
            .await?;
        self.map_demo_fields(
            admin,
            mailbox.id,
            &categories,
            &[
                ("from", "contact.email", Some(IdentityType::Email)),
                ("date", "communication.support", None),
                ("subject", "communication.support", None),
                ("message", "communication.support", None),
            ],
        )
        .await?;

        let activity = |name: &str,
                        purposes: Vec<Uuid>,
                        categories: Vec<Uuid>,
                        subjects: Vec<Uuid>,
                        recipients: Vec<Uuid>,
                        transfers: Vec<Uuid>,
                        retention: Uuid,
                        sources: Vec<Uuid>| {
            ActivityDraft {
            name: name.into(),
            status: Some(ActivityStatus::Active),
            owner: Some("Datenschutz".into()),
            tom_description: Some("TLS in transit, encrypted backups, role-based access, logging of access to customer data.".into()),
            retention_policy_id: Some(retention),
            next_review_on: chrono::NaiveDate::from_ymd_opt(2027, 3, 31),
            purpose_ids: purposes,
            data_category_ids: categories,
            subject_category_ids: subjects,
            recipient_ids: recipients,
            transfer_ids: transfers,
            source_ids: sources,
            ..Default::default()
        }
        };
        self.create_processing_activity(
            admin,
            activity(
                "Online orders",
                vec![fulfilment.id],
                ids(
                    &categories,
                    &[
                        "identity.name",
                        "identity.birth_date",
                        "contact.email",
                        "contact.phone",
                        "contact.postal_address",
                        "account.customer_number",
                        "contract.orders",
                        "contract.delivery",
                        "communication.support",
                    ],
                )?,
                ids(&subjects, &["customers"])?,
                vec![parcel.id, payments.id],
                vec![us.id],
                contract_retention.id,
                vec![shop.id, crm.id, mailbox.id],
            ),
        )
        .await?;
        self.create_processing_activity(
            admin,
            activity(
                "Accounting",
                vec![accounting.id],
                // Orders and their delivery addresses are accounting records too
                // (Buchungsbelege, § 147(1) AO): held ten years, not the three of
                // the customer account.
                ids(
                    &categories,
                    &[
                        "identity.name",
                        "contact.postal_address",
                        "contract.orders",
                        "contract.delivery",
                        "financial.invoices",
                        "financial.bank_account",
                    ],
                )?,
                ids(&subjects, &["customers"])?,
                vec![tax_office.id],
                vec![],
                tax_retention.id,
                vec![invoicing.id, shop.id],
            ),
        )
        .await?;
        self.create_processing_activity(
            admin,
            activity(
                "Newsletter",
                vec![newsletter.id],
                ids(
                    &categories,
                    &[
                        "contact.email",
                        "marketing.newsletter",
                        "marketing.preferences",
                    ],
                )?,
                ids(&subjects, &["newsletter_subscribers", "customers"])?,
                vec![],
                vec![],
                newsletter_retention.id,
                vec![newsletter_tool.id, shop.id, crm.id],
            ),
        )
        .await?;
        self.create_processing_activity(
            admin,
            activity(
                "Fraud prevention",
                vec![fraud.id],
                ids(
                    &categories,
                    &[
                        "contract.orders",
                        "financial.payment_card",
                        "online.ip_address",
                    ],
                )?,
                ids(&subjects, &["customers"])?,
                vec![payments.id],
                vec![us.id],
                contract_retention.id,
                vec![shop.id],
            ),
        )
        .await?;
        Ok(())
    }
}
