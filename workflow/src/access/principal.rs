//! Who is calling: an authenticated API key.

use uuid::Uuid;

/// An authenticated API key acting in its organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The key's id (the Casbin subject is `key:<id>`).
    pub key_id: Uuid,
    /// The organization the key belongs to (the Casbin domain).
    pub org_id: Uuid,
    /// The key's name, for logs and the audit trail.
    pub key_name: String,
}
