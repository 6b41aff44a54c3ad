//! Prometheus metrics: GraphQL requests by operation and outcome, latency, DB pool.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Distinct operation names kept as labels; later ones count as `other`, so clients
/// cannot blow up the number of series.
const MAX_OPERATION_LABELS: usize = 200;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
static OPERATIONS: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();

/// The process-wide recorder (installed on first use).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ])
            .expect("static buckets are valid")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was installed already; /metrics may be empty");
        }
        handle
    })
}

fn operation_label(name: &str) -> String {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return "other".into();
    }
    let mut seen = OPERATIONS
        .get_or_init(Default::default)
        .lock()
        .expect("not poisoned");
    if seen.contains(name) || seen.len() < MAX_OPERATION_LABELS {
        seen.insert(name.to_owned());
        name.to_owned()
    } else {
        "other".into()
    }
}

/// Records one GraphQL request.
pub fn record_request(operation: &str, outcome: &'static str, elapsed: Duration) {
    let operation = operation_label(operation);
    metrics::counter!("auskunft_graphql_requests_total", "operation" => operation.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!("auskunft_graphql_request_duration_seconds", "operation" => operation)
        .record(elapsed.as_secs_f64());
}

/// Records how one GraphQL operation's field permissions were checked: `in_advance`,
/// `per_field` (queries that select fields their callers may not read, mutations,
/// invalid documents) or `repeated` (decided in advance, but that run reported an
/// error, so the query ran again field by field).
pub fn record_authorization(authorized: crate::graphql::Authorized) {
    metrics::counter!("auskunft_graphql_authorization_total", "mode" => authorized.as_str())
        .increment(1);
}

/// Records the connection pool state (at scrape time).
pub fn record_pool(open: u32, idle: usize) {
    metrics::gauge!("auskunft_db_pool_connections").set(open as f64);
    metrics::gauge!("auskunft_db_pool_idle_connections").set(idle as f64);
}

/// Records the request gauges (at scrape time; test requests excluded).
pub fn record_requests(gauges: &workflow::requests::RequestGauges) {
    for (state, n) in &gauges.open_by_state {
        metrics::gauge!("auskunft_requests_open", "state" => state.as_str()).set(*n as f64);
    }
    metrics::gauge!("auskunft_requests_overdue").set(gauges.overdue as f64);
    metrics::gauge!("auskunft_requests_stalled").set(gauges.stalled as f64);
}

/// The text exposition of all metrics.
pub fn render() -> String {
    handle().render()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_capped_and_sanitized() {
        assert_eq!(operation_label("bad name!"), "other");
        assert_eq!(operation_label(&"x".repeat(65)), "other");
        for i in 0..MAX_OPERATION_LABELS {
            let name = format!("Op{i}");
            assert_eq!(operation_label(&name), name);
        }
        assert_eq!(
            operation_label("OneTooMany"),
            "other",
            "the 201st name is folded"
        );
        assert_eq!(
            operation_label("Op7"),
            "Op7",
            "known names keep their label"
        );
    }
}
