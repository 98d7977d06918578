//! `--secrets-out FILE`: client secrets that a server shows once (docs/reference.md §3.5),
//! merged into a JSON file created with mode 0600 and never truncated: each
//! write reads what is there, adds the new entry and replaces the file atomically.
//!
//! With age recipients (`--secrets-recipient`), the file is the same JSON
//! document encrypted (ASCII-armoured age) and readable only with a matching
//! identity: appform cannot read it back, so it must not exist yet (it is
//! never merged or overwritten), this run's entries are kept in memory, and
//! each write encrypts all of them again.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use crate::secret::Secret;

/// Why the secrets file could not be read, checked or written. Every
/// variant names the file; none holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum SecretsFileError {
    #[error("--secrets-recipient: {0}")]
    AgeUnavailable(&'static str),
    #[error("{from}: `{key}` is not an age public key (`age1…`, from `age-keygen -y`): {reason}")]
    BadRecipient {
        from: String,
        key: String,
        reason: String,
    },
    #[error("--secrets-recipients-file `{}`: {source}", path.display())]
    RecipientsFileUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{from} names no recipient")]
    NoRecipient { from: String },
    #[error("--secrets-out `{}` exists; an encrypted secrets file is never merged or replaced (appform cannot read it back): choose a new name, for example with the date in it", .0.display())]
    EncryptedExists(PathBuf),
    #[error("--secrets-out: cannot create directory `{}`: {source}", dir.display())]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("--secrets-out `{}` is a symbolic link; refusing to read or replace it", .0.display())]
    Symlink(PathBuf),
    #[error("--secrets-out: the directory `{}` is writable by every user; choose a private directory", .0.display())]
    WorldWritableDir(PathBuf),
    #[error("--secrets-out `{}` exists but is not a JSON object; refusing to overwrite it", .0.display())]
    NotAnObject(PathBuf),
    #[error("cannot read --secrets-out `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the secrets file: {0}")]
    Encode(serde_json::Error),
    #[error("cannot encrypt --secrets-out `{}`: {reason}", path.display())]
    Encrypt { path: PathBuf, reason: String },
    #[error("cannot write --secrets-out `{}`: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

pub struct SecretsFile {
    path: PathBuf,
    sealed: Option<Sealed>,
}

/// An encrypted secrets file: its recipients and this run's entries.
struct Sealed {
    recipients: Vec<crate::seal::Recipient>,
    entries: std::sync::Mutex<Map<String, Value>>,
}

/// Age X25519 recipients (`age1…`) from `--secrets-recipient` values and the
/// lines of `--secrets-recipients-file` files (blank lines and `#` comments
/// skipped, as `age -R` reads them). Each bad one is named.
pub fn recipients(
    keys: &[String],
    files: &[PathBuf],
) -> Result<Vec<crate::seal::Recipient>, SecretsFileError> {
    let asked = !keys.is_empty() || !files.is_empty();
    if asked && !crate::seal::AVAILABLE {
        return Err(SecretsFileError::AgeUnavailable(crate::seal::UNAVAILABLE));
    }
    let mut out = Vec::new();
    let parse = |key: &str, from: &str| {
        crate::seal::parse_recipient(key).map_err(|reason| SecretsFileError::BadRecipient {
            from: from.to_string(),
            key: key.to_string(),
            reason,
        })
    };
    for key in keys {
        out.push(parse(key.trim(), "--secrets-recipient")?);
    }
    for file in files {
        let bytes = crate::files::read_bounded(file, crate::files::MAX_SMALL_FILE_BYTES).map_err(
            |source| SecretsFileError::RecipientsFileUnreadable {
                path: file.clone(),
                source,
            },
        )?;
        let text = String::from_utf8_lossy(&bytes);
        let from = format!("--secrets-recipients-file `{}`", file.display());
        let before = out.len();
        for line in text.lines().map(str::trim) {
            if !line.is_empty() && !line.starts_with('#') {
                out.push(parse(line, &from)?);
            }
        }
        if out.len() == before {
            return Err(SecretsFileError::NoRecipient { from });
        }
    }
    Ok(out)
}

impl SecretsFile {
    pub fn new(path: &Path) -> Self {
        SecretsFile {
            path: path.to_path_buf(),
            sealed: None,
        }
    }

    /// A secrets file encrypted to `recipients` (at least one).
    pub fn encrypted(path: &Path, recipients: Vec<crate::seal::Recipient>) -> Self {
        SecretsFile {
            path: path.to_path_buf(),
            sealed: Some(Sealed {
                recipients,
                entries: std::sync::Mutex::new(Map::new()),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks before any write that the file can be read (if it exists) and
    /// that its directory exists, so a secret is never lost to a late error.
    pub fn check(&self) -> Result<(), SecretsFileError> {
        if self.sealed.is_some() && std::fs::symlink_metadata(&self.path).is_ok() {
            return Err(SecretsFileError::EncryptedExists(self.path.clone()));
        }
        self.read().map(|_| ())?;
        let dir = self.dir();
        std::fs::create_dir_all(&dir).map_err(|source| SecretsFileError::CreateDir { dir, source })
    }

    fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    fn read(&self) -> Result<Map<String, Value>, SecretsFileError> {
        // A symlink is never followed: merging its target would read (and the
        // rename replace) a file somebody else chose.
        if std::fs::symlink_metadata(&self.path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(SecretsFileError::Symlink(self.path.clone()));
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let dir = self.dir();
            if let Ok(meta) = std::fs::metadata(&dir) {
                let mode = meta.permissions().mode();
                // World-writable without the sticky bit: anyone could swap the file.
                if mode & 0o002 != 0 && mode & 0o1000 == 0 {
                    return Err(SecretsFileError::WorldWritableDir(dir));
                }
            }
        }
        if let Some(sealed) = &self.sealed {
            return Ok(sealed.entries.lock().map(|m| m.clone()).unwrap_or_default());
        }
        match std::fs::read_to_string(&self.path) {
            Ok(text) if text.trim().is_empty() => Ok(Map::new()),
            Ok(text) => match serde_json::from_str::<Value>(&text) {
                Ok(Value::Object(m)) => Ok(m),
                _ => Err(SecretsFileError::NotAnObject(self.path.clone())),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Map::new()),
            Err(source) => Err(SecretsFileError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Adds `"<server>/<app>": {client_id, client_secret, created_at}`.
    pub fn record(
        &self,
        server: &str,
        app: &str,
        client_id: &str,
        secret: &Secret,
    ) -> Result<(), SecretsFileError> {
        self.insert(
            server,
            app,
            json!({
                "client_id": client_id,
                "client_secret": secret.expose(),
                "created_at": now(),
            }),
        )
    }

    /// Records that the secret of a new application was lost:
    /// `{client_id, client_secret: null, secret_lost: true, reason, created_at}`,
    /// so that whoever reads the file for the secret learns it is not there.
    pub fn record_lost(
        &self,
        server: &str,
        app: &str,
        client_id: &str,
        reason: &str,
    ) -> Result<(), SecretsFileError> {
        self.insert(
            server,
            app,
            json!({
                "client_id": if client_id.is_empty() { Value::Null } else { json!(client_id) },
                "client_secret": null,
                "secret_lost": true,
                "reason": reason,
                "created_at": now(),
            }),
        )
    }

    /// Notes, before a create whose answer carries a secret, that the create
    /// is under way: `pending_create_since` in the app's entry (an existing
    /// entry keeps its other fields). A run killed before the answer was saved
    /// leaves the mark, and the next run reports the secret as lost instead of
    /// losing it silently. [`SecretsFile::record`] and
    /// [`SecretsFile::record_lost`] replace the entry, mark included.
    pub fn mark_pending(&self, server: &str, app: &str) -> Result<(), SecretsFileError> {
        let key = format!("{server}/{app}");
        let mut map = self.read()?;
        match map.get_mut(&key) {
            Some(Value::Object(entry)) => {
                entry.insert("pending_create_since".into(), json!(now()));
            }
            _ => {
                map.insert(key, json!({ "pending_create_since": now() }));
            }
        }
        self.write(map)
    }

    /// Removes the mark of a create that certainly did not happen (refused).
    pub fn clear_pending(&self, server: &str, app: &str) -> Result<(), SecretsFileError> {
        let key = format!("{server}/{app}");
        let mut map = self.read()?;
        if let Some(Value::Object(entry)) = map.get_mut(&key) {
            if entry.remove("pending_create_since").is_none() {
                return Ok(());
            }
            if entry.is_empty() {
                map.shift_remove(&key);
            }
            return self.write(map);
        }
        Ok(())
    }

    /// `(server, app)` of every create an earlier run marked and never finished.
    pub fn pending(&self) -> Result<Vec<(String, String)>, SecretsFileError> {
        let map = self.read()?;
        let mut out: Vec<(String, String)> = map
            .iter()
            .filter(|(_, v)| v.get("pending_create_since").is_some())
            .filter_map(|(k, _)| k.split_once('/'))
            .map(|(s, a)| (s.to_string(), a.to_string()))
            .collect();
        out.sort();
        Ok(out)
    }

    fn insert(&self, server: &str, app: &str, entry: Value) -> Result<(), SecretsFileError> {
        let mut map = self.read()?;
        map.insert(format!("{server}/{app}"), entry);
        self.write(map)
    }

    fn write(&self, map: Map<String, Value>) -> Result<(), SecretsFileError> {
        let mut text = serde_json::to_string_pretty(&Value::Object(map.clone()))
            .map_err(SecretsFileError::Encode)?;
        text.push('\n');
        let bytes = match &self.sealed {
            None => text.into_bytes(),
            Some(sealed) => {
                let bytes = crate::seal::encrypt(&sealed.recipients, text.as_bytes()).map_err(
                    |reason| SecretsFileError::Encrypt {
                        path: self.path.clone(),
                        reason,
                    },
                )?;
                if let Ok(mut entries) = sealed.entries.lock() {
                    *entries = map;
                }
                bytes
            }
        };
        // A temporary file with a random name, created exclusively (never
        // an existing file or a symlink planted at a predictable name) and
        // 0600 from its creation; renamed over the file when complete.
        let write = || -> std::io::Result<()> {
            let mut tmp = tempfile::Builder::new()
                .prefix(".appform-secrets.")
                .tempfile_in(self.dir())?;
            tmp.write_all(&bytes)?;
            tmp.as_file().sync_all()?;
            tmp.persist(&self.path).map(|_| ()).map_err(|e| e.error)
        };
        write().map_err(|source| SecretsFileError::Write {
            path: self.path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_merged_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, r#"{"old/app": {"client_id": "x"}}"#).unwrap();
        let f = SecretsFile::new(&path);
        f.check().unwrap();
        f.record("awx-prod", "grafana", "cid", &Secret::new("s3cr3t"))
            .unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["old/app"]["client_id"], "x");
        assert_eq!(v["awx-prod/grafana"]["client_secret"], "s3cr3t");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    /// The old writer used `.<name>.tmp-<pid>`, created with truncate and
    /// following symlinks: a local user could pre-create it to read the secret
    /// or plant a symlink to redirect the write. Neither works now.
    #[cfg(unix)]
    #[test]
    fn a_planted_temporary_file_or_symlink_gets_nothing() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let victim = dir.path().join("victim.txt");
        std::fs::write(&victim, "keep me").unwrap();
        let planted = dir
            .path()
            .join(format!(".secrets.json.tmp-{}", std::process::id()));
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        let readable = dir.path().join("readable");
        std::fs::write(&readable, "").unwrap();
        std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o666)).unwrap();
        let f = SecretsFile::new(&path);
        f.record("awx-prod", "grafana", "cid", &Secret::new("s3cr3t"))
            .unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep me");
        assert!(
            std::fs::symlink_metadata(&planted)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read_to_string(&readable).unwrap(), "");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // No temporary file is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.starts_with(".appform-secrets."))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_file_or_a_world_writable_directory_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere.json");
        std::fs::write(&target, "{}").unwrap();
        let link = dir.path().join("secrets.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = SecretsFile::new(&link).check().unwrap_err();
        assert!(err.to_string().contains("is a symbolic link"), "{err}");
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let err = SecretsFile::new(&open.join("s.json")).check().unwrap_err();
        assert!(err.to_string().contains("writable by every user"), "{err}");
        // /tmp-like: world-writable with the sticky bit is fine.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        SecretsFile::new(&open.join("s.json")).check().unwrap();
    }

    #[test]
    fn a_lost_secret_is_recorded_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let f = SecretsFile::new(&path);
        f.record_lost("awx", "grafana", "cid", "the answer was lost")
            .unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["awx/grafana"]["secret_lost"], true);
        assert_eq!(v["awx/grafana"]["client_secret"], Value::Null);
        assert_eq!(v["awx/grafana"]["client_id"], "cid");
    }

    #[test]
    fn a_pending_create_is_marked_and_cleared_by_its_outcome() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        let f = SecretsFile::new(&path);
        f.record("awx", "old", "cid-old", &Secret::new("s-old"))
            .unwrap();
        f.mark_pending("awx", "old").unwrap();
        f.mark_pending("awx", "new").unwrap();
        assert_eq!(
            f.pending().unwrap(),
            [
                ("awx".to_string(), "new".to_string()),
                ("awx".to_string(), "old".to_string())
            ]
        );
        // A refused create leaves the earlier secret as it was.
        f.clear_pending("awx", "old").unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(v["awx/old"]["client_secret"], "s-old");
        assert!(v["awx/old"].get("pending_create_since").is_none());
        // A create that returned replaces the entry, mark included.
        f.record("awx", "new", "cid", &Secret::new("s")).unwrap();
        assert!(f.pending().unwrap().is_empty());
        f.mark_pending("awx", "gone").unwrap();
        f.clear_pending("awx", "gone").unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(v.get("awx/gone").is_none(), "{v}");
    }

    #[test]
    fn a_file_that_is_not_json_is_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, "precious notes").unwrap();
        let f = SecretsFile::new(&path);
        assert!(f.check().is_err());
        assert!(f.record("s", "a", "c", &Secret::new("x")).is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious notes");
    }
}

#[cfg(all(test, feature = "age"))]
mod encrypted_tests {
    use super::*;

    #[test]
    fn every_entry_of_the_run_is_in_the_encrypted_file_and_nothing_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.age");
        let identity = age::x25519::Identity::generate();
        let file = SecretsFile::encrypted(&path, vec![identity.to_public()]);
        file.check().unwrap();
        file.mark_pending("awx", "one").unwrap();
        file.record("awx", "one", "id-1", &Secret::new("first-secret"))
            .unwrap();
        file.record("awx", "two", "id-2", &Secret::new("second-secret"))
            .unwrap();
        let sealed = std::fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains("secret\""), "{text}");
        let plain = age::decrypt(&identity, &sealed).unwrap();
        let doc: Value = serde_json::from_slice(&plain).unwrap();
        assert_eq!(doc["awx/one"]["client_secret"], "first-secret");
        assert_eq!(doc["awx/two"]["client_secret"], "second-secret");
        assert!(doc["awx/one"].get("pending_create_since").is_none());
        // It exists now: a second run must pick another name.
        let again = SecretsFile::encrypted(&path, vec![identity.to_public()]);
        assert!(again.check().unwrap_err().to_string().contains("exists"));
    }

    #[test]
    fn recipients_are_read_from_values_and_files_and_bad_ones_named() {
        let dir = tempfile::tempdir().unwrap();
        let key = age::x25519::Identity::generate().to_public().to_string();
        let list = dir.path().join("recipients");
        std::fs::write(&list, format!("# team\n\n{key}\n")).unwrap();
        assert_eq!(
            recipients(std::slice::from_ref(&key), std::slice::from_ref(&list))
                .unwrap()
                .len(),
            2
        );
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "# nobody\n").unwrap();
        assert!(
            recipients(&[], &[empty])
                .unwrap_err()
                .to_string()
                .contains("names no recipient")
        );
        assert!(
            recipients(&["ssh-ed25519 AAAA".into()], &[])
                .unwrap_err()
                .to_string()
                .contains("is not an age public key")
        );
    }
}
