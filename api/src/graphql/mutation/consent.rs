//! Mutations of the consent ledger.

use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::inputs::consent::{
    ConfirmConsentInput, ConsentPayload, ImportConsentsInput, RecordConsentInput,
    RequestConsentInput, WithdrawConsentInput,
};
use crate::graphql::types::consent::ImportConsentsPayload;
use crate::graphql::{RequestOrigin, ids, session};

/// Recording, asking, confirming, withdrawing and importing consents.
#[derive(Default)]
pub struct ConsentMutation;

#[Object]
impl ConsentMutation {
    /// Records a consent given, refused or withdrawn outside Auskunft (a signed form,
    /// a call), with its evidence. CONFLICT for GRANTED when the identity belongs to
    /// a person erased on request: only their own double opt-in brings them back.
    async fn record_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The consent and its evidence.")] input: RecordConsentInput,
    ) -> ApiResult<ConsentPayload> {
        let s = session(ctx)?;
        let purpose_id = ids::decode(&input.purpose_id, "Purpose", &["input", "purposeId"])?;
        let consent = s
            .workflow()
            .record_consent(
                s.principal()?,
                workflow::consent::RecordConsent {
                    purpose_id,
                    channel: input.channel.into(),
                    identity: workflow::consent::ConsentIdentity {
                        kind: input.identity.kind.into(),
                        value: input.identity.value,
                    },
                    state: input.state.into(),
                    evidence: input.evidence.into(),
                },
            )
            .await?;
        Ok(ConsentPayload {
            consent: consent.into(),
        })
    }

    /// Starts a double opt-in: the consent becomes PENDING and a confirmation link
    /// (`<public_url>/consent/confirm/<token>`) is mailed to the address; it is
    /// GRANTED only when the person confirms. The token is never returned. CONFLICT
    /// when the consent is granted already, when a link went out less than a
    /// minute ago, or when the server does not know its public address.
    async fn request_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to ask, and of whom.")] input: RequestConsentInput,
    ) -> ApiResult<ConsentPayload> {
        let s = session(ctx)?;
        let purpose_id = ids::decode(&input.purpose_id, "Purpose", &["input", "purposeId"])?;
        let origin = ctx.data_opt::<RequestOrigin>().and_then(|o| o.0.clone());
        let days = match input.expires_in_days {
            Some(d) => Some(u32::try_from(d).map_err(|_| {
                crate::error::ApiError::invalid(
                    &["input", "expiresInDays"],
                    "must be between 1 and 30",
                )
            })?),
            None => None,
        };
        let consent = s
            .workflow()
            .request_consent(
                s.principal()?,
                workflow::consent::RequestConsent {
                    purpose_id,
                    channel: input.channel.into(),
                    email: input.email,
                    expires_in_days: days,
                    evidence: input.evidence.into(),
                },
                origin.as_deref(),
            )
            .await?;
        Ok(ConsentPayload {
            consent: consent.into(),
        })
    }

    /// Confirms a double opt-in on the integrator's own page, with the token of the
    /// link the person followed. Confirming twice changes nothing. NOT_FOUND for an
    /// unknown token (or one of another organization, or of a consent withdrawn
    /// since); CONFLICT when the link has expired.
    async fn confirm_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The token and the person's evidence.")] input: ConfirmConsentInput,
    ) -> ApiResult<ConsentPayload> {
        let s = session(ctx)?;
        let mut evidence: workflow::consent::Evidence = input.evidence.into();
        evidence.source = None;
        let (consent, _) = s
            .workflow()
            .confirm_consent(Some(s.principal()?), &input.token, evidence)
            .await?;
        Ok(ConsentPayload {
            consent: consent.into(),
        })
    }

    /// Withdraws a consent. One already withdrawn or denied stays as it is;
    /// NOT_FOUND when none is recorded for the person.
    async fn withdraw_consent(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which consent, and the evidence.")] input: WithdrawConsentInput,
    ) -> ApiResult<ConsentPayload> {
        let s = session(ctx)?;
        let purpose_id = ids::decode(&input.purpose_id, "Purpose", &["input", "purposeId"])?;
        let consent = s
            .workflow()
            .withdraw_consent(
                s.principal()?,
                purpose_id,
                input.channel.into(),
                workflow::consent::ConsentIdentity {
                    kind: input.identity.kind.into(),
                    value: input.identity.value,
                },
                input.evidence.into(),
            )
            .await?;
        Ok(ConsentPayload {
            consent: consent.into(),
        })
    }

    /// Imports consents from CSV, all or nothing: VALIDATION with an error per bad
    /// cell (`input.csv.<line>.<column>`) and nothing written, or every row applied
    /// in one transaction. GRANTED rows for people erased on request are refused.
    async fn import_consents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The file, and whether to only check it.")] input: ImportConsentsInput,
    ) -> ApiResult<ImportConsentsPayload> {
        let s = session(ctx)?;
        Ok(s.workflow()
            .import_consents(s.principal()?, &input.csv, input.dry_run)
            .await?
            .into())
    }
}
