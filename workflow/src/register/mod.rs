//! The register of processing activities (GDPR Art. 30): taxonomy, purposes,
//! recipients, retention, sources and activities. Every row belongs to one
//! organization; functions scope to the caller's.

pub mod activities;
pub mod fields;
pub mod findings;
pub mod purposes;
pub mod recipients;
pub mod retention;
pub mod sources;
pub mod taxonomy;

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

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
