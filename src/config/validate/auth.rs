//! Credentials in the config: secret fields must be `env:`/`file:` references,
//! and each kind's accepted combinations of auth keys.

use super::super::raw;
use super::super::source::Span;
use super::checker::{Checker, KeyPath};
use crate::config::Code;
use crate::model::Auth;
use crate::scope::ScopeSet;
use crate::secret::{Credential, RefError, SecretRef, parse_credential, parse_ref};

impl Checker<'_, '_> {
    // ----- auth

    pub(super) fn secret(&mut self, path: &KeyPath<'_>, text: &str) -> Option<SecretRef> {
        let span = self.value_span(path);
        let field = path.last().copied().unwrap_or("secret");
        match parse_ref(text, self.input.dir) {
            Ok(r) => self.confined(r, span, field),
            Err(RefError::NotAReference) => {
                self.report(
                    Code::LiteralSecret,
                    format!("`{field}` holds a literal secret"),
                    span,
                    "literal secret",
                    "secrets are references: write `env:NAME` or `file:PATH`, never the value",
                );
                None
            }
            Err(e) => {
                self.ref_error(e, span, field);
                None
            }
        }
    }

    pub(super) fn credential(&mut self, path: &KeyPath<'_>, text: &str) -> Option<Credential> {
        match parse_credential(text, self.input.dir) {
            Ok(Credential::Ref(r)) => {
                let span = self.value_span(path);
                let field = path.last().copied().unwrap_or("credential");
                self.confined(r, span, field).map(Credential::Ref)
            }
            Ok(c) => Some(c),
            Err(e) => {
                let span = self.value_span(path);
                let field = path.last().copied().unwrap_or("credential");
                self.ref_error(e, span, field);
                None
            }
        }
    }

    /// A `file:` reference must stay inside the configuration root (or a
    /// directory of `APPFORM_SECRET_DIRS`), by name and through links: a
    /// change to the config cannot make appform send another local file as a
    /// credential. The file is not read here.
    fn confined(&mut self, r: SecretRef, span: Span, field: &str) -> Option<SecretRef> {
        let SecretRef::File(path) = &r else {
            return Some(r);
        };
        let mut allowed = vec![self.input.root.to_path_buf()];
        allowed.extend(crate::files::secret_dirs());
        if crate::files::stays_within(path, &allowed) {
            return Some(r);
        }
        self.report(
            Code::OutsideRoot,
            format!(
                "`{field}`: the `file:` secret is outside the configuration directory `{}`",
                self.input.root.display()
            ),
            span,
            "outside the configuration",
            "keep secret files under the configuration directory, or name their directory in APPFORM_SECRET_DIRS (for example /run/secrets)",
        );
        None
    }

    pub(super) fn ref_error(&mut self, e: RefError, span: Span, field: &str) {
        let (message, help) = match e {
            RefError::BadEnvName(n) => (
                format!("`{field}`: `{n}` is not an environment variable name"),
                "names start with a letter or `_` and hold letters, digits and `_`: `env:AWX_TOKEN`",
            ),
            RefError::EmptyPath => (
                format!("`{field}`: `file:` needs a path"),
                "write `file:PATH`, relative to this config file",
            ),
            RefError::NotAReference => (
                format!("`{field}` is not a reference"),
                "write `env:NAME` or `file:PATH`",
            ),
        };
        self.report(Code::BadReference, message, span, "bad reference", help);
    }

    pub(super) fn auth_problem(&mut self, base: &KeyPath<'_>, message: String, help: &str) {
        let span = self.key_span(base);
        self.report(Code::Auth, message, span, "incomplete credentials", help);
    }

    /// `auth` of a server and its `auth.plan` (read-only credentials for
    /// `plan`), each checked by `check` at its own path; a `plan` inside
    /// `plan` is a problem.
    pub(super) fn auth_pair<R>(
        &mut self,
        name: &str,
        kind: &'static str,
        raw: &R,
        plan: Option<&R>,
        nested: impl Fn(&R) -> bool,
        check: impl Fn(&mut Self, &str, &KeyPath<'_>, &R) -> Option<Auth>,
    ) -> (Option<Auth>, Option<Option<Auth>>) {
        let base = ["servers", name, kind, "auth"];
        let auth = check(self, name, &base, raw);
        let plan_base = ["servers", name, kind, "auth", "plan"];
        let plan_auth = plan.map(|p| {
            if nested(p) {
                let span = self.key_span(&["servers", name, kind, "auth", "plan", "plan"]);
                self.report(
                    Code::Auth,
                    format!("server `{name}`: `auth.plan` cannot have a `plan` of its own"),
                    span,
                    "nested",
                    "`auth.plan` holds the read-only credentials `plan` uses",
                );
                return None;
            }
            check(self, name, &plan_base, p)
        });
        (auth, plan_auth)
    }

    pub(super) fn awx_auth(
        &mut self,
        name: &str,
        base: &KeyPath<'_>,
        raw: &raw::RawAwxAuth,
    ) -> Option<Auth> {
        let p = |f: &'static str| -> Vec<&str> { base.iter().copied().chain([f]).collect() };
        match (&raw.token, &raw.username, &raw.password) {
            (Some(t), None, None) => Some(Auth::Token {
                username: None,
                token: self.secret(&p("token"), t)?,
            }),
            (None, Some(u), Some(pw)) => {
                let username = self.credential(&p("username"), u);
                let password = self.secret(&p("password"), pw);
                Some(Auth::Basic {
                    username: username?,
                    password: password?,
                })
            }
            _ => {
                let label = match base.get(2) {
                    Some(&"gateway") => "gateway",
                    _ => "AWX",
                };
                self.auth_problem(
                    base,
                    format!(
                        "server `{name}`: {label} auth needs `token`, or `username` with `password`"
                    ),
                    "for example `token: env:AWX_TOKEN`",
                );
                None
            }
        }
    }

    pub(super) fn tpp_auth(
        &mut self,
        name: &str,
        base: &KeyPath<'_>,
        raw: &raw::RawTppAuth,
    ) -> Option<Auth> {
        let p = |f: &'static str| -> Vec<&str> { base.iter().copied().chain([f]).collect() };
        match (&raw.token, &raw.client_id, &raw.username, &raw.password) {
            (Some(t), None, None, None) if raw.scope.is_none() => Some(Auth::Token {
                username: None,
                token: self.secret(&p("token"), t)?,
            }),
            (None, Some(c), Some(u), Some(pw)) => {
                let client_id = self.credential(&p("client_id"), c);
                let username = self.credential(&p("username"), u);
                let password = self.secret(&p("password"), pw);
                let scope = raw.scope.clone();
                let effective = scope.as_deref().unwrap_or(crate::model::TPP_DEFAULT_SCOPE);
                if let Err(e) = ScopeSet::parse(effective) {
                    let span = self.value_span(&p("scope"));
                    self.report(
                        Code::Scope,
                        format!("`scope`: {e}"),
                        span,
                        "invalid scope",
                        "write scopes like `admin:delete` or `certificate:manage,revoke;configuration`",
                    );
                    return None;
                }
                Some(Auth::TppPassword {
                    client_id: client_id?,
                    username: username?,
                    password: password?,
                    scope,
                })
            }
            _ => {
                self.auth_problem(
                    base,
                    format!(
                        "server `{name}`: TPP auth needs `token`, or `client_id`, `username` and `password` (with an optional `scope`)"
                    ),
                    "for example `token: env:TPP_TOKEN`",
                );
                None
            }
        }
    }

    pub(super) fn whm_auth(
        &mut self,
        name: &str,
        base: &KeyPath<'_>,
        raw: &raw::RawWhmAuth,
    ) -> Option<Auth> {
        let p = |f: &'static str| -> Vec<&str> { base.iter().copied().chain([f]).collect() };
        let username = self.credential(&p("username"), &raw.username);
        match (&raw.token, &raw.password) {
            (Some(t), None) => Some(Auth::Token {
                username: Some(username?),
                token: self.secret(&p("token"), t)?,
            }),
            (None, Some(pw)) => Some(Auth::Basic {
                password: self.secret(&p("password"), pw)?,
                username: username?,
            }),
            _ => {
                self.auth_problem(
                    base,
                    format!("server `{name}`: WHM auth needs `username` with exactly one of `token` or `password`"),
                    "for example `token: env:WHM_TOKEN`",
                );
                None
            }
        }
    }
}
