//! Concurrent decisions: exactly one approval wins; a burst of transitions over HTTP
//! all succeed.

use serde_json::{Value, json};
use workflow::Role;
use workflow::requests::{Fire, RequestEvent, RequestState};

use crate::common::{TestApp, e2e};

use super::*;

async fn concurrent_approvals_have_exactly_one_winner(app: TestApp) {
    let reviewer = principal(&app, Role::Reviewer);
    let dpo = principal(&app, Role::Dpo);
    let mut n = 0;
    for racers in [2usize, 4, 8] {
        for _ in 0..100 {
            n += 1;
            let id = in_review(&app, n).await;
            let version = app.workflow.request(&reviewer, id).await.unwrap().version;
            let mut handles = Vec::new();
            for i in 0..racers {
                let wf = app.workflow.clone();
                let who = if i % 2 == 0 {
                    reviewer.clone()
                } else {
                    dpo.clone()
                };
                handles.push(tokio::spawn(async move {
                    wf.fire(
                        &who,
                        Fire {
                            request_id: id,
                            version,
                            event: RequestEvent::Approve,
                            reason: None,
                            ground: None,
                        },
                    )
                    .await
                }));
            }
            let mut wins = 0;
            for h in handles {
                match h.await.unwrap() {
                    Ok(r) => {
                        wins += 1;
                        assert_eq!(r.state, RequestState::Approved);
                    }
                    Err(e) => assert_eq!(e.code(), workflow::ErrorCode::Conflict, "{e}"),
                }
            }
            assert_eq!(wins, 1, "{racers} racers: exactly one approval wins");
            let timeline = app
                .workflow
                .request_timeline(
                    &reviewer,
                    id,
                    &workflow::PageRequest {
                        first: Some(100),
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            let approvals = timeline
                .items
                .iter()
                .filter(|e| e.event == Some(RequestEvent::Approve))
                .count();
            assert_eq!(approvals, 1);
        }
    }
}
e2e!(
    concurrent_approvals,
    concurrent_approvals_have_exactly_one_winner
);

/// Many transitions at once over HTTP, each authenticated with a fresh key (whose
/// first use writes `last_used_at` outside any transaction): none may fail. On
/// SQLite such an outside write once broke transactions with SQLITE_BUSY_SNAPSHOT.
async fn concurrent_http_transitions_all_succeed(app: TestApp) {
    let admin = principal(&app, Role::Admin);
    for round in 0..3 {
        let key = app
            .workflow
            .create_api_key(
                &admin,
                workflow::NewApiKey {
                    name: format!("fresh agent {round}"),
                    roles: vec![Role::Agent],
                },
            )
            .await
            .unwrap()
            .secret;
        let mut ids = Vec::new();
        for i in 0..12 {
            let r = submit(&app, &format!("burst{round}-{i}@example.com"), json!({})).await;
            ids.push(r["request"]["id"].as_str().unwrap().to_owned());
        }
        let mut calls = Vec::new();
        for id in ids {
            let (client, url, key) = (app.client.clone(), app.url("/graphql"), key.clone());
            calls.push(tokio::spawn(async move {
                let body: Value = client
                    .post(url)
                    .bearer_auth(key)
                    .json(&json!({"query": "mutation($i: VerifyIdentityInput!) { verifyIdentity(input: $i) { request { state } } }",
                                  "variables": {"i": {"requestId": id, "version": 1, "method": "DOCUMENT_CHECK", "evidence": "ID card"}}}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                body
            }));
        }
        for call in calls {
            let body = call.await.unwrap();
            assert_eq!(
                body["data"]["verifyIdentity"]["request"]["state"], "COLLECTING",
                "{body}"
            );
        }
    }
}
e2e!(http_burst, concurrent_http_transitions_all_succeed);
