//! The register of processing activities (GDPR Art. 30): taxonomy, purposes,
//! recipients, retention, sources and activities. Every row belongs to one
//! organization; functions scope to the caller's.

pub mod activities;
pub mod catalog;
pub mod drift;
pub mod export;
pub mod fields;
pub mod findings;
pub mod purposes;
pub mod recipients;
pub mod retention;
pub mod sources;
pub mod taxonomy;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::store::Conn;

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

/// Narrows `select` to rows where any of `columns` contains `term`, case-insensitively
/// on every backend (`%` and `_` in the term match themselves).
pub(crate) fn search<E: EntityTrait>(
    select: Select<E>,
    columns: &[E::Column],
    term: Option<&str>,
) -> Select<E>
where
    E::Column: ColumnTrait,
{
    let Some(term) = term.map(str::trim).filter(|t| !t.is_empty()) else {
        return select;
    };
    let escaped = term
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("%{escaped}%");
    let cond = columns.iter().fold(Condition::any(), |cond, col| {
        cond.add(
            Expr::expr(Func::lower(Expr::col(*col)))
                .like(LikeExpr::new(pattern.clone()).escape('\\')),
        )
    });
    select.filter(cond)
}
