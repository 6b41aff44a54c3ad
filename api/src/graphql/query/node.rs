use async_graphql::{Context, ID, Object, OutputType};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::graphql::precheck::NodeTypes;
use crate::graphql::types::actor::SystemActor;
use crate::graphql::types::register::DataSource;
use crate::graphql::types::requests::CollectedRecord;
use crate::graphql::types::retention::RetentionFinding;
use crate::graphql::types::{Me, Node};
use crate::graphql::{ids, session};
use crate::permissions::Session;

/// The caller and Relay's `node` lookups.
#[derive(Default)]
pub struct NodeQuery;

/// `op` names the root field in a denial's audit entry (`Query.node`, `Query.nodes`).
async fn fetch(session: &Session, id: &ID, path: &[&str], op: &str) -> ApiResult<Node> {
    let principal = session.principal()?;
    let wf = session.workflow();
    let (type_name, uuid) = ids::decode_any(id, path)?;
    Ok(match type_name.as_str() {
        "Organization" => {
            session
                .require(workflow::Object::Organization, workflow::Action::Read, op)
                .await?;
            Node::Organization(wf.organization_by_id(principal, uuid).await?.into())
        }
        "ApiKey" => {
            session
                .require(workflow::Object::ApiKey, workflow::Action::Read, op)
                .await?;
            Node::ApiKey(wf.api_key(principal, uuid).await?.into())
        }
        "AuditEvent" => {
            session
                .require(workflow::Object::AuditEvent, workflow::Action::Read, op)
                .await?;
            Node::AuditEvent(wf.audit_event(principal, uuid).await?.into())
        }
        "DataCategory" => {
            session
                .require(workflow::Object::Register, workflow::Action::Read, op)
                .await?;
            Node::DataCategory(wf.data_category(principal, uuid).await?.into())
        }
        "SubjectCategory" => {
            session
                .require(workflow::Object::Register, workflow::Action::Read, op)
                .await?;
            Node::SubjectCategory(wf.subject_category(principal, uuid).await?.into())
        }
        "Purpose" => {
            session
                .require(workflow::Object::Register, workflow::Action::Read, op)
                .await?;
            Node::Purpose(wf.purpose(principal, uuid).await?.into())
        }
        "RetentionPolicy" => {
            session
                .require(workflow::Object::Register, workflow::Action::Read, op)
                .await?;
            Node::RetentionPolicy(wf.retention_policy(principal, uuid).await?.into())
        }
        "Recipient" => {
            session
                .require(workflow::Object::Register, workflow::Action::Read, op)
                .await?;
            Node::Recipient(wf.recipient(principal, uuid).await?.into())
        }
        "Transfer" => {
            session
                .require(workflow::Object::Register, workflow::Action::Read, op)
                .await?;
            Node::Transfer(wf.transfer(principal, uuid).await?.into())
        }
        "ProcessingActivity" => {
            session
                .require(workflow::Object::Register, workflow::Action::Read, op)
                .await?;
            Node::ProcessingActivity(wf.processing_activity(principal, uuid).await?.into())
        }
        "DataSource" => {
            session
                .require(workflow::Object::DataSource, workflow::Action::Read, op)
                .await?;
            let source = wf.data_source(principal, uuid).await?;
            Node::DataSource(DataSource::from(source))
        }
        "DataField" => {
            session
                .require(workflow::Object::DataSource, workflow::Action::Read, op)
                .await?;
            Node::DataField(wf.data_field(principal, uuid).await?.into())
        }
        "SubjectRequest" => {
            session
                .require(workflow::Object::Request, workflow::Action::Read, op)
                .await?;
            Node::SubjectRequest(wf.request(principal, uuid).await?.into())
        }
        "Consent" => {
            session
                .require(workflow::Object::Consent, workflow::Action::Read, op)
                .await?;
            Node::Consent(wf.consent(principal, uuid).await?.into())
        }
        "RetentionRun" => {
            session
                .require(workflow::Object::Retention, workflow::Action::Read, op)
                .await?;
            Node::RetentionRun(wf.retention_run(principal, uuid).await?.into())
        }
        "Person" => {
            // Anyone may fetch themselves; others are read with the people list.
            if uuid != principal.key_id {
                session
                    .require(workflow::Object::ApiKey, workflow::Action::Read, op)
                    .await?;
            }
            Node::Person(wf.person(principal, uuid).await?.into())
        }
        "SystemActor" => match workflow::access::actors::system_actor(uuid) {
            Some(workflow::access::actors::ActorView::System { id, name }) => {
                Node::SystemActor(SystemActor::new(id, name))
            }
            _ => return Err(not_found("system actor")),
        },
        "IdentityProvider" => {
            session
                .require(workflow::Object::Policy, workflow::Action::Read, op)
                .await?;
            Node::IdentityProvider(wf.identity_provider(principal, uuid).await?.into())
        }
        "WebhookSubscription" => {
            session
                .require(workflow::Object::Organization, workflow::Action::Update, op)
                .await?;
            Node::WebhookSubscription(wf.webhook_subscription(principal, uuid).await?.into())
        }
        "WebhookDelivery" => {
            session
                .require(workflow::Object::Organization, workflow::Action::Update, op)
                .await?;
            Node::WebhookDelivery(wf.webhook_delivery(principal, uuid).await?.into())
        }
        "RetentionFinding" => {
            session
                .require(workflow::Object::Retention, workflow::Action::Read, op)
                .await?;
            // Its identities are personal data: the field's own rule asks for
            // request:read_data, as on `findings`.
            Node::RetentionFinding(RetentionFinding::from(
                wf.retention_finding(principal, uuid).await?,
            ))
        }
        _ => return part(session, &type_name, uuid, path, op).await,
    })
}

/// In a run decided in advance (see [`crate::graphql::precheck`]), only the fields of
/// the type `id` was read as were authorized: an object of another type is refused,
/// and the query runs again field by field.
fn as_read(ctx: &Context<'_>, id: &ID, node: Node) -> ApiResult<Node> {
    let type_name = node.introspection_type_name();
    match ctx.data_opt::<NodeTypes>() {
        Some(types) if !types.allows(id.as_str(), &type_name) => {
            tracing::error!(
                id = id.as_str(),
                fetched = %type_name,
                "a node is of another type than its ID was read as"
            );
            Err(ApiError::new(
                workflow::ErrorCode::Internal,
                "the object is of another type than its ID names",
            ))
        }
        _ => Ok(node),
    }
}

fn not_found(what: &'static str) -> ApiError {
    workflow::Error::NotFound { what }.into()
}

/// A part of a request: found through its request, with the permission its kind
/// needs (collected values and answer packages are personal data).
async fn part(
    session: &Session,
    type_name: &str,
    uuid: Uuid,
    path: &[&str],
    op: &str,
) -> ApiResult<Node> {
    use workflow::requests::{PartView as V, RequestPart as P};
    let part = match type_name {
        "RequestTask" => P::Task,
        "CollectedRecord" => P::Record,
        "LeakFinding" => P::LeakFinding,
        "TimelineEntry" => P::TimelineEntry,
        "RequestAttachment" => P::Attachment,
        "Correction" => P::Correction,
        "ProcessingRestriction" => P::Restriction,
        "RecipientNotice" => P::RecipientNotice,
        "Dispatch" => P::Dispatch,
        "AnswerPackage" => P::AnswerPackage,
        _ => {
            return Err(ApiError::invalid(path, "is not an ID issued by this API"));
        }
    };
    session
        .require(workflow::Object::Request, part.read_action(), op)
        .await?;
    let found = session
        .workflow()
        .request_part(session.principal()?, part, uuid)
        .await?;
    // A file uploaded as a task's result is read with the collected data.
    if found.read_action() != part.read_action() {
        session
            .require(workflow::Object::Request, found.read_action(), op)
            .await?;
    }
    Ok(match found {
        V::Task(t) => Node::RequestTask(t.into()),
        V::Record {
            record,
            value,
            redaction,
        } => Node::CollectedRecord(CollectedRecord::new(record, value, redaction)),
        V::LeakFinding(f) => Node::LeakFinding(f.into()),
        V::TimelineEntry(e) => Node::TimelineEntry(e.into()),
        V::Attachment(a) => Node::RequestAttachment(a.into()),
        V::Correction(c) => Node::Correction(c.into()),
        V::Restriction(r) => Node::ProcessingRestriction(r.into()),
        V::RecipientNotice(n) => Node::RecipientNotice(n.into()),
        V::Dispatch(d) => Node::DispatchProof(d.into()),
        V::AnswerPackage(p) => Node::AnswerPackage(p.into()),
    })
}

#[Object]
impl NodeQuery {
    /// The caller: API key, organization, roles and permissions.
    async fn me(&self, ctx: &Context<'_>) -> ApiResult<Me> {
        Ok(Me(session(ctx)?.principal()?.clone()))
    }

    /// Fetches any object by its global ID (Relay). NOT_FOUND when it does not exist
    /// or belongs to another organization.
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A global ID.")] id: ID,
    ) -> ApiResult<Node> {
        let node = fetch(session(ctx)?, &id, &["id"], "Query.node").await?;
        as_read(ctx, &id, node)
    }

    /// Fetches several objects by global ID, in order; an entry is null (with an
    /// error) where that object cannot be fetched.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Global IDs (at most 100).")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(crate::error::ApiError::invalid(
                &["ids"],
                "at most 100 IDs at once",
            ));
        }
        let session = session(ctx)?;
        let mut nodes = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let index = i.to_string();
            let fetched = fetch(session, id, &["ids", &index], "Query.nodes").await;
            match fetched.and_then(|node| as_read(ctx, id, node)) {
                Ok(node) => nodes.push(Some(node)),
                Err(err) => {
                    let mut error = async_graphql::Error::from(err).into_server_error(ctx.item.pos);
                    error.path = ctx
                        .path_node
                        .as_ref()
                        .map(crate::permissions::response_path)
                        .unwrap_or_default();
                    error.path.push(async_graphql::PathSegment::Index(i));
                    ctx.add_error(error);
                    nodes.push(None);
                }
            }
        }
        Ok(nodes)
    }
}
