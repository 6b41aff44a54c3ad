//! Relay cursor connections with `totalCount`, one documented pair of types per list.

use async_graphql::SimpleObject;
use workflow::Page;

/// Where a page lies in the whole list (Relay `PageInfo`).
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// More items follow this page (ask with `first` and `after: endCursor`).
    pub has_next_page: bool,
    /// Items precede this page (ask with `last` and `before: startCursor`).
    pub has_previous_page: bool,
    /// Cursor of the first item of this page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of this page.
    pub end_cursor: Option<String>,
}

/// Defines `$conn` (edges, nodes, pageInfo, totalCount) and `$edge` for `$node`.
macro_rules! connection {
    ($conn:ident, $edge:ident, $node:ty, $conn_doc:literal, $edge_doc:literal) => {
        #[doc = $conn_doc]
        #[derive(async_graphql::SimpleObject)]
        pub struct $conn {
            /// The items of this page, each with its cursor.
            pub edges: Vec<$edge>,
            /// The items of this page.
            pub nodes: Vec<$node>,
            /// Where this page lies in the whole list.
            pub page_info: $crate::graphql::types::PageInfo,
            /// How many items match the filter on all pages.
            pub total_count: i32,
        }

        #[doc = $edge_doc]
        #[derive(async_graphql::SimpleObject)]
        pub struct $edge {
            /// Opaque position of the item; pass it as `after` or `before`.
            pub cursor: String,
            /// The item.
            pub node: $node,
        }

        impl $conn {
            /// Builds the connection from a workflow page.
            pub fn from_page<M>(
                page: workflow::Page<M>,
                key: impl Fn(&M) -> String,
                convert: impl Fn(M) -> $node,
            ) -> Self {
                let parts = $crate::graphql::types::connection::parts(page, key, convert);
                Self {
                    edges: parts
                        .edges
                        .into_iter()
                        .map(|(cursor, node)| $edge { cursor, node })
                        .collect(),
                    nodes: parts.nodes,
                    page_info: parts.page_info,
                    total_count: parts.total_count,
                }
            }

            /// Builds the connection, converting each item fallibly.
            #[allow(dead_code)]
            pub fn try_from_page<M>(
                page: workflow::Page<M>,
                key: impl Fn(&M) -> String,
                convert: impl Fn(M) -> Result<$node, workflow::Error>,
            ) -> $crate::error::ApiResult<Self> {
                let page = page.try_map(|m| Ok::<_, workflow::Error>((key(&m), convert(m)?)))?;
                Ok(Self::from_page(page, |(k, _)| k.clone(), |(_, n)| n))
            }
        }
    };
}
pub(crate) use connection;

/// The parts every connection is built from.
pub struct Parts<T> {
    /// (cursor, node) pairs.
    pub edges: Vec<(String, T)>,
    /// The nodes alone.
    pub nodes: Vec<T>,
    /// Page information.
    pub page_info: PageInfo,
    /// Total count, saturated to GraphQL's 32-bit Int.
    pub total_count: i32,
}

/// Splits a workflow page into connection parts.
pub fn parts<M, T: Clone>(
    page: Page<M>,
    key: impl Fn(&M) -> String,
    convert: impl Fn(M) -> T,
) -> Parts<T> {
    let edges: Vec<(String, T)> = page
        .items
        .into_iter()
        .map(|m| (crate::graphql::ids::cursor(key(&m)), convert(m)))
        .collect();
    let page_info = PageInfo {
        has_next_page: page.has_next_page,
        has_previous_page: page.has_previous_page,
        start_cursor: edges.first().map(|(c, _)| c.clone()),
        end_cursor: edges.last().map(|(c, _)| c.clone()),
    };
    Parts {
        nodes: edges.iter().map(|(_, n)| n.clone()).collect(),
        edges,
        page_info,
        total_count: i32::try_from(page.total_count).unwrap_or(i32::MAX),
    }
}
