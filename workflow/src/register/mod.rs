//! The register of processing activities (GDPR Art. 30): taxonomy, purposes,
//! recipients, retention, sources and activities. Every row belongs to one
//! organization; functions scope to the caller's.

pub mod activities;
pub mod drift;
pub mod export;
pub mod fields;
pub mod findings;
pub mod purposes;
pub mod recipients;
pub mod retention;
pub mod sources;
pub mod taxonomy;
pub mod view;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

use crate::core::store::Conn;
use crate::error::{Error, Result};

/// The row of `E` with this id in the organization; NOT_FOUND (also for other
/// organizations' rows).
pub(crate) async fn find_in_org<E, C>(
    conn: &C,
    (org_col, id_col): (E::Column, E::Column),
    org_id: Uuid,
    id: Uuid,
    what: &'static str,
) -> Result<E::Model>
where
    E: EntityTrait,
    C: Conn,
{
    E::find()
        .filter(org_col.eq(org_id))
        .filter(id_col.eq(id))
        .one(conn)
        .await?
        .ok_or(Error::NotFound { what })
}

/// CONFLICT when another row of `E` in the organization has this name.
pub(crate) async fn ensure_unique_name<E, C>(
    conn: &C,
    (org_col, name_col, id_col): (E::Column, E::Column, E::Column),
    org_id: Uuid,
    name: &str,
    except: Option<Uuid>,
    what: &str,
) -> Result<()>
where
    E: EntityTrait,
    C: Conn,
{
    let mut select = E::find()
        .filter(org_col.eq(org_id))
        .filter(name_col.eq(name));
    if let Some(id) = except {
        select = select.filter(id_col.ne(id));
    }
    if select.one(conn).await?.is_some() {
        return Err(Error::Conflict(format!(
            "a {what} named `{name}` exists already"
        )));
    }
    Ok(())
}
