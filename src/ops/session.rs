//! A session with the servers, as `plan`, `apply` and `export` open one:
//! where the config is, which instances are selected (`--server`,
//! `--shard`), which credentials are unset (diagnostics pointing into the
//! YAML), the embedded sandbox if asked, the fetch of live state, the plan,
//! and the close (revoking tokens appform obtained). Plain option structs
//! in, values out: nothing here prints.

use std::path::Path;
use std::sync::Arc;

use super::{Reach, Selection};
use crate::config::{self, Code, Problem, SharedText};
use crate::model::Config;
use crate::plan::{self, InstanceProblem, Plan};
use crate::provider::{ConnectOptions, RealSecrets, SecretSource};
use crate::sandbox::fleet::Sandbox;
use crate::sandbox::from_config::{STATE_PATH, SandboxSecrets};
use crate::targets::{self, Fetched, Target};

/// Where the configuration is read from: `-c PATH` (every file taken), else
/// the default location.
pub fn config_location(given: Option<&Path>) -> (std::path::PathBuf, config::Discovery) {
    match given {
        Some(path) => (path.to_path_buf(), config::Discovery::Strict),
        None => config::default_location(),
    }
}

/// The secrets to use: real, or with sandbox fallbacks.
pub fn secret_source(reach: &Reach) -> &'static dyn SecretSource {
    if reach.sandbox {
        &SandboxSecrets
    } else {
        &RealSecrets
    }
}

/// `--server` globs, then `--shard`.
pub fn select_targets<'a>(
    config: &'a Config,
    selection: &Selection,
) -> Result<Vec<Target<'a>>, String> {
    let selected = targets::select(config, &selection.servers)?;
    Ok(match selection.shard {
        Some((index, count)) => targets::in_shard(selected, index, count),
        None => selected,
    })
}

/// What `plan` and `apply` have before they talk to servers.
pub struct Prepared {
    pub runtime: tokio::runtime::Runtime,
    /// The embedded simulators (`--sandbox`), running until dropped.
    pub sandbox: Option<Sandbox>,
    /// Unset or unreadable credentials of the selected servers.
    pub credential_problems: Vec<Problem>,
    /// What was started, to say so (`--sandbox`).
    pub started: Option<String>,
}

/// A runtime, the credential problems of `targets`, and (with `--sandbox`)
/// the embedded simulators.
pub fn prepare(
    config: &Config,
    targets: &[Target<'_>],
    reach: &Reach,
) -> Result<Prepared, super::Error> {
    let credential_problems = credential_problems(config, targets, secret_source(reach));
    let runtime = runtime()?;
    let sandbox = if reach.sandbox {
        Some(start_for(targets, secret_source(reach))?)
    } else {
        None
    };
    let started = sandbox.as_ref().map(|sb| {
        let urls: Vec<String> = sb
            .running
            .iter()
            .map(|r| format!("{} {}", r.sim.kind(), r.server.url()))
            .collect();
        format!(
            "Started the built-in simulators (--sandbox): {}; their state is kept in {STATE_PATH}.",
            urls.join(", ")
        )
    });
    Ok(Prepared {
        runtime,
        sandbox,
        credential_problems,
        started,
    })
}

/// A current-thread runtime (the work is I/O-bound fan-out).
pub fn runtime() -> Result<tokio::runtime::Runtime, super::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(super::Error::Runtime)
}

/// Unset `env:` variables and unreadable `file:` secrets of the selected
/// servers, as diagnostics pointing at the reference in the YAML (docs/reference.md §1.2:
/// checked at plan/apply time only). The servers concerned also fail to plan.
pub fn credential_problems(
    config: &Config,
    targets: &[Target<'_>],
    secrets: &dyn SecretSource,
) -> Vec<Problem> {
    use crate::model::Auth;
    use crate::secret::{Credential, SecretRef};
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for t in targets {
        let server = t.server;
        if !seen.insert(server.name.clone()) {
            continue;
        }
        let mut refs: Vec<(&str, &SecretRef)> = Vec::new();
        let mut creds: Vec<(&str, &Credential)> = Vec::new();
        match &server.auth {
            Auth::Token { username, token } => {
                refs.push(("token", token));
                if let Some(u) = username {
                    creds.push(("username", u));
                }
            }
            Auth::Basic { username, password } => {
                refs.push(("password", password));
                creds.push(("username", username));
            }
            Auth::TppPassword {
                client_id,
                username,
                password,
                ..
            } => {
                refs.push(("password", password));
                creds.push(("username", username));
                creds.push(("client_id", client_id));
            }
        }
        let mut failures: Vec<(String, String)> = Vec::new();
        for (field, r) in refs {
            if let Err(e) = secrets.secret(r, field) {
                failures.push((r.to_string(), e.to_string()));
            }
        }
        for (field, c) in creds {
            if let (Credential::Ref(r), Err(e)) = (c, secrets.credential(c, field)) {
                failures.push((r.to_string(), e.to_string()));
            }
        }
        for (reference, message) in failures {
            let origin = server.origin;
            let mut d = Problem::new(
                Code::UnresolvedCredential,
                format!("server `{}`: {message}", server.name),
            )
            .help("set the variable (or create the file) before plan or apply; validate does not read them");
            if let Some(src) = config.sources.get(origin.file) {
                // Point at the reference itself: its first spelling after the server key.
                let from = origin.offset.min(src.text.len());
                let at = src
                    .text
                    .get(from..)
                    .and_then(|rest| rest.find(&reference))
                    .map(|i| from + i);
                let span = match at {
                    Some(offset) => config::source::Span {
                        offset,
                        len: reference.len(),
                    },
                    None => config::source::Span {
                        offset: origin.offset,
                        len: origin.len,
                    },
                };
                let shared = SharedText::new(&src.name, Arc::from(src.text.as_str()));
                d = d.at(&shared, span, "not available");
            }
            out.push(d);
        }
    }
    out
}

/// Fetches every target and builds the plan. The instances in `withheld`
/// (`--baseline` connection pinning; servers a reviewed plan could not plan)
/// are not contacted: each fails to plan with the reason given.
pub async fn fetch_and_plan<'a>(
    config: &'a Config,
    targets: &[Target<'a>],
    reach: &Reach,
    forced: &plan::ForcedReplacements,
    apps: &[glob::Pattern],
    withheld: &std::collections::BTreeMap<String, String>,
) -> (Vec<Fetched<'a>>, Plan, Vec<InstanceProblem>) {
    let contacted: Vec<Target<'a>> = targets
        .iter()
        .filter(|t| !withheld.contains_key(&t.instance.name))
        .copied()
        .collect();
    let mut read = targets::fetch_all(
        &contacted,
        secret_source(reach),
        ConnectOptions {
            max_retries: reach.max_retries,
        },
        reach.parallelism,
        apps,
    )
    .await
    .into_iter();
    let fetched: Vec<Fetched<'a>> = targets
        .iter()
        .filter_map(|t| match withheld.get(&t.instance.name) {
            Some(why) => Some(Fetched {
                target: *t,
                client: None,
                live: Err(crate::provider::Error::new(
                    crate::provider::FailureKind::NotContacted,
                    why.clone(),
                )),
            }),
            None => read.next(),
        })
        .collect();
    let (plan, problems) = plan_from(config, &fetched, forced);
    let mut plan = plan::restrict(plan, config, apps);
    read_token_lists(config, &fetched, &mut plan).await;
    (fetched, plan, problems)
}

/// The deletes and replacements of apps the listing counted tokens for: the
/// token list of each tells the live ones from the expired (an app whose
/// tokens all expired is not in use), and the policy is decided again. A
/// list that cannot be read leaves the listing's count, with a note.
async fn read_token_lists(config: &Config, fetched: &[Fetched<'_>], plan: &mut Plan) {
    let mut changed = false;
    for sp in &mut plan.servers {
        let Some(client) = fetched
            .iter()
            .find(|f| f.target.instance.name == sp.server)
            .and_then(|f| f.client.as_ref())
        else {
            continue;
        };
        for change in sp.changes.iter_mut().filter(|c| c.in_use.is_some()) {
            let id = match &change.operation {
                plan::Operation::Delete { id, .. } | plan::Operation::Replace { id, .. } => {
                    id.clone()
                }
                _ => continue,
            };
            match client.live_tokens(&id).await {
                None => {}
                Some(Ok(read)) => {
                    changed = true;
                    if read.live == 0 {
                        change.in_use = None;
                    } else if let Some(u) = change.in_use.as_mut() {
                        u.live_tokens = read.live;
                        u.until = read.until;
                        u.last_used = read.last_used.or(u.last_used.take());
                    }
                }
                Some(Err(e)) => change.notes.push(format!(
                    "its token list could not be read ({}): the listing's count of tokens, expired ones included, decides",
                    e.headline()
                )),
            }
        }
    }
    if changed {
        let protected: Vec<_> = std::mem::take(&mut plan.blocked)
            .into_iter()
            .filter(|b| !b.is_policy())
            .collect();
        plan.blocked = plan::policy_violations(config, &plan.servers);
        plan.blocked.extend(protected);
    }
}

/// Ends every session (revokes tokens appform obtained). Each token that
/// could not be revoked is a warning returned: it stays valid for its
/// lifetime, which must not be silent.
pub async fn close_all(fetched: &[Fetched<'_>]) -> Vec<String> {
    let mut warnings = Vec::new();
    for f in fetched {
        if let Some(c) = &f.client
            && let Err(e) = c.close().await
        {
            warnings.push(format!("{}: {e}", f.target.instance.name));
        }
    }
    warnings
}

/// Builds the plan from what was fetched.
pub fn plan_from(
    config: &Config,
    fetched: &[Fetched<'_>],
    forced: &plan::ForcedReplacements,
) -> (Plan, Vec<InstanceProblem>) {
    plan::build_with(
        config,
        fetched
            .iter()
            .map(|f| plan::InstanceState {
                server: f.target.server,
                instance: f.target.instance,
                live: f.live.as_ref(),
            })
            .collect(),
        forced,
    )
}

/// The live states already fetched, planned against another configuration
/// (`--baseline`: the config at REF), each instance matched by server name
/// and URL; instances that configuration does not have are left out.
pub fn plan_against(other: &Config, fetched: &[Fetched<'_>]) -> Plan {
    let states = fetched
        .iter()
        .filter_map(|f| {
            let server = other
                .servers
                .iter()
                .find(|s| s.name == f.target.server.name)?;
            let instance = server
                .instances
                .iter()
                .find(|i| i.url == f.target.instance.url)?;
            Some(plan::InstanceState {
                server,
                instance,
                live: f.live.as_ref(),
            })
        })
        .collect();
    plan::build(other, states).0
}

/// A plan problem as a diagnostic pointing at the app in its file.
pub fn problem_diagnostic(config: &Config, p: &InstanceProblem) -> Problem {
    let origin = p.problem.origin;
    let mut d =
        Problem::new(Code::CannotPlan, p.problem.message.clone()).help(p.problem.help.clone());
    if let Some(src) = config.sources.get(origin.file) {
        let shared = SharedText::new(&src.name, Arc::from(src.text.as_str()));
        d = d.at(
            &shared,
            config::source::Span {
                offset: origin.offset,
                len: origin.len,
            },
            format!("on {}", p.instance),
        );
    }
    d
}

/// The largest plan file `apply` and `report` read (a 50,000-app plan with
/// its configuration is about 40 MiB).
const MAX_PLAN_BYTES: u64 = 256 * 1024 * 1024;

/// Reads a JSON plan written by `appform plan`: a regular file of at most
/// [`MAX_PLAN_BYTES`] (`/dev/zero` or a FIFO is refused at once).
pub fn read_plan(path: &Path) -> Result<crate::plan::ReviewedPlan, super::Error> {
    let bytes = crate::files::read_bounded(path, MAX_PLAN_BYTES).map_err(|source| {
        super::Error::PlanUnreadable {
            path: path.to_path_buf(),
            source,
        }
    })?;
    let not_a_plan = |why: String| super::Error::NotAPlan {
        path: path.to_path_buf(),
        why,
    };
    let text = String::from_utf8(bytes).map_err(|_| not_a_plan("not UTF-8".into()))?;
    let plan: crate::plan::ReviewedPlan =
        serde_json::from_str(&text).map_err(|e| not_a_plan(e.to_string()))?;
    if plan.format_version != crate::plan::FORMAT_VERSION {
        return Err(super::Error::PlanFormat {
            path: path.to_path_buf(),
            found: plan.format_version,
            expected: crate::plan::FORMAT_VERSION,
        });
    }
    Ok(plan)
}

/// The simulators for `targets`, with their state in `.appform/sandbox.json`
/// (fresh servers get the demo apps).
pub fn start_for(
    targets: &[Target<'_>],
    secrets: &dyn SecretSource,
) -> Result<Sandbox, super::Error> {
    let specs = crate::sandbox::from_config::specs_for(
        targets.iter().map(|t| (t.server, t.instance)),
        secrets,
    )
    .map_err(super::Error::SandboxConfig)?;
    let state = crate::sandbox::StateFile::load(Path::new(STATE_PATH))?;
    Ok(Sandbox::start(
        specs,
        Some(state),
        true,
        crate::sandbox::Faults::default(),
    )?)
}
