//! The answer letter: minijinja templates in German and English, as HTML and plain
//! text, built in and overridable per organization (table `letter_template`).
//!
//! Templates see the answer document (`answer.schema.json`) at the top level plus
//! `letter.date` and `letter.receivedOn` (formatted in the letter's language). HTML
//! is auto-escaped. Blocks are trimmed (`trim_blocks`, `lstrip_blocks`).
//!
//! A template is untrusted input (an administrator or DPO writes it, but it runs on
//! the server with personal data): it has no loader (no `include`, `import` or
//! `extends` of anything), a fuel limit bounds the instructions it may execute, its
//! source and output are bounded in size, and it is checked on save by rendering a
//! sample answer.

use std::io::Write;

use chrono::NaiveDate;
use minijinja::{Environment, UndefinedBehavior, Value};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use entity::letter_template;

use super::Language;
use super::model::Answer;
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::store::Conn;
use crate::error::{Error, Result};
use crate::{Action, Object, Workflow, new_id, now};

stored_enum! {
    /// A format of the letter.
    LetterFormat {
        /// HTML (auto-escaped).
        Html => "HTML",
        /// Plain text (also the source of the PDF).
        Text => "TEXT",
    }
}

/// Largest template source accepted, in characters.
pub const MAX_TEMPLATE_CHARS: usize = 100_000;
/// Largest rendered letter, in bytes.
pub const MAX_LETTER_BYTES: usize = 4 * 1024 * 1024;
/// Instructions a template may execute for one letter. The built-in letters need
/// a few thousand for an answer with a hundred values; this leaves room for
/// thousands of values and stops loops that would run for minutes.
pub const TEMPLATE_FUEL: u64 = 2_000_000;

/// The built-in template of `language` in `format`.
pub fn builtin(language: Language, format: LetterFormat) -> &'static str {
    match (language, format) {
        (Language::De, LetterFormat::Html) => include_str!("templates/letter.de.html"),
        (Language::De, LetterFormat::Text) => include_str!("templates/letter.de.txt"),
        (Language::En, LetterFormat::Html) => include_str!("templates/letter.en.html"),
        (Language::En, LetterFormat::Text) => include_str!("templates/letter.en.txt"),
    }
}

/// A letter template as it applies to an organization.
#[derive(Debug, Clone)]
pub struct LetterTemplate {
    /// Language.
    pub language: Language,
    /// Format.
    pub format: LetterFormat,
    /// The template source.
    pub body: String,
    /// The organization's own (false: the built-in one).
    pub is_custom: bool,
    /// When the organization's own was last saved.
    pub updated_at: Option<chrono::DateTime<chrono::Utc>>,
}

const MONTHS_DE: [&str; 12] = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
];
const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date as written in a letter.
pub fn format_date(date: NaiveDate, language: Language) -> String {
    use chrono::Datelike;
    let month = date.month0() as usize;
    match language {
        Language::De => format!("{}. {} {}", date.day(), MONTHS_DE[month], date.year()),
        Language::En => format!("{} {} {}", date.day(), MONTHS_EN[month], date.year()),
    }
}

/// Why a template could not be rendered.
#[derive(Debug)]
pub(crate) struct RenderError(pub String);

/// A writer that refuses to grow past [`MAX_LETTER_BYTES`].
struct Capped(Vec<u8>);

impl Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > MAX_LETTER_BYTES {
            return Err(std::io::Error::other(format!(
                "the letter would be larger than {} MiB",
                MAX_LETTER_BYTES / 1024 / 1024
            )));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What a template sees: the answer plus the letter's formatted dates.
fn context(answer: &Answer) -> Value {
    let mut doc = serde_json::to_value(answer).unwrap_or_default();
    if let Some(map) = doc.as_object_mut() {
        map.insert(
            "letter".into(),
            serde_json::json!({
                "date": format_date(answer.generated_on, answer.language),
                "receivedOn": format_date(answer.request.received_on, answer.language),
            }),
        );
    }
    Value::from(minijinja::value::Serde(doc))
}

/// Renders `source` as a letter in `format` for `answer`.
pub(crate) fn render(
    source: &str,
    format: LetterFormat,
    answer: &Answer,
) -> std::result::Result<String, RenderError> {
    if source.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(RenderError(format!(
            "the template is longer than {MAX_TEMPLATE_CHARS} characters"
        )));
    }
    let mut env = Environment::new();
    // The name decides auto-escaping: HTML is escaped, text is not.
    let name = match format {
        LetterFormat::Html => "letter.html",
        LetterFormat::Text => "letter.txt",
    };
    env.set_syntax(
        minijinja::syntax::SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()
            .map_err(|e| RenderError(e.to_string()))?,
    );
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(50);
    env.add_template(name, source)
        .map_err(|e| RenderError(describe(&e)))?;
    let template = env
        .get_template(name)
        .map_err(|e| RenderError(describe(&e)))?;
    let mut out = Capped(Vec::new());
    template
        .render_captured_to(context(answer), &mut out)
        .map_err(|e| RenderError(describe(&e)))?;
    String::from_utf8(out.0).map_err(|_| RenderError("the letter is not UTF-8".into()))
}

/// The error with its position, without the template's text around it.
fn describe(e: &minijinja::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    message
}

/// Checks a template on save: it compiles and renders the sample answer.
pub(crate) fn validate(body: &str, language: Language, format: LetterFormat) -> Result<()> {
    let path = ["input", "body"];
    if body.trim().is_empty() {
        return Err(Error::invalid(&path, "must not be empty"));
    }
    let sample = super::sample::answer(language, true);
    render(body, format, &sample)
        .map(|_| ())
        .map_err(|e| Error::invalid(&path, format!("the template does not render: {}", e.0)))
}

/// The organization's template of `language` in `format`, or the built-in one.
pub(crate) async fn template_for<C: Conn>(
    conn: &C,
    org_id: Uuid,
    language: Language,
    format: LetterFormat,
) -> Result<String> {
    Ok(letter_template::Entity::find()
        .filter(letter_template::Column::OrgId.eq(org_id))
        .filter(letter_template::Column::Language.eq(language.as_str()))
        .filter(letter_template::Column::Format.eq(format.as_str()))
        .one(conn)
        .await?
        .map_or_else(|| builtin(language, format).to_owned(), |t| t.body))
}

/// The letter of `answer` in `format` with the organization's template.
pub(crate) async fn letter<C: Conn>(
    conn: &C,
    org_id: Uuid,
    answer: &Answer,
    format: LetterFormat,
) -> Result<String> {
    let source = template_for(conn, org_id, answer.language, format).await?;
    render(&source, format, answer).map_err(|e| {
        // Saved templates rendered the sample; a real answer can still exhaust the
        // fuel or the size limit (thousands of values).
        Error::Conflict(format!(
            "the organization's {} letter template ({}) cannot render this answer: {}; fix or reset it",
            format.as_str(),
            answer.language.as_str(),
            e.0
        ))
    })
}

impl Workflow {
    /// The letter templates that apply to the organization: one per language and
    /// format, its own or the built-in one.
    pub async fn letter_templates(&self, principal: &Principal) -> Result<Vec<LetterTemplate>> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Organization,
                Action::Read,
            )
            .await?;
        let own = letter_template::Entity::find()
            .filter(letter_template::Column::OrgId.eq(principal.org_id))
            .all(self.store.conn())
            .await?;
        let mut out = Vec::new();
        for language in Language::ALL {
            for format in LetterFormat::ALL {
                let custom = own
                    .iter()
                    .find(|t| t.language == language.as_str() && t.format == format.as_str());
                out.push(LetterTemplate {
                    language: *language,
                    format: *format,
                    body: custom.map_or_else(
                        || builtin(*language, *format).to_owned(),
                        |t| t.body.clone(),
                    ),
                    is_custom: custom.is_some(),
                    updated_at: custom.map(|t| t.updated_at),
                });
            }
        }
        Ok(out)
    }

    /// Saves the organization's own letter template (replacing an earlier one) after
    /// checking that it compiles and renders a sample answer; VALIDATION otherwise.
    #[tracing::instrument(skip(self, body), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn set_letter_template(
        &self,
        principal: &Principal,
        language: Language,
        format: LetterFormat,
        body: String,
    ) -> Result<LetterTemplate> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Organization,
                Action::Update,
            )
            .await?;
        let body = body.replace("\r\n", "\n");
        if body.chars().count() > MAX_TEMPLATE_CHARS {
            return Err(Error::invalid(
                &["input", "body"],
                format!("must be at most {MAX_TEMPLATE_CHARS} characters"),
            ));
        }
        // Rendering is CPU work bounded by the fuel; keep it off the async workers.
        let checked = body.clone();
        tokio::task::spawn_blocking(move || validate(&checked, language, format))
            .await
            .map_err(|e| Error::Internal(format!("template check failed: {e}")))??;
        let tx = self.store.begin().await?;
        let at = now();
        let existing = letter_template::Entity::find()
            .filter(letter_template::Column::OrgId.eq(principal.org_id))
            .filter(letter_template::Column::Language.eq(language.as_str()))
            .filter(letter_template::Column::Format.eq(format.as_str()))
            .one(tx.conn())
            .await?;
        let saved = match existing {
            Some(row) => {
                let mut active: letter_template::ActiveModel = row.into();
                active.body = Set(body);
                active.updated_by = Set(Some(principal.key_id));
                active.updated_at = Set(at);
                active.update(tx.conn()).await?
            }
            None => {
                letter_template::ActiveModel {
                    id: Set(new_id()),
                    org_id: Set(principal.org_id),
                    language: Set(language.as_str().to_owned()),
                    format: Set(format.as_str().to_owned()),
                    body: Set(body),
                    updated_by: Set(Some(principal.key_id)),
                    updated_at: Set(at),
                }
                .insert(tx.conn())
                .await?
            }
        };
        let entry = Entry::success("setLetterTemplate", "LetterTemplate", saved.id).after(
            serde_json::json!({"language": saved.language, "format": saved.format,
                               "chars": saved.body.chars().count()}),
        );
        self.commit_audited(tx, principal, entry).await?;
        Ok(LetterTemplate {
            language,
            format,
            body: saved.body,
            is_custom: true,
            updated_at: Some(saved.updated_at),
        })
    }

    /// Drops the organization's own template: the built-in one applies again.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn reset_letter_template(
        &self,
        principal: &Principal,
        language: Language,
        format: LetterFormat,
    ) -> Result<LetterTemplate> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Organization,
                Action::Update,
            )
            .await?;
        let tx = self.store.begin().await?;
        let existing = letter_template::Entity::find()
            .filter(letter_template::Column::OrgId.eq(principal.org_id))
            .filter(letter_template::Column::Language.eq(language.as_str()))
            .filter(letter_template::Column::Format.eq(format.as_str()))
            .one(tx.conn())
            .await?;
        let builtin = LetterTemplate {
            language,
            format,
            body: builtin(language, format).to_owned(),
            is_custom: false,
            updated_at: None,
        };
        let Some(row) = existing else {
            return Ok(builtin);
        };
        letter_template::Entity::delete_by_id(row.id)
            .exec(tx.conn())
            .await?;
        let entry = Entry::success("resetLetterTemplate", "LetterTemplate", row.id)
            .before(serde_json::json!({"language": row.language, "format": row.format}));
        self.commit_audited(tx, principal, entry).await?;
        Ok(builtin)
    }
}
