//! Dispatch: the approved answer leaves the organization, provably.
//!
//! One call does it all in the DISPATCH transition's transaction: the request becomes
//! DISPATCHED (immutable), and a `dispatch` row records the channel, the recipient,
//! who dispatched it and when, and the SHA-256 digest of exactly what was sent: the
//! answer package frozen at approval (ACCESS, PORTABILITY), or the notice of the
//! action taken (requests answered by carrying them out). By channel:
//!
//! - EMAIL: a message through the outbox (at least once, retried, failures visible)
//!   to one of the request's e-mail addresses, with an expiring download link and,
//!   if asked and small enough, the package attached;
//! - POSTAL: the agent records the day the letter was posted and the carrier's
//!   tracking reference;
//! - PORTAL: the download link alone, returned to the caller once (the portal shows
//!   it to the subject).
//!
//! A download link is a random token of which only the SHA-256 is stored; it expires
//! (default 14 days), allows a limited number of downloads (default 5), and every
//! download is audited and noted on the timeline.

pub mod links;

use base64::Engine;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use entity::{answer_package, dispatch, download_link, outbox, subject_identity, subject_request};

use crate::access::principal::Principal;
use crate::answer::package::sha256_hex;
use crate::core::outbox as mail;
use crate::error::{Error, Result, Validator};
use crate::register::fields::IdentityType;
use crate::requests::{RequestEvent, RequestKind, RequestView, TimelineKind};
use crate::{Workflow, new_id, now};

pub use links::DownloadedAnswer;

stored_enum! {
    /// How an answer reaches the data subject.
    DispatchChannel {
        /// By e-mail, with a download link and optionally the package attached.
        Email => "EMAIL",
        /// By post; the agent records the posting day and tracking reference.
        Postal => "POSTAL",
        /// Through the organization's portal: the download link alone.
        Portal => "PORTAL",
    }
}

/// Deployment settings of dispatch (from the configuration).
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// The address subjects reach this server at (`https://privacy.example.com`),
    /// for download links; without it, the address the dispatching call came in at.
    pub public_url: Option<String>,
    /// How long a download link is valid.
    pub link_days: u32,
    /// How often a download link may be used.
    pub max_downloads: u32,
    /// The largest package sent as an e-mail attachment.
    pub attach_max_bytes: u64,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        Self {
            public_url: None,
            link_days: 14,
            max_downloads: 5,
            attach_max_bytes: 10 * 1024 * 1024,
        }
    }
}

/// What the agent decided about sending an approved request's answer.
#[derive(Debug, Clone)]
pub struct DispatchInput {
    /// The request.
    pub request_id: Uuid,
    /// The version the agent saw; CONFLICT if it moved on meanwhile.
    pub version: i32,
    /// How it goes out.
    pub channel: DispatchChannel,
    /// EMAIL: one of the request's e-mail addresses (default: a verified one).
    /// POSTAL: the postal address (default: the request's postal address).
    /// PORTAL: none.
    pub recipient: Option<String>,
    /// EMAIL: attach the package (up to the configured size).
    pub attach_package: bool,
    /// POSTAL: the day the letter was posted (not in the future).
    pub sent_on: Option<NaiveDate>,
    /// POSTAL: the carrier's tracking reference, if any.
    pub tracking_reference: Option<String>,
    /// The address the caller reached this server at (`https://host`), for the
    /// download link when no public URL is configured.
    pub origin: Option<String>,
}

/// What became of a dispatch's e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Not yet sent, or failed and to be retried.
    Pending,
    /// Accepted by the mail server.
    Delivered,
    /// Every attempt failed; staff must act.
    Failed,
    /// A test request's message, sent to the configured test inbox instead.
    TestInbox,
    /// A test request's message, not sent (no test inbox configured).
    Suppressed,
}

/// The delivery of a dispatch's e-mail.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Where it stands.
    pub state: DeliveryState,
    /// Attempts so far.
    pub attempts: i32,
    /// The last error, or how a test request's message was handled.
    pub last_error: Option<String>,
    /// When the mail server accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// A subject's download link, without its token.
#[derive(Debug, Clone)]
pub struct LinkView {
    /// Valid until then.
    pub expires_at: DateTime<Utc>,
    /// How often it may be used.
    pub max_downloads: i32,
    /// How often it was used.
    pub downloads: i32,
    /// The last download.
    pub last_download_at: Option<DateTime<Utc>>,
    /// When staff withdrew it.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The proof of a dispatch.
#[derive(Debug, Clone)]
pub struct DispatchProof {
    /// Its id.
    pub id: Uuid,
    /// The request.
    pub request_id: Uuid,
    /// How it went out.
    pub channel: DispatchChannel,
    /// When.
    pub dispatched_at: DateTime<Utc>,
    /// By whom (an API key).
    pub dispatched_by: Uuid,
    /// The e-mail or postal address; none for the portal.
    pub recipient: Option<String>,
    /// SHA-256 (hex) of what was sent: the package, or the notice.
    pub digest: String,
    /// Its size in bytes.
    pub size_bytes: i64,
    /// The answer package sent, if the request has one.
    pub package_id: Option<Uuid>,
    /// The notice sent instead of a package (requests carried out).
    pub notice: Option<String>,
    /// Whether the package was attached to the e-mail.
    pub attached: bool,
    /// POSTAL: the posting day.
    pub sent_on: Option<NaiveDate>,
    /// POSTAL: the tracking reference.
    pub tracking_reference: Option<String>,
    /// EMAIL: the delivery of the message.
    pub delivery: Option<Delivery>,
    /// EMAIL and PORTAL with a package: the subject's download link.
    pub link: Option<LinkView>,
}

/// The result of a dispatch.
#[derive(Debug, Clone)]
pub struct Dispatched {
    /// The request, now DISPATCHED.
    pub request: RequestView,
    /// The proof.
    pub proof: DispatchProof,
    /// PORTAL: the download link to show the subject (it is not stored and is
    /// returned only here).
    pub download_url: Option<String>,
}

/// What is sent: the frozen package, or the notice of the action taken.
enum Content {
    Package(answer_package::Model),
    Notice(String),
}

impl Content {
    fn digest_and_size(&self) -> (String, i64) {
        match self {
            Content::Package(p) => (p.digest.clone(), p.size_bytes),
            Content::Notice(text) => (sha256_hex(text.as_bytes()), text.len() as i64),
        }
    }
}

/// The notice of the action taken on a request answered by carrying it out
/// (Art. 12(3): information on action taken), in German and English.
fn action_notice(
    request: &subject_request::Model,
    kind: RequestKind,
    received: NaiveDate,
    report: Option<&str>,
) -> String {
    let (de, en) = match kind {
        RequestKind::Erasure => (
            "Ihre personenbezogenen Daten wurden gelöscht, soweit keine gesetzliche Aufbewahrungspflicht entgegensteht (Art. 17 DSGVO).",
            "Your personal data was erased, except where a statutory duty to retain it applies (Art. 17 GDPR).",
        ),
        RequestKind::Restriction => (
            "Die Verarbeitung Ihrer personenbezogenen Daten wurde eingeschränkt (Art. 18 DSGVO).",
            "The processing of your personal data was restricted (Art. 18 GDPR).",
        ),
        RequestKind::Rectification => (
            "Ihre personenbezogenen Daten wurden berichtigt (Art. 16 DSGVO).",
            "Your personal data was rectified (Art. 16 GDPR).",
        ),
        RequestKind::Objection => (
            "Ihr Widerspruch wurde umgesetzt; wir verarbeiten Ihre Daten für die betroffenen Zwecke nicht mehr (Art. 21 DSGVO).",
            "Your objection was carried out; we no longer process your data for the purposes concerned (Art. 21 GDPR).",
        ),
        RequestKind::Access | RequestKind::Portability => (
            "Ihre Anfrage wurde beantwortet.",
            "Your request was answered.",
        ),
    };
    format!(
        "Guten Tag,\n\nzu Ihrer Anfrage vom {}: {de}\n\
         Sie können sich bei einer Datenschutz-Aufsichtsbehörde beschweren (Art. 77 DSGVO).\n\n\
         Hello,\n\nregarding your request of {}: {en}\n\
         You may lodge a complaint with a supervisory authority (Art. 77 GDPR).\n\n\
         {}Vorgang / Reference: {}\n",
        received.format("%d.%m.%Y"),
        received.format("%Y-%m-%d"),
        report.map(|r| format!("{r}\n")).unwrap_or_default(),
        request.id
    )
}

/// The cover message of an answer package sent by e-mail.
fn cover_message(
    request: &subject_request::Model,
    kind: RequestKind,
    package: &answer_package::Model,
    url: &str,
    expires: NaiveDate,
    max_downloads: i32,
    attached: bool,
) -> (String, String) {
    let (de_what, en_what) = match kind {
        RequestKind::Portability => (
            "Kopie Ihrer Daten nach Art. 20 DSGVO",
            "copy of your data under Art. 20 GDPR",
        ),
        _ => (
            "Auskunft nach Art. 15 DSGVO",
            "access to your data under Art. 15 GDPR",
        ),
    };
    let (de_attached, en_attached) = if attached {
        (
            "Das Paket ist dieser E-Mail als ZIP-Datei angehängt. ",
            "The package is attached to this e-mail as a ZIP file. ",
        )
    } else {
        ("", "")
    };
    let subject = match kind {
        RequestKind::Portability => "Ihre Datenkopie / Your copy of your data",
        _ => "Ihre Auskunft / Your access request",
    };
    let body = format!(
        "Guten Tag,\n\nIhre {de_what} liegt bereit. {de_attached}\
         Sie können das Paket bis zum {} höchstens {max_downloads}-mal herunterladen:\n{url}\n\n\
         Hello,\n\nyour {en_what} is ready. {en_attached}\
         You can download the package until {}, at most {max_downloads} times:\n{url}\n\n\
         SHA-256: {}\n\
         Vorgang / Reference: {}\n",
        expires.format("%d.%m.%Y"),
        expires.format("%Y-%m-%d"),
        package.digest,
        request.id,
    );
    (subject.to_owned(), body)
}

/// The state of an outbox message as a dispatch's delivery.
pub(crate) fn delivery_of(row: &outbox::Model) -> Delivery {
    let note = row.last_error.as_deref().unwrap_or_default();
    let state = match row.delivered_at {
        Some(_) if note.starts_with(mail::REDIRECTED) => DeliveryState::TestInbox,
        Some(_) if note.starts_with(mail::SUPPRESSED) => DeliveryState::Suppressed,
        Some(_) => DeliveryState::Delivered,
        None if row.attempts >= mail::MAX_ATTEMPTS => DeliveryState::Failed,
        None => DeliveryState::Pending,
    };
    Delivery {
        state,
        attempts: row.attempts,
        last_error: row.last_error.clone(),
        delivered_at: row.delivered_at,
    }
}

fn link_view(row: &download_link::Model) -> LinkView {
    LinkView {
        expires_at: row.expires_at,
        max_downloads: row.max_downloads,
        downloads: row.downloads,
        last_download_at: row.last_download_at,
        revoked_at: row.revoked_at,
    }
}

/// The base URL download links start with: the configured public URL, else the
/// address the call came in at.
pub(crate) fn link_base(settings: &DispatchSettings, origin: Option<&str>) -> Result<String> {
    settings
        .public_url
        .as_deref()
        .or(origin)
        .map(|base| base.trim_end_matches('/').to_owned())
        .ok_or_else(|| {
            Error::Conflict(
                "the server does not know the address subjects reach it at: configure public_url"
                    .into(),
            )
        })
}

/// A new random link token (256 bits, URL-safe) and its SHA-256.
pub(crate) fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::Rng::fill(&mut rand::rng(), &mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = sha256_hex(token.as_bytes());
    (token, hash)
}

impl Workflow {
    /// Sends the answer of an approved (or carried-out) request and records the
    /// proof, in the DISPATCH transition's transaction: the request is immutable
    /// afterwards. Bad input is VALIDATION with field paths; nothing changes then.
    #[tracing::instrument(skip(self, input), fields(org = %principal.org_id, channel = input.channel.as_str()), err(level = "debug"))]
    pub async fn dispatch(
        &self,
        principal: &Principal,
        input: DispatchInput,
    ) -> Result<Dispatched> {
        let mut tx = self.store.begin().await?;
        let r =
            crate::requests::find_request(tx.conn(), principal.org_id, input.request_id).await?;
        crate::requests::check_version(&r, input.version)?;
        // Authorization, state and guards first: a caller who may not dispatch, or a
        // request not ready for it, is told so before anything about the input.
        let (updated, audit) = self
            .transition_in(
                &mut tx,
                principal,
                r,
                RequestEvent::Dispatch,
                None,
                None,
                None,
            )
            .await?;
        let conn = tx.conn();
        let kind: RequestKind = updated.kind.parse()?;
        let clock = crate::requests::load_settings(conn, updated.org_id)
            .await?
            .clock();
        let at = now();
        let today = clock.date_of(at);
        let received = clock.date_of(updated.received_at);

        let content = if crate::answer::answers(kind) {
            let package = answer_package::Entity::find()
                .filter(answer_package::Column::RequestId.eq(updated.id))
                .filter(answer_package::Column::SupersededAt.is_null())
                .order_by_desc(answer_package::Column::CreatedAt)
                .one(conn)
                .await?
                .ok_or_else(|| {
                    Error::Internal(format!(
                        "approved request {} has no answer package",
                        updated.id
                    ))
                })?;
            Content::Package(package)
        } else {
            // An erasure's notice carries its report: what was erased, and what is
            // kept, on what legal ground and until when (Art. 17(3), Art. 12(3)).
            let report = if kind == RequestKind::Erasure {
                let report = crate::erasure::report::load(conn, updated.org_id, updated.id).await?;
                crate::erasure::report::notice_text(&report.lines)
            } else {
                None
            };
            Content::Notice(action_notice(&updated, kind, received, report.as_deref()))
        };

        // The input, checked against the channel and the request.
        let mut v = Validator::default();
        let channel = input.channel;
        let settings = &self.dispatch_settings;
        let recipient = match channel {
            DispatchChannel::Email => {
                let addresses = crate::requests::identities_of(updated.org_id, updated.id)
                    .filter(subject_identity::Column::Kind.eq(IdentityType::Email.as_str()))
                    .order_by_asc(subject_identity::Column::CreatedAt)
                    .all(conn)
                    .await?;
                match input.recipient.as_deref().map(str::trim) {
                    Some(given) => match identity::email(given) {
                        Ok(canonical) => {
                            let known = addresses.iter().find(|a| a.value == canonical);
                            v.check(
                                known.is_some(),
                                &["input", "recipient"],
                                "must be an e-mail address the request gave; add it to the request first",
                            );
                            known.map(|a| a.value.clone())
                        }
                        Err(_) => {
                            v.check(
                                false,
                                &["input", "recipient"],
                                "must be an e-mail address like name@example.com",
                            );
                            None
                        }
                    },
                    None => {
                        let chosen = addresses
                            .iter()
                            .find(|a| a.verified_at.is_some())
                            .or(addresses.first());
                        v.check(
                            chosen.is_some(),
                            &["input", "channel"],
                            "the request gave no e-mail address: dispatch by POSTAL or PORTAL",
                        );
                        chosen.map(|a| a.value.clone())
                    }
                }
            }
            DispatchChannel::Postal => {
                let address = match input.recipient {
                    Some(given) => v.optional_text(Some(given), &["input", "recipient"], 1000),
                    None => crate::requests::identities_of(updated.org_id, updated.id)
                        .filter(
                            subject_identity::Column::Kind.eq(IdentityType::PostalAddress.as_str()),
                        )
                        .order_by_asc(subject_identity::Column::CreatedAt)
                        .one(conn)
                        .await?
                        .map(|a| a.value_as_given),
                };
                v.check(
                    address.is_some(),
                    &["input", "recipient"],
                    "the postal address the letter went to is required (the request gave none)",
                );
                address
            }
            DispatchChannel::Portal => {
                v.check(
                    input.recipient.is_none(),
                    &["input", "recipient"],
                    "PORTAL sends nothing to an address; leave it out",
                );
                v.check(
                    matches!(content, Content::Package(_)),
                    &["input", "channel"],
                    "the portal shows a download link to an answer package; a request answered by carrying it out is told by EMAIL or POSTAL",
                );
                None
            }
        };
        match channel {
            DispatchChannel::Postal => match input.sent_on {
                Some(day) => {
                    v.check(
                        day <= today,
                        &["input", "sentOn"],
                        format!("must not be after today ({today})"),
                    );
                    v.check(
                        day >= received,
                        &["input", "sentOn"],
                        format!("must not be before the request was received ({received})"),
                    );
                }
                None => {
                    v.check(
                        false,
                        &["input", "sentOn"],
                        "the day the letter was posted is required",
                    );
                }
            },
            _ => {
                v.check(
                    input.sent_on.is_none(),
                    &["input", "sentOn"],
                    "only for POSTAL",
                );
                v.check(
                    input.tracking_reference.is_none(),
                    &["input", "trackingReference"],
                    "only for POSTAL",
                );
            }
        }
        let tracking_reference = input
            .tracking_reference
            .map(|t| v.text(&t, &["input", "trackingReference"], 200));
        if input.attach_package {
            match (&content, channel) {
                (_, DispatchChannel::Postal | DispatchChannel::Portal) => {
                    v.check(false, &["input", "attachPackage"], "only for EMAIL");
                }
                (Content::Notice(_), _) => {
                    v.check(
                        false,
                        &["input", "attachPackage"],
                        "this request is answered by carrying it out: there is no package to attach",
                    );
                }
                (Content::Package(p), _) => {
                    v.check(
                        p.size_bytes as u64 <= settings.attach_max_bytes,
                        &["input", "attachPackage"],
                        format!(
                            "the package has {} bytes, more than the {} bytes configured for attachments: send the link alone",
                            p.size_bytes, settings.attach_max_bytes
                        ),
                    );
                }
            }
        }
        v.finish()?;

        let (digest, size_bytes) = content.digest_and_size();
        let dispatch_id = new_id();
        let mut notes = vec![format!("dispatched by {}", channel.as_str())];
        // The subject's download link (EMAIL and PORTAL, when there is a package).
        let link = match (&content, channel) {
            (Content::Package(p), DispatchChannel::Email | DispatchChannel::Portal) => {
                let base = link_base(settings, input.origin.as_deref())?;
                let (token, hash) = new_token();
                let expires_at = at
                    .checked_add_signed(Duration::days(i64::from(settings.link_days)))
                    .ok_or_else(|| Error::Internal("dispatch.link_days is out of range".into()))?;
                let max_downloads = settings.max_downloads.min(i32::MAX as u32) as i32;
                let row = download_link::ActiveModel {
                    id: Set(new_id()),
                    org_id: Set(updated.org_id),
                    request_id: Set(updated.id),
                    dispatch_id: Set(dispatch_id),
                    package_id: Set(p.id),
                    token_hash: Set(hash),
                    expires_at: Set(expires_at),
                    max_downloads: Set(max_downloads),
                    downloads: Set(0),
                    last_download_at: Set(None),
                    revoked_at: Set(None),
                    created_at: Set(at),
                };
                Some((
                    format!("{base}/download/{token}"),
                    expires_at,
                    max_downloads,
                    row,
                ))
            }
            _ => None,
        };
        let outbox_id = match channel {
            DispatchChannel::Email => {
                let to = recipient.clone().unwrap_or_default();
                let (subject, body, attachment) = match (&content, &link) {
                    (Content::Package(p), Some((url, expires_at, max_downloads, _))) => {
                        let (subject, body) = cover_message(
                            &updated,
                            kind,
                            p,
                            url,
                            clock.date_of(*expires_at),
                            *max_downloads,
                            input.attach_package,
                        );
                        (subject, body, input.attach_package.then_some(p.id))
                    }
                    (Content::Notice(text), _) => (
                        "Ihre Anfrage nach der DSGVO / Your GDPR request".to_owned(),
                        text.clone(),
                        None,
                    ),
                    (Content::Package(_), None) => {
                        return Err(Error::Internal("an e-mail package without a link".into()));
                    }
                };
                notes.push(if attachment.is_some() {
                    "by e-mail with a download link and the package attached".to_owned()
                } else {
                    "by e-mail".to_owned()
                });
                Some(
                    mail::queue_message(
                        conn,
                        &self.cipher,
                        &updated,
                        &to,
                        &subject,
                        &body,
                        attachment,
                    )
                    .await?,
                )
            }
            _ => None,
        };
        if crate::erasure::notices::notifies(kind) {
            let identities = crate::collection::search_identities(conn, &updated).await?;
            if kind == RequestKind::Erasure && !updated.is_test {
                // Every source is done (by a worker or by hand): the person's
                // identities go on the suppression list (the workers put them there
                // already for the sources they carried out).
                crate::erasure::suppression::add(conn, &self.cipher, &updated, &identities, at)
                    .await?;
            }
            // Art. 19: the recipients that received the data are told.
            let (mailed, manual) =
                crate::erasure::notices::queue(conn, &self.cipher, &updated, kind, &identities, at)
                    .await?;
            if mailed + manual > 0 {
                notes.push(format!(
                    "Art. 19: {mailed} recipient(s) told by e-mail, {manual} to be told by staff"
                ));
            }
        }
        let (package_id, notice) = match &content {
            Content::Package(p) => (Some(p.id), None),
            Content::Notice(text) => (None, Some(self.cipher.encrypt(text.as_bytes())?)),
        };
        let row = dispatch::ActiveModel {
            id: Set(dispatch_id),
            org_id: Set(updated.org_id),
            request_id: Set(updated.id),
            channel: Set(channel.as_str().to_owned()),
            recipient: Set(recipient),
            package_id: Set(package_id),
            digest: Set(digest.clone()),
            size_bytes: Set(size_bytes),
            notice: Set(notice),
            attached: Set(input.attach_package),
            sent_on: Set(input.sent_on),
            tracking_reference: Set(tracking_reference),
            outbox_id: Set(outbox_id),
            dispatched_by: Set(principal.key_id),
            dispatched_at: Set(at),
        }
        .insert(conn)
        .await?;
        let (download_url, link_row) = match link {
            Some((url, _, _, row)) => {
                let row = row.insert(conn).await?;
                notes.push(format!(
                    "download link valid until {}, at most {} downloads",
                    clock.date_of(row.expires_at),
                    row.max_downloads
                ));
                (Some(url), Some(row))
            }
            None => (None, None),
        };
        if let Some(day) = row.sent_on {
            notes.push(format!("posted on {day}"));
        }
        if let Some(reference) = &row.tracking_reference {
            notes.push(format!("tracking reference {reference}"));
        }
        notes.push(format!("SHA-256 {digest}"));
        self.note(
            &mut tx,
            principal,
            &updated,
            TimelineKind::Dispatch,
            notes.join("; "),
        )
        .await?;
        let audit = audit.after(serde_json::json!({
            "request": crate::requests::request_state(&updated),
            "channel": channel.as_str(),
            "digest": digest,
        }));
        self.commit_audited(tx, principal, audit).await?;
        let delivery = match outbox_id {
            Some(id) => outbox::Entity::find_by_id(id)
                .one(self.store.conn())
                .await?
                .map(|m| delivery_of(&m)),
            None => None,
        };
        Ok(Dispatched {
            request: updated.try_into()?,
            proof: proof_of(&self.cipher, row, delivery, link_row.as_ref())?,
            download_url: download_url.filter(|_| channel == DispatchChannel::Portal),
        })
    }

    /// The proof of a request's dispatch; `None` while it was not dispatched.
    pub async fn dispatch_proof(
        &self,
        principal: &Principal,
        request_id: Uuid,
    ) -> Result<Option<DispatchProof>> {
        self.readable_request(principal, request_id).await?;
        let conn = self.store.conn();
        let Some(row) = dispatch::Entity::find()
            .filter(dispatch::Column::OrgId.eq(principal.org_id))
            .filter(dispatch::Column::RequestId.eq(request_id))
            .one(conn)
            .await?
        else {
            return Ok(None);
        };
        let delivery = match row.outbox_id {
            Some(id) => outbox::Entity::find_by_id(id)
                .one(conn)
                .await?
                .map(|m| delivery_of(&m)),
            None => None,
        };
        let link = download_link::Entity::find()
            .filter(download_link::Column::DispatchId.eq(row.id))
            .order_by_desc(download_link::Column::CreatedAt)
            .one(conn)
            .await?;
        proof_of(&self.cipher, row, delivery, link.as_ref()).map(Some)
    }
}

fn proof_of(
    cipher: &crate::core::crypto::Cipher,
    row: dispatch::Model,
    delivery: Option<Delivery>,
    link: Option<&download_link::Model>,
) -> Result<DispatchProof> {
    let notice = row
        .notice
        .as_deref()
        .map(|sealed| {
            String::from_utf8(cipher.decrypt(sealed)?)
                .map_err(|e| Error::Internal(format!("dispatch notice: {e}")))
        })
        .transpose()?;
    Ok(DispatchProof {
        id: row.id,
        request_id: row.request_id,
        channel: row.channel.parse()?,
        dispatched_at: row.dispatched_at,
        dispatched_by: row.dispatched_by,
        recipient: row.recipient,
        digest: row.digest,
        size_bytes: row.size_bytes,
        package_id: row.package_id,
        notice,
        attached: row.attached,
        sent_on: row.sent_on,
        tracking_reference: row.tracking_reference,
        delivery,
        link: link.map(link_view),
    })
}
