//! Inputs and payloads of the register's mutations and filters: one module per
//! aggregate, as in `workflow::register`, and the helpers they share.

use async_graphql::{ID, InputObject, MaybeUndefined, SimpleObject};

use crate::graphql::types::register::{DataCategory, Sensitivity, SubjectCategory};

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

/// Input of the delete mutations of the register.
#[derive(InputObject, Debug)]
pub struct DeleteInput {
    /// What to delete.
    pub id: ID,
}

/// Result of a delete mutation.
#[derive(SimpleObject)]
pub struct DeletePayload {
    /// Global ID of the deleted object.
    pub deleted_id: ID,
}

/// `MaybeUndefined` as a patch: `None` keeps, `Some(None)` clears.
pub fn patch<T>(value: MaybeUndefined<T>) -> Option<Option<T>> {
    match value {
        MaybeUndefined::Undefined => None,
        MaybeUndefined::Null => Some(None),
        MaybeUndefined::Value(v) => Some(Some(v)),
    }
}

use crate::graphql::types::register::{
    ExpiryAction, LegalBasis, Purpose, RetentionPolicy, RetentionTrigger, SpecialCategoryCondition,
};

use crate::graphql::types::register::{Recipient, RecipientKind, Safeguard, Transfer};

use crate::graphql::types::register::{ActivityStatus, ProcessingActivity};

/// Decodes a list of global IDs of one type, reporting the position of a bad one.
pub fn decode_ids(
    ids: &[ID],
    type_name: &str,
    field: &str,
) -> crate::error::ApiResult<Vec<uuid::Uuid>> {
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            crate::graphql::ids::decode(id, type_name, &["input", field, &i.to_string()])
        })
        .collect()
}

use crate::graphql::types::register::{ConnectorKind, DataSource};

use crate::graphql::types::register::FindingSeverity;

use crate::graphql::types::register::{DataField, ErasureStrategy, IdentityType};
