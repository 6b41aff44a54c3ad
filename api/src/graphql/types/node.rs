use async_graphql::{ID, Interface};

use super::register::{
    DataCategory, DataField, DataSource, ProcessingActivity, Purpose, Recipient, RetentionPolicy,
    SubjectCategory, Transfer,
};
use super::requests::SubjectRequest;
use super::{ApiKey, AuditEvent, Organization};

/// An object with a global ID that `node(id:)` can fetch again (Relay).
#[derive(Interface, Clone, Debug)]
#[graphql(field(name = "id", ty = "&ID", desc = "Opaque global ID."))]
pub enum Node {
    /// An organization.
    Organization(Organization),
    /// An API key.
    ApiKey(ApiKey),
    /// An audit event.
    AuditEvent(AuditEvent),
    /// A category of personal data.
    DataCategory(DataCategory),
    /// A category of data subjects.
    SubjectCategory(SubjectCategory),
    /// A purpose of processing.
    Purpose(Purpose),
    /// A retention policy.
    RetentionPolicy(RetentionPolicy),
    /// A recipient.
    Recipient(Recipient),
    /// A third-country transfer.
    Transfer(Transfer),
    /// A processing activity.
    ProcessingActivity(ProcessingActivity),
    /// A data source.
    DataSource(DataSource),
    /// A data field.
    DataField(DataField),
    /// A data-subject request.
    SubjectRequest(SubjectRequest),
    /// A consent.
    Consent(super::consent::Consent),
    /// A run of the retention sweep.
    RetentionRun(super::retention::RetentionRun),
    /// A person who signed in through the identity provider.
    Person(super::people::Person),
}
