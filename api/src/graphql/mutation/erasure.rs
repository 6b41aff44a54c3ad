//! Mutations of erasure: Art. 19 notices done by staff.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::error::ApiResult;
use crate::graphql::types::erasure::RecipientNotice;
use crate::graphql::{ids, session};

/// Input of `confirmRecipientNotice`.
#[derive(InputObject, Debug)]
pub struct ConfirmRecipientNoticeInput {
    /// The notice (global ID).
    pub notice_id: ID,
    /// How the recipient was told (letter, phone, the processor's portal ...), at
    /// most 2000 characters.
    pub note: String,
}

/// Result of `confirmRecipientNotice`.
#[derive(SimpleObject)]
pub struct ConfirmRecipientNoticePayload {
    /// The notice, now done.
    pub notice: RecipientNotice,
}

/// Art. 19 notices.
#[derive(Default)]
pub struct ErasureMutation;

#[Object]
impl ErasureMutation {
    /// Confirms that a recipient was told of a request carried out (Art. 19): a
    /// notice for staff, or one whose e-mail failed and was told another way.
    /// CONFLICT when it is done already.
    async fn confirm_recipient_notice(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The notice and how it was done.")] input: ConfirmRecipientNoticeInput,
    ) -> ApiResult<ConfirmRecipientNoticePayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.notice_id, "RecipientNotice", &["input", "noticeId"])?;
        let notice = s
            .workflow()
            .confirm_recipient_notice(s.principal()?, id, input.note)
            .await?;
        Ok(ConfirmRecipientNoticePayload {
            notice: notice.into(),
        })
    }
}
