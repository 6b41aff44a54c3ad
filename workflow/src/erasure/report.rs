//! The erasure report of a request: per source and field, how many records were
//! erased, anonymized, retained (with the legal ground and the day the duty ends)
//! or failed. It is read through GraphQL and joins the notice sent to the subject.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use entity::{data_source, erasure_outcome, request_task};

use super::ErasureResult;
use crate::Workflow;
use crate::access::principal::Principal;
use crate::error::Result;
use crate::requests::{TaskKind, TaskState};

/// One line of the report: a field of a source and what became of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLine {
    /// The source.
    pub source_id: Uuid,
    /// Its name.
    pub source_name: String,
    /// The field (`None` when it was deleted from the register since).
    pub field_id: Option<Uuid>,
    /// Its location.
    pub location: String,
    /// What became of it.
    pub result: ErasureResult,
    /// Records concerned (0 for a whole source carried out by hand).
    pub records: u64,
    /// For RETAINED: the legal ground.
    pub legal_reference: Option<String>,
    /// For RETAINED: the day the duty ends (kept for a value released since).
    pub held_until: Option<NaiveDate>,
    /// For a value once kept under a legal hold: when the hold ended and the value
    /// was erased by the retention sweep.
    pub released_at: Option<chrono::DateTime<chrono::Utc>>,
    /// How it was done, or why it failed.
    pub detail: Option<String>,
}

/// The erasure report of a request.
#[derive(Debug, Clone)]
pub struct ErasureReport {
    /// The request.
    pub request_id: Uuid,
    /// The lines, by source name, location and result.
    pub lines: Vec<ReportLine>,
    /// EXECUTE tasks not done yet (carried out by hand, failed, or still running).
    pub open_tasks: u64,
}

impl ErasureReport {
    /// Whether anything failed.
    pub fn has_failures(&self) -> bool {
        self.lines.iter().any(|l| l.result == ErasureResult::Failed)
    }
}

/// "2 erased, 3 anonymized, 4 retained" of some outcomes.
pub(crate) fn count<'a>(outcomes: impl Iterator<Item = &'a erasure_outcome::Model>) -> String {
    let mut n: BTreeMap<&str, usize> = BTreeMap::new();
    for o in outcomes {
        *n.entry(o.outcome.as_str()).or_default() += 1;
    }
    if n.is_empty() {
        return "nothing found".to_owned();
    }
    ErasureResult::ALL
        .iter()
        .filter_map(|r| {
            n.get(r.as_str())
                .map(|c| format!("{c} {}", r.as_str().to_lowercase()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Groups outcome rows into report lines.
pub(crate) fn lines(
    outcomes: &[erasure_outcome::Model],
    source_names: &HashMap<Uuid, String>,
) -> Result<Vec<ReportLine>> {
    type Key = (
        String,
        String,
        usize,
        Option<String>,
        Option<NaiveDate>,
        Option<String>,
    );
    let mut grouped: BTreeMap<Key, ReportLine> = BTreeMap::new();
    for o in outcomes {
        let result: ErasureResult = o.outcome.parse()?;
        let order = ErasureResult::ALL
            .iter()
            .position(|r| *r == result)
            .unwrap_or(0);
        let name = source_names.get(&o.source_id).cloned().unwrap_or_default();
        let key = (
            name.clone(),
            o.location.clone(),
            order,
            o.legal_reference.clone(),
            o.held_until,
            o.detail.clone(),
        );
        grouped
            .entry(key)
            .or_insert_with(|| ReportLine {
                source_id: o.source_id,
                source_name: name,
                field_id: o.field_id,
                location: o.location.clone(),
                result,
                records: 0,
                legal_reference: o.legal_reference.clone(),
                held_until: o.held_until,
                released_at: o.released_at,
                detail: o.detail.clone(),
            })
            .records += u64::from(!o.record_key.is_empty());
    }
    Ok(grouped.into_values().collect())
}

/// The report's lines as text for the notice to the subject, in German and
/// English: what was erased, and what is kept, why and until when.
pub(crate) fn notice_text(lines: &[ReportLine]) -> Option<String> {
    if lines.is_empty() {
        return None;
    }
    let mut de = String::from("Bericht über die Löschung:\n");
    let mut en = String::from("Erasure report:\n");
    for l in lines {
        let (what_de, what_en) = match l.result {
            ErasureResult::Erased => ("gelöscht".to_owned(), "erased".to_owned()),
            ErasureResult::Anonymized => ("anonymisiert".to_owned(), "anonymized".to_owned()),
            ErasureResult::Retained => {
                let until = l
                    .held_until
                    .map(|d| d.format("%d.%m.%Y").to_string())
                    .unwrap_or_default();
                let until_en = l
                    .held_until
                    .map(|d| d.format("%Y-%m-%d").to_string())
                    .unwrap_or_default();
                let ground = l.legal_reference.clone().unwrap_or_default();
                (
                    format!(
                        "aufbewahrt und gesperrt ({ground}) bis spätestens {until}, danach gelöscht"
                    ),
                    format!(
                        "kept and restricted ({ground}) until {until_en} at the latest, then erased"
                    ),
                )
            }
            ErasureResult::Failed => ("nicht gelöscht".to_owned(), "not erased".to_owned()),
            ErasureResult::LeftOut => (
                "nicht gelöscht: nach rechtlicher Prüfung nicht Ihre Daten".to_owned(),
                "not erased: found in the legal review not to be your data".to_owned(),
            ),
            ErasureResult::ByHand => (
                "von Hand bearbeitet".to_owned(),
                "carried out by hand".to_owned(),
            ),
        };
        if l.result == ErasureResult::ByHand {
            de.push_str(&format!("- {}: {what_de}\n", l.source_name));
            en.push_str(&format!("- {}: {what_en}\n", l.source_name));
            continue;
        }
        de.push_str(&format!(
            "- {} / {}: {} Datensatz/Datensätze {what_de}\n",
            l.source_name, l.location, l.records
        ));
        en.push_str(&format!(
            "- {} / {}: {} record(s) {what_en}\n",
            l.source_name, l.location, l.records
        ));
    }
    Some(format!("{de}\n{en}"))
}

/// The report of a request, read from the store (no authorization).
pub(crate) async fn load<C: crate::core::store::Conn>(
    conn: &C,
    org_id: Uuid,
    request_id: Uuid,
) -> Result<ErasureReport> {
    let outcomes = erasure_outcome::Entity::find()
        .filter(erasure_outcome::Column::OrgId.eq(org_id))
        .filter(erasure_outcome::Column::RequestId.eq(request_id))
        .filter(erasure_outcome::Column::CarriedOutAt.is_not_null())
        .all(conn)
        .await?;
    let mut source_ids: Vec<Uuid> = outcomes.iter().map(|o| o.source_id).collect();
    source_ids.sort();
    source_ids.dedup();
    let names: HashMap<Uuid, String> = data_source::Entity::find()
        .filter(data_source::Column::OrgId.eq(org_id))
        .filter(data_source::Column::Id.is_in(source_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    let open_tasks = request_task::Entity::find()
        .filter(request_task::Column::RequestId.eq(request_id))
        .filter(request_task::Column::Kind.eq(TaskKind::Execute.as_str()))
        .filter(request_task::Column::State.ne(TaskState::Done.as_str()))
        .all(conn)
        .await?
        .len() as u64;
    Ok(ErasureReport {
        request_id,
        lines: lines(&outcomes, &names)?,
        open_tasks,
    })
}

impl Workflow {
    /// The erasure report of a request (empty before anything was carried out).
    pub async fn erasure_report(
        &self,
        principal: &Principal,
        request_id: Uuid,
    ) -> Result<ErasureReport> {
        self.readable_request(principal, request_id).await?;
        load(self.store.conn(), principal.org_id, request_id).await
    }
}
