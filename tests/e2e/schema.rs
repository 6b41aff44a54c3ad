//! The schema as a contract: checked-in SDL, a permission decision for every field,
//! and a description for everything integrators read.

use serde_json::Value;

async fn introspect() -> Value {
    let schema = api::build_schema(api::SchemaLimits {
        max_depth: 64,
        max_complexity: 100_000,
        ..Default::default()
    });
    let query = r#"{ __schema { types { name kind description
        fields(includeDeprecated: true) { name description args { name description } }
        inputFields { name description }
        enumValues(includeDeprecated: true) { name description } } } }"#;
    let resp = schema.execute(query).await;
    assert!(resp.errors.is_empty(), "{:?}", resp.errors);
    resp.data.into_json().unwrap()
}

fn own_types(data: &Value) -> Vec<&Value> {
    data["__schema"]["types"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| {
            let name = t["name"].as_str().unwrap();
            let builtin_scalar = t["kind"] == "SCALAR"
                && ["String", "Int", "Float", "Boolean", "ID", "DateTime"].contains(&name);
            !name.starts_with("__") && !builtin_scalar
        })
        .collect()
}

#[test]
fn checked_in_schema_matches_the_served_schema() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    let served = api::schema_sdl();
    assert!(
        checked_in == served,
        "schema.graphql is stale: run `cargo run -- schema > schema.graphql` and commit it"
    );
}

/// Walks every field of every object and interface type and fails on any field
/// without a permission decision in `api::permissions::RULES`.
#[tokio::test]
async fn every_field_has_a_permission_decision() {
    let data = introspect().await;
    let mut missing = Vec::new();
    let mut checked = 0;
    for t in own_types(&data) {
        if !matches!(t["kind"].as_str(), Some("OBJECT" | "INTERFACE")) {
            continue;
        }
        let type_name = t["name"].as_str().unwrap();
        for f in t["fields"].as_array().unwrap() {
            let field = f["name"].as_str().unwrap();
            checked += 1;
            if api::permissions::rule_for(type_name, field).is_none() {
                missing.push(format!("{type_name}.{field}"));
            }
        }
    }
    assert!(checked > 50, "walked only {checked} fields");
    assert!(
        missing.is_empty(),
        "fields without a permission rule: {missing:?}"
    );
}

/// The permission table names no type that does not exist (stale entries hide gaps).
#[tokio::test]
async fn permission_table_names_only_existing_types_and_fields() {
    let data = introspect().await;
    let types = own_types(&data);
    for (type_name, field, _) in api::permissions::RULES {
        let t = types
            .iter()
            .find(|t| t["name"] == *type_name)
            .unwrap_or_else(|| panic!("RULES names unknown type {type_name}"));
        if *field != "*" {
            assert!(
                t["fields"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["name"] == *field),
                "RULES names unknown field {type_name}.{field}"
            );
        }
    }
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_is_documented() {
    let data = introspect().await;
    let mut undocumented = Vec::new();
    let blank = |v: &Value| v.as_str().is_none_or(|s| s.trim().is_empty());
    for t in own_types(&data) {
        let name = t["name"].as_str().unwrap();
        if blank(&t["description"]) {
            undocumented.push(format!("type {name}"));
        }
        for f in t["fields"].as_array().into_iter().flatten() {
            let field = f["name"].as_str().unwrap();
            if blank(&f["description"]) {
                undocumented.push(format!("field {name}.{field}"));
            }
            for a in f["args"].as_array().into_iter().flatten() {
                if blank(&a["description"]) {
                    undocumented.push(format!("argument {name}.{field}({})", a["name"]));
                }
            }
        }
        for f in t["inputFields"].as_array().into_iter().flatten() {
            if blank(&f["description"]) {
                undocumented.push(format!("input field {name}.{}", f["name"]));
            }
        }
        for v in t["enumValues"].as_array().into_iter().flatten() {
            if blank(&v["description"]) {
                undocumented.push(format!("enum value {name}.{}", v["name"]));
            }
        }
    }
    assert!(undocumented.is_empty(), "undocumented: {undocumented:#?}");
}
