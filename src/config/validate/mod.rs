//! One file's tree → raw types → model parts, collecting every problem with its
//! span. Pure: no file or network access (the loader hands it text).
//!
//! - `structure`: duplicate keys, and the typed pass that removes each bad
//!   node and deserializes again, so every structural problem is reported;
//! - `checker`: the rules serde cannot express, with spans looked up by
//!   path: policy and server options (URLs, transport, durations, globs);
//!   `auth` credentials; `org_apps` AWX and gateway applications, `apps`
//!   the other kinds' applications.

mod apps;
mod auth;
mod checker;
mod org_apps;
mod structure;

use crate::config::Code;
use std::path::Path;

use super::problem::{Problem, SharedText};
use super::source::{Node, NodeValue, Span};
use super::tree_deserializer::scalar_text;
use crate::model::{Policy, Server};

/// What one file contributes to the configuration.
#[derive(Debug, Default)]
pub struct FileParts {
    /// The span of the `policy` key, when the file has one (valid or not).
    pub policy_key: Option<Span>,
    /// Every server name the file declares (valid or not), with its key span.
    pub declared: Vec<(String, Span)>,
    /// The policy, when it is valid.
    pub policy: Option<Policy>,
    /// The servers that are valid.
    pub servers: Vec<Server>,
    /// Every host with a valid URL, of valid servers and of the others.
    pub hosts: Vec<ServerHost>,
}

/// One host a server manages, by its normalized URL.
#[derive(Debug, Clone)]
pub struct ServerHost {
    pub server: String,
    pub kind: crate::model::Kind,
    pub url: String,
    /// The URL's place in its file.
    pub span: Span,
}

/// Everything `check_file` needs about one file.
pub struct FileInput<'a> {
    pub index: usize,
    pub source: &'a SharedText,
    pub text: &'a str,
    /// Directory of the file: `file:` references and `ca_file` are relative to it.
    pub dir: &'a Path,
    /// The configuration root: `file:` secrets must stay inside it (or inside
    /// `APPFORM_SECRET_DIRS`), and a `ca_file` under it must not leave it.
    pub root: &'a Path,
}

/// Checks one parsed file. Problems and warnings are appended; the parts that
/// passed are returned (the caller only uses them when there are no problems).
/// Whether a parsed file is one of appform's: a mapping with `servers` or
/// `policy` at the top.
pub fn is_appform_file(tree: &Node, text: &str) -> bool {
    match &tree.value {
        NodeValue::Map(pairs) => pairs
            .iter()
            .any(|(k, _)| matches!(scalar_text(k, text).as_deref(), Some("servers" | "policy"))),
        _ => false,
    }
}

pub fn check_file(
    input: &FileInput<'_>,
    mut tree: Node,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> FileParts {
    if tree.value == NodeValue::Null {
        problems.push(
            Problem::new(Code::EmptyFile, "the file is empty")
                .at(input.source, Span::default(), "nothing here")
                .help("add `servers:` and/or `policy:`, or delete the file"),
        );
        return FileParts::default();
    }
    structure::remove_duplicate_keys(&mut tree, input, problems);
    let mut parts = FileParts::default();
    if let NodeValue::Map(pairs) = &tree.value {
        for (k, v) in pairs {
            match scalar_text(k, input.text).as_deref() {
                Some("policy") => parts.policy_key = Some(k.span),
                Some("servers") => {
                    if let NodeValue::Map(servers) = &v.value {
                        for (name, _) in servers {
                            if let Some(n) = scalar_text(name, input.text) {
                                parts.declared.push((n.into_owned(), name.span));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let Some(raw) = structure::deserialize_tolerant(&mut tree, input, problems) else {
        return parts;
    };
    let mut cx = checker::Checker::new(input, &tree, problems, warnings);
    if let Some(p) = &raw.policy {
        parts.policy = cx.policy(p);
    }
    for (name, server) in raw.servers.iter().flatten() {
        if let Some(s) = cx.server(name, server) {
            parts.servers.push(s);
        }
    }
    parts.hosts = std::mem::take(&mut cx.hosts);
    parts
}
