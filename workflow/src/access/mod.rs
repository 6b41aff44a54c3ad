//! Who may do what: principals, the Casbin enforcer, API keys, policies,
//! organizations and the hash-chained audit log.

pub mod actors;
pub mod api_keys;
pub mod audit;
pub mod authz;
pub mod oidc;
pub mod organizations;
pub mod policies;
pub mod principal;
