//! Identity providers and people.

use async_graphql::{Context, Object};

use crate::error::ApiResult;
use crate::graphql::ids::global_id;
use crate::graphql::inputs::people::*;
use crate::graphql::{ids, session};

/// Staff sign-in: trusted identity providers and the people they sign in.
#[derive(Default)]
pub struct PeopleMutation;

#[Object]
impl PeopleMutation {
    /// Trusts an OpenID Connect provider for staff sign-in, or changes the roles
    /// claim and role map of the one trusted for the same issuer and audience.
    /// CONFLICT when another organization trusts that issuer and audience (a token
    /// must name one organization).
    async fn set_identity_provider(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: SetIdentityProviderInput,
    ) -> ApiResult<IdentityProviderPayload> {
        let s = session(ctx)?;
        let provider = s
            .workflow()
            .set_identity_provider(
                s.principal()?,
                workflow::access::oidc::IdentityProviderInput {
                    issuer: input.issuer,
                    audience: input.audience,
                    roles_claim: input.roles_claim,
                    role_map: input
                        .role_map
                        .into_iter()
                        .map(|m| (m.claim_value, m.roles.into_iter().map(Into::into).collect()))
                        .collect(),
                },
            )
            .await?;
        Ok(IdentityProviderPayload {
            identity_provider: provider.into(),
        })
    }

    /// Stops trusting an identity provider: its tokens are refused from now on.
    /// The people it signed in stay recorded, with what they did.
    async fn remove_identity_provider(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: RemoveIdentityProviderInput,
    ) -> ApiResult<RemoveIdentityProviderPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.id, "IdentityProvider", &["input", "id"])?;
        let removed = s
            .workflow()
            .remove_identity_provider(s.principal()?, id)
            .await?;
        Ok(RemoveIdentityProviderPayload {
            removed_id: global_id("IdentityProvider", removed),
        })
    }

    /// Deactivates a person: their tokens are refused from their next request on,
    /// and they hold no roles. CONFLICT for yourself.
    async fn deactivate_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: PersonInput,
    ) -> ApiResult<PersonPayload> {
        set_active(ctx, input, false).await
    }

    /// Lets a deactivated person sign in again, with their roles.
    async fn activate_person(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: PersonInput,
    ) -> ApiResult<PersonPayload> {
        set_active(ctx, input, true).await
    }

    /// Sets the roles a person has beyond what their claims give; effective at once.
    async fn set_person_roles(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "What to do; see the input type.")] input: SetPersonRolesInput,
    ) -> ApiResult<PersonPayload> {
        let s = session(ctx)?;
        let id = ids::decode(&input.person_id, "Person", &["input", "personId"])?;
        let roles = input.extra_roles.into_iter().map(Into::into).collect();
        let person = s
            .workflow()
            .set_person_roles(s.principal()?, id, roles)
            .await?;
        Ok(PersonPayload {
            person: person.into(),
        })
    }
}

async fn set_active(
    ctx: &Context<'_>,
    input: PersonInput,
    active: bool,
) -> ApiResult<PersonPayload> {
    let s = session(ctx)?;
    let id = ids::decode(&input.person_id, "Person", &["input", "personId"])?;
    let person = s
        .workflow()
        .set_person_active(s.principal()?, id, active)
        .await?;
    Ok(PersonPayload {
        person: person.into(),
    })
}
