//! Releasing legal holds that have ended (Art. 17(3)(b): kept while the duty lasts,
//! erased then).
//!
//! An erasure keeps a value under a legal hold with the day its duty ends and what
//! the holding policy says happens then. A run of the sweep that is not dry carries
//! out every hold that has ended, per record, in sources a worker can write:
//!
//! - DELETE: the record's row is deleted when no other hold stands on it and every
//!   mapped field of its table is DELETE_ROW or KEEP_UNDER_HOLD (nothing the
//!   register wants kept, and no value the reviewer left out as not the subject's);
//!   otherwise the held values are set to NULL;
//! - ANONYMIZE: the held values are replaced by keyed fingerprints that identify
//!   nobody;
//! - REVIEW (or a hold kept before the action was recorded): a person decides; the
//!   finding stays HOLD_ENDED.
//!
//! A record is changed only while its row still holds every value the erasure kept
//! (sealed with the outcome): a row changed since, perhaps another person's now, is
//! left alone and stays HOLD_ENDED, for a person to check. The changes of one source
//! go in one transaction; when the source refuses it (a foreign key of a record
//! still held elsewhere), each record goes on its own and a refused one stays
//! HOLD_ENDED with the source's reason. A released value's outcome
//! becomes ERASED or ANONYMIZED with `released_at` stamped, so the erasure report
//! shows what the data became; each release is audited.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use entity::{data_field, data_source, erasure_outcome};

use super::{Finding, RetentionOutcome};
use crate::access::audit::{self, Actor, Entry};
use crate::connectors::{CollectJob, ConnectorKind, RowChange, connector};
use crate::erasure::ErasureResult;
use crate::error::{Error, Result};
use crate::register::fields::ErasureStrategy;
use crate::register::retention::ExpiryAction;
use crate::{Workflow, new_id, now};

/// What is to become of one record whose hold ended.
struct Release {
    request_id: Uuid,
    key: String,
    change: RowChange,
    /// The outcome rows released, with what each becomes.
    rows: Vec<(erasure_outcome::Model, ErasureResult)>,
}

/// A record's change and the outcome rows it releases, with what each becomes.
type Released = (RowChange, Vec<(erasure_outcome::Model, ErasureResult)>);

/// Why a record's ended hold is not carried out by the sweep.
#[derive(Debug, PartialEq, Eq)]
enum Kept {
    /// Its policy says a person decides.
    Review,
    /// What the erasure kept is not known (kept before the value was recorded), so
    /// the sweep cannot tell whether the row still holds it.
    Unverifiable,
}

impl Finding {
    /// Adds why to the finding's detail (`…; why`).
    fn add_reason(&mut self, why: &str) {
        self.detail = Some(format!(
            "{}; {why}",
            self.detail.as_deref().unwrap_or_default()
        ));
    }
}

impl Workflow {
    /// Carries out the HOLD_ENDED findings (see the module docs); a finding carried
    /// out becomes HOLD_RELEASED, one that is not keeps its outcome with the reason.
    /// Never fatal: a source that cannot be reached is named on its findings.
    pub(super) async fn release_holds(
        &self,
        org_id: Uuid,
        run_id: Uuid,
        actor: &Actor,
        today: NaiveDate,
        findings: &mut [Finding],
    ) {
        let mut by_source: BTreeMap<Uuid, Vec<usize>> = BTreeMap::new();
        for (i, f) in findings.iter().enumerate() {
            if f.outcome == RetentionOutcome::HoldEnded
                && let Some(source_id) = f.source_id
            {
                by_source.entry(source_id).or_default().push(i);
            }
        }
        for (source_id, indexes) in by_source {
            let result = self
                .release_in_source(org_id, run_id, actor, today, source_id, &indexes, findings)
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, %run_id, %source_id, "legal holds not released");
                for i in indexes {
                    let f = &mut findings[i];
                    f.add_reason(&format!(
                        "not released: {}",
                        match e.code() {
                            crate::ErrorCode::Internal => {
                                "an internal error, logged with the run's id".to_owned()
                            }
                            _ => e.to_string(),
                        }
                    ));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn release_in_source(
        &self,
        org_id: Uuid,
        run_id: Uuid,
        actor: &Actor,
        today: NaiveDate,
        source_id: Uuid,
        indexes: &[usize],
        findings: &mut [Finding],
    ) -> Result<()> {
        let conn = self.store.conn();
        let source = data_source::Entity::find_by_id(source_id)
            .one(conn)
            .await?
            .filter(|s| s.org_id == org_id)
            .ok_or(Error::NotFound {
                what: "data source",
            })?;
        let kind: ConnectorKind = source.connector_kind.parse()?;
        let config = crate::register::sources::connection_config(&self.cipher, &source)?;
        let c = connector(kind);
        if !c.erases(&config) {
            for i in indexes {
                let f = &mut findings[*i];
                f.add_reason(
                    "the source is changed by hand: the request's steward erases it there",
                );
            }
            return Ok(());
        }
        let fields = data_field::Entity::find()
            .filter(data_field::Column::SourceId.eq(source_id))
            .all(conn)
            .await?;
        let job = CollectJob {
            source: &source,
            config: &config,
            fields: &fields,
            identities: &[],
            guard: &self.sources,
            pools: &self.pools,
        };
        let key_fields = c
            .erase(&job, &[])
            .await
            .map_err(|e| Error::invalid(&["source"], e.to_string()))?
            .key_fields;
        let wanted: HashSet<(Uuid, String)> = indexes
            .iter()
            .filter_map(|i| Some((findings[*i].request_id?, findings[*i].record_key.clone()?)))
            .collect();
        use erasure_outcome::Column as O;
        let outcomes = erasure_outcome::Entity::find()
            .filter(O::OrgId.eq(org_id))
            .filter(O::SourceId.eq(source_id))
            .filter(O::RequestId.is_in(wanted.iter().map(|w| w.0)))
            .filter(O::CarriedOutAt.is_not_null())
            .all(conn)
            .await?;
        let mut per_record: BTreeMap<(Uuid, String), Vec<erasure_outcome::Model>> = BTreeMap::new();
        for o in outcomes {
            let at = (o.request_id, o.record_key.clone());
            if wanted.contains(&at) {
                per_record.entry(at).or_default().push(o);
            }
        }
        // Anonymized replacements of this run: keyed by the record and field (the
        // value itself is not read again), with a salt nobody keeps.
        let mut salt = Vec::with_capacity(32);
        salt.extend_from_slice(run_id.as_bytes());
        salt.extend_from_slice(new_id().as_bytes());
        let mut releases = Vec::new();
        let mut kept: HashMap<(Uuid, String), Kept> = HashMap::new();
        for ((request_id, key), rows) in per_record {
            let anonymize = |field: Uuid| {
                crate::erasure::replacement(
                    &self.cipher,
                    &salt,
                    ErasureStrategy::Anonymize,
                    &format!("{key}/{field}"),
                )
            };
            let open = |sealed: &str| {
                self.cipher
                    .decrypt(sealed)
                    .ok()
                    .and_then(|v| String::from_utf8(v).ok())
            };
            match release_of(&fields, &key_fields, today, &key, rows, &anonymize, &open) {
                Ok(Some((change, rows))) => releases.push(Release {
                    request_id,
                    key,
                    change,
                    rows,
                }),
                Ok(None) => {}
                Err(why) => {
                    kept.insert((request_id, key), why);
                }
            }
        }
        // One transaction for the source; when it refuses, each record on its own. A
        // change that touched no row found the row changed since the erasure (or
        // gone): nothing of it is released.
        let mut refused: HashMap<String, String> = HashMap::new();
        let changes: Vec<RowChange> = releases
            .iter()
            .filter(|r| r.change.delete || !r.change.set.is_empty())
            .map(|r| r.change.clone())
            .collect();
        let changed_since = "the row no longer holds what the erasure kept (changed since, \
                             perhaps another person's now, or gone): nothing was erased; a \
                             person checks it";
        match c.erase(&job, &changes).await {
            Ok(done) => {
                for (change, affected) in changes.iter().zip(done.affected) {
                    if affected == 0 {
                        refused.insert(change.key.clone(), changed_since.to_owned());
                    }
                }
            }
            Err(_) => {
                for change in &changes {
                    match c.erase(&job, std::slice::from_ref(change)).await {
                        Ok(done) if done.affected.first().copied().unwrap_or(0) == 0 => {
                            refused.insert(change.key.clone(), changed_since.to_owned());
                        }
                        Ok(_) => {}
                        Err(e) => {
                            refused.insert(
                                change.key.clone(),
                                format!("the source refused to erase it: {e}"),
                            );
                        }
                    }
                }
            }
        }
        let at = now();
        let mut tx = self.store.begin().await?;
        let mut released: HashSet<(Uuid, String)> = HashSet::new();
        for release in &releases {
            if refused.contains_key(&release.key) {
                continue;
            }
            let how = if release.change.delete {
                "row deleted"
            } else {
                "held values erased"
            };
            for (row, result) in &release.rows {
                let detail = format!(
                    "{}; the hold ended on {}: {how} by the retention sweep (run {run_id})",
                    row.detail.as_deref().unwrap_or("kept under a legal hold"),
                    row.held_until.map(|d| d.to_string()).unwrap_or_default(),
                );
                let mut active = row.clone().into_active_model();
                active.outcome = Set(result.as_str().to_owned());
                active.detail = Set(Some(detail));
                active.released_at = Set(Some(at));
                active.held_value = Set(None);
                active.update(tx.conn()).await?;
            }
            let fields: Vec<&str> = release
                .rows
                .iter()
                .map(|(r, _)| r.location.as_str())
                .collect();
            let entry = Entry::success("releaseLegalHold", "SubjectRequest", release.request_id)
                .after(json!({
                    "run": run_id, "source": source_id, "record": release.key,
                    "deleted": release.change.delete, "fields": fields,
                }));
            audit::append(&mut tx, org_id, actor, entry).await?;
            released.insert((release.request_id, release.key.clone()));
        }
        tx.commit(&self.bus).await?;
        for i in indexes {
            let f = &mut findings[*i];
            let (Some(request_id), Some(key)) = (f.request_id, f.record_key.clone()) else {
                continue;
            };
            if released.contains(&(request_id, key.clone())) {
                f.outcome = RetentionOutcome::HoldReleased;
                f.add_reason("carried out now as its policy says");
            } else if let Some(why) = refused.get(&key) {
                f.add_reason(why);
            } else if let Some(kept) = kept.get(&(request_id, key)) {
                let why = match kept {
                    Kept::Review => "its policy says a person reviews it when the hold ends",
                    Kept::Unverifiable => {
                        "what the erasure kept is not recorded, so whether the row still holds \
                         it cannot be checked: a person erases it"
                    }
                };
                f.add_reason(why);
            }
        }
        Ok(())
    }
}

/// What to do to one record whose hold ended, from its erasure outcomes: the change
/// and the rows it releases; `None` when nothing of it has ended; `Err` when a
/// person decides.
fn release_of(
    fields: &[data_field::Model],
    key_fields: &HashSet<Uuid>,
    today: NaiveDate,
    key: &str,
    rows: Vec<erasure_outcome::Model>,
    anonymize: &dyn Fn(Uuid) -> Option<String>,
    open: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<Option<Released>, Kept> {
    let retained = ErasureResult::Retained.as_str();
    let held = |r: &&erasure_outcome::Model| r.outcome == retained && r.released_at.is_none();
    let (ended, standing): (Vec<&erasure_outcome::Model>, Vec<&erasure_outcome::Model>) = rows
        .iter()
        .filter(held)
        .partition(|r| r.held_until.is_some_and(|u| u < today));
    if ended.is_empty() {
        return Ok(None);
    }
    let actions: Vec<Option<ExpiryAction>> = ended
        .iter()
        .map(|r| r.hold_action.as_deref().and_then(|a| a.parse().ok()))
        .collect();
    if actions
        .iter()
        .any(|a| a.is_none_or(|a| a == ExpiryAction::Review))
    {
        return Err(Kept::Review);
    }
    // Every value the erasure kept in the row, as kept: the change applies only
    // while the row still holds them all.
    let mut expect = Vec::new();
    for r in ended.iter().chain(&standing) {
        let (Some(field_id), Some(sealed)) = (r.field_id, r.held_value.as_deref()) else {
            return Err(Kept::Unverifiable);
        };
        expect.push((field_id, Some(open(sealed).ok_or(Kept::Unverifiable)?)));
    }
    let left_out = rows
        .iter()
        .any(|r| r.outcome == ErasureResult::LeftOut.as_str());
    let table = key.split_once('(').map_or(key, |(t, _)| t);
    let strategy = |f: &data_field::Model| f.erasure_strategy.parse::<ErasureStrategy>().ok();
    let row_fields: Vec<&data_field::Model> = fields
        .iter()
        .filter(|f| f.location.rsplit_once('.').is_some_and(|(t, _)| t == table))
        .filter(|f| !key_fields.contains(&f.id))
        .collect();
    let delete = standing.is_empty()
        && !left_out
        && !row_fields.is_empty()
        && actions.iter().all(|a| *a == Some(ExpiryAction::Delete))
        && row_fields.iter().all(|f| {
            matches!(
                strategy(f),
                Some(ErasureStrategy::DeleteRow | ErasureStrategy::KeepUnderHold)
            )
        });
    let mut set = Vec::new();
    let mut released = Vec::new();
    for (row, action) in ended.into_iter().zip(actions) {
        let Some(field_id) = row.field_id else {
            continue;
        };
        let is_key = key_fields.contains(&field_id);
        let result = match action {
            _ if delete => ErasureResult::Erased,
            // A key is never changed: the row it names holds nothing of the person.
            _ if is_key => ErasureResult::Anonymized,
            Some(ExpiryAction::Anonymize) => {
                set.push((field_id, anonymize(field_id)));
                ErasureResult::Anonymized
            }
            _ => {
                set.push((field_id, None));
                ErasureResult::Erased
            }
        };
        released.push((row.clone(), result));
    }
    Ok(Some((
        RowChange {
            key: key.to_owned(),
            delete,
            set,
            typed: false,
            expect,
        },
        released,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::erasure::tests::field;

    fn fields() -> Vec<data_field::Model> {
        use ErasureStrategy::*;
        vec![
            field(1, "orders.id", KeepUnderHold),
            field(2, "orders.customer_id", KeepUnderHold),
            field(3, "orders.street", KeepUnderHold),
            field(10, "customers.id", DeleteRow),
            field(11, "customers.name", Anonymize),
            field(12, "customers.tax_id", KeepUnderHold),
        ]
    }

    fn row(
        field: u128,
        outcome: ErasureResult,
        until: &str,
        action: &str,
    ) -> erasure_outcome::Model {
        let at = chrono::Utc::now();
        erasure_outcome::Model {
            id: Uuid::from_u128(1000 + field),
            org_id: Uuid::nil(),
            request_id: Uuid::nil(),
            task_id: Uuid::nil(),
            source_id: Uuid::nil(),
            field_id: Some(Uuid::from_u128(field)),
            location: format!("field{field}"),
            record_key: "r".into(),
            strategy: String::new(),
            outcome: outcome.as_str().into(),
            legal_reference: Some("§ 147 AO".into()),
            held_until: until.parse().ok(),
            detail: None,
            created_at: at,
            carried_out_at: Some(at),
            released_at: None,
            hold_action: Some(action.into()).filter(|a: &String| !a.is_empty()),
            held_value: (outcome == ErasureResult::Retained).then(|| format!("v{field}")),
        }
    }

    fn keys() -> HashSet<Uuid> {
        [1u128, 10].map(Uuid::from_u128).into_iter().collect()
    }

    fn today() -> NaiveDate {
        "2030-01-01".parse().unwrap()
    }

    fn anon(f: Uuid) -> Option<String> {
        Some(format!("anon-{f}"))
    }

    fn run(
        key: &str,
        rows: Vec<erasure_outcome::Model>,
    ) -> std::result::Result<Option<Released>, Kept> {
        release_of(&fields(), &keys(), today(), key, rows, &anon, &|s| {
            Some(s.to_owned())
        })
    }

    #[test]
    fn a_row_held_only_for_its_duty_is_deleted_when_it_ends() {
        use ErasureResult::Retained;
        let rows = vec![
            row(1, Retained, "2029-12-31", "DELETE"),
            row(2, Retained, "2029-12-31", "DELETE"),
            row(3, Retained, "2029-12-31", "DELETE"),
        ];
        let Ok(Some((change, released))) = run("orders(id=4)", rows) else {
            panic!("released");
        };
        assert!(change.delete && change.set.is_empty());
        assert!(released.iter().all(|(_, r)| *r == ErasureResult::Erased));
        assert_eq!(released.len(), 3);
        // Only while the row still holds what was kept.
        assert_eq!(
            change.expect,
            [1u128, 2, 3]
                .map(|f| (Uuid::from_u128(f), Some(format!("v{f}"))))
                .to_vec()
        );
    }

    #[test]
    fn a_hold_whose_kept_values_are_unknown_goes_to_a_person() {
        let mut old = row(2, ErasureResult::Retained, "2029-12-31", "DELETE");
        old.held_value = None;
        assert_eq!(
            run("orders(id=4)", vec![old]).err(),
            Some(Kept::Unverifiable)
        );
    }

    #[test]
    fn a_hold_still_standing_keeps_the_row_and_only_ended_values_go() {
        use ErasureResult::Retained;
        let rows = vec![
            row(1, Retained, "2035-12-31", "DELETE"),
            row(2, Retained, "2029-12-31", "DELETE"),
            row(3, Retained, "2035-12-31", "DELETE"),
        ];
        let Ok(Some((change, released))) = run("orders(id=4)", rows) else {
            panic!("released");
        };
        assert!(!change.delete);
        assert_eq!(change.set, vec![(Uuid::from_u128(2), None)]);
        assert_eq!(released.len(), 1);
        assert_eq!(
            change.expect.len(),
            3,
            "the standing values are checked too"
        );
    }

    #[test]
    fn a_row_the_register_keeps_is_not_deleted_and_anonymize_replaces() {
        use ErasureResult::{Anonymized, Retained};
        // customers.name is anonymized, not deleted: the row stays.
        let rows = vec![
            row(10, Retained, "2029-12-31", "DELETE"),
            row(11, Anonymized, "", ""),
            row(12, Retained, "2029-12-31", "DELETE"),
        ];
        let Ok(Some((change, _))) = run("customers(id=4)", rows) else {
            panic!("released");
        };
        assert!(!change.delete);
        assert_eq!(change.set, vec![(Uuid::from_u128(12), None)]);
        let rows = vec![row(12, Retained, "2029-12-31", "ANONYMIZE")];
        let Ok(Some((change, released))) = run("customers(id=4)", rows) else {
            panic!("released");
        };
        assert_eq!(
            change.set,
            vec![(Uuid::from_u128(12), anon(Uuid::from_u128(12)))]
        );
        assert_eq!(released[0].1, Anonymized);
    }

    #[test]
    fn review_and_unknown_actions_go_to_a_person_and_nothing_ended_is_nothing() {
        use ErasureResult::{LeftOut, Retained};
        for action in ["REVIEW", ""] {
            let rows = vec![row(2, Retained, "2029-12-31", action)];
            assert!(matches!(run("orders(id=4)", rows), Err(Kept::Review)));
        }
        let rows = vec![row(2, Retained, "2030-01-01", "DELETE")];
        assert!(matches!(run("orders(id=4)", rows), Ok(None)));
        // A value the reviewer left out (not the subject's) keeps the row.
        let rows = vec![
            row(2, Retained, "2029-12-31", "DELETE"),
            row(3, LeftOut, "", ""),
        ];
        let Ok(Some((change, _))) = run("orders(id=4)", rows) else {
            panic!("released");
        };
        assert!(!change.delete);
    }
}
