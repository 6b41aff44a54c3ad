//! Queries of the Art. 15 answer.

use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::types::answer::{AnswerLanguage, AnswerPreview, LetterTemplate};
use crate::graphql::{ids, session};

/// The answer to access requests.
#[derive(Default)]
pub struct AnswerQuery;

#[Object]
impl AnswerQuery {
    /// The answer of an ACCESS or PORTABILITY request IN_REVIEW or later, built now
    /// with the current register, values, redactions and letter templates (nothing is
    /// stored; the package is frozen at approval). CONFLICT before review.
    async fn answer_preview(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global ID of the request.")] request_id: ID,
        #[graphql(desc = "The letter's language; default: the organization's `answerLanguage`.")]
        language: Option<AnswerLanguage>,
    ) -> ApiResult<AnswerPreview> {
        let s = session(ctx)?;
        let id = ids::decode(&request_id, "SubjectRequest", &["requestId"])?;
        let preview = s
            .workflow()
            .answer_preview(s.principal()?, id, language.map(Into::into))
            .await?;
        Ok(AnswerPreview::try_from(preview)?)
    }

    /// The letter templates that apply: one per language and format, the
    /// organization's own or the built-in one.
    async fn letter_templates(&self, ctx: &Context<'_>) -> ApiResult<Vec<LetterTemplate>> {
        let s = session(ctx)?;
        Ok(s.workflow()
            .letter_templates(s.principal()?)
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}
