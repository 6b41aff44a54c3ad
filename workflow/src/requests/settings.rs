//! Per-organization settings of the request workflow: holiday calendar, when the
//! deadline starts, the Art. 12(5) flag threshold, when a request counts as stalled,
//! the time zone of the organization's local day and the default phone region.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use identity::PhoneRegion;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use entity::{closed_day, request_settings};

use super::DeadlineBasis;
use super::deadline::{Calendar, GermanState};
use crate::access::audit::Entry;
use crate::access::principal::Principal;
use crate::core::store::Conn;
use crate::error::{Error, Result, Validator};
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
    /// The time zone of the organization's local day: the day of receipt, due dates
    /// and whether a request is overdue are local dates there.
    pub time_zone: Tz,
    /// Phone numbers given without a country code are read in this region's plan.
    pub phone_region: PhoneRegion,
    /// Days after a request ended (CLOSED, REJECTED, CANCELLED) before its collected
    /// data is purged; the timeline and digests stay.
    pub purge_after_days: i32,
}

/// The time zone of organizations that did not set one.
pub const DEFAULT_TIME_ZONE: Tz = chrono_tz::Europe::Berlin;

impl Default for RequestSettings {
    fn default() -> Self {
        Self {
            holiday_region: None,
            deadline_start: DeadlineBasis::Receipt,
            excessive_threshold: 3,
            stall_after_hours: 72,
            closed_days: Vec::new(),
            time_zone: DEFAULT_TIME_ZONE,
            phone_region: PhoneRegion::default(),
            purge_after_days: 90,
        }
    }
}

/// The organization's clock: which local day an instant falls on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalClock(pub Tz);

impl LocalClock {
    /// The local date of `at`.
    pub fn date_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.0).date_naive()
    }

    /// Today, locally.
    pub fn today(&self) -> NaiveDate {
        self.date_of(now())
    }
}

/// Reads an IANA time zone name (e.g. `Europe/Berlin`); records a validation error
/// at `path` when it is unknown.
pub fn parse_time_zone(v: &mut Validator, value: &str, path: &[&str]) -> Tz {
    match value.trim().parse::<Tz>() {
        Ok(tz) => tz,
        Err(_) => {
            v.check(
                false,
                path,
                "must be an IANA time zone name like Europe/Berlin",
            );
            DEFAULT_TIME_ZONE
        }
    }
}

impl RequestSettings {
    /// The organization's clock.
    pub fn clock(&self) -> LocalClock {
        LocalClock(self.time_zone)
    }

    /// The deadline of a period that starts at `at`: the organization's local day
    /// (not the UTC one) and the Art. 12(3) due date counted from it.
    pub fn deadline_from(&self, at: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
        let start = self.clock().date_of(at);
        (start, self.calendar().due_date(start))
    }

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
    /// An IANA time zone name (applies to requests received from now on and to
    /// overdue and due-soon from now on).
    pub time_zone: Option<String>,
    /// An ISO 3166-1 alpha-2 region with a phone numbering plan.
    pub phone_region: Option<String>,
    /// 0..=3650.
    pub purge_after_days: Option<i32>,
}

fn stored<T: std::str::FromStr>(value: &str, what: &str) -> Result<T> {
    value
        .parse()
        .map_err(|_| Error::Internal(format!("stored {what} {value:?} is not valid")))
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
            time_zone: stored(&r.time_zone, "time zone")?,
            phone_region: stored(&r.phone_region, "phone region")?,
            purge_after_days: r.purge_after_days,
        },
    };
    settings.closed_days = closed_days;
    Ok(settings)
}

/// The organization's clock, in one small query.
pub(crate) async fn local_clock<C: Conn>(conn: &C, org_id: Uuid) -> Result<LocalClock> {
    let zone: Option<String> = request_settings::Entity::find_by_id(org_id)
        .select_only()
        .column(request_settings::Column::TimeZone)
        .into_tuple()
        .one(conn)
        .await?;
    Ok(LocalClock(match zone {
        Some(z) => stored(&z, "time zone")?,
        None => DEFAULT_TIME_ZONE,
    }))
}

/// The region phone numbers without a country code are read in, in one small query.
pub(crate) async fn phone_region<C: Conn>(conn: &C, org_id: Uuid) -> Result<PhoneRegion> {
    let region: Option<String> = request_settings::Entity::find_by_id(org_id)
        .select_only()
        .column(request_settings::Column::PhoneRegion)
        .into_tuple()
        .one(conn)
        .await?;
    match region {
        Some(r) => stored(&r, "phone region"),
        None => Ok(PhoneRegion::default()),
    }
}

fn settings_state(s: &RequestSettings) -> serde_json::Value {
    json!({"holidayRegion": s.holiday_region.map(|r| r.as_str()),
           "deadlineStart": s.deadline_start.as_str(),
           "excessiveThreshold": s.excessive_threshold, "stallAfterHours": s.stall_after_hours,
           "timeZone": s.time_zone.name(), "phoneRegion": s.phone_region.as_str(),
           "purgeAfterDays": s.purge_after_days,
           "closedDays": s.closed_days.iter().map(|(d, n)| json!([d, n])).collect::<Vec<_>>()})
}

impl Workflow {
    /// The caller's organization's request settings.
    pub async fn request_settings(&self, principal: &Principal) -> Result<RequestSettings> {
        load(self.store.conn(), principal.org_id).await
    }

    /// The caller's organization's clock (its local day).
    pub async fn local_clock(&self, principal: &Principal) -> Result<LocalClock> {
        local_clock(self.store.conn(), principal.org_id).await
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
        if let Some(n) = patch.purge_after_days {
            v.check(
                (0..=3650).contains(&n),
                &["input", "purgeAfterDays"],
                "must be between 0 and 3650 (ten years)",
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
        let time_zone = patch
            .time_zone
            .as_deref()
            .map(|z| parse_time_zone(&mut v, z, &["input", "timeZone"]));
        let phone_region = patch.phone_region.as_deref().map(|r| {
            r.parse::<PhoneRegion>().unwrap_or_else(|e| {
                v.check(false, &["input", "phoneRegion"], e.0);
                PhoneRegion::default()
            })
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
            time_zone: time_zone.unwrap_or(before.time_zone),
            phone_region: phone_region.unwrap_or(before.phone_region),
            purge_after_days: patch.purge_after_days.unwrap_or(before.purge_after_days),
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
            phone_region: Set(after.phone_region.as_str().to_owned()),
            time_zone: Set(after.time_zone.name().to_owned()),
            purge_after_days: Set(after.purge_after_days),
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{FixedOffset, TimeZone};

    fn at(rfc3339: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn a_letter_received_after_local_midnight_counts_from_that_day() {
        let settings = RequestSettings::default();
        // 00:30 in Germany is still 31 October in UTC.
        let (start, due) = settings.deadline_from(at("2026-11-01T00:30:00+01:00"));
        assert_eq!(start, day("2026-11-01"));
        assert_eq!(due, day("2026-12-01"));
        // 23:30 on 31 October in Germany is 22:30 UTC, the same day.
        let (start, _) = settings.deadline_from(at("2026-10-31T23:30:00+01:00"));
        assert_eq!(start, day("2026-10-31"));
    }

    #[test]
    fn the_local_day_follows_daylight_saving_changes() {
        let clock = RequestSettings::default().clock();
        // Spring forward (2026-03-29 02:00 CET -> 03:00 CEST).
        assert_eq!(clock.date_of(at("2026-03-28T22:59:59Z")), day("2026-03-28"));
        assert_eq!(clock.date_of(at("2026-03-28T23:00:00Z")), day("2026-03-29"));
        assert_eq!(clock.date_of(at("2026-03-29T21:59:59Z")), day("2026-03-29"));
        assert_eq!(clock.date_of(at("2026-03-29T22:00:00Z")), day("2026-03-30"));
        // Fall back (2026-10-25 03:00 CEST -> 02:00 CET): midnight is 22:00 UTC the
        // day before, and 23:00 UTC on the day itself.
        assert_eq!(clock.date_of(at("2026-10-24T21:59:59Z")), day("2026-10-24"));
        assert_eq!(clock.date_of(at("2026-10-24T22:00:00Z")), day("2026-10-25"));
        assert_eq!(clock.date_of(at("2026-10-25T22:59:59Z")), day("2026-10-25"));
        assert_eq!(clock.date_of(at("2026-10-25T23:00:00Z")), day("2026-10-26"));
        // The hour that happens twice belongs to one day.
        let twice = FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(2026, 10, 25, 2, 30, 0)
            .unwrap()
            .to_utc();
        assert_eq!(clock.date_of(twice), day("2026-10-25"));
    }

    #[test]
    fn time_zones_are_validated() {
        let mut v = Validator::default();
        assert_eq!(
            parse_time_zone(&mut v, " America/New_York ", &["input", "timeZone"]),
            chrono_tz::America::New_York
        );
        assert!(v.finish().is_ok());
        for bad in ["", "Mars/Olympus", "CEST+1", "europe/berlin "] {
            let mut v = Validator::default();
            parse_time_zone(&mut v, bad, &["input", "timeZone"]);
            let Err(Error::Validation(fields)) = v.finish() else {
                panic!("{bad:?} must be refused");
            };
            assert_eq!(fields[0].path, ["input", "timeZone"]);
        }
    }
}
