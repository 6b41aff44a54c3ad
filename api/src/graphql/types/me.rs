use async_graphql::{Context, ID, Object, SimpleObject};
use workflow::Principal;

use super::people::{CallerKind, Person};
use super::{Organization, PermissionAction, PermissionObject, Role};
use crate::error::ApiResult;
use crate::graphql::ids::global_id;
use crate::graphql::session;

/// A permission the caller holds.
#[derive(SimpleObject, Clone, Copy, Debug)]
pub struct Permission {
    /// The object.
    pub object: PermissionObject,
    /// The action.
    pub action: PermissionAction,
}

/// The caller: a person or an API key, its organization, roles and permissions.
pub struct Me(pub Principal);

/// The caller: a person or an API key, its organization, roles and permissions.
#[Object]
impl Me {
    /// Whether a person (signed in through the identity provider) or an API key is
    /// calling.
    async fn kind(&self) -> CallerKind {
        self.0.kind.into()
    }

    /// The caller's name: the person's, or the API key's.
    async fn name(&self) -> &str {
        &self.0.key_name
    }

    /// The calling person (null for an API key).
    async fn person(&self, ctx: &Context<'_>) -> ApiResult<Option<Person>> {
        if !self.0.is_person() {
            return Ok(None);
        }
        let person = session(ctx)?
            .workflow()
            .person(&self.0, self.0.key_id)
            .await?;
        Ok(Some(person.into()))
    }

    /// Global ID of the calling API key (null when a person is calling).
    async fn api_key_id(&self) -> Option<ID> {
        (self.0.kind == workflow::PrincipalKind::ApiKey).then(|| global_id("ApiKey", self.0.key_id))
    }

    /// Name of the calling API key (null when a person is calling).
    async fn api_key_name(&self) -> Option<&str> {
        (self.0.kind == workflow::PrincipalKind::ApiKey).then_some(self.0.key_name.as_str())
    }

    /// The caller's organization.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        Ok(session(ctx)?.workflow().organization(&self.0).await?.into())
    }

    /// The caller's roles.
    async fn roles(&self, ctx: &Context<'_>) -> ApiResult<Vec<Role>> {
        let roles = session(ctx)?
            .workflow()
            .authz()
            .roles_of(self.0.key_id, self.0.org_id)
            .await;
        Ok(roles.into_iter().map(Role::from).collect())
    }

    /// Everything the caller may do, so a frontend can hide what it may not.
    async fn permissions(&self, ctx: &Context<'_>) -> ApiResult<Vec<Permission>> {
        let allowed = session(ctx)?
            .workflow()
            .authz()
            .permissions_of(self.0.key_id, self.0.org_id)
            .await?;
        Ok(allowed
            .into_iter()
            .map(|(o, a)| Permission {
                object: o.into(),
                action: a.into(),
            })
            .collect())
    }
}
