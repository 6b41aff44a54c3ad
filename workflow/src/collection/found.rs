//! Identities found on the way. A record that a source gave for one of the
//! requester's identities may name another identifier of the same person: the
//! customer row found by e-mail holds the customer number, and a second system
//! knows the customer only by that number. Such values are kept per request and the
//! request's other sources are searched for them too.
//!
//! Only values of fields mapped as identifying, and only from a record anchored by
//! an identity already searched for (the record was found *because* it names the
//! requester), are taken; a record a connector flagged (a shared reference, a
//! fan-out) gives none, and neither does a value that is a known identity of
//! another data subject. The set only grows and is bounded by the sources, so the
//! searching ends.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use entity::{data_field, found_identity, subject_identity, subject_request};

use crate::access::principal::Principal;
use crate::connectors::{Found, SearchIdentity};
use crate::core::store::Conn;
use crate::error::Result;
use crate::register::fields::IdentityType;
use crate::{Workflow, new_id};

/// An identifying value read from one of the subject's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    /// The identifying field it was read from.
    pub field_id: Uuid,
    /// The record it was read from.
    pub record_key: String,
    /// Its identity type.
    pub kind: IdentityType,
    /// The canonical value.
    pub value: String,
}

/// An identity found on the way, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundIdentityView {
    /// The request it was found for.
    pub request_id: Uuid,
    /// Its identity type.
    pub kind: IdentityType,
    /// The canonical value.
    pub value: String,
    /// The source and the record it was read from.
    pub source_id: Uuid,
    /// The record, e.g. `customers(id=42)`.
    pub record_key: String,
    /// The identifying field it was read from.
    pub field_id: Uuid,
    /// When it was found.
    pub found_at: DateTime<Utc>,
}

/// The identity type of a field mapped as identifying, if it is one.
pub(crate) fn identity_type(field: &data_field::Model) -> Option<IdentityType> {
    if !field.identifies_subject {
        return None;
    }
    field.identity_type.as_deref()?.parse().ok()
}

/// The identifying values of `found` that are not among `searched`, read only from
/// records that also hold one of the `searched` identities in an identifying field
/// and that the connector did not flag. In order of first appearance, each once.
pub(crate) fn discover(
    found: &[Found],
    fields: &[data_field::Model],
    searched: &[SearchIdentity],
    region: identity::PhoneRegion,
    readings: &super::leaks::Readings,
) -> Vec<Discovered> {
    let known: HashSet<(IdentityType, &str)> = searched
        .iter()
        .map(|i| (i.kind, i.value.as_str()))
        .collect();
    let mut out: Vec<Discovered> = Vec::new();
    let mut taken: HashSet<(IdentityType, String)> = HashSet::new();
    // Each distinct value was read once, ahead, by the worker (`readings`): a phone
    // number is dear to parse.
    for record in found.iter().filter(|r| r.flags.is_empty()) {
        let identities: Vec<(Uuid, IdentityType, String)> = record
            .values
            .iter()
            .filter_map(|v| {
                let field = fields.iter().find(|f| f.id == v.field_id)?;
                let kind = identity_type(field)?;
                let value = readings.canonical(kind, &v.value, region)?;
                (!value.is_empty()).then_some((field.id, kind, value))
            })
            .collect();
        let anchored = identities
            .iter()
            .any(|(_, kind, value)| known.contains(&(*kind, value.as_str())));
        if !anchored {
            continue;
        }
        for (field_id, kind, value) in identities {
            if known.contains(&(kind, value.as_str())) || !taken.insert((kind, value.clone())) {
                continue;
            }
            out.push(Discovered {
                field_id,
                record_key: record.key.clone(),
                kind,
                value,
            });
        }
    }
    out
}

/// The identities found on the way for a request, to search with.
pub(crate) async fn search_identities<C: Conn>(
    conn: &C,
    request_id: Uuid,
) -> Result<Vec<(SearchIdentity, Uuid, Uuid)>> {
    found_identity::Entity::find()
        .filter(found_identity::Column::RequestId.eq(request_id))
        .order_by_asc(found_identity::Column::CreatedAt)
        .order_by_asc(found_identity::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(|f| {
            Ok((
                SearchIdentity {
                    kind: f.kind.parse()?,
                    value: f.value,
                    as_given: None,
                },
                f.source_id,
                f.field_id,
            ))
        })
        .collect()
}

/// Keeps the discovered identities that are no known identity of another subject
/// of the organization, and stores them for the request.
pub(crate) async fn adopt<C: Conn>(
    conn: &C,
    request: &subject_request::Model,
    task_id: Uuid,
    source_id: Uuid,
    discovered: Vec<Discovered>,
    at: DateTime<Utc>,
) -> Result<Vec<Discovered>> {
    if discovered.is_empty() {
        return Ok(discovered);
    }
    let values: BTreeSet<&str> = discovered.iter().map(|d| d.value.as_str()).collect();
    let others: HashSet<(String, String)> = subject_identity::Entity::find()
        .filter(subject_identity::Column::OrgId.eq(request.org_id))
        .filter(subject_identity::Column::SubjectId.ne(request.subject_id))
        .filter(subject_identity::Column::Value.is_in(values))
        .all(conn)
        .await?
        .into_iter()
        .map(|i| (i.kind, i.value))
        .collect();
    let adopted: Vec<Discovered> = discovered
        .into_iter()
        .filter(|d| !others.contains(&(d.kind.as_str().to_owned(), d.value.clone())))
        .collect();
    if adopted.is_empty() {
        return Ok(adopted);
    }
    let rows: Vec<found_identity::ActiveModel> = adopted
        .iter()
        .map(|d| found_identity::ActiveModel {
            id: Set(new_id()),
            org_id: Set(request.org_id),
            request_id: Set(request.id),
            task_id: Set(task_id),
            source_id: Set(source_id),
            field_id: Set(d.field_id),
            record_key: Set(d.record_key.chars().take(500).collect()),
            kind: Set(d.kind.as_str().to_owned()),
            value: Set(d.value.clone()),
            created_at: Set(at),
        })
        .collect();
    found_identity::Entity::insert_many(rows).exec(conn).await?;
    Ok(adopted)
}

/// Whether a source with `fields` must be searched (again) for `identity`: it has
/// an identifying field of the identity's type other than the one the identity was
/// read from (searching that field for its own value finds the same record).
pub(crate) fn concerns(
    fields: &[data_field::Model],
    kind: IdentityType,
    read_from: Option<Uuid>,
) -> bool {
    fields
        .iter()
        .any(|f| identity_type(f) == Some(kind) && Some(f.id) != read_from)
}

impl Workflow {
    /// The identities found on the way for each of `ids`, oldest first.
    pub async fn found_identities_of_requests(
        &self,
        principal: &Principal,
        ids: &[Uuid],
    ) -> Result<Vec<FoundIdentityView>> {
        found_identity::Entity::find()
            .filter(found_identity::Column::OrgId.eq(principal.org_id))
            .filter(found_identity::Column::RequestId.is_in(ids.iter().copied()))
            .order_by_asc(found_identity::Column::CreatedAt)
            .order_by_asc(found_identity::Column::Id)
            .all(self.store.conn())
            .await?
            .into_iter()
            .map(|f| {
                Ok(FoundIdentityView {
                    request_id: f.request_id,
                    kind: f.kind.parse()?,
                    value: f.value,
                    source_id: f.source_id,
                    record_key: f.record_key,
                    field_id: f.field_id,
                    found_at: f.created_at,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collection::leaks::LeakKind;
    use crate::connectors::FoundValue;

    fn field(id: u128, kind: Option<IdentityType>) -> data_field::Model {
        data_field::Model {
            id: Uuid::from_u128(id),
            org_id: Uuid::nil(),
            source_id: Uuid::nil(),
            location: format!("t.c{id}"),
            description: None,
            data_category_id: None,
            identifies_subject: kind.is_some(),
            identity_type: kind.map(|k| k.as_str().to_owned()),
            references_id: None,
            erasure_strategy: "SET_NULL".into(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    fn record(key: &str, values: &[(u128, &str)]) -> Found {
        Found {
            key: key.into(),
            values: values
                .iter()
                .map(|(f, v)| FoundValue {
                    field_id: Uuid::from_u128(*f),
                    value: (*v).into(),
                })
                .collect(),
            flags: Vec::new(),
        }
    }

    /// What a worker prepares beside its transaction is what the finish would have
    /// worked out itself: each value of a mapped field sealed in place (values of
    /// no field are not sealed, they are not stored), and the readings give the
    /// same canonical spellings as reading the value then.
    #[test]
    fn values_are_sealed_and_read_ahead_as_the_finish_would() {
        let cipher =
            crate::core::crypto::Cipher::from_base64(&crate::core::crypto::Cipher::generate_key())
                .expect("a fresh key");
        let region = identity::PhoneRegion::default();
        let mut phone = field(4, Some(IdentityType::Phone));
        phone.identifies_subject = false;
        let fields = [field(1, Some(IdentityType::Email)), field(3, None), phone];
        let found = vec![
            record(
                "customers(id=1)",
                &[
                    (1, "Anna@Example.com"),
                    (9, "not mapped"),
                    (4, "030 1234567"),
                ],
            ),
            record("orders(id=7)", &[(3, "Lieferung an anna@example.com")]),
        ];
        let ahead =
            crate::collection::Ahead::of(&cipher, &fields, region, found.clone()).expect("sealed");
        assert_eq!(ahead.found, found);
        let opened: Vec<Vec<Option<String>>> = ahead
            .sealed
            .iter()
            .map(|r| {
                r.iter()
                    .map(|s| {
                        s.as_ref().map(|s| {
                            String::from_utf8(cipher.decrypt(s).expect("opens")).expect("utf-8")
                        })
                    })
                    .collect()
            })
            .collect();
        assert_eq!(
            opened,
            [
                vec![
                    Some("Anna@Example.com".to_owned()),
                    None,
                    Some("030 1234567".to_owned())
                ],
                vec![Some("Lieferung an anna@example.com".to_owned())],
            ]
        );
        for (kind, value) in [
            (IdentityType::Email, "Anna@Example.com"),
            (IdentityType::Phone, "030 1234567"),
            (IdentityType::Email, "never read ahead@example.com"),
        ] {
            assert_eq!(
                ahead.readings.canonical(kind, value, region),
                crate::collection::leaks::canonical(kind, value, region),
                "{value}"
            );
        }
        assert_eq!(
            ahead
                .readings
                .canonical(IdentityType::Phone, "030 1234567", region),
            Some("+49301234567".to_owned())
        );
    }

    #[test]
    fn identities_are_taken_only_from_records_that_name_the_requester() {
        let fields = [
            field(1, Some(IdentityType::Email)),
            field(2, Some(IdentityType::CustomerNumber)),
            field(3, None),
        ];
        let searched = [SearchIdentity {
            kind: IdentityType::Email,
            value: "anna@example.com".into(),
            as_given: None,
        }];
        let mut flagged = record("customers(id=9)", &[(1, "anna@example.com"), (2, "K-9")]);
        flagged
            .flags
            .push((LeakKind::SharedReference, "shared".into()));
        let found = [
            record(
                "customers(id=1)",
                &[
                    (1, "Anna@Example.com"),
                    (2, " K-1 "),
                    (3, "K-77 in free text"),
                ],
            ),
            // Reached through a reference, not by an identity: somebody else's number.
            record("customers(id=2)", &[(2, "K-2")]),
            flagged,
            // The same number twice is taken once.
            record("accounts(id=5)", &[(1, "anna@example.com"), (2, "K-1")]),
        ];
        let got = discover(
            &found,
            &fields,
            &searched,
            identity::PhoneRegion::default(),
            &crate::collection::leaks::Readings::default(),
        );
        assert_eq!(
            got,
            [Discovered {
                field_id: Uuid::from_u128(2),
                record_key: "customers(id=1)".into(),
                kind: IdentityType::CustomerNumber,
                value: "K-1".into(),
            }]
        );
    }

    #[test]
    fn a_source_is_searched_again_only_through_another_identifying_field() {
        let fields = [
            field(1, Some(IdentityType::Email)),
            field(2, Some(IdentityType::CustomerNumber)),
        ];
        assert!(!concerns(
            &fields,
            IdentityType::CustomerNumber,
            Some(Uuid::from_u128(2))
        ));
        assert!(concerns(&fields, IdentityType::CustomerNumber, None));
        assert!(concerns(
            &fields,
            IdentityType::CustomerNumber,
            Some(Uuid::from_u128(7))
        ));
        assert!(!concerns(&fields, IdentityType::Phone, None));
    }
}
