//! Bounds on the work a GraphQL document may cause, checked before the expensive step.
//!
//! async-graphql's parser recurses once per nested list, object or selection set, and
//! its own depth and directive checks walk fragment spreads without memoization, so a
//! few kilobytes can overflow the stack or expand into 2^30 selections. The schema's
//! extension takes over the parse step for every operation (HTTP and WebSocket alike):
//!
//! 1. a linear lexical pre-scan bounds the document's size, token count and bracket
//!    nesting before the recursive parser sees it;
//! 2. after parsing, one memoized pass over the fragments bounds the selections, aliases
//!    and directives *after fragment expansion*, the selection depth, and the nesting
//!    of every literal value; variables are bounded the same way.
//!
//! Only then do validation (whose complexity and depth rules expand fragments) and
//! execution run, so their work is bounded by these numbers. Every refusal is a
//! `VALIDATION` error naming the limit in `extensions.limit`.

use std::collections::HashMap;

use async_graphql::parser::types::{
    Directive, ExecutableDocument, Selection, SelectionSet, VariableDefinition,
};
use async_graphql::parser::{Positioned, parse_query};
use async_graphql::{ErrorExtensions, Name, Pos, ServerError, ServerResult, Value, Variables};
use async_graphql_value::Value as Literal;

use workflow::ErrorCode;

/// Bounds on one GraphQL document and its variables.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    /// Longest document, in bytes.
    pub max_bytes: usize,
    /// Most lexical tokens (names, punctuators, literals) in a document.
    pub max_tokens: usize,
    /// Deepest nesting of `{`, `[` and `(` in the document text.
    pub max_nesting: usize,
    /// Deepest nesting of a literal or variable value (lists and objects).
    pub max_value_depth: usize,
    /// Most fields selected, counted after fragment expansion.
    pub max_fields: usize,
    /// Most aliased fields, counted after fragment expansion.
    pub max_aliases: usize,
    /// Most directives, counted after fragment expansion.
    pub max_directives: usize,
    /// Most `__schema` and `__type` selections, counted after fragment expansion (each
    /// answers with much of the schema: aliased, they amplify a small document into
    /// megabytes).
    pub max_introspection: usize,
}

impl Default for DocumentLimits {
    fn default() -> Self {
        Self {
            max_bytes: 100_000,
            max_tokens: 10_000,
            max_nesting: 64,
            max_value_depth: 32,
            max_fields: 2_000,
            max_aliases: 200,
            max_directives: 200,
            max_introspection: 4,
        }
    }
}

/// Enforces [`DocumentLimits`] and the selection depth in place of async-graphql's
/// parse step (run by the schema's extension, `Pipeline`).
#[derive(Debug, Clone, Copy)]
pub struct DocumentGuard {
    /// Bounds on the document.
    pub limits: DocumentLimits,
    /// Deepest nesting of selected fields, counted after fragment expansion.
    pub max_depth: usize,
}

impl DocumentGuard {
    /// The parsed document, or the refusal of the first limit it exceeds. Deliberately
    /// not async-graphql's parse step: that runs un-memoized recursive checks, which
    /// are what a fragment bomb exploits.
    pub fn parse(&self, query: &str, variables: &Variables) -> ServerResult<ExecutableDocument> {
        check_document(query, variables, &self.limits, self.max_depth)
    }
}

/// A refusal: `VALIDATION`, naming the limit and its value.
fn refuse(limit: &'static str, max: usize, message: String, pos: Option<Pos>) -> ServerError {
    let err = async_graphql::Error::new(message).extend_with(|_, e| {
        e.set("code", ErrorCode::Validation.as_str());
        e.set("limit", limit);
        e.set("max", max as u64);
    });
    match pos {
        Some(pos) => err.into_server_error(pos),
        None => crate::error::request_level(err),
    }
}

/// A lexing error found by the pre-scan: `VALIDATION`, like the parser's own errors.
fn syntax_error(message: &str, pos: Option<Pos>) -> ServerError {
    let err = async_graphql::Error::new(format!("syntax error: {message}"))
        .extend_with(|_, e| e.set("code", ErrorCode::Validation.as_str()));
    match pos {
        Some(pos) => err.into_server_error(pos),
        None => crate::error::request_level(err),
    }
}

/// Pre-scans, parses and measures `query`; the parsed document if it is within `limits`.
pub fn check_document(
    query: &str,
    variables: &Variables,
    limits: &DocumentLimits,
    max_depth: usize,
) -> ServerResult<ExecutableDocument> {
    if query.len() > limits.max_bytes {
        return Err(refuse(
            "maxBytes",
            limits.max_bytes,
            format!(
                "the document has {} bytes; at most {} are accepted",
                query.len(),
                limits.max_bytes
            ),
            None,
        ));
    }
    prescan(query, limits)?;
    let doc = parse_on_a_deep_stack(query)?;
    measure(&doc, limits, max_depth)?;
    for (name, value) in variables.iter() {
        if value_depth(value) > limits.max_value_depth {
            return Err(refuse(
                "maxValueDepth",
                limits.max_value_depth,
                format!(
                    "variable `${name}` nests deeper than {} levels",
                    limits.max_value_depth
                ),
                None,
            ));
        }
    }
    Ok(doc)
}

/// Stack of the thread the recursive parser runs on: deep enough for any nesting a
/// document of the size limit can hold in a release build (about 1.5 KB of stack per
/// level, so 100,000 bytes of brackets need ~150 MB), so that a disagreement between the pre-scan and the parser's grammar costs
/// a refusal, never the process.
const PARSER_STACK_BYTES: usize = 256 * 1024 * 1024;

/// Parses `query` on a thread with [`PARSER_STACK_BYTES`] of stack (reserved, touched
/// only as deep as the parse goes). Backstop only: the pre-scan has bounded the nesting.
fn parse_on_a_deep_stack(query: &str) -> ServerResult<ExecutableDocument> {
    std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("graphql-parse".into())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, || parse_query(query).map_err(ServerError::from))
            .map(|parser| parser.join())
    })
    .map_err(|e| ServerError::new(format!("the parser could not start: {e}"), None))?
    .unwrap_or_else(|_| Err(ServerError::new("the document could not be parsed", None)))
}

/// One linear pass over the text: token count and bracket nesting, without recursion.
fn prescan(query: &str, limits: &DocumentLimits) -> ServerResult<()> {
    let bytes = query.as_bytes();
    let (mut i, mut tokens, mut depth) = (0usize, 0usize, 0usize);
    let (mut line, mut line_start) = (1usize, 0usize);
    let pos = |i: usize, line: usize, line_start: usize| {
        Some(Pos {
            line,
            column: i - line_start + 1,
        })
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' | b'\r' => {
                // Line terminators are `\n`, `\r\n` and a lone `\r` (GraphQL spec).
                line += 1;
                i += if bytes[i..].starts_with(b"\r\n") {
                    2
                } else {
                    1
                };
                line_start = i;
                continue;
            }
            b' ' | b'\t' | b',' => {
                i += 1;
                continue;
            }
            b'#' => {
                // A comment ends at any line terminator, a lone `\r` included: the
                // parser reads on after it, so this scan must too.
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        tokens += 1;
        if tokens > limits.max_tokens {
            return Err(refuse(
                "maxTokens",
                limits.max_tokens,
                format!("the document has more than {} tokens", limits.max_tokens),
                pos(i, line, line_start),
            ));
        }
        match b {
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > limits.max_nesting {
                    return Err(refuse(
                        "maxNesting",
                        limits.max_nesting,
                        format!(
                            "the document nests `{{`, `[` and `(` deeper than {} levels",
                            limits.max_nesting
                        ),
                        pos(i, line, line_start),
                    ));
                }
                i += 1;
            }
            b'}' | b']' | b')' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                // Block string: ends at an unescaped `"""`. An unclosed one is refused:
                // the parser would backtrack and read it as `""` and a string, and go on
                // to parse what this scan took for string content.
                let start = pos(i, line, line_start);
                i += 3;
                let mut closed = false;
                while i < bytes.len() {
                    if bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                    } else if bytes[i..].starts_with(b"\"\"\"") {
                        i += 3;
                        closed = true;
                        break;
                    } else {
                        if bytes[i] == b'\n' {
                            line += 1;
                            line_start = i + 1;
                        }
                        i += 1;
                    }
                }
                if !closed {
                    return Err(syntax_error("a block string `\"\"\"` is not closed", start));
                }
            }
            b'"' => {
                // A string ends at its quote; one that meets a line terminator or the
                // end first is refused (a lexing error by the spec).
                let start = pos(i, line, line_start);
                i += 1;
                loop {
                    match bytes.get(i) {
                        Some(b'"') => {
                            i += 1;
                            break;
                        }
                        None | Some(b'\n' | b'\r') => {
                            return Err(syntax_error("a string is not closed on its line", start));
                        }
                        Some(b'\\') if matches!(bytes.get(i + 1), None | Some(b'\n' | b'\r')) => {
                            return Err(syntax_error("a string is not closed on its line", start));
                        }
                        Some(b'\\') => i += 2,
                        Some(_) => i += 1,
                    }
                }
            }
            b'.' if bytes[i..].starts_with(b"...") => i += 3,
            c if c.is_ascii_alphanumeric() || c == b'_' || c == b'-' || c == b'.' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || b"_-+.".contains(&bytes[i]))
                {
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

/// What a selection set costs once its fragment spreads are expanded.
#[derive(Debug, Clone, Copy, Default)]
struct Cost {
    fields: u64,
    aliases: u64,
    directives: u64,
    introspection: u64,
    depth: u64,
}

impl Cost {
    fn add(&mut self, other: Cost) {
        self.fields = self.fields.saturating_add(other.fields);
        self.aliases = self.aliases.saturating_add(other.aliases);
        self.directives = self.directives.saturating_add(other.directives);
        self.introspection = self.introspection.saturating_add(other.introspection);
        self.depth = self.depth.max(other.depth);
    }
}

enum Memo {
    InProgress,
    Done(Cost),
}

/// Memoized expansion: each fragment is measured once, so the pass is linear in the
/// document however often fragments spread one another.
struct Measure<'a> {
    doc: &'a ExecutableDocument,
    limits: &'a DocumentLimits,
    fragments: HashMap<&'a Name, Memo>,
}

impl<'a> Measure<'a> {
    fn selection_set(&mut self, set: &'a Positioned<SelectionSet>) -> ServerResult<Cost> {
        let mut cost = Cost::default();
        for selection in &set.node.items {
            cost.directives = cost
                .directives
                .saturating_add(selection.node.directives().len() as u64);
            self.directive_values(selection.node.directives())?;
            match &selection.node {
                Selection::Field(field) => {
                    for (_, value) in &field.node.arguments {
                        self.literal(&value.node, value.pos)?;
                    }
                    let mut inner = self.selection_set(&field.node.selection_set)?;
                    inner.fields = inner.fields.saturating_add(1);
                    inner.aliases = inner
                        .aliases
                        .saturating_add(u64::from(field.node.alias.is_some()));
                    inner.introspection = inner.introspection.saturating_add(u64::from(matches!(
                        field.node.name.node.as_str(),
                        "__schema" | "__type"
                    )));
                    inner.depth += 1;
                    cost.add(inner);
                }
                Selection::InlineFragment(inline) => {
                    cost.add(self.selection_set(&inline.node.selection_set)?);
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    match self.fragments.get(name) {
                        Some(Memo::Done(c)) => cost.add(*c),
                        Some(Memo::InProgress) => {
                            return Err(ServerError::new(
                                format!("fragment `{name}` spreads itself"),
                                Some(spread.pos),
                            ));
                        }
                        None => {
                            // An unknown fragment is reported by validation.
                            if let Some(fragment) = self.doc.fragments.get(name) {
                                self.fragments.insert(name, Memo::InProgress);
                                self.directive_values(&fragment.node.directives)?;
                                let c = self.selection_set(&fragment.node.selection_set)?;
                                self.fragments.insert(name, Memo::Done(c));
                                cost.add(c);
                            }
                        }
                    }
                }
            }
        }
        Ok(cost)
    }

    fn directive_values(&self, directives: &'a [Positioned<Directive>]) -> ServerResult<()> {
        for directive in directives {
            for (_, value) in &directive.node.arguments {
                self.literal(&value.node, value.pos)?;
            }
        }
        Ok(())
    }

    fn literal(&self, value: &Literal, pos: Pos) -> ServerResult<()> {
        if literal_depth(value) > self.limits.max_value_depth {
            return Err(refuse(
                "maxValueDepth",
                self.limits.max_value_depth,
                format!(
                    "a value nests deeper than {} levels",
                    self.limits.max_value_depth
                ),
                Some(pos),
            ));
        }
        Ok(())
    }

    fn variable_defaults(
        &self,
        definitions: &'a [Positioned<VariableDefinition>],
    ) -> ServerResult<()> {
        for definition in definitions {
            if let Some(default) = &definition.node.default_value
                && value_depth(&default.node) > self.limits.max_value_depth
            {
                return Err(refuse(
                    "maxValueDepth",
                    self.limits.max_value_depth,
                    format!(
                        "the default of `${}` nests deeper than {} levels",
                        definition.node.name.node, self.limits.max_value_depth
                    ),
                    Some(default.pos),
                ));
            }
        }
        Ok(())
    }
}

/// Measures every operation and fragment of `doc` against `limits`.
fn measure(
    doc: &ExecutableDocument,
    limits: &DocumentLimits,
    max_depth: usize,
) -> ServerResult<()> {
    let mut m = Measure {
        doc,
        limits,
        fragments: HashMap::new(),
    };
    let mut total = Cost::default();
    for (_, operation) in doc.operations.iter() {
        m.variable_defaults(&operation.node.variable_definitions)?;
        m.directive_values(&operation.node.directives)?;
        total.add(m.selection_set(&operation.node.selection_set)?);
        total.directives = total
            .directives
            .saturating_add(operation.node.directives.len() as u64);
    }
    // Fragments no operation spreads are still validated: measure them too.
    for (name, fragment) in &doc.fragments {
        if !m.fragments.contains_key(name) {
            m.fragments.insert(name, Memo::InProgress);
            let c = m.selection_set(&fragment.node.selection_set)?;
            m.fragments.insert(name, Memo::Done(c));
            total.add(c);
        }
    }
    let checks = [
        ("maxFields", limits.max_fields, total.fields, "fields"),
        ("maxAliases", limits.max_aliases, total.aliases, "aliases"),
        (
            "maxDirectives",
            limits.max_directives,
            total.directives,
            "directives",
        ),
        (
            "maxIntrospection",
            limits.max_introspection,
            total.introspection,
            "`__schema` and `__type` selections",
        ),
    ];
    for (limit, max, found, what) in checks {
        if found > max as u64 {
            return Err(refuse(
                limit,
                max,
                format!(
                    "the document selects {found} {what} after fragment expansion; at most {max} are accepted"
                ),
                None,
            ));
        }
    }
    if total.depth > max_depth as u64 {
        return Err(refuse(
            "maxDepth",
            max_depth,
            format!(
                "the document nests fields {} deep; at most {max_depth} are accepted",
                total.depth
            ),
            None,
        ));
    }
    Ok(())
}

/// Nesting of a literal (lists and objects; variables count as leaves), iteratively.
fn literal_depth(value: &Literal) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Literal::List(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Literal::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    deepest
}

/// Nesting of a constant value (lists and objects), iteratively.
fn value_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((v, d)) = stack.pop() {
        deepest = deepest.max(d);
        match v {
            Value::List(items) => stack.extend(items.iter().map(|i| (i, d + 1))),
            Value::Object(map) => stack.extend(map.values().map(|i| (i, d + 1))),
            _ => {}
        }
    }
    deepest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str) -> ServerResult<ExecutableDocument> {
        check_document(query, &Variables::default(), &DocumentLimits::default(), 12)
    }

    fn limit_of(err: ServerError) -> String {
        let ext = err.extensions.expect("a coded refusal");
        let v = ext.get("limit").cloned().expect("names its limit");
        match v {
            Value::String(s) => s,
            other => panic!("limit is not a string: {other:?}"),
        }
    }

    #[test]
    fn the_parser_survives_nesting_the_pre_scan_would_refuse() {
        // The backstop alone (no pre-scan): 5,000 levels overflow an ordinary 2 MiB
        // stack (release needs ~1.5 KB a level, this debug build ~13 KB).
        let q = format!(
            "{{ __typename @include(if: {}true{}) }}",
            "[".repeat(5_000),
            "]".repeat(5_000)
        );
        assert!(parse_on_a_deep_stack(&q).is_ok());
    }

    #[test]
    fn ordinary_documents_pass() {
        check("{ me { apiKeyName roles } }").unwrap();
        check(
            "query Q($f: Boolean = true) { a: me @include(if: $f) { ...K } } fragment K on Me { roles }",
        )
        .unwrap();
        check("# only a comment\n{ __typename }").unwrap();
        check(r#"{ __type(name: """block "" string""") { name } }"#).unwrap();
    }

    #[test]
    fn deep_list_literals_are_refused_before_parsing() {
        let depth = 2_000;
        let q = format!(
            "{{ __typename @include(if: {}true{}) }}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        assert_eq!(limit_of(check(&q).unwrap_err()), "maxNesting");
    }

    #[test]
    fn a_lone_carriage_return_ends_comments_and_strings_as_for_the_parser() {
        for (prefix, depth) in [("#\r", 2_000), ("# x\r", 2_000), ("#\r\n", 2_000)] {
            let q = format!(
                "{prefix}{{ __typename @include(if: {}true{}) }}",
                "[".repeat(depth),
                "]".repeat(depth)
            );
            assert_eq!(limit_of(check(&q).unwrap_err()), "maxNesting", "{prefix:?}");
        }
        check("# comment\r{ __typename }\r\n").unwrap();
    }

    #[test]
    fn unclosed_strings_are_refused_before_the_parser_reads_past_them() {
        // The parser reads an unclosed `"""` as `""` and a string, and parses on.
        for prefix in [
            "[\"\"\"x\" ",
            "[\"\"\"\" ",
            "[\"\"\" \" ",
            "[\"x\r",
            "[\"x\\\n",
        ] {
            let q = format!(
                "{{ __typename @include(if: {prefix}{}1{}]) }}",
                "[".repeat(2_000),
                "]".repeat(2_000)
            );
            let err = check(&q).unwrap_err();
            assert!(
                err.message.starts_with("syntax error"),
                "{prefix:?}: {}",
                err.message
            );
        }
        check(r#"{ __type(name: """a \""" b""") { name } }"#).unwrap();
    }

    #[test]
    fn introspection_cannot_be_multiplied_by_aliases() {
        check("{ __schema { types { name } } t: __type(name: \"Query\") { name } }").unwrap();
        let q: String = (0..5)
            .map(|i| format!("s{i}: __schema {{ types {{ name }} }} "))
            .collect();
        assert_eq!(
            limit_of(check(&format!("{{ {q} }}")).unwrap_err()),
            "maxIntrospection"
        );
    }

    #[test]
    fn brackets_inside_strings_and_comments_do_not_count() {
        let q = format!(
            "{{ __type(name: \"{}\") {{ name }} }} # {}",
            "[".repeat(500),
            "{".repeat(500)
        );
        check(&q).unwrap();
    }

    #[test]
    fn moderately_deep_values_are_measured_after_parsing() {
        let q = format!(
            "{{ __typename @include(if: {}true{}) }}",
            "[".repeat(40),
            "]".repeat(40)
        );
        assert_eq!(limit_of(check(&q).unwrap_err()), "maxValueDepth");
        let q = format!(
            "query($v: Boolean = {}true{}) {{ __typename }}",
            "[".repeat(40),
            "]".repeat(40)
        );
        assert_eq!(limit_of(check(&q).unwrap_err()), "maxValueDepth");
    }

    #[test]
    fn a_fragment_bomb_is_measured_in_linear_time_and_refused() {
        let mut q = String::from("{ ...F0 }\n");
        for i in 0..30 {
            q.push_str(&format!(
                "fragment F{i} on Query {{ ...F{n} ...F{n} }}\n",
                n = i + 1
            ));
        }
        q.push_str("fragment F30 on Query { __typename }\n");
        assert_eq!(limit_of(check(&q).unwrap_err()), "maxFields");
    }

    #[test]
    fn fragment_cycles_are_refused() {
        let err = check("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }")
            .unwrap_err();
        assert!(err.message.contains("spreads itself"), "{}", err.message);
    }

    #[test]
    fn aliases_directives_and_tokens_are_bounded() {
        let aliases: String = (0..300).map(|i| format!("a{i}: __typename ")).collect();
        assert_eq!(
            limit_of(check(&format!("{{ {aliases} }}")).unwrap_err()),
            "maxAliases"
        );
        let directives = "@include(if: true) ".repeat(300);
        assert_eq!(
            limit_of(check(&format!("{{ __typename {directives} }}")).unwrap_err()),
            "maxDirectives"
        );
        let tokens = "a ".repeat(11_000);
        assert_eq!(
            limit_of(check(&format!("{{ {tokens} }}")).unwrap_err()),
            "maxTokens"
        );
    }

    #[test]
    fn deep_variables_are_refused() {
        let mut value = serde_json::json!(true);
        for _ in 0..40 {
            value = serde_json::json!([value]);
        }
        let vars = Variables::from_json(serde_json::json!({ "v": value }));
        let err = check_document(
            "query($v: JSON) { __typename }",
            &vars,
            &DocumentLimits::default(),
            12,
        )
        .unwrap_err();
        assert_eq!(limit_of(err), "maxValueDepth");
    }
}
