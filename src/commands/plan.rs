//! `appform plan`: read every selected server and show how it differs from the
//! configuration. Never writes to a server.

use super::session::{
    close_all, config_location, fetch_and_plan, load_config, plan_against, prepare,
    problem_diagnostic, select_targets, server_errors_to_stderr,
};
use super::{EXIT_BLOCKED, EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Output};
use crate::cli::{FailOn, Format, PlanArgs};
use crate::config::git::{Baseline, BaselineError};
use crate::plan::Plan;
use crate::plan::baseline::{self, BaselineRef, Origin};
use crate::render;

pub fn run(args: &PlanArgs, out: Output) -> u8 {
    let started = std::time::Instant::now();
    let out = out.in_json(args.format == Format::Json);
    if args.fail_on == Some(FailOn::Drift) && args.baseline.is_none() {
        return out.fail("--fail-on drift needs --baseline REF: drift is told from pending changes by comparing with the configuration at REF");
    }
    let Some(mut config) = load_config(&args.config, out) else {
        return EXIT_ERROR;
    };
    let mut then = match load_baseline(args, out) {
        Ok(b) => b,
        Err(code) => return code,
    };
    if args.authoritative {
        // This plan only: apply reads the config again and does not.
        let configs = std::iter::once(&mut config).chain(then.as_mut().map(|b| &mut b.config));
        for server in configs.flat_map(|c| &mut c.servers) {
            server.options.authoritative = true;
        }
    }
    let targets = match select_targets(&config, &args.servers) {
        Ok(t) => t,
        Err(e) => return out.fail(&e),
    };
    let apps = match crate::plan::app_globs(&args.servers.apps) {
        Ok(a) => a,
        Err(e) => return out.fail(&e),
    };
    let withheld = then.as_ref().map_or_else(Default::default, |b| {
        let same_ca = |path: &std::path::Path| crate::config::git::same_content_at(path, &b.commit);
        let instances: Vec<_> = targets.iter().map(|t| (t.server, t.instance)).collect();
        let secret_file =
            |path: &std::path::Path| match crate::config::git::symlink_on_the_way(path) {
                Some(link) => Err(format!(
                    "a `file:` credential is read through the symbolic link `{}`",
                    link.display()
                )),
                None => Ok(()),
            };
        baseline::withheld(&instances, &b.config, &b.reference, &same_ca, &secret_file)
    });
    // From here on, servers with read-only `auth.plan` credentials use them.
    drop(targets);
    config.use_plan_credentials();
    let targets = match select_targets(&config, &args.servers) {
        Ok(t) => t,
        Err(e) => return out.fail(&e),
    };
    let contacted: Vec<_> = targets
        .iter()
        .filter(|t| !withheld.contains_key(&t.instance.name))
        .copied()
        .collect();
    let (rt, sandbox) = match prepare(&config, &contacted, &args.servers, out) {
        Ok(p) => p,
        Err(e) => return out.fail(&e),
    };
    let (plan, problems) = rt.block_on(async {
        let (fetched, mut plan, problems) = fetch_and_plan(
            &config,
            &targets,
            &args.servers,
            &crate::plan::ForcedReplacements::default(),
            &apps,
            &withheld,
        )
        .await;
        if let Some(b) = &then {
            let then_plan = plan_against(&b.config, &fetched);
            let reference = BaselineRef {
                reference: b.reference.clone(),
                commit: b.commit.clone(),
            };
            baseline::classify(&mut plan, &config, &b.config, &then_plan, reference);
        }
        close_all(&fetched, out).await;
        (plan, problems)
    });
    if let Some(sb) = &sandbox
        && let Err(e) = sb.save()
    {
        out.warn(&e);
    }
    for p in &problems {
        out.error(&problem_diagnostic(&config, p));
    }
    server_errors_to_stderr(&plan, &problems, out);
    match args.format {
        Format::Text => print!("{}", render::text::plan(out.stdout_style(), &plan)),
        Format::Json => print!("{}", render::json::plan(&plan)),
        Format::Markdown => print!("{}", render::markdown::plan(&plan, args.max_bytes)),
    }
    if let Some(path) = &args.out {
        let file = Plan {
            config: Some(crate::plan::SavedConfig::of(
                &config,
                std::fs::canonicalize(&config.root)
                    .unwrap_or_else(|_| config.root.clone())
                    .display()
                    .to_string(),
            )),
            ..plan.clone()
        };
        if let Err(e) = crate::secret::write_private(path, render::json::plan(&file).as_bytes()) {
            return out.fail(&format!(
                "cannot write the plan to `{}`: {e}",
                path.display()
            ));
        }
        out.info(&format!(
            "Saved the plan to {}; apply exactly it with `appform apply {}`.",
            path.display(),
            path.display()
        ));
    }
    let code = exit_code(
        &plan,
        args.fail_on
            .or(args.detailed_exitcode.then_some(FailOn::Changes)),
    );
    if let Some(path) = &args.metrics_out
        && let Err(e) =
            crate::metrics::write(path, "plan", &plan, started.elapsed(), code != EXIT_ERROR)
    {
        return out.fail(&e);
    }
    code
}

/// `--baseline REF`: the configuration at REF, or the exit code after its
/// error was shown (an invalid baseline must not make the plan lie).
fn load_baseline(args: &PlanArgs, out: Output) -> Result<Option<Baseline>, u8> {
    let Some(reference) = &args.baseline else {
        return Ok(None);
    };
    let (path, discovery) = config_location(&args.config);
    match crate::config::git::load_at(&path, reference, discovery) {
        Ok(b) => Ok(Some(b)),
        Err(BaselineError::Invalid(errors)) => {
            out.error_text(&format!(
                "--baseline: the configuration at `{reference}` is invalid ({} problem(s), shown below with the paths the files have at that revision); fix it there or pick another revision",
                errors.problems.len()
            ));
            out.config_errors(&errors);
            Err(EXIT_ERROR)
        }
        Err(e) => Err(out.fail(&e.to_string())),
    }
}

/// docs/reference.md §4.2: an error wins, then a block, then (when asked with
/// `--detailed-exitcode` or `--fail-on`) changes, or drift only.
pub fn exit_code<Op>(plan: &Plan<Op>, fail_on: Option<FailOn>) -> u8 {
    let drift = || {
        plan.servers
            .iter()
            .flat_map(|s| &s.changes)
            .any(|c| c.origin == Some(Origin::Drift))
    };
    if plan.servers.iter().any(|s| s.error.is_some()) {
        EXIT_ERROR
    } else if !plan.blocked.is_empty() {
        EXIT_BLOCKED
    } else {
        match fail_on {
            Some(FailOn::Changes) if plan.summary.changes() > 0 => EXIT_CHANGES,
            Some(FailOn::Drift) if drift() => EXIT_CHANGES,
            _ => EXIT_OK,
        }
    }
}
