//! Infrastructure every area builds on: the store and its transactions, paging,
//! sealing of data at rest, signed links, domain events, the outbox, CSV and search
//! helpers.

pub mod crypto;
pub mod csv;
pub mod events;
pub mod links;
pub mod outbox;
pub mod paging;
pub mod search;
pub mod store;
