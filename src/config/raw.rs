//! The YAML shape of one config file, as serde + schemars types. No logic here:
//! `validate.rs` turns these into the model. `schema.json` is generated from them.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, SeqAccess, Visitor};

use crate::model::{ClientType, Ensure, GrantType};

/// One appform configuration file. A directory of them is merged.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "appform configuration file")]
pub struct RawFile {
    /// Safety thresholds checked before any write (docs/reference.md §4.1). At most one file may set it.
    pub policy: Option<RawPolicy>,
    /// Servers by name. A name may be defined in one file only.
    pub servers: Option<BTreeMap<String, RawServer>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Policy")]
pub struct RawPolicy {
    /// Deletions plus replacements allowed in one run, over all servers (default 5).
    pub max_deletes: Option<u32>,
    /// Largest share of changed applications on a server with at least 10 (default 0.5).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_change_ratio: Option<f64>,
    /// A delete or replacement of an AWX or gateway application that still
    /// has tokens that have not expired: `block` (default) stops the apply
    /// before any write unless the app says `allow_delete_in_use: true` or
    /// `--force`; `warn` only marks it in the plan.
    pub delete_in_use: Option<crate::model::DeleteInUse>,
}

/// A server entry holds exactly one of `awx`, `gateway`, `tpp`, `whm`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Server")]
pub enum RawServer {
    /// AWX / Ansible Tower / AAP controller (`/api/v2/applications/`).
    Awx(RawServerBody<RawAwxAuth, RawAwxApp>),
    /// AAP platform gateway, AAP 2.5+ (`/api/gateway/v1/applications/`);
    /// `url` is the gateway's address, without the API path.
    Gateway(RawServerBody<RawAwxAuth, RawGatewayApp>),
    /// Venafi TPP WebSDK OAuth applications.
    Tpp(RawServerBody<RawTppAuth, RawTppApp>),
    /// cPanel WHM API 1 connected applications.
    Whm(RawServerBody<RawWhmAuth, RawWhmApp>),
}

/// The options every kind of server takes, with its own `auth` and `applications`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "{A}Server")]
pub struct RawServerBody<Auth, A> {
    /// The server's base URL. Exactly one of `url` or `urls`.
    #[schemars(url)]
    pub url: Option<String>,
    /// Several hosts that must all carry the same applications; each is an
    /// instance named `<server>@<host[:port]>`.
    #[schemars(length(min = 1))]
    pub urls: Option<Vec<String>>,
    pub auth: Auth,
    /// Allow `http://` to a host that is not loopback.
    pub allow_insecure_http: Option<bool>,
    /// A PEM file with CA certificates to trust in addition to the system's.
    pub ca_file: Option<String>,
    /// Do not verify the TLS certificate (a warning is printed on every run).
    pub tls_skip_verify: Option<bool>,
    /// Request timeout: seconds, or a duration such as `30s` (default `30s`).
    pub timeout: Option<RawDuration>,
    /// The longest one request may take with all its retries and waits
    /// (`Retry-After` included), and the most time retries may spend waiting
    /// on one server in one run: seconds or a duration (default 10 × `timeout`).
    pub deadline: Option<RawDuration>,
    /// Concurrent requests to one host (default 4).
    #[schemars(range(min = 1, max = 64))]
    pub max_in_flight: Option<u32>,
    /// Delete live applications that are not in the config (default false).
    pub prune: Option<bool>,
    /// Globs of application names that are never deleted.
    pub protect: Option<Vec<String>>,
    /// Manage fields the config does not mention, at their defaults (default false).
    pub authoritative: Option<bool>,
    /// `false`: plan only; apply skips this server and says so (default true).
    pub apply: Option<bool>,
    /// `all` (default): plans read every application; `managed` (AWX and
    /// gateway, without `prune` or `authoritative`): only those the config
    /// names, in a few filtered requests; unmanaged ones are then not counted.
    pub listing: Option<crate::model::Listing>,
    /// AWX and gateway: a confidential application created longer ago than
    /// this is due for rotation (its client secret never changes): the
    /// default of the server's applications, each may set its own.
    pub rotate_after: Option<RawDuration>,
    /// AWX and gateway: after `apply --rotate`, how long the old application
    /// (its client id and secret) keeps working, kept under a reserved
    /// retiring name; without it a rotation deletes the old application at
    /// once. The default of the server's applications, each may set its own.
    pub rotation_overlap: Option<RawDuration>,
    /// Applications by identity key.
    pub applications: Option<BTreeMap<String, A>>,
}

/// AWX (and gateway) credentials: `token`, or `username` + `password`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "AwxAuth")]
pub struct RawAwxAuth {
    /// OAuth2 / personal access token: `env:NAME` or `file:PATH`.
    #[schemars(regex(pattern = r"^(env|file):.+"))]
    pub token: Option<String>,
    pub username: Option<String>,
    /// `env:NAME` or `file:PATH`.
    #[schemars(regex(pattern = r"^(env|file):.+"))]
    pub password: Option<String>,
    /// Read-only credentials of the same shape, used by `plan` (and
    /// `export`) and never by `apply`: give pull-request plans only these.
    pub plan: Option<Box<RawAwxAuth>>,
}

/// TPP credentials: `token`, or `client_id` + `username` + `password` (+ `scope`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TppAuth")]
pub struct RawTppAuth {
    /// A bearer token: `env:NAME` or `file:PATH`.
    #[schemars(regex(pattern = r"^(env|file):.+"))]
    pub token: Option<String>,
    /// The API integration's client id used to obtain a token.
    pub client_id: Option<String>,
    pub username: Option<String>,
    /// `env:NAME` or `file:PATH`.
    #[schemars(regex(pattern = r"^(env|file):.+"))]
    pub password: Option<String>,
    /// Scope requested for the token (default `admin:delete`).
    pub scope: Option<String>,
    /// Read-only credentials of the same shape, used by `plan` (and
    /// `export`) and never by `apply`: give pull-request plans only these.
    pub plan: Option<Box<RawTppAuth>>,
}

/// WHM credentials: `username` with `token` (API token) or `password` (Basic).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WhmAuth")]
pub struct RawWhmAuth {
    pub username: String,
    /// WHM API token: `env:NAME` or `file:PATH`.
    #[schemars(regex(pattern = r"^(env|file):.+"))]
    pub token: Option<String>,
    /// `env:NAME` or `file:PATH`.
    #[schemars(regex(pattern = r"^(env|file):.+"))]
    pub password: Option<String>,
    /// Read-only credentials of the same shape, used by `plan` (and
    /// `export`) and never by `apply`: give pull-request plans only these.
    pub plan: Option<Box<RawWhmAuth>>,
}

/// An AWX OAuth2 application. The key is its name unless `name:` is given.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Awx")]
pub struct RawAwxApp {
    /// The application name on the server, when it differs from the key.
    pub name: Option<String>,
    /// Organization name, or its numeric id. Part of the identity.
    pub organization: RawOrg,
    pub ensure: Option<Ensure>,
    /// Required to create.
    pub client_type: Option<ClientType>,
    /// Required to create; the server cannot change it (a change replaces the app).
    pub authorization_grant_type: Option<GrantType>,
    /// Redirect URIs (a list, or one space-separated string); http/https, no fragment.
    pub redirect_uris: Option<UriList>,
    pub skip_authorization: Option<bool>,
    pub description: Option<String>,
    /// Identities the application had before: an old name (same organization),
    /// or `{name, organization}` for a move between organizations. The app found
    /// under one of them is renamed or moved in place (one PATCH), keeping its
    /// client id and secret.
    pub renamed_from: Option<Vec<RawPrevious>>,
    /// Delete or replace it even while it has tokens that have not expired
    /// (`policy.delete_in_use` otherwise blocks that).
    pub allow_delete_in_use: Option<bool>,
    /// Due for rotation once created longer ago than this (confidential
    /// apps; overrides the server's `rotate_after`).
    pub rotate_after: Option<RawDuration>,
    /// After `apply --rotate`, how long the old application keeps working
    /// (overrides the server's `rotation_overlap`).
    pub rotation_overlap: Option<RawDuration>,
}

/// An AAP platform gateway OAuth2 application. The key is its name unless
/// `name:` is given.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Gateway")]
pub struct RawGatewayApp {
    /// The application name on the server, when it differs from the key.
    pub name: Option<String>,
    /// Organization name, or its numeric id. Part of the identity.
    pub organization: RawOrg,
    pub ensure: Option<Ensure>,
    /// Required to create.
    pub client_type: Option<ClientType>,
    /// Required to create; the gateway changes it in place.
    pub authorization_grant_type: Option<GrantType>,
    /// Redirect URIs (a list, or one space-separated string); the gateway checks none.
    pub redirect_uris: Option<UriList>,
    /// Where the application may send users after logout (a list, or one
    /// space-separated string).
    pub post_logout_redirect_uris: Option<UriList>,
    /// OpenID Connect signing algorithm: `""` (none), `RS256` or `HS256`.
    pub algorithm: Option<Algorithm>,
    /// The application's home page: an http(s) URL of at most 200 characters.
    pub app_url: Option<String>,
    pub skip_authorization: Option<bool>,
    pub description: Option<String>,
    /// Identities the application had before, as for AWX: renamed or moved in
    /// place, keeping its client id and secret.
    pub renamed_from: Option<Vec<RawPrevious>>,
    /// Delete or replace it even while it has tokens that have not expired
    /// (`policy.delete_in_use` otherwise blocks that).
    pub allow_delete_in_use: Option<bool>,
    /// Due for rotation once created longer ago than this (confidential
    /// apps; overrides the server's `rotate_after`).
    pub rotate_after: Option<RawDuration>,
    /// After `apply --rotate`, how long the old application keeps working
    /// (overrides the server's `rotation_overlap`).
    pub rotation_overlap: Option<RawDuration>,
}

/// The gateway's `algorithm` choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
pub enum Algorithm {
    /// No OpenID Connect signing.
    #[serde(rename = "")]
    None,
    RS256,
    HS256,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::None => "",
            Algorithm::RS256 => "RS256",
            Algorithm::HS256 => "HS256",
        }
    }
}

/// A previous identity of an AWX or gateway application (`renamed_from:` items).
#[derive(Debug, Clone, PartialEq)]
pub enum RawPrevious {
    /// An old name in the app's current organization.
    Name(String),
    /// An old name in another organization (a move).
    Moved { name: String, organization: RawOrg },
}

impl<'de> Deserialize<'de> for RawPrevious {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawPrevious;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an old application name, or a map with `name` and `organization`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawPrevious, E> {
                Ok(RawPrevious::Name(v.to_string()))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<RawPrevious, A::Error> {
                let mut name = None;
                let mut organization = None;
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "name" => name = Some(map.next_value::<String>()?),
                        "organization" => organization = Some(map.next_value::<RawOrg>()?),
                        other => {
                            return Err(de::Error::unknown_field(other, &["name", "organization"]));
                        }
                    }
                }
                let name = name.ok_or_else(|| de::Error::missing_field("name"))?;
                let organization =
                    organization.ok_or_else(|| de::Error::missing_field("organization"))?;
                Ok(RawPrevious::Moved { name, organization })
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawPrevious {
    fn schema_name() -> Cow<'static, str> {
        "PreviousIdentity".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let org = generator.subschema_for::<RawOrg>();
        json_schema!({
            "description": "An old name (same organization), or `{name, organization}` for a move between organizations.",
            "oneOf": [
                {"type": "string", "minLength": 1},
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "organization"],
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "organization": org
                    }
                }
            ]
        })
    }
}

/// A Venafi TPP OAuth application. The key is its application ID.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Tpp")]
pub struct RawTppApp {
    pub ensure: Option<Ensure>,
    /// Required to create.
    pub name: Option<String>,
    /// Required to create.
    pub vendor: Option<String>,
    /// Required to create.
    pub description: Option<String>,
    /// Required to create.
    pub url: Option<String>,
    /// Minimum scope, e.g. `certificate:manage,revoke`. Required to create.
    pub scope: Option<String>,
    /// Maximum scope, e.g. `certificate:manage,revoke;configuration`. Required to create.
    pub maximum_scope: Option<String>,
    /// Token lifetime (server default 90d).
    pub access_validity: Option<RawDuration>,
    /// Grant lifetime (server default 1y).
    pub grant_validity: Option<RawDuration>,
    /// Whether tokens can be refreshed (server default true).
    pub renewable: Option<bool>,
    /// Read only to say why it is refused: a TPP ID cannot change.
    #[schemars(skip)]
    pub renamed_from: Option<serde::de::IgnoredAny>,
}

/// A cPanel WHM connected application. The key is its name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Whm")]
pub struct RawWhmApp {
    pub ensure: Option<Ensure>,
    /// The stored object (required to create); must not have a top-level `name` key.
    pub data: Option<serde_json::Map<String, serde_json::Value>>,
    /// Read only to say why it is refused: WHM has no rename.
    #[schemars(skip)]
    pub renamed_from: Option<serde::de::IgnoredAny>,
}

/// A duration: seconds, or a string with one unit (`30s`, `15m`, `2h`, `90d`, `1w`, `1y`).
#[derive(Debug, Clone, PartialEq)]
pub enum RawDuration {
    Seconds(u64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as `30s` or `90d`, or a number of seconds")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDuration, E> {
                Ok(RawDuration::Seconds(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDuration, E> {
                u64::try_from(v)
                    .map(RawDuration::Seconds)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDuration, E> {
                Ok(RawDuration::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Seconds, or a number with one unit suffix: s, m, h, d, w, y (`90d`, `1y` = 365 days).",
            "oneOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": "^[0-9]+[smhdwy]?$"}
            ]
        })
    }
}

/// `redirect_uris`: a list, or a single space-separated string.
#[derive(Debug, Clone, PartialEq)]
pub struct UriList(pub Vec<String>);

impl<'de> Deserialize<'de> for UriList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UriList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of URIs or a space-separated string")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<UriList, E> {
                Ok(UriList(v.split_whitespace().map(str::to_string).collect()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<UriList, A::Error> {
                let mut out = Vec::new();
                while let Some(item) = seq.next_element::<String>()? {
                    out.push(item);
                }
                Ok(UriList(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for UriList {
    fn schema_name() -> Cow<'static, str> {
        "RedirectUris".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Redirect URIs: a list, or one space-separated string. http/https only, a host right after `//`, no #fragment.",
            "oneOf": [
                {"type": "array", "items": {
                    "type": "string",
                    "maxLength": 2048,
                    "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://([^/?#@\\s]*@)?([A-Za-z0-9\\u00a1-\\uffff]|\\[)[^#\\s]*$"
                }},
                {"type": "string"}
            ]
        })
    }
}

/// An AWX organization: its name, or its numeric id.
#[derive(Debug, Clone, PartialEq)]
pub enum RawOrg {
    Id(u64),
    Name(String),
}

impl<'de> Deserialize<'de> for RawOrg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawOrg;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an organization name or a numeric id")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawOrg, E> {
                Ok(RawOrg::Id(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawOrg, E> {
                u64::try_from(v)
                    .map(RawOrg::Id)
                    .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawOrg, E> {
                Ok(RawOrg::Name(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawOrg {
    fn schema_name() -> Cow<'static, str> {
        "Organization".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Organization name, or its numeric id.",
            "oneOf": [
                {"type": "integer", "minimum": 1},
                {"type": "string", "minLength": 1}
            ]
        })
    }
}

/// The JSON Schema (draft-07, what yaml-language-server supports) of one config file.
pub fn schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<RawFile>();
    schema.to_value()
}
