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
    /// A short name that git finds more than one ref for (a tag named
    /// `origin/main` beside the remote branch), or that is also a commit id.
    Ambiguous(String),
    /// The revision is not an ancestor of the checked-out commit.
    NotAnAncestor(String),
    /// A symbolic link on the way to the configuration, in the work tree or
    /// at the revision: it would move what both sides read.
    Symlink(String),
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
            | BaselineError::Ambiguous(m)
            | BaselineError::NotAnAncestor(m)
            | BaselineError::Symlink(m)
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
    if let Some(link) = symlink_on_the_way(path) {
        return Err(BaselineError::Symlink(format!(
            "--baseline: `{}` is a symbolic link in the work tree, on the way to the configuration `{}`; with --baseline the configuration is read by its path at both sides, and a link would move both (point -c at the real directory)",
            link.display(),
            path.display()
        )));
    }
    let commit = resolve(&dir, reference)?;
    is_ancestor_of_head(&dir, reference, &commit)?;
    no_symlink_at(&dir, reference, &commit)?;
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

/// Whether the file at `path` has the content it had at `commit`, or why
/// not. A symbolic link on the way to it (in the work tree, or the file at
/// `commit`) is refused: the content is compared, never what a link points
/// at. A file outside every work tree (`/etc/ssl/…`) is not versioned, so
/// only its path can be compared: `Ok`.
pub fn same_content_at(path: &Path, commit: &str) -> Result<(), String> {
    if symlink_on_the_way(path).is_some() {
        return Err("ca_file is a symbolic link in the work tree".into());
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(name) = path.file_name().map(|n| n.to_string_lossy().to_string()) else {
        return Err("ca_file content".into());
    };
    if !inside_work_tree(&dir) {
        return Ok(());
    }
    let changed = || Err("ca_file content".to_string());
    let entry = git(&dir, &["ls-tree", "-z", commit, "--", &name], None);
    match entry.as_deref().map(|e| e.split(|b| *b == b' ').next()) {
        Ok(Some(b"120000")) => return Err("ca_file is a symbolic link at the baseline".into()),
        Ok(Some(mode)) if !mode.is_empty() => {}
        _ => return changed(),
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
        (Ok(then), Ok(now)) if then.trim_ascii() == now.trim_ascii() => Ok(()),
        _ => changed(),
    }
}

/// The top of the git work tree that `path` (a file to be written) lies in,
/// when git does not ignore it there: `git add .` would pick it up. `None`
/// outside any work tree, for an ignored path, or when git cannot tell.
pub fn unignored_in_work_tree(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let dir = absolute.parent()?.ancestors().find(|d| d.is_dir())?;
    if !inside_work_tree(dir) {
        return None;
    }
    let target = absolute.to_str()?;
    match git(dir, &["check-ignore", "-q", "--", target], None) {
        Ok(_) => None,
        // Exit 1 (not ignored) says nothing on stderr; a failure does.
        Err(GitFailure::Status(m)) if m.trim().is_empty() => {
            let top = git(dir, &["rev-parse", "--show-toplevel"], None).ok()?;
            Some(PathBuf::from(String::from_utf8_lossy(&top).trim()))
        }
        Err(_) => None,
    }
}

/// Whether `dir` is inside a git work tree.
fn inside_work_tree(dir: &Path) -> bool {
    git(dir, &["rev-parse", "--is-inside-work-tree"], None)
        .is_ok_and(|out| out.trim_ascii() == b"true")
}

/// The first symbolic link on the way to `path` (each component, from the
/// current directory for a relative path, the file itself included) that
/// lies inside a git work tree; links above every repository (`/tmp` on
/// some systems) do not count.
pub fn symlink_on_the_way(path: &Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut at = if path.is_absolute() {
        PathBuf::new()
    } else {
        std::env::current_dir().ok()?
    };
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                at.pop();
            }
            Component::RootDir | Component::Prefix(_) => at.push(component),
            Component::Normal(part) => {
                at.push(part);
                let is_link = std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_symlink());
                let parent = at.parent().unwrap_or(Path::new("/"));
                if is_link && inside_work_tree(parent) {
                    return Some(at);
                }
            }
        }
    }
    None
}

/// The commit `reference` names, when it names exactly one thing. A full
/// ref name (`refs/remotes/origin/main`) and a full commit id are taken as
/// given; a short name must match one ref only (git would prefer a tag
/// named `origin/main` to the remote branch, and anyone who can push can
/// push a tag), and a name that is also a commit id prefix is refused.
/// `~N` and `^N` suffixes are kept; other revision syntax is refused.
fn resolve(dir: &Path, reference: &str) -> Result<String, BaselineError> {
    let no_such = || {
        BaselineError::NoSuchRevision(format!(
            "--baseline `{reference}`: no such commit in the repository of `{}` (a shallow CI checkout may need `fetch-depth: 0` or `git fetch` of that ref)",
            dir.display()
        ))
    };
    let (name, suffix) = reference.split_at(reference.find(['~', '^']).unwrap_or(reference.len()));
    if name.contains("@{") || name.contains(':') || name.contains("..") || name.is_empty() {
        return Err(BaselineError::NoSuchRevision(format!(
            "--baseline `{reference}`: give a commit id, a full ref name (`refs/remotes/origin/main`) or a branch or tag name (with `~N` or `^N` at most)"
        )));
    }
    let hex = |n: &str| n.chars().all(|c| c.is_ascii_hexdigit());
    let full_id = hex(name) && (name.len() == 40 || name.len() == 64);
    let pseudo = name.chars().all(|c| c.is_ascii_uppercase() || c == '_') && name.ends_with("HEAD");
    let exact = if full_id || pseudo || name.starts_with("refs/") {
        name.to_string()
    } else {
        let forms = [
            format!("refs/{name}"),
            format!("refs/tags/{name}"),
            format!("refs/heads/{name}"),
            format!("refs/remotes/{name}"),
            format!("refs/remotes/{name}/HEAD"),
        ];
        let mut args = vec!["for-each-ref", "--format=%(refname)", "--"];
        args.extend(forms.iter().map(String::as_str));
        let listed = git(dir, &args, None)
            .map_err(|e| BaselineError::Read(format!("--baseline `{reference}`: {e}")))?;
        let listed = String::from_utf8_lossy(&listed).to_string();
        let mut found: Vec<&str> = listed
            .lines()
            .filter(|l| forms.iter().any(|f| f == l))
            .collect();
        found.dedup();
        // The objects whose ids start with `name` (refs play no part here).
        let also_an_id = name.len() >= 4
            && hex(name)
            && git(dir, &["rev-parse", &format!("--disambiguate={name}")], None)
                .is_ok_and(|ids| !ids.trim_ascii().is_empty());
        match (found.as_slice(), also_an_id) {
            ([], false) => return Err(no_such()),
            ([], true) => name.to_string(),
            ([one], false) => (*one).to_string(),
            (many, id) => {
                let mut names: Vec<String> = many.iter().map(|m| format!("`{m}`")).collect();
                if id {
                    names.push(format!("the commit id `{name}…`"));
                }
                return Err(BaselineError::Ambiguous(format!(
                    "--baseline `{reference}` is ambiguous: it names {}; give the full ref name or the commit id (a tag or branch someone pushed must not stand in for the one you mean)",
                    names.join(" and ")
                )));
            }
        }
    };
    let commit = git(
        dir,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{exact}{suffix}^{{commit}}"),
        ],
        None,
    )
    .map_err(|_| no_such())?;
    Ok(String::from_utf8_lossy(&commit).trim().to_string())
}

/// A baseline must be a commit the checkout descends from: the last applied
/// state, or the pull request's target. A tag moved to a commit elsewhere
/// (one whose config matches a hand edit on a server) would turn drift
/// into "pending" and silence the drift alarm.
fn is_ancestor_of_head(dir: &Path, reference: &str, commit: &str) -> Result<(), BaselineError> {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(dir)
        .args(["merge-base", "--is-ancestor", commit, "HEAD"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let out = command.output().map_err(|e| {
        BaselineError::NoGit(format!(
            "--baseline needs the `git` command, which could not be run: {e}"
        ))
    })?;
    match out.status.code() {
        Some(0) => Ok(()),
        Some(1) => Err(BaselineError::NotAnAncestor(format!(
            "--baseline `{reference}` ({}) is not an ancestor of the checked-out commit (HEAD): a baseline must be a commit this checkout descends from (the last applied commit, or the target branch of a pull request: check out its merge commit); a tag or branch moved elsewhere cannot stand for the applied state",
            commit.chars().take(12).collect::<String>()
        ))),
        _ => Err(BaselineError::Read(format!(
            "--baseline `{reference}`: `git merge-base --is-ancestor` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))),
    }
}

/// No directory on the way to the configuration (from the repository's top)
/// is a symbolic link at `commit`.
fn no_symlink_at(dir: &Path, reference: &str, commit: &str) -> Result<(), BaselineError> {
    let prefix = git(dir, &["rev-parse", "--show-prefix"], None)
        .map_err(|e| BaselineError::Read(format!("--baseline `{reference}`: {e}")))?;
    let prefix = String::from_utf8_lossy(&prefix)
        .trim()
        .trim_end_matches('/')
        .to_string();
    if prefix.is_empty() {
        return Ok(());
    }
    let parts: Vec<&str> = prefix.split('/').collect();
    let ways: Vec<String> = (1..=parts.len())
        .map(|n| parts.get(..n).unwrap_or_default().join("/"))
        .collect();
    let mut args = vec!["ls-tree", "--full-tree", "-z", commit, "--"];
    args.extend(ways.iter().map(String::as_str));
    let listing = git(dir, &args, None)
        .map_err(|e| BaselineError::Read(format!("--baseline `{reference}`: {e}")))?;
    for record in listing.split(|b| *b == 0).filter(|r| !r.is_empty()) {
        let record = String::from_utf8_lossy(record);
        if let (Some(("120000", _)), Some((_, name))) =
            (record.split_once(' '), record.split_once('\t'))
        {
            return Err(BaselineError::Symlink(format!(
                "--baseline `{reference}`: `{name}` is a symbolic link at that revision, on the way to the configuration; --baseline reads the configuration by its path, never through a link"
            )));
        }
    }
    Ok(())
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
mod tests;
