//! Mutations of dispatch.

use async_graphql::{Context, Object};
use workflow::dispatch::DispatchInput;

use crate::error::ApiResult;
use crate::graphql::inputs::dispatch::{
    DispatchRequestInput, DispatchRequestPayload, RevokeDownloadLinkInput,
    RevokeDownloadLinkPayload,
};
use crate::graphql::{RequestOrigin, ids, session};

/// Sending answers.
#[derive(Default)]
pub struct DispatchMutation;

#[Object]
impl DispatchMutation {
    /// Sends the answer of an APPROVED request (or of an EXECUTING one whose
    /// execution is done) and records the proof, in one transaction: by e-mail
    /// through the outbox with an expiring download link, by post as recorded by
    /// the agent, or through the portal. The request is DISPATCHED and its content
    /// final.
    async fn dispatch_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Channel and its details; see the input type.")]
        input: DispatchRequestInput,
    ) -> ApiResult<DispatchRequestPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.request_id, "SubjectRequest", &["input", "requestId"])?;
        let origin = ctx.data_opt::<RequestOrigin>().and_then(|o| o.0.clone());
        let done = s
            .workflow()
            .dispatch(
                s.principal()?,
                DispatchInput {
                    request_id: id,
                    version: input.version,
                    channel: input.channel.into(),
                    recipient: input.recipient,
                    attach_package: input.attach_package,
                    sent_on: input.sent_on,
                    tracking_reference: input.tracking_reference,
                    origin,
                },
            )
            .await?;
        Ok(DispatchRequestPayload {
            request: done.request.into(),
            proof: done.proof.into(),
            download_url: done.download_url,
        })
    }

    /// Withdraws the subject's download link of a dispatched request (e.g. it went
    /// to a wrong address): downloads fail from then on. CONFLICT when there is no
    /// link or it was withdrawn already.
    async fn revoke_download_link(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The request.")] input: RevokeDownloadLinkInput,
    ) -> ApiResult<RevokeDownloadLinkPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.request_id, "SubjectRequest", &["input", "requestId"])?;
        let proof = s
            .workflow()
            .revoke_download_link(s.principal()?, id)
            .await?;
        Ok(RevokeDownloadLinkPayload {
            proof: proof.into(),
        })
    }
}
