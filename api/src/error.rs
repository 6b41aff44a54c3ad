//! The API's one error type. It has no `Display`, so async-graphql's blanket
//! `From<T: Display>` can never turn it into an error without `extensions.code`;
//! every error reaches the client through [`From<ApiError> for async_graphql::Error`].

use async_graphql::ErrorExtensions;
use uuid::Uuid;
use workflow::{ErrorCode, FieldError};

/// An error on its way to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    fields: Vec<FieldError>,
    /// The full cause, logged once at the edge (INTERNAL only).
    internal: Option<String>,
    /// INVALID_TRANSITION: the request's current state and the events it allows.
    transition: Option<Box<(String, Vec<String>)>>,
}

impl ApiError {
    /// An error with a code and a client-safe message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            fields: Vec::new(),
            internal: None,
            transition: None,
        }
    }

    /// VALIDATION on one input field.
    pub fn invalid(path: &[&str], message: impl Into<String>) -> Self {
        workflow::Error::invalid(path, message).into()
    }

    /// UNAUTHENTICATED: no key was presented.
    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "authentication required: send `Authorization: Bearer <API key>`",
        )
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl From<workflow::Error> for ApiError {
    fn from(err: workflow::Error) -> Self {
        let code = err.code();
        match err {
            workflow::Error::Validation(fields) => Self {
                code,
                message: "invalid input".into(),
                fields,
                internal: None,
                transition: None,
            },
            workflow::Error::InvalidTransition {
                message,
                state,
                allowed,
            } => Self {
                transition: Some(Box::new((state, allowed))),
                ..Self::new(code, message)
            },
            // The database's own words name tables and constraints: not for clients.
            workflow::Error::Db(_) if code == ErrorCode::Conflict => Self::new(
                code,
                "a concurrent change to the same data came first; reload and try again",
            ),
            other if code == ErrorCode::Internal => Self {
                code,
                message: String::new(),
                fields: Vec::new(),
                internal: Some(other.to_string()),
                transition: None,
            },
            other => Self::new(code, other.to_string()),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        let code = err.code.as_str();
        match err.internal {
            Some(cause) => {
                let correlation_id = Uuid::new_v4();
                tracing::error!(%correlation_id, cause = %cause, "internal error");
                async_graphql::Error::new(format!(
                    "internal error; quote correlation id {correlation_id} when reporting it"
                ))
                .extend_with(|_, e| {
                    e.set("code", code);
                    e.set("correlationId", correlation_id.to_string());
                })
            }
            None => {
                tracing::debug!(code, message = %err.message, "request error");
                let message = match err.fields.as_slice() {
                    [] => err.message,
                    fields => format!(
                        "{}: {}",
                        err.message,
                        fields
                            .iter()
                            .map(|f| format!("{}: {}", f.path.join("."), f.message))
                            .collect::<Vec<_>>()
                            .join("; ")
                    ),
                };
                let fields = err.fields;
                let transition = err.transition;
                async_graphql::Error::new(message).extend_with(move |_, e| {
                    e.set("code", code);
                    if let Some((state, allowed)) = transition.as_deref() {
                        e.set("currentState", state.as_str());
                        e.set(
                            "allowedEvents",
                            async_graphql::Value::List(
                                allowed
                                    .iter()
                                    .map(|a| {
                                        async_graphql::Value::Enum(async_graphql::Name::new(a))
                                    })
                                    .collect(),
                            ),
                        );
                    }
                    if !fields.is_empty() {
                        let list: Vec<async_graphql::Value> = fields
                            .iter()
                            .map(|f| {
                                let mut m = async_graphql::indexmap::IndexMap::new();
                                m.insert(
                                    async_graphql::Name::new("path"),
                                    async_graphql::Value::List(
                                        f.path
                                            .iter()
                                            .map(|p| async_graphql::Value::String(p.clone()))
                                            .collect(),
                                    ),
                                );
                                m.insert(
                                    async_graphql::Name::new("message"),
                                    async_graphql::Value::String(f.message.clone()),
                                );
                                async_graphql::Value::Object(m)
                            })
                            .collect();
                        e.set("fields", async_graphql::Value::List(list));
                    }
                })
            }
        }
    }
}

/// Result of resolvers.
pub type ApiResult<T> = Result<T, ApiError>;

/// The code of an error that carries none: only async-graphql's own errors (syntax,
/// unknown fields, argument values that do not parse) lack one, and they are the
/// client's input. Said once, for the response and for the audit log.
pub const UNCODED: ErrorCode = ErrorCode::Validation;

/// Adds `code: VALIDATION` to every error that has no code (async-graphql's own:
/// syntax, unknown fields or enum values, wrong variable types, depth and complexity
/// limits), so that every error a client sees carries `extensions.code`; and leaves
/// out the value async-graphql repeats in it (`…, found "rené@example.org".`): an
/// argument of the wrong type may be an identity, which belongs in no error message
/// or log.
pub fn label_uncoded(mut response: async_graphql::Response) -> async_graphql::Response {
    for error in &mut response.errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|e| e.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", UNCODED.as_str());
            error.message = without_value(&error.message);
        }
    }
    response
}

/// An async-graphql message without the value it found.
fn without_value(message: &str) -> String {
    match message.find(", found ") {
        Some(at) => format!("{}, found a value of another type", &message[..at]),
        None => message.to_owned(),
    }
}

/// An error of the request as a whole, at no place in the document: it carries no
/// `locations` (the spec's positions start at line 1; async-graphql would send 0:0).
pub(crate) fn request_level(err: async_graphql::Error) -> async_graphql::ServerError {
    let mut e = err.into_server_error(async_graphql::Pos::default());
    e.locations.clear();
    e
}

#[cfg(test)]
mod value_tests {
    #[test]
    fn messages_leave_out_the_value_found() {
        assert_eq!(
            super::without_value(
                r#"Invalid value for argument "identity", expected type "IdentityInput": Expected input type "IdentityInput", found "rené@example.org"."#
            ),
            r#"Invalid value for argument "identity", expected type "IdentityInput": Expected input type "IdentityInput", found a value of another type"#
        );
        assert_eq!(
            super::without_value(r#"Unknown field "x" on type "Query"."#),
            r#"Unknown field "x" on type "Query"."#
        );
    }
}
