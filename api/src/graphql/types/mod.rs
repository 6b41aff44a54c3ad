//! Output types of the schema, converted from workflow models (never derived on
//! entities, so no column can leak by accident).

/// Defines a GraphQL enum mirroring a workflow enum variant by variant, with
/// conversions both ways (a missing variant does not compile).
macro_rules! mirror_enum {
    ($(#[$meta:meta])* $name:ident = $domain:path { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl From<$name> for $domain {
            fn from(v: $name) -> Self { match v { $($name::$variant => <$domain>::$variant),+ } }
        }
        impl From<$domain> for $name {
            fn from(v: $domain) -> Self { match v { $(<$domain>::$variant => $name::$variant),+ } }
        }
    };
}

pub mod actor;
pub mod admin;
pub mod answer;
pub mod audit;
pub mod connection;
pub mod consent;
pub mod dispatch;
pub mod drift;
pub mod erasure;
pub mod execution;
pub mod export;
pub mod me;
pub mod node;
pub mod organization;
pub mod people;
pub mod register;
pub mod requests;
pub mod retention;
pub mod webhooks;

pub use admin::{
    ApiKey, ApiKeyConnection, PermissionAction, PermissionObject, PolicyRule, PolicyRuleConnection,
    Role,
};
pub use audit::{AuditEvent, AuditEventConnection, AuditOutcome};
pub use connection::PageInfo;
pub use me::{Me, Permission};
pub use node::Node;
pub use organization::Organization;
