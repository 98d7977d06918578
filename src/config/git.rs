//! `--baseline REF`: the configuration as it was at a git revision, read with
//! the `git` command (`ls-tree` and `cat-file --batch`) from the object
//! database, never through the work tree, the index or a checkout. The files
//! taken are the ones [`super::load_with`] would take from the same path
//! (`*.yaml`/`*.yml`, hidden entries and `target/` skipped), and they are
//! checked exactly like the work tree's.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{ConfigErrors, Discovery, MAX_FILE_BYTES};
use crate::model::Config;

/// The configuration at a revision.
#[derive(Debug)]
pub struct Baseline {
    /// The revision as given (`appform-applied`, `origin/main`).
    pub reference: String,
    /// The commit it names (full hex id).
    pub commit: String,
    pub config: Config,
}

/// Why the configuration at a revision could not be had.
#[derive(Debug)]
pub enum BaselineError {
    /// `git` itself could not be run.
    NoGit(String),
    /// The config path is not inside a git work tree.
    NotARepository(String),
    /// The revision names no commit.
    NoSuchRevision(String),
    /// Reading the tree or a file failed, or it holds what appform cannot read.
    Read(String),
    /// The config at the revision does not validate.
    Invalid(ConfigErrors),
}

impl std::fmt::Display for BaselineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BaselineError::NoGit(m)
            | BaselineError::NotARepository(m)
            | BaselineError::NoSuchRevision(m)
            | BaselineError::Read(m) => f.write_str(m),
            BaselineError::Invalid(e) => write!(
                f,
                "--baseline: the configuration at that revision is invalid ({} problem(s))",
                e.problems.len()
            ),
        }
    }
}

/// Loads the configuration that `path` (a file or directory, as `-c` takes
/// it) held at `reference`.
pub fn load_at(
    path: &Path,
    reference: &str,
    discovery: Discovery,
) -> Result<Baseline, BaselineError> {
    if reference.is_empty() || reference.starts_with('-') {
        return Err(BaselineError::NoSuchRevision(format!(
            "--baseline `{reference}` is not a git revision"
        )));
    }
    let is_dir = path.is_dir();
    let (dir, only) = if is_dir {
        (path.to_path_buf(), None)
    } else {
        let parent = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let name = path.file_name().map(|n| n.to_string_lossy().to_string());
        (parent, name)
    };
    git(&dir, &["rev-parse", "--show-prefix"], None).map_err(|e| match e {
        GitFailure::Spawn(m) => BaselineError::NoGit(format!(
            "--baseline needs the `git` command, which could not be run: {m}"
        )),
        GitFailure::Status(m) => BaselineError::NotARepository(format!(
            "--baseline: `{}` is not inside a git repository ({})",
            dir.display(),
            m.trim()
        )),
    })?;
    let commit = git(
        &dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{reference}^{{commit}}"),
        ],
        None,
    )
    .map_err(|_| {
        BaselineError::NoSuchRevision(format!(
            "--baseline `{reference}`: no such commit in the repository of `{}` (a shallow CI checkout may need `fetch-depth: 0` or `git fetch` of that ref)",
            dir.display()
        ))
    })?;
    let commit = String::from_utf8_lossy(&commit).trim().to_string();
    let spec = only.clone().unwrap_or_else(|| ".".into());
    let listing = git(&dir, &["ls-tree", "-r", "-z", &commit, "--", &spec], None)
        .map_err(|e| BaselineError::Read(format!("--baseline `{reference}`: {e}")))?;
    let entries = tree_entries(&listing, only.is_some())
        .map_err(|m| BaselineError::Read(format!("--baseline `{reference}`: {m}")))?;
    if entries.is_empty() {
        return Err(BaselineError::Read(format!(
            "--baseline `{reference}`: `{}` held no appform YAML files at that revision",
            path.display()
        )));
    }
    let blobs = read_blobs(&dir, &entries)
        .map_err(|m| BaselineError::Read(format!("--baseline `{reference}`: {m}")))?;
    let files = entries
        .iter()
        .zip(blobs)
        .map(|((_, name), bytes)| (dir.join(name), bytes))
        .collect();
    let root = if is_dir { path.to_path_buf() } else { dir };
    let config = super::load_files_with(&root, files, discovery).map_err(BaselineError::Invalid)?;
    Ok(Baseline {
        reference: reference.to_string(),
        commit,
        config,
    })
}

/// Whether the file at `path` has the content it had at `commit`: `false`
/// when it changed or did not exist then. A file outside the repository is
/// not versioned, so only its path can be compared: `true`.
pub fn same_content_at(path: &Path, commit: &str) -> bool {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_string()) else {
        return false;
    };
    let inside = git(&dir, &["rev-parse", "--show-toplevel"], None)
        .ok()
        .map(|top| PathBuf::from(String::from_utf8_lossy(&top).trim()))
        .zip(std::fs::canonicalize(path).ok())
        .is_some_and(|(top, real)| {
            std::fs::canonicalize(top).is_ok_and(|top| real.starts_with(top))
        });
    if !inside {
        return true;
    }
    let then = git(
        &dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{commit}:./{name}"),
        ],
        None,
    );
    let now = git(&dir, &["hash-object", "--", &name], None);
    match (then, now) {
        (Ok(then), Ok(now)) => then.trim_ascii() == now.trim_ascii(),
        _ => false,
    }
}

/// `(object id, path relative to the listed directory)` of the YAML files
/// in `ls-tree -r -z` output, as discovery in the work tree would take them.
fn tree_entries(listing: &[u8], single_file: bool) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        let Some((meta, name)) = record.split_once('\t') else {
            return Err(format!("unexpected `git ls-tree` output: {record}"));
        };
        let mut meta = meta.split(' ');
        let (mode, kind, oid) = (meta.next(), meta.next(), meta.next());
        let hidden = name
            .split('/')
            .any(|part| part.starts_with('.') || part == "target");
        if hidden && !single_file {
            continue;
        }
        let yaml = name.ends_with(".yaml") || name.ends_with(".yml");
        match (mode, kind, oid) {
            (Some("120000"), _, _) if yaml || !single_file => {
                return Err(format!(
                    "`{name}` is a symbolic link at that revision; --baseline reads regular files only"
                ));
            }
            (_, Some("blob"), Some(oid)) if yaml || single_file => {
                out.push((oid.to_string(), name.to_string()));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The contents of the blobs, in order, through one `git cat-file --batch`.
fn read_blobs(dir: &Path, entries: &[(String, String)]) -> Result<Vec<Vec<u8>>, String> {
    let mut input = String::new();
    for (oid, _) in entries {
        input.push_str(oid);
        input.push('\n');
    }
    let output =
        git(dir, &["cat-file", "--batch"], Some(input.as_bytes())).map_err(|e| e.to_string())?;
    let mut rest = output.as_slice();
    let mut out = Vec::new();
    for (oid, name) in entries {
        let end = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| format!("`git cat-file` ended early, before `{name}`"))?;
        let header = String::from_utf8_lossy(rest.get(..end).unwrap_or_default()).to_string();
        let mut fields = header.split(' ');
        let size: usize = match (fields.next(), fields.next(), fields.next()) {
            (Some(o), Some("blob"), Some(size)) if o == oid => size
                .parse()
                .map_err(|_| format!("unexpected `git cat-file` header: {header}"))?,
            _ => return Err(format!("cannot read `{name}`: {header}")),
        };
        if size as u64 > MAX_FILE_BYTES {
            return Err(format!(
                "`{name}` is {size} bytes; config files are limited to {MAX_FILE_BYTES} bytes"
            ));
        }
        let body = rest
            .get(end + 1..end + 1 + size)
            .ok_or_else(|| format!("`git cat-file` ended inside `{name}`"))?;
        out.push(body.to_vec());
        rest = rest.get(end + 2 + size..).unwrap_or_default();
    }
    Ok(out)
}

enum GitFailure {
    Spawn(String),
    Status(String),
}

impl std::fmt::Display for GitFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GitFailure::Spawn(m) | GitFailure::Status(m) => f.write_str(m.trim()),
        }
    }
}

/// Runs `git -C dir ARGS` (stdin from `input`), returning its stdout.
fn git(dir: &Path, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, GitFailure> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(args)
        // Never prompt, never page, never run a configured external helper.
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_PAGER", "cat")
        .env_remove("GIT_EXTERNAL_DIFF")
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .map_err(|e| GitFailure::Spawn(e.to_string()))?;
    let writer = match (input, child.stdin.take()) {
        (Some(bytes), Some(mut stdin)) => {
            let bytes = bytes.to_vec();
            Some(std::thread::spawn(move || {
                let _ = stdin.write_all(&bytes);
            }))
        }
        _ => None,
    };
    let output = child
        .wait_with_output()
        .map_err(|e| GitFailure::Spawn(e.to_string()))?;
    if let Some(w) = writer {
        let _ = w.join();
    }
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(GitFailure::Status(
            String::from_utf8_lossy(&output.stderr).to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_entries_take_yaml_files_as_discovery_does() {
        let listing = [
            "100644 blob aaa\ta.yaml",
            "100644 blob bbb\t.hidden/b.yaml",
            "100644 blob ccc\ttarget/c.yml",
            "100644 blob ddd\tsub/d.yml",
            "100644 blob eee\tREADME.md",
            "160000 commit fff\tvendored",
        ]
        .join("\0");
        let listing = listing.as_bytes();
        let got = tree_entries(listing, false).unwrap();
        assert_eq!(
            got,
            vec![
                ("aaa".to_string(), "a.yaml".to_string()),
                ("ddd".to_string(), "sub/d.yml".to_string())
            ]
        );
    }

    #[test]
    fn a_symbolic_link_is_refused_not_skipped() {
        let listing = "100644 blob aaa\ta.yaml\x00120000 blob bbb\tshared".as_bytes();
        let err = tree_entries(listing, false).unwrap_err();
        assert!(err.contains("`shared` is a symbolic link"), "{err}");
    }
}
