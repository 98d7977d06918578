//! What must never be shown, told and hidden: key names and values that look
//! like secrets, masks for values a plan must not print, credentials in a
//! server's text, and invisible characters made visible. Pure functions of
//! text and JSON values.

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
    redact_with(value, true)
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
    redact_with(value, false)
}

/// The walk of [`redact`] and [`redact_shaped`]: secret-named keys masked
/// at any depth, and (`shaped`) strings that look like credentials.
fn redact_with(value: &serde_json::Value, shaped: bool) -> serde_json::Value {
    use serde_json::Value;
    let masked = || Value::String("(sensitive)".into());
    match value {
        Value::String(s) if shaped && looks_like_secret(s) => masked(),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| match is_secret_name(k) && !v.is_null() {
                    true => (k.clone(), masked()),
                    false => (k.clone(), redact_with(v, shaped)),
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(|v| redact_with(v, shaped)).collect()),
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
