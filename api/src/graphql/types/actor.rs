//! Who did something: a person, an API key, or one of the system's own actors.
//! Every attributed decision (assignee, claim, submission, completion, redaction,
//! dismissal, timeline entry) offers both the actor's global ID and the actor.

use async_graphql::{Context, ID, SimpleObject, Union};
use uuid::Uuid;
use workflow::access::actors::ActorView;

use super::ApiKey;
use super::people::Person;
use crate::error::ApiResult;
use crate::graphql::ids::global_id;
use crate::graphql::loaders::loaders;

/// One of the system's own actors: the collection engine, the retention sweep, or a
/// data subject acting through a link they were sent.
#[derive(SimpleObject, Clone, Debug)]
pub struct SystemActor {
    /// Global ID.
    pub id: ID,
    /// What it is (e.g. `collection engine`).
    pub name: String,
}

impl SystemActor {
    /// The system actor with this fixed id and name.
    pub fn new(id: uuid::Uuid, name: &str) -> Self {
        Self {
            id: global_id("SystemActor", id),
            name: name.to_owned(),
        }
    }
}

/// Who did something: a person signed in through the identity provider, an API
/// key, or the system itself.
#[derive(Union, Clone, Debug)]
pub enum Actor {
    /// A person.
    Person(Person),
    /// An API key.
    ApiKey(ApiKey),
    /// The system itself.
    SystemActor(SystemActor),
}

impl From<ActorView> for Actor {
    fn from(a: ActorView) -> Self {
        match a {
            ActorView::Person(p) => Self::Person(p.into()),
            ActorView::ApiKey(k) => Self::ApiKey(k.into()),
            ActorView::System { id, name } => Self::SystemActor(SystemActor::new(id, name)),
        }
    }
}

/// The global ID type of an actor.
fn type_name(a: &ActorView) -> &'static str {
    match a {
        ActorView::Person(_) => "Person",
        ActorView::ApiKey(_) => "ApiKey",
        ActorView::System { .. } => "SystemActor",
    }
}

/// The actor behind a stored principal id (through the request's loader).
pub async fn actor(ctx: &Context<'_>, id: Option<Uuid>) -> ApiResult<Option<Actor>> {
    let Some(id) = id else { return Ok(None) };
    Ok(loaders(ctx)?.actor.load_one(id).await?.map(Actor::from))
}

/// The global ID of the actor behind a stored principal id: a Person, ApiKey or
/// SystemActor ID, whichever it is (an id that is none of them, which should not
/// happen, keeps the ApiKey type earlier versions gave every actor).
pub async fn actor_id(ctx: &Context<'_>, id: Option<Uuid>) -> ApiResult<Option<ID>> {
    let Some(id) = id else { return Ok(None) };
    let actor = loaders(ctx)?.actor.load_one(id).await?;
    Ok(Some(global_id(
        actor.as_ref().map_or("ApiKey", type_name),
        id,
    )))
}

/// Loads the actors behind these ids at once (connection prefetches).
pub async fn prefetch_actors(
    ctx: &Context<'_>,
    ids: impl IntoIterator<Item = Uuid>,
) -> ApiResult<()> {
    loaders(ctx)?.actor.load_many(ids).await?;
    Ok(())
}
