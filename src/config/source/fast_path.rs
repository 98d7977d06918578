//! The common shape of a config file, turned into [`Node`]s straight from the
//! YAML parser's events (granit-parser, the parser under serde-saphyr).
//!
//! Going through serde-saphyr's `Spanned<T>` costs about six times the parse
//! itself (every node is a synthetic struct with two locations); for a
//! 10,000-application fleet that was the largest single cost of `plan`. This
//! path builds the same tree directly, but only for what it can build
//! **exactly** as the serde path does: mappings, lists and scalars without
//! anchors, aliases, tags, merge keys or directives, one document, plain
//! scalars that are strings, `null`, booleans or decimal integers. Anything
//! else (and every syntax error) answers `None`, and [`super::parse`] takes the
//! serde path, so errors, limits and rare forms keep one implementation.
//! `tests::fast_path_agrees_with_the_serde_path` compares both on every YAML
//! file of the repository and on a list of edge cases.

use super::{MAX_DEPTH, Node, NodeValue, Span};
use serde_saphyr::granit_parser::{Event, Parser, ScalarStyle, Span as ParserSpan};
use std::borrow::Cow;

/// Well under serde-saphyr's budgets (250,000 nodes, 1,000,000 events), so
/// a document the serde path would refuse never gets through here.
const MAX_EVENTS: usize = 200_000;
/// Well under [`MAX_DEPTH`]: deeper documents take the serde path, which
/// reports the limit.
const MAX_FAST_DEPTH: usize = MAX_DEPTH - 8;
/// Scalar text is bounded by the input; serde-saphyr allows 64 MiB of it.
const MAX_TEXT_BYTES: usize = 16 << 20;

/// The tree of `text`, or `None` when the serde path must build it.
pub(super) fn parse(text: &str) -> Option<Node> {
    if text.len() > MAX_TEXT_BYTES {
        return None;
    }
    // The limits serde-saphyr gives the same parser (its default budget), so
    // both paths refuse the same keys and nesting.
    let options = serde_saphyr::granit_parser::options! {
        simple_key_max_lookahead: 1024,
        flow_nesting_limit: 255,
        block_nesting_limit: 255,
        emit_comments: false,
    };
    let mut events = Events {
        parser: Parser::new_from_str_with_options(text, options),
        text,
        seen: 0,
    };
    if !matches!(events.next()?.0, Event::StreamStart) {
        return None;
    }
    // No `%YAML` directive (a version), and a document at all: an empty
    // stream is the serde path's (cheap) business.
    if !matches!(events.next()?.0, Event::DocumentStart(_, None)) {
        return None;
    }
    let first = events.next()?;
    let root = events.node(first, 1)?;
    if !matches!(events.next()?.0, Event::DocumentEnd) {
        return None;
    }
    // A second document is an error the serde path words.
    if !matches!(events.next()?.0, Event::StreamEnd) {
        return None;
    }
    Some(root)
}

struct Events<'t> {
    parser: Parser<'t, serde_saphyr::granit_parser::StrInput<'t>>,
    text: &'t str,
    seen: usize,
}

impl<'t> Events<'t> {
    /// The next event; `None` on a syntax error, at the end, or past the budget.
    fn next(&mut self) -> Option<(Event<'t>, ParserSpan)> {
        self.seen += 1;
        if self.seen > MAX_EVENTS {
            return None;
        }
        self.parser.next()?.ok()
    }

    fn span(&self, span: &ParserSpan) -> Option<Span> {
        let start = span.start.byte_offset()?;
        let end = span.end.byte_offset()?.max(start);
        let offset = start.min(self.text.len());
        Some(Span {
            offset,
            len: (end - start).min(self.text.len() - offset),
        })
    }

    fn node(&mut self, (event, span): (Event<'t>, ParserSpan), depth: usize) -> Option<Node> {
        if depth > MAX_FAST_DEPTH {
            return None;
        }
        let span = self.span(&span)?;
        let value = match event {
            Event::Scalar(text, style, 0, None) => scalar(text, style)?,
            Event::SequenceStart(_, 0, None) => {
                let mut items = Vec::new();
                loop {
                    let next = self.next()?;
                    if matches!(next.0, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(next, depth + 1)?);
                }
                NodeValue::Seq(items)
            }
            Event::MappingStart(_, 0, None) => {
                let mut pairs = Vec::new();
                loop {
                    let next = self.next()?;
                    if matches!(next.0, Event::MappingEnd) {
                        break;
                    }
                    let key = self.key(next)?;
                    let value = self.next()?;
                    pairs.push((key, self.node(value, depth + 1)?));
                }
                NodeValue::Map(pairs)
            }
            // Anchors, aliases, tags: the serde path.
            _ => return None,
        };
        Some(super::node_widened(span, value))
    }

    /// A mapping key: only a string, and never the merge key `<<`.
    fn key(&mut self, (event, span): (Event<'t>, ParserSpan)) -> Option<Node> {
        let Event::Scalar(text, style, 0, None) = event else {
            return None;
        };
        let value = scalar(text, style)?;
        match &value {
            NodeValue::Str(s) if s != "<<" => Some(Node {
                span: self.span(&span)?,
                value,
            }),
            _ => None,
        }
    }
}

/// An untagged scalar as the serde path types it (YAML 1.2 core schema with
/// strict booleans), or `None` for the forms left to it (numbers other than
/// plain decimal integers, and anything that might be one).
fn scalar(text: Cow<'_, str>, style: ScalarStyle) -> Option<NodeValue> {
    if style != ScalarStyle::Plain {
        return Some(NodeValue::Str(text.into_owned()));
    }
    let t: &str = &text;
    Some(match t {
        "" | "~" | "null" | "Null" | "NULL" => NodeValue::Null,
        "true" | "True" | "TRUE" => NodeValue::Bool(true),
        "false" | "False" | "FALSE" => NodeValue::Bool(false),
        _ if is_decimal(t) => NodeValue::UInt(t.parse().ok()?),
        _ if t.strip_prefix('-').is_some_and(is_decimal) => NodeValue::Int(t.parse().ok()?),
        _ if might_be_a_number(t) => return None,
        _ => NodeValue::Str(text.into_owned()),
    })
}

/// Digits without a redundant leading zero (`0`, `42`; not `007`).
fn is_decimal(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) && (t.len() == 1 || !t.starts_with('0'))
}

/// Whether any YAML or Rust number parser could read `t`: a sign, then a
/// digit or a dot, and only the characters of numbers after it (radix
/// prefixes, exponents, underscores), or a word like `inf` or `NaN`. Other
/// text that starts with a digit or a dot (`90d`, `1m`, `10.0.0.1/8`,
/// `../ca.pem`) is a string.
fn might_be_a_number(t: &str) -> bool {
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    if ["inf", "infinity", "nan", ".inf", ".nan"]
        .iter()
        .any(|word| unsigned.eq_ignore_ascii_case(word))
    {
        return true;
    }
    match unsigned.as_bytes() {
        [b'0', b'x' | b'X' | b'o' | b'O' | b'b' | b'B', ..] => true,
        [first, ..] if first.is_ascii_digit() || *first == b'.' => unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || b"._eE+-".contains(&b)),
        _ => false,
    }
}
