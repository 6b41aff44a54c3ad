//! Identity verification: an e-mail one-time code (random, stored hashed, expiring,
//! limited attempts, resend rate-limited) or staff verification with recorded
//! evidence. Too many wrong codes, or staff deciding so, rejects the request and
//! tells the subject.

use chrono::Duration;
use rand::Rng;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use entity::{subject_identity, subject_request, verification_challenge};

use super::machine::{RequestEvent, RequestState};
use super::transitions::Verified;
use super::{TimelineKind, VerificationMethod};
use crate::access::audit::Entry;
use crate::access::authz::{Action, Object};
use crate::access::principal::Principal;
use crate::core::outbox;
use crate::core::store::Tx;
use crate::error::{Error, Result, Validator};
use crate::register::fields::IdentityType;
use crate::{Workflow, new_id, now};

/// How long a code is valid.
pub const CODE_TTL_MINUTES: i64 = 30;
/// Codes compared per request at most, resends included; the last one, if wrong,
/// rejects the request.
pub const MAX_CODE_ATTEMPTS: i32 = 5;
/// Codes sent per request at most (first send included).
///
/// Both limits are counted on the request's one verification challenge with
/// [`crate::core::store::take_slot`].
pub const MAX_CODE_SENDS: i32 = 5;
/// Minimum seconds between two sends.
pub const RESEND_AFTER_SECONDS: i64 = 60;

fn hash_code(challenge_id: Uuid, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{challenge_id}:{code}").as_bytes()))
}

fn new_code() -> String {
    format!("{:06}", rand::rng().random_range(0..1_000_000u32))
}

/// Compares in constant time (the hashes have equal length).
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Workflow {
    async fn email_identity(
        &self,
        tx: &Tx,
        request: &subject_request::Model,
        email: Option<&str>,
    ) -> Result<subject_identity::Model> {
        let mut select = super::identities_of(request.org_id, request.id)
            .filter(subject_identity::Column::Kind.eq(IdentityType::Email.as_str()));
        if let Some(email) = email {
            let mut v = Validator::default();
            let email = super::intake::normalize_identity(
                &mut v,
                IdentityType::Email,
                email,
                &["input", "email"],
                // The region reads phone numbers only.
                identity::PhoneRegion::default(),
            );
            v.finish()?;
            select = select.filter(subject_identity::Column::Value.eq(email));
        }
        select
            .order_by_asc(subject_identity::Column::CreatedAt)
            .one(tx.conn())
            .await?
            .ok_or_else(|| match email {
                Some(_) => Error::NotFound { what: "e-mail identity of this request's subject" },
                None => Error::Conflict(
                    "the requester gave no e-mail address: verify the identity by staff check instead".into(),
                ),
            })
    }

    /// Sends a one-time code to the requester's e-mail address (RECEIVED -> VERIFYING).
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn start_email_verification(
        &self,
        principal: &Principal,
        request_id: Uuid,
        version: i32,
        email: Option<String>,
    ) -> Result<super::RequestView> {
        let mut tx = self.store.begin().await?;
        let request = super::find_request(tx.conn(), principal.org_id, request_id).await?;
        super::check_version(&request, version)?;
        let identity = self.email_identity(&tx, &request, email.as_deref()).await?;
        let (updated, audit) = self
            .transition_in(
                &mut tx,
                principal,
                request,
                RequestEvent::StartVerification,
                None,
                None,
                None,
            )
            .await?;
        self.send_code(&tx, principal, &updated, &identity).await?;
        self.commit_audited(tx, principal, audit).await?;
        updated.try_into()
    }

    /// Creates the request's challenge (one per request: its counters are the
    /// request's) and queues the first code.
    async fn send_code(
        &self,
        tx: &Tx,
        principal: &Principal,
        request: &subject_request::Model,
        identity: &subject_identity::Model,
    ) -> Result<()> {
        let at = now();
        let code = new_code();
        let id = new_id();
        verification_challenge::ActiveModel {
            id: Set(id),
            org_id: Set(principal.org_id),
            request_id: Set(request.id),
            identity_id: Set(identity.id),
            code_hash: Set(hash_code(id, &code)),
            expires_at: Set(at + Duration::minutes(CODE_TTL_MINUTES)),
            attempts: Set(0),
            sent_count: Set(1),
            last_sent_at: Set(at),
            consumed_at: Set(None),
            created_at: Set(at),
        }
        .insert(tx.conn())
        .await?;
        self.queue_code(tx, request, identity, &code).await
    }

    async fn queue_code(
        &self,
        tx: &Tx,
        request: &subject_request::Model,
        identity: &subject_identity::Model,
        code: &str,
    ) -> Result<()> {
        outbox::queue(
            tx.conn(),
            &self.cipher,
            request,
            &identity.value,
            outbox::Notice::VerificationCode {
                code,
                minutes: CODE_TTL_MINUTES,
            },
        )
        .await?;
        Ok(())
    }

    /// The request's challenge (there is at most one per request).
    async fn challenge_of(
        &self,
        tx: &Tx,
        request_id: Uuid,
    ) -> Result<verification_challenge::Model> {
        verification_challenge::Entity::find()
            .filter(verification_challenge::Column::RequestId.eq(request_id))
            .order_by_desc(verification_challenge::Column::CreatedAt)
            .one(tx.conn())
            .await?
            .ok_or_else(|| {
                Error::Conflict(
                    "no code was sent for this request: start e-mail verification first".into(),
                )
            })
    }

    /// Sends a new code (the old one stops working). At most one per
    /// [`RESEND_AFTER_SECONDS`] and [`MAX_CODE_SENDS`] in all. The wrong-code count
    /// is the request's and goes on: a new code brings no new attempts.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn resend_verification_code(
        &self,
        principal: &Principal,
        request_id: Uuid,
    ) -> Result<super::RequestView> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                Object::Request,
                Action::Verify,
            )
            .await?;
        let tx = self.store.begin().await?;
        let request = super::find_request(tx.conn(), principal.org_id, request_id).await?;
        if request.state != RequestState::Verifying.as_str() {
            return Err(Error::Conflict(format!(
                "codes are sent while the request is VERIFYING; it is {}",
                request.state
            )));
        }
        let challenge = self.challenge_of(&tx, request.id).await?;
        let at = now();
        let code = new_code();
        // One statement takes a send and replaces the code, only if the limit, the
        // pause between sends and the challenge's state all allow it right now.
        use verification_challenge::Column as V;
        let sent = crate::core::store::take_slot(
            tx.conn(),
            verification_challenge::Entity::update_many()
                .col_expr(V::CodeHash, Expr::value(hash_code(challenge.id, &code)))
                .col_expr(
                    V::ExpiresAt,
                    Expr::value(at + Duration::minutes(CODE_TTL_MINUTES)),
                )
                .col_expr(V::LastSentAt, Expr::value(at))
                .filter(V::Id.eq(challenge.id))
                .filter(V::ConsumedAt.is_null())
                .filter(V::LastSentAt.lte(at - Duration::seconds(RESEND_AFTER_SECONDS))),
            V::SentCount,
            MAX_CODE_SENDS,
        )
        .await?;
        if !sent {
            let wait = challenge.last_sent_at + Duration::seconds(RESEND_AFTER_SECONDS) - at;
            return Err(if challenge.sent_count >= MAX_CODE_SENDS {
                Error::Conflict(format!(
                    "{MAX_CODE_SENDS} codes were sent already: verify the identity by staff check instead"
                ))
            } else if challenge.consumed_at.is_some() {
                Error::Conflict("the code of this request was used up".into())
            } else {
                Error::Conflict(format!(
                    "a code was sent moments ago: wait {} more second(s)",
                    wait.num_seconds().clamp(0, RESEND_AFTER_SECONDS) + 1
                ))
            });
        }
        let identity = subject_identity::Entity::find_by_id(challenge.identity_id)
            .one(tx.conn())
            .await?
            .ok_or(Error::NotFound { what: "identity" })?;
        self.queue_code(&tx, &request, &identity, &code).await?;
        self.commit_note(
            tx,
            principal,
            &request,
            TimelineKind::Verification,
            "a new code was sent".into(),
            "resendVerificationCode",
        )
        .await?;
        request.try_into()
    }

    /// Checks a code the requester entered. Right: the identity is verified and
    /// collection starts. Wrong: VALIDATION with the attempts left; the last wrong
    /// attempt rejects the request (and the subject is told). Expired: VALIDATION.
    ///
    /// Every code looked at takes one of the request's [`MAX_CODE_ATTEMPTS`] first,
    /// in one conditional statement that also locks the challenge until this
    /// transaction ends: whatever the concurrency, at most that many codes are ever
    /// compared per request (resends included).
    ///
    /// Whatever follows (verified, rejected), the audit log records it as
    /// `confirmEmailVerification`, like the call's denials and failures.
    #[tracing::instrument(skip(self, code), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn confirm_email_verification(
        &self,
        principal: &Principal,
        request_id: Uuid,
        code: &str,
    ) -> Result<super::RequestView> {
        crate::access::audit::as_part_of(
            "confirmEmailVerification",
            self.check_code(principal, request_id, code),
        )
        .await
    }

    async fn check_code(
        &self,
        principal: &Principal,
        request_id: Uuid,
        code: &str,
    ) -> Result<super::RequestView> {
        let mut tx = self.store.begin().await?;
        let at = now();
        use verification_challenge::Column as V;
        let attempt = crate::core::store::take_slot(
            tx.conn(),
            verification_challenge::Entity::update_many()
                .filter(V::OrgId.eq(principal.org_id))
                .filter(V::RequestId.eq(request_id))
                .filter(V::ConsumedAt.is_null())
                .filter(V::ExpiresAt.gt(at)),
            V::Attempts,
            MAX_CODE_ATTEMPTS,
        )
        .await?;
        // Anything that fails from here on before a code is compared rolls the
        // attempt back with the transaction (nothing was evaluated).
        let request = super::find_request_locked(tx.conn(), principal.org_id, request_id).await?;
        if request.state != RequestState::Verifying.as_str() {
            return Err(Error::Conflict(format!(
                "the request is not waiting for a code (it is {})",
                request.state
            )));
        }
        let challenge = self.challenge_of(&tx, request.id).await?;
        if !attempt {
            return Err(if challenge.consumed_at.is_some() {
                Error::Conflict("the code of this request was used up".into())
            } else if challenge.expires_at <= at {
                Error::invalid(
                    &["input", "code"],
                    "the code has expired: request a new one",
                )
            } else {
                Error::invalid(
                    &["input", "code"],
                    "no attempts are left: verify the identity by staff check instead",
                )
            });
        }
        let code = code.trim();
        if same(&hash_code(challenge.id, code), &challenge.code_hash) {
            let identity_id = challenge.identity_id;
            let mut active = challenge.into_active_model();
            active.consumed_at = Set(Some(at));
            active.update(tx.conn()).await?;
            let (updated, audit) = self
                .transition_in(
                    &mut tx,
                    principal,
                    request,
                    RequestEvent::ConfirmIdentity,
                    None,
                    None,
                    Some(Verified {
                        method: VerificationMethod::EmailCode,
                        evidence: None,
                        identity_id: Some(identity_id),
                    }),
                )
                .await?;
            self.commit_audited(tx, principal, audit).await?;
            return updated.try_into();
        }
        // `challenge` was read after this call's attempt was counted.
        let left = MAX_CODE_ATTEMPTS - challenge.attempts;
        if left > 0 {
            self.commit_note(
                tx,
                principal,
                &request,
                TimelineKind::Verification,
                format!("wrong code entered ({left} attempt(s) left)"),
                "confirmEmailVerification",
            )
            .await?;
            return Err(Error::invalid(
                &["input", "code"],
                format!("the code is wrong: {left} attempt(s) left"),
            ));
        }
        let mut active = challenge.into_active_model();
        active.consumed_at = Set(Some(at));
        active.update(tx.conn()).await?;
        let (_, audit) = self
            .reject_unverified(
                &mut tx,
                principal,
                request,
                "the verification code was entered wrongly too often",
            )
            .await?;
        self.commit_audited(tx, principal, audit).await?;
        Err(Error::invalid(
            &["input", "code"],
            "the code is wrong and no attempts are left: the request was rejected and the requester told",
        ))
    }

    async fn reject_unverified(
        &self,
        tx: &mut Tx,
        principal: &Principal,
        request: subject_request::Model,
        reason: &str,
    ) -> Result<(subject_request::Model, Entry)> {
        self.transition_in(
            tx,
            principal,
            request,
            RequestEvent::FailVerification,
            Some(reason.to_owned()),
            None,
            None,
        )
        .await
    }

    /// Staff verification: records the method and the evidence checked (e.g. which
    /// document) and starts collection.
    #[tracing::instrument(skip(self, evidence), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn verify_identity(
        &self,
        principal: &Principal,
        request_id: Uuid,
        version: Option<i32>,
        method: VerificationMethod,
        evidence: String,
    ) -> Result<super::RequestView> {
        let mut v = Validator::default();
        let evidence = v.multiline_text(&evidence, &["input", "evidence"], 2000);
        v.check(
            method != VerificationMethod::EmailCode,
            &["input", "method"],
            "e-mail codes are confirmed with confirmEmailVerification",
        );
        v.finish()?;
        let mut tx = self.store.begin().await?;
        let request = super::find_request(tx.conn(), principal.org_id, request_id).await?;
        if let Some(version) = version {
            super::check_version(&request, version)?;
        }
        let (updated, audit) = self
            .transition_in(
                &mut tx,
                principal,
                request,
                RequestEvent::ConfirmIdentity,
                None,
                None,
                Some(Verified {
                    method,
                    evidence: Some(evidence),
                    identity_id: None,
                }),
            )
            .await?;
        self.commit_audited(tx, principal, audit).await?;
        updated.try_into()
    }

    /// Marks each request verified by staff with the same evidence; each item on its own.
    pub async fn bulk_verify(
        &self,
        principal: &Principal,
        ids: &[Uuid],
        method: VerificationMethod,
        evidence: String,
    ) -> Result<Vec<super::BulkOutcome>> {
        self.bulk("bulkVerify", ids, |id| {
            let evidence = evidence.clone();
            async move {
                self.verify_identity(principal, id, None, method, evidence)
                    .await
            }
        })
        .await
    }
}
