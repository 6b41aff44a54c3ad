//! One person, one identity: stored identities get their canonical spelling (the
//! `identity` crate, which intake uses too), the value as given is kept next to it,
//! and subjects whose identities turn out to be the same are merged.
//!
//! Adds `subject_identity.value_as_given` (filled with the value stored so far, the
//! best record of what was given) and `request_settings.phone_region` (default `DE`,
//! the region the old intake assumed).
//!
//! Then, for every stored identity, the canonical value is computed: e-mail in NFC,
//! lower-cased, domain in ASCII (punycode); phone in E.164, where a stored number
//! that is not valid as written (`+4902219876543`, or `+2219876543` written for a
//! national number typed without its leading zero) is read again as the old intake
//! should have read it; other kinds in NFC with whitespace collapsed. A value that
//! has no canonical form (an invalid number accepted earlier) is kept as it is.
//!
//! Identities that become the same (organization, kind, value) are one identity:
//! - their subjects are merged into the subject of the earliest identity (the one
//!   intake would have matched first): requests and identities are moved to it and
//!   the emptied subjects are deleted, so a subject's requests stay together and the
//!   (organization, kind, value) index stays unique;
//! - of the identity rows one is kept (a verified one if any, else the earliest);
//!   verification challenges of the others are moved to it before they are deleted;
//! - duplicate links are recomputed for the requests of merged subjects as intake
//!   sets them: an open request without a link that has an earlier open request of
//!   the same kind gets linked to the earliest one, with a note on its timeline.

use std::collections::{BTreeMap, HashMap};

use sea_orm::{ConnectionTrait, DatabaseBackend, QueryResult};
use sea_orm_migration::{prelude::*, schema::*};
use uuid::Uuid;

use crate::m20261123_000014_create_subject_request::{
    DataSubject, SubjectIdentity, SubjectRequest,
};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Added {
    ValueAsGiven,
    PhoneRegion,
}

#[derive(DeriveIden)]
enum RequestSettings {
    Table,
}

#[derive(DeriveIden)]
enum VerificationChallenge {
    Table,
    IdentityId,
}

#[derive(DeriveIden)]
enum RequestEvent {
    Table,
    Id,
    OrgId,
    RequestId,
    Kind,
    ActorName,
    Message,
    At,
}

/// States in which a request no longer counts as open (the workflow's
/// `RequestState::is_open`, repeated here because migrations do not depend on it).
const NOT_OPEN: [&str; 4] = ["DISPATCHED", "CLOSED", "REJECTED", "CANCELLED"];

struct StoredIdentity {
    id: Uuid,
    org_id: Uuid,
    subject_id: Uuid,
    kind: String,
    value: String,
    verified: bool,
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, column: &str) -> Result<T, DbErr> {
    row.try_get("", column)
}

/// The canonical value of a stored identity, or the value as it is when it has none.
fn canonical(kind: &str, value: &str) -> String {
    // Every organization still has the default region: the column is added above.
    let region = identity::PhoneRegion::default();
    let canonical = match kind.parse::<identity::Kind>() {
        Ok(identity::Kind::Phone) => identity::phone_as_stored(value, region),
        Ok(kind) => identity::canonical(kind, value, region).ok(),
        Err(_) => None,
    };
    canonical.unwrap_or_else(|| value.to_owned())
}

/// Subjects merged by shared identities; the root of each set is the subject seen
/// first (identities are visited oldest first).
#[derive(Default)]
struct Subjects {
    parent: HashMap<Uuid, Uuid>,
    seen: HashMap<Uuid, usize>,
}

impl Subjects {
    fn add(&mut self, subject: Uuid) {
        let next = self.seen.len();
        self.seen.entry(subject).or_insert(next);
        self.parent.entry(subject).or_insert(subject);
    }

    fn root(&mut self, subject: Uuid) -> Uuid {
        let parent = self.parent[&subject];
        if parent == subject {
            return subject;
        }
        let root = self.root(parent);
        self.parent.insert(subject, root);
        root
    }

    fn union(&mut self, a: Uuid, b: Uuid) {
        let (a, b) = (self.root(a), self.root(b));
        if a == b {
            return;
        }
        let (keep, merge) = if self.seen[&a] <= self.seen[&b] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent.insert(merge, keep);
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SubjectIdentity::Table)
                    .add_column(string_len(Added::ValueAsGiven, 600).default(""))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(RequestSettings::Table)
                    .add_column(string_len(Added::PhoneRegion, 10).default("DE"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        if manager.get_database_backend() == DatabaseBackend::MySql {
            // Canonical values are compared exactly: MySQL's default collations would
            // take `jorg@…` and `jörg@…` (or `A` and `a`) for one identity.
            db.execute_unprepared(
                "ALTER TABLE subject_identity MODIFY value VARCHAR(300) \
                 CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL",
            )
            .await?;
        }
        db.execute(
            Query::update()
                .table(SubjectIdentity::Table)
                .value(Added::ValueAsGiven, Expr::col(SubjectIdentity::Value)),
        )
        .await?;

        let rows = db
            .query_all(
                Query::select()
                    .columns([
                        SubjectIdentity::Id,
                        SubjectIdentity::OrgId,
                        SubjectIdentity::SubjectId,
                        SubjectIdentity::Kind,
                        SubjectIdentity::Value,
                        SubjectIdentity::VerifiedAt,
                    ])
                    .from(SubjectIdentity::Table)
                    .order_by(SubjectIdentity::CreatedAt, Order::Asc)
                    .order_by(SubjectIdentity::Id, Order::Asc),
            )
            .await?;
        let mut identities = Vec::with_capacity(rows.len());
        for row in &rows {
            identities.push(StoredIdentity {
                id: get(row, "id")?,
                org_id: get(row, "org_id")?,
                subject_id: get(row, "subject_id")?,
                kind: get(row, "kind")?,
                value: get(row, "value")?,
                verified: get::<Option<chrono::DateTime<chrono::Utc>>>(row, "verified_at")?
                    .is_some(),
            });
        }

        // Group by (organization, kind, canonical value), oldest first in each group.
        let mut groups: BTreeMap<(Uuid, String, String), Vec<usize>> = BTreeMap::new();
        let mut subjects = Subjects::default();
        for (i, row) in identities.iter().enumerate() {
            subjects.add(row.subject_id);
            groups
                .entry((
                    row.org_id,
                    row.kind.clone(),
                    canonical(&row.kind, &row.value),
                ))
                .or_default()
                .push(i);
        }
        for members in groups.values() {
            for pair in members.windows(2) {
                subjects.union(
                    identities[pair[0]].subject_id,
                    identities[pair[1]].subject_id,
                );
            }
        }

        // Merge subjects: move requests and identities to the root, delete the rest.
        let all: Vec<Uuid> = subjects.seen.keys().copied().collect();
        let mut merged_into: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
        for subject in all {
            let root = subjects.root(subject);
            if root != subject {
                merged_into.entry(root).or_default().push(subject);
            }
        }
        for (root, merged) in &merged_into {
            for subject in merged {
                db.execute(
                    Query::update()
                        .table(SubjectRequest::Table)
                        .value(SubjectRequest::SubjectId, *root)
                        .and_where(Expr::col(SubjectRequest::SubjectId).eq(*subject)),
                )
                .await?;
                db.execute(
                    Query::update()
                        .table(SubjectIdentity::Table)
                        .value(SubjectIdentity::SubjectId, *root)
                        .and_where(Expr::col(SubjectIdentity::SubjectId).eq(*subject)),
                )
                .await?;
                db.execute(
                    Query::delete()
                        .from_table(DataSubject::Table)
                        .and_where(Expr::col(DataSubject::Id).eq(*subject)),
                )
                .await?;
            }
        }

        // One row per identity: keep a verified one, else the oldest; then spell the
        // kept one canonically.
        for members in groups.values() {
            let keep = members
                .iter()
                .copied()
                .find(|i| identities[*i].verified)
                .unwrap_or(members[0]);
            let keep_id = identities[keep].id;
            for other in members.iter().filter(|i| **i != keep) {
                let other_id = identities[*other].id;
                db.execute(
                    Query::update()
                        .table(VerificationChallenge::Table)
                        .value(VerificationChallenge::IdentityId, keep_id)
                        .and_where(Expr::col(VerificationChallenge::IdentityId).eq(other_id)),
                )
                .await?;
                db.execute(
                    Query::delete()
                        .from_table(SubjectIdentity::Table)
                        .and_where(Expr::col(SubjectIdentity::Id).eq(other_id)),
                )
                .await?;
            }
        }
        for ((_, _, value), members) in &groups {
            let keep = members
                .iter()
                .copied()
                .find(|i| identities[*i].verified)
                .unwrap_or(members[0]);
            if identities[keep].value != *value {
                db.execute(
                    Query::update()
                        .table(SubjectIdentity::Table)
                        .value(SubjectIdentity::Value, value.as_str())
                        .and_where(Expr::col(SubjectIdentity::Id).eq(identities[keep].id)),
                )
                .await?;
            }
        }

        for root in merged_into.keys() {
            relink_duplicates(db, *root).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Canonical values and merged subjects stay: they are what the code expects.
        manager
            .alter_table(
                Table::alter()
                    .table(RequestSettings::Table)
                    .drop_column(Added::PhoneRegion)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(SubjectIdentity::Table)
                    .drop_column(Added::ValueAsGiven)
                    .to_owned(),
            )
            .await
    }
}

/// Links each open request of `subject` that has no duplicate link to the earliest
/// earlier open request of the same kind, as intake does, with a timeline note.
async fn relink_duplicates<C: ConnectionTrait>(db: &C, subject: Uuid) -> Result<(), DbErr> {
    let rows = db
        .query_all(
            Query::select()
                .columns([
                    SubjectRequest::Id,
                    SubjectRequest::OrgId,
                    SubjectRequest::Kind,
                    SubjectRequest::DuplicateOf,
                ])
                .from(SubjectRequest::Table)
                .and_where(Expr::col(SubjectRequest::SubjectId).eq(subject))
                .and_where(Expr::col(SubjectRequest::State).is_not_in(NOT_OPEN))
                .order_by(SubjectRequest::ReceivedAt, Order::Asc)
                .order_by(SubjectRequest::Id, Order::Asc),
        )
        .await?;
    let mut first_of_kind: HashMap<String, Uuid> = HashMap::new();
    for row in &rows {
        let id: Uuid = get(row, "id")?;
        let org_id: Uuid = get(row, "org_id")?;
        let kind: String = get(row, "kind")?;
        let duplicate_of: Option<Uuid> = get(row, "duplicate_of")?;
        let Some(first) = first_of_kind.get(&kind).copied() else {
            first_of_kind.insert(kind, id);
            continue;
        };
        if duplicate_of.is_some() {
            continue;
        }
        db.execute(
            Query::update()
                .table(SubjectRequest::Table)
                .value(SubjectRequest::DuplicateOf, first)
                .and_where(Expr::col(SubjectRequest::Id).eq(id)),
        )
        .await?;
        db.execute(
            Query::insert()
                .into_table(RequestEvent::Table)
                .columns([
                    RequestEvent::Id,
                    RequestEvent::OrgId,
                    RequestEvent::RequestId,
                    RequestEvent::Kind,
                    RequestEvent::ActorName,
                    RequestEvent::Message,
                    RequestEvent::At,
                ])
                .values_panic([
                    Uuid::now_v7().into(),
                    org_id.into(),
                    id.into(),
                    "COMMENT".into(),
                    "system (migration)".into(),
                    format!(
                        "possible duplicate of open request {first} of the same kind: \
                         the requester's identities were found to be the same when their spellings were unified"
                    )
                    .into(),
                    chrono::Utc::now().into(),
                ]),
        )
        .await?;
    }
    Ok(())
}
