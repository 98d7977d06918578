//! Duplicate keys, and the typed pass: deserialize, report the error, remove
//! the offending node, deserialize again, until the file deserializes.

use crate::config::Code;
use std::borrow::Cow;
use std::collections::BTreeMap;

use super::super::problem::Problem;
use super::super::raw::RawFile;
use super::super::source::{Node, NodeValue, Span};
use super::super::tree_deserializer::{
    DeError, DeErrorKind, PathSeg, from_node, path_text, scalar_text,
};
use super::FileInput;

/// A file with more structural problems than this stops being checked.
const MAX_TYPED_ROUNDS: usize = 200;

// ---------------------------------------------------------------- duplicates

/// Reports every duplicate key (at any depth) with both places, and drops the
/// later one so that checking can go on.
pub(super) fn remove_duplicate_keys(
    node: &mut Node,
    input: &FileInput<'_>,
    problems: &mut Vec<Problem>,
) {
    match &mut node.value {
        NodeValue::Map(pairs) => {
            let mut seen: BTreeMap<String, Span> = BTreeMap::new();
            let mut keep = Vec::with_capacity(pairs.len());
            for (k, v) in pairs.drain(..) {
                let name = scalar_text(&k, input.text).map(Cow::into_owned);
                if let Some(name) = name {
                    if let Some(first) = seen.get(&name) {
                        problems.push(
                            Problem::new(Code::DuplicateKey, format!("duplicate key `{name}`"))
                                .at(input.source, k.span, "defined again here")
                                .also(*first, "first defined here")
                                .help(
                                    "each key may appear once in a mapping; merge the two entries",
                                ),
                        );
                        continue;
                    }
                    seen.insert(name, k.span);
                }
                keep.push((k, v));
            }
            for (_, v) in keep.iter_mut() {
                remove_duplicate_keys(v, input, problems);
            }
            *pairs = keep;
        }
        NodeValue::Seq(items) => {
            for item in items.iter_mut() {
                remove_duplicate_keys(item, input, problems);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- typed pass

/// Deserializes the raw types; on an error, reports it, removes the offending
/// node and tries again, so one run reports every structural problem.
pub(super) fn deserialize_tolerant(
    tree: &mut Node,
    input: &FileInput<'_>,
    problems: &mut Vec<Problem>,
) -> Option<RawFile> {
    if !matches!(tree.value, NodeValue::Map(_)) {
        problems.push(
            Problem::new(
                Code::InvalidType,
                format!(
                    "the file must be a mapping with `servers` and/or `policy`, found {}",
                    tree.value.describe()
                ),
            )
            .at(input.source, tree.span, "expected a mapping")
            .help("start the file with `servers:` (and optionally `policy:`)"),
        );
        return None;
    }
    let mut removed: Vec<Vec<PathSeg>> = Vec::new();
    for _ in 0..MAX_TYPED_ROUNDS {
        let err = match from_node::<RawFile>(tree, input.text, Vec::new()) {
            Ok(raw) => return Some(raw),
            Err(e) => e,
        };
        // Removing a bad child can make its parent incomplete (a missing key, a
        // server entry left without its kind): that is an echo, not a new problem.
        let echo = matches!(
            err.kind,
            DeErrorKind::MissingField(_) | DeErrorKind::Custom(_)
        ) && removed
            .iter()
            .any(|r| r.len() > err.path.len() && r.starts_with(&err.path));
        if !echo {
            problems.push(de_problem(&err, input));
        }
        if err.path.is_empty() || !remove_at(tree, &err.path, input.text) {
            return None;
        }
        removed.push(err.path);
    }
    None
}

fn remove_at(node: &mut Node, path: &[PathSeg], text: &str) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = node;
    for seg in parents {
        let next = match (&mut cur.value, seg) {
            (NodeValue::Map(pairs), PathSeg::Key(k)) => pairs
                .iter_mut()
                .find(|(key, _)| key_is(key, k, text))
                .map(|(_, v)| v),
            (NodeValue::Seq(items), PathSeg::Index(i)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    match (&mut cur.value, last) {
        (NodeValue::Map(pairs), PathSeg::Key(k)) => {
            match pairs.iter().position(|(key, _)| key_is(key, k, text)) {
                Some(pos) => {
                    pairs.remove(pos);
                    true
                }
                None => false,
            }
        }
        (NodeValue::Seq(items), PathSeg::Index(i)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// Whether `key` is the key the deserializer called `name` (same spelling
/// rules as `tree_deserializer`: scalars by their written text).
fn key_is(key: &Node, name: &str, text: &str) -> bool {
    match scalar_text(key, text) {
        Some(t) => t == name,
        None => name.is_empty(),
    }
}

fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn de_problem(err: &DeError, input: &FileInput<'_>) -> Problem {
    let span = err.span.unwrap_or_default();
    let at = path_text(&err.path);
    let place = if at.is_empty() {
        "the file".to_string()
    } else {
        format!("`{at}`")
    };
    match &err.kind {
        DeErrorKind::UnknownField { field, expected } => {
            let parent = path_text(
                err.path
                    .get(..err.path.len().saturating_sub(1))
                    .unwrap_or(&[]),
            );
            let within = if parent.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in `{parent}`")
            };
            let help = match did_you_mean(field, expected) {
                Some(s) => format!("did you mean `{s}`?"),
                None if expected.is_empty() => "remove it".to_string(),
                None => format!("expected one of {}", list(expected)),
            };
            Problem::new(Code::UnknownKey, format!("unknown key `{field}` {within}"))
                .at(input.source, span, "unknown key")
                .help(help)
        }
        DeErrorKind::UnknownVariant { variant, expected } if is_server_kind_path(&err.path) => {
            let help = match did_you_mean(variant, expected) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "a server entry holds exactly one of `awx:`, `tpp:` or `whm:`".into(),
            };
            Problem::new(
                Code::ServerKind,
                format!(
                    "`{variant}` is not a kind of server; expected {}",
                    list(expected)
                ),
            )
            .at(input.source, span, "unknown server kind")
            .help(help)
        }
        DeErrorKind::UnknownVariant { variant, expected } => {
            let help = match did_you_mean(variant, expected) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("expected one of {}", list(expected)),
            };
            Problem::new(
                Code::InvalidValue,
                format!("{place}: `{variant}` is not one of {}", list(expected)),
            )
            .at(input.source, span, "not allowed here")
            .help(help)
        }
        DeErrorKind::MissingField(field) => Problem::new(
            Code::MissingField,
            format!("{place} is missing the required key `{field}`"),
        )
        .at(input.source, span, format!("needs `{field}`"))
        .help(format!("add `{field}:` to this entry")),
        DeErrorKind::InvalidType { found, expected } => Problem::new(
            Code::InvalidType,
            format!("{place}: expected {expected}, found {found}"),
        )
        .at(input.source, span, format!("expected {expected}"))
        .help("`appform schema` prints the shape of each key"),
        DeErrorKind::InvalidValue { found, expected } => Problem::new(
            Code::InvalidValue,
            format!("{place}: {found} is not valid here, expected {expected}"),
        )
        .at(input.source, span, format!("expected {expected}"))
        .help("`appform schema` lists the allowed values"),
        DeErrorKind::Custom(msg) => {
            let (code, help) = if err.path.len() == 2
                && matches!(err.path.first(), Some(PathSeg::Key(k)) if k == "servers")
            {
                (
                    Code::ServerKind,
                    "a server entry holds exactly one of `awx:`, `tpp:` or `whm:`",
                )
            } else {
                (
                    Code::InvalidValue,
                    "`appform schema` prints the shape of each key",
                )
            };
            Problem::new(code, format!("{place}: {msg}"))
                .at(input.source, span, "here")
                .help(help)
        }
    }
}

/// `servers.<name>.<kind>`
fn is_server_kind_path(path: &[PathSeg]) -> bool {
    path.len() == 3 && matches!(path.first(), Some(PathSeg::Key(k)) if k == "servers")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_finds_near_misses_only() {
        let fields = ["client_type", "authorization_grant_type", "redirect_uris"];
        assert_eq!(
            did_you_mean("redirect_uri", &fields).as_deref(),
            Some("redirect_uris")
        );
        assert_eq!(
            did_you_mean("client_typ", &fields).as_deref(),
            Some("client_type")
        );
        assert_eq!(did_you_mean("zzz", &fields), None);
    }
}
