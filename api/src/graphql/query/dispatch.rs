//! Queries of dispatch.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::types::dispatch::DispatchProof;
use crate::graphql::{ids, session};

/// The proof of dispatched answers.
#[derive(Default)]
pub struct DispatchQuery;

#[Object]
impl DispatchQuery {
    /// How a request's answer went out and exactly what went out: channel, time,
    /// recipient, SHA-256 digest and the delivery outcome. Null while the request
    /// was not dispatched.
    async fn dispatch_proof(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] request_id: ID,
    ) -> ApiResult<Option<DispatchProof>> {
        let s = session(ctx)?;
        let id = ids::decode(&request_id, "SubjectRequest", &["requestId"])?;
        Ok(s.workflow()
            .dispatch_proof(s.principal()?, id)
            .await?
            .map(Into::into))
    }
}
