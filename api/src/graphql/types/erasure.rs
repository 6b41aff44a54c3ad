//! Output types of erasure: the report of what was carried out in each source, and
//! the suppression list's answers.

use async_graphql::{ComplexObject, Context, ID, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use workflow::erasure as we;

use crate::graphql::ids::global_id;
use crate::graphql::types::register::IdentityType;

mirror_enum! {
    /// What became of a field of the subject's records when an erasure was carried
    /// out.
    ErasureResult = we::ErasureResult {
        /// Deleted with its row, or set to NULL.
        Erased,
        /// Replaced by a value that no longer identifies the person (anonymized
        /// deterministically or masked); or a primary key kept while the rest of
        /// its row was anonymized.
        Anonymized,
        /// Kept under a legal duty to retain it (`legalReference`), restricted until
        /// the duty ends (`heldUntil`), then erased (Art. 17(3)(b) GDPR).
        Retained,
        /// Not erased (see `detail`): refused (the leak check, not approved, the
        /// source refused) or still found afterwards. A steward may complete the task
        /// by hand; the line stays FAILED.
        Failed,
        /// Not erased: the reviewer left the value out of the answer as not the
        /// subject's (redacted).
        LeftOut,
        /// Carried out by a steward outside Auskunft (a source no worker reaches);
        /// the task's note says how.
        ByHand,
    }
}

/// One line of an erasure report: a field of a source and what became of it in how
/// many of the subject's records.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ErasureReportLine {
    /// The source (global ID).
    pub source_id: ID,
    /// The source's name.
    pub source_name: String,
    /// The field (global ID); null for a line about a whole source carried out by
    /// hand, or a field deleted from the register since.
    pub field_id: Option<ID>,
    /// The field's location (`customers.email`).
    pub location: String,
    /// What became of it.
    pub result: ErasureResult,
    /// Records concerned (0 for a whole source carried out by hand).
    pub records: u64,
    /// For RETAINED: the legal ground of the duty to keep it (e.g. `§ 147 AO`).
    pub legal_reference: Option<String>,
    /// For RETAINED: the day the duty ends, counted from the record's own date
    /// where the register maps one (otherwise from the day of the erasure); the
    /// data is restricted until then. Kept on a line released since.
    pub held_until: Option<NaiveDate>,
    /// For a value once kept under a legal hold: when the hold ended and the
    /// retention sweep erased or anonymized it (the line's `result` says which).
    pub released_at: Option<DateTime<Utc>>,
    /// How it was carried out, or why it failed.
    pub detail: Option<String>,
    #[graphql(skip)]
    pub source_uuid: uuid::Uuid,
    #[graphql(skip)]
    pub field_uuid: Option<uuid::Uuid>,
}

#[ComplexObject]
impl ErasureReportLine {
    /// The data source; null when it was deleted since.
    async fn source(
        &self,
        ctx: &Context<'_>,
    ) -> crate::error::ApiResult<Option<crate::graphql::types::register::DataSource>> {
        Ok(crate::graphql::loaders::loaders(ctx)?
            .data_source
            .load_one(self.source_uuid)
            .await?
            .map(Into::into))
    }

    /// The field; null for a line about a whole source carried out by hand, or a
    /// field deleted from the register since.
    async fn field(
        &self,
        ctx: &Context<'_>,
    ) -> crate::error::ApiResult<Option<crate::graphql::types::register::DataField>> {
        crate::graphql::types::requests::optional_field(ctx, self.field_uuid).await
    }
}

/// The erasure report of a request: per source and field, erased, anonymized,
/// retained with its legal ground, or failed. It joins the notice sent to the
/// subject at dispatch.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct ErasureReport {
    /// The request (global ID).
    pub request_id: ID,
    /// The lines, by source name, location and result.
    pub lines: Vec<ErasureReportLine>,
    /// EXECUTE tasks not done yet (running, failed, or waiting to be carried out by
    /// hand); the request can be dispatched when this is 0.
    pub open_tasks: u64,
    /// Whether any line FAILED.
    pub has_failures: bool,
    #[graphql(skip)]
    pub request_uuid: uuid::Uuid,
}

#[ComplexObject]
impl ErasureReport {
    /// The request.
    async fn request(
        &self,
        ctx: &Context<'_>,
    ) -> crate::error::ApiResult<Option<crate::graphql::types::requests::SubjectRequest>> {
        crate::graphql::types::requests::request_by_id(ctx, self.request_uuid).await
    }
}

impl From<we::report::ErasureReport> for ErasureReport {
    fn from(r: we::report::ErasureReport) -> Self {
        Self {
            request_id: global_id("SubjectRequest", r.request_id),
            request_uuid: r.request_id,
            has_failures: r.has_failures(),
            open_tasks: r.open_tasks,
            lines: r
                .lines
                .into_iter()
                .map(|l| ErasureReportLine {
                    source_id: global_id("DataSource", l.source_id),
                    source_name: l.source_name,
                    field_id: l.field_id.map(|id| global_id("DataField", id)),
                    source_uuid: l.source_id,
                    field_uuid: l.field_id,
                    location: l.location,
                    result: l.result.into(),
                    records: l.records,
                    legal_reference: l.legal_reference,
                    held_until: l.held_until,
                    released_at: l.released_at,
                    detail: l.detail,
                })
                .collect(),
        }
    }
}

/// Whether an identity belongs to an erased person (the suppression list).
#[derive(SimpleObject, Clone, Debug)]
pub struct SuppressionMatch {
    /// The kind asked about.
    pub kind: IdentityType,
    /// The value as asked.
    pub value: String,
    /// True: the person was erased; do not import or re-create them.
    pub suppressed: bool,
    /// Since when it is on the list.
    pub since: Option<DateTime<Utc>>,
}

impl From<we::suppression::SuppressionMatch> for SuppressionMatch {
    fn from(m: we::suppression::SuppressionMatch) -> Self {
        Self {
            kind: m.kind.into(),
            value: m.value,
            suppressed: m.suppressed,
            since: m.since,
        }
    }
}

mirror_enum! {
    /// How a recipient is told of a request carried out (Art. 19).
    NoticeChannel = we::notices::NoticeChannel {
        /// By e-mail to the recipient's `noticeEmail`, through the outbox.
        Email,
        /// By staff, since the recipient has no notice address; confirmed with
        /// `confirmRecipientNotice`.
        Manual,
    }
}

/// An Art. 19 notice: a recipient of the register that received the subject's data,
/// told that the request was carried out (erasure, rectification, restriction).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct RecipientNotice {
    /// Global ID.
    pub id: ID,
    /// The request (global ID).
    pub request_id: ID,
    /// The recipient (global ID).
    pub recipient_id: ID,
    /// The recipient's name.
    pub recipient_name: String,
    /// How it is told.
    pub channel: NoticeChannel,
    /// The address the e-mail went to.
    pub sent_to: Option<String>,
    /// The e-mail's delivery (EMAIL).
    pub delivery: Option<crate::graphql::types::dispatch::DispatchDelivery>,
    /// Whether it is done: the e-mail was delivered, or staff confirmed it.
    pub done: bool,
    /// When staff confirmed it.
    pub done_at: Option<DateTime<Utc>>,
    /// How staff did it.
    pub note: Option<String>,
    /// When it was made (at dispatch).
    pub created_at: DateTime<Utc>,
    #[graphql(skip)]
    pub request_uuid: uuid::Uuid,
    #[graphql(skip)]
    pub recipient_uuid: uuid::Uuid,
}

#[ComplexObject]
impl RecipientNotice {
    /// The request.
    async fn request(
        &self,
        ctx: &Context<'_>,
    ) -> crate::error::ApiResult<Option<crate::graphql::types::requests::SubjectRequest>> {
        crate::graphql::types::requests::request_by_id(ctx, self.request_uuid).await
    }

    /// The recipient; null when it was deleted from the register since.
    async fn recipient(
        &self,
        ctx: &Context<'_>,
    ) -> crate::error::ApiResult<Option<crate::graphql::types::register::Recipient>> {
        Ok(crate::graphql::loaders::loaders(ctx)?
            .recipient
            .load_one(self.recipient_uuid)
            .await?
            .map(Into::into))
    }
}

impl From<we::notices::RecipientNoticeView> for RecipientNotice {
    fn from(n: we::notices::RecipientNoticeView) -> Self {
        Self {
            id: global_id("RecipientNotice", n.id),
            request_id: global_id("SubjectRequest", n.request_id),
            recipient_id: global_id("Recipient", n.recipient_id),
            recipient_name: n.recipient_name,
            channel: n.channel.into(),
            sent_to: n.sent_to,
            delivery: n.delivery.map(Into::into),
            done: n.done,
            done_at: n.done_at,
            note: n.note,
            created_at: n.created_at,
            request_uuid: n.request_id,
            recipient_uuid: n.recipient_id,
        }
    }
}
