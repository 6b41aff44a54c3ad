//! Typed views of the register's rows, as the API shows them: stored strings
//! (legal bases, retention triggers, recipient kinds, safeguards, activity states,
//! connector kinds, identifier kinds, erasure strategies) parsed once, here; an
//! unknown one is an INTERNAL error, which only hand-edited data can produce.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use entity::{
    data_category, data_field, data_source, processing_activity, purpose, recipient,
    retention_policy, transfer,
};

use super::activities::ActivityStatus;
use super::fields::{ErasureStrategy, IdentityType};
use super::purposes::{LegalBasis, SpecialCategoryCondition};
use super::recipients::{RecipientKind, Safeguard};
use super::retention::{ExpiryAction, RetentionTrigger};
use super::taxonomy::{Sensitivity, parent_key, sensitivity_of};
use crate::connectors::ConnectorKind;
use crate::error::{Error, Result};

/// Parses an optional stored string.
fn parse_opt<T: std::str::FromStr<Err = Error>>(s: Option<&str>) -> Result<Option<T>> {
    s.map(str::parse).transpose()
}

/// Converts stored rows to their views.
pub(crate) fn views<M, V: TryFrom<M, Error = Error>>(rows: Vec<M>) -> Result<Vec<V>> {
    rows.into_iter().map(V::try_from).collect()
}

/// A purpose of processing and its legal basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurposeView {
    /// Its id.
    pub id: Uuid,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation in plain language.
    pub description: Option<String>,
    /// The Art. 6(1) legal basis.
    pub legal_basis: LegalBasis,
    /// The law or contract relied on.
    pub legal_reference: Option<String>,
    /// The documented balancing test (for legitimate interests).
    pub balancing_test: Option<String>,
    /// The Art. 9(2) condition, where special categories are processed.
    pub special_category_condition: Option<SpecialCategoryCondition>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<purpose::Model> for PurposeView {
    type Error = Error;
    fn try_from(m: purpose::Model) -> Result<Self> {
        Ok(Self {
            legal_basis: m.legal_basis.parse()?,
            special_category_condition: parse_opt(m.special_category_condition.as_deref())?,
            id: m.id,
            name: m.name,
            description: m.description,
            legal_reference: m.legal_reference,
            balancing_test: m.balancing_test,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// How long data is kept, from when, on what ground, and what happens then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetentionPolicyView {
    /// Its id.
    pub id: Uuid,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// The period as an ISO 8601 duration.
    pub duration: String,
    /// When the period starts.
    pub trigger: RetentionTrigger,
    /// The starting event, when the trigger is OTHER.
    pub trigger_description: Option<String>,
    /// Legal ground for keeping the data.
    pub legal_reference: Option<String>,
    /// What happens when the period ends.
    pub action_at_expiry: ExpiryAction,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<retention_policy::Model> for RetentionPolicyView {
    type Error = Error;
    fn try_from(m: retention_policy::Model) -> Result<Self> {
        Ok(Self {
            trigger: m.trigger.parse()?,
            action_at_expiry: m.action_at_expiry.parse()?,
            id: m.id,
            name: m.name,
            description: m.description,
            duration: m.duration,
            trigger_description: m.trigger_description,
            legal_reference: m.legal_reference,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// A recipient of personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecipientView {
    /// Its id.
    pub id: Uuid,
    /// Name, unique in the organization.
    pub name: String,
    /// Who the recipient is.
    pub kind: RecipientKind,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Explanation.
    pub description: Option<String>,
    /// The contract, e.g. the data processing agreement.
    pub contract_reference: Option<String>,
    /// Where Art. 19 notices go.
    pub notice_email: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<recipient::Model> for RecipientView {
    type Error = Error;
    fn try_from(m: recipient::Model) -> Result<Self> {
        Ok(Self {
            kind: m.kind.parse()?,
            id: m.id,
            name: m.name,
            country: m.country,
            description: m.description,
            contract_reference: m.contract_reference,
            notice_email: m.notice_email,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// A transfer of personal data to a recipient in a third country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferView {
    /// Its id.
    pub id: Uuid,
    /// The receiving recipient.
    pub recipient_id: Uuid,
    /// The third country (ISO 3166-1 alpha-2).
    pub country: String,
    /// The ground of the transfer.
    pub safeguard: Safeguard,
    /// Details of the safeguard.
    pub safeguard_description: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<transfer::Model> for TransferView {
    type Error = Error;
    fn try_from(m: transfer::Model) -> Result<Self> {
        Ok(Self {
            safeguard: m.safeguard.parse()?,
            id: m.id,
            recipient_id: m.recipient_id,
            country: m.country,
            safeguard_description: m.safeguard_description,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// A processing activity (Art. 30(1)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityView {
    /// Its id.
    pub id: Uuid,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Where the activity stands.
    pub status: ActivityStatus,
    /// Responsible department or person.
    pub owner: Option<String>,
    /// Technical and organisational measures.
    pub tom_description: Option<String>,
    /// Whether decisions are made by automated means incl. profiling.
    pub automated_decision_making: bool,
    /// The logic involved, its significance and consequences.
    pub automated_decision_logic: Option<String>,
    /// Whether a data protection impact assessment is required.
    pub dpia_required: bool,
    /// Where the DPIA is documented.
    pub dpia_reference: Option<String>,
    /// Its retention policy, if recorded.
    pub retention_policy_id: Option<Uuid>,
    /// When the activity is to be reviewed next.
    pub next_review_on: Option<NaiveDate>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<processing_activity::Model> for ActivityView {
    type Error = Error;
    fn try_from(m: processing_activity::Model) -> Result<Self> {
        Ok(Self {
            status: m.status.parse()?,
            id: m.id,
            name: m.name,
            description: m.description,
            owner: m.owner,
            tom_description: m.tom_description,
            automated_decision_making: m.automated_decision_making,
            automated_decision_logic: m.automated_decision_logic,
            dpia_required: m.dpia_required,
            dpia_reference: m.dpia_reference,
            retention_policy_id: m.retention_policy_id,
            next_review_on: m.next_review_on,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// A system that holds personal data and how Auskunft reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSourceView {
    /// Its id.
    pub id: Uuid,
    /// Name, unique in the organization.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// Responsible team or person.
    pub owner: Option<String>,
    /// Where the data is stored (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// The processor operating the system, if any.
    pub processor_id: Option<Uuid>,
    /// How Auskunft reaches it.
    pub connector_kind: ConnectorKind,
    /// The connector configuration without its secrets.
    pub connector_config: serde_json::Value,
    /// The secrets, sealed; only their names are ever shown (see
    /// [`crate::Workflow::data_source_secret_names`]).
    pub sealed_secrets: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<data_source::Model> for DataSourceView {
    type Error = Error;
    fn try_from(m: data_source::Model) -> Result<Self> {
        Ok(Self {
            connector_kind: m.connector_kind.parse()?,
            id: m.id,
            name: m.name,
            description: m.description,
            owner: m.owner,
            country: m.country,
            processor_id: m.processor_id,
            connector_config: m.connector_config,
            sealed_secrets: m.secrets,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// Where in a data source a category of personal data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFieldView {
    /// Its id.
    pub id: Uuid,
    /// The source.
    pub source_id: Uuid,
    /// `table.column` (SQL), `$...` JSON path (HTTP), or a description (MANUAL).
    pub location: String,
    /// Explanation.
    pub description: Option<String>,
    /// Its data category, if categorized.
    pub data_category_id: Option<Uuid>,
    /// Whether the field can be searched to find a data subject.
    pub identifies_subject: bool,
    /// The identifier kind, for identifying fields.
    pub identity_type: Option<IdentityType>,
    /// The field this one points to.
    pub references_id: Option<Uuid>,
    /// How the field is erased.
    pub erasure_strategy: ErasureStrategy,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<data_field::Model> for DataFieldView {
    type Error = Error;
    fn try_from(m: data_field::Model) -> Result<Self> {
        Ok(Self {
            identity_type: parse_opt(m.identity_type.as_deref())?,
            erasure_strategy: m.erasure_strategy.parse()?,
            id: m.id,
            source_id: m.source_id,
            location: m.location,
            description: m.description,
            data_category_id: m.data_category_id,
            identifies_subject: m.identifies_subject,
            references_id: m.references_id,
            created_at: m.created_at,
            updated_at: m.updated_at,
        })
    }
}

/// A category of personal data, keyed hierarchically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCategoryView {
    /// Its id.
    pub id: Uuid,
    /// Dot-separated key, unique in the organization.
    pub key: String,
    /// Key of the parent category (none at the top level).
    pub parent_key: Option<String>,
    /// Display name.
    pub name: String,
    /// Explanation.
    pub description: Option<String>,
    /// How sensitive the data is.
    pub sensitivity: Sensitivity,
    /// Seeded from the shipped default taxonomy.
    pub is_default: bool,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<data_category::Model> for DataCategoryView {
    /// A stored sensitivity that does not read back (hand-edited data) is shown as
    /// special (Art. 9), the most careful reading, rather than failing the category.
    fn from(m: data_category::Model) -> Self {
        Self {
            sensitivity: sensitivity_of(&m).unwrap_or(Sensitivity::SpecialArt9),
            parent_key: parent_key(&m.key).map(str::to_owned),
            id: m.id,
            key: m.key,
            name: m.name,
            description: m.description,
            is_default: m.is_default,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    fn t() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn field(identity_type: Option<&str>, erasure: &str) -> data_field::Model {
        data_field::Model {
            id: Uuid::from_u128(1),
            org_id: Uuid::from_u128(2),
            source_id: Uuid::from_u128(3),
            location: "customers.email".into(),
            description: None,
            data_category_id: None,
            identifies_subject: identity_type.is_some(),
            identity_type: identity_type.map(Into::into),
            references_id: None,
            erasure_strategy: erasure.into(),
            created_at: t(),
            updated_at: t(),
        }
    }

    #[test]
    fn stored_register_values_are_parsed_once() {
        let f = DataFieldView::try_from(field(Some("EMAIL"), "SET_NULL")).unwrap();
        assert_eq!(f.identity_type, Some(IdentityType::Email));
        assert_eq!(f.erasure_strategy, ErasureStrategy::SetNull);
        let p = PurposeView::try_from(purpose::Model {
            id: Uuid::from_u128(4),
            org_id: Uuid::from_u128(2),
            name: "Invoicing".into(),
            description: None,
            legal_basis: "LEGAL_OBLIGATION".into(),
            legal_reference: Some("§ 147 AO".into()),
            balancing_test: None,
            special_category_condition: None,
            created_at: t(),
            updated_at: t(),
        })
        .unwrap();
        assert_eq!(p.legal_basis, LegalBasis::LegalObligation);
        assert_eq!(p.special_category_condition, None);
    }

    #[test]
    fn categories_know_their_parent_and_read_an_unknown_sensitivity_carefully() {
        let category = |key: &str, sensitivity: &str| data_category::Model {
            id: Uuid::from_u128(7),
            org_id: Uuid::from_u128(2),
            key: key.into(),
            name: key.into(),
            description: None,
            sensitivity: sensitivity.into(),
            is_default: false,
            created_at: t(),
            updated_at: t(),
        };
        let c = DataCategoryView::from(category("contact.email", "ORDINARY"));
        assert_eq!(c.parent_key.as_deref(), Some("contact"));
        assert_eq!(c.sensitivity, Sensitivity::Ordinary);
        let c = DataCategoryView::from(category("health", "secret"));
        assert_eq!(c.parent_key, None);
        assert_eq!(c.sensitivity, Sensitivity::SpecialArt9);
    }

    #[test]
    fn unknown_stored_register_values_are_internal_errors_not_panics() {
        for (what, m) in [
            ("identity type", field(Some("FAX"), "SET_NULL")),
            ("erasure strategy", field(None, "shred")),
        ] {
            let err = DataFieldView::try_from(m).expect_err(what);
            assert_eq!(err.code(), ErrorCode::Internal, "{what}: {err}");
        }
        let err = TransferView::try_from(transfer::Model {
            id: Uuid::from_u128(5),
            org_id: Uuid::from_u128(2),
            recipient_id: Uuid::from_u128(6),
            country: "US".into(),
            safeguard: "TRUST_ME".into(),
            safeguard_description: None,
            created_at: t(),
            updated_at: t(),
        })
        .expect_err("safeguard");
        assert_eq!(err.code(), ErrorCode::Internal);
        let err = RecipientView::try_from(recipient::Model {
            id: Uuid::from_u128(6),
            org_id: Uuid::from_u128(2),
            name: "Cloud".into(),
            kind: "FRIEND".into(),
            country: None,
            description: None,
            contract_reference: None,
            notice_email: None,
            created_at: t(),
            updated_at: t(),
        })
        .expect_err("recipient kind");
        assert_eq!(err.code(), ErrorCode::Internal);
    }
}
