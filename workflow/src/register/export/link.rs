//! Short-lived download links for register exports (see [`crate::core::links`]).

use chrono::{DateTime, Utc};

use super::{ExportFile, ExportFormat};
use crate::access::api_keys::principal_of_key;
use crate::access::principal::Principal;
use crate::answer::Language;
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
    /// The language it is rendered in (None: the organization's, when downloaded).
    pub language: Option<Language>,
}

impl Workflow {
    /// A link to download the register in `format` and `language`, valid for
    /// [`crate::core::links::LINK_TTL`].
    pub async fn register_export_link(
        &self,
        principal: &Principal,
        format: ExportFormat,
        language: Option<Language>,
    ) -> Result<ExportLink> {
        for object in [Object::Register, Object::DataSource] {
            self.authz
                .require(principal.key_id, principal.org_id, object, Action::Read)
                .await?;
        }
        let what = match language {
            Some(l) => format!("{}:{}", format.as_str(), l.as_str()),
            None => format.as_str().to_owned(),
        };
        let (token, expires_at) = seal(&self.cipher, principal.key_id, &what, now())?;
        Ok(ExportLink {
            token,
            expires_at,
            format,
            language,
        })
    }

    /// The export a link stands for, rendered now with the current register.
    /// NOT_FOUND for forged, altered or expired links; UNAUTHENTICATED when the
    /// key was revoked since; FORBIDDEN when it lost the permissions.
    pub async fn redeem_export_link(&self, token: &str) -> Result<ExportFile> {
        let (key_id, what) = open(&self.cipher, token, now())?;
        let (format, language) = match what.split_once(':') {
            Some((format, language)) => (format, Some(language)),
            None => (what.as_str(), None),
        };
        let format: ExportFormat = format.parse().map_err(|_| invalid_link())?;
        let language = language
            .map(|l| l.parse::<Language>().map_err(|_| invalid_link()))
            .transpose()?;
        let principal = principal_of_key(self.store.conn(), key_id).await?;
        self.export_register(&principal, format, language).await
    }
}
