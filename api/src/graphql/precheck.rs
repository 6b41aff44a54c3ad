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
//!
//! `node(id:)` and `nodes(ids:)` return the `Node` interface, whose fields count under
//! every type behind it; but the IDs say which types they fetch. Where every ID of
//! such a field can be read (a literal or a variable), the fields selected on `Node`
//! itself count only under those types, and the run checks that each fetched object
//! is of the type its ID was read as ([`NodeTypes`]).

use std::collections::{HashMap, HashSet};

use async_graphql::Variables;
use async_graphql::parser::types::{
    BaseType, DocumentOperations, ExecutableDocument, Field, OperationDefinition, OperationType,
    Selection, SelectionSet, Type, TypeKind, TypeSystemDefinition,
};
use async_graphql_value::{ConstValue, Value};

use crate::permissions::{Rule, rule_for};

/// Fields that reach outside the database (a live connection to a data source). A
/// query whose run in advance reports an error runs again field by field; these
/// fields must not do their work twice, so a query selecting one runs field by field
/// from the start. A new field that connects to anything but the store belongs here.
pub const REACHES_OUTSIDE: &[(&str, &str)] = &[("Query", "inspectSource")];

/// What a query needs to run in advance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Needs {
    /// The rules of every field it selects, each once.
    pub rules: Vec<Rule>,
    /// The type each ID given to `node` or `nodes` was read as (empty where the query
    /// fetches nothing through them, or its IDs could not all be read).
    pub node_types: NodeTypes,
}

/// Per-request data of a run decided in advance: the type each ID given to `node` or
/// `nodes` was read as. Those resolvers refuse an object of any other type (the run
/// then reports an error and the query runs again field by field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeTypes(HashMap<String, String>);

impl NodeTypes {
    /// Whether no ID was read (the run checks nothing).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The type `id` was read as.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.0.get(id).map(String::as_str)
    }

    /// Whether `id` may resolve to an object of `type_name` in this run.
    pub fn allows(&self, id: &str, type_name: &str) -> bool {
        self.get(id) == Some(type_name)
    }
}

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
    /// counts, which can only ask for more than the query needs. `variables` are read
    /// for the IDs of `node` and `nodes` only.
    pub fn rules(
        &self,
        document: &ExecutableDocument,
        operation_name: Option<&str>,
        variables: &Variables,
    ) -> Option<Needs> {
        let operation = operation(document, operation_name)?;
        if operation.ty != OperationType::Query {
            return None;
        }
        let walk = |narrow| {
            let mut walk = Walk {
                types: self,
                document,
                variables,
                narrow,
                unreadable_ids: false,
                rules: Vec::new(),
                node_types: NodeTypes::default(),
                fragments_seen: HashSet::new(),
            };
            walk.selections(&operation.selection_set.node, "Query", None)?;
            Some(walk)
        };
        let mut done = walk(true)?;
        // All or nothing: a run that checks the types of some IDs would refuse the
        // objects of the others.
        if done.unreadable_ids {
            done = walk(false)?;
        }
        Some(Needs {
            rules: done.rules,
            node_types: done.node_types,
        })
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
    variables: &'a Variables,
    /// Whether the fields selected on what `node`/`nodes` return count only under the
    /// types their IDs name.
    narrow: bool,
    /// Some ID given to `node` or `nodes` could not be read.
    unreadable_ids: bool,
    rules: Vec<Rule>,
    node_types: NodeTypes,
    /// Fragments already walked, with the types their interface stood for: each adds
    /// nothing the second time in the same place, and a cycle (which validation
    /// refuses later) ends here.
    fragments_seen: HashSet<(&'a str, Option<Vec<String>>)>,
}

impl<'a> Walk<'a> {
    /// Walks `set`, selected on `parent`; `only`, where given, lists the object types
    /// the interface `parent` stands for here.
    fn selections(
        &mut self,
        set: &'a SelectionSet,
        parent: &'a str,
        only: Option<&[String]>,
    ) -> Option<()> {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    // `__typename` is on every type; introspection is public.
                    if matches!(name, "__typename" | "__schema" | "__type") {
                        continue;
                    }
                    self.field(parent, name, only)?;
                    let children = &field.node.selection_set.node;
                    if !children.items.is_empty() {
                        let returns = self.types.fields.get(parent)?.get(name)?;
                        let fetched = match (parent, name) {
                            ("Query", "node" | "nodes") if self.narrow => {
                                self.fetched_types(&field.node)
                            }
                            _ => None,
                        };
                        self.selections(children, returns, fetched.as_deref())?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let on = match &fragment.node.type_condition {
                        Some(condition) => condition.node.on.node.as_str(),
                        None => parent,
                    };
                    let only = only.filter(|_| on == parent);
                    self.selections(&fragment.node.selection_set.node, on, only)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let fragment = &self
                        .document
                        .fragments
                        .iter()
                        .find(|(n, _)| n.as_str() == name)?
                        .1
                        .node;
                    let on = fragment.type_condition.node.on.node.as_str();
                    let only = only.filter(|_| on == parent);
                    if !self
                        .fragments_seen
                        .insert((name, only.map(<[String]>::to_vec)))
                    {
                        continue;
                    }
                    self.selections(&fragment.selection_set.node, on, only)?;
                }
            }
        }
        Some(())
    }

    /// The object types the IDs given to `node` (`id`) or `nodes` (`ids`) name, noted
    /// in `node_types`; `None` (and `unreadable_ids`) where one cannot be read or names
    /// no type behind `Node`.
    fn fetched_types(&mut self, field: &Field) -> Option<Vec<String>> {
        let found = (|| {
            let argument = match field.name.node.as_str() {
                "node" => "id",
                _ => "ids",
            };
            let value = match &field.get_argument(argument)?.node {
                Value::Variable(name) => self.variables.get(name)?.clone(),
                literal => literal.clone().into_const()?,
            };
            let ids = match value {
                ConstValue::String(id) => vec![id],
                ConstValue::List(ids) => ids
                    .into_iter()
                    .map(|id| match id {
                        ConstValue::String(id) => Some(id),
                        _ => None,
                    })
                    .collect::<Option<Vec<_>>>()?,
                _ => return None,
            };
            let behind_node = self.types.possible.get("Node")?;
            let mut types = Vec::new();
            for id in ids {
                let type_name = crate::graphql::ids::node_type(&id)?;
                if !behind_node.contains(&type_name) {
                    return None;
                }
                if !types.contains(&type_name) {
                    types.push(type_name.clone());
                }
                self.node_types.0.insert(id, type_name);
            }
            types.sort();
            Some(types)
        })();
        if found.is_none() {
            self.unreadable_ids = true;
        }
        found
    }

    /// Adds the rule of `parent.name`, or of the field under every object type that
    /// can stand in for an interface (those of `only`, where given).
    fn field(&mut self, parent: &str, name: &str, only: Option<&[String]>) -> Option<()> {
        match self.types.possible.get(parent) {
            Some(objects) => {
                for object in objects {
                    if only.is_none_or(|only| only.contains(object)) {
                        self.add(object, name)?;
                    }
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
        needs(query, operation, serde_json::json!({})).map(|n| n.rules)
    }

    fn needs(query: &str, operation: Option<&str>, variables: serde_json::Value) -> Option<Needs> {
        let types = SelectedFields::from_sdl(&crate::graphql::schema_sdl());
        let document = async_graphql::parser::parse_query(query).unwrap();
        types.rules(&document, operation, &Variables::from_json(variables))
    }

    fn id(type_name: &str) -> String {
        crate::graphql::ids::global_id(type_name, uuid::Uuid::from_u128(7)).0
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
    fn the_ids_given_to_node_narrow_its_interface_fields() {
        let activity = id("ProcessingActivity");
        let event = id("AuditEvent");
        let needed = needs(
            &format!(r#"{{ node(id: "{activity}") {{ id }} }}"#),
            None,
            serde_json::json!({}),
        )
        .unwrap();
        // `Query.node` needs a caller; `id` on an activity the register's permission.
        assert_eq!(
            needed.rules,
            vec![Authenticated, Allow(Object::Register, Action::Read)]
        );
        assert_eq!(needed.node_types.get(&activity), Some("ProcessingActivity"));

        // From a variable, several types, the dispatch proof's own ID prefix.
        let dispatch = id("Dispatch");
        let needed = needs(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            None,
            serde_json::json!({"ids": [activity, event, dispatch]}),
        )
        .unwrap();
        assert_eq!(needed.node_types.get(&dispatch), Some("DispatchProof"));
        for rule in [
            Allow(Object::Register, Action::Read),
            Allow(Object::AuditEvent, Action::Read),
            Allow(Object::Request, Action::Read),
        ] {
            assert!(needed.rules.contains(&rule), "{rule:?} in {needed:?}");
        }
        assert!(
            !needed.rules.contains(&Allow(Object::Consent, Action::Read)),
            "{needed:?}"
        );

        // One fragment in two places counts in both.
        let needed = needs(
            &format!(
                r#"{{ a: node(id: "{activity}") {{ ...F }} b: node(id: "{event}") {{ ...F ... on Node {{ id }} }} }}
                fragment F on Node {{ id }}"#
            ),
            None,
            serde_json::json!({}),
        )
        .unwrap();
        assert!(
            needed
                .rules
                .contains(&Allow(Object::AuditEvent, Action::Read)),
            "{needed:?}"
        );

        // An ID that cannot be read (malformed, a missing variable, a type that is not
        // a node) undoes the narrowing everywhere: all types count, none is checked.
        for (query, vars) in [
            (
                format!(r#"{{ a: node(id: "{activity}") {{ id }} b: node(id: "x") {{ id }} }}"#),
                serde_json::json!({}),
            ),
            (
                format!(
                    r#"query($id: ID!) {{ a: node(id: "{activity}") {{ id }} b: node(id: $id) {{ id }} }}"#
                ),
                serde_json::json!({}),
            ),
            (
                format!(
                    r#"{{ nodes(ids: ["{activity}", "{}"]) {{ id }} }}"#,
                    id("Me")
                ),
                serde_json::json!({}),
            ),
        ] {
            let needed = needs(&query, None, vars).unwrap();
            assert!(needed.node_types.is_empty(), "{query}: {needed:?}");
            assert!(
                needed.rules.contains(&Allow(Object::Consent, Action::Read)),
                "{query}: {needed:?}"
            );
        }
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
