//! Identity providers and people.

use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::types::people::{IdentityProvider, Person, PersonConnection};
use crate::graphql::{ids, session};

/// Staff sign-in: trusted identity providers and the people they signed in.
#[derive(Default)]
pub struct PeopleQuery;

#[Object]
impl PeopleQuery {
    /// The OpenID Connect providers the organization trusts for staff sign-in.
    async fn identity_providers(&self, ctx: &Context<'_>) -> ApiResult<Vec<IdentityProvider>> {
        let s = session(ctx)?;
        let providers = s.workflow().identity_providers(s.principal()?).await?;
        Ok(providers.into_iter().map(Into::into).collect())
    }

    /// The people who signed in, in the order they were first seen.
    async fn persons(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Also list deactivated people.", default = false)] include_inactive: bool,
        #[graphql(desc = "Items from the front (at most 100, default 20).")] first: Option<i32>,
        #[graphql(desc = "Cursor to start after.")] after: Option<String>,
        #[graphql(desc = "Items from the back (at most 100).")] last: Option<i32>,
        #[graphql(desc = "Cursor to end before.")] before: Option<String>,
    ) -> ApiResult<PersonConnection> {
        let s = session(ctx)?;
        let page = ids::page_request(first, after, last, before)?;
        let page = s
            .workflow()
            .persons(s.principal()?, include_inactive, &page)
            .await?;
        Ok(PersonConnection::from_page(
            page,
            |p| p.id.to_string(),
            Person::from,
        ))
    }
}
