//! Mutations of the answer letter templates.

use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::inputs::answer::{
    LetterTemplatePayload, ResetLetterTemplateInput, SetLetterTemplateInput,
};
use crate::graphql::session;

/// The organization's own letter templates.
#[derive(Default)]
pub struct AnswerMutation;

#[Object]
impl AnswerMutation {
    /// Saves the organization's own template of a letter (language and format),
    /// replacing the built-in one; checked first by rendering a sample answer.
    async fn set_letter_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language, format and template source.")] input: SetLetterTemplateInput,
    ) -> ApiResult<LetterTemplatePayload> {
        let s = session(ctx)?;
        let template = s
            .workflow()
            .set_letter_template(
                s.principal()?,
                input.language.into(),
                input.format.into(),
                input.body,
            )
            .await?;
        Ok(LetterTemplatePayload {
            template: template.into(),
        })
    }

    /// Drops the organization's own template of a letter: the built-in one applies.
    async fn reset_letter_template(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Language and format.")] input: ResetLetterTemplateInput,
    ) -> ApiResult<LetterTemplatePayload> {
        let s = session(ctx)?;
        let template = s
            .workflow()
            .reset_letter_template(s.principal()?, input.language.into(), input.format.into())
            .await?;
        Ok(LetterTemplatePayload {
            template: template.into(),
        })
    }
}
