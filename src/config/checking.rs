//! Checking files already read: each decoded and parsed, then checked, on
//! every core (`parallel`), then merged in file order, so problems,
//! warnings, source indexes and the digest are those of a sequential pass.
//! Four steps: [`read_file`] (decode, parse), [`number`] (sources in file
//! order, the digest, syntax errors), [`check_all`] (each file's servers),
//! [`merge`] (one policy, one definition per server, one server per URL).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::parallel;
use super::problem::{Code, ConfigErrors, Problem, SharedText};
use super::source::{self, Span};
use super::validate::{self, FileInput, ServerHost, check_file};
use super::{Discovery, utf8_text};
use crate::model::{Config, Policy, Server, SourceText};

/// Stack for checking: the YAML deserializer recurses per nesting level and
/// debug builds use large frames; nesting is capped at `source::MAX_DEPTH`.
const CHECK_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Reads and checks every file; a panic in the checker (a bug) is reported
/// as a problem, never a crash.
pub(super) fn check_files(
    root: &Path,
    files: Vec<(PathBuf, Vec<u8>)>,
    discovery: Discovery,
) -> Result<Config, ConfigErrors> {
    let internal = |parallel::Panicked| ConfigErrors {
        problems: vec![Problem::new(
            Code::Internal,
            "internal error while checking the configuration (please report it)",
        )],
    };
    let paths: Vec<PathBuf> = files.iter().map(|(file, _)| file.clone()).collect();
    let read = parallel::map(files, CHECK_STACK_BYTES, |(file, bytes)| {
        read_file(root, &file, &bytes, discovery)
    })
    .map_err(internal)?;
    let numbered = number(read, &paths);
    let checked = check_all(numbered.to_check, root).map_err(internal)?;
    let mut merged = merge(numbered.per_file, checked);
    duplicate_urls(&merged.hosts, &numbered.shared, &mut merged.problems);
    if discovery == Discovery::SkipUnrelated
        && numbered.sources.is_empty()
        && merged.problems.is_empty()
    {
        merged.problems.push(
            Problem::new(
                Code::NoFiles,
                format!(
                    "no appform configuration under `{}`: {} YAML file(s) skipped as not appform's",
                    root.display(),
                    numbered.skipped.len()
                ),
            )
            .help("pass the configuration with `-c PATH`, or keep it in an `appform/` directory"),
        );
    }
    if !merged.problems.is_empty() {
        return Err(ConfigErrors {
            problems: merged.problems,
        });
    }
    Ok(Config {
        policy: merged.policy.unwrap_or_default(),
        servers: merged.servers.into_values().map(|(s, _, _)| s).collect(),
        root: root.to_path_buf(),
        sources: numbered.sources,
        skipped: numbered.skipped,
        digest: numbered.digest,
        warnings: merged.warnings,
    })
}

/// One file after decoding and parsing (the first parallel stage).
enum Read {
    /// Too large or not UTF-8: the problem says which.
    Unreadable(Problem),
    /// Not an appform file, skipped (with `Discovery::SkipUnrelated`).
    Skipped { name: String, relative: String },
    Parsed {
        name: String,
        relative: String,
        text: String,
        tree: Result<source::Node, source::SyntaxError>,
    },
}

fn read_file(root: &Path, file: &Path, bytes: &[u8], discovery: Discovery) -> Read {
    let name = file.display().to_string();
    let mut problems = Vec::new();
    let Some(text) = utf8_text(bytes, &name, &mut problems) else {
        return match problems.pop() {
            Some(problem) => Read::Unreadable(problem),
            None => Read::Unreadable(Problem::new(Code::Io, format!("cannot read `{name}`"))),
        };
    };
    let relative = file.strip_prefix(root).unwrap_or(file);
    let relative = relative.to_string_lossy().to_string();
    let tree = source::parse(&text);
    if discovery == Discovery::SkipUnrelated
        && let Ok(tree) = &tree
        && !validate::is_appform_file(tree, &text)
    {
        return Read::Skipped { name, relative };
    }
    Read::Parsed {
        name,
        relative,
        text,
        tree,
    }
}

/// A parsed file waiting to be checked: its position among the files, its
/// source index, its text and directory, and its tree.
type ToCheck = (usize, usize, SharedText, Arc<str>, PathBuf, source::Node);

/// The files in order, before checking.
struct Numbered {
    skipped: Vec<String>,
    sources: Vec<SourceText>,
    /// The sources as diagnostics show them, by index.
    shared: Vec<SharedText>,
    digest: String,
    /// Per file: the problem that stopped it (unreadable, syntax), or the
    /// warning that skipped it.
    per_file: Vec<(Vec<Problem>, Option<String>)>,
    to_check: Vec<ToCheck>,
}

/// Numbers the sources in file order and hashes them (the digest covers
/// every file's relative path and bytes).
fn number(read: Vec<Read>, paths: &[PathBuf]) -> Numbered {
    let mut out = Numbered {
        skipped: Vec::new(),
        sources: Vec::new(),
        shared: Vec::new(),
        digest: String::new(),
        per_file: Vec::with_capacity(read.len()),
        to_check: Vec::new(),
    };
    let mut hasher = Sha256::new();
    for (position, (read, file)) in read.into_iter().zip(paths).enumerate() {
        let mut problems = Vec::new();
        let mut warning = None;
        match read {
            Read::Unreadable(problem) => problems.push(problem),
            Read::Skipped { name, relative } => {
                warning = Some(format!(
                    "skipped `{name}`: not an appform file (no top-level `servers:` or `policy:`); pass -c to choose the files"
                ));
                out.skipped.push(relative);
            }
            Read::Parsed {
                name,
                relative,
                text,
                tree,
            } => {
                hasher.update(relative.as_bytes());
                hasher.update([0]);
                hasher.update((text.len() as u64).to_le_bytes());
                hasher.update(text.as_bytes());
                let index = out.sources.len();
                let shared_text: Arc<str> = Arc::from(text.as_str());
                let src = SharedText::new(&name, shared_text.clone());
                out.sources.push(SourceText {
                    name,
                    relative,
                    text,
                });
                out.shared.push(src.clone());
                match tree {
                    Ok(tree) => {
                        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                        out.to_check
                            .push((position, index, src, shared_text, dir, tree));
                    }
                    Err(e) => problems.push(syntax_problem(&src, &shared_text, e)),
                }
            }
        }
        out.per_file.push((problems, warning));
    }
    out.digest = format!("sha256:{:x}", hasher.finalize());
    out
}

fn syntax_problem(src: &SharedText, text: &str, e: source::SyntaxError) -> Problem {
    Problem::new(
        Code::YamlSyntax,
        format!("YAML syntax error: {}", e.message),
    )
    .at(src, e.span, "here")
    .help(if text.contains('\t') {
        "fix the YAML syntax; indentation uses spaces, never tabs"
    } else {
        "fix the YAML syntax"
    })
}

/// What checking one file found (the second parallel stage).
struct Checked {
    position: usize,
    index: usize,
    src: SharedText,
    parts: validate::FileParts,
    problems: Vec<Problem>,
    warnings: Vec<String>,
}

/// Checks every parsed file, on every core, in file order.
fn check_all(to_check: Vec<ToCheck>, root: &Path) -> Result<Vec<Checked>, parallel::Panicked> {
    parallel::map(
        to_check,
        CHECK_STACK_BYTES,
        |(position, index, src, text, dir, tree)| {
            let input = FileInput {
                index,
                source: &src,
                text: &text,
                dir: &dir,
                root,
            };
            let mut problems = Vec::new();
            let mut warnings = Vec::new();
            let parts = check_file(&input, tree, &mut problems, &mut warnings);
            Checked {
                position,
                index,
                src,
                parts,
                problems,
                warnings,
            }
        },
    )
}

/// Every file's findings merged in file order.
struct Merged {
    problems: Vec<Problem>,
    warnings: Vec<String>,
    policy: Option<Policy>,
    /// By name: the server, its source index and its span.
    servers: BTreeMap<String, (Server, usize, Span)>,
    /// Every host of every server (valid or not), with its file's index.
    hosts: Vec<(ServerHost, usize)>,
}

/// One `policy`, each server defined in one file.
fn merge(per_file: Vec<(Vec<Problem>, Option<String>)>, checked: Vec<Checked>) -> Merged {
    let mut out = Merged {
        problems: Vec::new(),
        warnings: Vec::new(),
        policy: None,
        servers: BTreeMap::new(),
        hosts: Vec::new(),
    };
    let mut checked = checked.into_iter().peekable();
    let mut policy_file: Option<String> = None;
    let mut declared: BTreeMap<String, String> = BTreeMap::new();
    for (position, (first, warning)) in per_file.into_iter().enumerate() {
        out.problems.extend(first);
        out.warnings.extend(warning);
        let Some(file) = checked.next_if(|c| c.position == position) else {
            continue;
        };
        let src = &file.src;
        let name = src.name().to_string();
        out.problems.extend(file.problems);
        out.warnings.extend(file.warnings);
        let parts = file.parts;
        out.hosts
            .extend(parts.hosts.into_iter().map(|h| (h, file.index)));
        if let Some(span) = parts.policy_key {
            match &policy_file {
                Some(first) => out.problems.push(
                    Problem::new(
                        Code::DuplicatePolicy,
                        "`policy` is set in more than one file",
                    )
                    .at(src, span, "second policy")
                    .help(format!(
                        "keep a single `policy:` block (the first is in {first})"
                    )),
                ),
                None => policy_file = Some(name.clone()),
            }
        }
        if let Some(p) = parts.policy {
            out.policy.get_or_insert(p);
        }
        for (server, span) in parts.declared {
            match declared.get(&server) {
                Some(first) => out.problems.push(
                    Problem::new(
                        Code::DuplicateServer,
                        format!("server `{server}` is defined in more than one file"),
                    )
                    .at(src, span, "defined again here")
                    .help(format!(
                        "a server may be defined in one file only (first in {first})"
                    )),
                ),
                None => {
                    declared.insert(server, name.clone());
                }
            }
        }
        for server in parts.servers {
            let span = Span {
                offset: server.origin.offset,
                len: server.origin.len,
            };
            out.servers
                .entry(server.name.clone())
                .or_insert((server, file.index, span));
        }
    }
    out
}

/// Two servers of one kind at one URL would fight over its applications.
/// (Instance names are unique across servers: `@` is not allowed in server
/// names, so only URL reuse is checked.)
fn duplicate_urls(
    hosts: &[(ServerHost, usize)],
    shared: &[SharedText],
    problems: &mut Vec<Problem>,
) {
    let mut by_url: BTreeMap<String, &str> = BTreeMap::new();
    for (host, index) in hosts {
        let previous = by_url.insert(format!("{}|{}", host.kind, host.url), &host.server);
        if let (Some(other), Some(src)) = (previous, shared.get(*index)) {
            if other == host.server {
                continue; // a host listed twice in one `urls`: reported there
            }
            problems.push(
                Problem::new(
                    Code::DuplicateUrl,
                    format!(
                        "servers `{other}` and `{}` both manage {} at {}",
                        host.server, host.kind, host.url
                    ),
                )
                .at(src, host.span, "same host as another server")
                .help("two entries for one host would fight over its applications; merge them"),
            );
        }
    }
}
