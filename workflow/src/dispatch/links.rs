//! The subject's side of a dispatch: redeeming a download link, and staff
//! withdrawing one.

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use entity::download_link;

use crate::access::audit::{self, Actor, Entry};
use crate::access::principal::Principal;
use crate::answer::package::sha256_hex;
use crate::error::{Error, Result};
use crate::requests::TimelineKind;
use crate::{Workflow, now};

/// An answer package downloaded through a subject's link.
#[derive(Debug, Clone)]
pub struct DownloadedAnswer {
    /// File name to offer.
    pub file_name: String,
    /// The ZIP, as frozen at approval (checked against its digest).
    pub bytes: Vec<u8>,
}

/// Who a download is attributed to: the holder of the link, not an API key.
fn link_holder(org_id: Uuid) -> Principal {
    Principal {
        key_id: SUBJECT_LINK_ID,
        org_id,
        key_name: "subject (download link)".to_owned(),
        kind: crate::PrincipalKind::System,
    }
}

/// The id downloads are recorded under on the timeline (never an API key's: those
/// are time-ordered UUID v7).
pub const SUBJECT_LINK_ID: Uuid = Uuid::from_u128(0x0000_0000_0000_8000_8000_0000_0000_0004);

impl Workflow {
    /// The package a subject's download link stands for. Counts the download (at
    /// most the link's limit, also under concurrent downloads), audits it and notes
    /// it on the request's timeline, in one transaction. NOT_FOUND for an unknown
    /// token; CONFLICT for a link that expired, was used up or was withdrawn.
    pub async fn download_answer(&self, token: &str) -> Result<DownloadedAnswer> {
        let not_found = || Error::NotFound {
            what: "download link",
        };
        // A token is 43 URL-safe characters; anything else is not looked up.
        if token.len() != 43
            || !token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(not_found());
        }
        let hash = sha256_hex(token.as_bytes());
        let mut tx = self.store.begin().await?;
        let link = download_link::Entity::find()
            .filter(download_link::Column::TokenHash.eq(hash))
            .one(tx.conn())
            .await?
            .ok_or_else(not_found)?;
        let at = now();
        // Count the download in one conditional statement: two downloads at the
        // limit cannot both get in.
        let taken = download_link::Entity::update_many()
            .col_expr(
                download_link::Column::Downloads,
                Expr::col(download_link::Column::Downloads).add(1),
            )
            .col_expr(download_link::Column::LastDownloadAt, Expr::value(Some(at)))
            .filter(download_link::Column::Id.eq(link.id))
            .filter(download_link::Column::RevokedAt.is_null())
            .filter(download_link::Column::ExpiresAt.gt(at))
            .filter(
                Expr::col(download_link::Column::Downloads)
                    .lt(Expr::col(download_link::Column::MaxDownloads)),
            )
            .exec(tx.conn())
            .await?
            .rows_affected
            > 0;
        if !taken {
            let why = if link.revoked_at.is_some() {
                "this download link was withdrawn; please ask the organization for a new one"
                    .to_owned()
            } else if link.expires_at <= at {
                format!(
                    "this download link expired on {}; please ask the organization for a new one",
                    link.expires_at.format("%Y-%m-%d")
                )
            } else {
                format!(
                    "this download link was used {} times, its limit; please ask the organization for a new one",
                    link.max_downloads
                )
            };
            return Err(Error::Conflict(why));
        }
        let file =
            crate::answer::open_package(tx.conn(), &self.cipher, link.org_id, link.package_id)
                .await?;
        let request =
            crate::requests::find_request(tx.conn(), link.org_id, link.request_id).await?;
        let holder = link_holder(link.org_id);
        self.note(
            &mut tx,
            &holder,
            &request,
            TimelineKind::Dispatch,
            format!(
                "the subject downloaded the answer ({} of at most {} downloads)",
                link.downloads + 1,
                link.max_downloads
            ),
        )
        .await?;
        audit::append(
            &mut tx,
            link.org_id,
            &Actor::system("subject:download-link"),
            Entry::success("downloadAnswer", "SubjectRequest", link.request_id),
        )
        .await?;
        tx.commit(&self.bus).await?;
        Ok(DownloadedAnswer {
            file_name: file.file_name,
            bytes: file.bytes,
        })
    }

    /// Withdraws the subject's download link of a dispatched request (sent to a
    /// wrong address, say); downloads through it fail from then on. CONFLICT when
    /// the request has no link or it was withdrawn already.
    pub async fn revoke_download_link(
        &self,
        principal: &Principal,
        request_id: Uuid,
    ) -> Result<super::DispatchProof> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                crate::Object::Request,
                crate::Action::Dispatch,
            )
            .await?;
        let mut tx = self.store.begin().await?;
        let request =
            crate::requests::find_request(tx.conn(), principal.org_id, request_id).await?;
        let link = download_link::Entity::find()
            .filter(download_link::Column::OrgId.eq(principal.org_id))
            .filter(download_link::Column::RequestId.eq(request_id))
            .order_by_desc(download_link::Column::CreatedAt)
            .one(tx.conn())
            .await?
            .ok_or_else(|| Error::Conflict("this request has no download link".into()))?;
        let revoked = download_link::Entity::update_many()
            .col_expr(download_link::Column::RevokedAt, Expr::value(Some(now())))
            .filter(download_link::Column::Id.eq(link.id))
            .filter(download_link::Column::RevokedAt.is_null())
            .exec(tx.conn())
            .await?
            .rows_affected;
        if revoked == 0 {
            return Err(Error::Conflict(
                "the download link was withdrawn already".into(),
            ));
        }
        self.note(
            &mut tx,
            principal,
            &request,
            TimelineKind::Dispatch,
            "download link withdrawn".into(),
        )
        .await?;
        self.commit_audited(
            tx,
            principal,
            Entry::success("revokeDownloadLink", "SubjectRequest", request_id),
        )
        .await?;
        self.dispatch_proof(principal, request_id)
            .await?
            .ok_or_else(|| Error::Internal("a download link without its dispatch".into()))
    }
}
