//! Inputs and payloads of the consent ledger.

use async_graphql::{ID, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use workflow::consent as wc;

use crate::graphql::inputs::requests::IdentityInput;
use crate::graphql::types::consent::{Consent, ConsentChannel, ConsentState};

/// Evidence of a consent step: what proves it later (Art. 7(1) GDPR).
#[derive(InputObject, Debug, Default)]
pub struct ConsentEvidenceInput {
    /// Where it came from: the form, the call centre, the shop's checkout (at most
    /// 200 characters). Required for `recordConsent`, `requestConsent` and
    /// `withdrawConsent`.
    pub source: Option<String>,
    /// The version of the consent text shown to the person (at most 100
    /// characters).
    pub text_version: Option<String>,
    /// When the person acted (not in the future); now when left out.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The person's IP address (IPv4 or IPv6).
    pub ip: Option<String>,
    /// The person's user agent (at most 500 characters).
    pub user_agent: Option<String>,
}

impl From<ConsentEvidenceInput> for wc::Evidence {
    fn from(e: ConsentEvidenceInput) -> Self {
        Self {
            source: e.source,
            text_version: e.text_version,
            occurred_at: e.occurred_at,
            ip: e.ip,
            user_agent: e.user_agent,
        }
    }
}

/// A consent given, refused or withdrawn outside Auskunft.
#[derive(InputObject, Debug)]
pub struct RecordConsentInput {
    /// The purpose of the register (global ID).
    pub purpose_id: ID,
    /// The channel.
    pub channel: ConsentChannel,
    /// The person, by an identity of the channel's kind (EMAIL for EMAIL, PHONE for
    /// PHONE and SMS, POSTAL_ADDRESS for POST; any for STORAGE).
    pub identity: IdentityInput,
    /// GRANTED, DENIED or WITHDRAWN (PENDING comes only from `requestConsent`).
    pub state: ConsentState,
    /// What proves it.
    pub evidence: ConsentEvidenceInput,
}

/// A double opt-in to start.
#[derive(InputObject, Debug)]
pub struct RequestConsentInput {
    /// The purpose of the register (global ID).
    pub purpose_id: ID,
    /// EMAIL or STORAGE (the link proves the e-mail address).
    #[graphql(default_with = "ConsentChannel::Email")]
    pub channel: ConsentChannel,
    /// The address the confirmation link goes to.
    pub email: String,
    /// How many days the link works (1 to 30, default 7).
    pub expires_in_days: Option<i32>,
    /// What the person did (the sign-up form, text version, IP address, user
    /// agent).
    pub evidence: ConsentEvidenceInput,
}

/// A double opt-in confirmed on the integrator's own page.
#[derive(InputObject, Debug)]
pub struct ConfirmConsentInput {
    /// The token from the confirmation link (its last path segment).
    pub token: String,
    /// The person's IP address and user agent on the confirming page (the source
    /// is recorded by Auskunft).
    #[graphql(default)]
    pub evidence: ConsentEvidenceInput,
}

/// A consent to withdraw.
#[derive(InputObject, Debug)]
pub struct WithdrawConsentInput {
    /// The purpose of the register (global ID).
    pub purpose_id: ID,
    /// The channel.
    pub channel: ConsentChannel,
    /// The person, by any of their identities.
    pub identity: IdentityInput,
    /// What proves it.
    pub evidence: ConsentEvidenceInput,
}

/// Consents in a CSV file.
#[derive(InputObject, Debug)]
pub struct ImportConsentsInput {
    /// The file's text (UTF-8, at most 5 MiB and 10,000 rows; `,` or `;`
    /// separated). The first line names the columns, in any order: `identity`,
    /// `purpose` (name or global ID), `channel`, `state` (GRANTED, DENIED or
    /// WITHDRAWN) are required; `identity_type` (default: the channel's kind),
    /// `occurred_at` (RFC 3339), `source` (default "CSV import"), `text_version`,
    /// `ip` and `user_agent` are optional. Errors name the line (the header is
    /// line 1) and the column: `input.csv.<line>.<column>`.
    pub csv: String,
    /// Check and count only, write nothing.
    #[graphql(default)]
    pub dry_run: bool,
}

/// Which consents to list; all conditions must hold.
#[derive(InputObject, Debug, Default)]
pub struct ConsentFilter {
    /// Only this person's (found by any of their identities).
    pub identity: Option<IdentityInput>,
    /// Only this purpose (global ID).
    pub purpose_id: Option<ID>,
    /// Only this channel.
    pub channel: Option<ConsentChannel>,
    /// Only in this state.
    pub state: Option<ConsentState>,
}

/// The consent after a change.
#[derive(SimpleObject)]
pub struct ConsentPayload {
    /// The consent.
    pub consent: Consent,
}
