//! Applying a plan (docs/reference.md §3): what may be written (`gates`, `saved`), the
//! writes in phases on each server (`phases`), the client secrets shown once
//! (`secrets`), and the read-back that checks the servers kept every value
//! (`verify`), summed up in a [`Report`]. Talks to servers only through the
//! connected `provider` clients; never prints (`render::apply` does).

pub mod gates;
pub mod phases;
mod report;
pub mod saved;
pub mod secrets;
pub mod verify;

use std::collections::BTreeMap;

pub use report::{Report, ServerFailure};

use crate::model::Config;
use crate::outcome::FailureKind;
use crate::plan::{ForcedReplacements, Plan, ServerPlan};
use crate::secrets_file::SecretsFile;
use crate::targets::Fetched;
use phases::{ChangeOutcome, Hooks};
use verify::Verification;

/// What the command line decided for one apply.
pub struct Options<'a> {
    pub allow: gates::Allowances,
    /// `--secrets-out FILE`, checked to be writable.
    pub secrets_file: Option<&'a SecretsFile>,
    /// `--secrets-command CMD`: each captured secret goes to it first.
    pub secrets_command: Option<&'a str>,
    /// `--parallelism`: servers written at once.
    pub parallelism: usize,
    /// A reviewed plan file, to be applied exactly.
    pub saved: Option<&'a crate::plan::ReviewedPlan>,
}

/// The two moments apply hands to the user: the plan before any write, and
/// the question whether to go on (an error stops before any write).
pub trait Ui {
    fn show_plan(&self, plan: &Plan);
    fn skipped(&self, server: &str);
    fn confirm(&self) -> Result<(), NotConfirmed>;
    /// What tells the user, at once, that Ctrl-C was taken while writing
    /// (a plain function: it runs on the signal watcher's task).
    fn interrupt_notice(&self) -> fn();
}

/// Why nobody said yes.
#[derive(Debug, thiserror::Error)]
pub enum NotConfirmed {
    #[error(
        "apply needs confirmation: there is no terminal to ask on, so pass --auto-approve (or apply a saved plan file)"
    )]
    NoTerminal,
    #[error("cannot read the answer: {0}")]
    Unreadable(std::io::Error),
    #[error("Apply cancelled.")]
    Cancelled,
}

/// Why an apply stopped before any write (exit 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The reviewed plan file no longer holds.
    Stale,
    /// Nobody said yes.
    Confirmation,
}

impl Stopped {
    /// The JSON report's `error.kind`.
    pub fn kind_name(self) -> &'static str {
        match self {
            Stopped::Stale => "stale",
            Stopped::Confirmation => "confirmation",
        }
    }
}

/// How an apply ended.
pub enum Ending {
    /// Nothing was written: a stale saved plan, or no confirmation (exit 1).
    Failed { why: Stopped, message: String },
    /// Refused by a gate before any write (exit 3).
    Refused(gates::Refusal),
    /// Nothing to write; the report holds only what an earlier run left (lost secrets).
    NothingToWrite(Report),
    /// Written, read back and verified.
    Wrote(Report),
}

/// The whole apply of a plan made from freshly fetched state: the saved-plan
/// check, the gates, the user's yes, the writes and the read-back.
pub async fn run(
    config: &Config,
    fetched: &[Fetched<'_>],
    plan: &Plan,
    options: &Options<'_>,
    ui: &dyn Ui,
) -> Ending {
    if let Some(Err(e)) = options.saved.map(|s| saved::check(s, plan)) {
        return Ending::Failed {
            why: Stopped::Stale,
            message: e.to_string(),
        };
    }
    ui.show_plan(plan);
    let (work, skipped) = work(plan);
    skipped.iter().for_each(|s| ui.skipped(s));
    let server_failures: Vec<ServerFailure> = plan
        .servers
        .iter()
        .filter_map(|sp| {
            let message = sp.error.clone()?;
            let kind = sp.error_kind.map_or("plan", FailureKind::name);
            Some(ServerFailure {
                server: sp.server.clone(),
                kind,
                message,
            })
        })
        .collect();
    let mut report = Report {
        results: Vec::new(),
        planned_failures: server_failures.len(),
        server_failures,
        verification: Verification::default(),
    };
    // Secrets an earlier, killed run lost are found (and recorded as lost) only
    // by a run that then reports them: never by one that stops before.
    let interrupted = || secrets::interrupted_creates(options.secrets_file, config, plan);
    if work.is_empty() {
        report.results = interrupted();
        return Ending::NothingToWrite(report);
    }
    if let Err(e) = gates::check(&plan.blocked, &work, options.allow) {
        return Ending::Refused(e);
    }
    if options.saved.is_none()
        && let Err(e) = ui.confirm()
    {
        return Ending::Failed {
            why: Stopped::Confirmation,
            message: e.to_string(),
        };
    }
    report.results = interrupted();
    let keeper = secrets::SecretKeeper {
        file: options.secrets_file,
        command: options.secrets_command,
        discard: options.allow.discard_secrets,
    };
    report.results.extend(
        write(
            &work,
            fetched,
            &keeper,
            options.parallelism,
            ui.interrupt_notice(),
        )
        .await,
    );
    report.verification = read_back(config, fetched, &report.results, options.parallelism).await;
    Ending::Wrote(report)
}

/// The servers an apply writes to: planned without error, with changes, and
/// not `apply: false`; and the names of those skipped for `apply: false`.
pub fn work(plan: &Plan) -> (Vec<&ServerPlan>, Vec<&str>) {
    let with_changes = plan
        .servers
        .iter()
        .filter(|s| s.error.is_none() && !s.changes.is_empty());
    let skipped = plan
        .servers
        .iter()
        .filter(|s| !s.apply && !s.changes.is_empty())
        .map(|s| s.server.as_str())
        .collect();
    (with_changes.filter(|s| s.apply).collect(), skipped)
}

/// Runs the phases of every server in `work`, `parallelism` servers at a
/// time. Ctrl-C lets the writes in flight finish and starts no new one (never
/// half a request); the outcomes say what happened.
pub async fn write(
    work: &[&ServerPlan],
    fetched: &[Fetched<'_>],
    hooks: &dyn Hooks,
    parallelism: usize,
    interrupt_notice: fn(),
) -> Vec<ChangeOutcome> {
    let by_name: BTreeMap<&str, &Fetched<'_>> = fetched
        .iter()
        .map(|f| (f.target.instance.name.as_str(), f))
        .collect();
    let total: usize = work.iter().map(|sp| sp.changes.len()).sum();
    crate::progress::begin("writes", total as u64);
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            phases::interrupt();
            interrupt_notice();
        }
    });
    let results: Vec<Vec<ChangeOutcome>> = crate::fanout::in_order(
        work.iter().copied().map(|sp| {
            let f = by_name.get(sp.server.as_str()).copied();
            async move {
                match f.and_then(|f| {
                    f.client
                        .as_ref()
                        .map(|c| (c, f.target.server.options.max_in_flight))
                }) {
                    Some((client, mif)) => {
                        phases::run_server(client, sp, mif as usize, hooks).await
                    }
                    None => Vec::new(),
                }
            }
        }),
        parallelism,
    )
    .await;
    watcher.abort();
    crate::progress::end();
    results.into_iter().flatten().collect()
}

/// Reads every server a change took effect on again, plans again from the
/// config alone (a forced replacement is done once), and verifies.
pub async fn read_back(
    config: &Config,
    fetched: &[Fetched<'_>],
    results: &[ChangeOutcome],
    parallelism: usize,
) -> Verification {
    let touched: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome.took_effect())
        .map(|r| r.server.as_str())
        .collect();
    let refetched: Vec<Fetched<'_>> = crate::fanout::in_order(
        fetched
            .iter()
            .filter(|f| f.client.is_some() && touched.contains(&f.target.instance.name.as_str()))
            .map(|f| async move {
                let live = match &f.client {
                    Some(client) => client.fetch_for(f.target.server, &[]).await,
                    None => Err(crate::provider::Error::new(
                        crate::provider::FailureKind::Local,
                        "not connected",
                    )),
                };
                Fetched {
                    target: f.target,
                    client: None,
                    live,
                }
            }),
        parallelism,
    )
    .await;
    let (after, _) = crate::plan::build_with(
        config,
        refetched
            .iter()
            .map(|f| crate::plan::InstanceState {
                server: f.target.server,
                instance: f.target.instance,
                live: f.live.as_ref(),
            })
            .collect(),
        &ForcedReplacements::default(),
    );
    verify::verify(&after, results)
}
