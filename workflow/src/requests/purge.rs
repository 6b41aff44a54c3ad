//! The product's own data minimization: a request that ended (CLOSED, REJECTED,
//! CANCELLED) keeps its collected data for the organization's `purge_after_days`,
//! then loses it. Deleted: collected records, their redactions and review baseline,
//! identities found on the way. Emptied: uploaded files, the answer package's
//! content, message bodies; leak findings lose their detail. Kept as proof: the
//! request, its identities, the timeline, the proof of dispatch with its digest, the
//! package's digest and size, the audit log. Each purge is one transaction per
//! request, recorded in `request_purge`, noted on the timeline and audited.

use std::collections::HashMap;

use chrono::Duration;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};
use uuid::Uuid;

use entity::{
    answer_package, collected_record, download_link, found_identity, leak_finding, outbox,
    redaction, request_attachment, request_purge, request_settings, review_baseline,
    subject_request,
};

use super::{RequestState, TimelineKind};
use crate::access::audit::{self, Actor, Entry};
use crate::access::principal::Principal;
use crate::error::Result;
use crate::{Workflow, now};

/// What one run of the purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Requests purged.
    pub requests: usize,
    /// Collected records deleted.
    pub records: u64,
    /// Uploaded files emptied.
    pub attachments: u64,
    /// Answer packages emptied.
    pub packages: u64,
    /// Message bodies emptied.
    pub messages: u64,
}

/// Requests looked at per run; the next run takes the rest.
const BATCH: u64 = 500;

impl Workflow {
    /// Purges the collected data of every request that ended longer ago than its
    /// organization's `purge_after_days` and was not purged yet. `serve` runs it
    /// every hour.
    pub async fn purge_ended_requests(&self) -> Result<PurgeReport> {
        let conn = self.store.conn();
        let default_days = super::RequestSettings::default().purge_after_days;
        let custom: HashMap<Uuid, i32> = request_settings::Entity::find()
            .select_only()
            .column(request_settings::Column::OrgId)
            .column(request_settings::Column::PurgeAfterDays)
            .into_tuple::<(Uuid, i32)>()
            .all(conn)
            .await?
            .into_iter()
            .collect();
        let at = now();
        // The shortest period any organization has bounds the candidates; each is
        // then held against its own organization's period.
        let shortest = custom
            .values()
            .copied()
            .chain([default_days])
            .min()
            .unwrap_or(default_days);
        let ended: Vec<&str> = [
            RequestState::Closed,
            RequestState::Rejected,
            RequestState::Cancelled,
        ]
        .iter()
        .map(|s| s.as_str())
        .collect();
        let purged = request_purge::Entity::find()
            .select_only()
            .column(request_purge::Column::RequestId);
        let candidates: Vec<(Uuid, Uuid, chrono::DateTime<chrono::Utc>)> =
            subject_request::Entity::find()
                .select_only()
                .column(subject_request::Column::Id)
                .column(subject_request::Column::OrgId)
                .column(subject_request::Column::StateChangedAt)
                .filter(subject_request::Column::State.is_in(ended))
                .filter(
                    subject_request::Column::StateChangedAt
                        .lte(at - Duration::days(i64::from(shortest))),
                )
                .filter(
                    subject_request::Column::Id
                        .not_in_subquery(sea_orm::QueryTrait::into_query(purged)),
                )
                .order_by_asc(subject_request::Column::StateChangedAt)
                .limit(BATCH)
                .into_tuple()
                .all(conn)
                .await?;
        let mut report = PurgeReport::default();
        for (request_id, org_id, ended_at) in candidates {
            let days = custom.get(&org_id).copied().unwrap_or(default_days);
            if ended_at > at - Duration::days(i64::from(days)) {
                continue;
            }
            let one = self.purge_request(org_id, request_id, days).await?;
            report.requests += 1;
            report.records += one.records;
            report.attachments += one.attachments;
            report.packages += one.packages;
            report.messages += one.messages;
        }
        Ok(report)
    }

    /// Purges one request's collected data in one transaction.
    async fn purge_request(
        &self,
        org_id: Uuid,
        request_id: Uuid,
        days: i32,
    ) -> Result<PurgeReport> {
        let mut tx = self.store.begin().await?;
        let conn = tx.conn();
        let request = super::find_request(conn, org_id, request_id).await?;
        // Read again in the transaction: still ended, not purged by another process.
        let state: RequestState = request.state.parse()?;
        let done = request_purge::Entity::find_by_id(request_id)
            .one(conn)
            .await?;
        if state.is_open() || done.is_some() {
            return Ok(PurgeReport::default());
        }
        redaction::Entity::delete_many()
            .filter(redaction::Column::RequestId.eq(request_id))
            .exec(conn)
            .await?;
        review_baseline::Entity::delete_many()
            .filter(review_baseline::Column::RequestId.eq(request_id))
            .exec(conn)
            .await?;
        found_identity::Entity::delete_many()
            .filter(found_identity::Column::RequestId.eq(request_id))
            .exec(conn)
            .await?;
        leak_finding::Entity::update_many()
            .col_expr(leak_finding::Column::Detail, Expr::value("(purged)"))
            .filter(leak_finding::Column::RequestId.eq(request_id))
            .exec(conn)
            .await?;
        let records = collected_record::Entity::delete_many()
            .filter(collected_record::Column::RequestId.eq(request_id))
            .exec(conn)
            .await?
            .rows_affected;
        let attachments = request_attachment::Entity::update_many()
            .col_expr(request_attachment::Column::Content, Expr::value(""))
            .filter(request_attachment::Column::RequestId.eq(request_id))
            .filter(request_attachment::Column::Content.ne(""))
            .exec(conn)
            .await?
            .rows_affected;
        let packages = answer_package::Entity::update_many()
            .col_expr(answer_package::Column::Content, Expr::value(""))
            .filter(answer_package::Column::RequestId.eq(request_id))
            .filter(answer_package::Column::Content.ne(""))
            .exec(conn)
            .await?
            .rows_affected;
        // Bodies go; a message not delivered by now is given up, never sent empty.
        let messages = outbox::Entity::update_many()
            .col_expr(outbox::Column::Body, Expr::value(""))
            .col_expr(
                outbox::Column::Attempts,
                Expr::value(crate::core::outbox::MAX_ATTEMPTS),
            )
            .filter(outbox::Column::RequestId.eq(request_id))
            .filter(outbox::Column::Body.ne(""))
            .exec(conn)
            .await?
            .rows_affected;
        download_link::Entity::update_many()
            .col_expr(download_link::Column::RevokedAt, Expr::value(Some(now())))
            .filter(download_link::Column::RequestId.eq(request_id))
            .filter(download_link::Column::RevokedAt.is_null())
            .exec(conn)
            .await?;
        let at = now();
        request_purge::Entity::insert(request_purge::ActiveModel {
            request_id: Set(request_id),
            org_id: Set(org_id),
            purged_at: Set(at),
            records: Set(records as i64),
            attachments: Set(attachments as i64),
            packages: Set(packages as i64),
            messages: Set(messages as i64),
        })
        .exec(conn)
        .await?;
        let system = Principal {
            key_id: crate::access::principal::WORKER_ID,
            org_id,
            key_name: "minimization".to_owned(),
            kind: crate::PrincipalKind::System,
        };
        self.note(
            &mut tx,
            &system,
            &request,
            TimelineKind::Purge,
            format!(
                "collected data purged {days} day(s) after the request ended: {records} record(s), \
                 {attachments} file(s), {packages} answer package(s), {messages} message body(ies); \
                 the timeline, the proof of dispatch and the digests stay"
            ),
        )
        .await?;
        audit::append(
            &mut tx,
            org_id,
            &Actor::system("minimization"),
            Entry::success("purgeCollectedData", "SubjectRequest", request_id).after(
                serde_json::json!({"records": records, "attachments": attachments,
                                   "packages": packages, "messages": messages}),
            ),
        )
        .await?;
        tx.commit(&self.bus).await?;
        Ok(PurgeReport {
            requests: 1,
            records,
            attachments,
            packages,
            messages,
        })
    }
}
