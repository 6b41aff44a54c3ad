//! Short-lived, stateless download links. A token is the AES-256-GCM sealed claim
//! (API key, what it downloads, expiry), so it works on every instance sharing the
//! encryption key and cannot be forged or altered. Redeeming it checks again that
//! the key is not revoked and still holds the permissions.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::core::crypto::Cipher;
use crate::error::{Error, Result};

/// How long a download link works.
pub const LINK_TTL: Duration = Duration::minutes(5);

#[derive(Serialize, Deserialize)]
struct Claims {
    /// API key id.
    k: Uuid,
    /// What the link downloads (e.g. an export format, `attachment/<id>`).
    f: String,
    /// Expiry, Unix seconds.
    e: i64,
}

pub(crate) fn invalid_link() -> Error {
    Error::NotFound {
        what: "download link (it is invalid or has expired; request a new one)",
    }
}

/// Seals a link for `key_id` to `what`, valid for [`LINK_TTL`] from `at`.
pub(crate) fn seal(
    cipher: &Cipher,
    key_id: Uuid,
    what: &str,
    at: DateTime<Utc>,
) -> Result<(String, DateTime<Utc>)> {
    let expires_at = at + LINK_TTL;
    let claims = Claims {
        k: key_id,
        f: what.to_owned(),
        e: expires_at.timestamp(),
    };
    let token = cipher.encrypt_url_safe(
        &serde_json::to_vec(&claims).map_err(|e| Error::Internal(e.to_string()))?,
    )?;
    Ok((token, expires_at))
}

/// The key and the `what` of a token that is genuine and unexpired at `at`.
pub(crate) fn open(cipher: &Cipher, token: &str, at: DateTime<Utc>) -> Result<(Uuid, String)> {
    if token.len() > 512 {
        return Err(invalid_link());
    }
    let bytes = cipher.decrypt_url_safe(token).map_err(|_| invalid_link())?;
    let claims: Claims = serde_json::from_slice(&bytes).map_err(|_| invalid_link())?;
    if at.timestamp() > claims.e {
        return Err(invalid_link());
    }
    Ok((claims.k, claims.f))
}

/// The opaque global ID (Relay `Node`) of a row of `type_name`: base64url of
/// `Type:uuid`. The API's IDs and the ids in webhook payloads are both made here.
pub fn global_id(type_name: &str, id: uuid::Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}"))
}

/// The type name and UUID of a global ID as [`global_id`] writes it, or `None`.
/// Only that spelling (lower-case, hyphenated): `Uuid::parse_str` also reads the
/// braced, URN, upper-case and unhyphenated forms, which would give one object several
/// IDs, and clients that compare IDs as strings several objects.
pub fn parse_global_id(id: &str) -> Option<(String, uuid::Uuid)> {
    use base64::Engine;
    let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(id)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (type_name, uuid) = text.split_once(':')?;
    let parsed = uuid::Uuid::try_parse(uuid).ok()?;
    let canonical = parsed
        .hyphenated()
        .encode_lower(&mut uuid::Uuid::encode_buffer())
        == uuid;
    canonical.then(|| (type_name.to_owned(), parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_open_until_they_expire_and_not_when_altered() {
        let cipher = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        let key = Uuid::now_v7();
        let issued = crate::now();
        let (token, expires) = seal(&cipher, key, "CSV", issued).unwrap();
        assert_eq!(expires, issued + LINK_TTL);
        let (k, what) = open(&cipher, &token, issued + Duration::minutes(4)).unwrap();
        assert_eq!((k, what.as_str()), (key, "CSV"));
        let expired = open(&cipher, &token, issued + Duration::minutes(6));
        assert!(matches!(expired, Err(Error::NotFound { .. })));
        let other = Cipher::from_base64(&Cipher::generate_key()).unwrap();
        assert!(matches!(
            open(&other, &token, issued),
            Err(Error::NotFound { .. })
        ));
        assert!(open(&cipher, &"A".repeat(600), issued).is_err());
    }
}
