//! Legal duties to keep data (Art. 17(3)(b), e.g. § 147 AO, § 257 HGB): which
//! retention policy of the register requires a held field, and until when.
//!
//! A field is covered by a policy when an activity that uses the field's source
//! and lists the field's category has that retention policy, and the policy names
//! its legal ground. Of several, the one that ends last wins.
//!
//! The end is counted per record, from the record's own dates: the latest value of
//! the policy's trigger fields in the record (for AFTER_LAST_CONTACT, in any record
//! of the subject found in the source: the last contact is the person's, not the
//! row's). A policy with no trigger field there, or a record with no readable date,
//! counts from the day of the erasure: the latest the duty can end. A duty that has
//! already ended when the erasure runs holds nothing: the field goes the way the
//! policy's action at expiry says (see [`Duty::ended`]).

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, Months, NaiveDate};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::{
    activity_data_category, activity_source, data_field, processing_activity, retention_policy,
    retention_trigger_field,
};

use crate::connectors::Found;
use crate::error::Result;
use crate::register::fields::ErasureStrategy;
use crate::register::retention::{ExpiryAction, RetentionTrigger};

/// A duty to keep a field of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duty {
    /// The legal ground (`§ 147 AO, § 257 HGB`).
    pub legal_reference: String,
    /// The retention policy's name.
    pub policy: String,
    /// The day the duty ends.
    pub until: NaiveDate,
    /// The record's date it is counted from; `None`: from the day of the erasure
    /// (the record holds no date of the policy), the latest it can end.
    pub from: Option<NaiveDate>,
    /// What the policy says happens when it ends.
    pub action: ExpiryAction,
}

impl Duty {
    /// What becomes of a field held under this duty once it has ended: deleted (its
    /// row, when nothing else in it stays; otherwise set to NULL), anonymized, or
    /// still kept for a person to decide (REVIEW).
    pub fn ended(&self) -> ErasureStrategy {
        match self.action {
            ExpiryAction::Delete => ErasureStrategy::DeleteRow,
            ExpiryAction::Anonymize => ErasureStrategy::Anonymize,
            ExpiryAction::Review => ErasureStrategy::KeepUnderHold,
        }
    }

    /// Why the field stays, in words, for the erasure report.
    pub fn reason(&self) -> String {
        match self.from {
            Some(from) => format!(
                "kept under «{}» ({}) until {}, counted from the record's date {from}",
                self.policy, self.legal_reference, self.until
            ),
            None => format!(
                "kept under «{}» ({}) until {}, counted from the day of the erasure: the \
                 record holds no date of the policy",
                self.policy, self.legal_reference, self.until
            ),
        }
    }
}

/// A retention policy with a legal ground that covers a held field.
#[derive(Debug, Clone)]
pub(crate) struct Cover {
    pub legal_reference: String,
    pub policy: String,
    pub duration: String,
    pub trigger: RetentionTrigger,
    pub action: ExpiryAction,
    /// The policy's trigger fields (its period starts at their latest value).
    pub trigger_fields: HashSet<Uuid>,
}

/// The policies covering each held field of a source, and the day of the erasure.
#[derive(Debug, Clone)]
pub(crate) struct Duties {
    pub covers: HashMap<Uuid, Vec<Cover>>,
    pub today: NaiveDate,
}

impl Duties {
    /// The duty of a held field in `record` (the one that ends last), counted from
    /// the record's dates; `all` is everything the search found in the source (the
    /// subject's last contact). `None`: no policy covers the field.
    pub(crate) fn of(&self, field_id: Uuid, record: &Found, all: &[Found]) -> Option<Duty> {
        let mut best: Option<Duty> = None;
        for cover in self.covers.get(&field_id)? {
            let records: &mut dyn Iterator<Item = &Found> = match cover.trigger {
                RetentionTrigger::AfterLastContact => &mut all.iter(),
                _ => &mut std::iter::once(record),
            };
            let from = records
                .flat_map(|r| &r.values)
                .filter(|v| cover.trigger_fields.contains(&v.field_id))
                .filter_map(|v| crate::retention::parse_moment(&v.value))
                .map(|m| m.date_naive())
                .max();
            let Some(end) = until(from.unwrap_or(self.today), &cover.duration, cover.trigger)
            else {
                continue;
            };
            if best.as_ref().is_none_or(|b| end > b.until) {
                best = Some(Duty {
                    legal_reference: cover.legal_reference.clone(),
                    policy: cover.policy.clone(),
                    until: end,
                    from,
                    action: cover.action,
                });
            }
        }
        best
    }
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

/// The policies covering every held field of the source.
pub(crate) async fn of_source<C: crate::core::store::Conn>(
    conn: &C,
    org_id: Uuid,
    source_id: Uuid,
    fields: &[data_field::Model],
) -> Result<Duties> {
    let mut out = Duties {
        covers: HashMap::new(),
        today: chrono::Utc::now().date_naive(),
    };
    let held: Vec<&data_field::Model> = fields
        .iter()
        .filter(|f| f.erasure_strategy == ErasureStrategy::KeepUnderHold.as_str())
        .collect();
    if held.is_empty() {
        return Ok(out);
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
    let policy_ids: Vec<Uuid> = activities.iter().map(|a| a.1).collect();
    let mut trigger_fields: HashMap<Uuid, HashSet<Uuid>> = HashMap::new();
    for link in retention_trigger_field::Entity::find()
        .filter(retention_trigger_field::Column::OrgId.eq(org_id))
        .filter(retention_trigger_field::Column::PolicyId.is_in(policy_ids.clone()))
        .all(conn)
        .await?
    {
        trigger_fields
            .entry(link.policy_id)
            .or_default()
            .insert(link.field_id);
    }
    let mut policies: HashMap<Uuid, Cover> = HashMap::new();
    for p in retention_policy::Entity::find()
        .filter(retention_policy::Column::OrgId.eq(org_id))
        .filter(retention_policy::Column::Id.is_in(policy_ids))
        .all(conn)
        .await?
    {
        let Some(reference) = p.legal_reference.filter(|r| !r.trim().is_empty()) else {
            continue;
        };
        let (Ok(trigger), Ok(action)) = (p.trigger.parse(), p.action_at_expiry.parse()) else {
            continue;
        };
        policies.insert(
            p.id,
            Cover {
                legal_reference: reference,
                policy: p.name,
                duration: p.duration,
                trigger,
                action,
                trigger_fields: trigger_fields.remove(&p.id).unwrap_or_default(),
            },
        );
    }
    let categories = activity_data_category::Entity::find()
        .filter(activity_data_category::Column::ActivityId.is_in(activity_ids))
        .all(conn)
        .await?;
    for field in held {
        let Some(category) = field.data_category_id else {
            continue;
        };
        let covers: Vec<Cover> = activities
            .iter()
            .filter(|(activity, _)| {
                categories
                    .iter()
                    .any(|c| c.activity_id == *activity && c.data_category_id == category)
            })
            .filter_map(|(_, policy_id)| policies.get(policy_id).cloned())
            .collect();
        if !covers.is_empty() {
            out.covers.insert(field.id, covers);
        }
    }
    Ok(out)
}
