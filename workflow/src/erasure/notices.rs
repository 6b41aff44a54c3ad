//! Art. 19 notices: when a request was carried out by erasing, rectifying or
//! restricting, every recipient the register says received the data is told, by
//! e-mail through the outbox where the recipient has a notice address, otherwise as
//! a task for staff, and each notice is tracked until done.
//!
//! A recipient received the data when an activity lists it and uses a source where
//! the subject's data was found, with a category of that data. Internal recipients
//! (the controller's own departments) are not notified.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use entity::{
    activity_data_category, activity_recipient, activity_source, collected_record, outbox,
    recipient, recipient_notice, subject_request,
};

use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::connectors::SearchIdentity;
use crate::core::crypto::Cipher;
use crate::core::outbox as mail;
use crate::dispatch::Delivery;
use crate::error::{Error, Result, Validator};
use crate::register::recipients::RecipientKind;
use crate::requests::{RequestKind, TimelineKind};
use crate::{Workflow, new_id, now};

stored_enum! {
    /// How a recipient is told.
    NoticeChannel {
        /// By e-mail to the recipient's notice address, through the outbox.
        Email => "EMAIL",
        /// By staff (no notice address): confirmed with `confirmRecipientNotice`.
        Manual => "MANUAL",
    }
}

/// A notice to a recipient, as staff see it.
#[derive(Debug, Clone)]
pub struct RecipientNoticeView {
    /// The notice.
    pub id: Uuid,
    /// The request.
    pub request_id: Uuid,
    /// The recipient.
    pub recipient_id: Uuid,
    /// Its name.
    pub recipient_name: String,
    /// How it is told.
    pub channel: NoticeChannel,
    /// The address it went to.
    pub sent_to: Option<String>,
    /// The e-mail's delivery.
    pub delivery: Option<Delivery>,
    /// Whether it is done: the e-mail delivered, or staff confirmed it.
    pub done: bool,
    /// When staff confirmed it.
    pub done_at: Option<DateTime<Utc>>,
    /// Who confirmed it.
    pub done_by: Option<Uuid>,
    /// How it was done.
    pub note: Option<String>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// Whether requests of `kind` are followed by Art. 19 notices.
pub(crate) fn notifies(kind: RequestKind) -> bool {
    matches!(
        kind,
        RequestKind::Erasure | RequestKind::Rectification | RequestKind::Restriction
    )
}

/// The recipients (not internal) that received data of the request.
async fn recipients_of<C: crate::core::store::Conn>(
    conn: &C,
    request: &subject_request::Model,
) -> Result<Vec<recipient::Model>> {
    let found: Vec<(Uuid, Option<Uuid>)> = collected_record::Entity::find()
        .select_only()
        .column(collected_record::Column::SourceId)
        .column(collected_record::Column::DataCategoryId)
        .distinct()
        .filter(collected_record::Column::RequestId.eq(request.id))
        .into_tuple()
        .all(conn)
        .await?;
    let sources: HashSet<Uuid> = found.iter().map(|f| f.0).collect();
    let categories: HashSet<Uuid> = found.iter().filter_map(|f| f.1).collect();
    if sources.is_empty() {
        return Ok(Vec::new());
    }
    let using: HashSet<Uuid> = activity_source::Entity::find()
        .filter(activity_source::Column::SourceId.is_in(sources))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| a.activity_id)
        .collect();
    let activities: HashSet<Uuid> = activity_data_category::Entity::find()
        .filter(activity_data_category::Column::ActivityId.is_in(using))
        .all(conn)
        .await?
        .into_iter()
        .filter(|c| categories.contains(&c.data_category_id))
        .map(|c| c.activity_id)
        .collect();
    let ids: HashSet<Uuid> = activity_recipient::Entity::find()
        .filter(activity_recipient::Column::ActivityId.is_in(activities))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| r.recipient_id)
        .collect();
    Ok(recipient::Entity::find()
        .filter(recipient::Column::OrgId.eq(request.org_id))
        .filter(recipient::Column::Id.is_in(ids))
        .filter(recipient::Column::Kind.ne(RecipientKind::Internal.as_str()))
        .order_by_asc(recipient::Column::Name)
        .all(conn)
        .await?)
}

/// The notice mail: what was done, and whom it concerns (the identities the
/// recipient knows the person by).
fn notice_mail(
    kind: RequestKind,
    request: &subject_request::Model,
    recipient: &recipient::Model,
    identities: &[SearchIdentity],
) -> (String, String) {
    let (de, en, what_de, what_en) = match kind {
        RequestKind::Rectification => (
            "wir haben die personenbezogenen Daten der unten genannten Person berichtigt (Art. 16 DSGVO).",
            "we have rectified the personal data of the person named below (Art. 16 GDPR).",
            "Bitte berichtigen Sie die Daten, die wir Ihnen übermittelt haben, ebenso.",
            "Please rectify the data we disclosed to you accordingly.",
        ),
        RequestKind::Restriction => (
            "wir haben die Verarbeitung der personenbezogenen Daten der unten genannten Person eingeschränkt (Art. 18 DSGVO).",
            "we have restricted the processing of the personal data of the person named below (Art. 18 GDPR).",
            "Bitte schränken Sie die Verarbeitung der Daten, die wir Ihnen übermittelt haben, ebenso ein.",
            "Please restrict the processing of the data we disclosed to you accordingly.",
        ),
        _ => (
            "wir haben die personenbezogenen Daten der unten genannten Person gelöscht (Art. 17 DSGVO), soweit keine gesetzliche Aufbewahrungspflicht entgegensteht.",
            "we have erased the personal data of the person named below (Art. 17 GDPR), except where a statutory duty to retain it applies.",
            "Bitte löschen Sie die Daten, die wir Ihnen übermittelt haben, soweit Sie nicht selbst zur Aufbewahrung verpflichtet sind.",
            "Please erase the data we disclosed to you, unless you are obliged to retain it yourself.",
        ),
    };
    let who: Vec<String> = identities
        .iter()
        .map(|i| format!("- {}: {}", i.kind.as_str(), i.value))
        .collect();
    let body = format!(
        "Guten Tag,\n\n{de} Nach Art. 19 DSGVO teilen wir Ihnen als Empfänger ({}) dies mit. \
         {what_de}\n\nHello,\n\n{en} Under Art. 19 GDPR we tell you, as a recipient of that \
         data, about it. {what_en}\n\n{}\n\nVorgang / Reference: {}\n",
        recipient.name,
        who.join("\n"),
        request.id
    );
    (
        format!("Art. 19 DSGVO / GDPR – Vorgang / reference {}", request.id),
        body,
    )
}

/// Makes the notices of a request carried out (once per recipient): e-mails queued
/// in the caller's transaction, tasks for the rest. Returns (e-mailed, for staff).
pub(crate) async fn queue<C: crate::core::store::Conn>(
    conn: &C,
    cipher: &Cipher,
    request: &subject_request::Model,
    kind: RequestKind,
    identities: &[SearchIdentity],
    at: DateTime<Utc>,
) -> Result<(usize, usize)> {
    if !notifies(kind) {
        return Ok((0, 0));
    }
    let told: HashSet<Uuid> = recipient_notice::Entity::find()
        .filter(recipient_notice::Column::RequestId.eq(request.id))
        .all(conn)
        .await?
        .into_iter()
        .map(|n| n.recipient_id)
        .collect();
    let (mut mailed, mut manual) = (0, 0);
    for r in recipients_of(conn, request).await? {
        if told.contains(&r.id) {
            continue;
        }
        let (channel, outbox_id) = match &r.notice_email {
            Some(to) => {
                let (subject, body) = notice_mail(kind, request, &r, identities);
                let id =
                    mail::queue_message(conn, cipher, request, to, &subject, &body, None).await?;
                mailed += 1;
                (NoticeChannel::Email, Some(id))
            }
            None => {
                manual += 1;
                (NoticeChannel::Manual, None)
            }
        };
        recipient_notice::ActiveModel {
            id: Set(new_id()),
            org_id: Set(request.org_id),
            request_id: Set(request.id),
            recipient_id: Set(r.id),
            channel: Set(channel.as_str().to_owned()),
            sent_to: Set(r.notice_email.clone()),
            outbox_id: Set(outbox_id),
            done_at: Set(None),
            done_by: Set(None),
            note: Set(None),
            created_at: Set(at),
        }
        .insert(conn)
        .await?;
    }
    Ok((mailed, manual))
}

async fn views<C: crate::core::store::Conn>(
    conn: &C,
    rows: Vec<recipient_notice::Model>,
) -> Result<Vec<RecipientNoticeView>> {
    let names: std::collections::HashMap<Uuid, String> = recipient::Entity::find()
        .filter(recipient::Column::Id.is_in(rows.iter().map(|r| r.recipient_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let mails: std::collections::HashMap<Uuid, outbox::Model> = outbox::Entity::find()
        .filter(outbox::Column::Id.is_in(rows.iter().filter_map(|r| r.outbox_id)))
        .all(conn)
        .await?
        .into_iter()
        .map(|m| (m.id, m))
        .collect();
    rows.into_iter()
        .map(|r| {
            let delivery = r
                .outbox_id
                .and_then(|id| mails.get(&id))
                .map(crate::dispatch::delivery_of);
            let delivered = delivery.as_ref().is_some_and(|d| {
                matches!(
                    d.state,
                    crate::dispatch::DeliveryState::Delivered
                        | crate::dispatch::DeliveryState::TestInbox
                )
            });
            Ok(RecipientNoticeView {
                id: r.id,
                request_id: r.request_id,
                recipient_id: r.recipient_id,
                recipient_name: names.get(&r.recipient_id).cloned().unwrap_or_default(),
                channel: r.channel.parse()?,
                sent_to: r.sent_to,
                done: r.done_at.is_some() || delivered,
                delivery,
                done_at: r.done_at,
                done_by: r.done_by,
                note: r.note,
                created_at: r.created_at,
            })
        })
        .collect()
}

impl Workflow {
    /// The Art. 19 notices of a request, by recipient name.
    pub async fn recipient_notices(
        &self,
        principal: &Principal,
        request_id: Uuid,
    ) -> Result<Vec<RecipientNoticeView>> {
        self.readable_request(principal, request_id).await?;
        let conn = self.store.conn();
        let rows = recipient_notice::Entity::find()
            .filter(recipient_notice::Column::OrgId.eq(principal.org_id))
            .filter(recipient_notice::Column::RequestId.eq(request_id))
            .all(conn)
            .await?;
        let mut out = views(conn, rows).await?;
        out.sort_by(|a, b| a.recipient_name.cmp(&b.recipient_name));
        Ok(out)
    }

    /// Staff confirm a notice done: one for staff, or an e-mail that failed and was
    /// told another way. Needs `request:dispatch`.
    pub async fn confirm_recipient_notice(
        &self,
        principal: &Principal,
        notice_id: Uuid,
        note: String,
    ) -> Result<RecipientNoticeView> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                crate::Object::Request,
                crate::Action::Dispatch,
            )
            .await?;
        let mut v = Validator::default();
        let note = v.multiline_text(&note, &["input", "note"], 2000);
        v.finish()?;
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let row = recipient_notice::Entity::find_by_id(notice_id)
            .filter(recipient_notice::Column::OrgId.eq(principal.org_id))
            .one(conn)
            .await?
            .ok_or(Error::NotFound { what: "notice" })?;
        let request =
            crate::requests::find_request_locked(conn, principal.org_id, row.request_id).await?;
        let current = views(conn, vec![row.clone()]).await?.remove(0);
        if current.done {
            return Err(Error::Conflict(
                "the notice is done already (confirmed, or its e-mail was delivered)".to_owned(),
            ));
        }
        let at = now();
        let mut active = row.into_active_model();
        active.done_at = Set(Some(at));
        active.done_by = Set(Some(principal.key_id));
        active.note = Set(Some(note.clone()));
        let row = active.update(conn).await?;
        self.note(
            &mut tx,
            principal,
            &request,
            TimelineKind::Dispatch,
            format!(
                "Art. 19 notice to `{}` done: {note}",
                current.recipient_name
            ),
        )
        .await?;
        let entry = Entry::success("confirmRecipientNotice", "RecipientNotice", notice_id);
        self.commit_audited(tx, principal, entry).await?;
        Ok(views(self.store.conn(), vec![row]).await?.remove(0))
    }
}
