//! Applications whose identity is (organization, name): AWX and the AAP
//! platform gateway. One set of checks for both; what differs is data
//! ([`OrgRules`]): the longest name, whether the server checks redirect URIs
//! (AWX does, the gateway does not), and the gateway's extra fields.

use std::collections::BTreeMap;

use serde_json::json;

use super::super::problem::Problem;
use super::super::raw::{self, RawOrg, RawPrevious, UriList};
use super::super::source::{Node, NodeValue, Span};
use super::apps::check_redirect_uri;
use super::checker::{Checker, SecretAge};
use crate::config::Code;
use crate::model::{
    AppIdentity, ClientType, DesiredApp, Ensure, GrantType, Kind, OrgRef, PreviousIdentity,
};

/// What differs between the kinds that share these checks.
pub(super) struct OrgRules {
    pub kind: Kind,
    /// `AWX`, `gateway`: for messages.
    pub label: &'static str,
    pub max_name: usize,
    /// The server refuses redirect URIs it cannot use (AWX), so `validate`
    /// refuses them first; the gateway stores anything.
    pub redirect_rules: bool,
}

pub(super) const AWX_RULES: OrgRules = OrgRules {
    kind: Kind::Awx,
    label: "AWX",
    max_name: 255,
    redirect_rules: true,
};

pub(super) const GATEWAY_RULES: OrgRules = OrgRules {
    kind: Kind::Gateway,
    label: "gateway",
    max_name: 512,
    redirect_rules: false,
};

/// The fields both kinds' raw apps have.
pub(super) struct OrgApp<'a> {
    pub name: &'a Option<String>,
    pub organization: &'a RawOrg,
    pub ensure: Option<Ensure>,
    pub client_type: Option<ClientType>,
    pub authorization_grant_type: Option<GrantType>,
    pub redirect_uris: &'a Option<UriList>,
    pub skip_authorization: Option<bool>,
    pub description: &'a Option<String>,
    pub renamed_from: &'a Option<Vec<RawPrevious>>,
    pub allow_delete_in_use: Option<bool>,
    pub rotate_after: Option<&'a crate::config::raw::RawDuration>,
    pub rotation_overlap: Option<&'a crate::config::raw::RawDuration>,
}

impl<'a> From<&'a raw::RawAwxApp> for OrgApp<'a> {
    fn from(r: &'a raw::RawAwxApp) -> Self {
        OrgApp {
            name: &r.name,
            organization: &r.organization,
            ensure: r.ensure,
            client_type: r.client_type,
            authorization_grant_type: r.authorization_grant_type,
            redirect_uris: &r.redirect_uris,
            skip_authorization: r.skip_authorization,
            description: &r.description,
            renamed_from: &r.renamed_from,
            allow_delete_in_use: r.allow_delete_in_use,
            rotate_after: r.rotate_after.as_ref(),
            rotation_overlap: r.rotation_overlap.as_ref(),
        }
    }
}

impl<'a> From<&'a raw::RawGatewayApp> for OrgApp<'a> {
    fn from(r: &'a raw::RawGatewayApp) -> Self {
        OrgApp {
            name: &r.name,
            organization: &r.organization,
            ensure: r.ensure,
            client_type: r.client_type,
            authorization_grant_type: r.authorization_grant_type,
            redirect_uris: &r.redirect_uris,
            skip_authorization: r.skip_authorization,
            description: &r.description,
            renamed_from: &r.renamed_from,
            allow_delete_in_use: r.allow_delete_in_use,
            rotate_after: r.rotate_after.as_ref(),
            rotation_overlap: r.rotation_overlap.as_ref(),
        }
    }
}

impl Checker<'_, '_> {
    pub(super) fn awx_app(
        &mut self,
        server: &str,
        key: &str,
        raw: &raw::RawAwxApp,
    ) -> Option<DesiredApp> {
        self.org_app(&AWX_RULES, server, key, OrgApp::from(raw))
    }

    pub(super) fn gateway_app(
        &mut self,
        server: &str,
        key: &str,
        raw: &raw::RawGatewayApp,
    ) -> Option<DesiredApp> {
        let before = self.problems.len();
        let at = |f: &'static str| -> [&str; 6] {
            ["servers", server, "gateway", "applications", key, f]
        };
        let mut extra = BTreeMap::new();
        if let Some(uris) = &raw.post_logout_redirect_uris {
            extra.insert("post_logout_redirect_uris".to_string(), json!(uris.0));
        }
        if let Some(a) = raw.algorithm {
            extra.insert("algorithm".to_string(), json!(a.as_str()));
        }
        if let Some(u) = &raw.app_url {
            if let Err(why) = check_app_url(u) {
                let span = self.value_span(&at("app_url"));
                self.report(
                    Code::InvalidValue,
                    format!("`app_url` `{u}` {why}"),
                    span,
                    "invalid URL",
                    "the gateway takes an http(s) URL of at most 200 characters; leave `app_url` out to keep it unset",
                );
            }
            extra.insert("app_url".to_string(), json!(u.trim()));
        }
        let mut app = self.org_app(&GATEWAY_RULES, server, key, OrgApp::from(raw))?;
        if self.problems.len() != before {
            return None;
        }
        app.fields.extend(extra);
        Some(app)
    }

    /// The checks AWX and gateway apps share; `Some` when they all pass.
    fn org_app(
        &mut self,
        rules: &OrgRules,
        server: &str,
        key: &str,
        raw: OrgApp<'_>,
    ) -> Option<DesiredApp> {
        let kind = rules.kind.as_str();
        let label = rules.label;
        let max = rules.max_name;
        let base = ["servers", server, kind, "applications", key];
        let at =
            |f: &'static str| -> [&str; 6] { ["servers", server, kind, "applications", key, f] };
        let before = self.problems.len();
        let rotate_after =
            self.secret_age(&base, rules.kind, SecretAge::RotateAfter, raw.rotate_after);
        let rotation_overlap = self.secret_age(
            &base,
            rules.kind,
            SecretAge::RotationOverlap,
            raw.rotation_overlap,
        );
        let name = match raw.name {
            Some(n) => {
                if n.trim().is_empty() || n.trim() != n || n.chars().count() > max {
                    let span = self.value_span(&at("name"));
                    self.report(
                        Code::InvalidValue,
                        format!(
                            "application name `{n}` is empty, too long or has spaces at an end"
                        ),
                        span,
                        "invalid name",
                        &format!(
                            "{label} names are 1 to {max} characters; the server trims outer spaces"
                        ),
                    );
                }
                n.clone()
            }
            None => {
                if key.chars().count() > max {
                    let span = self.key_span(&base);
                    self.report(
                        Code::InvalidValue,
                        format!("an {label} application name has at most {max} characters"),
                        span,
                        "too long",
                        "shorten the key, or set `name:`",
                    );
                }
                key.to_string()
            }
        };
        let organization = match raw.organization {
            RawOrg::Id(0) => {
                let span = self.value_span(&at("organization"));
                self.report(
                    Code::InvalidValue,
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
                    Code::InvalidValue,
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
        if let Some(uris) = raw.redirect_uris {
            if rules.redirect_rules {
                self.check_redirect_uris(&at("redirect_uris"), uris);
            }
            fields.insert("redirect_uris".into(), json!(uris.0));
        }
        if rules.redirect_rules
            && raw.authorization_grant_type == Some(GrantType::AuthorizationCode)
            && raw.ensure != Some(Ensure::Absent)
            && raw.redirect_uris.as_ref().is_none_or(|u| u.0.is_empty())
        {
            let span = if raw.redirect_uris.is_some() {
                self.value_span(&at("redirect_uris"))
            } else {
                self.value_span(&at("authorization_grant_type"))
            };
            self.report(
                Code::MissingRedirectUris,
                format!("application `{key}` uses authorization-code but has no redirect URIs"),
                span,
                "needs redirect URIs",
                "AWX requires at least one redirect URI for authorization-code; add `redirect_uris:`",
            );
        }
        if let Some(s) = raw.skip_authorization {
            fields.insert("skip_authorization".into(), json!(s));
        }
        if let Some(d) = raw.description {
            fields.insert("description".into(), json!(d));
        }
        if crate::aside::looks_reserved(&name) || crate::retiring::looks_reserved(&name) {
            let span = match raw.name {
                Some(_) => self.value_span(&at("name")),
                None => self.key_span(&base),
            };
            self.report(
                Code::ReservedName,
                format!("application name `{name}` ends like the name appform gives an application while it replaces or retires it"),
                span,
                "reserved",
                "names ending in `~appform-replaced-<digits>` or `~appform-retiring-<YYYYMMDD>` are reserved for replacements in progress and retiring copies; choose another name",
            );
        }
        let renamed_from = self.org_renamed_from(
            rules,
            &at("renamed_from"),
            raw.renamed_from,
            &name,
            &organization,
        );
        if self.problems.len() != before {
            return None;
        }
        let span = self.key_span(&base);
        Some(DesiredApp {
            key: key.to_string(),
            identity: AppIdentity::Awx { organization, name },
            ensure: raw.ensure.unwrap_or_default(),
            fields,
            renamed_from,
            allow_delete_in_use: raw.allow_delete_in_use.unwrap_or(false),
            rotate_after,
            rotation_overlap,
            origin: self.origin(span),
        })
    }

    /// AWX's redirect URI rules, each URI reported where it is written.
    fn check_redirect_uris(&mut self, path: &[&str], uris: &UriList) {
        let list_form = matches!(
            self.lookup(path),
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
                self.item_span(path, i)
            } else {
                self.value_span(path)
            };
            if let Err(why) = check_redirect_uri(uri) {
                self.report(
                    Code::RedirectUri,
                    format!("redirect URI `{uri}` {why}"),
                    span,
                    "invalid redirect URI",
                    "redirect URIs are absolute http(s) URLs without a #fragment",
                );
            }
        }
    }

    /// `renamed_from:`: old names (same organization) or `{name,
    /// organization}`; never the app's own identity.
    fn org_renamed_from(
        &mut self,
        rules: &OrgRules,
        path: &[&str],
        renamed_from: &Option<Vec<RawPrevious>>,
        name: &str,
        organization: &OrgRef,
    ) -> Vec<PreviousIdentity> {
        let mut out = Vec::new();
        for (i, previous) in renamed_from.iter().flatten().enumerate() {
            let span = self.item_span(path, i);
            let (old, org) = match previous {
                RawPrevious::Name(n) => (n.clone(), None),
                RawPrevious::Moved {
                    name,
                    organization: RawOrg::Id(id),
                } => (name.clone(), Some(OrgRef::Id(*id))),
                RawPrevious::Moved {
                    name,
                    organization: RawOrg::Name(o),
                } => (name.clone(), Some(OrgRef::Name(o.trim().to_string()))),
            };
            if old.trim().is_empty() || old.trim() != old || old.chars().count() > rules.max_name {
                self.report(
                    Code::InvalidValue,
                    format!("old name `{old}` is empty, too long or has spaces at an end"),
                    span,
                    "invalid name",
                    "write the name the application has on the server now",
                );
                continue;
            }
            let same_org = org.as_ref().is_none_or(|o| o == organization);
            if same_org && old == name {
                self.report(
                    Code::InvalidValue,
                    format!("`renamed_from` names the application's own identity `{old}`"),
                    span,
                    "not a previous identity",
                    "list the name (and organization) the application had before; remove this item",
                );
                continue;
            }
            out.push(PreviousIdentity {
                name: old,
                organization: org,
            });
        }
        out
    }

    /// Two keys that name the same (organization, name) would fight over one app.
    pub(super) fn check_org_identities(&mut self, server: &str, label: &str, apps: &[DesiredApp]) {
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
                        Code::DuplicateIdentity,
                        format!(
                            "server `{server}`: `{}` and `{}` are the same {label} application",
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
}

/// The gateway's `app_url` (a Django `URLField`, at most 200 characters):
/// an absolute http(s) URL with a host.
fn check_app_url(url: &str) -> Result<(), String> {
    let url = url.trim();
    if url.is_empty() {
        // The server takes "" as unset (as null).
        return Ok(());
    }
    if url.chars().count() > 200 {
        return Err("is longer than 200 characters".into());
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "uses `{}:`; only http and https are allowed",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_app_url;

    #[test]
    fn app_url_is_an_http_url_of_at_most_200_characters() {
        assert!(check_app_url("https://app.example.com/x").is_ok());
        assert!(check_app_url("notaurl").is_err());
        assert!(check_app_url("ftp://example.com/").is_err());
        assert!(check_app_url(&format!("https://e.com/{}", "a".repeat(190))).is_err());
    }
}
