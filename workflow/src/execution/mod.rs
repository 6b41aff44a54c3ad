//! Carrying out what an approved request asks for, besides erasure (see
//! [`crate::erasure`]): corrected values written to the sources (rectification,
//! Art. 16, [`rectification`]) and records marked restricted or objected to
//! (Art. 18 and 21, [`restriction`]).
//!
//! Every kind runs the same way: entering EXECUTING creates one EXECUTE task per
//! mapped source; a worker claims those it can carry out (lease, heartbeat,
//! retries, as collection), a steward completes the others by hand. The request is
//! dispatched once every task is done.

pub mod rectification;
pub mod restriction;

use std::collections::HashSet;

use entity::{data_source, request_task};
use uuid::Uuid;

use crate::Workflow;
use crate::collection::{Pass, WorkerOptions};
use crate::connectors::{ConnectorKind, connector};
use crate::error::{Error, Result};
use crate::requests::RequestKind;

pub use rectification::{CorrectionOutcome, CorrectionView, NewCorrection};
pub use restriction::{RestrictionGround, RestrictionView};

impl Workflow {
    /// Runs a claimed EXECUTE task the way its request's kind asks.
    pub(crate) async fn run_execution(
        &self,
        owner: &str,
        options: &WorkerOptions,
        task: request_task::Model,
    ) -> Result<Pass> {
        let request =
            crate::requests::find_request(self.store.conn(), task.org_id, task.request_id).await?;
        match request.kind.parse::<RequestKind>()? {
            RequestKind::Erasure => self.run_erasure(owner, options, task).await,
            RequestKind::Rectification => {
                self.run_rectification(owner, options, task, request).await
            }
            RequestKind::Restriction | RequestKind::Objection => {
                self.run_restriction(owner, task, request).await
            }
            other => Err(Error::Internal(format!(
                "task {} of a {} request was claimed for execution",
                task.id,
                other.as_str()
            ))),
        }
    }
}

/// A worker's EXECUTE task ended at `at`: its lease released, and done, or failed
/// with `error` (for stewards).
pub(crate) fn worker_ended(
    task: request_task::Model,
    at: chrono::DateTime<chrono::Utc>,
    error: Option<String>,
) -> request_task::ActiveModel {
    use crate::requests::TaskState;
    use sea_orm::{IntoActiveModel, Set};
    let mut active = task.into_active_model();
    active.lease_owner = Set(None);
    active.lease_until = Set(None);
    active.updated_at = Set(at);
    match error {
        None => {
            active.state = Set(TaskState::Done.as_str().to_owned());
            active.completed_by = Set(Some(crate::access::principal::WORKER_ID));
            active.completed_at = Set(Some(at));
            active.error = Set(None);
        }
        Some(error) => {
            active.state = Set(TaskState::Failed.as_str().to_owned());
            active.error = Set(Some(error));
        }
    }
    active
}

/// Whether the source's connector can write to it (a SQL source with
/// `readOnly: false`).
fn writable(source: &data_source::Model) -> bool {
    let Ok(kind) = source.connector_kind.parse::<ConnectorKind>() else {
        return false;
    };
    let config = source
        .connector_config
        .as_object()
        .cloned()
        .unwrap_or_default();
    connector(kind).erases(&config)
}

/// Whether the EXECUTE task of a `kind` request in `source` is carried out by a
/// worker: erasures in sources the connector can write to; rectifications there too,
/// and wherever nothing is to be corrected (`corrected`: the sources with
/// corrections); restrictions and objections wherever a connector collected
/// (Auskunft records them), by hand in sources searched by hand.
pub(crate) fn automatic(
    kind: RequestKind,
    source: &data_source::Model,
    corrected: &HashSet<Uuid>,
) -> bool {
    match kind {
        RequestKind::Erasure => writable(source),
        RequestKind::Rectification => !corrected.contains(&source.id) || writable(source),
        RequestKind::Restriction | RequestKind::Objection => {
            source.connector_kind != ConnectorKind::Manual.as_str()
        }
        RequestKind::Access | RequestKind::Portability => false,
    }
}

/// A steward completed an EXECUTE task by hand: what that means for the request's
/// kind (the erasure report, corrections, restrictions).
pub(crate) async fn done_by_hand<C: crate::core::store::Conn>(
    conn: &C,
    task: &request_task::Model,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let request = crate::requests::find_request(conn, task.org_id, task.request_id).await?;
    match request.kind.parse::<RequestKind>()? {
        RequestKind::Erasure => crate::erasure::done_by_hand(conn, task, at).await,
        RequestKind::Rectification => rectification::done_by_hand(conn, task, at).await,
        RequestKind::Restriction | RequestKind::Objection => {
            restriction::done_by_hand(conn, &request, task, at).await
        }
        RequestKind::Access | RequestKind::Portability => Ok(()),
    }
}
