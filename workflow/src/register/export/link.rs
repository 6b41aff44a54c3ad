//! Short-lived download links for register exports. A link is stateless: the
//! token is the AES-256-GCM sealed claim (key, format, expiry), so it works on every
//! instance sharing the encryption key and cannot be forged or altered. Redeeming
//! it checks again that the key is not revoked and still holds the permissions.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ExportFile, ExportFormat};
use crate::api_keys::principal_of_key;
use crate::crypto::Cipher;
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

fn invalid_link() -> Error {
    Error::NotFound {
        what: "download link (it is invalid or has expired; request a new one)",
    }
}

/// The key and format of a token that is genuine and unexpired at `at`.
fn open_token(cipher: &Cipher, token: &str, at: DateTime<Utc>) -> Result<(Uuid, ExportFormat)> {
    if token.len() > 512 {
        return Err(invalid_link());
    }
    let bytes = cipher.decrypt_url_safe(token).map_err(|_| invalid_link())?;
    let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| invalid_link())?;
    if at.timestamp() > claims.e {
        return Err(invalid_link());
    }
    let format: ExportFormat = claims.f.parse().map_err(|_| invalid_link())?;
    Ok((claims.k, format))
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
        let token = self.cipher.encrypt_url_safe(
            &serde_json::to_vec(&claims).map_err(|e| Error::Internal(e.to_string()))?,
        )?;
        Ok(ExportLink {
            token,
            expires_at,
            format,
        })
    }

    /// The export a link stands for, rendered now with the current register.
    /// NOT_FOUND for forged, altered or expired links; UNAUTHENTICATED when the
    /// key was revoked since; FORBIDDEN when it lost the permissions.
    pub async fn redeem_export_link(&self, token: &str) -> Result<ExportFile> {
        let (key_id, format) = open_token(&self.cipher, token, now())?;
        let principal = principal_of_key(self.store.conn(), key_id).await?;
        self.export_register(&principal, format).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_until_they_expire_and_not_when_altered() {
        let cipher = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        let key = Uuid::now_v7();
        let issued = now();
        let claims = Claims {
            k: key,
            f: "CSV".into(),
            e: (issued + LINK_TTL).timestamp(),
        };
        let token = cipher
            .encrypt_url_safe(&serde_json::to_vec(&claims).unwrap())
            .unwrap();
        let (k, f) = open_token(&cipher, &token, issued + Duration::minutes(4)).unwrap();
        assert_eq!((k, f), (key, ExportFormat::Csv));
        let expired = open_token(&cipher, &token, issued + Duration::minutes(6));
        assert!(matches!(expired, Err(Error::NotFound { .. })));
        let other = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        assert!(matches!(
            open_token(&other, &token, issued),
            Err(Error::NotFound { .. })
        ));
        assert!(open_token(&cipher, &"A".repeat(600), issued).is_err());
    }
}
