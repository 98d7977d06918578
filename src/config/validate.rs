//! One file's tree → raw types → model parts, collecting every problem with its
//! span. Pure: no file or network access (the loader hands it text).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use super::problem::{Problem, SharedText};
use super::raw::{self, RawDuration, RawFile, RawOrg, RawServer, RawServerBody};
use super::source::{Node, NodeValue, Span};
use super::tree_de::{DeError, DeErrorKind, PathSeg, from_node, path_text, scalar_text};
use crate::duration::parse_duration;
use crate::model::{
    AppIdentity, Auth, DesiredApp, Ensure, GrantType, Instance, Kind, OrgRef, Origin, Policy,
    Server, ServerOptions,
};
use crate::scope::ScopeSet;
use crate::secret::{Credential, RefError, SecretRef, parse_credential, parse_ref};

/// What one file contributes to the configuration.
#[derive(Debug, Default)]
pub struct FileParts {
    /// The span of the `policy` key, when the file has one (valid or not).
    pub policy_key: Option<Span>,
    /// Every server name the file declares (valid or not), with its key span.
    pub declared: Vec<(String, Span)>,
    /// The policy, when it is valid.
    pub policy: Option<Policy>,
    /// The servers that are valid.
    pub servers: Vec<Server>,
}

/// Everything `check_file` needs about one file.
pub struct FileInput<'a> {
    pub index: usize,
    pub source: &'a SharedText,
    pub text: &'a str,
    /// Directory of the file: `file:` references and `ca_file` are relative to it.
    pub dir: &'a Path,
}

const MAX_TYPED_ROUNDS: usize = 200;

/// Checks one parsed file. Problems and warnings are appended; the parts that
/// passed are returned (the caller only uses them when there are no problems).
pub fn check_file(
    input: &FileInput<'_>,
    mut tree: Node,
    problems: &mut Vec<Problem>,
    warnings: &mut Vec<String>,
) -> FileParts {
    if tree.value == NodeValue::Null {
        problems.push(
            Problem::new("appform::config::empty_file", "the file is empty")
                .at(input.source, Span::default(), "nothing here")
                .help("add `servers:` and/or `policy:`, or delete the file"),
        );
        return FileParts::default();
    }
    remove_duplicate_keys(&mut tree, input, problems);
    let mut parts = FileParts::default();
    if let NodeValue::Map(pairs) = &tree.value {
        for (k, v) in pairs {
            match scalar_text(k, input.text).as_deref() {
                Some("policy") => parts.policy_key = Some(k.span),
                Some("servers") => {
                    if let NodeValue::Map(servers) = &v.value {
                        for (name, _) in servers {
                            if let Some(n) = scalar_text(name, input.text) {
                                parts.declared.push((n, name.span));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    let Some(raw) = deserialize_tolerant(&mut tree, input, problems) else {
        return parts;
    };
    let mut cx = Cx {
        input,
        tree: &tree,
        problems,
        warnings,
    };
    if let Some(p) = &raw.policy {
        parts.policy = cx.policy(p);
    }
    for (name, server) in raw.servers.iter().flatten() {
        if let Some(s) = cx.server(name, server) {
            parts.servers.push(s);
        }
    }
    parts
}

// ---------------------------------------------------------------- duplicates

/// Reports every duplicate key (at any depth) with both places, and drops the
/// later one so that checking can go on.
fn remove_duplicate_keys(node: &mut Node, input: &FileInput<'_>, problems: &mut Vec<Problem>) {
    match &mut node.value {
        NodeValue::Map(pairs) => {
            let mut seen: BTreeMap<String, Span> = BTreeMap::new();
            let mut keep = Vec::with_capacity(pairs.len());
            for (k, v) in pairs.drain(..) {
                let name = scalar_text(&k, input.text);
                if let Some(name) = name {
                    if let Some(first) = seen.get(&name) {
                        problems.push(
                            Problem::new(
                                "appform::config::duplicate_key",
                                format!("duplicate key `{name}`"),
                            )
                            .at(input.source, k.span, "defined again here")
                            .also(*first, "first defined here")
                            .help("each key may appear once in a mapping; merge the two entries"),
                        );
                        continue;
                    }
                    seen.insert(name, k.span);
                }
                keep.push((k, v));
            }
            for (_, v) in keep.iter_mut() {
                remove_duplicate_keys(v, input, problems);
            }
            *pairs = keep;
        }
        NodeValue::Seq(items) => {
            for item in items.iter_mut() {
                remove_duplicate_keys(item, input, problems);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------- typed pass

/// Deserializes the raw types; on an error, reports it, removes the offending
/// node and tries again, so one run reports every structural problem.
fn deserialize_tolerant(
    tree: &mut Node,
    input: &FileInput<'_>,
    problems: &mut Vec<Problem>,
) -> Option<RawFile> {
    if !matches!(tree.value, NodeValue::Map(_)) {
        problems.push(
            Problem::new(
                "appform::config::invalid_type",
                format!(
                    "the file must be a mapping with `servers` and/or `policy`, found {}",
                    tree.value.describe()
                ),
            )
            .at(input.source, tree.span, "expected a mapping")
            .help("start the file with `servers:` (and optionally `policy:`)"),
        );
        return None;
    }
    let mut removed: Vec<Vec<PathSeg>> = Vec::new();
    for _ in 0..MAX_TYPED_ROUNDS {
        let err = match from_node::<RawFile>(tree, input.text, Vec::new()) {
            Ok(raw) => return Some(raw),
            Err(e) => e,
        };
        // Removing a bad child can make its parent incomplete (a missing key, a
        // server entry left without its kind): that is an echo, not a new problem.
        let echo = matches!(
            err.kind,
            DeErrorKind::MissingField(_) | DeErrorKind::Custom(_)
        ) && removed
            .iter()
            .any(|r| r.len() > err.path.len() && r.starts_with(&err.path));
        if !echo {
            problems.push(de_problem(&err, input));
        }
        if err.path.is_empty() || !remove_at(tree, &err.path, input.text) {
            return None;
        }
        removed.push(err.path);
    }
    None
}

fn remove_at(node: &mut Node, path: &[PathSeg], text: &str) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut cur = node;
    for seg in parents {
        let next = match (&mut cur.value, seg) {
            (NodeValue::Map(pairs), PathSeg::Key(k)) => pairs
                .iter_mut()
                .find(|(key, _)| key_is(key, k, text))
                .map(|(_, v)| v),
            (NodeValue::Seq(items), PathSeg::Index(i)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(n) => cur = n,
            None => return false,
        }
    }
    match (&mut cur.value, last) {
        (NodeValue::Map(pairs), PathSeg::Key(k)) => {
            match pairs.iter().position(|(key, _)| key_is(key, k, text)) {
                Some(pos) => {
                    pairs.remove(pos);
                    true
                }
                None => false,
            }
        }
        (NodeValue::Seq(items), PathSeg::Index(i)) if *i < items.len() => {
            items.remove(*i);
            true
        }
        _ => false,
    }
}

/// Whether `key` is the key the deserializer called `name` (same spelling
/// rules as `tree_de`: scalars by their written text).
fn key_is(key: &Node, name: &str, text: &str) -> bool {
    match scalar_text(key, text) {
        Some(t) => t == name,
        None => name.is_empty(),
    }
}

fn did_you_mean(word: &str, candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(word, c), *c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.to_string())
}

fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn de_problem(err: &DeError, input: &FileInput<'_>) -> Problem {
    let span = err.span.unwrap_or_default();
    let at = path_text(&err.path);
    let place = if at.is_empty() {
        "the file".to_string()
    } else {
        format!("`{at}`")
    };
    match &err.kind {
        DeErrorKind::UnknownField { field, expected } => {
            let parent = path_text(
                err.path
                    .get(..err.path.len().saturating_sub(1))
                    .unwrap_or(&[]),
            );
            let within = if parent.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in `{parent}`")
            };
            let help = match did_you_mean(field, expected) {
                Some(s) => format!("did you mean `{s}`?"),
                None if expected.is_empty() => "remove it".to_string(),
                None => format!("expected one of {}", list(expected)),
            };
            Problem::new(
                "appform::config::unknown_key",
                format!("unknown key `{field}` {within}"),
            )
            .at(input.source, span, "unknown key")
            .help(help)
        }
        DeErrorKind::UnknownVariant { variant, expected } if is_server_kind_path(&err.path) => {
            let help = match did_you_mean(variant, expected) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "a server entry holds exactly one of `awx:`, `tpp:` or `whm:`".into(),
            };
            Problem::new(
                "appform::config::server_kind",
                format!(
                    "`{variant}` is not a kind of server; expected {}",
                    list(expected)
                ),
            )
            .at(input.source, span, "unknown server kind")
            .help(help)
        }
        DeErrorKind::UnknownVariant { variant, expected } => {
            let help = match did_you_mean(variant, expected) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("expected one of {}", list(expected)),
            };
            Problem::new(
                "appform::config::invalid_value",
                format!("{place}: `{variant}` is not one of {}", list(expected)),
            )
            .at(input.source, span, "not allowed here")
            .help(help)
        }
        DeErrorKind::MissingField(field) => Problem::new(
            "appform::config::missing_field",
            format!("{place} is missing the required key `{field}`"),
        )
        .at(input.source, span, format!("needs `{field}`"))
        .help(format!("add `{field}:` to this entry")),
        DeErrorKind::InvalidType { found, expected } => Problem::new(
            "appform::config::invalid_type",
            format!("{place}: expected {expected}, found {found}"),
        )
        .at(input.source, span, format!("expected {expected}"))
        .help("see schema.json for the shape of each key"),
        DeErrorKind::InvalidValue { found, expected } => Problem::new(
            "appform::config::invalid_value",
            format!("{place}: {found} is not valid here, expected {expected}"),
        )
        .at(input.source, span, format!("expected {expected}"))
        .help("see schema.json for the allowed values"),
        DeErrorKind::Custom(msg) => {
            let (code, help) = if err.path.len() == 2
                && matches!(err.path.first(), Some(PathSeg::Key(k)) if k == "servers")
            {
                (
                    "appform::config::server_kind",
                    "a server entry holds exactly one of `awx:`, `tpp:` or `whm:`",
                )
            } else {
                (
                    "appform::config::invalid_value",
                    "see schema.json for the shape of each key",
                )
            };
            Problem::new(code, format!("{place}: {msg}"))
                .at(input.source, span, "here")
                .help(help)
        }
    }
}

/// `servers.<name>.<kind>`
fn is_server_kind_path(path: &[PathSeg]) -> bool {
    path.len() == 3 && matches!(path.first(), Some(PathSeg::Key(k)) if k == "servers")
}

// ---------------------------------------------------------------- semantic pass

struct Cx<'a, 'i> {
    input: &'a FileInput<'i>,
    tree: &'a Node,
    problems: &'a mut Vec<Problem>,
    warnings: &'a mut Vec<String>,
}

/// A YAML path made of keys.
type KeyPath<'p> = [&'p str];

impl Cx<'_, '_> {
    /// (key node, value node) at `path`.
    fn lookup(&self, path: &KeyPath<'_>) -> Option<(&Node, &Node)> {
        let mut found: Option<(&Node, &Node)> = None;
        let mut cur = self.tree;
        for seg in path {
            let NodeValue::Map(pairs) = &cur.value else {
                return None;
            };
            let (k, v) = pairs
                .iter()
                .find(|(k, _)| scalar_text(k, self.input.text).as_deref() == Some(*seg))?;
            found = Some((k, v));
            cur = v;
        }
        found
    }

    /// Span of the value at `path`, or of the nearest ancestor that exists.
    fn value_span(&self, path: &KeyPath<'_>) -> Span {
        for n in (0..=path.len()).rev() {
            if let Some((_, v)) = self.lookup(path.get(..n).unwrap_or(&[])) {
                return v.span;
            }
        }
        Span::default()
    }

    /// Span of the key at `path` (falls back like `value_span`).
    fn key_span(&self, path: &KeyPath<'_>) -> Span {
        for n in (0..=path.len()).rev() {
            if let Some((k, _)) = self.lookup(path.get(..n).unwrap_or(&[])) {
                return k.span;
            }
        }
        Span::default()
    }

    /// Span of list item `index` of the value at `path` (or the value itself).
    fn item_span(&self, path: &KeyPath<'_>, index: usize) -> Span {
        match self.lookup(path) {
            Some((
                _,
                Node {
                    value: NodeValue::Seq(items),
                    ..
                },
            )) => items
                .get(index)
                .map(|n| n.span)
                .unwrap_or_else(|| self.value_span(path)),
            _ => self.value_span(path),
        }
    }

    fn origin(&self, span: Span) -> Origin {
        Origin {
            file: self.input.index,
            offset: span.offset,
            len: span.len,
        }
    }

    fn report(&mut self, code: &'static str, message: String, span: Span, label: &str, help: &str) {
        self.problems.push(
            Problem::new(code, message)
                .at(self.input.source, span, label)
                .help(help),
        );
    }

    // ----- policy

    fn policy(&mut self, raw: &raw::RawPolicy) -> Option<Policy> {
        let mut policy = Policy::default();
        if let Some(d) = raw.max_deletes {
            policy.max_deletes = d;
        }
        if let Some(r) = raw.max_change_ratio {
            if !(0.0..=1.0).contains(&r) || r.is_nan() {
                let span = self.value_span(&["policy", "max_change_ratio"]);
                self.report(
                    "appform::config::out_of_range",
                    format!("`policy.max_change_ratio` is {r}, but must be between 0 and 1"),
                    span,
                    "out of range",
                    "0.5 means: block a plan that changes more than half of a server's applications",
                );
                return None;
            }
            policy.max_change_ratio = r;
        }
        Some(policy)
    }

    // ----- servers

    fn server(&mut self, name: &str, raw: &RawServer) -> Option<Server> {
        let before = self.problems.len();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            let span = self.key_span(&["servers", name]);
            self.report(
                "appform::config::server_name",
                format!("`{name}` is not a valid server name"),
                span,
                "invalid name",
                "use letters, digits, `-`, `_` and `.` (instance names add `@host`)",
            );
        }
        let (kind, server) = match raw {
            RawServer::Awx(body) => {
                let common = self.common(name, Kind::Awx, body);
                let auth = self.awx_auth(name, &body.auth);
                let apps = self.apps(name, Kind::Awx, body, Self::awx_app);
                self.check_awx_identities(name, &apps);
                (Kind::Awx, (common, auth, apps))
            }
            RawServer::Tpp(body) => {
                let common = self.common(name, Kind::Tpp, body);
                let auth = self.tpp_auth(name, &body.auth);
                let apps = self.apps(name, Kind::Tpp, body, Self::tpp_app);
                (Kind::Tpp, (common, auth, apps))
            }
            RawServer::Whm(body) => {
                let common = self.common(name, Kind::Whm, body);
                let auth = self.whm_auth(name, &body.auth);
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
        Some(Server {
            name: name.to_string(),
            kind,
            instances,
            auth: auth?,
            options,
            apps,
            origin: self.origin(span),
        })
    }

    fn common<Au, Ap>(
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
                        "appform::config::url_and_urls",
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
                    "appform::config::missing_url",
                    format!("server `{name}` has neither `url` nor `urls`"),
                    span,
                    "no host",
                    "add `url: https://host` (or `urls:` with several hosts)",
                );
            }
            (Some(url), None) => {
                let span = self.value_span(&["servers", name, k, "url"]);
                if let Some(u) = self.check_server_url(url, span, allow_http) {
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
                        "appform::config::missing_url",
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
                                "appform::config::duplicate_url",
                                format!("server `{name}` lists host `{host}` twice"),
                                span,
                                "listed again",
                                "each host may appear once in `urls`",
                            );
                            continue;
                        }
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
                            "appform::config::out_of_range",
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
        let max_in_flight = body.max_in_flight.unwrap_or(4);
        if !(1..=64).contains(&max_in_flight) {
            let span = self.value_span(&["servers", name, k, "max_in_flight"]);
            self.report(
                "appform::config::out_of_range",
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
                    "appform::config::bad_glob",
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
                    "appform::config::invalid_value",
                    "`ca_file` is empty".into(),
                    span,
                    "empty path",
                    "give the path of a PEM file, relative to this config file",
                );
                None
            }
            Some(p) => Some(self.input.dir.join(p)),
            None => None,
        };
        let tls_skip_verify = body.tls_skip_verify.unwrap_or(false);
        if tls_skip_verify {
            self.warnings.push(format!(
                "server `{name}`: tls_skip_verify is on; the TLS certificate is not verified"
            ));
        }
        if self.problems.len() != before {
            return None;
        }
        Some((
            instances,
            ServerOptions {
                timeout,
                max_in_flight,
                prune: body.prune.unwrap_or(false),
                protect,
                authoritative: body.authoritative.unwrap_or(false),
                apply: body.apply.unwrap_or(true),
                allow_insecure_http: allow_http,
                ca_file,
                tls_skip_verify,
            },
        ))
    }

    /// Returns the normalized URL and the `host[:port]` used in instance names.
    fn check_server_url(
        &mut self,
        text: &str,
        span: Span,
        allow_http: bool,
    ) -> Option<(String, String)> {
        let url = match url::Url::parse(text.trim()) {
            Ok(u) => u,
            Err(e) => {
                self.report(
                    "appform::config::bad_url",
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
                "appform::config::bad_url",
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
                "appform::config::bad_url",
                format!("`{text}` has no host"),
                span,
                "no host",
                help_form,
            );
            return None;
        };
        if !url.username().is_empty() || url.password().is_some() {
            self.report(
                "appform::config::literal_secret",
                format!("`{text}` carries credentials in the URL"),
                span,
                "credentials in URL",
                "remove them and use `auth:` with `env:NAME` or `file:PATH` references",
            );
            return None;
        }
        if url.query().is_some() || url.fragment().is_some() {
            self.report(
                "appform::config::bad_url",
                format!("`{text}` has a query or fragment"),
                span,
                "query or fragment",
                "give only the scheme, host, port and (optionally) a base path",
            );
            return None;
        }
        if url.scheme() == "http" && !allow_http && !is_loopback(&url) {
            self.report(
                "appform::config::insecure_http",
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

    fn duration(&mut self, raw: &RawDuration, span: Span, what: &str) -> Option<u64> {
        match raw {
            RawDuration::Seconds(s) => Some(*s),
            RawDuration::Text(t) => match parse_duration(t) {
                Ok(s) => Some(s),
                Err(e) => {
                    self.report(
                        "appform::config::bad_duration",
                        format!("`{what}`: {e}"),
                        span,
                        "not a duration",
                        "write seconds, or a number with one unit: `30s`, `15m`, `2h`, `90d`, `1w`, `1y`",
                    );
                    None
                }
            },
        }
    }

    // ----- auth

    fn secret(&mut self, path: &KeyPath<'_>, text: &str) -> Option<SecretRef> {
        let span = self.value_span(path);
        let field = path.last().copied().unwrap_or("secret");
        match parse_ref(text, self.input.dir) {
            Ok(r) => Some(r),
            Err(RefError::NotAReference) => {
                self.report(
                    "appform::config::literal_secret",
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

    fn credential(&mut self, path: &KeyPath<'_>, text: &str) -> Option<Credential> {
        match parse_credential(text, self.input.dir) {
            Ok(c) => Some(c),
            Err(e) => {
                let span = self.value_span(path);
                let field = path.last().copied().unwrap_or("credential");
                self.ref_error(e, span, field);
                None
            }
        }
    }

    fn ref_error(&mut self, e: RefError, span: Span, field: &str) {
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
        self.report(
            "appform::config::bad_reference",
            message,
            span,
            "bad reference",
            help,
        );
    }

    fn auth_problem(&mut self, name: &str, k: &str, message: String, help: &str) {
        let span = self.key_span(&["servers", name, k, "auth"]);
        self.report(
            "appform::config::auth",
            message,
            span,
            "incomplete credentials",
            help,
        );
    }

    fn awx_auth(&mut self, name: &str, raw: &raw::RawAwxAuth) -> Option<Auth> {
        let p = |f: &'static str| -> [&str; 5] { ["servers", name, "awx", "auth", f] };
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
                self.auth_problem(
                    name,
                    "awx",
                    format!(
                        "server `{name}`: AWX auth needs `token`, or `username` with `password`"
                    ),
                    "for example `token: env:AWX_TOKEN`",
                );
                None
            }
        }
    }

    fn tpp_auth(&mut self, name: &str, raw: &raw::RawTppAuth) -> Option<Auth> {
        let p = |f: &'static str| -> [&str; 5] { ["servers", name, "tpp", "auth", f] };
        match (&raw.token, &raw.client_id, &raw.username, &raw.password) {
            (Some(t), None, None, None) if raw.scope.is_none() => Some(Auth::Token {
                username: None,
                token: self.secret(&p("token"), t)?,
            }),
            (None, Some(c), Some(u), Some(pw)) => {
                let client_id = self.credential(&p("client_id"), c);
                let username = self.credential(&p("username"), u);
                let password = self.secret(&p("password"), pw);
                let scope = raw.scope.clone().unwrap_or_else(|| "admin:delete".into());
                if let Err(e) = ScopeSet::parse(&scope) {
                    let span = self.value_span(&p("scope"));
                    self.report(
                        "appform::config::scope",
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
                    name,
                    "tpp",
                    format!(
                        "server `{name}`: TPP auth needs `token`, or `client_id`, `username` and `password` (with an optional `scope`)"
                    ),
                    "for example `token: env:TPP_TOKEN`",
                );
                None
            }
        }
    }

    fn whm_auth(&mut self, name: &str, raw: &raw::RawWhmAuth) -> Option<Auth> {
        let p = |f: &'static str| -> [&str; 5] { ["servers", name, "whm", "auth", f] };
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
                    name,
                    "whm",
                    format!("server `{name}`: WHM auth needs `username` with exactly one of `token` or `password`"),
                    "for example `token: env:WHM_TOKEN`",
                );
                None
            }
        }
    }

    // ----- applications

    fn apps<Au, Ap>(
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
                    "appform::config::app_key",
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

    fn awx_app(&mut self, server: &str, key: &str, raw: &raw::RawAwxApp) -> Option<DesiredApp> {
        let base = ["servers", server, "awx", "applications", key];
        let at =
            |f: &'static str| -> [&str; 6] { ["servers", server, "awx", "applications", key, f] };
        let before = self.problems.len();
        let name = match &raw.name {
            Some(n) => {
                if n.trim().is_empty() || n.trim() != n || n.chars().count() > 255 {
                    let span = self.value_span(&at("name"));
                    self.report(
                        "appform::config::invalid_value",
                        format!(
                            "application name `{n}` is empty, too long or has spaces at an end"
                        ),
                        span,
                        "invalid name",
                        "AWX names are 1 to 255 characters; the server trims outer spaces",
                    );
                }
                n.clone()
            }
            None => {
                if key.chars().count() > 255 {
                    let span = self.key_span(&base);
                    self.report(
                        "appform::config::invalid_value",
                        "an AWX application name has at most 255 characters".into(),
                        span,
                        "too long",
                        "shorten the key, or set `name:`",
                    );
                }
                key.to_string()
            }
        };
        let organization = match &raw.organization {
            RawOrg::Id(0) => {
                let span = self.value_span(&at("organization"));
                self.report(
                    "appform::config::invalid_value",
                    "organization id 0 does not exist".into(),
                    span,
                    "invalid id",
                    "give the organization's name or its id (1 or more)",
                );
                OrgRef::Id(0)
            }
            RawOrg::Id(id) => OrgRef::Id(*id),
            RawOrg::Name(n) if n.trim().is_empty() => {
                let span = self.value_span(&at("organization"));
                self.report(
                    "appform::config::invalid_value",
                    "organization name is empty".into(),
                    span,
                    "empty",
                    "give the organization's name or its numeric id",
                );
                OrgRef::Name(String::new())
            }
            RawOrg::Name(n) => OrgRef::Name(n.trim().to_string()),
        };
        let mut fields = BTreeMap::new();
        if let Some(t) = raw.client_type {
            fields.insert("client_type".into(), json!(t.as_str()));
        }
        if let Some(g) = raw.authorization_grant_type {
            fields.insert("authorization_grant_type".into(), json!(g.as_str()));
        }
        if let Some(uris) = &raw.redirect_uris {
            let list_form = matches!(
                self.lookup(&at("redirect_uris")),
                Some((
                    _,
                    Node {
                        value: NodeValue::Seq(_),
                        ..
                    }
                ))
            );
            for (i, uri) in uris.0.iter().enumerate() {
                let span = if list_form {
                    self.item_span(&at("redirect_uris"), i)
                } else {
                    self.value_span(&at("redirect_uris"))
                };
                if let Err(why) = check_redirect_uri(uri) {
                    self.report(
                        "appform::config::redirect_uri",
                        format!("redirect URI `{uri}` {why}"),
                        span,
                        "invalid redirect URI",
                        "redirect URIs are absolute http(s) URLs without a #fragment",
                    );
                }
            }
            fields.insert("redirect_uris".into(), json!(uris.0));
        }
        if raw.authorization_grant_type == Some(GrantType::AuthorizationCode)
            && raw.ensure != Some(Ensure::Absent)
            && raw.redirect_uris.as_ref().is_none_or(|u| u.0.is_empty())
        {
            let span = if raw.redirect_uris.is_some() {
                self.value_span(&at("redirect_uris"))
            } else {
                self.value_span(&at("authorization_grant_type"))
            };
            self.report(
                "appform::config::missing_redirect_uris",
                format!("application `{key}` uses authorization-code but has no redirect URIs"),
                span,
                "needs redirect URIs",
                "AWX requires at least one redirect URI for authorization-code; add `redirect_uris:`",
            );
        }
        if let Some(s) = raw.skip_authorization {
            fields.insert("skip_authorization".into(), json!(s));
        }
        if let Some(d) = &raw.description {
            fields.insert("description".into(), json!(d));
        }
        if self.problems.len() != before {
            return None;
        }
        let span = self.key_span(&base);
        Some(DesiredApp {
            key: key.to_string(),
            identity: AppIdentity::Awx { organization, name },
            ensure: raw.ensure.unwrap_or_default(),
            fields,
            origin: self.origin(span),
        })
    }

    /// Two keys that name the same (organization, name) would fight over one app.
    fn check_awx_identities(&mut self, server: &str, apps: &[DesiredApp]) {
        let mut seen: BTreeMap<&AppIdentity, &DesiredApp> = BTreeMap::new();
        for app in apps {
            if let Some(first) = seen.get(&app.identity) {
                let span = Span {
                    offset: app.origin.offset,
                    len: app.origin.len,
                };
                let first_span = Span {
                    offset: first.origin.offset,
                    len: first.origin.len,
                };
                self.problems.push(
                    Problem::new(
                        "appform::config::duplicate_identity",
                        format!(
                            "server `{server}`: `{}` and `{}` are the same AWX application",
                            first.key, app.key
                        ),
                    )
                    .at(self.input.source, span, "same organization and name")
                    .also(first_span, "as this one")
                    .help("each (organization, name) pair may be declared once"),
                );
            } else {
                seen.insert(&app.identity, app);
            }
        }
    }

    fn tpp_app(&mut self, server: &str, key: &str, raw: &raw::RawTppApp) -> Option<DesiredApp> {
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
                        "appform::config::scope",
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
                        "appform::config::out_of_range",
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
            origin: self.origin(span),
        })
    }

    fn whm_app(&mut self, server: &str, key: &str, raw: &raw::RawWhmApp) -> Option<DesiredApp> {
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
                    "appform::config::whm_data_name",
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
                    "appform::config::invalid_value",
                    format!("`data` of `{key}` is empty"),
                    span,
                    "empty",
                    "WHM requires a non-empty `data` object",
                );
                return None;
            }
            fields.insert("data".into(), Value::Object(data.clone()));
        }
        let span = self.key_span(&base);
        Some(DesiredApp {
            key: key.to_string(),
            identity: AppIdentity::Whm {
                name: key.to_string(),
            },
            ensure: raw.ensure.unwrap_or_default(),
            fields,
            origin: self.origin(span),
        })
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The redirect-URI rules of AWX (DOT's validator, awx.md §3): absolute,
/// http or https, with a host, no fragment.
pub fn check_redirect_uri(uri: &str) -> Result<(), String> {
    let url = url::Url::parse(uri).map_err(|e| format!("is not a valid URL ({e})"))?;
    if url.scheme() != "http" && url.scheme() != "https" {
        return Err(format!(
            "uses `{}:`; only http and https are allowed",
            url.scheme()
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if url.fragment().is_some() || uri.contains('#') {
        return Err("has a #fragment, which OAuth forbids".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_rules() {
        assert!(check_redirect_uri("https://grafana.example.com/login/generic_oauth").is_ok());
        assert!(check_redirect_uri("http://127.0.0.1:3000/cb").is_ok());
        assert!(
            check_redirect_uri("ftp://example.com/cb")
                .unwrap_err()
                .contains("ftp")
        );
        assert!(
            check_redirect_uri("https://example.com/cb#x")
                .unwrap_err()
                .contains("fragment")
        );
        assert!(
            check_redirect_uri("https://example.com/cb#")
                .unwrap_err()
                .contains("fragment")
        );
        assert!(check_redirect_uri("/relative/cb").is_err());
        assert!(check_redirect_uri("not a url").is_err());
    }

    #[test]
    fn loopback_hosts() {
        for u in [
            "http://127.0.0.1:80",
            "http://127.9.9.9",
            "http://localhost:8080",
            "http://[::1]:1",
        ] {
            assert!(is_loopback(&url::Url::parse(u).unwrap()), "{u}");
        }
        for u in [
            "http://10.0.0.1",
            "http://example.com",
            "http://localhost.example.com",
        ] {
            assert!(!is_loopback(&url::Url::parse(u).unwrap()), "{u}");
        }
    }

    #[test]
    fn did_you_mean_finds_near_misses_only() {
        let fields = ["client_type", "authorization_grant_type", "redirect_uris"];
        assert_eq!(
            did_you_mean("redirect_uri", &fields).as_deref(),
            Some("redirect_uris")
        );
        assert_eq!(
            did_you_mean("client_typ", &fields).as_deref(),
            Some("client_type")
        );
        assert_eq!(did_you_mean("zzz", &fields), None);
    }
}
