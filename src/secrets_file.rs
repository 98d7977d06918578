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
    /// `--secrets-out PATH` with its recipients (`--secrets-recipient`,
    /// `--secrets-recipients-file`: encrypted when there are any), checked
    /// before anything is planned; `None` without a path. Recipients given
    /// without a path are still checked.
    pub fn open(
        path: Option<&Path>,
        keys: &[String],
        files: &[PathBuf],
    ) -> Result<Option<SecretsFile>, SecretsFileError> {
        let sealed = !keys.is_empty() || !files.is_empty();
        let recipients = if sealed {
            Some(recipients(keys, files)?)
        } else {
            None
        };
        let Some(path) = path else {
            return Ok(None);
        };
        let file = match recipients {
            Some(r) => SecretsFile::encrypted(path, r),
            None => SecretsFile::new(path),
        };
        file.check()?;
        Ok(Some(file))
    }

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

    /// A clear-text file inside a git work tree that does not ignore it:
    /// the warning to print (an encrypted file may be committed).
    pub fn unignored_warning(&self) -> Option<String> {
        if self.sealed.is_some() {
            return None;
        }
        let top = crate::config::git::unignored_in_work_tree(&self.path)?;
        Some(format!(
            "--secrets-out `{}` is inside the git work tree `{}`, which does not ignore it: client secrets written there would be one `git add` away from the repository; add it to .gitignore, write it outside the work tree, or encrypt it with --secrets-recipient",
            self.path.display(),
            top.display()
        ))
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
mod tests;
