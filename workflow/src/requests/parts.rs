//! Finding the request a part belongs to (a task, a collected value, a finding ...),
//! so `node(id:)` can fetch any part by its global ID through the request.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::view::TimelineEntryView;
use crate::entity;
use crate::error::{Error, Result};
use crate::{Principal, Workflow};

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

impl RequestPart {
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
