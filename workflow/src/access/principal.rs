//! Who is calling: an authenticated API key, or the collection engine's worker.

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

/// The id the collection engine acts under (never an API key's: those are
/// time-ordered UUID v7). Casbin is not asked about it: the worker may fire the
/// collection actions on requests and nothing else (see `Authz::is_allowed`).
pub const WORKER_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_8000_8000_0000_0000_0001);

/// The id the retention sweep acts under when it opens erasure requests for records
/// past their period. Casbin is not asked about it either: it may take in a request
/// and confirm the identity (the records are the controller's own), nothing else.
pub const RETENTION_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_8000_8000_0000_0000_0002);

impl Principal {
    /// The retention sweep acting in an organization.
    pub fn retention_sweep(org_id: Uuid) -> Self {
        Self {
            key_id: RETENTION_ID,
            org_id,
            key_name: "retention-sweep".to_owned(),
        }
    }

    /// Whether this is the retention sweep.
    pub fn is_retention_sweep(&self) -> bool {
        self.key_id == RETENTION_ID
    }

    /// The collection engine acting in an organization.
    pub fn worker(org_id: Uuid) -> Self {
        Self {
            key_id: WORKER_ID,
            org_id,
            key_name: "worker".to_owned(),
        }
    }

    /// Whether this is the collection engine.
    pub fn is_worker(&self) -> bool {
        self.key_id == WORKER_ID
    }
}
