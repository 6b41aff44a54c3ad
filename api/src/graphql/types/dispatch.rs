//! Output types of dispatch: how an answer left the organization and the proof of
//! what left.

use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use workflow::dispatch as wd;

use crate::graphql::ids::global_id;

mirror_enum! {
    /// How an answer reaches the data subject.
    DispatchChannel = wd::DispatchChannel {
        /// By e-mail to one of the request's addresses: a download link, and the
        /// package attached if asked for and small enough.
        Email,
        /// By post; the agent records the posting day and tracking reference.
        Postal,
        /// Through the organization's portal: the download link alone, returned
        /// once by `dispatchRequest`.
        Portal,
    }
}

mirror_enum! {
    /// What became of a dispatch's e-mail.
    DeliveryState = wd::DeliveryState {
        /// Not yet sent, or failed and to be retried (see `lastError`).
        Pending,
        /// Accepted by the mail server.
        Delivered,
        /// Every attempt failed: staff must act (send it another way).
        Failed,
        /// A test request's message, sent to the configured test inbox instead of
        /// the subject's address.
        TestInbox,
        /// A test request's message, not sent (no test inbox is configured).
        Suppressed,
    }
}

/// The delivery of a dispatch's e-mail (delivered at least once through the
/// outbox, retried with backoff).
#[derive(SimpleObject, Clone, Debug)]
pub struct DispatchDelivery {
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: i32,
    /// The last error, or how a test request's message was handled.
    pub last_error: Option<String>,
    /// When the mail server accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// The subject's download link of a dispatched answer (the link itself is never
/// shown again after dispatch).
#[derive(SimpleObject, Clone, Debug)]
pub struct DownloadLinkInfo {
    /// Valid until then.
    pub expires_at: DateTime<Utc>,
    /// How often it may be used.
    pub max_downloads: i32,
    /// How often it was used (each download is audited).
    pub downloads: i32,
    /// The last download.
    pub last_download_at: Option<DateTime<Utc>>,
    /// When staff withdrew it (`revokeDownloadLink`).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The proof of a dispatch: how, when, to whom and exactly what (its SHA-256).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(complex)]
pub struct DispatchProof {
    /// Global ID.
    pub id: ID,
    /// The request (global ID).
    pub request_id: ID,
    /// How it went out.
    pub channel: DispatchChannel,
    /// When it was dispatched.
    pub dispatched_at: DateTime<Utc>,
    /// The e-mail or postal address it went to; null for the portal.
    pub recipient: Option<String>,
    /// SHA-256 (hex) of what was sent: the answer package's ZIP (equal to
    /// `answerPackage.digest`), or the notice of the action taken.
    pub digest: String,
    /// Size in bytes of what was sent.
    pub size_bytes: i64,
    /// The answer package that was sent (global ID), for ACCESS and PORTABILITY.
    pub package_id: Option<ID>,
    /// The notice of the action taken, for requests answered by carrying them out
    /// (erasure, restriction, rectification, objection).
    pub notice: Option<String>,
    /// Whether the package was attached to the e-mail.
    pub attached: bool,
    /// POSTAL: the day the letter was posted.
    pub sent_on: Option<NaiveDate>,
    /// POSTAL: the carrier's tracking reference.
    pub tracking_reference: Option<String>,
    /// EMAIL: the delivery of the message.
    pub delivery: Option<DispatchDelivery>,
    /// EMAIL and PORTAL with a package: the subject's download link.
    pub download_link: Option<DownloadLinkInfo>,
    #[graphql(skip)]
    pub request_uuid: uuid::Uuid,
    #[graphql(skip)]
    pub dispatcher_uuid: uuid::Uuid,
    #[graphql(skip)]
    pub package_uuid: Option<uuid::Uuid>,
}

#[async_graphql::ComplexObject]
impl DispatchProof {
    /// Global ID of who (person or API key) dispatched it.
    async fn dispatched_by(&self, ctx: &async_graphql::Context<'_>) -> crate::error::ApiResult<ID> {
        Ok(super::actor::actor_id(ctx, Some(self.dispatcher_uuid))
            .await?
            .unwrap_or_default())
    }

    /// Who (person or API key) dispatched it.
    async fn dispatcher(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<super::actor::Actor>> {
        super::actor::actor(ctx, Some(self.dispatcher_uuid)).await
    }

    /// The answer package that was sent, for ACCESS and PORTABILITY (null when the
    /// request was sent back and approved again since: a new package replaced it).
    async fn package(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<super::answer::AnswerPackage>> {
        let Some(id) = self.package_uuid else {
            return Ok(None);
        };
        Ok(crate::graphql::loaders::loaders(ctx)?
            .answer_packages
            .load_one(self.request_uuid)
            .await?
            .filter(|p| p.id == id)
            .map(Into::into))
    }

    /// The request.
    async fn request(
        &self,
        ctx: &async_graphql::Context<'_>,
    ) -> crate::error::ApiResult<Option<super::requests::SubjectRequest>> {
        super::requests::request_by_id(ctx, self.request_uuid).await
    }
}

impl From<wd::DispatchProof> for DispatchProof {
    fn from(p: wd::DispatchProof) -> Self {
        Self {
            id: global_id("Dispatch", p.id),
            request_id: global_id("SubjectRequest", p.request_id),
            channel: p.channel.into(),
            dispatched_at: p.dispatched_at,
            request_uuid: p.request_id,
            dispatcher_uuid: p.dispatched_by,
            package_uuid: p.package_id,
            recipient: p.recipient,
            digest: p.digest,
            size_bytes: p.size_bytes,
            package_id: p.package_id.map(|id| global_id("AnswerPackage", id)),
            notice: p.notice,
            attached: p.attached,
            sent_on: p.sent_on,
            tracking_reference: p.tracking_reference,
            delivery: p.delivery.map(Into::into),
            download_link: p.link.map(|l| DownloadLinkInfo {
                expires_at: l.expires_at,
                max_downloads: l.max_downloads,
                downloads: l.downloads,
                last_download_at: l.last_download_at,
                revoked_at: l.revoked_at,
            }),
        }
    }
}

impl From<wd::Delivery> for DispatchDelivery {
    fn from(d: wd::Delivery) -> Self {
        Self {
            state: d.state.into(),
            attempts: d.attempts,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
        }
    }
}
