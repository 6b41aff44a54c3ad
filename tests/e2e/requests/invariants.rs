//! Random event sequences keep the stored invariants (a property test).

use workflow::Role;
use workflow::requests::{Fire, RequestEvent, TimelineKind};

use crate::common::{TestApp, e2e};

use super::*;

/// The property test of the stored workflow: random event sequences from random
/// principals against the real database. Invariants: the stored state is always one
/// of the machine's, approval never by who submitted for review, the timeline holds
/// exactly one TRANSITION entry per applied event (chained from state to state), the
/// version grows by one per applied event, and final states stay final.
async fn random_event_sequences_keep_the_stored_invariants(app: TestApp) {
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    let roles = [Role::Agent, Role::Dpo, Role::Reviewer, Role::Admin];
    let strategy = proptest::collection::vec(
        (0..RequestEvent::ALL.len(), 0..roles.len(), any::<bool>()),
        1..25,
    );
    let mut runner = TestRunner::new(Config {
        cases: 24,
        failure_persistence: None,
        ..Config::default()
    });
    let handle = tokio::runtime::Handle::current();
    let case = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&strategy, |steps| {
        tokio::task::block_in_place(|| {
            handle.block_on(async {
                let n = 10_000 + case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let id = in_review(&app, n).await;
                let reader = principal(&app, Role::Auditor);
                let mut current = app.workflow.request(&reader, id).await.unwrap();
                let start_version = current.version;
                let mut applied = 0;
                for (event, who, with_reason) in steps {
                    let event = RequestEvent::ALL[event];
                    let actor = principal(&app, roles[who]);
                    let before = current.state;
                    let result = app
                        .workflow
                        .fire(
                            &actor,
                            Fire {
                                request_id: id,
                                version: current.version,
                                event,
                                reason: with_reason.then(|| "reason".to_owned()),
                                ground: None,
                            },
                        )
                        .await;
                    match result {
                        Ok(after) => {
                            applied += 1;
                            prop_assert!(!before.is_final(), "{event} left final state {before}");
                            if event == RequestEvent::Approve {
                                prop_assert_ne!(
                                    current.submitted_for_review_by,
                                    Some(actor.key_id)
                                );
                            }
                            prop_assert_eq!(after.version, current.version + 1);
                            current = after;
                        }
                        Err(e) => {
                            if before.is_final() {
                                // Refused for the state, or earlier for the permission.
                                prop_assert!(matches!(
                                    e.code(),
                                    workflow::ErrorCode::InvalidTransition
                                        | workflow::ErrorCode::Forbidden
                                ));
                            }
                            let stored = app.workflow.request(&reader, id).await.unwrap();
                            prop_assert_eq!(&stored, &current, "a refused event changed nothing");
                        }
                    }
                }
                let timeline = app
                    .workflow
                    .request_timeline(
                        &reader,
                        id,
                        &workflow::PageRequest {
                            first: Some(100),
                            ..Default::default()
                        },
                    )
                    .await
                    .unwrap();
                let transitions: Vec<_> = timeline
                    .items
                    .iter()
                    .filter(|e| e.kind == TimelineKind::Transition)
                    .collect();
                // Two transitions happened before the random walk (verify, submit for review).
                prop_assert_eq!(transitions.len(), applied + 2);
                prop_assert_eq!(current.version, start_version + applied as i32);
                for pair in transitions.windows(2) {
                    prop_assert_eq!(&pair[0].to_state, &pair[1].from_state);
                }
                prop_assert_eq!(
                    transitions.last().and_then(|t| t.to_state),
                    Some(current.state)
                );
                Ok::<(), TestCaseError>(())
            })
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}
e2e!(
    stored_property,
    random_event_sequences_keep_the_stored_invariants
);
