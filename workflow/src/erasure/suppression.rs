//! The suppression list: after an erasure, the person's identities are kept only as
//! keyed fingerprints (HMAC-SHA256 with a key derived from the key for data at rest,
//! scoped to the organization), so that importers and CRM syncs can ask whether an
//! address belongs to an erased person before bringing the person back, without
//! the list itself holding any address.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use entity::{subject_request, suppression_entry};

use crate::access::principal::Principal;
use crate::connectors::SearchIdentity;
use crate::core::crypto::Cipher;
use crate::error::{Result, Validator};
use crate::register::fields::IdentityType;
use crate::{Workflow, new_id};

/// Identities one check may ask about.
pub const MAX_CHECK: usize = 1000;

/// The fingerprint of an identity's canonical value in an organization.
pub(crate) fn fingerprint(
    cipher: &Cipher,
    org_id: Uuid,
    kind: IdentityType,
    canonical: &str,
) -> String {
    let scope = [
        b"suppression:".as_slice(),
        org_id.as_bytes(),
        kind.as_str().as_bytes(),
    ]
    .concat();
    cipher.fingerprint(&scope, canonical.as_bytes())
}

/// Puts the identities on the organization's suppression list (those already on it
/// stay as they are).
pub(crate) async fn add<C: crate::core::store::Conn>(
    conn: &C,
    cipher: &Cipher,
    request: &subject_request::Model,
    identities: &[SearchIdentity],
    at: DateTime<Utc>,
) -> Result<()> {
    let wanted: HashMap<(String, String), ()> = identities
        .iter()
        .map(|i| {
            (
                (
                    i.kind.as_str().to_owned(),
                    fingerprint(cipher, request.org_id, i.kind, &i.value),
                ),
                (),
            )
        })
        .collect();
    if wanted.is_empty() {
        return Ok(());
    }
    let present: HashSet<(String, String)> = suppression_entry::Entity::find()
        .filter(suppression_entry::Column::OrgId.eq(request.org_id))
        .filter(suppression_entry::Column::Fingerprint.is_in(wanted.keys().map(|k| k.1.clone())))
        .all(conn)
        .await?
        .into_iter()
        .map(|e| (e.kind, e.fingerprint))
        .collect();
    let rows: Vec<suppression_entry::ActiveModel> = wanted
        .into_keys()
        .filter(|k| !present.contains(k))
        .map(|(kind, fingerprint)| suppression_entry::ActiveModel {
            id: Set(new_id()),
            org_id: Set(request.org_id),
            kind: Set(kind),
            fingerprint: Set(fingerprint),
            request_id: Set(request.id),
            created_at: Set(at),
        })
        .collect();
    if !rows.is_empty() {
        suppression_entry::Entity::insert_many(rows)
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Whether the identity (canonical value) is on the organization's suppression list.
pub(crate) async fn is_suppressed<C: crate::core::store::Conn>(
    conn: &C,
    cipher: &Cipher,
    org_id: Uuid,
    kind: IdentityType,
    canonical: &str,
) -> Result<bool> {
    Ok(suppression_entry::Entity::find()
        .filter(suppression_entry::Column::OrgId.eq(org_id))
        .filter(suppression_entry::Column::Kind.eq(kind.as_str()))
        .filter(
            suppression_entry::Column::Fingerprint.eq(fingerprint(cipher, org_id, kind, canonical)),
        )
        .one(conn)
        .await?
        .is_some())
}

/// Takes the identity off the list: the person came back by their own confirmed act
/// (a double opt-in), which no importer can fake.
pub(crate) async fn lift<C: crate::core::store::Conn>(
    conn: &C,
    cipher: &Cipher,
    org_id: Uuid,
    kind: IdentityType,
    canonical: &str,
) -> Result<()> {
    suppression_entry::Entity::delete_many()
        .filter(suppression_entry::Column::OrgId.eq(org_id))
        .filter(suppression_entry::Column::Kind.eq(kind.as_str()))
        .filter(
            suppression_entry::Column::Fingerprint.eq(fingerprint(cipher, org_id, kind, canonical)),
        )
        .exec(conn)
        .await?;
    Ok(())
}

/// The answer for one identity asked about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuppressionMatch {
    /// Its kind.
    pub kind: IdentityType,
    /// The value as asked.
    pub value: String,
    /// Whether it belongs to an erased person: do not import it.
    pub suppressed: bool,
    /// Since when.
    pub since: Option<DateTime<Utc>>,
}

impl Workflow {
    /// Checks identities against the organization's suppression list, each read in
    /// its canonical spelling (as intake reads them).
    pub async fn suppression_check(
        &self,
        principal: &Principal,
        identities: Vec<(IdentityType, String)>,
    ) -> Result<Vec<SuppressionMatch>> {
        self.authz
            .require(
                principal.key_id,
                principal.org_id,
                crate::Object::Request,
                crate::Action::Read,
            )
            .await?;
        let conn = self.store.conn();
        let region = crate::requests::settings::phone_region(conn, principal.org_id).await?;
        let mut v = Validator::default();
        v.check(
            identities.len() <= MAX_CHECK,
            &["identities"],
            "at most 1000 identities per check",
        );
        if identities.len() > MAX_CHECK {
            return Err(v.finish().unwrap_err());
        }
        let canonical: Vec<String> = identities
            .iter()
            .enumerate()
            .map(|(i, (kind, value))| {
                let index = i.to_string();
                crate::requests::intake_normalize(
                    &mut v,
                    *kind,
                    value,
                    &["identities", &index, "value"],
                    region,
                )
            })
            .collect();
        v.finish()?;
        let prints: Vec<String> = identities
            .iter()
            .zip(&canonical)
            .map(|((kind, _), c)| fingerprint(&self.cipher, principal.org_id, *kind, c))
            .collect();
        let mut since: HashMap<(String, String), DateTime<Utc>> = HashMap::new();
        for chunk in prints.chunks(500) {
            for e in suppression_entry::Entity::find()
                .filter(suppression_entry::Column::OrgId.eq(principal.org_id))
                .filter(suppression_entry::Column::Fingerprint.is_in(chunk.iter().cloned()))
                .all(conn)
                .await?
            {
                since.insert((e.kind, e.fingerprint), e.created_at);
            }
        }
        Ok(identities
            .into_iter()
            .zip(prints)
            .map(|((kind, value), print)| {
                let at = since.get(&(kind.as_str().to_owned(), print)).copied();
                SuppressionMatch {
                    kind,
                    value,
                    suppressed: at.is_some(),
                    since: at,
                }
            })
            .collect())
    }
}
