//! The plan: every selected server instance's changes, the summary, and the
//! safety policy (docs/reference.md §4.1). Pure: built from the config and live states that
//! the providers fetched; never talks to a server.

pub mod baseline;
mod blocked;
pub mod change;
pub mod diff;
pub mod normalize;
mod select;

pub use blocked::Blocked;

use serde::{Deserialize, Serialize};

pub use change::{Action, Change, FieldDiff, InUse, Operation, Reason, Reviewed, Rotation};
pub use diff::{Diff, PlanProblem};
pub use select::{app_globs, apps_matching_nothing, check_apps_match, restrict};

use crate::model::{Config, Instance, Kind, LiveState, Server};
use crate::outcome::{Failure, FailureKind};
use crate::semantics::{self, UpdateStyle};

pub const FORMAT_VERSION: u32 = 1;

/// A plan read from a file (`plan --out`, shards for `report`).
pub type ReviewedPlan = Plan<Reviewed>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "Op: Default"))]
pub struct Plan<Op = Operation> {
    pub format_version: u32,
    pub appform_version: String,
    pub config_digest: String,
    pub servers: Vec<ServerPlan<Op>>,
    pub summary: Summary,
    pub blocked: Vec<Blocked>,
    /// Server instances in sync / drifted / failed (an extension of docs/reference.md §2.6).
    #[serde(default)]
    pub instances: InstanceCounts,
    /// `--app` globs: a partial plan holds only the changes of the matching
    /// applications (an extension of docs/reference.md §2.6; docs/reference.md §7 `--app`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub only_apps: Vec<String>,
    /// In a plan file (`plan --out`): the configuration it was made from, so
    /// that `apply PLANFILE` needs no `-c` (an extension of docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<SavedConfig>,
    /// `--baseline REF`: the revision the changes were classified against
    /// (an extension of docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<baseline::BaselineRef>,
}

/// The configuration inside a plan file, as Terraform's plan file carries
/// its configuration: the YAML files themselves (server names, URLs, TLS
/// options, credential references and the desired applications; never a
/// secret, which the config holds only as `env:`/`file:` references).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedConfig {
    /// The directory the files were read from, as given (`configs`).
    pub root: String,
    /// The same directory, absolute, on the machine that made the plan.
    pub root_absolute: String,
    pub files: Vec<SavedFile>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedFile {
    /// Relative to `root`.
    pub path: String,
    pub text: String,
}

impl SavedConfig {
    /// `root_absolute`: the configuration directory made absolute by the
    /// caller (plan/ reads no file system).
    pub fn of(config: &Config, root_absolute: String) -> SavedConfig {
        SavedConfig {
            root: config.root.display().to_string(),
            root_absolute,
            files: config
                .sources
                .iter()
                .map(|s| SavedFile {
                    path: s.relative.clone(),
                    text: s.text.clone(),
                })
                .collect(),
        }
    }

    /// Where the embedded configuration is placed to be checked (relative
    /// references, `ca_file` and `file:` secrets, resolve from it, confined
    /// to it as `-c` confines them): `root` under the current directory. A
    /// plan file is data anyone could have written: an absolute `root`, one
    /// that climbs out (`..`), or a file path that does, is refused, so a
    /// plan file can never widen what is read (`root: "/"` with
    /// `file:proc/self/environ`). `root_absolute` is kept for information.
    pub fn base(&self) -> Result<std::path::PathBuf, String> {
        let inside = |path: &str| {
            let p = std::path::Path::new(path);
            !p.as_os_str().is_empty()
                && p.components().all(|c| {
                    matches!(
                        c,
                        std::path::Component::Normal(_) | std::path::Component::CurDir
                    )
                })
        };
        if !inside(&self.root) {
            return Err(format!(
                "the plan file's configuration root `{}` is not a relative path inside the current directory; apply a plan made with an absolute or climbing `-c` from the directory it was made in, or pass `-c` (a plan file never reads outside the directory it is applied from)",
                self.root
            ));
        }
        if let Some(bad) = self.files.iter().find(|f| !inside(&f.path)) {
            return Err(format!(
                "the plan file names a configuration file `{}` outside its root; it was not written by `appform plan`",
                bad.path
            ));
        }
        Ok(std::path::PathBuf::from(&self.root))
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceCounts {
    pub in_sync: usize,
    pub drifted: usize,
    pub failed: usize,
}

pub fn instance_counts<Op>(servers: &[ServerPlan<Op>]) -> InstanceCounts {
    let mut c = InstanceCounts::default();
    for sp in servers {
        if sp.error.is_some() {
            c.failed += 1;
        } else if sp.changes.is_empty() {
            c.in_sync += 1;
        } else {
            c.drifted += 1;
        }
    }
    c
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "Op: Default"))]
pub struct ServerPlan<Op = Operation> {
    /// The instance name: `<server>` or `<server>@<host[:port]>`.
    pub server: String,
    pub kind: Kind,
    pub url: String,
    pub update_style: UpdateStyle,
    /// A server that could not be read: the failure as the plan shows it.
    pub error: Option<String>,
    /// Its kind, for apply's report (`error.kind`); a plan file carries only
    /// the message (docs/reference.md §2.6), so a plan read back has none.
    #[serde(skip)]
    pub error_kind: Option<FailureKind>,
    pub unmanaged: Vec<String>,
    pub changes: Vec<Change<Op>>,
    /// Applications that already match (an extension of docs/reference.md §2.6).
    #[serde(default)]
    pub noop: usize,
    /// Live applications on the instance (an extension of docs/reference.md §2.6).
    #[serde(default)]
    pub live: usize,
    /// False when the server has `apply: false` (an extension of docs/reference.md §2.6).
    #[serde(default = "yes")]
    pub apply: bool,
    /// Whether `prune` is on: unmanaged apps are then the protected ones
    /// (an extension of docs/reference.md §2.6).
    #[serde(default)]
    pub prune: bool,
    /// Confidential apps due for rotation (`rotate_after`; an extension of
    /// docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rotation_due: Vec<RotationDue>,
    /// Old applications a rotation keeps working until their overlap ends
    /// (`rotation_overlap`; an extension of docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub retiring: Vec<RetiringCopy>,
    /// Each managed confidential app's creation time (Unix seconds), for
    /// `--metrics-out`; not part of a plan file.
    #[serde(skip)]
    pub secrets_created: Vec<(String, u64)>,
    /// AWX: the unmanaged apps as `name (organization)`, with a note when the
    /// config has that name in another organization (an extension of docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unmanaged_labels: Vec<String>,
    /// `listing: managed`: only the applications the config names were
    /// read, so `unmanaged` is not every unmanaged app (an extension of
    /// docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "is_false")]
    pub managed_only: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub replace: usize,
    pub delete: usize,
    pub noop: usize,
    pub unmanaged: usize,
    /// With `--baseline`: changes waiting in the config, and changes made
    /// on the servers (an extension of docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<usize>,
    /// Some server was read with `listing: managed`: `unmanaged` counts
    /// only what was read (an extension of docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "is_false")]
    pub unmanaged_unknown: bool,
}

impl Summary {
    pub fn changes(&self) -> usize {
        self.create + self.update + self.replace + self.delete
    }
}

/// What the providers brought back for one instance.
pub struct InstanceState<'a> {
    pub server: &'a Server,
    pub instance: &'a Instance,
    /// Borrowed: the caller keeps the live state (apply reads it again).
    pub live: Result<&'a LiveState, &'a Failure>,
}

/// A plan problem with the server instance it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceProblem {
    pub instance: String,
    pub problem: PlanProblem,
}

/// `apply --replace` and `apply --rotate`: applications to replace although
/// nothing forces it (to rotate a client id and secret). Each request is
/// `APP` or `SERVER/APP`, globs allowed; `SERVER` matches a server or
/// instance name. A bare `--rotate` asks for every application due.
#[derive(Debug, Clone, Default)]
pub struct ForcedReplacements {
    replace: Vec<AppPattern>,
    rotate: Vec<AppPattern>,
    rotate_due: bool,
}

/// `[SERVER/]APP` as globs.
type AppPattern = (Option<glob::Pattern>, glob::Pattern);

/// What the command line asks of one application beyond the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asked {
    Nothing,
    /// `--replace`: a new client id and secret, the old app deleted.
    Replace,
    /// `--rotate APP`: a rotation (kept for `rotation_overlap`).
    Rotate,
    /// A bare `--rotate`: a rotation when the app is due.
    RotateIfDue,
}

impl ForcedReplacements {
    /// `--replace` requests.
    pub fn parse(requests: &[String]) -> Result<Self, String> {
        Ok(ForcedReplacements {
            replace: patterns("--replace", requests)?,
            ..Default::default()
        })
    }

    /// Adds `--rotate` requests; an empty one (a bare `--rotate`) asks for
    /// every application due.
    pub fn with_rotations(mut self, requests: &[String]) -> Result<Self, String> {
        let named: Vec<String> = requests.iter().filter(|r| !r.is_empty()).cloned().collect();
        self.rotate_due = named.len() < requests.len();
        self.rotate = patterns("--rotate", &named)?;
        Ok(self)
    }

    pub fn is_empty(&self) -> bool {
        self.replace.is_empty() && self.rotate.is_empty() && !self.rotate_due
    }

    /// What is asked of the app `key` of `server` (instance `instance`): a
    /// rotation named wins over a replacement, which wins over "if due".
    pub fn asked(&self, server: &str, instance: &str, key: &str) -> Asked {
        let hit = |list: &[AppPattern]| {
            list.iter().any(|(s, a)| {
                a.matches(key)
                    && s.as_ref()
                        .is_none_or(|s| s.matches(server) || s.matches(instance))
            })
        };
        if hit(&self.rotate) {
            Asked::Rotate
        } else if hit(&self.replace) {
            Asked::Replace
        } else if self.rotate_due {
            Asked::RotateIfDue
        } else {
            Asked::Nothing
        }
    }
}

/// `[SERVER/]APP` requests of `flag` as globs.
fn patterns(flag: &str, requests: &[String]) -> Result<Vec<AppPattern>, String> {
    let pattern = |text: &str| {
        glob::Pattern::new(text)
            .map_err(|e| format!("{flag} `{text}` is not a valid glob: {}", e.msg))
    };
    requests
        .iter()
        .map(|r| match r.split_once('/') {
            Some((s, a)) => Ok((Some(pattern(s)?), pattern(a)?)),
            None => Ok((None, pattern(r)?)),
        })
        .collect()
}

/// Builds the plan from fetched live states (in the order given; callers sort).
pub fn build(config: &Config, fetched: Vec<InstanceState<'_>>) -> (Plan, Vec<InstanceProblem>) {
    build_with(config, fetched, &ForcedReplacements::default())
}

/// [`build`], with the replacements `apply --replace` asks for.
pub fn build_with(
    config: &Config,
    fetched: Vec<InstanceState<'_>>,
    forced: &ForcedReplacements,
) -> (Plan, Vec<InstanceProblem>) {
    let mut servers = Vec::new();
    let mut problems = Vec::new();
    let mut protected = Vec::new();
    for f in fetched {
        let mut sp = ServerPlan {
            server: f.instance.name.clone(),
            kind: f.server.kind,
            url: f.instance.url.clone(),
            update_style: semantics::of(f.server.kind).update_style,
            error: None,
            error_kind: None,
            unmanaged: Vec::new(),
            changes: Vec::new(),
            noop: 0,
            live: 0,
            apply: f.server.options.apply,
            prune: f.server.options.prune,
            unmanaged_labels: Vec::new(),
            rotation_due: Vec::new(),
            retiring: Vec::new(),
            secrets_created: Vec::new(),
            managed_only: false,
        };
        match f.live {
            Err(e) => {
                sp.error = Some(e.headline());
                sp.error_kind = Some(e.kind);
            }
            Ok(live) => {
                let force = |key: &str| forced.asked(&f.server.name, &f.instance.name, key);
                let d = diff::diff_with(f.server, live, &force);
                sp.live = live.apps.len();
                sp.managed_only = live.managed_only;
                sp.unmanaged = d.unmanaged;
                sp.unmanaged_labels = d.unmanaged_labels;
                sp.changes = d.changes;
                sp.noop = d.noop;
                sp.rotation_due = d.rotation_due;
                sp.retiring = d.retiring;
                sp.secrets_created = d.secrets_created;
                if !d.problems.is_empty() {
                    sp.error = Some(
                        d.problems
                            .iter()
                            .map(|p| p.message.clone())
                            .collect::<Vec<_>>()
                            .join("; "),
                    );
                    // A server that cannot be fully planned plans nothing.
                    sp.changes.clear();
                }
                problems.extend(d.problems.into_iter().map(|problem| InstanceProblem {
                    instance: f.instance.name.clone(),
                    problem,
                }));
                protected.extend(d.protected);
            }
        }
        servers.push(sp);
    }
    let summary = summarize(&servers);
    let instances = instance_counts(&servers);
    let mut blocked = policy_violations(config, &servers);
    blocked.extend(protected.into_iter().map(Blocked::Protected));
    (
        Plan {
            format_version: FORMAT_VERSION,
            appform_version: env!("CARGO_PKG_VERSION").to_string(),
            config_digest: config.digest.clone(),
            servers,
            summary,
            blocked,
            instances,
            only_apps: Vec::new(),
            config: None,
            baseline: None,
        },
        problems,
    )
}

pub fn summarize<Op>(servers: &[ServerPlan<Op>]) -> Summary {
    let mut s = Summary::default();
    for sp in servers {
        for c in &sp.changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Replace => s.replace += 1,
                Action::Delete => s.delete += 1,
            }
        }
        s.noop += sp.noop;
        s.unmanaged += sp.unmanaged.len();
        s.unmanaged_unknown |= sp.managed_only;
    }
    s
}

/// The safety rules a plan breaks (docs/reference.md §4.1), in words.
pub fn policy_violations(config: &Config, servers: &[ServerPlan]) -> Vec<Blocked> {
    let mut out = Vec::new();
    let destructive: usize = servers
        .iter()
        .flat_map(|s| &s.changes)
        .filter(|c| {
            matches!(c.action, Action::Delete | Action::Replace) && !c.overlapping_rotation()
        })
        .count();
    if destructive > config.policy.max_deletes as usize {
        out.push(Blocked::Policy(format!(
            "policy.max_deletes: {destructive} deletions and replacements planned, more than the {} allowed",
            config.policy.max_deletes
        )));
    }
    if config.policy.delete_in_use == crate::model::DeleteInUse::Block {
        for sp in servers {
            for c in sp.changes.iter().filter(|c| {
                c.in_use
                    .as_ref()
                    .is_some_and(|u| !u.allowed && u.live_tokens > 0)
            }) {
                let tokens = c.in_use.as_ref().map_or(0, |u| u.live_tokens);
                out.push(Blocked::Policy(format!(
                    "policy.delete_in_use: {}: `{}` would be {} while {tokens} token{} issued for it {} not expired (`allow_delete_in_use: true` on the app, or --force)",
                    sp.server,
                    c.label(),
                    if c.action == Action::Replace { "replaced" } else { "deleted" },
                    if tokens == 1 { "" } else { "s" },
                    if tokens == 1 { "has" } else { "have" },
                )));
            }
        }
    }
    for sp in servers {
        if sp.live < 10 {
            continue;
        }
        let changing = sp
            .changes
            .iter()
            .filter(|c| c.action != Action::Create && !c.overlapping_rotation())
            .count();
        let ratio = changing as f64 / sp.live as f64;
        if ratio > config.policy.max_change_ratio {
            out.push(Blocked::Policy(format!(
                "policy.max_change_ratio: {} would change {changing} of its {} applications ({:.0}%), more than {:.0}%",
                sp.server,
                sp.live,
                ratio * 100.0,
                config.policy.max_change_ratio * 100.0
            )));
        }
    }
    out
}

/// Several JSON plans (shards of one config, say) as one: servers in the
/// order given, summary and instance counts recomputed, blocked rules united.
/// The same server instance in two plans is an error.
pub fn merge(plans: Vec<ReviewedPlan>) -> Result<ReviewedPlan, String> {
    let mut servers: Vec<ServerPlan<Reviewed>> = Vec::new();
    let mut blocked: Vec<Blocked> = Vec::new();
    let mut digests: Vec<String> = Vec::new();
    // Shards planned against one `--baseline` keep it (and their origin counts).
    let mut baselines: Vec<Option<baseline::BaselineRef>> = Vec::new();
    for plan in plans {
        if !baselines.contains(&plan.baseline) {
            baselines.push(plan.baseline.clone());
        }
        if plan.format_version != FORMAT_VERSION {
            return Err(format!(
                "a plan has format {}, this appform reads format {FORMAT_VERSION}",
                plan.format_version
            ));
        }
        if !digests.contains(&plan.config_digest) {
            digests.push(plan.config_digest);
        }
        for rule in plan.blocked {
            if !blocked.contains(&rule) {
                blocked.push(rule);
            }
        }
        for sp in plan.servers {
            if servers.iter().any(|s| s.server == sp.server) {
                return Err(format!(
                    "server `{}` appears in more than one plan",
                    sp.server
                ));
            }
            servers.push(sp);
        }
    }
    let config_digest = match digests.as_slice() {
        [one] => one.clone(),
        _ => "mixed".to_string(),
    };
    let mut merged = Plan {
        format_version: FORMAT_VERSION,
        appform_version: env!("CARGO_PKG_VERSION").to_string(),
        config_digest,
        summary: summarize(&servers),
        instances: instance_counts(&servers),
        servers,
        blocked,
        only_apps: Vec::new(),
        config: None,
        baseline: None,
    };
    if let [Some(b)] = baselines.as_slice() {
        merged.baseline = Some(b.clone());
        baseline::count_origins(&mut merged);
    }
    Ok(merged)
}

#[cfg(test)]
mod tests;

/// A confidential application whose client secret is older than its
/// `rotate_after`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RotationDue {
    /// The config key.
    pub key: String,
    /// As plans name it: `grafana (Default)`.
    pub app: String,
    /// The day it was created (`YYYY-MM-DD`), as the server wrote it.
    pub created: String,
    pub age_days: u64,
    pub rotate_after_days: u64,
}

/// The old application of a rotation, kept under its retiring name until
/// its overlap ends (then the next run deletes it).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetiringCopy {
    /// Its retiring name on the server.
    pub name: String,
    /// The application it was, as plans name it: `grafana (Default)`.
    pub app: String,
    /// The last day (UTC, `YYYY-MM-DD`) it keeps working.
    pub until: String,
    /// Tokens issued for it that have not expired (when the server says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_tokens: Option<u64>,
    /// When one of its tokens was last used, where the server records it
    /// (the gateway): whether clients still use the old credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
}
