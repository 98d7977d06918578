//! A session with the servers, as `plan`, `apply` and `export` open one: load
//! the config, select the targets (`--server`, `--shard`), resolve their
//! credentials (diagnostics for unset ones), start the embedded sandbox if
//! asked, connect and fetch live state, build the plan, and close (revoking
//! tokens appform obtained). Problems are diagnostics pointing into the YAML.

use crate::config::Code;
use std::path::Path;
use std::sync::Arc;

use super::Output;
use crate::cli::ServerArgs;
use crate::config::{self, Problem, SharedText};
use crate::model::Config;
use crate::plan::{self, InstanceProblem, Plan};
use crate::provider::{ConnectOptions, RealSecrets, SecretSource};
use crate::sandbox::fleet::Sandbox;
use crate::sandbox::from_config::{STATE_PATH, SandboxSecrets};
use crate::targets::{self, Fetched, Target};

/// Loads the config (`-c`, else the default location) and prints its
/// diagnostics and warnings. `None`: invalid.
pub fn load_config(arg: &crate::cli::ConfigArg, out: Output) -> Option<Config> {
    let (path, discovery) = config_location(arg);
    reported(config::load_with(&path, discovery), out)
}

/// Where the configuration is read from: `-c PATH` (every file taken), else
/// the default location.
pub fn config_location(arg: &crate::cli::ConfigArg) -> (std::path::PathBuf, config::Discovery) {
    match &arg.config {
        Some(path) => (path.clone(), config::Discovery::Strict),
        None => config::default_location(),
    }
}

/// A loaded configuration with its warnings printed, or its diagnostics
/// printed and `None`.
pub fn reported(loaded: Result<Config, config::ConfigErrors>, out: Output) -> Option<Config> {
    match loaded {
        Ok(cfg) => {
            cfg.warnings.iter().for_each(|w| out.warn_always(w));
            Some(cfg)
        }
        Err(errors) => {
            out.config_errors(&errors);
            None
        }
    }
}

/// The configuration a plan file carries, with relative references resolved
/// from [`crate::plan::SavedConfig::base`].
pub fn load_saved_config(
    saved: &crate::plan::SavedConfig,
    out: Output,
) -> Option<crate::model::Config> {
    let base = match saved.base() {
        Ok(b) => b,
        Err(e) => {
            out.error_text(&e);
            return None;
        }
    };
    let files = saved
        .files
        .iter()
        .map(|f| (base.join(&f.path), f.text.clone().into_bytes()))
        .collect();
    reported(crate::config::load_files(&base, files), out)
}

/// The secrets to use: real, or with sandbox fallbacks.
pub fn secret_source(args: &ServerArgs) -> &'static dyn SecretSource {
    if args.sandbox {
        &SandboxSecrets
    } else {
        &RealSecrets
    }
}

/// `--server` globs, then `--shard`.
pub fn select_targets<'a>(
    config: &'a Config,
    args: &ServerArgs,
) -> Result<Vec<Target<'a>>, String> {
    let selected = targets::select(config, &args.servers)?;
    Ok(match args.shard {
        Some(shard) => targets::in_shard(selected, shard.index, shard.count),
        None => selected,
    })
}

/// What `plan` and `apply` need before they talk to servers: unresolved
/// credentials reported as diagnostics, a runtime, and (with `--sandbox`)
/// the embedded simulators, which run until the returned value is dropped.
pub fn prepare(
    config: &Config,
    targets: &[Target<'_>],
    args: &ServerArgs,
    out: Output,
) -> Result<(tokio::runtime::Runtime, Option<Sandbox>), String> {
    for problem in credential_problems(config, targets, secret_source(args)) {
        out.error(&problem);
    }
    let rt = super::runtime()?;
    let sandbox = start_sandbox(args, targets)?;
    if let Some(sb) = &sandbox {
        let urls: Vec<String> = sb
            .running
            .iter()
            .map(|r| format!("{} {}", r.sim.kind(), r.server.url()))
            .collect();
        out.info(&format!(
            "Started the built-in simulators (--sandbox): {}; their state is kept in {STATE_PATH}.",
            urls.join(", ")
        ));
    }
    Ok((rt, sandbox))
}

/// Starts the embedded simulators for `targets` when `--sandbox` is given.
fn start_sandbox(args: &ServerArgs, targets: &[Target<'_>]) -> Result<Option<Sandbox>, String> {
    if !args.sandbox {
        return Ok(None);
    }
    start_for(targets, secret_source(args)).map(Some)
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
    args: &ServerArgs,
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
        secret_source(args),
        ConnectOptions {
            max_retries: args.max_retries,
        },
        args.parallelism as usize,
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
    (fetched, plan::restrict(plan, config, apps), problems)
}

/// Ends every session (revokes tokens appform obtained).
/// A token that could not be revoked is a warning: it stays valid for its
/// lifetime, which must not be silent.
pub async fn close_all(fetched: &[Fetched<'_>], out: super::Output) {
    for f in fetched {
        if let Some(c) = &f.client
            && let Err(e) = c.close().await
        {
            out.warn(&format!("{}: {e}", f.target.instance.name));
        }
    }
}

/// Servers that could not be read or planned, on stderr too (Terraform's
/// convention: `appform plan > plan.txt` in a CI log still shows why), except
/// those whose problems were already shown as diagnostics.
pub fn server_errors_to_stderr(plan: &Plan, problems: &[InstanceProblem], out: Output) {
    for sp in &plan.servers {
        if let Some(e) = &sp.error
            && !problems.iter().any(|p| p.instance == sp.server)
        {
            out.error_text(&format!("{}: {e}", sp.server));
        }
    }
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
                live: f.live.as_ref().map_err(|e| e.headline()),
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
                live: f.live.as_ref().map_err(|e| e.headline()),
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
pub fn read_plan(path: &Path) -> Result<crate::plan::ReviewedPlan, String> {
    let bytes = crate::secret::read_bounded(path, MAX_PLAN_BYTES)
        .map_err(|e| format!("cannot read the plan `{}`: {e}", path.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        format!(
            "`{}` is not an appform JSON plan: not UTF-8",
            path.display()
        )
    })?;
    let plan: crate::plan::ReviewedPlan = serde_json::from_str(&text)
        .map_err(|e| format!("`{}` is not an appform JSON plan: {e}", path.display()))?;
    if plan.format_version != crate::plan::FORMAT_VERSION {
        return Err(format!(
            "`{}` has plan format {}, this appform reads format {}",
            path.display(),
            plan.format_version,
            crate::plan::FORMAT_VERSION
        ));
    }
    Ok(plan)
}

/// The simulators for `targets`, with their state in `.appform/sandbox.json`
/// (fresh servers get the demo apps).
pub fn start_for(targets: &[Target<'_>], secrets: &dyn SecretSource) -> Result<Sandbox, String> {
    let specs = crate::sandbox::from_config::specs_for(
        targets.iter().map(|t| (t.server, t.instance)),
        secrets,
    )
    .map_err(|e| format!("--sandbox: {e}"))?;
    let state = crate::sandbox::StateFile::load(Path::new(STATE_PATH))?;
    Sandbox::start(specs, Some(state), true, crate::sandbox::Faults::default())
}
