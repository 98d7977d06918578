//! Files appform reads and writes itself: bounded reads of regular files,
//! paths confined to their roots (by name and through links), the
//! directories `file:` secrets may also live in, and atomic private writes.

use std::path::{Path, PathBuf};

/// Reads a regular file of at most `max` bytes: a FIFO, a device (a config
/// symlinked to `/dev/zero`) or a directory is refused at once, and a file
/// that grows past `max` while it is read is refused too, never read whole.
pub fn read_bounded(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a directory, FIFO or device)",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("larger than {max} bytes"),
        ));
    }
    Ok(bytes)
}

/// `APPFORM_SECRET_DIRS`: directories outside the configuration where `file:`
/// secrets may also live (mounted secrets such as `/run/secrets`), separated
/// by `:`. Relative entries are ignored: they would depend on where appform runs.
pub const SECRET_DIRS_VAR: &str = "APPFORM_SECRET_DIRS";

/// The directories [`SECRET_DIRS_VAR`] names.
pub fn secret_dirs() -> Vec<PathBuf> {
    std::env::var_os(SECRET_DIRS_VAR)
        .map(|v| {
            std::env::split_paths(&v)
                .filter(|p| p.is_absolute())
                .collect()
        })
        .unwrap_or_default()
}

/// `path` with `.` and `..` resolved by their names alone (no file access);
/// a relative path keeps the `..` it cannot resolve at its front.
pub fn lexical(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                Some(Component::ParentDir) | Some(Component::CurDir) | None => out.push(".."),
            },
            other => out.push(other),
        }
    }
    out
}

/// Whether `path` is inside one of `roots` by its name alone (`..` cannot
/// climb out; links are not followed).
pub fn stays_within_by_name(path: &Path, roots: &[PathBuf]) -> bool {
    use std::path::Component;
    // Both absolute (from the working directory), so `/etc/x` is never
    // compared with a relative root.
    let absolute = |p: &Path| lexical(&std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()));
    let named = absolute(path);
    roots.iter().any(|root| {
        named
            .strip_prefix(absolute(root))
            .is_ok_and(|rest| !rest.components().any(|c| c == Component::ParentDir))
    })
}

/// Whether `path` stays inside one of `roots`: by its name (`..` cannot climb
/// out) and, when it exists, once every symbolic link is followed (a link
/// inside a root cannot point out of it).
pub fn stays_within(path: &Path, roots: &[PathBuf]) -> bool {
    if !stays_within_by_name(path, roots) {
        return false;
    }
    match std::fs::canonicalize(path) {
        // Not there (yet): judged by its name; reading it later fails anyway.
        Err(_) => true,
        Ok(real) => roots
            .iter()
            .any(|r| std::fs::canonicalize(r).is_ok_and(|root| real.starts_with(root))),
    }
}

/// The most bytes a `file:` secret or a `ca_file` may hold.
pub const MAX_SMALL_FILE_BYTES: u64 = 1024 * 1024;

/// Writes a file that may hold secrets (a plan file with its configuration,
/// the sandbox's state): through a temporary file with a random name, created
/// exclusively and 0600 from the start, renamed over `path`. A `path` that is
/// a symbolic link is refused, never followed.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically(path, bytes, 0o600)
}

/// [`write_private`] with another final mode (`0o644` for a metrics file a
/// collector reads), set on the temporary file's handle before the rename:
/// never by path after it, where another process could have put something else.
pub fn write_atomically(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a symbolic link; refusing to replace it",
        ));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".appform.")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map(|_| ()).map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_within_their_roots_by_name_and_by_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("conf");
        std::fs::create_dir_all(root.join("secrets")).unwrap();
        std::fs::write(root.join("secrets/awx"), "token\n").unwrap();
        std::fs::write(dir.path().join("outside"), "shadow\n").unwrap();
        let roots = [root.clone()];
        assert!(stays_within(&root.join("secrets/awx"), &roots));
        assert!(stays_within(&root.join("servers/../secrets/awx"), &roots));
        assert!(stays_within(&root.join("not/there/yet"), &roots));
        assert!(!stays_within(&root.join("../outside"), &roots));
        assert!(!stays_within(&root.join("servers/../../outside"), &roots));
        assert!(!stays_within(Path::new("/etc/passwd"), &roots));
        assert!(!stays_within(Path::new("/nonexistent/x"), &roots));
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(dir.path().join("outside"), root.join("secrets/link"))
                .unwrap();
            assert!(!stays_within(&root.join("secrets/link"), &roots));
            let extra = [root.clone(), dir.path().to_path_buf()];
            assert!(stays_within(&root.join("secrets/link"), &extra));
        }
        assert_eq!(lexical(Path::new("../a/../../b")), PathBuf::from("../../b"));
        assert_eq!(lexical(Path::new("/a/../../b")), PathBuf::from("/b"));
    }

    #[cfg(unix)]
    #[test]
    fn private_files_are_0600_and_never_written_through_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        write_private(&path, b"{}").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        write_private(&path, b"{\"a\": 1}").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "{\"a\": 1}");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        assert!(write_private(&link, b"x").is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
    }
}
