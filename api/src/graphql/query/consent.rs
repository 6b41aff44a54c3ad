//! Queries of the consent ledger: consents with their evidence, campaign checks.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::inputs::consent::ConsentFilter;
use crate::graphql::inputs::requests::IdentityInput;
use crate::graphql::types::consent::{
    Consent, ConsentBulkCheck, ConsentChannel, ConsentCheck, ConsentConnection,
};
use crate::graphql::types::register::IdentityType;
use crate::graphql::{RequestOrigin, ids, session};

/// The consent ledger.
#[derive(Default)]
pub struct ConsentQuery;

fn origin(ctx: &Context<'_>) -> Option<String> {
    ctx.data_opt::<RequestOrigin>().and_then(|o| o.0.clone())
}

#[Object]
impl ConsentQuery {
    /// The organization's consents, oldest first.
    #[allow(clippy::too_many_arguments)]
    async fn consents(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which consents.", default)] filter: ConsentFilter,
        #[graphql(desc = "Items from the front (at most 100).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<ConsentConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let filter = workflow::consent::ConsentFilter {
            identity: filter.identity.map(|i| workflow::consent::ConsentIdentity {
                kind: i.kind.into(),
                value: i.value,
            }),
            purpose_id: filter
                .purpose_id
                .map(|p| ids::decode(&p, "Purpose", &["filter", "purposeId"]))
                .transpose()?,
            channel: filter.channel.map(Into::into),
            state: filter.state.map(Into::into),
        };
        let page = s.workflow().consents(s.principal()?, filter, &page).await?;
        Ok(ConsentConnection::from_page(
            page,
            |c| c.id.to_string(),
            Consent::from,
        ))
    }

    /// May a campaign for this purpose on this channel address this person? The
    /// answer, the reason when not, the consent behind it and, when allowed, the
    /// person's unsubscribe link.
    async fn consent_check(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The purpose of the register (global ID).")] purpose_id: ID,
        #[graphql(desc = "The campaign's channel.")] channel: ConsentChannel,
        #[graphql(desc = "The person, by an identity of the channel's kind.")]
        identity: IdentityInput,
    ) -> ApiResult<ConsentCheck> {
        let s = session(ctx)?;
        let purpose = ids::decode(&purpose_id, "Purpose", &["purposeId"])?;
        let check = s
            .workflow()
            .consent_check(
                s.principal()?,
                purpose,
                channel.into(),
                identity.kind.into(),
                identity.value,
            )
            .await?;
        let unsubscribe_url = match (&check.consent, check.allowed) {
            (Some(c), true) => s
                .workflow()
                .unsubscribe_urls(&[c.id], origin(ctx).as_deref())
                .ok()
                .and_then(|mut u| u.pop()),
            _ => None,
        };
        Ok(ConsentCheck {
            allowed: check.allowed,
            reason: check.reason.map(Into::into),
            consent: check.consent.map(Into::into),
            unsubscribe_url,
        })
    }

    /// Checks a campaign's list (at most 100,000 identities of one kind): the
    /// allowed subset, and every other identity grouped by the reason it is left
    /// out. Values that are not identities of the kind are left out as
    /// INVALID_IDENTITY; each value is compared in its canonical spelling and
    /// returned as given.
    async fn consent_check_bulk(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The purpose of the register (global ID).")] purpose_id: ID,
        #[graphql(desc = "The campaign's channel.")] channel: ConsentChannel,
        #[graphql(desc = "The kind of the identities (default: the channel's kind).")]
        identity_type: Option<IdentityType>,
        #[graphql(desc = "The identities, as the campaign list holds them.")] identities: Vec<
            String,
        >,
    ) -> ApiResult<ConsentBulkCheck> {
        let s = session(ctx)?;
        let purpose = ids::decode(&purpose_id, "Purpose", &["purposeId"])?;
        let check = s
            .workflow()
            .consent_check_bulk(
                s.principal()?,
                purpose,
                channel.into(),
                identity_type.map(Into::into),
                identities,
            )
            .await?;
        Ok(ConsentBulkCheck::new(check, origin(ctx)))
    }
}
