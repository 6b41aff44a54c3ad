//! The answer to an access request (Art. 15) with the portable copy (Art. 20).
//!
//! Built from the register and the collected values, redactions applied: for each
//! data category found, the data with its source, the purposes and legal bases,
//! recipients, third-country transfers with safeguards, retention; then the rights,
//! the right to complain, automated decision-making. Every item of Art. 15(1)(a)-(h)
//! and 15(2) is present or stated as not applicable, with the reason.
//!
//! Formats: the answer document (JSON, `answer.schema.json`), one CSV per portable
//! category, a letter in German or English (HTML, text, PDF) from templates the
//! organization may override, and one ZIP package with a manifest of SHA-256
//! digests. Reviewers preview the answer; at approval the package is frozen in the
//! approval's transaction and never changes afterwards.

mod assemble;
pub mod letter;
pub mod model;
pub mod package;
mod pdf;
mod sample;
pub(crate) mod texts;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde::{Serialize, Serializer};
use uuid::Uuid;

use entity::{
    answer_package, collected_record, data_category, data_source, organization, subject_identity,
    subject_request,
};

pub use letter::{LetterFormat, LetterTemplate};
pub use model::Answer;
pub use package::{Manifest, ManifestFile, Package};

use crate::access::principal::Principal;
use crate::core::store::Conn;
use crate::error::{Error, Result};
use crate::requests::{RequestKind, RequestState};
use crate::{Action, Object, Workflow, new_id, now};

/// The JSON Schema of the answer document.
pub const ANSWER_SCHEMA: &str = include_str!("answer.schema.json");

stored_enum! {
    /// The language of an answer.
    Language {
        /// German.
        De => "de",
        /// English.
        En => "en",
    }
}

impl Serialize for Language {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// An answer package frozen at approval, without its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerPackageView {
    /// Its id.
    pub id: Uuid,
    /// The request it answers.
    pub request_id: Uuid,
    /// SHA-256 (hex) of the ZIP bytes.
    pub digest: String,
    /// Size of the ZIP in bytes.
    pub size_bytes: i64,
    /// The language of the letter.
    pub language: Language,
    /// Built for a test request.
    pub is_test: bool,
    /// When it was frozen (the approval).
    pub created_at: DateTime<Utc>,
}

impl TryFrom<answer_package::Model> for AnswerPackageView {
    type Error = Error;
    fn try_from(m: answer_package::Model) -> Result<Self> {
        Ok(Self {
            language: m.language.parse()?,
            id: m.id,
            request_id: m.request_id,
            digest: m.digest,
            size_bytes: m.size_bytes,
            is_test: m.is_test,
            created_at: m.created_at,
        })
    }
}

/// What a reviewer sees before deciding: the answer as it would be sent now.
#[derive(Debug, Clone)]
pub struct AnswerPreview {
    /// The answer document.
    pub answer: Answer,
    /// The letter as plain text.
    pub letter_text: String,
    /// The letter as HTML.
    pub letter_html: String,
}

/// A frozen package, opened.
#[derive(Debug, Clone)]
pub struct PackageFile {
    /// File name to offer.
    pub file_name: String,
    /// The ZIP.
    pub bytes: Vec<u8>,
}

/// Request kinds whose approval produces an answer package.
pub(crate) fn answers(kind: RequestKind) -> bool {
    matches!(kind, RequestKind::Access | RequestKind::Portability)
}

/// The language of an organization's answers when none is asked for.
pub fn default_language(org: &organization::Model) -> Language {
    org.answer_language
        .as_deref()
        .and_then(|l| l.parse().ok())
        .unwrap_or(Language::De)
}

impl Workflow {
    /// Reads everything the answer of `request` is built from and builds it.
    async fn build_answer<C: Conn>(
        &self,
        conn: &C,
        request: &subject_request::Model,
        language: Option<Language>,
        at: DateTime<Utc>,
    ) -> Result<Answer> {
        let org_id = request.org_id;
        let org = organization::Entity::find_by_id(org_id)
            .one(conn)
            .await?
            .ok_or(Error::NotFound {
                what: "organization",
            })?;
        let language = language.unwrap_or_else(|| default_language(&org));
        let clock = crate::requests::load_settings(conn, org_id).await?.clock();
        let register = crate::register::export::load(conn, org_id).await?;
        let identities = crate::requests::identities_of(org_id, request.id)
            .order_by_asc(subject_identity::Column::CreatedAt)
            .all(conn)
            .await?
            .into_iter()
            .map(|i| model::Identity {
                kind: i.kind,
                value: i.value_as_given,
                verified: i.verified_at.is_some(),
            })
            .collect();
        let records = collected_record::Entity::find()
            .filter(collected_record::Column::OrgId.eq(org_id))
            .filter(collected_record::Column::RequestId.eq(request.id))
            .order_by_asc(collected_record::Column::Id)
            .all(conn)
            .await?;
        let redacted: HashSet<Uuid> =
            crate::collection::leaks::redacted_records(conn, request.id).await?;
        let category_keys: HashMap<Uuid, String> = data_category::Entity::find()
            .select_only()
            .column(data_category::Column::Id)
            .column(data_category::Column::Key)
            .filter(data_category::Column::OrgId.eq(org_id))
            .into_tuple()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        let source_names: HashMap<Uuid, String> = data_source::Entity::find()
            .select_only()
            .column(data_source::Column::Id)
            .column(data_source::Column::Name)
            .filter(data_source::Column::OrgId.eq(org_id))
            .into_tuple()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        let mut withheld = 0;
        let mut found = Vec::with_capacity(records.len());
        for r in records {
            if redacted.contains(&r.id) {
                withheld += 1;
                continue;
            }
            found.push(assemble::Found {
                category: r
                    .data_category_id
                    .and_then(|id| category_keys.get(&id).cloned()),
                source: source_names
                    .get(&r.source_id)
                    .cloned()
                    .unwrap_or_else(|| r.source_id.to_string()),
                value: self.open_value(&r)?,
                record_key: r.record_key,
                location: r.location,
            });
        }
        Ok(assemble::assemble(assemble::Inputs {
            language,
            is_test: request.is_test,
            generated_at: at,
            generated_on: clock.date_of(at),
            request: model::RequestInfo {
                id: request.id.to_string(),
                kind: request.kind.clone(),
                received_at: request.received_at,
                received_on: clock.date_of(request.received_at),
                due_date: crate::requests::effective_due_date(request),
            },
            identities,
            register,
            found,
            withheld,
        }))
    }

    /// The answer of a request IN_REVIEW or later, built now (nothing is stored):
    /// the document and the letter as text and HTML, in `language` or the
    /// organization's. For reviewers (request:review with request:read_data).
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn answer_preview(
        &self,
        principal: &Principal,
        request_id: Uuid,
        language: Option<Language>,
    ) -> Result<AnswerPreview> {
        for action in [Action::Review, Action::ReadData] {
            self.authz
                .require(principal.key_id, principal.org_id, Object::Request, action)
                .await?;
        }
        let conn = self.store.conn();
        let request = crate::requests::find_request(conn, principal.org_id, request_id).await?;
        let state: RequestState = request.state.parse()?;
        let kind: RequestKind = request.kind.parse()?;
        if !answers(kind) {
            return Err(Error::Conflict(format!(
                "{} requests are answered by carrying them out; answers are built for ACCESS and PORTABILITY requests",
                kind.as_str()
            )));
        }
        if matches!(
            state,
            RequestState::Received
                | RequestState::Verifying
                | RequestState::Collecting
                | RequestState::Rejected
                | RequestState::Cancelled
        ) {
            return Err(Error::Conflict(format!(
                "the answer is previewed from IN_REVIEW on; the request is {}",
                state.as_str()
            )));
        }
        let answer = self.build_answer(conn, &request, language, now()).await?;
        let letter_text =
            letter::letter(conn, principal.org_id, &answer, LetterFormat::Text).await?;
        let letter_html =
            letter::letter(conn, principal.org_id, &answer, LetterFormat::Html).await?;
        Ok(AnswerPreview {
            answer,
            letter_text,
            letter_html,
        })
    }

    /// Freezes the answer package of `request` (just approved) inside the approval's
    /// transaction. CONFLICT when the approval has a package already.
    pub(crate) async fn freeze_answer_in<C: Conn>(
        &self,
        conn: &C,
        principal: &Principal,
        request: &subject_request::Model,
    ) -> Result<Option<answer_package::Model>> {
        if !answers(request.kind.parse()?) {
            return Ok(None);
        }
        let current = answer_package::Entity::find()
            .filter(answer_package::Column::RequestId.eq(request.id))
            .filter(answer_package::Column::SupersededAt.is_null())
            .select_only()
            .column(answer_package::Column::Id)
            .into_tuple::<Uuid>()
            .one(conn)
            .await?;
        if current.is_some() {
            return Err(Error::Conflict(
                "the answer package of this approval is frozen already and cannot change".into(),
            ));
        }
        let at = now();
        let answer = self.build_answer(conn, request, None, at).await?;
        let html = letter::letter(conn, request.org_id, &answer, LetterFormat::Html).await?;
        let text = letter::letter(conn, request.org_id, &answer, LetterFormat::Text).await?;
        let footer = if answer.is_test {
            match answer.language {
                Language::De => {
                    format!("TESTANFRAGE - NICHT VERSENDEN - {}", answer.controller.name)
                }
                Language::En => format!("TEST REQUEST - DO NOT SEND - {}", answer.controller.name),
            }
        } else {
            answer.controller.name.clone()
        };
        let title = match answer.language {
            Language::De => "Auskunft nach Art. 15 DSGVO",
            Language::En => "Access to personal data (Art. 15 GDPR)",
        };
        let (pdf_text, pdf_footer) = (text.clone(), footer);
        let pdf =
            tokio::task::spawn_blocking(move || pdf::letter_pdf(&pdf_text, title, &pdf_footer))
                .await
                .map_err(|e| Error::Internal(format!("building the letter PDF: {e}")))??;
        // Compressing is CPU work (and deep on the stack in debug builds): it runs on
        // a blocking thread like the PDF.
        let language = answer.language;
        let package = tokio::task::spawn_blocking(move || {
            package::build(&answer, &package::Letters { html, text, pdf }, at)
        })
        .await
        .map_err(|e| Error::Internal(format!("building the answer package: {e}")))??;
        let row = answer_package::ActiveModel {
            id: Set(new_id()),
            org_id: Set(request.org_id),
            request_id: Set(request.id),
            language: Set(language.as_str().to_owned()),
            is_test: Set(request.is_test),
            digest: Set(package.digest.clone()),
            size_bytes: Set(package.bytes.len() as i64),
            content: Set(self.cipher.encrypt(&package.bytes)?),
            created_by: Set(Some(principal.key_id)),
            created_at: Set(at),
            superseded_at: Set(None),
        }
        .insert(conn)
        .await?;
        Ok(Some(row))
    }

    /// Marks the package of an approval the reviewer withdrew (REQUEST_CHANGES from
    /// APPROVED) as superseded; its content stays as it was. Returns how many.
    pub(crate) async fn supersede_answer_in<C: Conn>(
        &self,
        conn: &C,
        request_id: Uuid,
    ) -> Result<u64> {
        Ok(answer_package::Entity::update_many()
            .col_expr(answer_package::Column::SupersededAt, Expr::value(now()))
            .filter(answer_package::Column::RequestId.eq(request_id))
            .filter(answer_package::Column::SupersededAt.is_null())
            .exec(conn)
            .await?
            .rows_affected)
    }

    /// The current answer package of each of these requests that has one (the
    /// latest not superseded), without its content, in one query (for DataLoaders).
    pub async fn current_answer_packages(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<AnswerPackageView>> {
        use answer_package::Column as C;
        let rows = answer_package::Entity::find()
            .select_only()
            .columns([
                C::Id,
                C::OrgId,
                C::RequestId,
                C::Language,
                C::IsTest,
                C::Digest,
                C::SizeBytes,
                C::CreatedBy,
                C::CreatedAt,
                C::SupersededAt,
            ])
            .column_as(Expr::val(""), C::Content)
            .filter(C::OrgId.eq(principal.org_id))
            .filter(C::RequestId.is_in(ids.iter().copied()))
            .filter(C::SupersededAt.is_null())
            .order_by_asc(C::CreatedAt)
            .into_model::<answer_package::Model>()
            .all(self.store.conn())
            .await?;
        // Oldest first: a later package of the same request replaces an earlier one.
        let mut current: HashMap<Uuid, answer_package::Model> = HashMap::new();
        for row in rows {
            current.insert(row.request_id, row);
        }
        current
            .into_values()
            .map(AnswerPackageView::try_from)
            .collect()
    }

    /// A link to download a frozen package, valid for [`crate::core::links::LINK_TTL`].
    pub async fn answer_package_link(
        &self,
        principal: &Principal,
        package_id: Uuid,
    ) -> Result<(String, DateTime<Utc>)> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Request,
                Action::ReadData,
            )
            .await?;
        crate::core::links::seal(
            &self.cipher,
            principal.key_id,
            &format!("{PACKAGE_LINK}{package_id}"),
            now(),
        )
    }

    /// The package a link stands for, as frozen. NOT_FOUND for forged, altered or
    /// expired links; UNAUTHENTICATED when the key was revoked since; FORBIDDEN when
    /// it lost `request:read_data`. The bytes are checked against the stored digest.
    pub async fn redeem_answer_package_link(&self, token: &str) -> Result<PackageFile> {
        let (key_id, what) = crate::core::links::open(&self.cipher, token, now())?;
        let id: Uuid = what
            .strip_prefix(PACKAGE_LINK)
            .and_then(|id| id.parse().ok())
            .ok_or_else(crate::core::links::invalid_link)?;
        let principal =
            crate::access::api_keys::principal_of_key(self.store.conn(), key_id).await?;
        self.answer_package_file(&principal, id).await
    }

    /// A frozen package, opened and checked against its digest.
    pub async fn answer_package_file(
        &self,
        principal: &Principal,
        package_id: Uuid,
    ) -> Result<PackageFile> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Request,
                Action::ReadData,
            )
            .await?;
        open_package(
            self.store.conn(),
            &self.cipher,
            principal.org_id,
            package_id,
        )
        .await
    }
}

/// A frozen package of the organization, opened and checked against its digest.
pub(crate) async fn open_package<C: Conn>(
    conn: &C,
    cipher: &crate::core::crypto::Cipher,
    org_id: Uuid,
    package_id: Uuid,
) -> Result<PackageFile> {
    let row = answer_package::Entity::find_by_id(package_id)
        .filter(answer_package::Column::OrgId.eq(org_id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound {
            what: "answer package",
        })?;
    if row.content.is_empty() {
        return Err(Error::Conflict(format!(
            "the answer package was purged with the request's collected data; its digest {} stays as proof",
            row.digest
        )));
    }
    let bytes = cipher.decrypt(&row.content)?;
    if package::sha256_hex(&bytes) != row.digest {
        return Err(Error::Internal(format!(
            "answer package {} does not match its digest",
            row.id
        )));
    }
    Ok(PackageFile {
        file_name: format!(
            "answer-{}-{}{}.zip",
            row.request_id.simple(),
            &row.digest[..12],
            if row.is_test { "-TEST" } else { "" }
        ),
        bytes,
    })
}

const PACKAGE_LINK: &str = "answer-package/";

#[cfg(test)]
mod tests;
