//! Register inputs: recipients and third-country transfers.

use super::*;

/// Filters of `recipients`; all given filters must match.
#[derive(InputObject, Debug, Default)]
pub struct RecipientFilter {
    /// Case-insensitive part of the name, matched literally; at most 200 characters without control characters.
    pub search: Option<String>,
    /// Only this kind.
    pub kind: Option<RecipientKind>,
}

/// Input of `createRecipient`.
#[derive(InputObject, Debug)]
pub struct CreateRecipientInput {
    /// Name, unique in the organization (1–200 characters).
    pub name: String,
    /// Who the recipient is.
    pub kind: RecipientKind,
    /// Country of establishment (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// Explanation.
    pub description: Option<String>,
    /// The contract, e.g. the data processing agreement.
    pub contract_reference: Option<String>,
    /// Where notices of erasure, rectification and restriction go (Art. 19). Without
    /// it, such a notice is a task for staff.
    pub notice_email: Option<String>,
}

/// Input of `updateRecipient`: an omitted field stays as it is, `null` clears it.
#[derive(InputObject, Debug)]
pub struct UpdateRecipientInput {
    /// The recipient.
    pub id: ID,
    /// Name.
    pub name: Option<String>,
    /// Who the recipient is.
    pub kind: Option<RecipientKind>,
    /// Country of establishment.
    pub country: MaybeUndefined<String>,
    /// Explanation.
    pub description: MaybeUndefined<String>,
    /// The contract reference.
    pub contract_reference: MaybeUndefined<String>,
    /// Where Art. 19 notices go.
    pub notice_email: MaybeUndefined<String>,
}

/// Result of `createRecipient` and `updateRecipient`.
#[derive(SimpleObject)]
pub struct RecipientPayload {
    /// The recipient after the change.
    pub recipient: Recipient,
}

/// Input of `createTransfer`.
#[derive(InputObject, Debug)]
pub struct CreateTransferInput {
    /// The receiving recipient.
    pub recipient_id: ID,
    /// The third country (ISO 3166-1 alpha-2, outside the EEA).
    pub country: String,
    /// The ground of the transfer.
    pub safeguard: Safeguard,
    /// Details; required for `DEROGATION_ART49`.
    pub safeguard_description: Option<String>,
}

/// Input of `updateTransfer`: an omitted field stays as it is, `null` clears it.
#[derive(InputObject, Debug)]
pub struct UpdateTransferInput {
    /// The transfer.
    pub id: ID,
    /// The third country.
    pub country: Option<String>,
    /// The ground of the transfer.
    pub safeguard: Option<Safeguard>,
    /// Details.
    pub safeguard_description: MaybeUndefined<String>,
}

/// Result of `createTransfer` and `updateTransfer`.
#[derive(SimpleObject)]
pub struct TransferPayload {
    /// The transfer after the change.
    pub transfer: Transfer,
}
