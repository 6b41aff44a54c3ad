//! The outbox: messages to data subjects are written in the transaction of the change
//! that causes them and delivered at least once afterwards by [`Workflow::deliver_outbox`]
//! through a [`Mailer`]. Bodies are sealed at rest (a body may hold a one-time code).
//!
//! Test requests (`is_test`) are never sent to real addresses: a mailer that reaches
//! the outside world ([`Mailer::is_external`]) sends them to its test inbox
//! ([`Mailer::test_inbox`]) instead, or, without one, skips them and marks them
//! suppressed.

use std::path::PathBuf;
use std::time::Duration as StdDuration;

use chrono::Duration;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use uuid::Uuid;

use entity::{outbox, subject_identity, subject_request};

use crate::core::crypto::Cipher;
use crate::core::store::Conn;
use crate::error::{Error, Result};
use crate::register::fields::IdentityType;
use crate::{Workflow, new_id, now};

/// A message ready to be sent.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The outbox row.
    pub id: Uuid,
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// A file to attach.
    pub attachment: Option<MailAttachment>,
}

/// A file attached to a message.
#[derive(Debug, Clone)]
pub struct MailAttachment {
    /// The file name offered to the recipient.
    pub file_name: String,
    /// Its media type, e.g. `application/zip`.
    pub content_type: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

impl Mail {
    /// The message as lettre builds it, from `from`.
    fn message(&self, from: &Mailbox) -> std::result::Result<Message, String> {
        let builder = Message::builder()
            .from(from.clone())
            .to(self.to.parse().map_err(|e| format!("recipient: {e}"))?)
            .subject(self.subject.clone())
            .message_id(Some(format!("<{}@auskunft>", self.id)));
        let message = match &self.attachment {
            None => builder
                .header(ContentType::TEXT_PLAIN)
                .body(self.body.clone()),
            Some(file) => builder.multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(self.body.clone()))
                    .singlepart(
                        Attachment::new(file.file_name.clone()).body(
                            file.bytes.clone(),
                            ContentType::parse(&file.content_type)
                                .map_err(|e| format!("attachment type: {e}"))?,
                        ),
                    ),
            ),
        };
        message.map_err(|e| e.to_string())
    }
}

/// Sends mail: to the log, into files, or through an SMTP server.
#[async_trait::async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one message; an error is retried later, unless it starts with
    /// [`PERMANENT`] (the server refused the message or recipient for good).
    async fn send(&self, mail: &Mail) -> std::result::Result<(), String>;
    /// Whether messages reach real mailboxes (then test requests go to the test
    /// inbox, or nowhere).
    fn is_external(&self) -> bool;
    /// Where messages of test requests go instead of the subject's address.
    fn test_inbox(&self) -> Option<&str> {
        None
    }
}

/// Writes each message to the log (development and demo).
pub struct LogMailer;

#[async_trait::async_trait]
impl Mailer for LogMailer {
    async fn send(&self, mail: &Mail) -> std::result::Result<(), String> {
        tracing::info!(to = %mail.to, subject = %mail.subject, body = %mail.body, "mail (log mailer)");
        Ok(())
    }
    fn is_external(&self) -> bool {
        false
    }
}

/// Writes each message as an `.eml` file into a directory (lettre's file transport).
pub struct FileMailer {
    transport: AsyncFileTransport<Tokio1Executor>,
    from: Mailbox,
}

impl FileMailer {
    /// A mailer writing into `dir` (created if missing), sending as `from`.
    pub fn new(dir: impl Into<PathBuf>, from: &str) -> std::result::Result<Self, String> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        Ok(Self {
            transport: AsyncFileTransport::new(dir),
            from: from
                .parse()
                .map_err(|e| format!("sender address `{from}`: {e}"))?,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for FileMailer {
    async fn send(&self, mail: &Mail) -> std::result::Result<(), String> {
        self.transport
            .send(mail.message(&self.from)?)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
    fn is_external(&self) -> bool {
        false
    }
}

/// Sends through an SMTP server (lettre), configured by a URL:
/// `smtps://user:password@host:465` (TLS), `smtp://host:587?tls=required`
/// (STARTTLS required), `smtp://host:25` (no encryption: a relay on the same host
/// only).
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    test_inbox: Option<String>,
}

/// Checks a mail address as the mailers will use it (`Name <a@b.example>` or
/// `a@b.example`).
pub fn check_address(address: &str) -> std::result::Result<(), String> {
    address
        .parse::<Mailbox>()
        .map(|_| ())
        .map_err(|e| format!("`{address}` is not a mail address: {e}"))
}

/// How long one SMTP command may take before the attempt fails (and is retried).
const SMTP_TIMEOUT: StdDuration = StdDuration::from_secs(30);

impl SmtpMailer {
    /// A mailer for the server at `url`, sending as `from`; messages of test
    /// requests go to `test_inbox`, or are not sent without one.
    pub fn new(
        url: &str,
        from: &str,
        test_inbox: Option<&str>,
    ) -> std::result::Result<Self, String> {
        let transport: AsyncSmtpTransport<Tokio1Executor> =
            AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| format!("SMTP URL: {e}"))?
                .timeout(Some(SMTP_TIMEOUT))
                .build();
        let test_inbox = test_inbox
            .map(|inbox| {
                inbox
                    .parse::<Mailbox>()
                    .map(|_| inbox.to_owned())
                    .map_err(|e| format!("test inbox `{inbox}`: {e}"))
            })
            .transpose()?;
        Ok(Self {
            transport,
            from: from
                .parse()
                .map_err(|e| format!("sender address `{from}`: {e}"))?,
            test_inbox,
        })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> std::result::Result<(), String> {
        // A message that cannot be built (a recipient no longer valid) never will be.
        let message = mail
            .message(&self.from)
            .map_err(|e| format!("{PERMANENT} {e}"))?;
        self.transport.send(message).await.map(|_| ()).map_err(|e| {
            if e.is_permanent() {
                format!("{PERMANENT} {e}")
            } else {
                e.to_string()
            }
        })
    }
    fn is_external(&self) -> bool {
        true
    }
    fn test_inbox(&self) -> Option<&str> {
        self.test_inbox.as_deref()
    }
}

/// What a subject is told.
pub(crate) enum Notice<'a> {
    /// A one-time code to verify the e-mail address.
    VerificationCode { code: &'a str, minutes: i64 },
    /// The request was refused.
    Rejected { reason: &'a str },
    /// The deadline was extended (Art. 12(3) sentence 3: within the first month, with reasons).
    Extended {
        until: chrono::NaiveDate,
        reason: &'a str,
    },
    /// A restriction (Art. 18(3): before it is lifted) or an objection is lifted.
    RestrictionLifted { objection: bool, reason: &'a str },
}

impl Notice<'_> {
    fn render(&self, reference: Uuid) -> (String, String) {
        match self {
            Notice::VerificationCode { code, minutes } => (
                "Ihr Bestätigungscode / Your verification code".into(),
                format!(
                    "Guten Tag,\n\nIhr Code zur Bestätigung Ihrer Anfrage lautet: {code}\nEr gilt {minutes} Minuten.\n\n\
                     Hello,\n\nthe code to confirm your request is: {code}\nIt is valid for {minutes} minutes.\n\n\
                     Vorgang / Reference: {reference}\n"
                ),
            ),
            Notice::Rejected { reason } => (
                "Ihre Anfrage nach der DSGVO / Your GDPR request".into(),
                format!(
                    "Guten Tag,\n\nwir können Ihre Anfrage nicht bearbeiten. Grund: {reason}\n\
                     Sie können sich bei einer Datenschutz-Aufsichtsbehörde beschweren und einen gerichtlichen Rechtsbehelf einlegen (Art. 12 Abs. 4 DSGVO).\n\n\
                     Hello,\n\nwe cannot act on your request. Reason: {reason}\n\
                     You may lodge a complaint with a supervisory authority and seek a judicial remedy (Art. 12(4) GDPR).\n\n\
                     Vorgang / Reference: {reference}\n"
                ),
            ),
            Notice::Extended { until, reason } => (
                "Fristverlängerung / Extension of the deadline".into(),
                format!(
                    "Guten Tag,\n\nwir benötigen für Ihre Anfrage mehr Zeit und beantworten sie bis zum {}. Grund: {reason}\n\n\
                     Hello,\n\nwe need more time for your request and will answer it by {}. Reason: {reason}\n\n\
                     Vorgang / Reference: {reference}\n",
                    until.format("%d.%m.%Y"),
                    until.format("%Y-%m-%d"),
                ),
            ),
            Notice::RestrictionLifted { objection, reason } => {
                let (de, en) = if *objection {
                    (
                        "Ihr Widerspruch (Art. 21 DSGVO) gilt für uns nicht mehr",
                        "your objection (Art. 21 GDPR) no longer applies to us",
                    )
                } else {
                    (
                        "wir heben die Einschränkung der Verarbeitung Ihrer Daten (Art. 18 DSGVO) auf",
                        "we are lifting the restriction of processing of your data (Art. 18 GDPR)",
                    )
                };
                (
                    "Ihre Anfrage nach der DSGVO / Your GDPR request".into(),
                    format!(
                        "Guten Tag,\n\n{de}. Grund: {reason}\n\n\
                         Hello,\n\n{en}. Reason: {reason}\n\n\
                         Vorgang / Reference: {reference}\n"
                    ),
                )
            }
        }
    }
}

/// The address to write to: a verified e-mail identity the request gave, else any it
/// gave.
async fn subject_email<C: Conn>(
    conn: &C,
    org_id: Uuid,
    request_id: Uuid,
) -> Result<Option<String>> {
    let identities = crate::requests::identities_of(org_id, request_id)
        .filter(subject_identity::Column::Kind.eq(IdentityType::Email.as_str()))
        .order_by_asc(subject_identity::Column::CreatedAt)
        .all(conn)
        .await?;
    Ok(identities
        .iter()
        .find(|i| i.verified_at.is_some())
        .or(identities.first())
        .map(|i| i.value.clone()))
}

/// Queues a message to `to` about `request`.
pub(crate) async fn queue<C: Conn>(
    conn: &C,
    cipher: &Cipher,
    request: &subject_request::Model,
    to: &str,
    notice: Notice<'_>,
) -> Result<Uuid> {
    let (subject, body) = notice.render(request.id);
    queue_message(conn, cipher, request, to, &subject, &body, None).await
}

/// Queues a message with this subject line and body, and the answer package
/// `attachment` attached, if given.
pub(crate) async fn queue_message<C: Conn>(
    conn: &C,
    cipher: &Cipher,
    request: &subject_request::Model,
    to: &str,
    subject: &str,
    body: &str,
    attachment: Option<Uuid>,
) -> Result<Uuid> {
    insert_mail(
        conn,
        cipher,
        request.org_id,
        Some(request),
        to,
        subject,
        body,
        attachment,
    )
    .await
}

/// Queues a message that belongs to no request (a consent confirmation).
pub(crate) async fn queue_mail<C: Conn>(
    conn: &C,
    cipher: &Cipher,
    org_id: Uuid,
    to: &str,
    subject: &str,
    body: &str,
) -> Result<Uuid> {
    insert_mail(conn, cipher, org_id, None, to, subject, body, None).await
}

#[allow(clippy::too_many_arguments)]
async fn insert_mail<C: Conn>(
    conn: &C,
    cipher: &Cipher,
    org_id: Uuid,
    request: Option<&subject_request::Model>,
    to: &str,
    subject: &str,
    body: &str,
    attachment: Option<Uuid>,
) -> Result<Uuid> {
    let at = now();
    let id = new_id();
    outbox::ActiveModel {
        id: Set(id),
        org_id: Set(org_id),
        request_id: Set(request.map(|r| r.id)),
        kind: Set("EMAIL".into()),
        recipient: Set(to.to_owned()),
        subject: Set(subject.to_owned()),
        body: Set(cipher.encrypt(body.as_bytes())?),
        is_test: Set(request.is_some_and(|r| r.is_test)),
        attempts: Set(0),
        next_attempt_at: Set(at),
        delivered_at: Set(None),
        last_error: Set(None),
        created_at: Set(at),
        attachment_package_id: Set(attachment),
    }
    .insert(conn)
    .await?;
    Ok(id)
}

/// Queues a notice to the subject's e-mail address; `None` when none is known (then
/// staff must write by post).
pub(crate) async fn notify_subject<C: Conn>(
    conn: &C,
    cipher: &Cipher,
    request: &subject_request::Model,
    notice: Notice<'_>,
) -> Result<Option<String>> {
    match subject_email(conn, request.org_id, request.id).await? {
        Some(to) => {
            queue(conn, cipher, request, &to, notice).await?;
            Ok(Some(to))
        }
        None => Ok(None),
    }
}

/// The timeline note about a notice.
pub(crate) fn notice_note(sent_to: Option<String>) -> String {
    match sent_to {
        Some(_) => "the subject is told by e-mail".into(),
        None => "no e-mail address known: tell the subject by post".into(),
    }
}

/// A queued message as stored, body opened (for operators and tests).
#[derive(Debug, Clone)]
pub struct QueuedMail {
    /// The row.
    pub row: outbox::Model,
    /// The plain-text body.
    pub body: String,
}

/// How a mailer marks an error that a retry cannot mend (SMTP 5xx: no such mailbox,
/// message refused); the message is given up at once.
pub const PERMANENT: &str = "permanent failure:";

/// How a message of a test request that was not sent is marked.
pub const SUPPRESSED: &str = "suppressed: test request, never sent to a real address";

/// How a message of a test request that went to the test inbox is marked.
pub const REDIRECTED: &str = "test request: sent to the test inbox";

/// Attempts before a message is given up (about a day with the backoff below).
pub const MAX_ATTEMPTS: i32 = 12;

/// How long a worker that took an attempt holds the message back from other workers
/// while it sends; a worker that crashed mid-send is retried after this.
pub const SEND_LEASE_SECONDS: i64 = 300;

impl Workflow {
    /// The messages queued about a request, oldest first, bodies opened.
    pub async fn outbox_of_request(&self, request_id: Uuid) -> Result<Vec<QueuedMail>> {
        let rows = outbox::Entity::find()
            .filter(outbox::Column::RequestId.eq(request_id))
            .order_by_asc(outbox::Column::Id)
            .all(self.store.conn())
            .await?;
        rows.into_iter()
            .map(|row| {
                let body = String::from_utf8(self.cipher.decrypt(&row.body)?)
                    .map_err(|e| Error::Internal(format!("outbox body: {e}")))?;
                Ok(QueuedMail { row, body })
            })
            .collect()
    }

    /// Delivers up to `batch` due messages; returns how many were delivered. Failed
    /// sends are retried with exponential backoff, up to [`MAX_ATTEMPTS`].
    pub async fn deliver_outbox(&self, mailer: &dyn Mailer, batch: u64) -> Result<usize> {
        let at = now();
        let due = outbox::Entity::find()
            .filter(outbox::Column::DeliveredAt.is_null())
            .filter(outbox::Column::NextAttemptAt.lte(at))
            .filter(outbox::Column::Attempts.lt(MAX_ATTEMPTS))
            .order_by_asc(outbox::Column::NextAttemptAt)
            .limit(batch)
            .all(self.store.conn())
            .await?;
        let mut delivered = 0;
        for row in due {
            // Take the attempt before sending, in one conditional statement that also
            // holds the message back from other workers for a while: two workers never
            // send the same message at once, and attempts never exceed the limit.
            let attempt_at = now();
            let taken = {
                let _turn = self.store.writer_turn().await;
                crate::core::store::take_slot(
                    self.store.conn(),
                    outbox::Entity::update_many()
                        .col_expr(
                            outbox::Column::NextAttemptAt,
                            Expr::value(attempt_at + Duration::seconds(SEND_LEASE_SECONDS)),
                        )
                        .filter(outbox::Column::Id.eq(row.id))
                        .filter(outbox::Column::DeliveredAt.is_null())
                        .filter(outbox::Column::NextAttemptAt.lte(attempt_at)),
                    outbox::Column::Attempts,
                    MAX_ATTEMPTS,
                )
                .await?
            };
            if !taken {
                continue;
            }
            let body = String::from_utf8(self.cipher.decrypt(&row.body)?)
                .map_err(|e| Error::Internal(format!("outbox body: {e}")))?;
            // A package that cannot be opened fails this message's attempt (visible in
            // its last error), not the whole batch.
            let attachment = match row.attachment_package_id {
                Some(package_id) => crate::answer::open_package(
                    self.store.conn(),
                    &self.cipher,
                    row.org_id,
                    package_id,
                )
                .await
                .map(|file| {
                    Some(MailAttachment {
                        file_name: file.file_name,
                        content_type: "application/zip".into(),
                        bytes: file.bytes,
                    })
                }),
                None => Ok(None),
            };
            // Ok(note): handled, with a note on how; Err: failed, retried later.
            let outcome: std::result::Result<Option<String>, String> = match attachment {
                Err(e) => {
                    tracing::error!(error = %e, outbox = %row.id, "the attachment cannot be opened");
                    Err(format!(
                        "the attachment cannot be opened: {}",
                        e.code().as_str()
                    ))
                }
                Ok(attachment) => {
                    let mut mail = Mail {
                        id: row.id,
                        to: row.recipient.clone(),
                        subject: row.subject.clone(),
                        body,
                        attachment,
                    };
                    match (row.is_test && mailer.is_external(), mailer.test_inbox()) {
                        (false, _) => mailer.send(&mail).await.map(|()| None),
                        (true, Some(inbox)) => {
                            // Never to the address a test request gave: to the test
                            // inbox, marked, with the address it was meant for.
                            mail.subject = format!("[TEST for {}] {}", mail.to, mail.subject);
                            mail.to = inbox.to_owned();
                            mailer.send(&mail).await.map(|()| {
                                Some(format!("{REDIRECTED} {inbox} instead of {}", row.recipient))
                            })
                        }
                        (true, None) => Ok(Some(SUPPRESSED.to_owned())),
                    }
                }
            };
            // This call's attempt, counted above.
            let attempts = row.attempts + 1;
            let mut active = outbox::ActiveModel {
                id: Set(row.id),
                ..Default::default()
            };
            match outcome {
                Ok(note) => {
                    active.delivered_at = Set(Some(now()));
                    if note.is_none() {
                        delivered += 1;
                    }
                    active.last_error = Set(note);
                }
                Err(e) if e.starts_with(PERMANENT) => {
                    tracing::warn!(error = %e, outbox = %row.id, "mail refused for good; given up");
                    active.last_error = Set(Some(e));
                    active.attempts = Set(MAX_ATTEMPTS);
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempts, outbox = %row.id, "mail delivery failed; will retry");
                    active.last_error = Set(Some(e));
                    active.next_attempt_at =
                        Set(now() + Duration::seconds(30 * 2i64.pow(attempts.min(11) as u32)));
                }
            }
            let _turn = self.store.writer_turn().await;
            active.update(self.store.conn()).await?;
        }
        Ok(delivered)
    }
}
