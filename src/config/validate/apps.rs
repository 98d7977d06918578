//! Applications: keys, TPP scopes and validities, WHM `data`, and AWX's
//! redirect URI rules (the AWX and gateway apps are in `org_apps.rs`).

use crate::config::Code;
use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::super::raw::{self, RawServerBody};
use super::checker::Checker;
use crate::model::{AppIdentity, DesiredApp, Kind};
use crate::scope::ScopeSet;

impl Checker<'_, '_> {
    // ----- applications

    pub(super) fn apps<Au, Ap>(
        &mut self,
        server: &str,
        kind: Kind,
        body: &RawServerBody<Au, Ap>,
        check: fn(&mut Self, &str, &str, &Ap) -> Option<DesiredApp>,
    ) -> Vec<DesiredApp> {
        let mut out = Vec::new();
        for (key, app) in body.applications.iter().flatten() {
            if key.trim().is_empty() || key.trim() != key {
                let span = self.key_span(&["servers", server, kind.as_str(), "applications", key]);
                self.report(
                    Code::AppKey,
                    format!("application key `{key}` is empty or has spaces at an end"),
                    span,
                    "invalid key",
                    "the key is the application's identity on the server; write it exactly",
                );
                continue;
            }
            if let Some(a) = check(self, server, key, app) {
                out.push(a);
            }
        }
        out
    }

    /// `renamed_from` on a kind whose identity cannot change.
    fn no_rename(&mut self, kind: Kind, server: &str, key: &str, given: bool) {
        if !given {
            return;
        }
        let span = self.key_span(&[
            "servers",
            server,
            kind.as_str(),
            "applications",
            key,
            "renamed_from",
        ]);
        let what = match kind {
            Kind::Tpp => "a TPP application's ID is its identity and cannot change",
            _ => "a WHM connected application's name is its identity and WHM has no rename",
        };
        self.report(
            Code::RenameUnsupported,
            format!("`renamed_from` is only for AWX and gateway applications: {what}"),
            span,
            "not for this kind",
            "declare the new application, and set `ensure: absent` on the old one (its consumers need the new credentials)",
        );
    }

    pub(super) fn tpp_app(
        &mut self,
        server: &str,
        key: &str,
        raw: &raw::RawTppApp,
    ) -> Option<DesiredApp> {
        let base = ["servers", server, "tpp", "applications", key];
        let at =
            |f: &'static str| -> [&str; 6] { ["servers", server, "tpp", "applications", key, f] };
        let before = self.problems.len();
        let mut fields = BTreeMap::new();
        for (field, value) in [
            ("name", &raw.name),
            ("vendor", &raw.vendor),
            ("description", &raw.description),
            ("url", &raw.url),
        ] {
            if let Some(v) = value {
                fields.insert(field.to_string(), json!(v));
            }
        }
        for (field, value) in [("scope", &raw.scope), ("maximum_scope", &raw.maximum_scope)] {
            if let Some(v) = value {
                if let Err(e) = ScopeSet::parse(v) {
                    let span = self.value_span(&at(field));
                    self.report(
                        Code::Scope,
                        format!("`{field}` of `{key}`: {e}"),
                        span,
                        "invalid scope string",
                        "write scopes like `certificate:manage,revoke;configuration`",
                    );
                }
                fields.insert(field.to_string(), json!(v));
            }
        }
        for (field, value) in [
            ("access_validity", &raw.access_validity),
            ("grant_validity", &raw.grant_validity),
        ] {
            if let Some(v) = value {
                let span = self.value_span(&at(field));
                match self.duration(v, span, field) {
                    Some(0) => self.report(
                        Code::OutOfRange,
                        format!("`{field}` must be at least 1 second"),
                        span,
                        "zero",
                        "leave it out to use the server default",
                    ),
                    Some(s) => {
                        fields.insert(field.to_string(), json!(s));
                    }
                    None => {}
                }
            }
        }
        if let Some(r) = raw.renewable {
            fields.insert("renewable".into(), json!(r));
        }
        self.no_rename(Kind::Tpp, server, key, raw.renamed_from.is_some());
        if self.problems.len() != before {
            return None;
        }
        let span = self.key_span(&base);
        Some(DesiredApp {
            key: key.to_string(),
            identity: AppIdentity::Tpp {
                id: key.to_string(),
            },
            ensure: raw.ensure.unwrap_or_default(),
            fields,
            renamed_from: Vec::new(),
            allow_delete_in_use: false,
            rotate_after: None,
            rotation_overlap: None,
            origin: self.origin(span),
        })
    }

    pub(super) fn whm_app(
        &mut self,
        server: &str,
        key: &str,
        raw: &raw::RawWhmApp,
    ) -> Option<DesiredApp> {
        let base = ["servers", server, "whm", "applications", key];
        let mut fields = BTreeMap::new();
        if let Some(data) = &raw.data {
            if data.contains_key("name") {
                let span = self.key_span(&[
                    "servers",
                    server,
                    "whm",
                    "applications",
                    key,
                    "data",
                    "name",
                ]);
                self.report(
                    Code::WhmDataName,
                    format!("`data` of `{key}` has a top-level `name` key"),
                    span,
                    "not allowed",
                    "WHM lists apps as {name, ...data}, so this key would overwrite the app's name; the key under `applications:` is the name",
                );
                return None;
            }
            if data.is_empty() {
                let span =
                    self.value_span(&["servers", server, "whm", "applications", key, "data"]);
                self.report(
                    Code::InvalidValue,
                    format!("`data` of `{key}` is empty"),
                    span,
                    "empty",
                    "WHM requires a non-empty `data` object",
                );
                return None;
            }
            for (k, v) in data.iter() {
                let secret = (crate::redact::is_secret_name(k) && !v.is_null())
                    || crate::redact::holds_secret(v);
                if secret {
                    self.warnings.push(format!(
                        "`servers.{server}.whm.applications.{key}.data.{k}` looks like a secret written in clear in the configuration (by its name or its value): anyone who can read the repository can read it; plans mask it, but keep the value off the repository (leave the key out: the server keeps it, and every save carries it unchanged unless the app is `authoritative: true`)"
                    ));
                }
            }
            fields.insert("data".into(), Value::Object(data.clone()));
        }
        if raw.renamed_from.is_some() {
            self.no_rename(Kind::Whm, server, key, true);
            return None;
        }
        let span = self.key_span(&base);
        Some(DesiredApp {
            key: key.to_string(),
            identity: AppIdentity::Whm {
                name: key.to_string(),
            },
            ensure: raw.ensure.unwrap_or_default(),
            fields,
            renamed_from: Vec::new(),
            allow_delete_in_use: false,
            rotate_after: None,
            rotation_overlap: None,
            origin: self.origin(span),
        })
    }
}

/// The redirect-URI rules of AWX 24.6.1 (django-oauth-toolkit 1.7.1's
/// `RedirectURIValidator` on Django 4.2's `URLValidator`, then the scheme
/// check of `Application.clean`; awx.md §3 and §11.8): at most 2048
/// characters, `http` or `https`, a host right after `//` (a letter, digit,
/// non-ASCII letter, or a bracketed IPv6 address), no `#fragment`. The server
/// answers `https:///nohost` with "Enter a valid URL.", so `validate` must too.
/// Stricter than the server in one place: a bare `#` at the end is refused
/// (the server accepts it; OAuth forbids fragments).
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.chars().count() > 2048 {
        return Err("is longer than 2048 characters".into());
    }
    let Some((scheme, rest)) = uri.split_once("://") else {
        return Err("is not an absolute URL (`https://host/path`)".into());
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(format!("uses `{scheme}:`; only http and https are allowed"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_and_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_and_port.strip_prefix('[') {
        let Some((inside, _)) = bracketed.split_once(']') else {
            return Err("has an unclosed `[` in its host".into());
        };
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("has `[{inside}]`, which is not an IPv6 address"));
        }
        inside
    } else {
        host_and_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if host.chars().count() > 253 {
        return Err("has a host name longer than 253 characters".into());
    }
    if !non_ascii_host_ok(host) {
        return Err(format!(
            "has the host `{host}`, which has an empty label or a label longer than 63 characters once written in punycode (the server converts a non-ASCII host name with IDNA and refuses it)"
        ));
    }
    // The server's pattern must match right after `//`: a host cannot start
    // with `-`, `.`, `_` or other punctuation.
    let starts_well = rest
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '[' || u32::from(c) >= 0xa1);
    if !starts_well {
        return Err("has no valid host right after `//`".into());
    }
    if authority.contains('[') != authority.contains(']') {
        return Err("has unbalanced `[` `]` in its host".into());
    }
    if uri.contains('#') {
        return Err("has a #fragment, which OAuth forbids".into());
    }
    Ok(())
}

/// A host whose first character is not ASCII, as Django's `URLValidator`
/// takes it (awx.md §11.8, observed): its pattern must match a
/// `label(.label)*.tld` prefix (each label 1–63 characters, not starting or
/// ending with `-`, the TLD starting with two letters), or the host must
/// convert with IDNA (punycode), where an empty label or one longer than 63
/// characters fails. ASCII hosts always meet the pattern's dotless form.
fn non_ascii_host_ok(host: &str) -> bool {
    if host.chars().next().is_none_or(|c| c.is_ascii()) {
        return true;
    }
    let labels: Vec<&str> = host.split('.').collect();
    let letter = |c: char| c.is_ascii_alphabetic() || u32::from(c) >= 0xa1;
    let label_ok = |l: &str| {
        let n = l.chars().count();
        (1..=63).contains(&n)
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars()
                .all(|c| letter(c) || c.is_ascii_digit() || c == '-')
    };
    let tld_start = |l: &str| l.chars().take(2).filter(|c| letter(*c)).count() == 2;
    let pattern = (1..labels.len()).any(|k| {
        labels
            .get(..k)
            .is_some_and(|ls| ls.iter().all(|l| label_ok(l)))
            && labels.get(k).is_some_and(|l| tld_start(l))
    });
    if pattern {
        return true;
    }
    let named: &[&str] = match labels.split_last() {
        Some((&"", rest)) => rest,
        _ => &labels,
    };
    named.iter().all(|label| {
        !label.is_empty()
            && idna::domain_to_ascii(label).is_ok_and(|ascii| (1..=63).contains(&ascii.len()))
    })
}

#[cfg(test)]
mod tests;
