//! Intake: a request arrives (web form, e-mail, letter, phone, API), its requester is
//! matched to a known data subject by normalized identities, duplicates and possibly
//! excessive requests are flagged for the lawyer, and the deadline is set.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    Set, SqlErr,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::{
    data_subject, request_attachment, request_identity, subject_identity, subject_request,
};

use super::machine::{RequestKind, RequestState};
use super::{Channel, DeadlineBasis, TimelineKind, settings};
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
use crate::register::fields::IdentityType;
use crate::{Workflow, new_id, now};
use identity::PhoneRegion;

/// Largest attachment accepted (bytes).
pub const MAX_ATTACHMENT_BYTES: usize = 5 * 1024 * 1024;

/// One way the requester can be identified.
#[derive(Debug, Clone)]
pub struct NewIdentity {
    /// Kind of identifier.
    pub kind: IdentityType,
    /// As given; normalized on intake.
    pub value: String,
}

/// A file that came with the request (e.g. the scanned letter).
#[derive(Debug, Clone)]
pub struct NewAttachment {
    /// File name.
    pub file_name: String,
    /// Media type, e.g. `application/pdf`.
    pub media_type: String,
    /// Content.
    pub content: Vec<u8>,
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// What is asked for.
    pub kind: RequestKind,
    /// How it arrived.
    pub channel: Channel,
    /// Who asks (at least one).
    pub identities: Vec<NewIdentity>,
    /// The request as received, verbatim.
    pub text: Option<String>,
    /// A test request (excluded from statistics, never mailed to real addresses).
    pub is_test: bool,
    /// When it arrived, if earlier than now (letters, e-mails); not in the future.
    pub received_at: Option<DateTime<Utc>>,
    /// A retried submit with the same key returns the first request.
    pub idempotency_key: Option<String>,
    /// Files received with it.
    pub attachments: Vec<NewAttachment>,
}

/// The outcome of a submit.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The request.
    pub request: super::RequestView,
    /// False when the idempotency key named an earlier submit.
    pub created: bool,
}

/// The canonical spelling of an identity value, the one function every path uses
/// (intake, filters, verification, demo data): e-mail in NFC with the local part
/// lower-cased and the domain in its ASCII (punycode) form; phone in E.164, read with
/// the organization's `region` when given without a country code and refused when
/// not valid in its numbering plan; other kinds in NFC with whitespace collapsed.
/// See the `identity` crate, which the migrations share. Records a validation error
/// at `path` if malformed.
pub fn normalize_identity(
    v: &mut Validator,
    kind: IdentityType,
    value: &str,
    path: &[&str],
    region: PhoneRegion,
) -> String {
    let canonical = match kind {
        IdentityType::Email => identity::email(value),
        IdentityType::Phone => identity::phone(value, region),
        IdentityType::PostalAddress => {
            v.multiline_text(value, path, 500);
            Ok(identity::multiline_text(value))
        }
        IdentityType::CustomerNumber | IdentityType::Other => {
            v.text(value, path, 200);
            Ok(identity::text(value))
        }
    };
    canonical.unwrap_or_else(|e| {
        v.check(false, path, e.0);
        value.trim().to_owned()
    })
}

/// One identity of a request: kind, canonical value, value as given.
#[derive(Debug, Clone)]
struct CheckedIdentity {
    kind: IdentityType,
    value: String,
    as_given: String,
}

#[derive(Clone)]
struct Checked {
    identities: Vec<CheckedIdentity>,
    text: Option<String>,
    received_at: DateTime<Utc>,
    idempotency_key: Option<String>,
}

fn validate(new: &NewRequest, at: DateTime<Utc>, region: PhoneRegion) -> Result<Checked> {
    let mut v = Validator::default();
    v.check(
        !new.identities.is_empty(),
        &["input", "identities"],
        "name at least one identity of the requester (e.g. an e-mail address)",
    );
    v.check(
        new.identities.len() <= 10,
        &["input", "identities"],
        "at most 10 identities",
    );
    let mut identities: Vec<CheckedIdentity> = Vec::new();
    for (i, identity) in new.identities.iter().enumerate() {
        let index = i.to_string();
        let value = normalize_identity(
            &mut v,
            identity.kind,
            &identity.value,
            &["input", "identities", &index, "value"],
            region,
        );
        if !identities
            .iter()
            .any(|c| c.kind == identity.kind && c.value == value)
        {
            identities.push(CheckedIdentity {
                kind: identity.kind,
                value,
                as_given: identity.value.trim().replace("\r\n", "\n"),
            });
        }
    }
    let text = v.optional_text(new.text.clone(), &["input", "text"], 20_000);
    let received_at = new.received_at.unwrap_or(at);
    v.check(
        received_at <= at + Duration::minutes(5),
        &["input", "receivedAt"],
        "must not be in the future",
    );
    v.check(
        received_at >= at - Duration::days(366),
        &["input", "receivedAt"],
        "must be within the last year",
    );
    let idempotency_key = new.idempotency_key.as_deref().map(|k| {
        let k = k.trim();
        v.check(
            !k.is_empty() && k.len() <= 200 && k.chars().all(|c| c.is_ascii_graphic()),
            &["input", "idempotencyKey"],
            "must be 1 to 200 printable ASCII characters",
        );
        k.to_owned()
    });
    v.check(
        new.attachments.len() <= 10,
        &["input", "attachments"],
        "at most 10 attachments",
    );
    for (i, a) in new.attachments.iter().enumerate() {
        let index = i.to_string();
        v.text(
            &a.file_name,
            &["input", "attachments", &index, "fileName"],
            255,
        );
        v.check(
            a.media_type.contains('/') && a.media_type.len() <= 100,
            &["input", "attachments", &index, "mediaType"],
            "must be a media type like application/pdf",
        );
        v.check(
            a.content.len() <= MAX_ATTACHMENT_BYTES,
            &["input", "attachments", &index, "content"],
            format!("must be at most {} MiB", MAX_ATTACHMENT_BYTES / 1024 / 1024),
        );
    }
    v.finish()?;
    Ok(Checked {
        identities,
        text,
        received_at,
        idempotency_key,
    })
}

/// Finds the subject any of the identities belongs to, or creates one; adds the
/// identities not yet known. Returns the subject id, whether it was known, and the
/// ids of the identities given (the request's own: collection searches only these).
async fn match_subject<C: Conn>(
    conn: &C,
    org_id: Uuid,
    identities: &[CheckedIdentity],
) -> Result<(Uuid, bool, Vec<Uuid>)> {
    use subject_identity::Column as C;
    // One query for all identities: (kind, canonical value) is unique per organization.
    let any_of = identities.iter().fold(Condition::any(), |any, i| {
        any.add(
            Condition::all()
                .add(C::Kind.eq(i.kind.as_str()))
                .add(C::Value.eq(i.value.as_str())),
        )
    });
    let known = subject_identity::Entity::find()
        .filter(C::OrgId.eq(org_id))
        .filter(any_of)
        .all(conn)
        .await?;
    let at = now();
    let (subject_id, was_known) = match known.iter().min_by_key(|i| i.created_at) {
        Some(first) => (first.subject_id, true),
        None => {
            let id = new_id();
            data_subject::ActiveModel {
                id: Set(id),
                org_id: Set(org_id),
                created_at: Set(at),
            }
            .insert(conn)
            .await?;
            (id, false)
        }
    };
    let mut given = Vec::with_capacity(identities.len());
    for identity in identities {
        if let Some(k) = known
            .iter()
            .find(|k| k.kind == identity.kind.as_str() && k.value == identity.value)
        {
            if !given.contains(&k.id) {
                given.push(k.id);
            }
            continue;
        }
        let identity_id = new_id();
        given.push(identity_id);
        subject_identity::ActiveModel {
            id: Set(identity_id),
            org_id: Set(org_id),
            subject_id: Set(subject_id),
            kind: Set(identity.kind.as_str().to_owned()),
            value: Set(identity.value.clone()),
            value_as_given: Set(identity.as_given.clone()),
            verified_at: Set(None),
            verification_method: Set(None),
            created_at: Set(at),
        }
        .insert(conn)
        .await?;
    }
    Ok((subject_id, was_known, given))
}

/// The subject an identity (kind and canonical value) belongs to, made when unknown,
/// and the identity's id: consents are recorded for people found this way.
pub(crate) async fn subject_of<C: Conn>(
    conn: &C,
    org_id: Uuid,
    kind: IdentityType,
    canonical: &str,
    as_given: &str,
) -> Result<(Uuid, Uuid)> {
    let (subject_id, _, ids) = match_subject(
        conn,
        org_id,
        &[CheckedIdentity {
            kind,
            value: canonical.to_owned(),
            as_given: as_given.trim().to_owned(),
        }],
    )
    .await?;
    Ok((subject_id, ids[0]))
}

impl Workflow {
    /// Takes in a request. A retry with the same idempotency key returns the first
    /// request (`created == false`); the same key with other content is a CONFLICT.
    #[tracing::instrument(skip(self, new), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn submit_request(
        &self,
        principal: &Principal,
        new: NewRequest,
    ) -> Result<Submitted> {
        let mut v = Validator::default();
        v.check(
            new.channel != Channel::Retention || principal.is_retention_sweep(),
            &["input", "channel"],
            "RETENTION is set by the retention sweep only",
        );
        v.finish()?;
        let at = now();
        let settings = settings::load(self.store.conn(), principal.org_id).await?;
        let checked = validate(&new, at, settings.phone_region)?;
        if let Some(key) = &checked.idempotency_key
            && let Some(existing) = self.find_by_idempotency_key(principal, key).await?
        {
            return self.replayed(&new, &checked, existing).await;
        }
        // Two first requests of one new identity at once both create its subject; the
        // unique (kind, value) index lets one win and the other is taken in again, in
        // a new transaction that now finds the winner's subject (a duplicate).
        let mut attempts = 0;
        loop {
            attempts += 1;
            match self
                .insert_request(principal, &new, checked.clone(), &settings, at)
                .await
            {
                Err(Error::Db(e))
                    if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
                {
                    // A concurrent retry with the same key won the race.
                    if let Some(key) = new.idempotency_key.as_deref()
                        && let Some(existing) =
                            self.find_by_idempotency_key(principal, key.trim()).await?
                    {
                        return self.replayed(&new, &checked, existing).await;
                    }
                    if attempts >= 3 {
                        return Err(Error::Db(e));
                    }
                }
                other => return other,
            }
        }
    }

    pub(crate) async fn find_by_idempotency_key(
        &self,
        principal: &Principal,
        key: &str,
    ) -> Result<Option<subject_request::Model>> {
        Ok(subject_request::Entity::find()
            .filter(subject_request::Column::OrgId.eq(principal.org_id))
            .filter(subject_request::Column::IdempotencyKey.eq(key))
            .one(self.store.conn())
            .await?)
    }

    /// The first request again, for a retry with its idempotency key; the same key
    /// with another request (kind, channel, test flag or identities) is a CONFLICT,
    /// never a silently lost request.
    async fn replayed(
        &self,
        new: &NewRequest,
        checked: &Checked,
        existing: subject_request::Model,
    ) -> Result<Submitted> {
        let given: std::collections::BTreeSet<(String, String)> =
            super::identities_of(existing.org_id, existing.id)
                .all(self.store.conn())
                .await?
                .into_iter()
                .map(|i| (i.kind, i.value))
                .collect();
        let asked: std::collections::BTreeSet<(String, String)> = checked
            .identities
            .iter()
            .map(|i| (i.kind.as_str().to_owned(), i.value.clone()))
            .collect();
        if existing.kind != new.kind.as_str()
            || existing.is_test != new.is_test
            || existing.channel != new.channel.as_str()
            || given != asked
        {
            return Err(Error::Conflict(
                "this idempotency key was used for a different request".into(),
            ));
        }
        Ok(Submitted {
            request: existing.try_into()?,
            created: false,
        })
    }

    async fn insert_request(
        &self,
        principal: &Principal,
        new: &NewRequest,
        checked: Checked,
        settings: &settings::RequestSettings,
        at: DateTime<Utc>,
    ) -> Result<Submitted> {
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let (subject_id, was_known, given) =
            match_subject(conn, principal.org_id, &checked.identities).await?;
        use subject_request::Column as C;
        let mut flags = Vec::new();
        let mut duplicate_of = None;
        let mut possibly_excessive = false;
        if was_known {
            duplicate_of = subject_request::Entity::find()
                .filter(C::OrgId.eq(principal.org_id))
                .filter(C::SubjectId.eq(subject_id))
                .filter(C::Kind.eq(new.kind.as_str()))
                .filter(C::State.is_in(super::open_states()))
                .order_by_asc(C::ReceivedAt)
                .one(conn)
                .await?
                .map(|r| r.id);
            if let Some(d) = duplicate_of {
                flags.push(format!(
                    "possible duplicate of open request {d} of the same kind"
                ));
            }
            let earlier = subject_request::Entity::find()
                .filter(C::OrgId.eq(principal.org_id))
                .filter(C::SubjectId.eq(subject_id))
                .filter(C::IsTest.eq(new.is_test))
                .filter(C::ReceivedAt.gt(checked.received_at - Duration::days(365)))
                .count(conn)
                .await?;
            if earlier + 1 > settings.excessive_threshold as u64 {
                possibly_excessive = true;
                flags.push(format!(
                    "{} requests of this subject within 12 months (threshold {}): possibly excessive under Art. 12(5), for the reviewer to decide",
                    earlier + 1,
                    settings.excessive_threshold
                ));
            }
        }
        let id = new_id();
        let (deadline_start, due_date) = match settings.deadline_start {
            DeadlineBasis::Receipt => {
                // The organization's local day of receipt, not the UTC one.
                let (start, due) = settings.deadline_from(checked.received_at);
                (Some(start), Some(due))
            }
            DeadlineBasis::Verification => (None, None),
        };
        let request = subject_request::ActiveModel {
            id: Set(id),
            org_id: Set(principal.org_id),
            subject_id: Set(subject_id),
            kind: Set(new.kind.as_str().to_owned()),
            state: Set(RequestState::Received.as_str().to_owned()),
            channel: Set(new.channel.as_str().to_owned()),
            received_at: Set(checked.received_at),
            deadline_basis: Set(settings.deadline_start.as_str().to_owned()),
            deadline_start: Set(deadline_start),
            due_date: Set(due_date),
            extended_due_date: Set(None),
            extension_reason: Set(None),
            extended_at: Set(None),
            due_sort_key: Set(super::due_sort_key(due_date, id)),
            assignee_id: Set(None),
            claimed_by: Set(None),
            claimed_at: Set(None),
            is_test: Set(new.is_test),
            version: Set(1),
            request_text: Set(checked.text.clone()),
            idempotency_key: Set(checked.idempotency_key.clone()),
            duplicate_of: Set(duplicate_of),
            possibly_excessive: Set(possibly_excessive),
            verified_at: Set(None),
            verification_method: Set(None),
            verification_evidence: Set(None),
            submitted_for_review_by: Set(None),
            rejection_ground: Set(None),
            state_reason: Set(None),
            state_changed_at: Set(at),
            created_by: Set(Some(principal.key_id)),
            created_at: Set(at),
            updated_at: Set(at),
        }
        .insert(conn)
        .await?;
        if !given.is_empty() {
            request_identity::Entity::insert_many(given.into_iter().map(|identity_id| {
                request_identity::ActiveModel {
                    request_id: Set(id),
                    identity_id: Set(identity_id),
                    org_id: Set(principal.org_id),
                }
            }))
            .exec(conn)
            .await?;
        }
        for a in &new.attachments {
            request_attachment::ActiveModel {
                id: Set(new_id()),
                org_id: Set(principal.org_id),
                request_id: Set(id),
                task_id: Set(None),
                file_name: Set(a.file_name.trim().to_owned()),
                media_type: Set(a.media_type.trim().to_owned()),
                size_bytes: Set(a.content.len() as i64),
                sha256: Set(hex::encode(Sha256::digest(&a.content))),
                content: Set(self.cipher.encrypt(&a.content)?),
                created_by: Set(Some(principal.key_id)),
                created_at: Set(at),
            }
            .insert(conn)
            .await?;
        }
        let mut message = format!(
            "{} request received via {}",
            new.kind.as_str(),
            new.channel.as_str()
        );
        for flag in &flags {
            message.push_str("; ");
            message.push_str(flag);
        }
        self.note(
            &mut tx,
            principal,
            &request,
            TimelineKind::Received,
            message,
        )
        .await?;
        let audit = Entry::success("submitRequest", "SubjectRequest", id)
            .after(super::request_state(&request));
        self.commit_audited(tx, principal, audit).await?;
        Ok(Submitted {
            request: request.try_into()?,
            created: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(kind: IdentityType, value: &str) -> Result<String> {
        let mut v = Validator::default();
        let out = normalize_identity(&mut v, kind, value, &["v"], PhoneRegion::default());
        v.finish().map(|_| out)
    }

    #[test]
    fn every_spelling_of_a_mailbox_or_number_is_one_identity() {
        use IdentityType::{Email, Phone};
        assert_eq!(
            normalized(Email, "jo\u{308}rg.weiss@BEISPIEL.example").unwrap(),
            normalized(Email, "j\u{f6}rg.weiss@beispiel.example").unwrap()
        );
        assert_eq!(
            normalized(Email, "a@b\u{fc}cher.example").unwrap(),
            normalized(Email, "a@xn--bcher-kva.example").unwrap()
        );
        for spelling in ["+49 (0)221 9876543", "0221 9876543", "221 9876543"] {
            assert_eq!(normalized(Phone, spelling).unwrap(), "+492219876543");
        }
    }

    #[test]
    fn an_invalid_number_is_a_validation_error_naming_the_field() {
        let mut v = Validator::default();
        normalize_identity(
            &mut v,
            IdentityType::Phone,
            "12345",
            &["input", "identities", "0", "value"],
            PhoneRegion::default(),
        );
        let Err(Error::Validation(fields)) = v.finish() else {
            panic!("12345 must be refused");
        };
        assert_eq!(fields[0].path, ["input", "identities", "0", "value"]);
    }
}
