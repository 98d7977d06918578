//! The semantic pass over the raw types: every rule serde cannot express,
//! each problem reported with a span looked up by its YAML path.

use crate::config::Code;
use std::cell::RefCell;
use std::collections::HashMap;

use super::super::problem::Problem;
use super::super::raw::RawDuration;
use super::super::source::{Node, NodeValue, Span};
use super::super::tree_deserializer::scalar_text;
use super::FileInput;
use crate::duration::parse_duration;
use crate::model::Origin;

mod server;

pub(super) use server::SecretAge;

// ---------------------------------------------------------------- semantic pass

pub(super) struct Checker<'a, 'i> {
    pub(super) input: &'a FileInput<'i>,
    pub(super) tree: &'a Node,
    pub(super) problems: &'a mut Vec<Problem>,
    pub(super) warnings: &'a mut Vec<String>,
    /// Key → position, for each large mapping looked up so far (by the
    /// mapping's address in `tree`, which does not move while the checker
    /// lives). Every application looks up its own spans by path, so a linear
    /// scan of its server's `applications` would make checking quadratic.
    pub(super) key_index: RefCell<HashMap<usize, HashMap<String, usize>>>,
    /// Every host a server names with a valid URL, also of servers that
    /// have other problems: two servers at one URL are reported in the same
    /// run as everything else.
    pub(super) hosts: Vec<super::ServerHost>,
}

/// Mappings with more keys than this get an index on their first lookup.
const INDEXED_FROM: usize = 16;

/// A YAML path made of keys.
pub(super) type KeyPath<'p> = [&'p str];

impl<'a, 'i> Checker<'a, 'i> {
    pub(super) fn new(
        input: &'a FileInput<'i>,
        tree: &'a Node,
        problems: &'a mut Vec<Problem>,
        warnings: &'a mut Vec<String>,
    ) -> Self {
        Checker {
            input,
            tree,
            problems,
            warnings,
            key_index: RefCell::default(),
            hosts: Vec::new(),
        }
    }

    /// (key node, value node) at `path`.
    pub(super) fn lookup(&self, path: &KeyPath<'_>) -> Option<(&'a Node, &'a Node)> {
        let mut found: Option<(&Node, &Node)> = None;
        let mut cur: &'a Node = self.tree;
        for seg in path {
            let NodeValue::Map(pairs) = &cur.value else {
                return None;
            };
            let (k, v) = pairs.get(self.position(cur, pairs, seg)?)?;
            found = Some((k, v));
            cur = v;
        }
        found
    }

    /// Where `key` is among `pairs` (the pairs of the mapping `map`).
    fn position(&self, map: &Node, pairs: &[(Node, Node)], key: &str) -> Option<usize> {
        let text = self.input.text;
        if pairs.len() <= INDEXED_FROM {
            return pairs
                .iter()
                .position(|(k, _)| scalar_text(k, text).as_deref() == Some(key));
        }
        let mut indexes = self.key_index.borrow_mut();
        let index = indexes
            .entry(std::ptr::from_ref(map) as usize)
            .or_insert_with(|| {
                let mut index = HashMap::with_capacity(pairs.len());
                for (i, (k, _)) in pairs.iter().enumerate() {
                    if let Some(name) = scalar_text(k, text) {
                        // The first of duplicate keys, like the scan above.
                        index.entry(name.into_owned()).or_insert(i);
                    }
                }
                index
            });
        index.get(key).copied()
    }

    /// Span of the value at `path`, or of the nearest ancestor that exists.
    pub(super) fn value_span(&self, path: &KeyPath<'_>) -> Span {
        for n in (0..=path.len()).rev() {
            if let Some((_, v)) = self.lookup(path.get(..n).unwrap_or(&[])) {
                return v.span;
            }
        }
        Span::default()
    }

    /// Span of the key at `path` (falls back like `value_span`).
    pub(super) fn key_span(&self, path: &KeyPath<'_>) -> Span {
        for n in (0..=path.len()).rev() {
            if let Some((k, _)) = self.lookup(path.get(..n).unwrap_or(&[])) {
                return k.span;
            }
        }
        Span::default()
    }

    /// Span of list item `index` of the value at `path` (or the value itself).
    pub(super) fn item_span(&self, path: &KeyPath<'_>, index: usize) -> Span {
        match self.lookup(path) {
            Some((
                _,
                Node {
                    value: NodeValue::Seq(items),
                    ..
                },
            )) => items
                .get(index)
                .map(|n| n.span)
                .unwrap_or_else(|| self.value_span(path)),
            _ => self.value_span(path),
        }
    }

    pub(super) fn origin(&self, span: Span) -> Origin {
        Origin {
            file: self.input.index,
            offset: span.offset,
            len: span.len,
        }
    }

    pub(super) fn report(
        &mut self,
        code: Code,
        message: String,
        span: Span,
        label: &str,
        help: &str,
    ) {
        self.problems.push(
            Problem::new(code, message)
                .at(self.input.source, span, label)
                .help(help),
        );
    }

    pub(super) fn duration(&mut self, raw: &RawDuration, span: Span, what: &str) -> Option<u64> {
        match raw {
            RawDuration::Seconds(s) => Some(*s),
            RawDuration::Text(t) => match parse_duration(t) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.report(
                        Code::BadDuration,
                        format!("`{what}`: {e}"),
                        span,
                        "not a duration",
                        "write seconds, or a number with one unit: `30s`, `15m`, `2h`, `90d`, `1w`, `1y`",
                    );
                    None
                }
            },
        }
    }
}

#[cfg(test)]
mod tests;
