use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::types::{
    ApiKey, ApiKeyConnection, Organization, PolicyRule, PolicyRuleConnection, Role,
};
use crate::graphql::{ids, session};

/// Organization, API keys and permissions.
#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// The caller's organization.
    async fn organization(&self, ctx: &Context<'_>) -> ApiResult<Organization> {
        let s = session(ctx)?;
        Ok(s.workflow().organization(s.principal()?).await?.into())
    }

    /// The organization's API keys, oldest first.
    #[allow(clippy::too_many_arguments)]
    async fn api_keys(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Also list revoked keys.", default = false)] include_revoked: bool,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<ApiKeyConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .api_keys(s.principal()?, include_revoked, &page)
            .await?;
        Ok(ApiKeyConnection::from_page(
            page,
            |k| k.id.to_string(),
            ApiKey::from,
        ))
    }

    /// The organization's permission rules (what each role may do), in creation order.
    async fn policies(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only the rules of this role.")] role: Option<Role>,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<PolicyRuleConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .policies(s.principal()?, role.map(Into::into), &page)
            .await?;
        Ok(PolicyRuleConnection::from_page(
            page,
            |r| r.id.to_string(),
            PolicyRule::from,
        ))
    }
}
