//! A YAML document as a tree of nodes that remember their byte span in the source.
//!
//! serde-based loaders stop at the first type error and forget where values came from; the
//! config checks need every node's position to label each problem, and need to keep going after
//! one. This module turns saphyr-parser's event stream into such a tree. It knows nothing about
//! webhooks.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span as YamlSpan};

mod explain;

/// A byte range in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

/// One node of the document.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Entries in file order; duplicates are kept so that the caller can report them.
    Map(Vec<(Node, Node)>),
}

/// A scalar with what is needed to resolve its type under the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    pub value: String,
    /// Plain (unquoted) scalars are resolved to null, bool, int or float when they look like one.
    pub plain: bool,
    /// A core-schema tag such as `!!str`, which forces the type (the parser refuses others).
    pub tag: Option<String>,
}

/// What a scalar means under the YAML 1.2 core schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScalarType {
    Null,
    Bool,
    Int,
    Float,
    Str,
}

impl Scalar {
    pub(crate) fn resolved_type(&self) -> ScalarType {
        match self.tag.as_deref() {
            Some("!!str") => return ScalarType::Str,
            Some("!!int") => return ScalarType::Int,
            Some("!!bool") => return ScalarType::Bool,
            Some("!!float") => return ScalarType::Float,
            Some("!!null") => return ScalarType::Null,
            _ => {}
        }
        if !self.plain {
            return ScalarType::Str;
        }
        resolve_plain(&self.value)
    }

    /// The value of an integer scalar (decimal, `0x` or `0o`), when it is one and fits.
    pub(crate) fn as_int(&self) -> Option<i64> {
        if self.resolved_type() != ScalarType::Int {
            return None;
        }
        let v = self.value.as_str();
        if let Some(hex) = v.strip_prefix("0x") {
            i64::from_str_radix(hex, 16).ok()
        } else if let Some(oct) = v.strip_prefix("0o") {
            i64::from_str_radix(oct, 8).ok()
        } else {
            v.parse().ok()
        }
    }
}

fn resolve_plain(v: &str) -> ScalarType {
    match v {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarType::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" => return ScalarType::Bool,
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => return ScalarType::Float,
        _ => {}
    }
    let digits = |s: &str, radix: u32| !s.is_empty() && s.chars().all(|c| c.is_digit(radix));
    if let Some(hex) = v.strip_prefix("0x") {
        if digits(hex, 16) {
            return ScalarType::Int;
        }
    }
    if let Some(oct) = v.strip_prefix("0o") {
        if digits(oct, 8) {
            return ScalarType::Int;
        }
    }
    let unsigned = v.strip_prefix(['-', '+']).unwrap_or(v);
    if digits(unsigned, 10) {
        return ScalarType::Int;
    }
    if is_float(unsigned) {
        return ScalarType::Float;
    }
    ScalarType::Str
}

/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`, sign already removed.
fn is_float(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => {
            (int.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit()))
                && !(int.is_empty() && frac.is_empty())
        }
        None => !mantissa.is_empty() && mantissa.chars().all(|c| c.is_ascii_digit()),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
    });
    mantissa_ok && exponent_ok
}

impl ScalarType {
    /// The type's name as a user reads it in "expected a string, found …".
    pub(crate) fn describe(self) -> &'static str {
        match self {
            ScalarType::Null => "nothing (null)",
            ScalarType::Bool => "a boolean",
            ScalarType::Int => "an integer",
            ScalarType::Float => "a number",
            ScalarType::Str => "a string",
        }
    }
}

impl Node {
    /// The node's type as a user reads it.
    pub(crate) fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Scalar(s) => s.resolved_type().describe(),
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
        }
    }

    /// The scalar's text when it is a string under the core schema.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Scalar(s) if s.resolved_type() == ScalarType::Str => Some(&s.value),
            _ => None,
        }
    }

    /// A short span to point at: the node itself for scalars, its first line for collections.
    pub(crate) fn head(&self) -> Span {
        match &self.kind {
            NodeKind::Scalar(_) => self.span,
            NodeKind::Map(entries) => entries.first().map_or(self.span, |(k, _)| k.span),
            NodeKind::Seq(items) => items.first().map_or(self.span, |n| n.head()),
        }
    }
}

/// A document that could not be parsed: where and why.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParseError {
    pub message: String,
    pub span: Span,
    /// Set when the document was refused for its size: the tree would pass this many MiB.
    pub too_large: Option<usize>,
    /// What to do, when the error is one of the common ones [`explain`] knows.
    pub help: Option<String>,
}

/// Upper bound on the tree a document may build, in bytes of nodes and scalar text, alias
/// copies included ("billion laughs" protection). Counting alias nodes alone let a large
/// scalar repeated a few thousand times grow a 130 KB config to half a gigabyte, and a 10 MB
/// flow list of one-letter items took a gigabyte; with this bound any input is read within a
/// small multiple of it. A real config (hundreds of webhooks) takes well under 1 MiB.
const MAX_TREE_BYTES: usize = 32 * MIB;
const MIB: usize = 1024 * 1024;

/// Parses `text` as exactly one YAML document. `Ok(None)` is an empty stream.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, ParseError> {
    Builder::new(text).run()
}

struct Builder<'a> {
    text: &'a str,
    /// Byte offset of every char, only built when the text is not ASCII (markers count chars).
    char_offsets: Option<Vec<usize>>,
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    /// What the tree takes so far, alias copies included, as [`weight`] counts it.
    tree_bytes: usize,
    documents: usize,
    root: Option<Node>,
}

enum Open {
    Seq {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: usize,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

impl<'a> Builder<'a> {
    fn new(text: &'a str) -> Self {
        let char_offsets = (!text.is_ascii()).then(|| {
            let mut v: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
            v.push(text.len());
            v
        });
        Builder {
            text,
            char_offsets,
            stack: Vec::new(),
            anchors: HashMap::new(),
            tree_bytes: 0,
            documents: 0,
            root: None,
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.char_offsets {
            Some(v) => v.get(char_index).copied().unwrap_or(self.text.len()),
            None => char_index.min(self.text.len()),
        }
    }

    fn span(&self, s: YamlSpan) -> Span {
        Span::new(self.byte(s.start.index()), self.byte(s.end.index()))
    }

    fn run(mut self) -> Result<Option<Node>, ParseError> {
        let mut parser = Parser::new_from_str(self.text);
        while let Some(next) = parser.next_event() {
            let (event, yspan) = next.map_err(|e| {
                let explained =
                    explain::explain(self.text, e.info(), self.byte(e.marker().index()));
                ParseError {
                    message: explained.message,
                    span: explained.span,
                    too_large: None,
                    help: explained.help,
                }
            })?;
            let span = self.span(yspan);
            self.event(event, span)?;
        }
        Ok(self.root)
    }

    /// Folds one parser event into the tree.
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), ParseError> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(ParseError {
                        message: "the file holds more than one YAML document (`---`); \
                                  put every webhook in one document"
                            .into(),
                        span,
                        too_large: None,
                        help: None,
                    });
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let tag = tag.map(|t| tag_name(&t));
                // The core schema's scalar tags force a type; any other (`!!binary`, `!foo`)
                // would silently change what the text means.
                if let Some(t) = tag.as_deref() {
                    if !SCALAR_TAGS.contains(&t) {
                        return Err(ParseError {
                            message: format!(
                                "the tag `{t}` is not supported here (only !!str, !!int, !!float, !!bool and !!null)"
                            ),
                            span,
                            too_large: None,
                            help: None,
                        });
                    }
                }
                self.grow(std::mem::size_of::<Node>() + value.len(), span)?;
                let node = Node {
                    kind: NodeKind::Scalar(Scalar {
                        value: value.into_owned(),
                        plain: style == ScalarStyle::Plain,
                        tag,
                    }),
                    span,
                };
                self.finish(node, anchor)?;
            }
            Event::Alias(id) => self.alias(id, span)?,
            Event::SequenceStart(anchor, tag) => {
                self.refuse_tag(tag, span)?;
                self.grow(std::mem::size_of::<Node>(), span)?;
                self.stack.push(Open::Seq {
                    start: span.start,
                    anchor,
                    items: Vec::new(),
                });
            }
            Event::MappingStart(anchor, tag) => {
                self.refuse_tag(tag, span)?;
                self.grow(std::mem::size_of::<Node>(), span)?;
                self.stack.push(Open::Map {
                    start: span.start,
                    anchor,
                    entries: Vec::new(),
                    key: None,
                });
            }
            Event::SequenceEnd | Event::MappingEnd => self.close(span)?,
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// An alias: a copy of its anchor's node, within the budget of expanded nodes.
    fn alias(&mut self, id: usize, span: Span) -> Result<(), ParseError> {
        let anchored = self.anchors.get(&id).ok_or_else(|| ParseError {
            message: "alias refers to an anchor that is not defined before it".into(),
            span,
            too_large: None,
            help: None,
        })?;
        // Weighed before it is copied, so that a refused copy is never made.
        let node_weight = weight(anchored);
        self.grow(node_weight, span)?;
        let node = self.anchors[&id].clone();
        // The alias keeps the place where it is used, so errors point there.
        self.finish(Node { span, ..node }, 0)
    }

    /// The end of a sequence or a mapping: the open collection becomes a node.
    fn close(&mut self, span: Span) -> Result<(), ParseError> {
        let (node, anchor) = match self.stack.pop() {
            Some(Open::Seq {
                start,
                anchor,
                items,
            }) => {
                let end = items.last().map_or(span.end, |n| n.span.end.max(start));
                (
                    Node {
                        kind: NodeKind::Seq(items),
                        span: Span::new(start, end),
                    },
                    anchor,
                )
            }
            Some(Open::Map {
                start,
                anchor,
                entries,
                ..
            }) => {
                let end = entries
                    .last()
                    .map_or(span.end, |(_, v)| v.span.end.max(start));
                (
                    Node {
                        kind: NodeKind::Map(entries),
                        span: Span::new(start, end),
                    },
                    anchor,
                )
            }
            None => return Ok(()),
        };
        self.finish(node, anchor)
    }

    fn refuse_tag(
        &self,
        tag: Option<Cow<'_, saphyr_parser::Tag>>,
        span: Span,
    ) -> Result<(), ParseError> {
        match tag.map(|t| tag_name(&t)) {
            Some(t) if t != "!!map" && t != "!!seq" => Err(ParseError {
                message: format!("the tag `{t}` is not supported here"),
                span,
                too_large: None,
                help: None,
            }),
            _ => Ok(()),
        }
    }

    /// Counts `bytes` more of tree against [`MAX_TREE_BYTES`]; past it, the document is
    /// refused at `span`.
    fn grow(&mut self, bytes: usize, span: Span) -> Result<(), ParseError> {
        self.tree_bytes = self.tree_bytes.saturating_add(bytes);
        if self.tree_bytes > MAX_TREE_BYTES {
            return Err(ParseError {
                message: format!(
                    "the document is too large to read: its values would take more than {} MiB",
                    MAX_TREE_BYTES / MIB
                ),
                span,
                too_large: Some(MAX_TREE_BYTES / MIB),
                help: None,
            });
        }
        Ok(())
    }

    fn finish(&mut self, node: Node, anchor: usize) -> Result<(), ParseError> {
        if anchor != 0 {
            // The anchor keeps a copy of its own, for the aliases to clone.
            self.grow(weight(&node), node.span)?;
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map { entries, key, .. }) => match key.take() {
                Some(k) => entries.push((k, node)),
                None => *key = Some(node),
            },
            None => self.root = Some(node),
        }
        Ok(())
    }
}

/// The tags a scalar may have: the YAML 1.2 core schema's.
const SCALAR_TAGS: &[&str] = &["!!str", "!!int", "!!float", "!!bool", "!!null"];

fn tag_name(tag: &saphyr_parser::Tag) -> String {
    if tag.is_yaml_core_schema() {
        format!("!!{}", tag.suffix)
    } else {
        tag.to_string()
    }
}

/// The memory a copy of `node` takes, near enough: each node's own size plus its scalar text.
fn weight(node: &Node) -> usize {
    std::mem::size_of::<Node>()
        + match &node.kind {
            NodeKind::Scalar(s) => s.value.len(),
            NodeKind::Seq(items) => items.iter().map(weight).sum(),
            NodeKind::Map(entries) => entries.iter().map(|(k, v)| weight(k) + weight(v)).sum(),
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(text).expect("parses").expect("has a document")
    }

    #[test]
    fn spans_are_bytes_even_after_multibyte_text() {
        let text = "a: \"é€\"\nb: x\n";
        let NodeKind::Map(entries) = root(text).kind else {
            panic!("map")
        };
        let (k, v) = &entries[1];
        assert_eq!(&text[k.span.start..k.span.end], "b");
        assert_eq!(&text[v.span.start..v.span.end], "x");
    }

    #[test]
    fn plain_scalars_resolve_by_core_schema() {
        let types: Vec<_> = [
            "1", "-3", "0x1F", "1.5", ".inf", "true", "~", "", "1.2.3", "yes", "1e3",
        ]
        .iter()
        .map(|v| resolve_plain(v))
        .collect();
        use ScalarType::*;
        assert_eq!(
            types,
            [Int, Int, Int, Float, Float, Bool, Null, Null, Str, Str, Float]
        );
    }

    #[test]
    fn quoted_scalars_are_strings() {
        assert_eq!(root("'1'").as_str(), Some("1"));
        assert_eq!(root("!!str 1").as_str(), Some("1"));
        assert_eq!(root("1").as_str(), None);
    }

    #[test]
    fn aliases_expand_and_are_bounded() {
        let n = root("a: &x [1, 2]\nb: *x\n");
        let NodeKind::Map(entries) = n.kind else {
            panic!("map")
        };
        assert!(matches!(entries[1].1.kind, NodeKind::Seq(ref v) if v.len() == 2));

        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..8 {
            let prev = if i == 0 {
                "a".to_string()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let err = parse(&bomb).unwrap_err();
        assert_eq!(err.too_large, Some(32), "{err:?}");
    }

    #[test]
    fn a_large_scalar_repeated_by_aliases_is_bounded_by_its_bytes() {
        // 100 KB, used 1,000 times: 100 MB expanded from a 106 KB config.
        let mut text = format!("a: &big {}\nb: [", "x".repeat(100_000));
        text.push_str(&["*big"; 1000].join(", "));
        text.push_str("]\n");
        let err = parse(&text).unwrap_err();
        assert_eq!(err.too_large, Some(32));
        // The alias that crossed the budget is the one pointed at.
        assert_eq!(&text[err.span.start..err.span.end], "*big");
        // Well under the budget, it expands.
        let small = format!("a: &s {}\nb: [*s, *s, *s]\n", "y".repeat(1000));
        assert!(parse(&small).is_ok());
    }

    #[test]
    fn two_documents_are_refused() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.message.contains("more than one"));
        assert_eq!(err.span.start, 5);
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(err.span.start > 0);
    }
}
