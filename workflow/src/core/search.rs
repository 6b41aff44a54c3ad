//! Free-text search arguments (`search:` of every listing) and other text filters.
//! One place checks the term and turns it into a pattern, so every listing behaves
//! the same on SQLite, PostgreSQL and MariaDB:
//!
//! - at most [`MAX_SEARCH_CHARS`] characters, and no control characters (a NUL ended
//!   the pattern early on SQLite and matched every row): VALIDATION naming the argument;
//! - `%`, `_` and the escape character match themselves (an explicit `ESCAPE '!'`,
//!   a character no backend treats specially inside a string literal);
//! - case-insensitive: both sides are lower-cased.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, Select};

use crate::error::{Result, Validator};

/// The longest search term accepted, in characters.
pub const MAX_SEARCH_CHARS: usize = 200;

/// The escape character of every search pattern.
const ESCAPE: char = '!';

/// Checks a text filter argument, searched or compared exactly: at most
/// [`MAX_SEARCH_CHARS`] characters and no control characters (PostgreSQL refuses NUL
/// in text, SQLite ends a pattern at it); VALIDATION at `path` otherwise.
pub fn check_filter_text(value: &str, path: &[&str]) -> Result<()> {
    let mut v = Validator::default();
    v.check(
        value.chars().count() <= MAX_SEARCH_CHARS,
        path,
        format!("must be at most {MAX_SEARCH_CHARS} characters"),
    );
    v.check(
        !value.chars().any(char::is_control),
        path,
        "must not contain control characters",
    );
    v.finish()
}

/// The checked, trimmed term; `None` when absent or blank (no filter).
/// `path` names the argument in the VALIDATION error (e.g. `["filter", "search"]`).
pub fn search_term<'a>(term: Option<&'a str>, path: &[&str]) -> Result<Option<&'a str>> {
    let Some(term) = term else { return Ok(None) };
    check_filter_text(term, path)?;
    Ok(Some(term.trim()).filter(|t| !t.is_empty()))
}

/// `text` as a part of a `LIKE` pattern that matches it literally: `%`, `_` and `!`
/// escaped by `!`. Use the pattern with [`like`].
pub fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | ESCAPE) {
            escaped.push(ESCAPE);
        }
        escaped.push(c);
    }
    escaped
}

/// A `LIKE` pattern matching values that contain `term` literally (lower-cased).
pub fn contains_pattern(term: &str) -> String {
    format!("%{}%", escape_like(&term.to_lowercase()))
}

/// `pattern` (built with [`escape_like`]) with its `ESCAPE` clause.
pub(crate) fn like(pattern: String) -> LikeExpr {
    LikeExpr::new(pattern).escape(ESCAPE)
}

/// Narrows `select` to rows where any of `columns` contains the search term,
/// case-insensitively; VALIDATION at `path` for a term that is too long or holds
/// control characters.
pub(crate) fn filter_contains<E: EntityTrait>(
    select: Select<E>,
    columns: &[E::Column],
    term: Option<&str>,
    path: &[&str],
) -> Result<Select<E>>
where
    E::Column: ColumnTrait,
{
    let Some(term) = search_term(term, path)? else {
        return Ok(select);
    };
    let pattern = contains_pattern(term);
    let cond = columns.iter().fold(Condition::any(), |cond, col| {
        cond.add(Expr::expr(Func::lower(Expr::col(*col))).like(like(pattern.clone())))
    });
    Ok(select.filter(cond))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn wildcards_and_the_escape_character_match_themselves() {
        assert_eq!(contains_pattern("A%b_c!d"), "%a!%b!_c!!d%");
        assert_eq!(contains_pattern("plain"), "%plain%");
    }

    #[test]
    fn long_terms_and_control_characters_are_refused_naming_the_argument() {
        let long = "x".repeat(MAX_SEARCH_CHARS + 1);
        for bad in [long.as_str(), "a\0b", "\0", "tab\there", "line\nbreak"] {
            let Err(Error::Validation(fields)) = search_term(Some(bad), &["filter", "search"])
            else {
                panic!("{bad:?} must be refused");
            };
            assert_eq!(fields[0].path, ["filter", "search"]);
        }
        let longest = "ü".repeat(MAX_SEARCH_CHARS);
        assert_eq!(
            search_term(Some(&longest), &["search"]).unwrap(),
            Some(longest.as_str())
        );
        assert_eq!(search_term(Some("  "), &["search"]).unwrap(), None);
        assert_eq!(search_term(None, &["search"]).unwrap(), None);
    }
}
