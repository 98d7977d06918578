//! Loading the configuration: find the files, read them, check each one, merge.
//! The only module that reads config files. It reports every problem of every
//! file at once ([`ConfigErrors`]) and never panics, whatever the bytes.

mod checking;
pub mod git;
mod parallel;
pub mod problem;
pub mod raw;
pub mod source;
pub mod tree_deserializer;
pub mod validate;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::model::Config;
pub use problem::{Code, ConfigErrors, Problem, SharedText};
use source::Span;

/// Config files larger than this are refused: a reviewed config is far smaller,
/// and the limit keeps a stray data file from eating memory.
pub const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

/// Where the configuration is read from when `-c` is not given (README
/// "Configuration"): the `appform/` directory when there is one, else the
/// working directory, where YAML files that are not appform's (no top-level
/// `servers:` or `policy:`, like a `docker-compose.yml`) are skipped with a
/// warning instead of failing the run.
pub fn default_location() -> (PathBuf, Discovery) {
    let dir = Path::new("appform");
    if dir.is_dir() {
        (dir.to_path_buf(), Discovery::Strict)
    } else {
        (PathBuf::from("."), Discovery::SkipUnrelated)
    }
}

/// How a directory's YAML files are taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Discovery {
    /// Every file must be an appform file (`-c PATH`; docs/reference.md §1.1).
    Strict,
    /// Files without `servers:` or `policy:` are skipped (the default location).
    SkipUnrelated,
}

/// Loads and validates `path` (a YAML file or a directory searched recursively).
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    load_with(path, Discovery::Strict)
}

/// [`load`], choosing how unrelated files are treated.
pub fn load_with(path: &Path, discovery: Discovery) -> Result<Config, ConfigErrors> {
    let files = match discover(path) {
        Ok(f) => f,
        Err(p) => return Err(ConfigErrors { problems: vec![p] }),
    };
    let root = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let mut problems = Vec::new();
    let mut inputs = Vec::new();
    let roots = [root.clone()];
    for file in files {
        // A file found in the directory (not one named by `-c`) that is a
        // link out of it is not read: its content is never shown.
        if path.is_dir() && !crate::files::stays_within(&file, &roots) {
            problems.push(
                Problem::new(
                    Code::OutsideRoot,
                    format!(
                        "`{}` is a symbolic link that leads out of the configuration directory `{}`; it was not read",
                        file.display(),
                        root.display()
                    ),
                )
                .help("keep the configuration's files inside its directory (copy the file in, or pass it with -c)"),
            );
            continue;
        }
        if let Some(bytes) = read_bytes(&file, &mut problems) {
            inputs.push((file, bytes));
        }
    }
    let result = load_files_with(&root, inputs, discovery);
    if problems.is_empty() {
        result
    } else {
        let mut all = problems;
        if let Err(e) = result {
            all.extend(e.problems);
        }
        Err(ConfigErrors { problems: all })
    }
}

/// Validates files already in memory (`root` is the directory names are relative
/// to, for the digest). No file or network access.
pub fn load_files(root: &Path, files: Vec<(PathBuf, Vec<u8>)>) -> Result<Config, ConfigErrors> {
    load_files_with(root, files, Discovery::Strict)
}

/// [`load_files`], choosing how unrelated files are treated.
pub fn load_files_with(
    root: &Path,
    files: Vec<(PathBuf, Vec<u8>)>,
    discovery: Discovery,
) -> Result<Config, ConfigErrors> {
    checking::check_files(root, files, discovery)
}

/// The YAML files named by `path`, sorted; hidden entries and `target/` skipped.
fn discover(path: &Path) -> Result<Vec<PathBuf>, Problem> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Problem::new(
            Code::NotFound,
            format!("cannot read `{}`: {e}", path.display()),
        )
        .help("pass a YAML file or a directory with `-c`")
    })?;
    if !meta.is_dir() {
        // A FIFO or device named by -c is refused when read, with that reason.
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    walk(path, &mut out)
        .map_err(|e| Problem::new(Code::Io, format!("cannot list `{}`: {e}", path.display())))?;
    out.sort();
    if out.is_empty() {
        return Err(Problem::new(
            Code::NoFiles,
            format!("no `*.yaml` or `*.yml` files under `{}`", path.display()),
        )
        .help("pass the directory that holds your appform configuration with `-c`"));
    }
    Ok(out)
}

/// Directories already entered, by canonical path: a symlink loop is walked once.
type Visited = std::collections::BTreeSet<PathBuf>;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    walk_from(dir, out, &mut Visited::new())
}

fn walk_from(dir: &Path, out: &mut Vec<PathBuf>, visited: &mut Visited) -> std::io::Result<()> {
    if !visited.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') || name == "target" {
            continue;
        }
        let path = entry.path();
        let ty = entry.file_type()?;
        if ty.is_dir() || (ty.is_symlink() && path.is_dir()) {
            walk_from(&path, out, visited)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
    Ok(())
}

fn read_bytes(file: &Path, problems: &mut Vec<Problem>) -> Option<Vec<u8>> {
    let name = file.display().to_string();
    let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
    if size > MAX_FILE_BYTES {
        problems.push(too_large(&name, size));
        return None;
    }
    match crate::files::read_bounded(file, MAX_FILE_BYTES) {
        Ok(b) => Some(b),
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            problems.push(
                Problem::new(
                    Code::TooLarge,
                    format!("`{name}` is larger than {MAX_FILE_BYTES} bytes; config files are limited to that"),
                )
                .help("split the configuration into several files in one directory"),
            );
            None
        }
        Err(e) => {
            problems.push(Problem::new(Code::Io, format!("cannot read `{name}`: {e}")));
            None
        }
    }
}

fn too_large(name: &str, size: u64) -> Problem {
    Problem::new(
        Code::TooLarge,
        format!("`{name}` is {size} bytes; config files are limited to {MAX_FILE_BYTES} bytes"),
    )
    .help("split the configuration into several files in one directory")
}

pub(super) fn utf8_text(bytes: &[u8], name: &str, problems: &mut Vec<Problem>) -> Option<String> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        problems.push(too_large(name, bytes.len() as u64));
        return None;
    }
    match std::str::from_utf8(bytes) {
        Ok(t) => Some(t.to_string()),
        Err(e) => {
            let at = e.valid_up_to();
            // The lossy text has the same bytes up to the first bad one.
            let lossy = String::from_utf8_lossy(bytes).into_owned();
            let src = SharedText::new(name, Arc::from(lossy));
            problems.push(
                Problem::new(
                    Code::NotUtf8,
                    format!("`{name}` is not valid UTF-8 (first bad byte at offset {at})"),
                )
                .at(&src, Span { offset: at, len: 1 }, "invalid UTF-8")
                .help("save the file as UTF-8"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whm_file(n: usize, server_name: &str) -> Vec<u8> {
        format!(
            "servers:\n  {server_name}:\n    whm:\n      url: https://whm{n}.example.com:2087\n      auth: {{username: root, token: env:T}}\n      applications:\n        app-{n}: {{data: {{token_name: t}}}}\n"
        )
        .into_bytes()
    }

    /// Files are read and checked in parallel, but everything that depends
    /// on their order is that of one pass in file order.
    #[test]
    fn parallel_checking_keeps_the_file_order() {
        let root = PathBuf::from("/cfg");
        let mut files = Vec::new();
        for n in 0..40 {
            // Every fifth file is not appform's and is skipped.
            let bytes = if n % 5 == 2 {
                b"services:\n  web: {image: nginx}\n".to_vec()
            } else {
                whm_file(n, &format!("whm-{n:02}"))
            };
            files.push((root.join(format!("f{n:02}.yaml")), bytes));
        }
        let config = load_files_with(&root, files.clone(), Discovery::SkipUnrelated).unwrap();
        let kept: Vec<&str> = config.sources.iter().map(|s| s.relative.as_str()).collect();
        let expected: Vec<String> = (0..40)
            .filter(|n| n % 5 != 2)
            .map(|n| format!("f{n:02}.yaml"))
            .collect();
        assert_eq!(kept, expected);
        assert_eq!(config.skipped.len(), 8);
        assert!(config.warnings.first().unwrap().contains("f02.yaml"));
        assert!(config.warnings.last().unwrap().contains("f37.yaml"));
        // Each server and app points at its own file among the sources.
        for server in &config.servers {
            let file = &config.sources[server.origin.file].relative;
            let n: usize = server.name.trim_start_matches("whm-").parse().unwrap();
            assert_eq!(file, &format!("f{n:02}.yaml"), "{}", server.name);
            assert_eq!(server.apps[0].origin.file, server.origin.file);
        }
        // The same digest as any other run (it hashes the files in order).
        let again = load_files_with(&root, files.clone(), Discovery::SkipUnrelated).unwrap();
        assert_eq!(config.digest, again.digest);

        // Problems come out in file order: each file names an invalid server.
        let broken: Vec<(PathBuf, Vec<u8>)> = (0..40)
            .map(|n| {
                (
                    root.join(format!("f{n:02}.yaml")),
                    whm_file(n, &format!("bad name {n:02}")),
                )
            })
            .collect();
        let errors = load_files(&root, broken).unwrap_err();
        let order: Vec<String> = errors
            .problems
            .iter()
            .filter(|p| p.code == Code::ServerName)
            .map(|p| p.message.clone())
            .collect();
        let expected: Vec<String> = (0..40)
            .map(|n| format!("`bad name {n:02}` is not a valid server name"))
            .collect();
        assert_eq!(order, expected);
    }
}
