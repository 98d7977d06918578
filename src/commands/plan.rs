//! `appform plan`: read every selected server and show how it differs from the
//! configuration. Never writes to a server.

use super::session::{
    close_all, fetch_and_plan, load_config, prepare, problem_diagnostic, select_targets,
    server_errors_to_stderr,
};
use super::{EXIT_BLOCKED, EXIT_CHANGES, EXIT_ERROR, EXIT_OK, Output};
use crate::cli::{Format, PlanArgs};
use crate::plan::Plan;
use crate::render;

pub fn run(args: &PlanArgs, out: Output) -> u8 {
    let started = std::time::Instant::now();
    let out = out.in_json(args.format == Format::Json);
    let Some(mut config) = load_config(&args.config, out) else {
        return EXIT_ERROR;
    };
    if args.authoritative {
        // This plan only: apply reads the config again and does not.
        for server in &mut config.servers {
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
    let (rt, sandbox) = match prepare(&config, &targets, &args.servers, out) {
        Ok(p) => p,
        Err(e) => return out.fail(&e),
    };
    let (plan, problems) = rt.block_on(async {
        let (fetched, plan, problems) = fetch_and_plan(
            &config,
            &targets,
            &args.servers,
            &crate::plan::ForcedReplacements::default(),
            &apps,
        )
        .await;
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
            config: Some(crate::plan::SavedConfig::of(&config)),
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
    let code = exit_code(&plan, args.detailed_exitcode);
    if let Some(path) = &args.metrics_out
        && let Err(e) =
            crate::metrics::write(path, "plan", &plan, started.elapsed(), code != EXIT_ERROR)
    {
        return out.fail(&e);
    }
    code
}

/// SPEC §4.2: an error wins, then a block, then (when asked) changes.
pub fn exit_code<Op>(plan: &Plan<Op>, detailed: bool) -> u8 {
    if plan.servers.iter().any(|s| s.error.is_some()) {
        EXIT_ERROR
    } else if !plan.blocked.is_empty() {
        EXIT_BLOCKED
    } else if detailed && plan.summary.changes() > 0 {
        EXIT_CHANGES
    } else {
        EXIT_OK
    }
}
