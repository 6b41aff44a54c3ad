//! Short-lived download links for register exports (see [`crate::core::links`]).

use chrono::{DateTime, Utc};

use super::{ExportFile, ExportFormat};
use crate::access::api_keys::principal_of_key;
use crate::access::principal::Principal;
use crate::core::links::{invalid_link, open, seal};
use crate::error::Result;
use crate::{Action, Object, Workflow, now};

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

impl Workflow {
    /// A link to download the register in `format`, valid for [`crate::core::links::LINK_TTL`].
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
        let (token, expires_at) = seal(&self.cipher, principal.key_id, format.as_str(), now())?;
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
        let (key_id, what) = open(&self.cipher, token, now())?;
        let format: ExportFormat = what.parse().map_err(|_| invalid_link())?;
        let principal = principal_of_key(self.store.conn(), key_id).await?;
        self.export_register(&principal, format).await
    }
}
