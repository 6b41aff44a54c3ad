//! A page of requests costs the same statements for few rows and for many.

use serde_json::json;
use workflow::Role;

use crate::common::{TestApp, e2e};

use super::*;

/// A page of requests with every relation costs the same number of statements for
/// 10 and for 100 requests (DataLoaders, prefetched per page).
async fn a_request_page_costs_the_same_for_10_and_100_rows(app: TestApp) {
    for n in 0..100 {
        in_review(&app, 20_000 + n).await;
    }
    app.gql_ok(app.key(Role::Auditor), "{ me { apiKeyName } }", json!({}))
        .await;
    let q = "query($n: Int) { requests(first: $n) { totalCount nodes { id state isOverdue identities { value valueAsGiven }
        tasks { id } records { value } recordsCount redactionsCount attachments { fileName } stalledReasons
        assigneeId claimedBy { __typename } submittedForReviewBy { ... on ApiKey { name } } duplicateOf { id } } } }";
    let mut counts = Vec::new();
    for n in [10, 100] {
        let before = app.workflow.store().statements_executed();
        let data = app.gql_ok(app.key(Role::Auditor), q, json!({"n": n})).await;
        counts.push(app.workflow.store().statements_executed() - before);
        assert_eq!(
            data["requests"]["nodes"].as_array().unwrap().len(),
            n as usize
        );
    }
    assert_eq!(
        counts[0], counts[1],
        "statements for 10 vs 100 requests: {counts:?}"
    );
}
e2e!(
    request_page_statements,
    a_request_page_costs_the_same_for_10_and_100_rows
);
