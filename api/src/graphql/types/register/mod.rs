//! GraphQL types of the register of processing activities (Art. 30): one module per
//! aggregate, as in `workflow::register`.

use async_graphql::{Enum, ID, SimpleObject};
use chrono::{DateTime, Utc};
use workflow::entity::subject_category;
use workflow::register::view as v;

use crate::graphql::ids::global_id;

mod activities;
mod fields;
mod findings;
mod purposes;
mod recipients;
mod retention;
mod sources;
mod taxonomy;

pub use activities::*;
pub use fields::*;
pub use findings::*;
pub use purposes::*;
pub use recipients::*;
pub use retention::*;
pub use sources::*;
pub use taxonomy::*;

fn convert_all<M, T: From<M>>(rows: Option<Vec<M>>) -> crate::error::ApiResult<Vec<T>> {
    Ok(rows.unwrap_or_default().into_iter().map(T::from).collect())
}
