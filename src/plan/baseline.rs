//! `plan --baseline REF`: the configuration at a git revision (the last one
//! applied, or a pull request's target branch) used two ways. Pure: the
//! caller reads REF ([`crate::config::git`]) and builds the plans.
//!
//! - **Origin** of each change ([`classify`]): the same live state is planned
//!   against the configuration at REF too. A change the REF plan also has is
//!   **drift** (the live object differs from what the config said at REF:
//!   edited outside appform), with the fields that drifted; any other change
//!   is **pending** (the config changed since REF and the server still
//!   matches REF). An app the config has now but not at REF, or had at REF
//!   but not now, is pending.
//! - **Connection pinning** ([`withheld`]): a server instance whose connection
//!   settings (kind, URL, authentication and every credential reference, TLS
//!   options and the content of a versioned `ca_file`, `allow_insecure_http`)
//!   differ from REF, or that REF does not
//!   have, is not contacted: an untrusted change cannot send the runner's
//!   credentials to a new place.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Plan, ServerPlan, Summary};
use crate::model::{Config, Instance, Server};

/// Why a change is in the plan, relative to the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The config changed since the baseline; the server still matches it.
    Pending,
    /// The server changed outside appform since the baseline.
    Drift,
}

impl Origin {
    pub fn word(self) -> &'static str {
        match self {
            Origin::Pending => "pending",
            Origin::Drift => "drift",
        }
    }
}

/// The revision a plan was classified against (an extension of docs/reference.md §2.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineRef {
    /// As given: `appform-applied`, `origin/main`.
    pub reference: String,
    /// The commit it named.
    pub commit: String,
}

/// Sets the origin of every change of `plan` (made from the config now)
/// from `then_plan` (the same live states planned against the config at
/// the baseline), and the origin counts of the summary.
pub fn classify(
    plan: &mut Plan,
    now: &Config,
    then: &Config,
    then_plan: &Plan,
    baseline: BaselineRef,
) {
    for sp in &mut plan.servers {
        let server_now = server_of(now, &sp.server);
        let server_then = server_now.and_then(|s| then.servers.iter().find(|t| t.name == s.name));
        let plan_then = then_plan.servers.iter().find(|t| t.server == sp.server);
        classify_server(sp, server_now, server_then, plan_then, &baseline.reference);
    }
    plan.baseline = Some(baseline);
    // A server that could not be classified failed: count it so.
    plan.summary = super::summarize(&plan.servers);
    plan.instances = super::instance_counts(&plan.servers);
    count_origins(plan);
}

/// The summary's `pending` and `drift` counts (after `--app` restricted the plan).
pub fn count_origins<Op>(plan: &mut Plan<Op>) {
    let of = |o: Origin| {
        plan.servers
            .iter()
            .flat_map(|s| &s.changes)
            .filter(|c| c.origin == Some(o))
            .count()
    };
    let (pending, drift) = (of(Origin::Pending), of(Origin::Drift));
    plan.summary = Summary {
        pending: Some(pending),
        drift: Some(drift),
        ..plan.summary
    };
}

fn server_of<'c>(config: &'c Config, instance: &str) -> Option<&'c Server> {
    config
        .servers
        .iter()
        .find(|s| s.instances.iter().any(|i| i.name == instance))
}

fn classify_server(
    sp: &mut ServerPlan,
    now: Option<&Server>,
    then: Option<&Server>,
    plan_then: Option<&ServerPlan>,
    reference: &str,
) {
    if sp.error.is_some() || sp.changes.is_empty() {
        return;
    }
    let (Some(now), Some(then)) = (now, then) else {
        // A server new since the baseline: everything on it is pending.
        for c in &mut sp.changes {
            c.set_origin(Origin::Pending, &BTreeSet::new());
        }
        return;
    };
    let plan_then = match plan_then {
        Some(p) if p.error.is_none() => p,
        other => {
            // Without the baseline's view, calling anything drift or pending would be a guess.
            let why = other
                .and_then(|p| p.error.clone())
                .unwrap_or_else(|| "it was not planned".into());
            sp.error = Some(format!(
                "cannot tell drift from pending changes: the configuration at the baseline `{reference}` cannot be planned against this server: {why}"
            ));
            sp.changes.clear();
            return;
        }
    };
    let keys = |s: &Server| -> BTreeSet<String> { s.apps.iter().map(|a| a.key.clone()).collect() };
    let (keys_now, keys_then) = (keys(now), keys(then));
    let drifted: BTreeMap<(String, Option<String>), BTreeSet<String>> = plan_then
        .changes
        .iter()
        .map(|c| {
            (
                (c.app.clone(), c.organization.clone()),
                c.changed_fields().map(|f| f.field.clone()).collect(),
            )
        })
        .collect();
    for c in &mut sp.changes {
        let in_config_now = keys_now.contains(&c.app);
        let in_config_then = keys_then.contains(&c.app);
        let then_change = drifted.get(&(c.app.clone(), c.organization.clone()));
        match then_change {
            Some(fields) if in_config_now == in_config_then => c.set_origin(Origin::Drift, fields),
            _ => c.set_origin(Origin::Pending, &BTreeSet::new()),
        }
    }
}

impl super::Change {
    /// Marks each changed field drift when the baseline's change has it, else
    /// pending; the change is drift when a field is, or when it has no fields
    /// and `origin` says drift (a create or delete the baseline plans too).
    fn set_origin(&mut self, origin: Origin, drifted: &BTreeSet<String>) {
        let mut any_drift = false;
        let mut any_field = false;
        for f in self.fields.iter_mut().filter(|f| !f.carried) {
            any_field = true;
            let o = if origin == Origin::Drift && drifted.contains(&f.field) {
                any_drift = true;
                Origin::Drift
            } else {
                Origin::Pending
            };
            f.origin = Some(o);
        }
        self.origin = Some(
            if any_drift || (origin == Origin::Drift && (!any_field || drifted.is_empty())) {
                Origin::Drift
            } else {
                Origin::Pending
            },
        );
    }
}

/// Connection pinning: the instances among `targets` (server, instance)
/// that must not be
/// contacted, with the reason, because their connection settings are not
/// the same as in `then` (the config at `reference`). `same_ca_content` says
/// whether a `ca_file` holds what it held at REF, or why not (`ca_file
/// content`, `ca_file is a symbolic link`); `secret_file` whether a `file:`
/// credential may be read (not through a symbolic link in the work tree).
pub fn withheld(
    targets: &[(&Server, &Instance)],
    then: &Config,
    reference: &str,
    same_ca_content: &dyn Fn(&std::path::Path) -> Result<(), String>,
    secret_file: &dyn Fn(&std::path::Path) -> Result<(), String>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for &(server, instance) in targets {
        let then_server = then.servers.iter().find(|s| s.name == server.name);
        let mut changed = match then_server {
            None => vec!["the server is new".to_string()],
            Some(s) => connection_differences(server, instance, s),
        };
        if changed.is_empty()
            && let Some(ca) = &server.options.ca_file
            && let Err(why) = same_ca_content(ca)
        {
            changed.push(why);
        }
        let files = std::iter::once(&server.auth)
            .chain(&server.plan_auth)
            .flat_map(crate::model::Auth::references)
            .filter_map(|(_, r)| match r {
                crate::secret::SecretRef::File(path) => Some(path),
                crate::secret::SecretRef::Env(_) => None,
            });
        for path in files {
            if let Err(why) = secret_file(path) {
                changed.push(why);
            }
        }
        if !changed.is_empty() {
            out.insert(
                instance.name.clone(),
                format!(
                    "connection changed in this change ({}; compared with the baseline `{reference}`): not planned (review it, then it is planned from the target branch)",
                    changed.join(", ")
                ),
            );
        }
    }
    out
}

/// What differs between how `now` reaches `instance` and how `then` did.
fn connection_differences(now: &Server, instance: &Instance, then: &Server) -> Vec<String> {
    let mut out = Vec::new();
    if now.kind != then.kind {
        out.push("kind".to_string());
    }
    if !then.instances.iter().any(|i| i.url == instance.url) {
        out.push("url".to_string());
    }
    if now.auth != then.auth {
        out.push("auth".to_string());
    }
    if now.plan_auth != then.plan_auth {
        out.push("auth.plan".to_string());
    }
    let (a, b) = (&now.options, &then.options);
    if a.ca_file != b.ca_file {
        out.push("ca_file".to_string());
    }
    if a.tls_skip_verify != b.tls_skip_verify {
        out.push("tls_skip_verify".to_string());
    }
    if a.allow_insecure_http != b.allow_insecure_http {
        out.push("allow_insecure_http".to_string());
    }
    out
}
