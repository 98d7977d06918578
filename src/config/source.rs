//! YAML text → a tree of [`Node`]s that remember their byte spans. The only file
//! that names the YAML crate (serde-saphyr), and its one path: scalars are
//! typed in one place, serde-saphyr's; everything after this works on `Node`. It must not interpret the
//! configuration; that is `raw.rs` and `validate.rs`.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// A byte range in a file's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub offset: usize,
    pub len: usize,
}

impl Span {
    pub fn end(self) -> usize {
        self.offset + self.len
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> Self {
        (s.offset, s.len).into()
    }
}

/// A YAML node with its span. Mappings keep their pairs in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: NodeValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl NodeValue {
    /// A word for messages: "a string", "a mapping"...
    pub fn describe(&self) -> &'static str {
        match self {
            NodeValue::Null => "null",
            NodeValue::Bool(_) => "a boolean",
            NodeValue::Int(_) | NodeValue::UInt(_) => "an integer",
            NodeValue::Float(_) => "a number",
            NodeValue::Str(_) => "a string",
            NodeValue::Seq(_) => "a list",
            NodeValue::Map(_) => "a mapping",
        }
    }
}

/// A YAML syntax error: a message and where.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub message: String,
    pub span: Span,
}

/// Nesting deeper than this is refused (configs are shallow; this keeps the
/// recursive tree walks far from the stack limit).
pub const MAX_DEPTH: usize = 48;

/// Parses one YAML document (an empty document is `Null`) with serde-saphyr's
/// deserializer and its spans: every document, every error.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let options = serde_saphyr::options! {
        // Duplicate keys are reported by `validate` with both places marked, and
        // without stopping at the first one; the parser must pass them through.
        duplicate_keys: serde_saphyr::options::DuplicateKeyPolicy::LastWins,
        // YAML 1.2: only true/false are booleans (`yes`, `on` stay strings).
        strict_booleans: true,
        with_snippet: false,
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
        },
    };
    match serde_saphyr::from_str_with_options::<Spanned<RawNode>>(text, options) {
        Ok(root) => Ok(convert(root, text)),
        Err(err) => Err(syntax_error(&err, text)),
    }
}

fn syntax_error(err: &serde_saphyr::Error, text: &str) -> SyntaxError {
    let mut message = err.to_string();
    // serde-saphyr prefixes "error: line L column C: "; the diagnostic shows the
    // position itself.
    if let Some(rest) = message.strip_prefix("error: ") {
        message = rest.to_string();
    }
    if let Some(idx) = message.find(": ").filter(|_| message.starts_with("line ")) {
        message = message.get(idx + 2..).unwrap_or_default().to_string();
    }
    let span = err
        .location()
        .map(|loc| {
            let s = loc.span();
            match (s.byte_offset(), s.byte_len()) {
                (Some(off), Some(len)) => Span {
                    offset: off as usize,
                    len: len as usize,
                },
                _ => Span {
                    offset: offset_of(text, loc.line(), loc.column()),
                    len: 0,
                },
            }
        })
        .unwrap_or_default();
    SyntaxError {
        message: plain_message(message.trim()),
        span: clamp(span, text),
    }
}

/// Rewrites the parser's wording where it names library internals, and drops
/// the position it repeats (the diagnostic shows it).
fn plain_message(message: &str) -> String {
    let message = match message.find(" at line ") {
        Some(at) => message.get(..at).unwrap_or(message),
        None => message,
    };
    if message.starts_with("multiple YAML documents") {
        "a config file holds one YAML document, but this one has a `---` separator".into()
    } else if message.starts_with("budget breached") || message.contains("recursion limit") {
        format!(
            "the document is too large or too deeply nested (a file holds at most 250,000 YAML nodes, several thousand applications: split a larger configuration into one file per server; aliases count as copies; nesting is limited to {MAX_DEPTH} levels)"
        )
    } else {
        message.to_string()
    }
}

/// Byte offset of a 1-based line and 1-based (character) column.
pub fn offset_of(text: &str, line: u64, column: u64) -> usize {
    let mut offset = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if (i as u64) + 1 == line {
            let col = column.saturating_sub(1) as usize;
            let within = l
                .char_indices()
                .nth(col)
                .map(|(b, _)| b)
                .unwrap_or(l.trim_end_matches('\n').len());
            return offset + within;
        }
        offset += l.len();
    }
    text.len()
}

fn clamp(span: Span, text: &str) -> Span {
    let offset = span.offset.min(text.len());
    let len = span.len.min(text.len() - offset);
    Span { offset, len }
}

fn span_of<T>(s: &Spanned<T>, text: &str) -> Span {
    let sp = s.referenced.span();
    clamp(
        Span {
            offset: sp.byte_offset().unwrap_or(0) as usize,
            len: sp.byte_len().unwrap_or(0) as usize,
        },
        text,
    )
}

fn convert(node: Spanned<RawNode>, text: &str) -> Node {
    let span = span_of(&node, text);
    let value = match node.value {
        RawNode::Null => NodeValue::Null,
        RawNode::Bool(b) => NodeValue::Bool(b),
        RawNode::Int(i) => NodeValue::Int(i),
        RawNode::UInt(u) => NodeValue::UInt(u),
        RawNode::Float(f) => NodeValue::Float(f),
        RawNode::Str(s) => NodeValue::Str(s),
        RawNode::Seq(items) => {
            NodeValue::Seq(items.into_iter().map(|n| convert(n, text)).collect())
        }
        RawNode::Map(pairs) => NodeValue::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (convert(k, text), convert(v, text)))
                .collect(),
        ),
    };
    node_widened(span, value)
}

/// The node, its span widened to cover its children: the parser gives
/// containers a point span (both paths build nodes through this).
fn node_widened(mut span: Span, value: NodeValue) -> Node {
    let last_end = match &value {
        NodeValue::Seq(items) => items.last().map(|n| n.span.end()),
        NodeValue::Map(pairs) => pairs.last().map(|(_, v)| v.span.end()),
        _ => None,
    };
    if let Some(end) = last_end.filter(|end| *end > span.offset) {
        span.len = end - span.offset;
    }
    Node { span, value }
}

/// A JSON value as YAML text (for `appform export`).
pub fn to_yaml(value: &serde_json::Value) -> Result<String, String> {
    serde_saphyr::to_string(value).map_err(|e| format!("cannot write YAML: {e}"))
}

/// What the YAML deserializer fills; converted to [`Node`] right away.
enum RawNode {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<RawNode>>),
    Map(Vec<(Spanned<RawNode>, Spanned<RawNode>)>),
}

struct RawNodeVisitor;

impl<'de> Visitor<'de> for RawNodeVisitor {
    type Value = RawNode;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<RawNode, E> {
        Ok(RawNode::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<RawNode, D::Error> {
        d.deserialize_any(RawNodeVisitor)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<RawNode, E> {
        Ok(RawNode::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawNode, E> {
        Ok(RawNode::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawNode, E> {
        Ok(RawNode::UInt(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawNode, E> {
        Ok(RawNode::Float(v as f64))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawNode, E> {
        Ok(RawNode::Float(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawNode, E> {
        Ok(RawNode::Float(v))
    }
    fn visit_char<E: de::Error>(self, v: char) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_string()))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<RawNode, E> {
        Ok(RawNode::Str(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<RawNode, E> {
        Ok(RawNode::Str(v))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<RawNode, E> {
        Ok(RawNode::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawNode, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(RawNode::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut pairs = Vec::new();
        while let Some(pair) = map.next_entry()? {
            pairs.push(pair);
        }
        Ok(RawNode::Map(pairs))
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<RawNode, D::Error> {
        d.deserialize_any(RawNodeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of<'a>(src: &'a str, n: &Node) -> &'a str {
        &src[n.span.offset..n.span.end()]
    }

    #[test]
    fn spans_cover_scalars_and_containers() {
        let src = "a: 1\nb:\n  c: 'x y'\n  d: [1, 2]\n";
        let root = parse(src).unwrap();
        let NodeValue::Map(pairs) = &root.value else {
            panic!()
        };
        assert_eq!(text_of(src, &pairs[0].1), "1");
        let NodeValue::Map(inner) = &pairs[1].1.value else {
            panic!()
        };
        assert_eq!(text_of(src, &inner[0].1), "'x y'");
        assert_eq!(inner[0].1.value, NodeValue::Str("x y".into()));
        assert!(text_of(src, &pairs[1].1).starts_with("c: 'x y'"));
    }

    #[test]
    fn duplicate_keys_are_kept_for_the_validator() {
        let root = parse("a: 1\na: 2\n").unwrap();
        let NodeValue::Map(pairs) = &root.value else {
            panic!()
        };
        assert_eq!(pairs.len(), 2);
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let src = "a:\n  b: 1\n   c: 2\n";
        let err = parse(src).unwrap_err();
        assert_eq!(err.span.offset, offset_of(src, 3, 5));
        assert!(err.message.contains("mapping values"), "{}", err.message);
        assert!(!err.message.starts_with("line"), "{}", err.message);
    }

    #[test]
    fn yes_is_a_string_and_empty_is_null() {
        let root = parse("a: yes\n").unwrap();
        let NodeValue::Map(pairs) = &root.value else {
            panic!()
        };
        assert_eq!(pairs[0].1.value, NodeValue::Str("yes".into()));
        assert_eq!(parse("").unwrap().value, NodeValue::Null);
        assert_eq!(parse("# only a comment\n").unwrap().value, NodeValue::Null);
    }

    #[test]
    fn offsets_count_characters_per_line() {
        let src = "é: 1\nab: x\n";
        assert_eq!(offset_of(src, 1, 2), 2);
        assert_eq!(offset_of(src, 2, 5), 10);
        assert_eq!(offset_of(src, 9, 1), src.len());
    }
}
