//! Field permissions decided before a query runs.
//!
//! [`crate::permissions::Authorization`] enforces the permission table field by field,
//! through the schema's extension. With any extension installed, async-graphql leaves
//! its fast path for every field and every list item of a response: it builds a
//! `ResolveInfo`, looks the field up in its registry, formats list type names and
//! boxes the hook's future. On a nested register page that is thousands of values.
//!
//! Which fields a query can reach is known from its document alone, and most queries
//! select only fields their caller may read. So [`crate::graphql::Executor`] asks
//! [`SelectedFields::rules`] for the rules of every field the operation selects
//! (fragments expanded, a field of an interface under each type that implements it);
//! when the caller holds all of them, the query runs on a schema without the
//! extension. Everything else runs through the full pipeline as before.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, OperationDefinition, OperationType,
    Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};

use crate::permissions::{Rule, rule_for};

/// Fields that reach outside the database (a live connection to a data source). A
/// query whose run in advance reports an error runs again field by field; these
/// fields must not do their work twice, so a query selecting one runs field by field
/// from the start. A new field that connects to anything but the store belongs here.
pub const REACHES_OUTSIDE: &[(&str, &str)] = &[("Query", "inspectSource")];

/// The schema's output types, as the walk over a document needs them.
#[derive(Debug, Default)]
pub struct SelectedFields {
    /// Object and interface types: each field's name and the named type it returns.
    fields: HashMap<String, HashMap<String, String>>,
    /// Interface and union types: the object types that can stand in their place.
    possible: HashMap<String, Vec<String>>,
}

impl SelectedFields {
    /// Reads the types from the schema's SDL. An SDL that does not parse (never: it
    /// comes from the schema) gives an empty map, which decides nothing in advance.
    pub fn from_sdl(sdl: &str) -> Self {
        let mut this = Self::default();
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            tracing::error!(
                "the schema's own SDL does not parse; every field is checked as it resolves"
            );
            return this;
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let name = definition.node.name.node.to_string();
            let (fields, implements) = match definition.node.kind {
                TypeKind::Object(object) => (object.fields, object.implements),
                TypeKind::Interface(interface) => (interface.fields, interface.implements),
                TypeKind::Union(union) => {
                    let members = union.members.iter().map(|m| m.node.to_string());
                    this.possible.entry(name).or_default().extend(members);
                    continue;
                }
                _ => continue,
            };
            for interface in implements {
                this.possible
                    .entry(interface.node.to_string())
                    .or_default()
                    .push(name.clone());
            }
            let fields = fields
                .into_iter()
                .map(|f| (f.node.name.node.to_string(), named(&f.node.ty.node)))
                .collect();
            this.fields.insert(name, fields);
        }
        // An interface implemented by interfaces lists only the object types.
        let objects: HashSet<String> = this
            .fields
            .keys()
            .filter(|t| !this.possible.contains_key(*t))
            .cloned()
            .collect();
        for types in this.possible.values_mut() {
            types.retain(|t| objects.contains(t));
        }
        this
    }

    /// The rules of every field the query `operation_name` of `document` selects, each
    /// once, or `None` where they cannot be known in advance: a mutation or a
    /// subscription (their failures are audited as they happen), an operation that
    /// is not in the document, a type or field the schema does not have, a field with
    /// no rule. `@skip` and `@include` are not evaluated: a field they leave out still
    /// counts, which can only ask for more than the query needs.
    pub fn rules(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
    ) -> Option<Vec<Rule>> {
        let operation = operation(document, operation_name)?;
        if operation.ty != OperationType::Query {
            return None;
        }
        let mut walk = Walk {
            types: self,
            document,
            rules: Vec::new(),
            fragments_seen: HashSet::new(),
        };
        walk.selections(&operation.selection_set.node, "Query")?;
        Some(walk.rules)
    }
}

/// The operation async-graphql will run (same choice as its own `prepare_request`).
fn operation<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), None) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => operations
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, operation)| &operation.node),
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        _ => None,
    }
}

/// The named type under any list and non-null wrappers.
fn named(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => named(inner),
    }
}

/// One walk over an operation's selections.
struct Walk<'a> {
    types: &'a SelectedFields,
    document: &'a ExecutableDocument,
    rules: Vec<Rule>,
    /// Fragments already walked: each adds nothing the second time, and a cycle (which
    /// validation refuses later) ends here.
    fragments_seen: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn selections(&mut self, set: &'a SelectionSet, parent: &'a str) -> Option<()> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    // `__typename` is on every type; introspection is public.
                    if matches!(name, "__typename" | "__schema" | "__type") {
                        continue;
                    }
                    self.field(parent, name)?;
                    let children = &field.node.selection_set.node;
                    if !children.items.is_empty() {
                        let returns = self.types.fields.get(parent)?.get(name)?;
                        self.selections(children, returns)?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = match &fragment.node.type_condition {
                        Some(condition) => condition.node.on.node.as_str(),
                        None => parent,
                    };
                    self.selections(&fragment.node.selection_set.node, on)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if !self.fragments_seen.insert(name) {
                        continue;
                    }
                    let fragment = &self
                        .document
                        .fragments
                        .iter()
                        .find(|(n, _)| n.as_str() == name)?
                        .1
                        .node;
                    let on = fragment.type_condition.node.on.node.as_str();
                    self.selections(&fragment.selection_set.node, on)?;
                }
            }
        }
        Some(())
    }

    /// Adds the rule of `parent.name`, or of the field under every object type that
    /// can stand in for an interface.
    fn field(&mut self, parent: &str, name: &str) -> Option<()> {
        match self.types.possible.get(parent) {
            Some(objects) => {
                for object in objects {
                    self.add(object, name)?;
                }
            }
            None => {
                self.types.fields.get(parent)?.get(name)?;
                self.add(parent, name)?;
            }
        }
        Some(())
    }

    fn add(&mut self, object: &str, name: &str) -> Option<()> {
        if REACHES_OUTSIDE.contains(&(object, name)) {
            return None;
        }
        let rule = rule_for(object, name)?;
        if !self.rules.contains(&rule) {
            self.rules.push(rule);
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permissions::Rule::*;
    use workflow::{Action, Object};

    fn rules(query: &str) -> Option<Vec<Rule>> {
        rules_named(query, None)
    }

    fn rules_named(query: &str, operation: Option<&str>) -> Option<Vec<Rule>> {
        let types = SelectedFields::from_sdl(&crate::graphql::schema_sdl());
        let document = async_graphql::parser::parse_query(query).unwrap();
        types.rules(&document, operation)
    }

    #[test]
    fn a_nested_query_needs_the_rules_of_every_field_it_selects() {
        let needed = rules(
            "{ processingActivities(first: 5) { nodes { id name purposes { id name } } } me { kind } }",
        )
        .unwrap();
        assert!(
            needed.contains(&Allow(Object::Register, Action::Read)),
            "{needed:?}"
        );
        assert!(needed.contains(&Authenticated), "{needed:?}");
        assert!(
            !needed.contains(&Allow(Object::Request, Action::Read)),
            "{needed:?}"
        );
    }

    #[test]
    fn fragments_and_aliases_are_followed() {
        let plain = rules("{ processingActivities { nodes { id purposes { name } } } }").unwrap();
        let fragmented = rules(
            "query { a: processingActivities { nodes { ...F } } }
             fragment F on ProcessingActivity { id ... on ProcessingActivity { purposes { ...P } } }
             fragment P on Purpose { name }",
        )
        .unwrap();
        assert_eq!(plain, fragmented);
    }

    #[test]
    fn an_interface_field_needs_the_rule_of_every_type_behind_it() {
        let needed = rules(r#"{ node(id: "x") { id } }"#).unwrap();
        // `Node.id` on an audit event needs the audit log's permission, on a request
        // the requests' one.
        assert!(
            needed.contains(&Allow(Object::AuditEvent, Action::Read)),
            "{needed:?}"
        );
        assert!(
            needed.contains(&Allow(Object::Request, Action::Read)),
            "{needed:?}"
        );
        // A type condition narrows it to that type.
        let narrowed = rules(r#"{ node(id: "x") { ... on ProcessingActivity { id } } }"#).unwrap();
        assert!(
            !narrowed.contains(&Allow(Object::AuditEvent, Action::Read)),
            "{narrowed:?}"
        );
    }

    #[test]
    fn what_cannot_be_decided_in_advance_gives_none() {
        // Mutations and subscriptions audit their failures as they happen.
        assert_eq!(rules("mutation { revokeApiKey(id: \"x\") { id } }"), None);
        assert_eq!(rules("subscription { auditEventAdded { id } }"), None);
        // Unknown fields and types are left to validation.
        assert_eq!(rules("{ nothingHere }"), None);
        assert_eq!(rules("{ me { nothingHere } }"), None);
        assert_eq!(rules("{ node(id: \"x\") { ... on Nothing { id } } }"), None);
        assert_eq!(rules("{ me { kind { deeper } } }"), None);
        // Several operations need a name that is one of them.
        let two = "query A { me { kind } } query B { me { kind } }";
        assert_eq!(rules_named(two, None), None);
        assert_eq!(rules_named(two, Some("C")), None);
        assert!(rules_named(two, Some("B")).is_some());
        // A fragment spread naming no fragment.
        assert_eq!(rules("{ me { ...Missing } }"), None);
        // A field that connects to a live source must not run twice.
        assert_eq!(
            rules("{ me { kind } inspectSource(id: \"x\") { inspectedAt } }"),
            None
        );
    }

    #[test]
    fn fields_reaching_outside_exist() {
        let types = SelectedFields::from_sdl(&crate::graphql::schema_sdl());
        for (object, field) in REACHES_OUTSIDE {
            assert!(
                types.fields[*object].contains_key(*field),
                "{object}.{field} is not in the schema"
            );
        }
    }

    #[test]
    fn fragment_cycles_end() {
        // Validation refuses the cycle later; the walk must end first.
        let needed = rules(
            "{ me { ...A } }
             fragment A on Me { kind ...B }
             fragment B on Me { name ...A }",
        );
        assert!(needed.is_some());
    }

    #[test]
    fn introspection_and_typename_need_nothing() {
        assert_eq!(
            rules("{ __typename __schema { types { name } } __type(name: \"Query\") { name } }"),
            Some(Vec::new())
        );
    }
}
