//! What a reviewer needs when a request comes back to them: which collected records
//! are new, changed or gone since they sent it back (the baseline taken at
//! REQUEST_CHANGES), and their redactions carried over to values collected again.
//!
//! Records are compared by place (same task, i.e. the same source; same mapped field;
//! same location) and value. Values are sealed at rest, so the baseline keeps only a
//! keyed fingerprint of each ([`crate::core::crypto::Cipher::fingerprint`]).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use entity::{collected_record, redaction, review_baseline, subject_request};

use crate::access::principal::Principal;
use crate::core::store::Conn;
use crate::error::Result;
use crate::{Workflow, new_id, now};

stored_enum! {
    /// How a collected record compares with the records of the last review.
    RecordChange {
        /// Nothing was collected at its place then.
        New => "NEW",
        /// Something else was collected at its place then.
        Changed => "CHANGED",
        /// The same value was collected at the same place then.
        Unchanged => "UNCHANGED",
    }
}

/// The changes of one request's records since its last review.
#[derive(Debug, Clone)]
pub struct ReviewChanges {
    /// When the reviewer sent the request back (the baseline was taken).
    pub reviewed_at: DateTime<Utc>,
    /// How each current record compares, by record id.
    pub records: HashMap<Uuid, RecordChange>,
    /// Records of the last review with nothing at their place now (as they were then).
    pub gone: Vec<review_baseline::Model>,
}

impl ReviewChanges {
    /// How many current records are `change`.
    pub fn count(&self, change: RecordChange) -> usize {
        self.records.values().filter(|c| **c == change).count()
    }
}

/// Where a record was found: its task (one per source), mapped field and location.
pub(crate) type Place = (Uuid, Option<Uuid>, String);

pub(crate) fn place_of(r: &collected_record::Model) -> Place {
    (r.task_id, r.field_id, r.location.clone())
}

/// Pairs items of `new` with items of `old` for which `same` holds, each at most
/// once and in order; only items not paired yet take part. Returns for each new item
/// the index of its old item.
pub(crate) fn pair<T, U>(
    old: &[T],
    new: &[U],
    paired_old: &mut [bool],
    paired_new: &mut [Option<usize>],
    same: impl Fn(&T, &U) -> bool,
) {
    for (n, item) in new.iter().enumerate() {
        if paired_new[n].is_some() {
            continue;
        }
        if let Some(o) = (0..old.len()).find(|&o| !paired_old[o] && same(&old[o], item)) {
            paired_old[o] = true;
            paired_new[n] = Some(o);
        }
    }
}

/// A redaction to keep on a new record, or one that no longer applies.
type Carried = (
    Vec<redaction::ActiveModel>,
    Vec<(collected_record::Model, redaction::Model)>,
);

/// Carries each redaction of a replaced record (with its opened value) to a new
/// record at the same place with the same value, each new record at most once;
/// returns the redactions for the new records and the dropped ones.
pub(crate) fn carry_redactions(
    redacted_old: Vec<(collected_record::Model, String, redaction::Model)>,
    new: &[(collected_record::Model, String)],
) -> Carried {
    let mut paired_old = vec![false; redacted_old.len()];
    let mut paired_new = vec![None; new.len()];
    pair(
        &redacted_old,
        new,
        &mut paired_old,
        &mut paired_new,
        |(o, old_value, _), (n, new_value)| place_of(o) == place_of(n) && old_value == new_value,
    );
    let carried = new
        .iter()
        .zip(&paired_new)
        .filter_map(|((n, _), o)| {
            let (_, _, d) = &redacted_old[(*o)?];
            Some(redaction::ActiveModel {
                id: Set(new_id()),
                org_id: Set(d.org_id),
                request_id: Set(d.request_id),
                record_id: Set(n.id),
                reason: Set(d.reason.clone()),
                decided_by: Set(d.decided_by),
                decided_at: Set(d.decided_at),
            })
        })
        .collect();
    let dropped = redacted_old
        .into_iter()
        .zip(paired_old)
        .filter(|(_, paired)| !paired)
        .map(|((r, _, d), _)| (r, d))
        .collect();
    (carried, dropped)
}

/// Compares the current records (place, fingerprint) with the baseline.
fn diff(
    current: &[(Uuid, Place, String)],
    baseline: Vec<review_baseline::Model>,
) -> (HashMap<Uuid, RecordChange>, Vec<review_baseline::Model>) {
    let mut paired_old = vec![false; baseline.len()];
    let mut unchanged = vec![None; current.len()];
    pair(
        &baseline,
        current,
        &mut paired_old,
        &mut unchanged,
        |b, c| {
            (b.task_id, b.field_id, &b.location) == (c.1.0, c.1.1, &c.1.2) && b.fingerprint == c.2
        },
    );
    let mut changed = unchanged.clone();
    pair(&baseline, current, &mut paired_old, &mut changed, |b, c| {
        (b.task_id, b.field_id, &b.location) == (c.1.0, c.1.1, &c.1.2)
    });
    let records = current
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let change = match (unchanged[i], changed[i]) {
                (Some(_), _) => RecordChange::Unchanged,
                (None, Some(_)) => RecordChange::Changed,
                (None, None) => RecordChange::New,
            };
            (c.0, change)
        })
        .collect();
    let gone = baseline
        .into_iter()
        .zip(paired_old)
        .filter(|(_, paired)| !paired)
        .map(|(b, _)| b)
        .collect();
    (records, gone)
}

impl Workflow {
    /// The keyed fingerprint of a value collected for `request_id`.
    pub(crate) fn value_fingerprint(&self, request_id: Uuid, value: &str) -> String {
        self.cipher
            .fingerprint(request_id.as_bytes(), value.as_bytes())
    }

    /// Replaces the request's review baseline by its records as they are now (called
    /// when a reviewer sends the request back). Returns how many records it holds.
    pub(crate) async fn take_review_baseline<C: Conn>(
        &self,
        conn: &C,
        request: &subject_request::Model,
    ) -> Result<usize> {
        review_baseline::Entity::delete_many()
            .filter(review_baseline::Column::RequestId.eq(request.id))
            .exec(conn)
            .await?;
        let records = collected_record::Entity::find()
            .filter(collected_record::Column::RequestId.eq(request.id))
            .order_by_asc(collected_record::Column::Id)
            .all(conn)
            .await?;
        let redacted: std::collections::HashSet<Uuid> =
            crate::collection::leaks::redacted_records(conn, request.id).await?;
        let at = now();
        let rows = records
            .iter()
            .map(|r| {
                let value = self.open_value(r)?;
                Ok(review_baseline::ActiveModel {
                    id: Set(new_id()),
                    org_id: Set(request.org_id),
                    request_id: Set(request.id),
                    record_id: Set(r.id),
                    task_id: Set(r.task_id),
                    source_id: Set(r.source_id),
                    field_id: Set(r.field_id),
                    location: Set(r.location.clone()),
                    fingerprint: Set(self.value_fingerprint(request.id, &value)),
                    redacted: Set(redacted.contains(&r.id)),
                    taken_at: Set(at),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let count = rows.len();
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<_> = rows.by_ref().take(500).collect();
            review_baseline::Entity::insert_many(chunk)
                .exec(conn)
                .await?;
        }
        Ok(count)
    }

    /// What changed in the records of these requests since their last review, for
    /// the requests that were sent back by a reviewer at least once (two queries).
    pub async fn review_changes_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<(Uuid, ReviewChanges)>> {
        let baselines = review_baseline::Entity::find()
            .filter(review_baseline::Column::OrgId.eq(principal.org_id))
            .filter(review_baseline::Column::RequestId.is_in(ids.iter().copied()))
            .order_by_asc(review_baseline::Column::RecordId)
            .all(self.store.conn())
            .await?;
        let mut by_request: HashMap<Uuid, Vec<review_baseline::Model>> = HashMap::new();
        for b in baselines {
            by_request.entry(b.request_id).or_default().push(b);
        }
        if by_request.is_empty() {
            return Ok(Vec::new());
        }
        let reviewed: Vec<Uuid> = by_request.keys().copied().collect();
        let mut current: HashMap<Uuid, Vec<(Uuid, Place, String)>> = HashMap::new();
        for (record, value) in self.records_of_requests(principal, &reviewed).await? {
            let fingerprint = self.value_fingerprint(record.request_id, &value);
            current.entry(record.request_id).or_default().push((
                record.id,
                place_of(&record),
                fingerprint,
            ));
        }
        Ok(by_request
            .into_iter()
            .map(|(request_id, baseline)| {
                let reviewed_at = baseline
                    .iter()
                    .map(|b| b.taken_at)
                    .max()
                    .unwrap_or_else(now);
                let (records, gone) = diff(
                    current.get(&request_id).map_or(&[][..], |c| c.as_slice()),
                    baseline,
                );
                (
                    request_id,
                    ReviewChanges {
                        reviewed_at,
                        records,
                        gone,
                    },
                )
            })
            .collect())
    }

    /// The opened value of a collected record.
    pub(crate) fn open_value(&self, r: &collected_record::Model) -> Result<String> {
        String::from_utf8(self.cipher.decrypt(&r.value)?)
            .map_err(|e| crate::Error::Internal(format!("collected value: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(task: Uuid, location: &str, fingerprint: &str) -> review_baseline::Model {
        review_baseline::Model {
            id: new_id(),
            org_id: Uuid::nil(),
            request_id: Uuid::nil(),
            record_id: new_id(),
            task_id: task,
            source_id: Uuid::nil(),
            field_id: None,
            location: location.into(),
            fingerprint: fingerprint.into(),
            redacted: false,
            taken_at: now(),
        }
    }

    #[test]
    fn records_are_new_changed_unchanged_or_gone_by_place_and_value() {
        let t = new_id();
        let baseline = vec![
            base(t, "c.email", "a"),
            base(t, "c.phone", "p"),
            base(t, "c.note", "n"),
            base(t, "c.email", "b"),
        ];
        let gone_id = baseline[2].record_id;
        let ids: Vec<Uuid> = (0..4).map(|_| new_id()).collect();
        let current = vec![
            // The second e-mail first: matched by value, not by order.
            (ids[0], (t, None, "c.email".to_owned()), "b".to_owned()),
            (ids[1], (t, None, "c.email".to_owned()), "a".to_owned()),
            (ids[2], (t, None, "c.phone".to_owned()), "q".to_owned()),
            (ids[3], (t, None, "c.fax".to_owned()), "f".to_owned()),
        ];
        let (records, gone) = diff(&current, baseline);
        assert_eq!(records[&ids[0]], RecordChange::Unchanged);
        assert_eq!(records[&ids[1]], RecordChange::Unchanged);
        assert_eq!(records[&ids[2]], RecordChange::Changed);
        assert_eq!(records[&ids[3]], RecordChange::New);
        assert_eq!(gone.len(), 1);
        assert_eq!(gone[0].record_id, gone_id);
    }

    fn rec(task: Uuid, location: &str) -> collected_record::Model {
        collected_record::Model {
            id: new_id(),
            org_id: Uuid::nil(),
            request_id: Uuid::nil(),
            task_id: task,
            source_id: Uuid::nil(),
            field_id: None,
            data_category_id: None,
            location: location.into(),
            record_key: None,
            value: String::new(),
            created_at: now(),
        }
    }

    fn red(record: &collected_record::Model) -> redaction::Model {
        redaction::Model {
            id: new_id(),
            org_id: Uuid::nil(),
            request_id: Uuid::nil(),
            record_id: record.id,
            reason: "other person".into(),
            decided_by: None,
            decided_at: now(),
        }
    }

    #[test]
    fn redactions_move_only_to_the_same_value_at_the_same_place() {
        let t = new_id();
        let (same, changed, moved) = (rec(t, "c.note"), rec(t, "c.phone"), rec(t, "c.fax"));
        let redacted_old = vec![
            (same.clone(), "note".to_owned(), red(&same)),
            (changed.clone(), "111".to_owned(), red(&changed)),
            (moved.clone(), "222".to_owned(), red(&moved)),
        ];
        let new = vec![
            (rec(t, "c.note"), "note".to_owned()),
            (rec(t, "c.phone"), "112".to_owned()),
            (rec(t, "c.mobile"), "222".to_owned()),
            (rec(t, "c.note"), "note".to_owned()),
        ];
        let (carried, dropped) = carry_redactions(redacted_old, &new);
        assert_eq!(carried.len(), 1, "one redaction, carried once");
        assert_eq!(carried[0].record_id.clone().unwrap(), new[0].0.id);
        let dropped: Vec<_> = dropped.iter().map(|(r, _)| r.location.as_str()).collect();
        assert_eq!(dropped, ["c.phone", "c.fax"]);
    }

    #[test]
    fn another_task_is_another_place() {
        let baseline = vec![base(new_id(), "c.email", "a")];
        let id = new_id();
        let current = vec![(id, (new_id(), None, "c.email".to_owned()), "a".to_owned())];
        let (records, gone) = diff(&current, baseline);
        assert_eq!(records[&id], RecordChange::New);
        assert_eq!(gone.len(), 1);
    }
}
