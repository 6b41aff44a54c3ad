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
    /// A rule of the workflow forbids this principal the action (e.g. four-eyes).
    #[error("{0}")]
    NotPermitted(String),
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
    /// A workflow event that the request's current state does not allow, or whose
    /// guard failed; names the current state and the allowed events.
    #[error("{message}")]
    InvalidTransition {
        /// What went wrong.
        message: String,
        /// The request's current state.
        state: String,
        /// The events the current state allows.
        allowed: Vec<String>,
    },
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
    /// Too many failed sign-ins from this client or for this key; retry later.
    RateLimited,
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
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

impl Error {
    /// The client-facing code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Error::Forbidden { .. } | Error::NotPermitted(_) => ErrorCode::Forbidden,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Validation(_) => ErrorCode::Validation,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::InvalidTransition { .. } => ErrorCode::InvalidTransition,
            // A concurrent writer took the same unique value first: the caller may retry.
            Error::Db(e)
                if matches!(
                    e.sql_err(),
                    Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                ) =>
            {
                ErrorCode::Conflict
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_data_is_checked_and_normalized() {
        let mut v = Validator::default();
        assert_eq!(
            v.email(" Datenschutz@Example.DE ", &["e"]),
            "Datenschutz@example.de"
        );
        assert_eq!(v.country("de", &["c"]), "DE");
        assert_eq!(
            v.multiline_text(" Weg 1\r\n10115 Berlin ", &["a"], 100),
            "Weg 1\n10115 Berlin"
        );
        assert_eq!(v.phone("+49 (30) 123-4567", &["p"]), "+49 (30) 123-4567");
        assert!(v.finish().is_ok());
        for bad in ["", "no-at", "a@b", "a@@b.de", "a b@c.de", "@x.de", "a@.de"] {
            let mut v = Validator::default();
            v.email(bad, &["e"]);
            assert!(v.finish().is_err(), "{bad:?} must be rejected");
        }
        for bad in ["12", "+49 30 abc", "49+30 1234567", "1234567890123456"] {
            let mut v = Validator::default();
            v.phone(bad, &["p"]);
            assert!(v.finish().is_err(), "{bad:?} must be rejected");
        }
        for bad in ["DEU", "D", "1A", ""] {
            let mut v = Validator::default();
            v.country(bad, &["c"]);
            assert!(v.finish().is_err(), "{bad:?} must be rejected");
        }
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

    /// Checks an e-mail address (trimmed, lower-cased domain) and returns it trimmed.
    pub fn email(&mut self, value: &str, path: &[&str]) -> String {
        let value = value.trim();
        let ok = value.len() <= 254
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
            && value.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
            });
        self.check(ok, path, "must be an e-mail address like name@example.com");
        match value.rsplit_once('@') {
            Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
            None => value.to_owned(),
        }
    }

    /// Checks a phone number: digits with optional leading `+` and separators.
    pub fn phone(&mut self, value: &str, path: &[&str]) -> String {
        let value = value.trim();
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let ok = (5..=15).contains(&digits)
            && value.len() <= 50
            && value
                .chars()
                .enumerate()
                .all(|(i, c)| c.is_ascii_digit() || " -/().".contains(c) || (c == '+' && i == 0));
        self.check(ok, path, "must be a phone number like +49 30 1234567");
        value.to_owned()
    }

    /// Checks an ISO 3166-1 alpha-2 country code and returns it upper-cased.
    pub fn country(&mut self, value: &str, path: &[&str]) -> String {
        let code = value.trim().to_ascii_uppercase();
        let ok = code.len() == 2 && code.chars().all(|c| c.is_ascii_uppercase());
        self.check(
            ok,
            path,
            "must be an ISO 3166-1 alpha-2 country code like DE",
        );
        code
    }

    /// Like [`Validator::text`] but allows line breaks (postal addresses, free text);
    /// CRLF becomes LF.
    pub fn multiline_text(&mut self, value: &str, path: &[&str], max_chars: usize) -> String {
        let normalized = value.replace("\r\n", "\n");
        let single_line = normalized.replace('\n', " ");
        self.text(&single_line, path, max_chars);
        normalized.trim().to_owned()
    }

    /// An optional multi-line text: checked when present, `None` when blank.
    pub fn optional_text(
        &mut self,
        value: Option<String>,
        path: &[&str],
        max_chars: usize,
    ) -> Option<String> {
        value
            .filter(|t| !t.trim().is_empty())
            .map(|t| self.multiline_text(&t, path, max_chars))
    }

    /// How many errors were recorded so far.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Whether no error was recorded so far.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
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
