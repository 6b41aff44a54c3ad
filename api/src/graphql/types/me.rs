use async_graphql::{Context, ID, Object, SimpleObject};
use workflow::Principal;

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

/// The caller: its API key, organization, roles and permissions.
pub struct Me(pub Principal);

/// The caller: its API key, organization, roles and permissions.
#[Object]
impl Me {
    /// Global ID of the calling API key.
    async fn api_key_id(&self) -> ID {
        global_id("ApiKey", self.0.key_id)
    }

    /// Name of the calling API key.
    async fn api_key_name(&self) -> &str {
        &self.0.key_name
    }

    /// The organization the key belongs to.
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
