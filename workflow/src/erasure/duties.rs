//! Legal duties to keep data (Art. 17(3)(b), e.g. § 147 AO, § 257 HGB): which
//! retention policy of the register requires a held field, and until when.
//!
//! A field is covered by a policy when an activity that uses the field's source
//! and lists the field's category has that retention policy, and the policy names
//! its legal ground. Of several, the one that ends last wins. The end is computed
//! from the day of the erasure: the records' own dates are not mapped, so it is the
//! latest the duty can end (a record made today is kept longest).

use std::collections::HashMap;

use chrono::{Datelike, Months, NaiveDate};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::{
    activity_data_category, activity_source, data_field, processing_activity, retention_policy,
};

use crate::error::Result;
use crate::register::fields::ErasureStrategy;
use crate::register::retention::RetentionTrigger;

/// A duty to keep a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duty {
    /// The legal ground (`§ 147 AO, § 257 HGB`).
    pub legal_reference: String,
    /// The retention policy's name.
    pub policy: String,
    /// The day the duty ends, at the latest.
    pub until: NaiveDate,
}

/// `today` plus an ISO 8601 duration, counted from the end of the calendar year for
/// AFTER_END_OF_CALENDAR_YEAR; `None` for a duration that does not parse.
pub fn until(today: NaiveDate, duration: &str, trigger: RetentionTrigger) -> Option<NaiveDate> {
    let start = match trigger {
        RetentionTrigger::AfterEndOfCalendarYear => NaiveDate::from_ymd_opt(today.year(), 12, 31)?,
        _ => today,
    };
    match iso8601::parsers::parse_duration(duration.trim().to_ascii_uppercase().as_bytes()) {
        Ok((&[], iso8601::Duration::Weeks(w))) => {
            start.checked_add_days(chrono::Days::new(u64::from(w) * 7))
        }
        Ok((
            &[],
            iso8601::Duration::YMDHMS {
                year,
                month,
                day,
                hour,
                ..
            },
        )) => start
            .checked_add_months(Months::new(year.checked_mul(12)?.checked_add(month)?))?
            .checked_add_days(chrono::Days::new(
                u64::from(day) + u64::from(hour.div_ceil(24)),
            )),
        _ => None,
    }
}

/// The duty of every held field of the source that a policy covers.
pub(crate) async fn of_source<C: crate::core::store::Conn>(
    conn: &C,
    org_id: Uuid,
    source_id: Uuid,
    fields: &[data_field::Model],
) -> Result<HashMap<Uuid, Duty>> {
    let held: Vec<&data_field::Model> = fields
        .iter()
        .filter(|f| f.erasure_strategy == ErasureStrategy::KeepUnderHold.as_str())
        .collect();
    if held.is_empty() {
        return Ok(HashMap::new());
    }
    let activity_ids: Vec<Uuid> = activity_source::Entity::find()
        .filter(activity_source::Column::SourceId.eq(source_id))
        .all(conn)
        .await?
        .into_iter()
        .map(|a| a.activity_id)
        .collect();
    let activities: Vec<(Uuid, Uuid)> = processing_activity::Entity::find()
        .filter(processing_activity::Column::OrgId.eq(org_id))
        .filter(processing_activity::Column::Id.is_in(activity_ids.clone()))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|a| Some((a.id, a.retention_policy_id?)))
        .collect();
    let policies: HashMap<Uuid, retention_policy::Model> = retention_policy::Entity::find()
        .filter(retention_policy::Column::OrgId.eq(org_id))
        .filter(retention_policy::Column::Id.is_in(activities.iter().map(|a| a.1)))
        .all(conn)
        .await?
        .into_iter()
        .filter(|p| {
            p.legal_reference
                .as_deref()
                .is_some_and(|r| !r.trim().is_empty())
        })
        .map(|p| (p.id, p))
        .collect();
    let categories = activity_data_category::Entity::find()
        .filter(activity_data_category::Column::ActivityId.is_in(activity_ids))
        .all(conn)
        .await?;
    let today = chrono::Utc::now().date_naive();
    let mut out = HashMap::new();
    for field in held {
        let Some(category) = field.data_category_id else {
            continue;
        };
        let mut best: Option<Duty> = None;
        for (activity, policy_id) in &activities {
            let covers = categories
                .iter()
                .any(|c| c.activity_id == *activity && c.data_category_id == category);
            let Some(policy) = policies.get(policy_id).filter(|_| covers) else {
                continue;
            };
            let Ok(trigger) = policy.trigger.parse::<RetentionTrigger>() else {
                continue;
            };
            let Some(end) = until(today, &policy.duration, trigger) else {
                continue;
            };
            if best.as_ref().is_none_or(|b| end > b.until) {
                best = Some(Duty {
                    legal_reference: policy.legal_reference.clone().unwrap_or_default(),
                    policy: policy.name.clone(),
                    until: end,
                });
            }
        }
        if let Some(duty) = best {
            out.insert(field.id, duty);
        }
    }
    Ok(out)
}
