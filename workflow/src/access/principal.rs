//! Who is calling: a person signed in through the organization's identity provider,
//! an authenticated API key, or one of the system's own actors (the collection
//! engine's worker, the retention sweep, a subject's link).

use uuid::Uuid;

/// What kind of caller a principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A person signed in with a token of the organization's identity provider.
    Person,
    /// An API key (integrators, machines).
    ApiKey,
    /// The system acting on its own (worker, retention sweep, a subject's link).
    System,
}

/// A caller acting in its organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The caller's id: the person's or the key's (the Casbin subject is
    /// `key:<id>` for both), or a system actor's fixed id. Every decision is
    /// attributed to it; four-eyes compares it, so two tokens of one person are one.
    pub key_id: Uuid,
    /// The organization (the Casbin domain).
    pub org_id: Uuid,
    /// The person's or the key's name, for logs and the audit trail.
    pub key_name: String,
    /// Person, API key or system.
    pub kind: PrincipalKind,
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
            kind: PrincipalKind::System,
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
            kind: PrincipalKind::System,
        }
    }

    /// Whether this is the collection engine.
    pub fn is_worker(&self) -> bool {
        self.key_id == WORKER_ID
    }

    /// Whether this is a person signed in through an identity provider.
    pub fn is_person(&self) -> bool {
        self.kind == PrincipalKind::Person
    }
}
