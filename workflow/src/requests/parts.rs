//! Fetching a part of a request (a task, a collected value, a finding ...) by its own
//! id, through the request it belongs to, so `node(id:)` can fetch any part by its
//! global ID.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::view::{TaskView, TimelineEntryView};
use crate::answer::AnswerPackageView;
use crate::collection::leaks::LeakFindingView;
use crate::dispatch::DispatchProof;
use crate::entity::{self, collected_record, redaction, request_attachment};
use crate::erasure::notices::RecipientNoticeView;
use crate::error::{Error, Result};
use crate::execution::{CorrectionView, RestrictionView};
use crate::{Action, Principal, Workflow};

/// A kind of object that lives inside one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestPart {
    /// A collection or execution task.
    Task,
    /// A collected value.
    Record,
    /// A leak finding.
    LeakFinding,
    /// A timeline entry.
    TimelineEntry,
    /// A file received with the request or uploaded as a task's result.
    Attachment,
    /// A correction (RECTIFICATION).
    Correction,
    /// A restriction or objection mark.
    Restriction,
    /// An Art. 19 notice to a recipient.
    RecipientNotice,
    /// The proof of a dispatch.
    Dispatch,
    /// An answer package.
    AnswerPackage,
}

/// One part of a request, as its request's lists show it.
#[derive(Debug, Clone)]
pub enum PartView {
    /// A collection or execution task.
    Task(TaskView),
    /// A collected value (opened) with its redaction, if any.
    Record {
        /// The stored record.
        record: collected_record::Model,
        /// Its value, opened.
        value: String,
        /// Its redaction, if the reviewer redacted it.
        redaction: Option<redaction::Model>,
    },
    /// A leak finding with where it stands.
    LeakFinding(LeakFindingView),
    /// A timeline entry.
    TimelineEntry(TimelineEntryView),
    /// A file received with the request or uploaded as a task's result (without
    /// content).
    Attachment(request_attachment::Model),
    /// A correction.
    Correction(CorrectionView),
    /// A restriction or objection mark.
    Restriction(RestrictionView),
    /// An Art. 19 notice to a recipient.
    RecipientNotice(RecipientNoticeView),
    /// The proof of a dispatch.
    Dispatch(DispatchProof),
    /// The request's current answer package (without content).
    AnswerPackage(AnswerPackageView),
}

impl PartView {
    /// What reading this part needs on `Object::Request`, as on the path that lists
    /// it: collected values, files uploaded as a task's result (`RequestTask.files`)
    /// and answer packages are the subject's personal data; files received with the
    /// request (`SubjectRequest.attachments`) are read like the request.
    pub fn read_action(&self) -> Action {
        match self {
            Self::Record { .. } | Self::AnswerPackage(_) => Action::ReadData,
            Self::Attachment(file) if file.task_id.is_some() => Action::ReadData,
            _ => Action::Read,
        }
    }
}

impl RequestPart {
    /// What reading any part of this kind needs at least on `Object::Request`
    /// (checked before the part is looked up); [`PartView::read_action`] says what
    /// the part found needs.
    pub fn read_action(self) -> Action {
        match self {
            Self::Record | Self::AnswerPackage => Action::ReadData,
            _ => Action::Read,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Record => "collected record",
            Self::LeakFinding => "leak finding",
            Self::TimelineEntry => "timeline entry",
            Self::Attachment => "attachment",
            Self::Correction => "correction",
            Self::Restriction => "restriction",
            Self::RecipientNotice => "recipient notice",
            Self::Dispatch => "dispatch",
            Self::AnswerPackage => "answer package",
        }
    }
}

impl Workflow {
    /// The id of the request this part of the caller's organization belongs to;
    /// NOT_FOUND when there is no such part (or it is another organization's).
    pub async fn request_of_part(
        &self,
        principal: &Principal,
        part: RequestPart,
        id: Uuid,
    ) -> Result<Uuid> {
        let conn = self.store.conn();
        macro_rules! owner {
            ($table:ident) => {
                entity::$table::Entity::find_by_id(id)
                    .filter(entity::$table::Column::OrgId.eq(principal.org_id))
                    .select_only()
                    .column(entity::$table::Column::RequestId)
                    .into_tuple::<Uuid>()
                    .one(conn)
                    .await?
            };
        }
        let found = match part {
            RequestPart::Task => owner!(request_task),
            RequestPart::Record => owner!(collected_record),
            RequestPart::LeakFinding => owner!(leak_finding),
            RequestPart::TimelineEntry => owner!(request_event),
            RequestPart::Attachment => owner!(request_attachment),
            RequestPart::Correction => owner!(correction),
            RequestPart::Restriction => owner!(processing_restriction),
            RequestPart::RecipientNotice => owner!(recipient_notice),
            RequestPart::Dispatch => owner!(dispatch),
            RequestPart::AnswerPackage => owner!(answer_package),
        };
        found.ok_or(Error::NotFound { what: part.noun() })
    }

    /// The part `id` of the kind `part`, as the lists of its request show it;
    /// NOT_FOUND when the caller's organization has no such part, and for an answer
    /// package that is no longer its request's current one. The caller checks
    /// `part.read_action()` before and the found part's `read_action()` after.
    pub async fn request_part(
        &self,
        principal: &Principal,
        part: RequestPart,
        id: Uuid,
    ) -> Result<PartView> {
        let missing = || Error::NotFound { what: part.noun() };
        if part == RequestPart::Record {
            // By its own key: `nodes` of many values of one request would otherwise
            // open every value of that request once per ID.
            let conn = self.store.conn();
            let record = collected_record::Entity::find_by_id(id)
                .filter(collected_record::Column::OrgId.eq(principal.org_id))
                .one(conn)
                .await?
                .ok_or_else(missing)?;
            let value = self.open_value(&record)?;
            let redaction = redaction::Entity::find()
                .filter(redaction::Column::OrgId.eq(principal.org_id))
                .filter(redaction::Column::RecordId.eq(id))
                .one(conn)
                .await?;
            return Ok(PartView::Record {
                record,
                value,
                redaction,
            });
        }
        let request = [self.request_of_part(principal, part, id).await?];
        fn pick<T>(rows: Vec<T>, is: impl Fn(&T) -> bool) -> Option<T> {
            rows.into_iter().find(|row| is(row))
        }
        let found = match part {
            RequestPart::Task => pick(self.tasks_of_requests(principal, &request).await?, |t| {
                t.id == id
            })
            .map(PartView::Task),
            RequestPart::Record => None, // returned above
            RequestPart::LeakFinding => pick(
                self.leak_findings_of_requests(principal, &request).await?,
                |f| f.finding.id == id,
            )
            .map(PartView::LeakFinding),
            RequestPart::Attachment => {
                let received = pick(
                    self.attachments_of_requests(principal, &request).await?,
                    |a| a.id == id,
                );
                match received {
                    Some(a) => Some(a),
                    None => {
                        let tasks: Vec<Uuid> = self
                            .tasks_of_requests(principal, &request)
                            .await?
                            .iter()
                            .map(|t| t.id)
                            .collect();
                        pick(self.files_of_tasks(principal, &tasks).await?, |a| {
                            a.id == id
                        })
                    }
                }
                .map(PartView::Attachment)
            }
            RequestPart::Correction => pick(
                self.corrections_of_requests(principal, &request).await?,
                |c| c.id == id,
            )
            .map(PartView::Correction),
            RequestPart::Restriction => pick(
                self.restrictions_of_requests(principal, &request).await?,
                |r| r.id == id,
            )
            .map(PartView::Restriction),
            RequestPart::RecipientNotice => {
                pick(self.recipient_notices(principal, request[0]).await?, |n| {
                    n.id == id
                })
                .map(PartView::RecipientNotice)
            }
            RequestPart::Dispatch => self
                .dispatch_proof(principal, request[0])
                .await?
                .filter(|d| d.id == id)
                .map(PartView::Dispatch),
            RequestPart::AnswerPackage => {
                return pick(
                    self.current_answer_packages(principal, &request).await?,
                    |p| p.id == id,
                )
                .map(PartView::AnswerPackage)
                .ok_or(Error::NotFound {
                    what: "current answer package (a superseded one is not served)",
                });
            }
            RequestPart::TimelineEntry => Some(PartView::TimelineEntry(
                self.timeline_entry(principal, id).await?,
            )),
        };
        found.ok_or_else(missing)
    }

    /// One entry of a request's timeline.
    pub async fn timeline_entry(
        &self,
        principal: &Principal,
        id: Uuid,
    ) -> Result<TimelineEntryView> {
        entity::request_event::Entity::find_by_id(id)
            .filter(entity::request_event::Column::OrgId.eq(principal.org_id))
            .one(self.store.conn())
            .await?
            .ok_or(Error::NotFound {
                what: "timeline entry",
            })?
            .try_into()
    }
}
