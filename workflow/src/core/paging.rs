//! Keyset pagination with Relay semantics (`first/after`, `last/before`), ordered by
//! a unique key column (UUID v7 ids are time-ordered).

use sea_orm::{
    ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select, Value,
};

use crate::core::store::Conn;
use crate::error::{Error, Result};

/// Items per page when the client names no size.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// A page request; `after`/`before` are keys of the item the cursor points at.
#[derive(Debug, Clone, Default)]
pub struct PageRequest<K> {
    /// Items after `after`, from the front.
    pub first: Option<i32>,
    /// Key of the cursor to start after.
    pub after: Option<K>,
    /// Items before `before`, from the back.
    pub last: Option<i32>,
    /// Key of the cursor to end before.
    pub before: Option<K>,
}

/// One page of items plus what a Relay `pageInfo` needs.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items, in ascending key order.
    pub items: Vec<T>,
    /// More items follow the last one.
    pub has_next_page: bool,
    /// Items precede the first one.
    pub has_previous_page: bool,
    /// Items matching the filter on all pages.
    pub total_count: u64,
}

impl<T> Page<T> {
    /// Converts the items, keeping the page information.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total_count: self.total_count,
        }
    }
}

impl<T> Page<T> {
    /// Converts the items with a fallible function, keeping the page information.
    pub fn try_map<U, E>(
        self,
        f: impl FnMut(T) -> std::result::Result<U, E>,
    ) -> std::result::Result<Page<U>, E> {
        Ok(Page {
            items: self
                .items
                .into_iter()
                .map(f)
                .collect::<std::result::Result<_, _>>()?,
            has_next_page: self.has_next_page,
            has_previous_page: self.has_previous_page,
            total_count: self.total_count,
        })
    }
}

fn page_size(value: Option<i32>, arg: &str) -> Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(Error::invalid(&[arg], "must not be negative")),
        Some(n) if n as u64 > MAX_PAGE_SIZE => Err(Error::invalid(
            &[arg],
            format!("must be at most {MAX_PAGE_SIZE}"),
        )),
        Some(n) => Ok(Some(n as u64)),
    }
}

/// Pages a list computed in memory; the key of an item is its position.
pub fn page_in_memory<T>(items: Vec<T>, request: &PageRequest<i64>) -> Result<Page<(i64, T)>> {
    let first = page_size(request.first, "first")?;
    let last = page_size(request.last, "last")?;
    if first.is_some() && last.is_some() {
        return Err(Error::invalid(
            &["last"],
            "give either `first` or `last`, not both",
        ));
    }
    let total = items.len() as i64;
    let start = request.after.map_or(0, |a| (a + 1).clamp(0, total));
    let end = request
        .before
        .map_or(total, |b| b.clamp(0, total))
        .max(start);
    let (from, to) = match (first, last) {
        (_, Some(n)) => ((end - n as i64).max(start), end),
        (n, None) => (
            start,
            (start + n.unwrap_or(DEFAULT_PAGE_SIZE) as i64).min(end),
        ),
    };
    Ok(Page {
        items: items
            .into_iter()
            .enumerate()
            .skip(from as usize)
            .take((to - from) as usize)
            .map(|(i, t)| (i as i64, t))
            .collect(),
        has_next_page: to < total,
        has_previous_page: from > 0,
        total_count: total as u64,
    })
}

/// Runs `select` (already filtered to what the caller may see) as one page.
pub async fn paginate<E, K, C>(
    conn: &C,
    select: Select<E>,
    key: E::Column,
    request: &PageRequest<K>,
) -> Result<Page<E::Model>>
where
    E: EntityTrait,
    E::Model: Sync,
    K: Into<Value> + Clone,
    C: Conn,
{
    let first = page_size(request.first, "first")?;
    let last = page_size(request.last, "last")?;
    if first.is_some() && last.is_some() {
        return Err(Error::invalid(
            &["last"],
            "give either `first` or `last`, not both",
        ));
    }
    let total_count = select.clone().count(conn).await?;
    let mut window = select.clone();
    if let Some(after) = &request.after {
        window = window.filter(key.gt(after.clone()));
    }
    if let Some(before) = &request.before {
        window = window.filter(key.lt(before.clone()));
    }
    let from_back = last.is_some();
    let size = last.or(first).unwrap_or(DEFAULT_PAGE_SIZE);
    let ordered = if from_back {
        window.order_by_desc(key)
    } else {
        window.order_by_asc(key)
    };
    let mut items = ordered.limit(size + 1).all(conn).await?;
    let more = items.len() as u64 > size;
    items.truncate(size as usize);
    if from_back {
        items.reverse();
    }
    // Whether anything lies beyond the cursors on the other side.
    let beyond_after = match &request.after {
        Some(after) => select
            .clone()
            .filter(key.lte(after.clone()))
            .limit(1)
            .one(conn)
            .await?
            .is_some(),
        None => false,
    };
    let beyond_before = match &request.before {
        Some(before) => select
            .filter(key.gte(before.clone()))
            .limit(1)
            .one(conn)
            .await?
            .is_some(),
        None => false,
    };
    let (has_previous_page, has_next_page) = if from_back {
        (more, beyond_before)
    } else {
        (beyond_after, more || beyond_before)
    };
    Ok(Page {
        items,
        has_next_page,
        has_previous_page,
        total_count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(page: &Page<(i64, char)>) -> Vec<i64> {
        page.items.iter().map(|(k, _)| *k).collect()
    }

    #[test]
    fn in_memory_pages_follow_relay_semantics() {
        let items: Vec<char> = "abcdefg".chars().collect();
        let req = |first, after, last, before| PageRequest {
            first,
            after,
            last,
            before,
        };
        let p = page_in_memory(items.clone(), &req(Some(3), None, None, None)).unwrap();
        assert_eq!(
            (
                keys(&p),
                p.has_next_page,
                p.has_previous_page,
                p.total_count
            ),
            (vec![0, 1, 2], true, false, 7)
        );
        let p = page_in_memory(items.clone(), &req(Some(3), Some(5), None, None)).unwrap();
        assert_eq!(
            (keys(&p), p.has_next_page, p.has_previous_page),
            (vec![6], false, true)
        );
        let p = page_in_memory(items.clone(), &req(None, None, Some(2), Some(4))).unwrap();
        assert_eq!(
            (keys(&p), p.has_next_page, p.has_previous_page),
            (vec![2, 3], true, true)
        );
        let p = page_in_memory(items.clone(), &req(None, Some(99), None, None)).unwrap();
        assert!(p.items.is_empty());
        assert!(page_in_memory(items, &req(Some(101), None, None, None)).is_err());
    }
}
