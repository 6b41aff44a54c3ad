//! The one error type of the domain core. Every variant maps to exactly one
//! [`ErrorCode`]; adding a variant forces a decision in [`Error::code`].

use sea_orm::DbErr;

/// One offending input field: its path (e.g. `["input", "name"]`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Path from the argument down to the offending field.
    pub path: Vec<String>,
    /// Human-readable explanation.
    pub message: String,
}

/// Errors of the domain core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No valid credentials were presented.
    #[error("{0}")]
    Unauthenticated(String),
    /// The principal is not permitted to perform the action.
    #[error("not permitted: `{action}` on `{object}`")]
    Forbidden {
        /// The Casbin object.
        object: String,
        /// The Casbin action.
        action: String,
    },
    /// The row does not exist in the principal's organization.
    #[error("{what} not found")]
    NotFound {
        /// What was looked for, e.g. "API key".
        what: &'static str,
    },
    /// Input failed validation; each offending field is listed.
    #[error("invalid input: {}", .0.iter().map(|e| format!("{}: {}", e.path.join("."), e.message)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<FieldError>),
    /// The change contradicts the current state (duplicate, stale version, last admin ...).
    #[error("{0}")]
    Conflict(String),
    /// Database failure.
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    /// Authorization engine failure.
    #[error("authorization engine error: {0}")]
    Casbin(#[from] casbin::Error),
    /// An invariant of our own was violated (a bug, or data edited outside Auskunft).
    #[error("internal error: {0}")]
    Internal(String),
}

/// The stable, client-facing classification of an [`Error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// No or invalid credentials.
    Unauthenticated,
    /// Authenticated but not permitted.
    Forbidden,
    /// Not found (or in another organization).
    NotFound,
    /// Invalid input, with field paths.
    Validation,
    /// Conflicts with the current state.
    Conflict,
    /// A workflow event that the current state does not allow.
    InvalidTransition,
    /// Our fault; details are logged, not returned.
    Internal,
}

impl ErrorCode {
    /// The code as sent in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::InvalidTransition => "INVALID_TRANSITION",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl Error {
    /// The client-facing code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::Forbidden { .. } => ErrorCode::Forbidden,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Validation(_) => ErrorCode::Validation,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Db(_) | Error::Casbin(_) | Error::Internal(_) => ErrorCode::Internal,
        }
    }

    /// A validation error on a single field.
    pub fn invalid(path: &[&str], message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError {
            path: path.iter().map(|s| (*s).to_owned()).collect(),
            message: message.into(),
        }])
    }
}

/// Result alias of the domain core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collects field errors so that all of them are reported at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Records an error at `path` unless `ok` holds.
    pub fn check(&mut self, ok: bool, path: &[&str], message: impl Into<String>) -> &mut Self {
        if !ok {
            self.errors.push(FieldError {
                path: path.iter().map(|s| (*s).to_owned()).collect(),
                message: message.into(),
            });
        }
        self
    }

    /// Checks a required, trimmed, length-limited text field and returns it trimmed.
    pub fn text(&mut self, value: &str, path: &[&str], max_chars: usize) -> String {
        let trimmed = value.trim();
        self.check(!trimmed.is_empty(), path, "must not be empty");
        self.check(
            trimmed.chars().count() <= max_chars,
            path,
            format!("must be at most {max_chars} characters"),
        );
        self.check(
            !trimmed.chars().any(char::is_control),
            path,
            "must not contain control characters",
        );
        trimmed.to_owned()
    }

    /// `Ok(())` when nothing was recorded, else a [`Error::Validation`] with every error.
    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }
}
