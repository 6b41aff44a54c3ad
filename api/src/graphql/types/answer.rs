//! Output types of the Art. 15 answer: the reviewer's preview, the package frozen at
//! approval, and the letter templates.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, Utc};
use uuid::Uuid;
use workflow::answer as wa;

use crate::error::ApiResult;
use crate::graphql::ids::global_id;

mirror_enum! {
    /// The language of an answer and its letter.
    AnswerLanguage = wa::Language {
        /// German.
        De,
        /// English.
        En,
    }
}

mirror_enum! {
    /// A format of the answer letter.
    LetterFormat = wa::LetterFormat {
        /// HTML, auto-escaped.
        Html,
        /// Plain text; the PDF letter is set from it.
        Text,
    }
}

/// The answer to an access request as it would be sent now (built on request,
/// nothing is stored): for the reviewer before approving.
#[derive(SimpleObject)]
pub struct AnswerPreview {
    /// The language it is written in.
    pub language: AnswerLanguage,
    /// A test request's answer: marked as such in the document and the letter.
    pub is_test: bool,
    /// The answer document (format `auskunft-answer` version 1; its JSON Schema is
    /// `workflow/src/answer/answer.schema.json`): the data by category with its
    /// source, purposes, legal bases, recipients, transfers and retention, and every
    /// Art. 15(1)(a)-(h) and 15(2) item under `information`, present or not
    /// applicable with the reason. Redacted values are left out.
    pub document: async_graphql::Json<serde_json::Value>,
    /// The letter as plain text (what the PDF shows).
    pub letter_text: String,
    /// The letter as HTML.
    pub letter_html: String,
    /// Data categories included as CSV for portability (Art. 20: processed on
    /// consent or contract); null entries stand for values of no mapped category.
    pub portable_categories: Vec<Option<String>>,
}

impl TryFrom<wa::AnswerPreview> for AnswerPreview {
    type Error = workflow::Error;
    fn try_from(p: wa::AnswerPreview) -> Result<Self, Self::Error> {
        let document = serde_json::to_value(&p.answer)
            .map_err(|e| workflow::Error::Internal(format!("answer document: {e}")))?;
        Ok(Self {
            language: p.answer.language.into(),
            is_test: p.answer.is_test,
            portable_categories: p
                .answer
                .categories
                .iter()
                .filter(|c| c.portable)
                .map(|c| c.key.clone())
                .collect(),
            document: async_graphql::Json(document),
            letter_text: p.letter_text,
            letter_html: p.letter_html,
        })
    }
}

/// The answer package frozen when the request was approved: one ZIP with
/// `letter.html`, `letter.txt`, `letter.pdf`, `answer.json`, `data/<category>.csv`
/// per portable category and `manifest.json` (SHA-256 of every other file). It never
/// changes; when a reviewer sends the approved request back, it no longer applies
/// and the next approval freezes a new one.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct AnswerPackage {
    /// Global ID.
    pub id: ID,
    /// SHA-256 (hex) of the ZIP as downloaded: `sha256sum` of the file gives it.
    pub digest: String,
    /// Size of the ZIP in bytes.
    pub size_bytes: i64,
    /// The language of the letter.
    pub language: AnswerLanguage,
    /// Built for a test request: not to be sent.
    pub is_test: bool,
    /// When it was frozen (the approval).
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub uuid: Uuid,
}

#[ComplexObject]
impl AnswerPackage {
    /// A link to download the ZIP, valid for five minutes; `GET` it (no header
    /// needed). The key that asked must still be allowed to read request data then.
    async fn download_url(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let s = crate::graphql::session(ctx)?;
        let (token, _) = s
            .workflow()
            .answer_package_link(s.principal()?, self.uuid)
            .await?;
        let origin = ctx
            .data_opt::<crate::graphql::RequestOrigin>()
            .and_then(|o| o.0.clone())
            .unwrap_or_default();
        Ok(format!("{origin}/answers/{token}"))
    }
}

impl From<wa::AnswerPackageView> for AnswerPackage {
    fn from(v: wa::AnswerPackageView) -> Self {
        Self {
            id: global_id("AnswerPackage", v.id),
            digest: v.digest,
            size_bytes: v.size_bytes,
            language: v.language.into(),
            is_test: v.is_test,
            created_at: v.created_at,
            uuid: v.id,
        }
    }
}

/// A letter template as it applies to the organization: its own, or the built-in
/// one. Templates are minijinja (Jinja2 syntax) and see the answer document at the
/// top level plus `letter.date` and `letter.receivedOn`; blocks are trimmed, HTML is
/// auto-escaped; no other template can be included.
#[derive(SimpleObject)]
pub struct LetterTemplate {
    /// Language.
    pub language: AnswerLanguage,
    /// Format.
    pub format: LetterFormat,
    /// The template source.
    pub body: String,
    /// The organization's own template (false: the built-in one applies).
    pub is_custom: bool,
    /// When the organization's own template was last saved.
    pub updated_at: Option<DateTime<Utc>>,
}

impl From<wa::LetterTemplate> for LetterTemplate {
    fn from(t: wa::LetterTemplate) -> Self {
        Self {
            language: t.language.into(),
            format: t.format.into(),
            body: t.body,
            is_custom: t.is_custom,
            updated_at: t.updated_at,
        }
    }
}
