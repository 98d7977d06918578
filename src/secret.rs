//! Credentials in the configuration: references (`env:NAME`, `file:PATH`) and the
//! [`Secret`] newtype whose Debug and Display never show the value.
//! Parsing is pure; only [`SecretRef::resolve`] reads the environment or a file.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::files::{MAX_SMALL_FILE_BYTES, read_bounded};

/// A secret value. It prints as `(sensitive)` everywhere; [`Secret::expose`] is the
/// only way to the text, and is meant for request headers and bodies.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(sensitive)")
    }
}

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// `env:NAME`
    Env(String),
    /// `file:PATH`, resolved relative to the config file that names it.
    File(PathBuf),
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Env(name) => write!(f, "env:{name}"),
            SecretRef::File(path) => write!(f, "file:{}", path.display()),
        }
    }
}

/// A non-secret credential (`username`, `client_id`): a literal or a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Literal(String),
    Ref(SecretRef),
}

/// Why a reference is not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefError {
    /// Not of the form `env:…` / `file:…` (for a secret field: a literal secret).
    NotAReference,
    /// `env:` followed by something that is not an environment variable name.
    BadEnvName(String),
    /// `file:` with nothing after it.
    EmptyPath,
}

/// Parses `env:NAME` or `file:PATH`. `base_dir` is the directory of the config file.
pub fn parse_ref(text: &str, base_dir: &Path) -> Result<SecretRef, RefError> {
    if let Some(name) = text.strip_prefix("env:") {
        if is_env_name(name) {
            Ok(SecretRef::Env(name.to_string()))
        } else {
            Err(RefError::BadEnvName(name.to_string()))
        }
    } else if let Some(path) = text.strip_prefix("file:") {
        if path.trim().is_empty() {
            Err(RefError::EmptyPath)
        } else {
            Ok(SecretRef::File(base_dir.join(path)))
        }
    } else {
        Err(RefError::NotAReference)
    }
}

/// A literal unless it is written as a reference (then it must be a valid one).
pub fn parse_credential(text: &str, base_dir: &Path) -> Result<Credential, RefError> {
    match parse_ref(text, base_dir) {
        Ok(r) => Ok(Credential::Ref(r)),
        Err(RefError::NotAReference) => Ok(Credential::Literal(text.to_string())),
        Err(e) => Err(e),
    }
}

/// POSIX-style names: a letter or `_`, then letters, digits or `_`.
pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Why a reference could not be resolved at plan time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error("environment variable `{0}` is not set")]
    EnvUnset(String),
    #[error("environment variable `{0}` is empty")]
    EnvEmpty(String),
    #[error("cannot read secret file `{path}`: {message}")]
    File { path: String, message: String },
    #[error("secret file `{0}` is empty")]
    FileEmpty(String),
    #[error("secret file `{0}` holds more than one line; a `file:` secret is a single line")]
    FileLines(String),
}

impl SecretRef {
    /// Reads the value: the variable's value, or the file's contents with the
    /// trailing newline trimmed (docs/reference.md §1.1).
    pub fn resolve(&self) -> Result<Secret, ResolveError> {
        match self {
            SecretRef::Env(name) => match std::env::var(name) {
                Ok(v) if v.is_empty() => Err(ResolveError::EnvEmpty(name.clone())),
                Ok(v) => Ok(Secret(v)),
                Err(_) => Err(ResolveError::EnvUnset(name.clone())),
            },
            SecretRef::File(path) => match read_bounded(path, MAX_SMALL_FILE_BYTES).and_then(|b| {
                String::from_utf8(b).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text")
                })
            }) {
                Ok(text) => {
                    let trimmed = text
                        .strip_suffix('\n')
                        .map(|t| t.strip_suffix('\r').unwrap_or(t))
                        .unwrap_or(&text);
                    if trimmed.is_empty() {
                        Err(ResolveError::FileEmpty(path.display().to_string()))
                    } else if trimmed.contains(['\n', '\r']) {
                        // Never sent whole as a password, never shown.
                        Err(ResolveError::FileLines(path.display().to_string()))
                    } else {
                        Ok(Secret(trimmed.to_string()))
                    }
                }
                Err(e) => Err(ResolveError::File {
                    path: path.display().to_string(),
                    message: e.to_string(),
                }),
            },
        }
    }
}

impl Credential {
    pub fn resolve(&self) -> Result<String, ResolveError> {
        match self {
            Credential::Literal(v) => Ok(v.clone()),
            Credential::Ref(r) => r.resolve().map(|s| s.0),
        }
    }
}

/// Where secrets come from: the environment and files, or (with `--sandbox`)
/// the sandbox's own credentials for references that are not set.
pub trait SecretSource: Sync {
    fn secret(&self, reference: &SecretRef, field: &str) -> Result<Secret, ResolveError>;
    fn credential(&self, credential: &Credential, field: &str) -> Result<String, ResolveError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_env_and_file_references() {
        let base = Path::new("/etc/appform");
        assert_eq!(
            parse_ref("env:AWX_TOKEN", base),
            Ok(SecretRef::Env("AWX_TOKEN".into()))
        );
        assert_eq!(
            parse_ref("file:secrets/awx", base),
            Ok(SecretRef::File(PathBuf::from("/etc/appform/secrets/awx")))
        );
        assert_eq!(
            parse_ref("file:/abs/path", base),
            Ok(SecretRef::File(PathBuf::from("/abs/path")))
        );
    }

    #[test]
    fn rejects_literals_and_bad_references() {
        let base = Path::new(".");
        assert_eq!(parse_ref("hunter2", base), Err(RefError::NotAReference));
        assert_eq!(parse_ref("ENV:X", base), Err(RefError::NotAReference));
        assert_eq!(
            parse_ref("env:1BAD", base),
            Err(RefError::BadEnvName("1BAD".into()))
        );
        assert_eq!(
            parse_ref("env:A-B", base),
            Err(RefError::BadEnvName("A-B".into()))
        );
        assert_eq!(
            parse_ref("env:", base),
            Err(RefError::BadEnvName("".into()))
        );
        assert_eq!(parse_ref("file:  ", base), Err(RefError::EmptyPath));
    }

    #[test]
    fn credentials_may_be_literal() {
        let base = Path::new(".");
        assert_eq!(
            parse_credential("admin", base),
            Ok(Credential::Literal("admin".into()))
        );
        assert_eq!(
            parse_credential("env:U", base),
            Ok(Credential::Ref(SecretRef::Env("U".into())))
        );
        assert!(parse_credential("env:", base).is_err());
    }

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("s3cr3t");
        assert_eq!(format!("{s} {s:?}"), "(sensitive) (sensitive)");
        assert_eq!(s.expose(), "s3cr3t");
    }

    #[test]
    fn file_secret_trims_one_trailing_newline() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tok");
        std::fs::write(&path, "abc\n").unwrap();
        assert_eq!(
            SecretRef::File(path.clone()).resolve().unwrap().expose(),
            "abc"
        );
        std::fs::write(&path, "\n").unwrap();
        assert!(matches!(
            SecretRef::File(path).resolve(),
            Err(ResolveError::FileEmpty(_))
        ));
        assert!(matches!(
            SecretRef::Env("APPFORM_TEST_SURELY_UNSET_VAR".into()).resolve(),
            Err(ResolveError::EnvUnset(_))
        ));
    }
}
