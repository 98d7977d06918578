//! Credentials in the configuration: references (`env:NAME`, `file:PATH`) and the
//! [`Secret`] newtype whose Debug and Display never show the value.
//! Parsing is pure; only [`SecretRef::resolve`] reads the environment or a file.

use std::fmt;
use std::path::{Path, PathBuf};

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

/// Words that make a key name a secret's: `auth_token`, `webhookSecret`,
/// `signing_key`, `db-password`, `clientCert`, `private`.
const SECRET_WORDS: &[&str] = &[
    "key",
    "keys",
    "auth",
    "cert",
    "certs",
    "certificate",
    "pwd",
    "pin",
    "otp",
    "salt",
    "sig",
    "signing",
    "cookie",
    "bearer",
    "jwk",
    "pem",
    "hmac",
    "session",
    "pass",
];

/// Parts that make a key a secret's wherever they appear in it, also run
/// together (`apitoken`, `clientsecret`, `passwd`, `privatekey`).
const SECRET_PARTS: &[&str] = &[
    "secret",
    "token",
    "passw",
    "passwd",
    "credential",
    "private",
    "signature",
    "apikey",
];

/// Whether a key names a secret: any of its words (split at `_`, `-`, `.`,
/// spaces and camelCase) is one of [`SECRET_WORDS`], or it contains one of
/// [`SECRET_PARTS`], in any case; unless its last word says it is about a
/// secret ([`ABOUT_A_SECRET`]: `token_name`, `key_id`). Broad on purpose: a key masked by mistake
/// costs a reviewer a value (its length and fingerprint still show), a
/// secret shown by mistake cannot be taken back.
pub fn is_secret_name(key: &str) -> bool {
    let words = words(key);
    // `token_name`, `key_id`, `secret_ttl`, `auth_url`: about a secret, not one.
    if words
        .last()
        .is_some_and(|w| ABOUT_A_SECRET.contains(&w.as_str()))
    {
        return false;
    }
    let lower = key.to_lowercase();
    if SECRET_PARTS.iter().any(|p| lower.contains(p)) {
        return true;
    }
    // `public_key`, `public_cert`: published on purpose.
    !words.iter().any(|w| w == "public") && words.iter().any(|w| SECRET_WORDS.contains(&w.as_str()))
}

/// Last words of keys that name something about a secret, not the secret.
const ABOUT_A_SECRET: &[&str] = &[
    "name",
    "names",
    "id",
    "ids",
    "type",
    "types",
    "url",
    "uri",
    "uris",
    "count",
    "ttl",
    "length",
    "expiry",
    "expires",
    "lifetime",
    "validity",
    "format",
    "algorithm",
    "alg",
    "label",
    "scope",
    "scopes",
    "endpoint",
    "header",
    "issuer",
    "audience",
    "enabled",
];

/// The words of a key, lower-cased: split at anything not alphanumeric and
/// at camelCase boundaries.
fn words(key: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut prev_lower = false;
    for c in key.chars() {
        if !c.is_alphanumeric() {
            words.push(std::mem::take(&mut current));
            prev_lower = false;
            continue;
        }
        if c.is_uppercase() && prev_lower {
            words.push(std::mem::take(&mut current));
        }
        prev_lower = c.is_lowercase() || c.is_ascii_digit();
        current.extend(c.to_lowercase());
    }
    words.push(current);
    words.retain(|w| !w.is_empty());
    words
}

/// Whether a text looks like a credential whatever its key: a PEM block, a
/// JWT, a token with a well-known prefix (`sk_live_`, `whsec_`, `ghp_`,
/// `xoxb-`, `AKIA…`), or a long random-looking word (24 or more characters
/// of letters, digits and `-_.+/=~`, with letters and digits, at least 4
/// bits of entropy per character; not a URL or a path).
pub fn looks_like_secret(text: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "sk_",
        "sk-",
        "rk_",
        "pk_live_",
        "whsec_",
        "ghp_",
        "gho_",
        "ghs_",
        "ghu_",
        "github_pat_",
        "glpat-",
        "xoxb-",
        "xoxp-",
        "xoxa-",
        "xoxs-",
        "akia",
        "asia",
        "atk_",
        "shpat_",
        "npm_",
    ];
    let t = text.trim();
    if t.contains("-----BEGIN") || t.contains("PRIVATE KEY") {
        return true;
    }
    let token_chars = |c: char| c.is_ascii_alphanumeric() || "-_.+/=~".contains(c);
    if t.len() < 12 || !t.chars().all(token_chars) {
        return false;
    }
    let lower = t.to_ascii_lowercase();
    if PREFIXES.iter().any(|p| lower.starts_with(p)) && t.len() >= 16 {
        return true;
    }
    let jwt = t.starts_with("eyJ") && t.matches('.').count() == 2;
    if jwt {
        return true;
    }
    if t.len() < 24 || t.starts_with('/') || t.starts_with('.') || t.contains("://") {
        return false;
    }
    let letters = t.chars().any(|c| c.is_ascii_alphabetic());
    let digits = t.chars().any(|c| c.is_ascii_digit());
    letters && digits && entropy_bits_per_char(t) >= 4.0
}

/// Shannon entropy of the characters of `text`, in bits per character.
fn entropy_bits_per_char(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for c in text.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
    }
    let n = text.chars().count() as f64;
    counts
        .values()
        .map(|&k| {
            let p = k as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether a value holds a secret anywhere: a key named like one, or a
/// string that looks like one, at any depth.
pub fn holds_secret(value: &serde_json::Value) -> bool {
    use serde_json::Value;
    match value {
        Value::String(s) => looks_like_secret(s),
        Value::Array(items) => items.iter().any(holds_secret),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| (is_secret_name(k) && !v.is_null()) || holds_secret(v)),
        _ => false,
    }
}

/// Like [`redact`], and strings shaped like a credential
/// ([`looks_like_secret`]) are masked too, at any depth: for free-form
/// objects (WHM `data`) whose keys say nothing.
pub fn redact_shaped(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) if looks_like_secret(s) => Value::String("(sensitive)".into()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if is_secret_name(k) && !v.is_null() {
                        (k.clone(), Value::String("(sensitive)".into()))
                    } else {
                        (k.clone(), redact_shaped(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact_shaped).collect()),
        other => other.clone(),
    }
}

/// What a plan shows instead of a live value the config does not declare:
/// its size, and a fingerprint for values long enough that it cannot be
/// guessed back (enough to review that it goes, or that it stays).
pub fn undeclared_mask(value: &serde_json::Value) -> serde_json::Value {
    use sha2::Digest as _;
    let text = match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let n = text.chars().count();
    let fingerprint = if n >= 16 {
        let digest = sha2::Sha256::digest(text.as_bytes());
        let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
        format!(", sha256:{hex}")
    } else {
        String::new()
    };
    serde_json::Value::String(format!(
        "(sensitive: not in the config, {n} character{}{fingerprint})",
        if n == 1 { "" } else { "s" }
    ))
}

/// A copy of `value` with every secret-named key's value replaced by `(sensitive)`.
pub fn redact(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    if is_secret_name(k) && !v.is_null() {
                        (k.clone(), Value::String("(sensitive)".into()))
                    } else {
                        (k.clone(), redact(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// Text a server sent (an error message), made safe to show anywhere: the
/// credentials in use (`in_use`: the token, password and obtained tokens of
/// that server), `Authorization` values, `Bearer` tokens and the values of
/// secret-named keys are replaced by `(sensitive)`, and control characters
/// (ANSI escapes, `\r`, line breaks, bidirectional overrides) are written as
/// visible escapes, so a server can neither leak a credential through the
/// output nor forge lines or colours on a terminal.
pub fn sanitize_server_text(text: &str, in_use: &[String]) -> String {
    use regex::Regex;
    use std::sync::LazyLock;
    /// `Authorization` values, `Bearer` tokens, values of secret-named keys.
    static PATTERNS: LazyLock<Option<[(Regex, &'static str); 3]>> = LazyLock::new(|| {
        Some([
            (
                Regex::new(r#"(?i)(authorization["']?\s*[:=]\s*["']?)[^"'\r\n,}]+"#).ok()?,
                "${1}(sensitive)",
            ),
            (
                Regex::new(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}").ok()?,
                "${1} (sensitive)",
            ),
            (
                Regex::new(
                    r#"(?i)(["']?\b(?:client_secret|password|passwd|access_token|refresh_token|token|secret|api_?key|private_key)\b["']?\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s,;&}\]]+)"#,
                )
                .ok()?,
                "${1}(sensitive)",
            ),
        ])
    });
    let mut out = text.to_string();
    // Longest first, so a value inside another (a password inside its
    // base64 pair) cannot leave part of the longer one behind.
    let mut in_use: Vec<&String> = in_use.iter().filter(|s| !s.is_empty()).collect();
    in_use.sort_by_key(|s| std::cmp::Reverse(s.len()));
    for secret in in_use {
        out = if secret.chars().count() >= 6 {
            out.replace(secret.as_str(), "(sensitive)")
        } else {
            // A short credential is masked where it stands as a token of its
            // own (`pw=abcd`, `"abcd"`), not inside longer words.
            replace_whole(&out, secret, "(sensitive)")
        };
    }
    let Some(patterns) = PATTERNS.as_ref() else {
        return "(the server's text is withheld: it could not be checked for credentials)".into();
    };
    for (pattern, replacement) in patterns {
        out = pattern.replace_all(&out, *replacement).into_owned();
    }
    printable(&out)
}

/// `text` with every occurrence of `word` that is not part of a longer run
/// of letters and digits replaced by `with`.
fn replace_whole(text: &str, word: &str, with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(word) {
        let (head, tail) = rest.split_at(at);
        let prev = head.chars().next_back().or(before);
        let after = tail.get(word.len()..).unwrap_or_default();
        let next = after.chars().next();
        let alone = |c: Option<char>| c.is_none_or(|c| !c.is_alphanumeric());
        let first_is_word = word.chars().next().is_some_and(char::is_alphanumeric);
        let last_is_word = word.chars().next_back().is_some_and(char::is_alphanumeric);
        out.push_str(head);
        if (alone(prev) || !first_is_word) && (alone(next) || !last_is_word) {
            out.push_str(with);
        } else {
            out.push_str(word);
        }
        before = word.chars().next_back();
        rest = after;
    }
    out.push_str(rest);
    out
}

/// `text` with control characters and bidirectional-text controls written
/// as visible escapes (`\u{1b}`, `\n`): what reaches a terminal is what it says.
pub fn printable(text: &str) -> String {
    let hidden = |c: char| c.is_control() || is_invisible(c);
    if !text.chars().any(hidden) {
        return text.to_string();
    }
    text.chars()
        .map(|c| {
            if hidden(c) {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Characters that change how text reads without being seen: bidirectional
/// controls (U+202E turns `txt.exe` around), zero-width and joiner
/// characters, invisible separators and fillers, soft hyphens, variation
/// selectors and Unicode tag characters. [`printable`] writes them as visible
/// escapes, so two names that look alike on screen also read differently.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00ad}' | '\u{034f}' | '\u{061c}' | '\u{115f}' | '\u{1160}' | '\u{17b4}' | '\u{17b5}'
        | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
        | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}')
}

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

/// Where secrets come from: the environment and files, or (with `--sandbox`)
/// the sandbox's own credentials for references that are not set.
pub trait SecretSource: Sync {
    fn secret(&self, reference: &SecretRef, field: &str) -> Result<Secret, ResolveError>;
    fn credential(&self, credential: &Credential, field: &str) -> Result<String, ResolveError>;
}

#[cfg(test)]
mod tests {

    #[test]
    fn secret_names_are_told_by_their_words() {
        for key in [
            "auth_token",
            "webhook_secret",
            "signing_key",
            "private_key",
            "db-password",
            "clientSecret",
            "apitoken",
            "PASSWD",
            "credentials",
            "hmacKey",
            "session",
            "x_auth",
        ] {
            assert!(is_secret_name(key), "{key}");
        }
        for key in [
            "token_name",
            "key_id",
            "public_key",
            "redirect_uris",
            "authorization_grant_type",
            "skip_authorization",
            "monkey",
            "author",
            "description",
            "iss",
            "scope",
        ] {
            assert!(!is_secret_name(key), "{key}");
        }
    }

    #[test]
    fn secret_values_are_told_by_their_shape() {
        for value in [
            "atk_LIVE_9f8e7d6c5b4a3928",
            "whsec_LIVE_Q2hhbmdlTWUxMjM0NTY3",
            "-----BEGIN PRIVATE KEY-----\nMIIE",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
            "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTA",
        ] {
            assert!(looks_like_secret(value), "{value}");
        }
        for value in [
            "https://billing.example.com/oauth2/callback/12345",
            "Billing API Token",
            "123e4567-e89b-12d3-a456-426614174000",
            "billing.example.com",
            "/etc/ssl/certs/ca-certificates.crt",
            "2026-01-03T10:00:00Z",
        ] {
            assert!(!looks_like_secret(value), "{value}");
        }
    }
    use super::*;

    #[test]
    fn server_text_loses_credentials_and_control_characters() {
        let in_use = vec!["s3cr3t-pass".to_string()];
        let cases = [
            (
                "bad request: Authorization: Bearer abcdefghijklmnop",
                "bad request: Authorization: (sensitive)",
            ),
            (
                "token Bearer abcdefghijklmnop refused",
                "token Bearer (sensitive) refused",
            ),
            (
                r#"{"password": "hunter2", "user": "admin"}"#,
                r#"{"password": (sensitive), "user": "admin"}"#,
            ),
            (
                "login failed for s3cr3t-pass",
                "login failed for (sensitive)",
            ),
            ("api_key=k123&x=1", "api_key=(sensitive)&x=1"),
            (
                "\u{1b}[31mred\u{1b}[0m\r\nforged",
                "\\u{1b}[31mred\\u{1b}[0m\\r\\nforged",
            ),
            (
                "right-to-left \u{202e}txt.exe",
                "right-to-left \\u{202e}txt.exe",
            ),
            (
                "Basic authentication is not enabled",
                "Basic authentication is not enabled",
            ),
        ];
        for (given, want) in cases {
            assert_eq!(sanitize_server_text(given, &in_use), want, "{given}");
        }
    }

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
