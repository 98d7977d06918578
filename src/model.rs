//! The validated configuration: what the YAML says, after every check, as plain data.
//! Nothing here reads files, talks to servers or formats for a terminal.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::secret::{Credential, SecretRef};

/// The kinds of server appform manages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Awx,
    /// The AAP platform gateway (AAP 2.5+, django-ansible-base).
    Gateway,
    Tpp,
    Whm,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Awx, Kind::Gateway, Kind::Tpp, Kind::Whm];

    /// The kind `as_str` names so.
    pub fn named(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Awx => "awx",
            Kind::Gateway => "gateway",
            Kind::Tpp => "tpp",
            Kind::Whm => "whm",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `ensure:` on an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Ensure {
    #[default]
    Present,
    Absent,
}

/// AWX `client_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Confidential,
    Public,
}

impl ClientType {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Confidential => "confidential",
            ClientType::Public => "public",
        }
    }
}

/// AWX `authorization_grant_type` (`implicit` was removed from AWX, awx.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum GrantType {
    AuthorizationCode,
    Password,
}

impl GrantType {
    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization-code",
            GrantType::Password => "password",
        }
    }
}

/// An AWX organization as the config names it: by name, or by numeric id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OrgRef {
    Id(u64),
    Name(String),
}

impl OrgRef {
    /// The organization's id on a server that has these organizations.
    pub fn resolve(&self, organizations: &BTreeMap<u64, String>) -> Option<u64> {
        match self {
            OrgRef::Id(id) => organizations.contains_key(id).then_some(*id),
            OrgRef::Name(name) => organizations
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(id, _)| *id),
        }
    }
}

impl std::fmt::Display for OrgRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OrgRef::Id(id) => write!(f, "{id}"),
            OrgRef::Name(name) => f.write_str(name),
        }
    }
}

/// Where something was written in the configuration, so that later stages
/// (planning) can point at it. `file` indexes [`Config::sources`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub file: usize,
    pub offset: usize,
    pub len: usize,
}

/// One loaded configuration file, kept for diagnostics and the config digest.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// The path as given or found (relative to the working directory when it was).
    pub name: String,
    /// The path relative to [`Config::root`] (what the digest covers).
    pub relative: String,
    pub text: String,
}

/// The whole validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub policy: Policy,
    /// Sorted by name.
    pub servers: Vec<Server>,
    /// The directory the files' relative names start from: the directory
    /// given with `-c`, or the directory of the file given.
    pub root: std::path::PathBuf,
    pub sources: Vec<SourceText>,
    /// Files skipped by the default discovery as not appform's (no `servers:`
    /// or `policy:`), relative to the root.
    pub skipped: Vec<String>,
    /// `sha256:<hex>` over every file's relative path and bytes (docs/reference.md §2.6 `config_digest`).
    pub digest: String,
    /// Non-fatal remarks found while loading (for example `tls_skip_verify`).
    pub warnings: Vec<String>,
}

impl Server {
    /// Every name the config's applications have or had (`renamed_from`),
    /// sorted, once each: what `listing: managed` reads.
    pub fn managed_names(&self) -> Vec<String> {
        self.managed_names_selected(&[])
    }

    /// [`Server::managed_names`] of the applications whose key matches one
    /// of `globs` (`--app`; every application when there is none).
    pub fn managed_names_selected(&self, globs: &[glob::Pattern]) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let selected = |key: &str| globs.is_empty() || globs.iter().any(|g| g.matches(key));
        for app in self.apps.iter().filter(|a| selected(&a.key)) {
            if let AppIdentity::Awx { name, .. } = &app.identity {
                names.push(name.clone());
            }
            names.extend(app.renamed_from.iter().map(|p| p.name.clone()));
        }
        names.sort();
        names.dedup();
        names
    }
}

impl Config {
    /// Reads with each server's `auth.plan` where it has one: `plan` and
    /// `export` never hold the write credentials of a server that names
    /// read-only ones. `apply` never calls this.
    pub fn use_plan_credentials(&mut self) {
        for server in &mut self.servers {
            if let Some(read_only) = server.plan_auth.take() {
                server.auth = read_only;
                server.reading_with_plan_auth = true;
            }
        }
    }
}

/// `policy:` (docs/reference.md §4.1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub max_deletes: u32,
    pub max_change_ratio: f64,
    pub delete_in_use: DeleteInUse,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            max_deletes: 5,
            max_change_ratio: 0.5,
            delete_in_use: DeleteInUse::Block,
        }
    }
}

/// One `servers:` entry. With `urls`, it stands for several instances.
#[derive(Debug, Clone)]
pub struct Server {
    pub name: String,
    pub kind: Kind,
    pub instances: Vec<Instance>,
    pub auth: Auth,
    /// `auth.plan`: read-only credentials for `plan` and `export`, never
    /// used by `apply`.
    pub plan_auth: Option<Auth>,
    /// Set when `auth` holds the `auth.plan` credentials (plan and export):
    /// what the server says such read-only credentials may do is not what
    /// apply's credentials may do.
    pub reading_with_plan_auth: bool,
    pub options: ServerOptions,
    /// Sorted by key.
    pub apps: Vec<DesiredApp>,
    pub origin: Origin,
}

/// One host a server entry points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    /// `<server>` for `url`, `<server>@<host[:port]>` for each of `urls`.
    pub name: String,
    /// Normalized, without a trailing slash.
    pub url: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerOptions {
    pub timeout: Duration,
    /// A request with its retries never takes longer, and retries never wait
    /// longer in all on one server in one run (default 10 × `timeout`).
    pub deadline: Duration,
    pub max_in_flight: u32,
    pub prune: bool,
    pub protect: Vec<String>,
    pub authoritative: bool,
    pub apply: bool,
    pub allow_insecure_http: bool,
    /// Resolved relative to the directory of the file that names it.
    pub ca_file: Option<PathBuf>,
    pub tls_skip_verify: bool,
    /// `listing:`: what a plan reads of the server.
    pub listing: Listing,
    /// AWX and gateway `rotate_after`, in seconds.
    pub rotate_after: Option<u64>,
    /// AWX and gateway `rotation_overlap`, in seconds: how long the old
    /// application keeps working after `apply --rotate`.
    pub rotation_overlap: Option<u64>,
}

/// `policy.delete_in_use`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeleteInUse {
    #[default]
    Block,
    Warn,
}

/// `listing:` of a server: every application (the default), or only those
/// the config names (AWX and gateway, neither `prune` nor `authoritative`):
/// cheaper on a big shared server, and the unmanaged ones are not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Listing {
    #[default]
    All,
    Managed,
}

/// How appform authenticates to a server. Secrets are references, resolved at plan time.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// AWX or TPP bearer token; WHM API token (with `username`).
    Token {
        username: Option<Credential>,
        token: SecretRef,
    },
    /// AWX or WHM Basic authentication.
    Basic {
        username: Credential,
        password: SecretRef,
    },
    /// TPP: a token obtained from VEDAuth with these credentials (tpp.md §4).
    TppPassword {
        client_id: Credential,
        username: Credential,
        password: SecretRef,
        /// As configured; [`TPP_DEFAULT_SCOPE`] when not.
        scope: Option<String>,
    },
}

impl Auth {
    /// Every reference these credentials name, with the field that names it
    /// (`token`, `password`, `username`, `client_id`), secrets first.
    pub fn references(&self) -> Vec<(&'static str, &SecretRef)> {
        fn push_credential<'c>(
            field: &'static str,
            c: &'c Credential,
        ) -> Option<(&'static str, &'c SecretRef)> {
            match c {
                Credential::Ref(r) => Some((field, r)),
                Credential::Literal(_) => None,
            }
        }
        let mut out: Vec<(&'static str, &SecretRef)> = Vec::new();
        match self {
            Auth::Token { username, token } => {
                out.push(("token", token));
                out.extend(
                    username
                        .as_ref()
                        .and_then(|u| push_credential("username", u)),
                );
            }
            Auth::Basic { username, password } => {
                out.push(("password", password));
                out.extend(push_credential("username", username));
            }
            Auth::TppPassword {
                client_id,
                username,
                password,
                ..
            } => {
                out.push(("password", password));
                out.extend(push_credential("username", username));
                out.extend(push_credential("client_id", client_id));
            }
        }
        out
    }
}

/// The scope appform asks TPP for when the config sets none (enough to
/// manage applications: tpp.md §4).
pub const TPP_DEFAULT_SCOPE: &str = "admin:delete";

/// The identity of an application on its server.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum AppIdentity {
    /// AWX: (organization, name).
    Awx { organization: OrgRef, name: String },
    /// TPP: the application ID.
    Tpp { id: String },
    /// WHM: the connected application's name.
    Whm { name: String },
}

/// One application as the configuration wants it.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredApp {
    /// The key under `applications:`; unique per server.
    pub key: String,
    pub identity: AppIdentity,
    pub ensure: Ensure,
    /// The managed fields, by config name, in canonical form: strings, booleans,
    /// integer seconds for durations, a list of strings for `redirect_uris`,
    /// the scope string for TPP scopes, a JSON object for WHM `data`.
    /// A field the config does not mention is absent (unmanaged).
    pub fields: BTreeMap<String, serde_json::Value>,
    /// AWX `renamed_from:`: identities the app had before, oldest last. A live
    /// app found under one of them is renamed (or moved) in place, keeping its
    /// client id and secret.
    pub renamed_from: Vec<PreviousIdentity>,
    /// AWX and gateway: `allow_delete_in_use: true`.
    pub allow_delete_in_use: bool,
    /// AWX and gateway `rotate_after` of the app, in seconds.
    pub rotate_after: Option<u64>,
    /// AWX and gateway `rotation_overlap` of the app, in seconds.
    pub rotation_overlap: Option<u64>,
    pub origin: Origin,
}

/// An identity an AWX application had before (`renamed_from:`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousIdentity {
    pub name: String,
    /// `None`: the app's current organization.
    pub organization: Option<OrgRef>,
}

/// One application as a server holds it, translated to config terms.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveApp {
    /// What desired apps are matched on: AWX `<organization id>/<name>`,
    /// TPP the application ID, WHM the name.
    pub match_key: String,
    /// The name shown in plans (AWX and WHM name, TPP ID).
    pub name: String,
    /// The server's id for writes (AWX numeric id; TPP ID; WHM name).
    pub id: String,
    /// AWX: the organization id.
    pub organization: Option<u64>,
    /// AWX: set when this is the old copy of an interrupted replacement,
    /// renamed aside (see [`crate::aside`]).
    pub aside: Option<crate::aside::Aside>,
    /// AWX and gateway: set when this is the old copy a rotation keeps for
    /// its overlap (see [`crate::retiring`]).
    pub retiring: Option<crate::retiring::Retiring>,
    /// Field values by config name, in the config's form (AWX `redirect_uris`
    /// as a list). Write-only fields (AWX `client_secret`) are never here.
    pub fields: BTreeMap<String, serde_json::Value>,
    /// Why appform will never change or delete this app, when it cannot tell
    /// what it is (an AWX app without an organization, an app with an empty
    /// name): it is shown with the reason, never matched, pruned or exported.
    pub unmanageable: Option<String>,
    /// What the server's listing says the credentials may do to this app
    /// (AWX `summary_fields.user_capabilities`); `None` when it says nothing.
    pub capabilities: Option<Capabilities>,
    /// AWX and the gateway: the listing's count of the app's OAuth2 tokens
    /// (`summary_fields.tokens.count`, expired ones included); `None` when
    /// the listing says nothing.
    pub tokens: Option<u64>,
    /// A retiring copy the listing counts tokens for: how many of them have
    /// not expired, from its token list (read with the listing).
    pub live_tokens: Option<u64>,
    /// The same copy: when one of its tokens was last used, where the
    /// server records it (the gateway).
    pub last_used: Option<String>,
    /// AWX and the gateway: when the application (and so its client
    /// secret, which never changes) was created, as the server wrote it.
    pub created: Option<String>,
}

/// AWX `user_capabilities`: a write the listing marks false is refused (403).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    pub edit: bool,
    pub delete: bool,
}

impl LiveApp {
    /// Why an app with this name cannot be managed, if it cannot: a delete
    /// the reviewer cannot read is never planned.
    pub fn unmanageable_name(name: &str) -> Option<String> {
        name.trim().is_empty().then(|| {
            "its name is empty: appform never changes or deletes an application a reviewer cannot read (give it a name on the server to manage it)".to_string()
        })
    }
}

/// What one server instance holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveState {
    pub apps: Vec<LiveApp>,
    /// AWX: every organization the credentials can see, by id (names are unique).
    pub organizations: BTreeMap<u64, String>,
    /// TPP: the server's own defaults of the fields it leaves out when they
    /// equal them (config name → value); empty when unknown or not applicable.
    pub defaults: BTreeMap<String, serde_json::Value>,
    /// Only the applications the config names were read (`listing:
    /// managed`): apps not in the config are not all here.
    pub managed_only: bool,
    /// AWX and gateway: when the listing was read, the clock against which
    /// secret ages (`rotate_after`) are measured (the plan reads no clock).
    pub read_at: Option<std::time::SystemTime>,
}
