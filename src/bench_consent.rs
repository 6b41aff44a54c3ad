//! `auskunft bench consent`: a consent ledger of 1,000,000 people (e-mail, one
//! newsletter consent each, in every state), then a campaign check of 100,000
//! e-mail addresses (in-process and over HTTP) and single checks over HTTP, on
//! SQLite and, with --postgres, PostgreSQL.

use std::time::Instant;

use clap::Args;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;
use workflow::StoreOptions;
use workflow::consent::ConsentChannel;
use workflow::entity::{consent, data_subject, purpose, subject_identity};

use crate::bench::{BenchError, measure, on_each_database, open_scratch, quantile_ms, serve};

/// Options of `bench consent`.
#[derive(Args, Debug, Clone)]
pub struct ConsentBench {
    /// Consents in the ledger (one person and one e-mail address each).
    #[arg(long, default_value_t = 1_000_000)]
    consents: usize,
    /// E-mail addresses in the campaign check (nine in ten are in the ledger).
    #[arg(long, default_value_t = 100_000)]
    check: usize,
    /// Single checks over HTTP.
    #[arg(long, default_value_t = 2000)]
    singles: usize,
    /// Single checks in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Also run on PostgreSQL: an admin URL of a server where a scratch database may
    /// be created and dropped (e.g. postgres://postgres@127.0.0.1:5432/postgres).
    #[arg(long, value_name = "URL")]
    postgres: Option<String>,
    /// The pool of the scratch store (from `--database-max-connections`).
    #[arg(skip)]
    pub pool: StoreOptions,
}

/// Rows per INSERT while seeding.
const BATCH: usize = 1000;

const SINGLE: &str = "query($p: ID!, $i: IdentityInput!) { consentCheck(purposeId: $p, channel: EMAIL, identity: $i) { allowed reason } }";
const BULK: &str = "query($p: ID!, $ids: [String!]!) { consentCheckBulk(purposeId: $p, channel: EMAIL, identities: $ids) { allowed excluded { reason identities } } }";

/// Runs the bench on SQLite and, if given, PostgreSQL.
pub async fn run(opts: ConsentBench) -> Result<(), BenchError> {
    on_each_database(opts.postgres.as_deref(), |label, url| {
        let opts = opts.clone();
        async move { run_on(&label, &url, &opts).await }
    })
    .await
}

fn email(i: usize) -> String {
    format!("kunde{i}@bench.example.com")
}

/// The state of the `i`th consent: 70 % granted, the rest denied, withdrawn or
/// pending.
fn state(i: usize) -> &'static str {
    match i % 10 {
        0 => "DENIED",
        1 => "WITHDRAWN",
        2 => "PENDING",
        _ => "GRANTED",
    }
}

/// Writes `n` people, their e-mail addresses and consents straight into the store
/// (the ledger as years of sign-ups would leave it).
async fn seed(
    workflow: &workflow::Workflow,
    org_id: Uuid,
    purpose_id: Uuid,
    n: usize,
) -> Result<(), BenchError> {
    let conn = workflow.store().conn();
    let at = chrono::Utc::now();
    let mut start = 0;
    while start < n {
        let end = (start + BATCH * 10).min(n);
        let tx = conn.begin().await?;
        for chunk_start in (start..end).step_by(BATCH) {
            let chunk_end = (chunk_start + BATCH).min(end);
            let ids: Vec<(Uuid, Uuid, Uuid)> = (chunk_start..chunk_end)
                .map(|_| (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7()))
                .collect();
            data_subject::Entity::insert_many(ids.iter().map(|(s, _, _)| {
                data_subject::ActiveModel {
                    id: Set(*s),
                    org_id: Set(org_id),
                    created_at: Set(at),
                }
            }))
            .exec(&tx)
            .await?;
            subject_identity::Entity::insert_many(ids.iter().zip(chunk_start..).map(
                |((s, identity, _), i)| subject_identity::ActiveModel {
                    id: Set(*identity),
                    org_id: Set(org_id),
                    subject_id: Set(*s),
                    kind: Set("EMAIL".into()),
                    value: Set(email(i)),
                    value_as_given: Set(email(i)),
                    verified_at: Set(None),
                    verification_method: Set(None),
                    created_at: Set(at),
                },
            ))
            .exec(&tx)
            .await?;
            consent::Entity::insert_many(ids.iter().zip(chunk_start..).map(
                |((s, identity, c), i)| consent::ActiveModel {
                    id: Set(*c),
                    org_id: Set(org_id),
                    subject_id: Set(*s),
                    purpose_id: Set(purpose_id),
                    channel: Set(ConsentChannel::Email.as_str().into()),
                    state: Set(state(i).into()),
                    identity_id: Set(*identity),
                    confirm_token_hash: Set(None),
                    expires_at: Set(
                        (state(i) == "PENDING").then(|| at + chrono::Duration::days(3)),
                    ),
                    last_requested_at: Set(None),
                    updated_at: Set(at),
                    created_at: Set(at),
                },
            ))
            .exec(&tx)
            .await?;
        }
        tx.commit().await?;
        start = end;
    }
    // A ledger that grew over years has its statistics (PostgreSQL's autovacuum
    // analyzes a table after large changes); a million rows written a moment ago
    // have none yet, and the planner would scan instead of using the indexes.
    conn.execute_unprepared("ANALYZE").await?;
    // Likewise, SQLite has long moved those pages from its write-ahead log into the
    // database file (an automatic checkpoint every 1000 pages, once no reader holds
    // them), where reads come from mapped memory; just after seeding they would be
    // read from the log with a copy each.
    if conn.get_database_backend() == sea_orm::DatabaseBackend::Sqlite {
        conn.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    Ok(())
}

async fn run_on(label: &str, url: &str, opts: &ConsentBench) -> Result<(), BenchError> {
    let workflow = open_scratch(url, &opts.pool).await?;
    let shop = std::env::temp_dir().join(format!(
        "auskunft-bench-shop-{}.db",
        Uuid::new_v4().simple()
    ));
    let setup = workflow.ensure_demo(&shop).await?;
    let key = |role: workflow::Role| {
        setup
            .keys
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, k)| k.clone())
            .expect("a key per role")
    };
    let integrator = key(workflow::Role::Integrator);
    let org_id = setup.organization.id;
    let newsletter = purpose::Entity::find()
        .filter(purpose::Column::OrgId.eq(org_id))
        .filter(purpose::Column::Name.eq("Newsletter"))
        .one(workflow.store().conn())
        .await?
        .ok_or_else(|| BenchError::Query("the demo has no Newsletter purpose".into()))?;
    let started = Instant::now();
    seed(&workflow, org_id, newsletter.id, opts.consents).await?;
    println!(
        "{label}: seeded {} people, addresses and consents in {:.1} s",
        opts.consents,
        started.elapsed().as_secs_f64()
    );
    let principal = workflow.authenticate(&integrator).await?;

    // The campaign list: nine in ten addresses are in the ledger, spread over it.
    let step = (opts.consents / opts.check.max(1)).max(1);
    let list: Vec<String> = (0..opts.check)
        .map(|i| {
            if i % 10 == 9 {
                format!("neu{i}@bench.example.com")
            } else {
                email((i * step + i / 10) % opts.consents.max(1))
            }
        })
        .collect();
    for run in 1..=3 {
        let t = Instant::now();
        let check = workflow
            .consent_check_bulk(
                &principal,
                newsletter.id,
                ConsentChannel::Email,
                None,
                list.clone(),
            )
            .await?;
        let left_out: Vec<String> = check
            .excluded
            .iter()
            .map(|(reason, ids)| format!("{} {}", ids.len(), reason.as_str()))
            .collect();
        println!(
            "{label}: bulk check of {} e-mail addresses in-process (run {run}): {:.0} ms ({} allowed; left out: {})",
            list.len(),
            t.elapsed().as_secs_f64() * 1000.0,
            check.allowed.len(),
            left_out.join(", ")
        );
    }
    let (base, server) = serve(&workflow).await?;
    let client = reqwest::Client::new();
    let purpose_gid = workflow::core::links::global_id("Purpose", newsletter.id);
    for run in 1..=3 {
        let t = Instant::now();
        let body: serde_json::Value = client
            .post(&base)
            .bearer_auth(&integrator)
            .json(&json!({"query": BULK, "variables": {"p": purpose_gid, "ids": list}}))
            .send()
            .await?
            .json()
            .await?;
        let elapsed = t.elapsed();
        if let Some(errors) = body.get("errors") {
            return Err(BenchError::Query(errors.to_string()));
        }
        let check = &body["data"]["consentCheckBulk"];
        let allowed = check["allowed"].as_array().map_or(0, Vec::len);
        let excluded: usize = check["excluded"].as_array().map_or(0, |e| {
            e.iter()
                .map(|x| x["identities"].as_array().map_or(0, Vec::len))
                .sum()
        });
        println!(
            "{label}: consentCheckBulk of {} e-mail addresses over HTTP (run {run}): {:.0} ms ({allowed} allowed, {excluded} left out)",
            list.len(),
            elapsed.as_secs_f64() * 1000.0
        );
    }

    let single = {
        let (client, base, key, purpose_gid) = (
            client.clone(),
            base.clone(),
            integrator.clone(),
            purpose_gid.clone(),
        );
        let n = opts.consents.max(1);
        move |i: usize| {
            let (client, base, key, purpose_gid) = (
                client.clone(),
                base.clone(),
                key.clone(),
                purpose_gid.clone(),
            );
            async move {
                let body: serde_json::Value = client
                    .post(&base)
                    .bearer_auth(&key)
                    .json(&json!({"query": SINGLE, "variables": {"p": purpose_gid, "i": {"kind": "EMAIL", "value": email((i * 7919) % n)}}}))
                    .send()
                    .await?
                    .json()
                    .await?;
                if let Some(errors) = body.get("errors") {
                    return Err(BenchError::Query(errors.to_string()));
                }
                Ok(())
            }
        }
    };
    for concurrency in [1, opts.concurrency] {
        let (lat, wall) = measure(opts.singles, concurrency, single.clone()).await?;
        println!(
            "{label}: consentCheck over HTTP x {}, concurrency {concurrency}: p50 {:.2} ms, p99 {:.2} ms, {:.0} checks/s",
            lat.len(),
            quantile_ms(&lat, 0.50),
            quantile_ms(&lat, 0.99),
            lat.len() as f64 / wall.as_secs_f64()
        );
    }
    server.abort();
    let _ = std::fs::remove_file(&shop);
    Ok(())
}
