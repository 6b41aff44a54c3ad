//! Per-organization settings of the request workflow: holiday calendar, when the
//! deadline starts, the Art. 12(5) flag threshold, when a request counts as stalled.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::json;
use uuid::Uuid;

use entity::{closed_day, request_settings};

use super::DeadlineBasis;
use super::deadline::{Calendar, GermanState};
use crate::audit::Entry;
use crate::error::{Result, Validator};
use crate::principal::Principal;
use crate::store::Conn;
use crate::{Workflow, new_id, now};

/// The settings as they apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSettings {
    /// State whose holidays count besides the federal ones.
    pub holiday_region: Option<GermanState>,
    /// When the deadline starts.
    pub deadline_start: DeadlineBasis,
    /// More requests than this per subject within 12 months are flagged.
    pub excessive_threshold: i32,
    /// Open requests that have not moved for this many hours are stalled.
    pub stall_after_hours: i32,
    /// Days the organization is closed, with a note.
    pub closed_days: Vec<(NaiveDate, Option<String>)>,
}

impl Default for RequestSettings {
    fn default() -> Self {
        Self {
            holiday_region: None,
            deadline_start: DeadlineBasis::Receipt,
            excessive_threshold: 3,
            stall_after_hours: 72,
            closed_days: Vec::new(),
        }
    }
}

impl RequestSettings {
    /// The calendar deadlines are computed with.
    pub fn calendar(&self) -> Calendar {
        Calendar {
            state: self.holiday_region,
            closed_days: self
                .closed_days
                .iter()
                .map(|(d, _)| *d)
                .collect::<BTreeSet<_>>(),
        }
    }
}

/// A change of the settings: `None` keeps; `closed_days` replaces the whole list.
#[derive(Debug, Clone, Default)]
pub struct RequestSettingsPatch {
    /// `Some(None)` clears.
    pub holiday_region: Option<Option<GermanState>>,
    /// When the deadline starts (applies to requests received from now on).
    pub deadline_start: Option<DeadlineBasis>,
    /// 1..=100.
    pub excessive_threshold: Option<i32>,
    /// 1..=8760.
    pub stall_after_hours: Option<i32>,
    /// The complete new list of closed days.
    pub closed_days: Option<Vec<(NaiveDate, Option<String>)>>,
}

/// The organization's settings (defaults when never changed).
pub(crate) async fn load<C: Conn>(conn: &C, org_id: Uuid) -> Result<RequestSettings> {
    let row = request_settings::Entity::find_by_id(org_id)
        .one(conn)
        .await?;
    let closed_days = closed_day::Entity::find()
        .filter(closed_day::Column::OrgId.eq(org_id))
        .order_by_asc(closed_day::Column::Day)
        .all(conn)
        .await?
        .into_iter()
        .map(|d| (d.day, d.note))
        .collect();
    let mut settings = match row {
        None => RequestSettings::default(),
        Some(r) => RequestSettings {
            holiday_region: r.holiday_region.as_deref().map(str::parse).transpose()?,
            deadline_start: r.deadline_start.parse()?,
            excessive_threshold: r.excessive_threshold,
            stall_after_hours: r.stall_after_hours,
            closed_days: Vec::new(),
        },
    };
    settings.closed_days = closed_days;
    Ok(settings)
}

fn settings_state(s: &RequestSettings) -> serde_json::Value {
    json!({"holidayRegion": s.holiday_region.map(|r| r.as_str()),
           "deadlineStart": s.deadline_start.as_str(),
           "excessiveThreshold": s.excessive_threshold, "stallAfterHours": s.stall_after_hours,
           "closedDays": s.closed_days.iter().map(|(d, n)| json!([d, n])).collect::<Vec<_>>()})
}

impl Workflow {
    /// The caller's organization's request settings.
    pub async fn request_settings(&self, principal: &Principal) -> Result<RequestSettings> {
        load(self.store.conn(), principal.org_id).await
    }

    /// Changes the request settings (organization:update).
    #[tracing::instrument(skip(self, patch), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn update_request_settings(
        &self,
        principal: &Principal,
        patch: RequestSettingsPatch,
    ) -> Result<RequestSettings> {
        let mut v = Validator::default();
        if let Some(n) = patch.excessive_threshold {
            v.check(
                (1..=100).contains(&n),
                &["input", "excessiveThreshold"],
                "must be between 1 and 100",
            );
        }
        if let Some(n) = patch.stall_after_hours {
            v.check(
                (1..=8760).contains(&n),
                &["input", "stallAfterHours"],
                "must be between 1 and 8760 (a year)",
            );
        }
        let closed_days = patch.closed_days.map(|days| {
            v.check(
                days.len() <= 366,
                &["input", "closedDays"],
                "at most 366 days",
            );
            let mut seen = BTreeSet::new();
            days.into_iter()
                .enumerate()
                .map(|(i, (day, note))| {
                    let index = i.to_string();
                    v.check(
                        seen.insert(day),
                        &["input", "closedDays", &index, "day"],
                        "is listed twice",
                    );
                    let note = v.optional_text(note, &["input", "closedDays", &index, "note"], 200);
                    (day, note)
                })
                .collect::<Vec<_>>()
        });
        v.finish()?;
        let tx = self.store.begin().await?;
        let before = load(tx.conn(), principal.org_id).await?;
        let after = RequestSettings {
            holiday_region: patch.holiday_region.unwrap_or(before.holiday_region),
            deadline_start: patch.deadline_start.unwrap_or(before.deadline_start),
            excessive_threshold: patch
                .excessive_threshold
                .unwrap_or(before.excessive_threshold),
            stall_after_hours: patch.stall_after_hours.unwrap_or(before.stall_after_hours),
            closed_days: closed_days.unwrap_or_else(|| before.closed_days.clone()),
        };
        request_settings::Entity::delete_by_id(principal.org_id)
            .exec(tx.conn())
            .await?;
        request_settings::ActiveModel {
            org_id: Set(principal.org_id),
            holiday_region: Set(after.holiday_region.map(|r| r.as_str().to_owned())),
            deadline_start: Set(after.deadline_start.as_str().to_owned()),
            excessive_threshold: Set(after.excessive_threshold),
            stall_after_hours: Set(after.stall_after_hours),
            updated_at: Set(now()),
        }
        .insert(tx.conn())
        .await?;
        if after.closed_days != before.closed_days {
            closed_day::Entity::delete_many()
                .filter(closed_day::Column::OrgId.eq(principal.org_id))
                .exec(tx.conn())
                .await?;
            for (day, note) in &after.closed_days {
                closed_day::ActiveModel {
                    id: Set(new_id()),
                    org_id: Set(principal.org_id),
                    day: Set(*day),
                    note: Set(note.clone()),
                }
                .insert(tx.conn())
                .await?;
            }
        }
        let entry = Entry::success("updateRequestSettings", "RequestSettings", principal.org_id)
            .before(settings_state(&before))
            .after(settings_state(&after));
        self.commit_audited(tx, principal, entry).await?;
        Ok(after)
    }
}
