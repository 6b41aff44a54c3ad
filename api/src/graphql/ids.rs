//! Opaque global IDs (Relay `Node`) and cursors.
//!
//! A global ID is base64url of `Type:uuid`; a cursor is base64url of `c:key`. Clients
//! must treat both as opaque strings.

use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;
use workflow::PageRequest;

use crate::error::{ApiError, ApiResult};

/// The global ID of a row of `type_name`.
pub fn global_id(type_name: &str, id: Uuid) -> ID {
    ID(workflow::core::links::global_id(type_name, id))
}

/// Splits a global ID into its type name and UUID; VALIDATION at `path` if malformed.
pub fn decode_any(id: &ID, path: &[&str]) -> ApiResult<(String, Uuid)> {
    workflow::core::links::parse_global_id(id.as_str())
        .ok_or_else(|| ApiError::invalid(path, "is not an ID issued by this API"))
}

/// The GraphQL type of the object a well-formed global ID names: the type name it
/// carries, except that a dispatch proof's IDs say `Dispatch`. Whether such an object
/// exists is not checked.
pub fn node_type(id: &str) -> Option<String> {
    let (type_name, _) = workflow::core::links::parse_global_id(id)?;
    Some(match type_name.as_str() {
        "Dispatch" => "DispatchProof".to_owned(),
        _ => type_name,
    })
}

/// Decodes a global ID that must be of `type_name`.
pub fn decode(id: &ID, type_name: &str, path: &[&str]) -> ApiResult<Uuid> {
    let (actual, uuid) = decode_any(id, path)?;
    if actual != type_name {
        return Err(ApiError::invalid(
            path,
            format!("is the ID of a {actual}, expected a {type_name}"),
        ));
    }
    Ok(uuid)
}

/// Decodes the global ID of someone work can be given to: a Person or an ApiKey.
pub fn decode_assignable(id: &ID, path: &[&str]) -> ApiResult<Uuid> {
    match decode_any(id, path)? {
        (kind, uuid) if kind == "ApiKey" || kind == "Person" => Ok(uuid),
        (kind, _) => Err(ApiError::invalid(
            path,
            format!("is the ID of a {kind}, expected a Person or an ApiKey"),
        )),
    }
}

/// The cursor of an item with this key.
pub fn cursor(key: impl std::fmt::Display) -> String {
    URL_SAFE_NO_PAD.encode(format!("c:{key}"))
}

fn decode_cursor<K: std::str::FromStr>(cursor: &str, arg: &str) -> ApiResult<K> {
    let invalid = || ApiError::invalid(&[arg], "is not a cursor returned by this connection");
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    text.strip_prefix("c:")
        .ok_or_else(invalid)?
        .parse()
        .map_err(|_| invalid())
}

/// Converts Relay paging arguments.
pub fn page_request<K: std::str::FromStr>(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> ApiResult<PageRequest<K>> {
    Ok(PageRequest {
        first,
        after: after.map(|c| decode_cursor(&c, "after")).transpose()?,
        last,
        before: before.map(|c| decode_cursor(&c, "before")).transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn global_ids_round_trip_and_check_their_type() {
        let id = Uuid::now_v7();
        let gid = global_id("ApiKey", id);
        assert_eq!(decode(&gid, "ApiKey", &["id"]).unwrap(), id);
        let err = decode(&gid, "AuditEvent", &["id"]).unwrap_err();
        assert_eq!(err.code(), workflow::ErrorCode::Validation);
        assert!(decode(&ID("garbage".into()), "ApiKey", &["id"]).is_err());
    }

    #[test]
    fn an_object_has_one_id() {
        let id = Uuid::now_v7();
        let spelled = |uuid: String| ID(URL_SAFE_NO_PAD.encode(format!("ApiKey:{uuid}")));
        assert_eq!(
            decode(&spelled(id.to_string()), "ApiKey", &["id"]).unwrap(),
            id
        );
        for other in [
            id.simple().to_string(),
            id.braced().to_string(),
            id.urn().to_string(),
            id.to_string().to_uppercase(),
            format!(" {id}"),
        ] {
            assert!(
                decode(&spelled(other.clone()), "ApiKey", &["id"]).is_err(),
                "{other}"
            );
        }
        // "Person:<uuid>" is 43 bytes: base64 with padding ends in "==".
        let unpadded = global_id("Person", id);
        let padded = ID(base64::engine::general_purpose::URL_SAFE.encode(format!("Person:{id}")));
        assert_eq!(padded.as_str(), format!("{}==", unpadded.as_str()));
        assert_eq!(decode(&unpadded, "Person", &["id"]).unwrap(), id);
        assert!(decode(&padded, "Person", &["id"]).is_err());
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let req: PageRequest<i64> = page_request(Some(5), Some(cursor(42)), None, None).unwrap();
        assert_eq!(req.after, Some(42));
        assert!(page_request::<i64>(None, Some("nope".into()), None, None).is_err());
        assert!(page_request::<Uuid>(None, None, None, Some(cursor("x"))).is_err());
    }
}
