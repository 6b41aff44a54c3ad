//! Short-lived download links for register exports. A link is stateless: the
//! token is the AES-256-GCM sealed claim (key, format, expiry), so it works on every
//! instance sharing the encryption key and cannot be forged or altered. Redeeming
//! it checks again that the key is not revoked and still holds the permissions.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ExportFile, ExportFormat};
use crate::api_keys::principal_of_key;
use crate::error::{Error, Result};
use crate::principal::Principal;
use crate::{Action, Object, Workflow, now};

/// How long a download link works.
pub const LINK_TTL: Duration = Duration::minutes(5);

/// A download link's token and expiry.
#[derive(Debug, Clone)]
pub struct ExportLink {
    /// Opaque, URL-safe token for `GET /exports/{token}`.
    pub token: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
    /// The format it downloads.
    pub format: ExportFormat,
}

#[derive(Serialize, Deserialize)]
struct Claims {
    /// API key id.
    k: Uuid,
    /// Format.
    f: String,
    /// Expiry, Unix seconds.
    e: i64,
}

fn to_url_safe(b64: &str) -> String {
    b64.trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect()
}

fn from_url_safe(token: &str) -> String {
    let mut s: String = token
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

fn invalid_link() -> Error {
    Error::NotFound {
        what: "download link (it is invalid or has expired; request a new one)",
    }
}

impl Workflow {
    /// A link to download the register in `format`, valid for [`LINK_TTL`].
    pub async fn register_export_link(
        &self,
        principal: &Principal,
        format: ExportFormat,
    ) -> Result<ExportLink> {
        for object in [Object::Register, Object::DataSource] {
            self.authz
                .require(principal.key_id, principal.org_id, object, Action::Read)
                .await?;
        }
        let expires_at = now() + LINK_TTL;
        let claims = Claims {
            k: principal.key_id,
            f: format.as_str().to_owned(),
            e: expires_at.timestamp(),
        };
        let sealed = self
            .cipher
            .encrypt(&serde_json::to_vec(&claims).map_err(|e| Error::Internal(e.to_string()))?)?;
        Ok(ExportLink {
            token: to_url_safe(&sealed),
            expires_at,
            format,
        })
    }

    /// The export a link stands for, rendered now with the current register.
    /// NOT_FOUND for forged, altered or expired links; UNAUTHENTICATED when the
    /// key was revoked since; FORBIDDEN when it lost the permissions.
    pub async fn redeem_export_link(&self, token: &str) -> Result<ExportFile> {
        if token.len() > 512 {
            return Err(invalid_link());
        }
        let bytes = self
            .cipher
            .decrypt(&from_url_safe(token))
            .map_err(|_| invalid_link())?;
        let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| invalid_link())?;
        if now().timestamp() > claims.e {
            return Err(invalid_link());
        }
        let format: ExportFormat = claims.f.parse().map_err(|_| invalid_link())?;
        let principal = principal_of_key(self.store.conn(), claims.k).await?;
        self.export_register(&principal, format).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_survive_the_url_safe_round_trip() {
        for s in ["ab+/cd==", "abcd", "a/b+c="] {
            let t = to_url_safe(s);
            assert!(!t.contains(['+', '/', '=']));
            assert_eq!(
                from_url_safe(&t).trim_end_matches('='),
                s.trim_end_matches('=')
            );
        }
    }
}
