//! Retried submissions and test requests.

use workflow::Role;

use crate::common::{TestApp, e2e};

use super::*;

/// Concurrent retries with one idempotency key create one request; test requests
/// never reach a mailer that delivers to real addresses.
async fn retries_and_test_mail(app: TestApp) {
    let integrator = principal(&app, Role::Integrator);
    let new = || workflow::requests::NewRequest {
        kind: workflow::requests::RequestKind::Access,
        channel: workflow::requests::Channel::WebForm,
        identities: vec![workflow::requests::NewIdentity {
            kind: workflow::register::fields::IdentityType::Email,
            value: "retry@example.com".into(),
        }],
        text: None,
        is_test: true,
        received_at: None,
        idempotency_key: Some("form-retry-1".into()),
        attachments: vec![],
    };
    let mut calls = Vec::new();
    for _ in 0..4 {
        let (wf, p, n) = (app.workflow.clone(), integrator.clone(), new());
        calls.push(tokio::spawn(async move { wf.submit_request(&p, n).await }));
    }
    let mut ids = std::collections::BTreeSet::new();
    let mut created = 0;
    for call in calls {
        let submitted = call.await.unwrap().unwrap();
        ids.insert(submitted.request.id);
        created += usize::from(submitted.created);
    }
    assert_eq!((ids.len(), created), (1, 1), "one request, created once");
    let id = *ids.first().unwrap();

    // A code mail for the test request, then delivery through an external mailer.
    app.workflow
        .start_email_verification(&principal(&app, Role::Agent), id, 1, None)
        .await
        .unwrap();
    struct External(std::sync::Mutex<Vec<String>>);
    #[async_trait::async_trait]
    impl workflow::core::outbox::Mailer for External {
        async fn send(&self, mail: &workflow::core::outbox::Mail) -> Result<(), String> {
            self.0.lock().unwrap().push(mail.to.clone());
            Ok(())
        }
        fn is_external(&self) -> bool {
            true
        }
    }
    let mailer = External(Default::default());
    let delivered = app.workflow.deliver_outbox(&mailer, 100).await.unwrap();
    assert_eq!(delivered, 0);
    assert!(mailer.0.lock().unwrap().is_empty(), "nothing went out");
    let queued = app.workflow.outbox_of_request(id).await.unwrap();
    assert!(queued[0].row.delivered_at.is_some(), "settled, not retried");
    assert!(
        queued[0]
            .row
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("suppressed")
    );
}
e2e!(retries_and_test_requests, retries_and_test_mail);
