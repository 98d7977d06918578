//! The checks of one server: its policy, kind, URL and instances, the
//! options every kind shares (`common`), and `listing:`.

use std::collections::BTreeSet;
use std::time::Duration;

use super::Checker;
use crate::config::Code;
use crate::config::problem::{Problem, SharedText};
use crate::config::raw::{self, RawServer, RawServerBody};
use crate::config::source::Span;
use crate::model::{Instance, Kind, Listing, Policy, Server, ServerOptions};
use crate::semantics;
use std::sync::Arc;

impl Checker<'_, '_> {
    // ----- policy

    pub(in crate::config::validate) fn policy(&mut self, raw: &raw::RawPolicy) -> Option<Policy> {
        let mut policy = Policy::default();
        if let Some(d) = raw.max_deletes {
            policy.max_deletes = d;
        }
        if let Some(r) = raw.max_change_ratio {
            if !(0.0..=1.0).contains(&r) || r.is_nan() {
                let span = self.value_span(&["policy", "max_change_ratio"]);
                self.report(
                    Code::OutOfRange,
                    format!("`policy.max_change_ratio` is {r}, but must be between 0 and 1"),
                    span,
                    "out of range",
                    "0.5 means: block a plan that changes more than half of a server's applications",
                );
                return None;
            }
            policy.max_change_ratio = r;
        }
        if let Some(d) = raw.delete_in_use {
            policy.delete_in_use = d;
        }
        Some(policy)
    }

    // ----- servers

    pub(in crate::config::validate) fn server(
        &mut self,
        name: &str,
        raw: &RawServer,
    ) -> Option<Server> {
        let before = self.problems.len();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            let span = self.key_span(&["servers", name]);
            self.report(
                Code::ServerName,
                format!("`{name}` is not a valid server name"),
                span,
                "invalid name",
                "use letters, digits, `-`, `_` and `.` (instance names add `@host`)",
            );
        }
        let (kind, server) = match raw {
            RawServer::Awx(body) => {
                let common = self.common(name, Kind::Awx, body);
                let auth = self.auth_pair(
                    name,
                    "awx",
                    &body.auth,
                    body.auth.plan.as_deref(),
                    |p| p.plan.is_some(),
                    Self::awx_auth,
                );
                let apps = self.apps(name, Kind::Awx, body, Self::awx_app);
                self.check_org_identities(name, "AWX", &apps);
                (Kind::Awx, (common, auth, apps))
            }
            RawServer::Gateway(body) => {
                let common = self.common(name, Kind::Gateway, body);
                let auth = self.auth_pair(
                    name,
                    "gateway",
                    &body.auth,
                    body.auth.plan.as_deref(),
                    |p| p.plan.is_some(),
                    Self::awx_auth,
                );
                let apps = self.apps(name, Kind::Gateway, body, Self::gateway_app);
                self.check_org_identities(name, "gateway", &apps);
                (Kind::Gateway, (common, auth, apps))
            }
            RawServer::Tpp(body) => {
                let common = self.common(name, Kind::Tpp, body);
                let auth = self.auth_pair(
                    name,
                    "tpp",
                    &body.auth,
                    body.auth.plan.as_deref(),
                    |p| p.plan.is_some(),
                    Self::tpp_auth,
                );
                let apps = self.apps(name, Kind::Tpp, body, Self::tpp_app);
                (Kind::Tpp, (common, auth, apps))
            }
            RawServer::Whm(body) => {
                let common = self.common(name, Kind::Whm, body);
                let auth = self.auth_pair(
                    name,
                    "whm",
                    &body.auth,
                    body.auth.plan.as_deref(),
                    |p| p.plan.is_some(),
                    Self::whm_auth,
                );
                let apps = self.apps(name, Kind::Whm, body, Self::whm_app);
                (Kind::Whm, (common, auth, apps))
            }
        };
        let (common, auth, apps) = server;
        if self.problems.len() != before {
            return None;
        }
        let (instances, options) = common?;
        let span = self.key_span(&["servers", name]);
        let (auth, plan_auth) = auth;
        let plan_auth = match plan_auth {
            None => None,
            Some(p) => Some(p?),
        };
        Some(Server {
            name: name.to_string(),
            kind,
            instances,
            auth: auth?,
            plan_auth,
            reading_with_plan_auth: false,
            options,
            apps,
            origin: self.origin(span),
        })
    }

    fn note_host(&mut self, server: &str, kind: Kind, url: &str, span: Span) {
        self.hosts.push(crate::config::validate::ServerHost {
            server: server.to_string(),
            kind,
            url: url.to_string(),
            span,
        });
    }

    pub(in crate::config::validate) fn common<Au, Ap>(
        &mut self,
        name: &str,
        kind: Kind,
        body: &RawServerBody<Au, Ap>,
    ) -> Option<(Vec<Instance>, ServerOptions)> {
        let k = kind.as_str();
        let before = self.problems.len();
        let allow_http = body.allow_insecure_http.unwrap_or(false);
        let mut instances = Vec::new();
        match (&body.url, &body.urls) {
            (Some(_), Some(_)) => {
                let span = self.key_span(&["servers", name, k, "urls"]);
                let first = self.key_span(&["servers", name, k, "url"]);
                self.problems.push(
                    Problem::new(
                        Code::UrlAndUrls,
                        format!("server `{name}` sets both `url` and `urls`"),
                    )
                    .at(self.input.source, span, "second host setting")
                    .also(first, "first host setting")
                    .help("keep `url` for one host, or list every host under `urls`"),
                );
            }
            (None, None) => {
                let span = self.key_span(&["servers", name, k]);
                self.report(
                    Code::MissingUrl,
                    format!("server `{name}` has neither `url` nor `urls`"),
                    span,
                    "no host",
                    "add `url: https://host` (or `urls:` with several hosts)",
                );
            }
            (Some(url), None) => {
                let span = self.value_span(&["servers", name, k, "url"]);
                if let Some(u) = self.check_server_url(url, span, allow_http) {
                    self.note_host(name, kind, &u.0, span);
                    instances.push(Instance {
                        name: name.to_string(),
                        url: u.0,
                    });
                }
            }
            (None, Some(urls)) => {
                if urls.is_empty() {
                    let span = self.value_span(&["servers", name, k, "urls"]);
                    self.report(
                        Code::MissingUrl,
                        format!("server `{name}` has an empty `urls` list"),
                        span,
                        "empty",
                        "list at least one host",
                    );
                }
                let mut seen = BTreeSet::new();
                for (i, url) in urls.iter().enumerate() {
                    let span = self.item_span(&["servers", name, k, "urls"], i);
                    if let Some((u, host)) = self.check_server_url(url, span, allow_http) {
                        let instance = format!("{name}@{host}");
                        if !seen.insert(instance.clone()) {
                            self.report(
                                Code::DuplicateUrl,
                                format!("server `{name}` lists host `{host}` twice"),
                                span,
                                "listed again",
                                "each host may appear once in `urls`",
                            );
                            continue;
                        }
                        self.note_host(name, kind, &u, span);
                        instances.push(Instance {
                            name: instance,
                            url: u,
                        });
                    }
                }
            }
        }

        let timeout = match &body.timeout {
            None => Duration::from_secs(30),
            Some(t) => {
                let span = self.value_span(&["servers", name, k, "timeout"]);
                match self.duration(t, span, "timeout") {
                    Some(0) => {
                        self.report(
                            Code::OutOfRange,
                            "`timeout` must be at least 1 second".into(),
                            span,
                            "zero",
                            "the default is `30s`",
                        );
                        Duration::from_secs(30)
                    }
                    Some(s) => Duration::from_secs(s),
                    None => Duration::from_secs(30),
                }
            }
        };
        let deadline = match &body.deadline {
            None => timeout.saturating_mul(10),
            Some(d) => {
                let span = self.value_span(&["servers", name, k, "deadline"]);
                match self.duration(d, span, "deadline") {
                    Some(s) if Duration::from_secs(s) < timeout => {
                        self.report(
                            Code::OutOfRange,
                            "`deadline` must be at least the `timeout`".into(),
                            span,
                            "shorter than the timeout",
                            "the default is 10 × `timeout`",
                        );
                        timeout.saturating_mul(10)
                    }
                    Some(s) => Duration::from_secs(s),
                    None => timeout.saturating_mul(10),
                }
            }
        };
        let max_in_flight = body.max_in_flight.unwrap_or(4);
        if !(1..=64).contains(&max_in_flight) {
            let span = self.value_span(&["servers", name, k, "max_in_flight"]);
            self.report(
                Code::OutOfRange,
                format!("`max_in_flight` is {max_in_flight}, but must be between 1 and 64"),
                span,
                "out of range",
                "the default is 4 concurrent requests per host",
            );
        }
        let protect = body.protect.clone().unwrap_or_default();
        for (i, pattern) in protect.iter().enumerate() {
            if let Err(e) = glob::Pattern::new(pattern) {
                let span = self.item_span(&["servers", name, k, "protect"], i);
                self.report(
                    Code::BadGlob,
                    format!("`{pattern}` is not a valid glob: {}", e.msg),
                    span,
                    "invalid glob",
                    "use `*`, `?` and `[abc]`; for example `system-*`",
                );
            }
        }
        let ca_file = match &body.ca_file {
            Some(p) if p.trim().is_empty() => {
                let span = self.value_span(&["servers", name, k, "ca_file"]);
                self.report(
                    Code::InvalidValue,
                    "`ca_file` is empty".into(),
                    span,
                    "empty path",
                    "give the path of a PEM file, relative to this config file",
                );
                None
            }
            Some(p) => {
                let path = self.input.dir.join(p);
                let root = [self.input.root.to_path_buf()];
                // A system CA file (`/etc/ssl/…`) is fine; a path into the
                // configuration must not lead out of it through a link.
                let under_root = crate::files::stays_within_by_name(&path, &root);
                if under_root && !crate::files::stays_within(&path, &root) {
                    let span = self.value_span(&["servers", name, k, "ca_file"]);
                    self.report(
                        Code::OutsideRoot,
                        "`ca_file` is a symbolic link that leads out of the configuration directory".into(),
                        span,
                        "leaves the configuration",
                        "commit the CA file itself, or name its real path",
                    );
                    None
                } else {
                    Some(path)
                }
            }
            None => None,
        };
        let tls_skip_verify = body.tls_skip_verify.unwrap_or(false);
        let listing = self.listing(name, kind, body);
        let path = ["servers", name, kind.as_str()];
        let rotate_after = self.secret_age(
            &path,
            kind,
            SecretAge::RotateAfter,
            body.rotate_after.as_ref(),
        );
        let rotation_overlap = self.secret_age(
            &path,
            kind,
            SecretAge::RotationOverlap,
            body.rotation_overlap.as_ref(),
        );
        if tls_skip_verify {
            self.warnings.push(format!(
                "server `{name}`: tls_skip_verify is on; the TLS certificate is not verified"
            ));
        }
        for instance in &instances {
            let remote_http = url::Url::parse(&instance.url)
                .is_ok_and(|u| u.scheme() == "http" && !is_loopback(&u));
            if remote_http {
                self.warnings.push(format!(
                    "server `{}`: allow_insecure_http sends the credentials in clear to {}",
                    instance.name, instance.url
                ));
            }
        }
        if self.problems.len() != before {
            return None;
        }
        Some((
            instances,
            ServerOptions {
                timeout,
                deadline,
                max_in_flight,
                prune: body.prune.unwrap_or(false),
                protect,
                authoritative: body.authoritative.unwrap_or(false),
                apply: body.apply.unwrap_or(true),
                allow_insecure_http: allow_http,
                ca_file,
                tls_skip_verify,
                listing,
                rotate_after,
                rotation_overlap,
            },
        ))
    }

    /// `rotate_after` or `rotation_overlap` at `path` (a server body or an
    /// application): a duration of at least a day, on kinds whose secrets
    /// the server makes.
    pub(in crate::config::validate) fn secret_age(
        &mut self,
        path: &[&str],
        kind: Kind,
        which: SecretAge,
        raw: Option<&crate::config::raw::RawDuration>,
    ) -> Option<u64> {
        let raw = raw?;
        let key_name = which.key();
        let mut key: Vec<&str> = path.to_vec();
        key.push(key_name);
        let span = self.value_span(&key);
        if !semantics::of(kind).organizations {
            self.report(
                Code::InvalidValue,
                format!("`{key_name}` on a {kind} server: its applications have no client secret the server generates, so there is nothing to rotate"),
                span,
                "not for this kind",
                &format!("remove it (`{key_name}` is for AWX and gateway applications)"),
            );
            return None;
        }
        let seconds = self.duration(raw, span, key_name)?;
        if seconds < 86_400 {
            self.report(
                Code::OutOfRange,
                format!("`{key_name}` must be at least 1 day"),
                span,
                "too short",
                match which {
                    SecretAge::RotateAfter => {
                        "secret age is counted in days: write for example `90d`"
                    }
                    SecretAge::RotationOverlap => {
                        "the overlap ends at the end of a day (UTC): write for example `7d`"
                    }
                },
            );
            return None;
        }
        if let SecretAge::RotationOverlap = which
            && seconds > 366 * 86_400
        {
            self.report(
                Code::OutOfRange,
                "`rotation_overlap` must be at most 366 days".into(),
                span,
                "too long",
                "an old secret that keeps working for longer than a year is not rotated: write for example `7d` or `30d`",
            );
            return None;
        }
        Some(seconds)
    }

    /// `listing: managed` reads by name: AWX and the gateway filter their
    /// lists by name; `prune` and `authoritative` need every application.
    fn listing<Au, Ap>(&mut self, name: &str, kind: Kind, body: &RawServerBody<Au, Ap>) -> Listing {
        let listing = body.listing.unwrap_or_default();
        if listing == Listing::All {
            return listing;
        }
        let why = if !semantics::of(kind).organizations {
            Some(format!(
                "a {kind} server lists every application in one request; `listing: managed` is for AWX and gateway servers"
            ))
        } else if body.prune == Some(true) {
            Some("`prune: true` deletes applications the config does not name, so every one must be read".to_string())
        } else if body.authoritative == Some(true) {
            Some(
                "`authoritative: true` manages the whole server, so every application must be read"
                    .to_string(),
            )
        } else {
            None
        };
        if let Some(why) = why {
            let span = self.value_span(&["servers", name, kind.as_str(), "listing"]);
            self.report(
                Code::InvalidValue,
                format!("server `{name}`: `listing: managed` cannot be used here: {why}"),
                span,
                "not here",
                "remove `listing: managed` (the default reads every application)",
            );
        }
        listing
    }

    /// Returns the normalized URL and the `host[:port]` used in instance names.
    pub(in crate::config::validate) fn check_server_url(
        &mut self,
        text: &str,
        span: Span,
        allow_http: bool,
    ) -> Option<(String, String)> {
        let url = match url::Url::parse(text.trim()) {
            Ok(u) => u,
            Err(e) => {
                self.report(
                    Code::BadUrl,
                    format!("`{text}` is not a valid URL: {e}"),
                    span,
                    "invalid URL",
                    "write it like `https://awx.example.com`",
                );
                return None;
            }
        };
        let help_form = "write it like `https://awx.example.com`";
        if url.scheme() != "https" && url.scheme() != "http" {
            self.report(
                Code::BadUrl,
                format!(
                    "`{text}` uses `{}:`; only https (and http to loopback) are allowed",
                    url.scheme()
                ),
                span,
                "unsupported scheme",
                help_form,
            );
            return None;
        }
        let Some(host) = url.host_str().filter(|h| !h.is_empty()) else {
            self.report(
                Code::BadUrl,
                format!("`{text}` has no host"),
                span,
                "no host",
                help_form,
            );
            return None;
        };
        if !url.username().is_empty() || url.password().is_some() {
            // Neither the message nor the quoted source line repeats the
            // password: it is masked in both (same length, so spans hold).
            let mut masked = url.clone();
            let _ = masked.set_password(url.password().map(|_| "****"));
            let mut shown = self.input.text.to_string();
            if let Some(pw) = url.password().filter(|p| !p.is_empty()) {
                let (from, to) = (span.offset, (span.offset + span.len).min(shown.len()));
                if let Some(value) = shown.get(from..to) {
                    let hidden = value.replace(pw, &"*".repeat(pw.len()));
                    shown.replace_range(from..to, &hidden);
                }
            }
            let source = SharedText::new(self.input.source.name(), Arc::from(shown.as_str()));
            self.problems.push(
                Problem::new(
                    Code::LiteralSecret,
                    format!(
                        "`{}` carries credentials in the URL",
                        masked.as_str().trim_end_matches('/')
                    ),
                )
                .at(&source, span, "credentials in URL")
                .help("remove them and use `auth:` with `env:NAME` or `file:PATH` references"),
            );
            return None;
        }
        if url.query().is_some() || url.fragment().is_some() {
            self.report(
                Code::BadUrl,
                format!("`{text}` has a query or fragment"),
                span,
                "query or fragment",
                "give only the scheme, host, port and (optionally) a base path",
            );
            return None;
        }
        if url.scheme() == "http" && !allow_http && !is_loopback(&url) {
            self.report(
                Code::InsecureHttp,
                format!("`{text}` uses plain http to a host that is not loopback"),
                span,
                "credentials would cross the network in clear",
                "use https, or set `allow_insecure_http: true` on this server if you must",
            );
            return None;
        }
        let host_port = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.to_string(),
        };
        let normalized = url.as_str().trim_end_matches('/').to_string();
        Some((normalized, host_port))
    }
}

pub(super) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The two durations of a secret's life that the config may set.
#[derive(Debug, Clone, Copy)]
pub(in crate::config::validate) enum SecretAge {
    /// `rotate_after`: the age at which a secret is due.
    RotateAfter,
    /// `rotation_overlap`: how long the old one keeps working.
    RotationOverlap,
}

impl SecretAge {
    fn key(self) -> &'static str {
        match self {
            SecretAge::RotateAfter => "rotate_after",
            SecretAge::RotationOverlap => "rotation_overlap",
        }
    }
}
