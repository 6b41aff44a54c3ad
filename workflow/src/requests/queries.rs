//! Reading requests: listing with filters (state, kind, overdue, due within N days,
//! test or not), the timeline, subjects and identities, stalled requests, gauges.

use chrono::{Days, Duration};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use entity::{request_attachment, request_event, request_task, subject_identity, subject_request};

use super::machine::{RequestKind, RequestState};
use super::tasks::TaskState;
use super::view::{IdentityView, RequestView, TimelineEntryView, views};
use crate::access::principal::Principal;
use crate::core::paging::{Page, PageRequest, paginate};
use crate::error::Result;
use crate::register::fields::IdentityType;
use crate::{Workflow, now};

/// Filters of the request listing; all given ones must hold.
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    /// In one of these states.
    pub states: Vec<RequestState>,
    /// Of this kind.
    pub kind: Option<RequestKind>,
    /// Open and past its (extended) deadline.
    pub overdue: bool,
    /// Open and due within this many days (0 = today; at most 366).
    pub due_within_days: Option<i32>,
    /// Test requests only (`Some(true)`) or real ones only (`Some(false)`).
    pub is_test: Option<bool>,
    /// Assigned to this key.
    pub assignee_id: Option<Uuid>,
    /// Of the subject with this identity (normalized before matching).
    pub identity: Option<(IdentityType, String)>,
}

/// Why a request is listed as stalled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StalledReason {
    /// It has not changed state for longer than the organization allows.
    NotMoved,
    /// One of its tasks failed.
    TaskFailed,
}

/// Counts for the metrics endpoint (test requests excluded).
#[derive(Debug, Clone, Default)]
pub struct RequestGauges {
    /// Open requests per state.
    pub open_by_state: Vec<(RequestState, u64)>,
    /// Open requests past their deadline.
    pub overdue: u64,
    /// Open requests that have not moved for longer than their organization allows, or
    /// have a failed task.
    pub stalled: u64,
}

/// Not moved since `cutoff`, or a task failed (of the organization's requests, or
/// of every organization's when `org_id` is `None`).
fn stalled(org_id: Option<Uuid>, cutoff: chrono::DateTime<chrono::Utc>) -> Condition {
    use subject_request::Column as C;
    let mut failed = Query::select();
    failed
        .column(request_task::Column::RequestId)
        .from(request_task::Entity)
        .and_where(request_task::Column::State.eq(TaskState::Failed.as_str()));
    if let Some(org_id) = org_id {
        failed.and_where(request_task::Column::OrgId.eq(org_id));
    }
    Condition::any()
        .add(C::StateChangedAt.lt(cutoff))
        .add(C::Id.in_subquery(failed.to_owned()))
}

fn date_key(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The rule of "overdue": among `select`, the requests still open whose effective
/// due date is before `today` (the organization's local day).
pub(crate) fn only_overdue(
    select: sea_orm::Select<subject_request::Entity>,
    today: chrono::NaiveDate,
) -> sea_orm::Select<subject_request::Entity> {
    use subject_request::Column as C;
    select
        .filter(C::State.is_in(super::open_states()))
        .filter(C::DueSortKey.lt(date_key(today)))
}

/// The open requests of an organization past their deadline, oldest due first.
pub(crate) async fn overdue_requests<C: crate::core::store::Conn>(
    conn: &C,
    org_id: Uuid,
) -> crate::Result<Vec<subject_request::Model>> {
    let today = super::settings::local_clock(conn, org_id).await?.today();
    Ok(only_overdue(
        subject_request::Entity::find().filter(subject_request::Column::OrgId.eq(org_id)),
        today,
    )
    .order_by_asc(subject_request::Column::DueSortKey)
    .all(conn)
    .await?)
}

impl Workflow {
    /// Requests of the organization, oldest first, filtered.
    pub async fn requests(
        &self,
        principal: &Principal,
        filter: &RequestFilter,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<RequestView>> {
        use subject_request::Column as C;
        let mut select = subject_request::Entity::find().filter(C::OrgId.eq(principal.org_id));
        if !filter.states.is_empty() {
            select = select.filter(C::State.is_in(filter.states.iter().map(|s| s.as_str())));
        }
        if let Some(kind) = filter.kind {
            select = select.filter(C::Kind.eq(kind.as_str()));
        }
        if let Some(days) = filter.due_within_days
            && !(0..=366).contains(&days)
        {
            return Err(crate::Error::invalid(
                &["filter", "dueWithinDays"],
                "must be between 0 and 366",
            ));
        }
        if filter.overdue || filter.due_within_days.is_some() {
            // The organization's local day, not the UTC one.
            let today = super::settings::local_clock(self.store.conn(), principal.org_id)
                .await?
                .today();
            // The sort key starts with the effective due date, so date ranges are
            // prefix ranges.
            if filter.overdue {
                select = only_overdue(select, today);
            }
            if let Some(days) = filter.due_within_days {
                let until = today + Days::new(days as u64 + 1);
                select = select
                    .filter(C::State.is_in(super::open_states()))
                    .filter(C::DueSortKey.lt(date_key(until)));
            }
        }
        if let Some(is_test) = filter.is_test {
            select = select.filter(C::IsTest.eq(is_test));
        }
        if let Some(assignee) = filter.assignee_id {
            select = select.filter(C::AssigneeId.eq(assignee));
        }
        if let Some((kind, value)) = &filter.identity {
            let region = match kind {
                IdentityType::Phone => {
                    super::settings::load(self.store.conn(), principal.org_id)
                        .await?
                        .phone_region
                }
                _ => identity::PhoneRegion::default(),
            };
            let mut v = crate::error::Validator::default();
            let value = super::intake::normalize_identity(
                &mut v,
                *kind,
                value,
                &["filter", "identity", "value"],
                region,
            );
            v.finish()?;
            select = select.filter(
                C::SubjectId.in_subquery(
                    Query::select()
                        .column(subject_identity::Column::SubjectId)
                        .from(subject_identity::Entity)
                        .and_where(subject_identity::Column::OrgId.eq(principal.org_id))
                        .and_where(subject_identity::Column::Kind.eq(kind.as_str()))
                        .and_where(subject_identity::Column::Value.eq(value))
                        .to_owned(),
                ),
            );
        }
        paginate(self.store.conn(), select, C::Id, page)
            .await?
            .try_map(RequestView::try_from)
    }

    /// One request of the organization.
    pub async fn request(&self, principal: &Principal, id: Uuid) -> Result<RequestView> {
        super::find_request(self.store.conn(), principal.org_id, id)
            .await?
            .try_into()
    }

    /// The organization's requests with these ids, in one query (for DataLoaders).
    pub async fn requests_by_ids(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<RequestView>> {
        views(
            subject_request::Entity::find()
                .filter(subject_request::Column::OrgId.eq(principal.org_id))
                .filter(subject_request::Column::Id.is_in(ids.iter().copied()))
                .all(self.store.conn())
                .await?,
        )
    }

    /// A request's timeline, oldest first.
    pub async fn request_timeline(
        &self,
        principal: &Principal,
        request_id: Uuid,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<TimelineEntryView>> {
        use request_event::Column as C;
        let select = request_event::Entity::find()
            .filter(C::OrgId.eq(principal.org_id))
            .filter(C::RequestId.eq(request_id));
        paginate(self.store.conn(), select, C::Id, page)
            .await?
            .try_map(TimelineEntryView::try_from)
    }

    /// The identities each of these requests gave, in two queries: (request id,
    /// identity), oldest identity first.
    pub async fn identities_of_requests(
        &self,
        principal: &Principal,
        request_ids: &[Uuid],
    ) -> Result<Vec<(Uuid, IdentityView)>> {
        let conn = self.store.conn();
        let links = entity::request_identity::Entity::find()
            .filter(entity::request_identity::Column::OrgId.eq(principal.org_id))
            .filter(entity::request_identity::Column::RequestId.is_in(request_ids.iter().copied()))
            .all(conn)
            .await?;
        if links.is_empty() {
            return Ok(Vec::new());
        }
        let identities: Vec<IdentityView> = views(
            subject_identity::Entity::find()
                .filter(subject_identity::Column::OrgId.eq(principal.org_id))
                .filter(
                    subject_identity::Column::Id.is_in(
                        links
                            .iter()
                            .map(|l| l.identity_id)
                            .collect::<std::collections::BTreeSet<_>>(),
                    ),
                )
                .order_by_asc(subject_identity::Column::CreatedAt)
                .all(conn)
                .await?,
        )?;
        let mut out = Vec::with_capacity(links.len());
        for identity in identities {
            for link in links.iter().filter(|l| l.identity_id == identity.id) {
                out.push((link.request_id, identity.clone()));
            }
        }
        Ok(out)
    }

    /// The attachments (without content) that came with these requests, in one query.
    pub async fn attachments_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<request_attachment::Model>> {
        use request_attachment::Column as C;
        let which = sea_orm::Condition::all()
            .add(C::RequestId.is_in(ids.iter().copied()))
            .add(C::TaskId.is_null());
        attachments_without_content(self, principal, which).await
    }

    /// The files (without content) uploaded as the results of these tasks, in one query.
    pub async fn files_of_tasks(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<request_attachment::Model>> {
        use request_attachment::Column as C;
        let which = sea_orm::Condition::all().add(C::TaskId.is_in(ids.iter().copied()));
        attachments_without_content(self, principal, which).await
    }

    /// Open requests that need attention: not moved for longer than the organization's
    /// `stallAfterHours`, or with a failed task. Oldest first.
    pub async fn stalled_requests(
        &self,
        principal: &Principal,
        page: &PageRequest<Uuid>,
    ) -> Result<Page<RequestView>> {
        let settings = super::settings::load(self.store.conn(), principal.org_id).await?;
        let cutoff = now() - Duration::hours(i64::from(settings.stall_after_hours));
        use subject_request::Column as C;
        let select = subject_request::Entity::find()
            .filter(C::OrgId.eq(principal.org_id))
            .filter(C::State.is_in(super::open_states()))
            .filter(stalled(Some(principal.org_id), cutoff));
        paginate(self.store.conn(), select, C::Id, page)
            .await?
            .try_map(RequestView::try_from)
    }

    /// Why each of these requests counts as stalled (an empty list: it does not), in
    /// three statements however many requests (for DataLoaders).
    pub async fn stalled_reasons_of(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, Vec<StalledReason>)>> {
        let conn = self.store.conn();
        let settings = super::settings::load(conn, principal.org_id).await?;
        let cutoff = now() - Duration::hours(i64::from(settings.stall_after_hours));
        let requests = self.requests_by_ids(principal, ids).await?;
        let failed: Vec<Uuid> = request_task::Entity::find()
            .select_only()
            .column(request_task::Column::RequestId)
            .filter(request_task::Column::OrgId.eq(principal.org_id))
            .filter(request_task::Column::RequestId.is_in(ids.iter().copied()))
            .filter(request_task::Column::State.eq(TaskState::Failed.as_str()))
            .into_tuple()
            .all(conn)
            .await?;
        requests
            .into_iter()
            .map(|r| {
                let mut reasons = Vec::new();
                if r.is_open() {
                    if r.state_changed_at < cutoff {
                        reasons.push(StalledReason::NotMoved);
                    }
                    if failed.contains(&r.id) {
                        reasons.push(StalledReason::TaskFailed);
                    }
                }
                Ok((r.id, reasons))
            })
            .collect()
    }

    /// Gauges across all organizations for `/metrics` (test requests excluded).
    pub async fn request_gauges(&self) -> Result<RequestGauges> {
        use subject_request::Column as C;
        let conn = self.store.conn();
        let rows: Vec<(String, i64)> = subject_request::Entity::find()
            .select_only()
            .column(C::State)
            .column_as(C::Id.count(), "n")
            .filter(C::IsTest.eq(false))
            .filter(C::State.is_in(super::open_states()))
            .group_by(C::State)
            .into_tuple()
            .all(conn)
            .await?;
        let mut gauges = RequestGauges::default();
        for state in RequestState::ALL.iter().filter(|s| s.is_open()) {
            let n = rows
                .iter()
                .find(|(s, _)| s == state.as_str())
                .map_or(0, |(_, n)| *n as u64);
            gauges.open_by_state.push((*state, n));
        }
        // Overdue by each organization's local day: one count per distinct time zone
        // (usually just the default), not one per organization.
        let default_zone = super::DEFAULT_TIME_ZONE;
        let mut zones: std::collections::BTreeMap<String, Vec<Uuid>> = Default::default();
        let rows: Vec<(Uuid, String)> = entity::request_settings::Entity::find()
            .select_only()
            .column(entity::request_settings::Column::OrgId)
            .column(entity::request_settings::Column::TimeZone)
            .into_tuple()
            .all(conn)
            .await?;
        for (org_id, zone) in rows.into_iter().filter(|(_, z)| z != default_zone.name()) {
            zones.entry(zone).or_default().push(org_id);
        }
        let zoned: Vec<Uuid> = zones.values().flatten().copied().collect();
        let mut groups = Vec::new();
        for (zone, orgs) in zones {
            let tz: chrono_tz::Tz = zone.parse().map_err(|_| {
                crate::Error::Internal(format!("stored time zone {zone:?} is not valid"))
            })?;
            groups.push((tz, C::OrgId.is_in(orgs)));
        }
        groups.push((default_zone, C::OrgId.is_not_in(zoned)));
        for (tz, orgs) in groups {
            let today = super::LocalClock(tz).today();
            gauges.overdue += only_overdue(
                subject_request::Entity::find()
                    .filter(orgs)
                    .filter(C::IsTest.eq(false)),
                today,
            )
            .count(conn)
            .await?;
        }
        // Organizations may set their own stall time: one count per distinct setting
        // (usually just the default), not one per organization.
        let default_hours = super::RequestSettings::default().stall_after_hours;
        let mut custom: std::collections::BTreeMap<i32, Vec<Uuid>> = Default::default();
        let rows: Vec<(Uuid, i32)> = entity::request_settings::Entity::find()
            .select_only()
            .column(entity::request_settings::Column::OrgId)
            .column(entity::request_settings::Column::StallAfterHours)
            .into_tuple()
            .all(conn)
            .await?;
        for (org_id, hours) in rows.into_iter().filter(|(_, h)| *h != default_hours) {
            custom.entry(hours).or_default().push(org_id);
        }
        let customized: Vec<Uuid> = custom.values().flatten().copied().collect();
        let groups = custom
            .into_iter()
            .map(|(hours, orgs)| (hours, C::OrgId.is_in(orgs)))
            .chain(std::iter::once((
                default_hours,
                C::OrgId.is_not_in(customized),
            )));
        for (hours, orgs) in groups {
            let cutoff = now() - Duration::hours(i64::from(hours));
            gauges.stalled += subject_request::Entity::find()
                .filter(orgs)
                .filter(C::IsTest.eq(false))
                .filter(C::State.is_in(super::open_states()))
                .filter(stalled(None, cutoff))
                .count(conn)
                .await?;
        }
        Ok(gauges)
    }
}

impl Workflow {
    /// Names of the organization's data sources with these ids (for task listings,
    /// which people without `data_source:read` see too).
    pub async fn source_names(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, String)>> {
        use entity::data_source::Column as C;
        Ok(entity::data_source::Entity::find()
            .select_only()
            .column(C::Id)
            .column(C::Name)
            .filter(C::OrgId.eq(principal.org_id))
            .filter(C::Id.is_in(ids.iter().copied()))
            .into_tuple()
            .all(self.store.conn())
            .await?)
    }
}

/// The attachments `which` selects, their content left out.
async fn attachments_without_content(
    wf: &Workflow,
    principal: &Principal,
    which: sea_orm::Condition,
) -> Result<Vec<request_attachment::Model>> {
    use request_attachment::Column as C;
    Ok(request_attachment::Entity::find()
        .select_only()
        .columns([
            C::Id,
            C::OrgId,
            C::RequestId,
            C::TaskId,
            C::FileName,
            C::MediaType,
            C::SizeBytes,
            C::Sha256,
            C::CreatedBy,
            C::CreatedAt,
        ])
        .column_as(sea_orm::sea_query::Expr::val(""), C::Content)
        .filter(C::OrgId.eq(principal.org_id))
        .filter(which)
        .order_by_asc(C::Id)
        .into_model::<request_attachment::Model>()
        .all(wf.store.conn())
        .await?)
}

/// A file received with a request, opened.
#[derive(Debug, Clone)]
pub struct AttachmentFile {
    /// File name as received.
    pub file_name: String,
    /// Media type as received.
    pub media_type: String,
    /// Content.
    pub bytes: Vec<u8>,
}

const ATTACHMENT_LINK: &str = "attachment/";

impl Workflow {
    /// A link to download an attachment, valid for [`crate::core::links::LINK_TTL`].
    pub async fn attachment_link(
        &self,
        principal: &Principal,
        attachment_id: Uuid,
    ) -> Result<(String, chrono::DateTime<chrono::Utc>)> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                crate::Object::Request,
                crate::Action::Read,
            )
            .await?;
        crate::core::links::seal(
            &self.cipher,
            principal.key_id,
            &format!("{ATTACHMENT_LINK}{attachment_id}"),
            now(),
        )
    }

    /// The attachment a link stands for. NOT_FOUND for forged, altered or expired
    /// links; UNAUTHENTICATED when the key was revoked since; FORBIDDEN when it
    /// lost `request:read`.
    pub async fn redeem_attachment_link(&self, token: &str) -> Result<AttachmentFile> {
        let (key_id, what) = crate::core::links::open(&self.cipher, token, now())?;
        let id: Uuid = what
            .strip_prefix(ATTACHMENT_LINK)
            .and_then(|id| id.parse().ok())
            .ok_or_else(crate::core::links::invalid_link)?;
        let principal =
            crate::access::api_keys::principal_of_key(self.store.conn(), key_id).await?;
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                crate::Object::Request,
                crate::Action::Read,
            )
            .await?;
        let row = request_attachment::Entity::find_by_id(id)
            .filter(request_attachment::Column::OrgId.eq(principal.org_id))
            .one(self.store.conn())
            .await?
            .ok_or(crate::Error::NotFound { what: "attachment" })?;
        if row.task_id.is_some() {
            // A task's file is collected personal data, like its records.
            self.authz
                .require(
                    principal.key_id,
                    principal.org_id,
                    crate::Object::Request,
                    crate::Action::ReadData,
                )
                .await?;
        }
        if row.content.is_empty() {
            return Err(crate::Error::Conflict(
                "this file was purged with the request's collected data".into(),
            ));
        }
        Ok(AttachmentFile {
            bytes: self.cipher.decrypt(&row.content)?,
            file_name: row.file_name,
            media_type: row.media_type,
        })
    }
}
