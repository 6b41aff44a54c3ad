//! Output types of the schema, converted from workflow models (never derived on
//! entities, so no column can leak by accident).

pub mod admin;
pub mod audit;
pub mod connection;
pub mod me;
pub mod node;
pub mod organization;
pub mod register;

pub use admin::{
    ApiKey, ApiKeyConnection, PermissionAction, PermissionObject, PolicyRule, PolicyRuleConnection,
    Role,
};
pub use audit::{AuditEvent, AuditEventConnection, AuditOutcome};
pub use connection::PageInfo;
pub use me::{Me, Permission};
pub use node::Node;
pub use organization::Organization;
