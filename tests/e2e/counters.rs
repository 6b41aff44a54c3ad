//! Limit counters hold under concurrency (issue 10, section 3): wrong codes, code
//! sends, review claims and outbox delivery attempts are each taken in one
//! conditional statement, on every database.

use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;
use workflow::Role;
use workflow::entity::{outbox, verification_challenge};
use workflow::requests::{MAX_CODE_ATTEMPTS, MAX_CODE_SENDS, RequestState};

use crate::common::{TestApp, e2e};
use crate::requests::{in_review, principal};

fn new_request(email: String) -> workflow::requests::NewRequest {
    workflow::requests::NewRequest {
        kind: workflow::requests::RequestKind::Access,
        channel: workflow::requests::Channel::Api,
        identities: vec![workflow::requests::NewIdentity {
            kind: workflow::register::fields::IdentityType::Email,
            value: email,
        }],
        text: None,
        is_test: true,
        received_at: None,
        idempotency_key: None,
        attachments: vec![],
    }
}

/// A fresh request in VERIFYING with its first code sent; returns (id, code).
async fn verifying(app: &TestApp, n: usize) -> (Uuid, String) {
    let wf = &app.workflow;
    let submitted = wf
        .submit_request(
            &principal(app, Role::Integrator),
            new_request(format!("counter{n}@example.com")),
        )
        .await
        .unwrap();
    let id = submitted.request.id;
    wf.start_email_verification(&principal(app, Role::Agent), id, 1, None)
        .await
        .unwrap();
    (id, last_code(app, id).await)
}

async fn last_code(app: &TestApp, id: Uuid) -> String {
    let mails = app.workflow.outbox_of_request(id).await.unwrap();
    let body = &mails.last().expect("a code mail").body;
    body.split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a six-digit code in the mail")
        .to_owned()
}

async fn challenge(app: &TestApp, id: Uuid) -> verification_challenge::Model {
    verification_challenge::Entity::find()
        .filter(verification_challenge::Column::RequestId.eq(id))
        .one(app.workflow.store().conn())
        .await
        .unwrap()
        .expect("the request's challenge")
}

/// Moves the last send into the past, as if the pause between sends had passed.
async fn pause_passed(app: &TestApp, id: Uuid) {
    let _turn = app.workflow.store().writer_turn().await;
    verification_challenge::Entity::update_many()
        .col_expr(
            verification_challenge::Column::LastSentAt,
            Expr::value(workflow::now() - chrono::Duration::minutes(2)),
        )
        .filter(verification_challenge::Column::RequestId.eq(id))
        .exec(app.workflow.store().conn())
        .await
        .unwrap();
}

fn wrong_codes(right: &str, n: usize) -> Vec<String> {
    (0..1_000_000u32)
        .map(|i| format!("{:06}", (i * 7919 + 13) % 1_000_000))
        .filter(|c| c != right)
        .take(n)
        .collect()
}

fn is_wrong_code_answer(e: &workflow::Error) -> bool {
    e.code() == workflow::ErrorCode::Validation && e.to_string().contains("the code is wrong")
}

async fn concurrent_confirms_evaluate_at_most_five_codes(app: TestApp) {
    let integrator = principal(&app, Role::Integrator);
    let mut verified_bursts = 0;
    for burst in 0..6 {
        let (id, code) = verifying(&app, burst).await;
        let mut codes = wrong_codes(&code, 30);
        // The right code somewhere among the wrong ones (first, middle, last ...).
        codes.insert((burst * 7) % 31, code.clone());
        let mut calls = Vec::new();
        for c in codes {
            let (wf, p) = (app.workflow.clone(), integrator.clone());
            let right = c == code;
            calls.push(tokio::spawn(async move {
                (right, wf.confirm_email_verification(&p, id, &c).await)
            }));
        }
        let (mut wrong, mut verified, mut right_evaluated) = (0, 0, false);
        for call in calls {
            let (right, result) = call.await.unwrap();
            match result {
                Ok(r) => {
                    assert!(right, "only the right code verifies");
                    assert_eq!(r.state, RequestState::Collecting);
                    verified += 1;
                    right_evaluated = true;
                }
                Err(e) if is_wrong_code_answer(&e) => {
                    assert!(!right, "the right code is never called wrong: {e}");
                    wrong += 1;
                }
                Err(e) => {
                    // Not evaluated: the request had left VERIFYING or had no attempt left.
                    assert!(
                        matches!(
                            e.code(),
                            workflow::ErrorCode::Conflict | workflow::ErrorCode::Validation
                        ),
                        "{e}"
                    );
                    assert!(!e.to_string().contains("the code is wrong"), "{e}");
                }
            }
        }
        let evaluated = wrong + verified;
        assert!(
            evaluated <= MAX_CODE_ATTEMPTS,
            "burst {burst}: {evaluated} codes evaluated ({wrong} wrong), the limit is {MAX_CODE_ATTEMPTS}"
        );
        assert_eq!(
            challenge(&app, id).await.attempts,
            evaluated,
            "burst {burst}: every evaluated code took exactly one attempt"
        );
        let state = app.workflow.request(&integrator, id).await.unwrap().state;
        if verified == 1 {
            assert!(right_evaluated && wrong < MAX_CODE_ATTEMPTS);
            assert_eq!(state, RequestState::Collecting);
            verified_bursts += 1;
        } else {
            assert_eq!(verified, 0);
            assert_eq!(
                wrong, MAX_CODE_ATTEMPTS,
                "burst {burst}: without the right code, exactly the limit was evaluated"
            );
            assert_eq!(state, RequestState::Rejected, "burst {burst}");
        }
    }
    eprintln!("{verified_bursts} of 6 bursts verified (the right code was among the first 5)");
}
e2e!(
    concurrent_confirms,
    concurrent_confirms_evaluate_at_most_five_codes
);

async fn a_resend_brings_no_new_attempts(app: TestApp) {
    let (integrator, agent) = (
        principal(&app, Role::Integrator),
        principal(&app, Role::Agent),
    );
    let (id, code) = verifying(&app, 0).await;
    let wrong = wrong_codes(&code, 4);
    for (i, w) in wrong.iter().enumerate() {
        let e = app
            .workflow
            .confirm_email_verification(&integrator, id, w)
            .await
            .unwrap_err();
        assert!(
            e.to_string()
                .contains(&format!("{} attempt(s) left", 4 - i)),
            "{e}"
        );
    }
    pause_passed(&app, id).await;
    app.workflow
        .resend_verification_code(&agent, id)
        .await
        .unwrap();
    let new_code = last_code(&app, id).await;
    let e = app
        .workflow
        .confirm_email_verification(&integrator, id, &wrong_codes(&new_code, 1)[0])
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("no attempts are left"),
        "the fifth wrong code, after a resend, is the last: {e}"
    );
    let r = app.workflow.request(&integrator, id).await.unwrap();
    assert_eq!(r.state, RequestState::Rejected);
    // Nothing is evaluated any more, the new code included.
    let e = app
        .workflow
        .confirm_email_verification(&integrator, id, &new_code)
        .await
        .unwrap_err();
    assert_eq!(e.code(), workflow::ErrorCode::Conflict, "{e}");
    assert_eq!(challenge(&app, id).await.attempts, MAX_CODE_ATTEMPTS);
}
e2e!(resend_keeps_attempts, a_resend_brings_no_new_attempts);

async fn concurrent_resends_never_exceed_the_send_limit(app: TestApp) {
    let agent = principal(&app, Role::Agent);
    let (id, _) = verifying(&app, 0).await;
    let mut total = 0;
    for round in 0..7 {
        pause_passed(&app, id).await;
        let mut calls = Vec::new();
        for _ in 0..8 {
            let (wf, p) = (app.workflow.clone(), agent.clone());
            calls.push(tokio::spawn(async move {
                wf.resend_verification_code(&p, id).await
            }));
        }
        let mut sent = 0;
        for call in calls {
            match call.await.unwrap() {
                Ok(_) => sent += 1,
                Err(e) => assert_eq!(e.code(), workflow::ErrorCode::Conflict, "{e}"),
            }
        }
        let expected = usize::from(round < (MAX_CODE_SENDS - 1) as usize);
        assert_eq!(
            sent, expected,
            "round {round}: one send per pause while the limit allows, none after"
        );
        total += sent;
    }
    assert_eq!(total, (MAX_CODE_SENDS - 1) as usize);
    let c = challenge(&app, id).await;
    assert_eq!(c.sent_count, MAX_CODE_SENDS);
    let mails = app.workflow.outbox_of_request(id).await.unwrap();
    assert_eq!(
        mails.len(),
        MAX_CODE_SENDS as usize,
        "exactly the limit of code mails, the first one included"
    );
}
e2e!(
    concurrent_resends,
    concurrent_resends_never_exceed_the_send_limit
);

async fn concurrent_claims_have_exactly_one_winner(app: TestApp) {
    let admin = principal(&app, Role::Admin);
    let mut reviewers = Vec::new();
    for i in 0..6 {
        let issued = app
            .workflow
            .create_api_key(
                &admin,
                workflow::NewApiKey {
                    name: format!("reviewer {i}"),
                    roles: vec![Role::Reviewer],
                },
            )
            .await
            .unwrap();
        reviewers.push(workflow::Principal {
            key_id: issued.key.id,
            org_id: app.org_id,
            key_name: format!("reviewer {i}"),
            kind: workflow::PrincipalKind::ApiKey,
        });
    }
    for burst in 0..20 {
        let id = in_review(&app, burst).await;
        let mut calls = Vec::new();
        for p in &reviewers {
            let (wf, p) = (app.workflow.clone(), p.clone());
            calls.push(tokio::spawn(async move {
                (p.key_id, wf.claim_request(&p, id).await)
            }));
        }
        let mut winners = Vec::new();
        for call in calls {
            match call.await.unwrap() {
                (key, Ok(r)) => {
                    assert_eq!(r.claimed_by, Some(key));
                    winners.push(key);
                }
                (_, Err(e)) => assert_eq!(e.code(), workflow::ErrorCode::Conflict, "{e}"),
            }
        }
        assert_eq!(winners.len(), 1, "burst {burst}: exactly one claim wins");
        let r = app.workflow.request(&admin, id).await.unwrap();
        assert_eq!(r.claimed_by, Some(winners[0]));
        // Only the winner releases it, also when all try at once.
        let mut calls = Vec::new();
        for p in &reviewers {
            let (wf, p) = (app.workflow.clone(), p.clone());
            calls.push(tokio::spawn(async move {
                (p.key_id, wf.unclaim_request(&p, id).await)
            }));
        }
        for call in calls {
            let (key, result) = call.await.unwrap();
            if key == winners[0] {
                assert_eq!(result.unwrap().claimed_by, None);
            } else if let Err(e) = result {
                assert_eq!(e.code(), workflow::ErrorCode::Conflict, "{e}");
            }
        }
        let r = app.workflow.request(&admin, id).await.unwrap();
        assert_eq!(r.claimed_by, None, "burst {burst}: released by its claimer");
    }
}
e2e!(concurrent_claims, concurrent_claims_have_exactly_one_winner);

struct Counting(std::sync::Mutex<Vec<Uuid>>);

#[async_trait::async_trait]
impl workflow::core::outbox::Mailer for Counting {
    async fn send(&self, mail: &workflow::core::outbox::Mail) -> Result<(), String> {
        // Slow enough for other workers to see the message as due meanwhile.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        self.0.lock().unwrap().push(mail.id);
        Ok(())
    }
    fn is_external(&self) -> bool {
        false
    }
}

async fn concurrent_deliveries_send_each_message_once(app: TestApp) {
    let mut ids = Vec::new();
    for n in 0..5 {
        ids.push(verifying(&app, n).await.0);
    }
    let mailer = std::sync::Arc::new(Counting(Default::default()));
    let mut calls = Vec::new();
    for _ in 0..6 {
        let (wf, m) = (app.workflow.clone(), mailer.clone());
        calls.push(tokio::spawn(async move {
            wf.deliver_outbox(m.as_ref(), 100).await
        }));
    }
    let mut delivered = 0;
    for call in calls {
        delivered += call.await.unwrap().unwrap();
    }
    let sent = mailer.0.lock().unwrap().clone();
    let distinct: std::collections::BTreeSet<_> = sent.iter().collect();
    assert_eq!(
        (sent.len(), distinct.len(), delivered),
        (5, 5, 5),
        "each message sent once"
    );
    for id in ids {
        for mail in app.workflow.outbox_of_request(id).await.unwrap() {
            assert_eq!(mail.row.attempts, 1);
            assert!(mail.row.delivered_at.is_some());
        }
    }
    let undelivered = outbox::Entity::find()
        .filter(outbox::Column::DeliveredAt.is_null())
        .all(app.workflow.store().conn())
        .await
        .unwrap();
    assert!(undelivered.is_empty());
}
e2e!(
    concurrent_deliveries,
    concurrent_deliveries_send_each_message_once
);
