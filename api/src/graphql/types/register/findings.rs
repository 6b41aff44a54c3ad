//! Register types: findings of the register check.

use super::*;

mirror_enum! {
    /// How urgent a register finding is.
    FindingSeverity = workflow::register::findings::Severity {
        /// Worth knowing; no legal gap by itself.
        Info,
        /// Likely a gap in the register or in compliance.
        Warning,
        /// A clear gap to close.
        Error,
    }
}

mirror_enum! {
    /// What kind of problem a register finding is.
    FindingKind = workflow::register::findings::FindingKind {
        /// An activity names no retention policy (Art. 30(1)(f)).
        ActivityWithoutRetention,
        /// An activity's review date has passed.
        ReviewOverdue,
        /// Special-category or criminal-offence data without the DPIA flag (Art. 35(3)(b)).
        SpecialDataWithoutDpia,
        /// Automated decision-making without the DPIA flag (Art. 35(3)(a)).
        AutomatedDecisionsWithoutDpia,
        /// An active activity sends data to a recipient outside the EEA without a
        /// recorded transfer and safeguard (Art. 44-49).
        ThirdCountryRecipientWithoutTransfer,
        /// A recipient that no activity uses.
        RecipientWithoutActivity,
        /// A purpose that no activity uses.
        PurposeWithoutActivity,
        /// Controller details needed for the register and for answers are missing.
        ControllerDetailsIncomplete,
        /// A data source with no mapped fields: collection cannot search it.
        SourceWithoutFields,
        /// A field without a data category: answers cannot explain it.
        FieldWithoutCategory,
        /// A data category held in a source but named by no activity: it would appear
        /// in an answer without a purpose or legal basis.
        CategoryWithoutActivity,
    }
}

/// A soft problem of the register, for the DPO's dashboard.
#[derive(SimpleObject, Clone, Debug)]
pub struct RegisterFinding {
    /// What kind of problem.
    pub kind: FindingKind,
    /// How urgent.
    pub severity: FindingSeverity,
    /// What is wrong and how to fix it.
    pub message: String,
    /// Type of the object to fix (`ProcessingActivity`, `Recipient`, ...).
    pub object_type: String,
    /// Global ID of the object to fix (fetch it with `node`).
    pub object_id: ID,
}

impl From<workflow::register::findings::Finding> for RegisterFinding {
    fn from(f: workflow::register::findings::Finding) -> Self {
        Self {
            kind: f.kind.into(),
            severity: f.severity.into(),
            message: f.message,
            object_type: f.object_type.to_owned(),
            object_id: global_id(f.object_type, f.object_id),
        }
    }
}

crate::graphql::types::connection::connection!(
    RegisterFindingConnection,
    RegisterFindingEdge,
    RegisterFinding,
    "A page of register findings, most severe first (Relay cursor connection).",
    "A register finding with its cursor."
);
