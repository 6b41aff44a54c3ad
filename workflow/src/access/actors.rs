//! Who did something: every attributed decision (assignee, claim, submission,
//! completion, redaction, timeline entry) stores the acting principal's id, which is
//! a person's, an API key's or one of the system's own actors'. This module turns
//! such ids back into the actor, in one query per kind for a whole page.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::access::oidc::PersonView;
use crate::access::principal::{RETENTION_ID, WORKER_ID};
use crate::consent::SUBJECT_CONSENT_LINK_ID;
use crate::dispatch::links::SUBJECT_LINK_ID;
use crate::entity::{api_key, person};
use crate::error::Result;
use crate::{Principal, Workflow};

/// The actor behind a stored principal id.
#[derive(Debug, Clone)]
pub enum ActorView {
    /// A person signed in through the organization's identity provider.
    Person(PersonView),
    /// An API key of the organization.
    ApiKey(api_key::Model),
    /// One of the system's own actors.
    System {
        /// Its fixed id.
        id: Uuid,
        /// What it is.
        name: &'static str,
    },
}

impl ActorView {
    /// The stored principal id.
    pub fn id(&self) -> Uuid {
        match self {
            Self::Person(p) => p.id,
            Self::ApiKey(k) => k.id,
            Self::System { id, .. } => *id,
        }
    }

    /// The actor's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Person(p) => &p.name,
            Self::ApiKey(k) => &k.name,
            Self::System { name, .. } => name,
        }
    }
}

/// The system actor with this fixed id, if it is one.
pub fn system_actor(id: Uuid) -> Option<ActorView> {
    let name = match id {
        WORKER_ID => "collection engine",
        RETENTION_ID => "retention sweep",
        SUBJECT_LINK_ID => "subject (download link)",
        SUBJECT_CONSENT_LINK_ID => "subject (consent link)",
        _ => return None,
    };
    Some(ActorView::System { id, name })
}

impl Workflow {
    /// The actors behind these principal ids, in the caller's organization: one
    /// query for people and one for API keys (ids never collide). Ids that are
    /// neither (none should be) are left out.
    pub async fn actors_by_ids(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<ActorView>> {
        let (mut actors, mut rest) = (Vec::new(), Vec::new());
        for &id in ids {
            match system_actor(id) {
                Some(actor) => actors.push(actor),
                None => rest.push(id),
            }
        }
        if rest.is_empty() {
            return Ok(actors);
        }
        let conn = self.store.conn();
        let keys = api_key::Entity::find()
            .filter(api_key::Column::OrgId.eq(principal.org_id))
            .filter(api_key::Column::Id.is_in(rest.iter().copied()))
            .all(conn)
            .await?;
        actors.extend(keys.into_iter().map(ActorView::ApiKey));
        if actors.len() < ids.len() {
            let people = person::Entity::find()
                .filter(person::Column::OrgId.eq(principal.org_id))
                .filter(person::Column::Id.is_in(rest))
                .all(conn)
                .await?;
            actors.extend(people.into_iter().map(|p| ActorView::Person(p.into())));
        }
        Ok(actors)
    }
}
