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
    /// One of the system's own actors.
    SystemActor(super::actor::SystemActor),
    /// An identity provider the organization trusts.
    IdentityProvider(super::people::IdentityProvider),
    /// A webhook subscription.
    WebhookSubscription(super::webhooks::WebhookSubscription),
    /// A delivery of a webhook.
    WebhookDelivery(super::webhooks::WebhookDelivery),
    /// What a retention run found in one record.
    RetentionFinding(super::retention::RetentionFinding),
    /// A task of a request.
    RequestTask(super::requests::RequestTask),
    /// A value a task collected.
    CollectedRecord(super::requests::CollectedRecord),
    /// A leak finding of a request.
    LeakFinding(super::requests::LeakFinding),
    /// An entry of a request's timeline.
    TimelineEntry(super::requests::TimelineEntry),
    /// A file received with a request or uploaded as a task's result.
    RequestAttachment(super::requests::RequestAttachment),
    /// A correction of a RECTIFICATION request.
    Correction(super::execution::Correction),
    /// A restriction or objection mark.
    ProcessingRestriction(super::execution::ProcessingRestriction),
    /// An Art. 19 notice to a recipient.
    RecipientNotice(super::erasure::RecipientNotice),
    /// The proof of a dispatch.
    DispatchProof(super::dispatch::DispatchProof),
    /// An answer package.
    AnswerPackage(super::answer::AnswerPackage),
}
