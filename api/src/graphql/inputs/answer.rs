//! Inputs and payloads of the answer letter templates.

use async_graphql::{InputObject, SimpleObject};

use crate::graphql::types::answer::{AnswerLanguage, LetterFormat, LetterTemplate};

/// Input of `setLetterTemplate`.
#[derive(InputObject, Debug)]
pub struct SetLetterTemplateInput {
    /// The letter's language.
    pub language: AnswerLanguage,
    /// The letter's format.
    pub format: LetterFormat,
    /// The minijinja template (at most 100,000 characters). It must compile and
    /// render a sample answer within the limits, or the save fails with VALIDATION
    /// at `input.body`.
    pub body: String,
}

/// Input of `resetLetterTemplate`.
#[derive(InputObject, Debug)]
pub struct ResetLetterTemplateInput {
    /// The letter's language.
    pub language: AnswerLanguage,
    /// The letter's format.
    pub format: LetterFormat,
}

/// Result of `setLetterTemplate` and `resetLetterTemplate`.
#[derive(SimpleObject)]
pub struct LetterTemplatePayload {
    /// The template that applies now.
    pub template: LetterTemplate,
}
