//! Register types: recipients and third-country transfers.

use super::*;

mirror_enum! {
    /// Who receives personal data.
    RecipientKind = workflow::register::recipients::RecipientKind {
        /// Another department of the controller.
        Internal,
        /// A processor acting on the controller's behalf (Art. 28).
        Processor,
        /// A third party deciding on its own purposes (Art. 4(10)).
        ThirdParty,
        /// A public authority (tax office, police, courts).
        PublicAuthority,
    }
}

mirror_enum! {
    /// The ground on which a transfer to a third country is lawful (Art. 45-49).
    Safeguard = workflow::register::recipients::Safeguard {
        /// Art. 45: an adequacy decision of the Commission.
        AdequacyDecision,
        /// Art. 46(2)(c): standard contractual clauses.
        StandardContractualClauses,
        /// Art. 47: binding corporate rules.
        BindingCorporateRules,
        /// Art. 46(2)(e): an approved code of conduct.
        ApprovedCodeOfConduct,
        /// Art. 46(2)(f): an approved certification mechanism.
        ApprovedCertification,
        /// Art. 49: a derogation for a specific situation, described in
        /// `safeguardDescription`.
        #[graphql(name = "DEROGATION_ART49")]
        DerogationArt49,
    }
}

/// A recipient of personal data (Art. 4(9)): named in answers to data subjects
/// (Art. 15(1)(c)) and in the register (Art. 30(1)(d)).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Recipient {
    /// Global ID.
    pub id: ID,
    /// Name, unique in the organization.
    pub name: String,
    /// Who the recipient is.
    pub kind: RecipientKind,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Explanation.
    pub description: Option<String>,
    /// The contract, e.g. the data processing agreement (Art. 28(3)).
    pub contract_reference: Option<String>,
    /// Where notices of erasure, rectification and restriction go (Art. 19).
    pub notice_email: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: uuid::Uuid,
}

#[async_graphql::ComplexObject]
impl Recipient {
    /// Transfers of data to this recipient in third countries.
    async fn transfers(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Vec<Transfer>> {
        let rows = crate::graphql::loaders::loaders(ctx)?
            .transfers
            .load_one(self.uuid)
            .await?
            .unwrap_or_default();
        Ok(rows.into_iter().map(Transfer::from).collect())
    }
}

impl From<v::RecipientView> for Recipient {
    fn from(v: v::RecipientView) -> Self {
        Self {
            id: global_id("Recipient", v.id),
            uuid: v.id,
            kind: v.kind.into(),
            name: v.name,
            country: v.country,
            description: v.description,
            contract_reference: v.contract_reference,
            notice_email: v.notice_email,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

/// A transfer of personal data to a recipient in a third country, with its safeguard
/// (Art. 15(2), 30(1)(e), 44-49).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct Transfer {
    /// Global ID.
    pub id: ID,
    /// The third country (ISO 3166-1 alpha-2).
    pub country: String,
    /// The ground of the transfer.
    pub safeguard: Safeguard,
    /// Details: the decision, the clauses, or the Art. 49 derogation and why it applies.
    pub safeguard_description: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub recipient_id: uuid::Uuid,
}

#[async_graphql::ComplexObject]
impl Transfer {
    /// The receiving recipient.
    async fn recipient(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Recipient> {
        let row = crate::graphql::loaders::loaders(ctx)?
            .recipient
            .load_one(self.recipient_id)
            .await?
            .ok_or_else(|| {
                crate::error::ApiError::from(workflow::Error::NotFound { what: "recipient" })
            })?;
        Ok(Recipient::from(row))
    }
}

impl From<v::TransferView> for Transfer {
    fn from(v: v::TransferView) -> Self {
        Self {
            id: global_id("Transfer", v.id),
            safeguard: v.safeguard.into(),
            recipient_id: v.recipient_id,
            country: v.country,
            safeguard_description: v.safeguard_description,
            created_at: v.created_at,
            updated_at: v.updated_at,
        }
    }
}

crate::graphql::types::connection::connection!(
    RecipientConnection,
    RecipientEdge,
    Recipient,
    "A page of recipients (Relay cursor connection).",
    "A recipient with its cursor."
);
