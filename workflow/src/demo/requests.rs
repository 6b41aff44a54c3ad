//! Sample requests of the demo organization, in several states of the workflow, so
//! that a newcomer sees a review queue, open tasks and a closed request at once.

use chrono::Duration;

use crate::error::Result;
use crate::register::fields::IdentityType;
use crate::requests::{
    Channel, CollectedValue, Fire, NewIdentity, NewRequest, RejectionGround, RequestEvent,
    RequestKind, TaskOutcome, VerificationMethod,
};
use crate::{Principal, Workflow, now};

struct Sample {
    email: &'static str,
    kind: RequestKind,
    channel: Channel,
    days_ago: i64,
    text: &'static str,
    is_test: bool,
}

impl Workflow {
    async fn demo_request(
        &self,
        admin: &Principal,
        s: &Sample,
    ) -> Result<crate::requests::RequestView> {
        Ok(self
            .submit_request(
                admin,
                NewRequest {
                    kind: s.kind,
                    channel: s.channel,
                    identities: vec![NewIdentity {
                        kind: IdentityType::Email,
                        value: s.email.into(),
                    }],
                    text: Some(s.text.into()),
                    is_test: s.is_test,
                    received_at: Some(now() - Duration::days(s.days_ago)),
                    idempotency_key: None,
                    attachments: vec![],
                },
            )
            .await?
            .request)
    }

    async fn demo_step(
        &self,
        who: &Principal,
        r: &crate::requests::RequestView,
        event: RequestEvent,
        reason: Option<&str>,
    ) -> Result<crate::requests::RequestView> {
        self.fire(
            who,
            Fire {
                request_id: r.id,
                version: r.version,
                event,
                reason: reason.map(str::to_owned),
                ground: Some(RejectionGround::Excessive),
            },
        )
        .await
    }

    /// Verifies by staff check and completes every collection task with the subject's
    /// e-mail address where a source maps one.
    async fn demo_collect(
        &self,
        admin: &Principal,
        r: &crate::requests::RequestView,
        email: &str,
    ) -> Result<crate::requests::RequestView> {
        let mut r = self
            .verify_identity(
                admin,
                r.id,
                Some(r.version),
                VerificationMethod::KnownCustomer,
                "Kundennummer und Lieferadresse stimmen mit dem Kundenkonto überein".into(),
            )
            .await?;
        for task in self.tasks_of_requests(admin, &[r.id]).await? {
            let fields = self
                .data_fields_of_sources(admin, &[task.source_id])
                .await?;
            let values = fields
                .iter()
                .filter(|f| f.identity_type == Some(IdentityType::Email))
                .take(1)
                .map(|f| CollectedValue {
                    field_id: Some(f.id),
                    location: None,
                    value: email.into(),
                })
                .collect();
            r = self
                .complete_task(
                    admin,
                    task.id,
                    TaskOutcome::Done {
                        values,
                        note: Some("per E-Mail-Adresse gesucht".into()),
                    },
                )
                .await?
                .1;
        }
        Ok(r)
    }

    /// Creates the sample requests: RECEIVED, VERIFYING, COLLECTING, IN_REVIEW
    /// (extended), EXECUTING (erasure), CLOSED, REJECTED and a cancelled test request.
    pub async fn seed_demo_requests(&self, admin: &Principal, reviewer: &Principal) -> Result<()> {
        let sample = |email, kind, channel, days_ago, text| Sample {
            email,
            kind,
            channel,
            days_ago,
            text,
            is_test: false,
        };
        use Channel::*;
        use RequestKind::*;
        self.demo_request(admin, &sample("anna.schmidt@example.de", Access, WebForm, 0,
            "Ich bitte um Auskunft über alle zu meiner Person gespeicherten Daten (Art. 15 DSGVO).")).await?;

        let r = self
            .demo_request(
                admin,
                &sample(
                    "bernd.meyer@example.de",
                    Portability,
                    Email,
                    1,
                    "Bitte senden Sie mir meine Bestelldaten in einem maschinenlesbaren Format.",
                ),
            )
            .await?;
        self.start_email_verification(admin, r.id, r.version, None)
            .await?;

        let r = self
            .demo_request(
                admin,
                &sample(
                    "clara.wolf@example.de",
                    Access,
                    Letter,
                    9,
                    "Per Brief: Welche Daten speichern Sie über mich und woher haben Sie diese?",
                ),
            )
            .await?;
        self.verify_identity(
            admin,
            r.id,
            Some(r.version),
            VerificationMethod::DocumentCheck,
            "Kopie des Personalausweises (geschwärzt) lag dem Brief bei".into(),
        )
        .await?;

        let email = "david.keller@example.de";
        let r = self
            .demo_request(
                admin,
                &sample(
                    email,
                    Access,
                    WebForm,
                    20,
                    "Auskunft bitte inklusive Empfänger und Speicherdauer.",
                ),
            )
            .await?;
        let r = self.demo_collect(admin, &r, email).await?;
        let r = self
            .extend_deadline(
                admin,
                r.id,
                r.version,
                "Daten aus Shop, CRM und Archiv; das Archiv wird erst nächste Woche zugänglich"
                    .into(),
            )
            .await?;
        self.demo_step(admin, &r, RequestEvent::SubmitForReview, None)
            .await?;

        let email = "eva.braun@example.de";
        let r = self
            .demo_request(
                admin,
                &sample(
                    email,
                    Erasure,
                    Email,
                    12,
                    "Bitte löschen Sie mein Kundenkonto und alle Daten.",
                ),
            )
            .await?;
        let r = self.demo_collect(admin, &r, email).await?;
        let r = self
            .demo_step(admin, &r, RequestEvent::SubmitForReview, None)
            .await?;
        let r = self
            .demo_step(reviewer, &r, RequestEvent::Approve, None)
            .await?;
        self.demo_step(admin, &r, RequestEvent::StartExecution, None)
            .await?;

        let email = "felix.koch@example.de";
        let r = self
            .demo_request(
                admin,
                &sample(email, Access, WebForm, 30, "Was wissen Sie über mich?"),
            )
            .await?;
        let r = self.demo_collect(admin, &r, email).await?;
        let r = self
            .demo_step(admin, &r, RequestEvent::SubmitForReview, None)
            .await?;
        let r = self
            .demo_step(reviewer, &r, RequestEvent::Approve, None)
            .await?;
        let today = crate::requests::load_settings(self.store.conn(), admin.org_id)
            .await?
            .clock()
            .date_of(crate::now());
        let r = self
            .dispatch(
                admin,
                crate::dispatch::DispatchInput {
                    request_id: r.id,
                    version: r.version,
                    channel: crate::dispatch::DispatchChannel::Postal,
                    recipient: Some("Felix Koch\nLindenstraße 4\n10969 Berlin".into()),
                    attach_package: false,
                    sent_on: Some(today),
                    tracking_reference: Some("RR123456789DE".into()),
                    origin: None,
                },
            )
            .await?
            .request;
        self.demo_step(admin, &r, RequestEvent::Close, None).await?;

        let r = self
            .demo_request(
                admin,
                &sample(
                    "gregor.lang@example.de",
                    Objection,
                    Phone,
                    3,
                    "Anruf: Widerspruch gegen Werbung, zum fünften Mal diese Woche.",
                ),
            )
            .await?;
        self.demo_step(reviewer, &r, RequestEvent::Reject, Some(
            "Der Widerspruch gegen Werbung wurde bereits am Montag umgesetzt; die wiederholten Anrufe sind exzessiv (Art. 12 Abs. 5 DSGVO).")).await?;

        let r = self
            .demo_request(
                admin,
                &Sample {
                    is_test: true,
                    ..sample(
                        "testkunde@example.de",
                        Access,
                        Api,
                        0,
                        "Testanfrage des Shop-Teams",
                    )
                },
            )
            .await?;
        self.demo_step(admin, &r, RequestEvent::Cancel, Some("Test beendet"))
            .await?;
        Ok(())
    }
}
