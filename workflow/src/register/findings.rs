//! Register findings: soft problems of the register for the DPO's dashboard, each
//! with a severity and the object to fix. Computed on demand from a fixed number of
//! queries, whatever the size of the register.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use entity::{
    activity_data_category, activity_purpose, activity_recipient, activity_transfer, data_category,
    data_field, data_source, organization, processing_activity, purpose, recipient, transfer,
};

use super::recipients::EEA;
use super::taxonomy::Sensitivity;
use crate::Workflow;
use crate::access::principal::Principal;
use crate::error::Result;

stored_enum! {
    /// How urgent a finding is.
    Severity {
        /// Worth knowing; no legal gap by itself.
        Info => "INFO",
        /// Likely a gap in the register or in compliance.
        Warning => "WARNING",
        /// A clear gap to close.
        Error => "ERROR",
    }
}

stored_enum! {
    /// What kind of problem a finding is.
    FindingKind {
        /// An activity names no retention policy (Art. 30(1)(f)).
        ActivityWithoutRetention => "ACTIVITY_WITHOUT_RETENTION",
        /// An activity's review date has passed.
        ReviewOverdue => "REVIEW_OVERDUE",
        /// Special-category data processed without the DPIA flag (Art. 35(3)(b)).
        SpecialDataWithoutDpia => "SPECIAL_DATA_WITHOUT_DPIA",
        /// Automated decision-making without the DPIA flag (Art. 35(3)(a)).
        AutomatedDecisionsWithoutDpia => "AUTOMATED_DECISIONS_WITHOUT_DPIA",
        /// An active activity sends data to a recipient outside the EEA without a
        /// recorded transfer and safeguard (Art. 44).
        ThirdCountryRecipientWithoutTransfer => "THIRD_COUNTRY_RECIPIENT_WITHOUT_TRANSFER",
        /// A recipient no activity uses.
        RecipientWithoutActivity => "RECIPIENT_WITHOUT_ACTIVITY",
        /// A purpose no activity uses.
        PurposeWithoutActivity => "PURPOSE_WITHOUT_ACTIVITY",
        /// Controller details required by Art. 30(1)(a) or for answers are missing.
        ControllerDetailsIncomplete => "CONTROLLER_DETAILS_INCOMPLETE",
        /// A data source with no mapped fields: collection cannot search it.
        SourceWithoutFields => "SOURCE_WITHOUT_FIELDS",
        /// A field without a data category: answers cannot explain it.
        FieldWithoutCategory => "FIELD_WITHOUT_CATEGORY",
        /// A data category held in a source but named by no activity: it would appear
        /// in an answer without a purpose.
        CategoryWithoutActivity => "CATEGORY_WITHOUT_ACTIVITY",
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of problem.
    pub kind: FindingKind,
    /// How urgent.
    pub severity: Severity,
    /// Type of the object to fix (`ProcessingActivity`, `Recipient`, ...).
    pub object_type: &'static str,
    /// Id of the object to fix.
    pub object_id: Uuid,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Workflow {
    /// The findings of the organization's register as of `as_of` (default: the
    /// organization's local today), at least `min_severity` severe, most severe first.
    #[tracing::instrument(skip(self), fields(org = %principal.org_id), err(level = "debug"))]
    pub async fn register_findings(
        &self,
        principal: &Principal,
        as_of: Option<NaiveDate>,
        min_severity: Option<Severity>,
    ) -> Result<Vec<Finding>> {
        let conn = self.store.conn();
        let org_id = principal.org_id;
        let today = match as_of {
            Some(day) => day,
            None => self.local_clock(principal).await?.today(),
        };
        let org = organization::Entity::find_by_id(org_id).one(conn).await?;
        let activities = processing_activity::Entity::find()
            .filter(processing_activity::Column::OrgId.eq(org_id))
            .order_by_asc(processing_activity::Column::Id)
            .all(conn)
            .await?;
        let ids: Vec<Uuid> = activities.iter().map(|a| a.id).collect();
        let purposes = purpose::Entity::find()
            .filter(purpose::Column::OrgId.eq(org_id))
            .order_by_asc(purpose::Column::Id)
            .all(conn)
            .await?;
        let recipients = recipient::Entity::find()
            .filter(recipient::Column::OrgId.eq(org_id))
            .order_by_asc(recipient::Column::Id)
            .all(conn)
            .await?;
        let categories: HashMap<Uuid, data_category::Model> = data_category::Entity::find()
            .filter(data_category::Column::OrgId.eq(org_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let transfers: HashMap<Uuid, transfer::Model> = transfer::Entity::find()
            .filter(transfer::Column::OrgId.eq(org_id))
            .all(conn)
            .await?
            .into_iter()
            .map(|t| (t.id, t))
            .collect();
        let activity_purposes = activity_purpose::Entity::find()
            .filter(activity_purpose::Column::ActivityId.is_in(ids.clone()))
            .all(conn)
            .await?;
        let activity_categories = activity_data_category::Entity::find()
            .filter(activity_data_category::Column::ActivityId.is_in(ids.clone()))
            .all(conn)
            .await?;
        let activity_recipients = activity_recipient::Entity::find()
            .filter(activity_recipient::Column::ActivityId.is_in(ids.clone()))
            .all(conn)
            .await?;
        let activity_transfers = activity_transfer::Entity::find()
            .filter(activity_transfer::Column::ActivityId.is_in(ids))
            .all(conn)
            .await?;

        let mut findings = Vec::new();
        let mut push = |kind, severity, object_type, object_id, message: String| {
            findings.push(Finding {
                kind,
                severity,
                object_type,
                object_id,
                message,
            });
        };

        if let Some(org) = &org {
            let missing: Vec<&str> = [
                (org.address.is_none(), "postal address"),
                (org.email.is_none(), "contact e-mail"),
                (org.supervisory_authority.is_none(), "supervisory authority"),
            ]
            .iter()
            .filter(|(m, _)| *m)
            .map(|(_, what)| *what)
            .collect();
            if !missing.is_empty() {
                push(
                    FindingKind::ControllerDetailsIncomplete,
                    Severity::Warning,
                    "Organization",
                    org.id,
                    format!(
                        "the controller details lack: {} (Art. 30(1)(a), Art. 13/15 answers)",
                        missing.join(", ")
                    ),
                );
            }
        }

        for a in &activities {
            let active = a.status == super::activities::ActivityStatus::Active.as_str();
            if a.status == super::activities::ActivityStatus::Retired.as_str() {
                continue;
            }
            if a.retention_policy_id.is_none() {
                push(
                    FindingKind::ActivityWithoutRetention,
                    Severity::Warning,
                    "ProcessingActivity",
                    a.id,
                    format!(
                        "`{}` names no retention policy: answers cannot say how long data is kept (Art. 15(1)(d))",
                        a.name
                    ),
                );
            }
            if let Some(due) = a.next_review_on
                && due < today
            {
                push(
                    FindingKind::ReviewOverdue,
                    Severity::Warning,
                    "ProcessingActivity",
                    a.id,
                    format!("the review of `{}` was due on {due}", a.name),
                );
            }
            let special = activity_categories
                .iter()
                .filter(|l| l.activity_id == a.id)
                .filter_map(|l| categories.get(&l.data_category_id))
                .any(|c| c.sensitivity != Sensitivity::Ordinary.as_str());
            if special && !a.dpia_required {
                push(
                    FindingKind::SpecialDataWithoutDpia,
                    Severity::Error,
                    "ProcessingActivity",
                    a.id,
                    format!(
                        "`{}` processes special-category or criminal-offence data but is not flagged for a DPIA (Art. 35(3)(b))",
                        a.name
                    ),
                );
            }
            if a.automated_decision_making && !a.dpia_required {
                push(
                    FindingKind::AutomatedDecisionsWithoutDpia,
                    Severity::Warning,
                    "ProcessingActivity",
                    a.id,
                    format!(
                        "`{}` makes automated decisions but is not flagged for a DPIA (Art. 35(3)(a))",
                        a.name
                    ),
                );
            }
            if active {
                let covered: HashSet<Uuid> = activity_transfers
                    .iter()
                    .filter(|l| l.activity_id == a.id)
                    .filter_map(|l| transfers.get(&l.transfer_id))
                    .map(|t| t.recipient_id)
                    .collect();
                for link in activity_recipients.iter().filter(|l| l.activity_id == a.id) {
                    if let Some(r) = recipients.iter().find(|r| r.id == link.recipient_id)
                        && let Some(country) = &r.country
                        && !EEA.contains(&country.as_str())
                        && !covered.contains(&r.id)
                    {
                        push(
                            FindingKind::ThirdCountryRecipientWithoutTransfer,
                            Severity::Error,
                            "ProcessingActivity",
                            a.id,
                            format!(
                                "`{}` sends data to `{}` in {country} without a recorded transfer and safeguard (Art. 44-49)",
                                a.name, r.name
                            ),
                        );
                    }
                }
            }
        }
        let sources = data_source::Entity::find()
            .filter(data_source::Column::OrgId.eq(org_id))
            .order_by_asc(data_source::Column::Id)
            .all(conn)
            .await?;
        let fields = data_field::Entity::find()
            .filter(data_field::Column::OrgId.eq(org_id))
            .order_by_asc(data_field::Column::Id)
            .all(conn)
            .await?;
        let sources_with_fields: HashSet<Uuid> = fields.iter().map(|f| f.source_id).collect();
        for s in sources
            .iter()
            .filter(|s| !sources_with_fields.contains(&s.id))
        {
            push(
                FindingKind::SourceWithoutFields,
                Severity::Warning,
                "DataSource",
                s.id,
                format!(
                    "data source `{}` has no mapped fields: requests cannot be answered from it",
                    s.name
                ),
            );
        }
        for f in fields.iter().filter(|f| f.data_category_id.is_none()) {
            push(
                FindingKind::FieldWithoutCategory,
                Severity::Warning,
                "DataField",
                f.id,
                format!("field `{}` has no data category", f.location),
            );
        }
        let in_activities: HashSet<Uuid> = activity_categories
            .iter()
            .map(|l| l.data_category_id)
            .collect();
        let mut reported = HashSet::new();
        for f in &fields {
            if let Some(c) = f.data_category_id.and_then(|c| categories.get(&c))
                && !in_activities.contains(&c.id)
                && reported.insert(c.id)
            {
                push(
                    FindingKind::CategoryWithoutActivity,
                    Severity::Error,
                    "DataCategory",
                    c.id,
                    format!(
                        "data category `{}` is held in sources (e.g. `{}`) but named by no processing activity: it has no purpose or legal basis",
                        c.key, f.location
                    ),
                );
            }
        }
        let used_recipients: HashSet<Uuid> =
            activity_recipients.iter().map(|l| l.recipient_id).collect();
        for r in recipients
            .iter()
            .filter(|r| !used_recipients.contains(&r.id))
        {
            push(
                FindingKind::RecipientWithoutActivity,
                Severity::Info,
                "Recipient",
                r.id,
                format!("recipient `{}` is used by no processing activity", r.name),
            );
        }
        let used_purposes: HashSet<Uuid> = activity_purposes.iter().map(|l| l.purpose_id).collect();
        for p in purposes.iter().filter(|p| !used_purposes.contains(&p.id)) {
            push(
                FindingKind::PurposeWithoutActivity,
                Severity::Info,
                "Purpose",
                p.id,
                format!("purpose `{}` is used by no processing activity", p.name),
            );
        }
        if let Some(min) = min_severity {
            findings.retain(|f| f.severity as u8 >= min as u8);
        }
        findings.sort_by_key(|f| std::cmp::Reverse(f.severity as u8));
        Ok(findings)
    }
}
