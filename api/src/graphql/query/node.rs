use async_graphql::{Context, ID, Object};

use crate::error::ApiResult;
use crate::graphql::types::register::DataSource;
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
        _ => {
            return Err(crate::error::ApiError::invalid(
                path,
                "is not an ID issued by this API",
            ));
        }
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
        fetch(session(ctx)?, &id, &["id"], "Query.node").await
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
            match fetch(session, id, &["ids", &index], "Query.nodes").await {
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
