//! Mutations of the retention sweep.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};

use crate::error::ApiResult;
use crate::graphql::inputs::register::RetentionPolicyPayload;
use crate::graphql::types::register::RetentionPolicy;
use crate::graphql::types::retention::RetentionRun;
use crate::graphql::{ids, session};

/// Input of `runRetentionSweep`.
#[derive(InputObject, Debug)]
pub struct RunRetentionSweepInput {
    /// Only report what is past its period; open no erasure request. Defaults to
    /// true: a real run must be asked for.
    #[graphql(default = true)]
    pub dry_run: bool,
}

/// Result of `runRetentionSweep`.
#[derive(SimpleObject)]
pub struct RunRetentionSweepPayload {
    /// The finished run with its counts; its `findings` list the records.
    pub run: RetentionRun,
}

/// Input of `setRetentionTriggerFields`.
#[derive(InputObject, Debug)]
pub struct SetRetentionTriggerFieldsInput {
    /// The retention policy (global ID).
    pub policy_id: ID,
    /// Mapped timestamp fields of SQL sources (global IDs of DataField, at most 50)
    /// whose latest value for a record starts the period, e.g. the account's
    /// creation, the last order, the last support ticket. Replaces the list; an
    /// empty list stops sweeping the policy.
    pub field_ids: Vec<ID>,
}

/// The retention sweep.
#[derive(Default)]
pub struct RetentionMutation;

#[Object]
impl RetentionMutation {
    /// Runs the retention sweep now: every policy with trigger fields is evaluated
    /// against the records of its sources. A real run (`dryRun: false`) opens an
    /// ERASURE request (channel RETENTION) for each record past every period that
    /// covers it; the request then passes collection and legal review, and data under
    /// a legal hold is kept restricted by the erasure executor. The sweep never
    /// changes a source itself.
    async fn run_retention_sweep(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Dry run or not.", default)] input: RunRetentionSweepInput,
    ) -> ApiResult<RunRetentionSweepPayload> {
        let s = session(ctx)?;
        let principal = s.principal()?;
        let run = s
            .workflow()
            .sweep_retention(principal.org_id, &principal.into(), input.dry_run)
            .await?;
        Ok(RunRetentionSweepPayload { run: run.into() })
    }

    /// Sets which mapped timestamp fields start a retention policy's period.
    /// VALIDATION for a field of another kind of source, an identifying field, a field
    /// listed twice or one that does not exist.
    async fn set_retention_trigger_fields(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The policy and its trigger fields.")]
        input: SetRetentionTriggerFieldsInput,
    ) -> ApiResult<RetentionPolicyPayload> {
        let s = session(ctx)?;
        let policy = ids::decode(&input.policy_id, "RetentionPolicy", &["input", "policyId"])?;
        let fields = input
            .field_ids
            .iter()
            .enumerate()
            .map(|(i, id)| ids::decode(id, "DataField", &["input", "fieldIds", &i.to_string()]))
            .collect::<Result<Vec<_>, _>>()?;
        let updated = s
            .workflow()
            .set_retention_trigger_fields(s.principal()?, policy, fields)
            .await?;
        Ok(RetentionPolicyPayload {
            retention_policy: RetentionPolicy::from(updated),
        })
    }
}

impl Default for RunRetentionSweepInput {
    fn default() -> Self {
        Self { dry_run: true }
    }
}
