//! Queries of erasure: the report, and the suppression list.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::inputs::requests::IdentityInput;
use crate::graphql::types::erasure::{ErasureReport, RecipientNotice, SuppressionMatch};
use crate::graphql::{ids, session};

/// Erasure reports and the suppression list.
#[derive(Default)]
pub struct ErasureQuery;

#[Object]
impl ErasureQuery {
    /// What an erasure request did in each source: per field, erased, anonymized,
    /// retained under a legal hold (ground and end) or failed. Empty before the
    /// request was carried out.
    async fn erasure_report(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] request_id: ID,
    ) -> ApiResult<ErasureReport> {
        let s = session(ctx)?;
        let id = ids::decode(&request_id, "SubjectRequest", &["requestId"])?;
        Ok(s.workflow()
            .erasure_report(s.principal()?, id)
            .await?
            .into())
    }

    /// The Art. 19 notices of a request carried out: each recipient of the register
    /// that received the subject's data, how it is told (e-mail or staff) and
    /// whether that is done. Made at dispatch; empty before.
    async fn recipient_notices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] request_id: ID,
    ) -> ApiResult<Vec<RecipientNotice>> {
        let s = session(ctx)?;
        let id = ids::decode(&request_id, "SubjectRequest", &["requestId"])?;
        Ok(s.workflow()
            .recipient_notices(s.principal()?, id)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Checks identities against the suppression list before an import or CRM sync:
    /// for each, whether it belongs to a person erased on request (then do not bring
    /// the person back). Values are compared in their canonical spelling; the list
    /// holds only keyed fingerprints. At most 1000 per call, answered in order.
    async fn suppression_check(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The identities to check (kind and value, as for a request).")]
        identities: Vec<IdentityInput>,
    ) -> ApiResult<Vec<SuppressionMatch>> {
        let s = session(ctx)?;
        let identities = identities
            .into_iter()
            .map(|i| (i.kind.into(), i.value))
            .collect();
        Ok(s.workflow()
            .suppression_check(s.principal()?, identities)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
