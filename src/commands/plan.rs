//! `appform plan`: read every selected server and show how it differs from the
//! configuration. Never writes to a server.

use super::session::{
    config_location, load_config, problem_diagnostic, reach, selection, server_errors_to_stderr,
};
use super::{EXIT_ERROR, Output};
use crate::cli::{FailOn, Format, PlanArgs};
use crate::config::git::{Baseline, BaselineError};
use crate::{ops, render};

pub fn run(args: &PlanArgs, out: Output) -> u8 {
    let started = std::time::Instant::now();
    let out = out.in_json(args.format == Format::Json);
    if args.fail_on == Some(FailOn::Drift) && args.baseline.is_none() {
        return out.fail("--fail-on drift needs --baseline REF: drift is told from pending changes by comparing with the configuration at REF");
    }
    let Some(config) = load_config(&args.config, out) else {
        return EXIT_ERROR;
    };
    if config.servers.is_empty() {
        out.warn(super::no_servers(&config));
        if fail_on(args).is_some() && !args.allow_empty {
            return out.fail(
                "an exit code asked for (--detailed-exitcode, --fail-on) over no servers would say \"no changes\" about nothing; pass --allow-empty if an empty configuration is meant",
            );
        }
    }
    let then = match load_baseline(args, out) {
        Ok(b) => b,
        Err(code) => return code,
    };
    let options = ops::plan::PlanOptions {
        selection: selection(&args.servers),
        reach: reach(&args.servers),
        authoritative: args.authoritative,
        rotate: args.rotate.clone(),
    };
    let planned = match ops::plan::run(config, then, &options) {
        Ok(p) => p,
        Err(e) => return out.fail(&e),
    };
    planned.notes.iter().for_each(|n| out.info(n));
    planned
        .credential_problems
        .iter()
        .for_each(|p| out.error(p));
    planned.warnings.iter().for_each(|w| out.warn(w));
    for p in &planned.problems {
        out.error(&problem_diagnostic(&planned.config, p));
    }
    let plan = &planned.plan;
    server_errors_to_stderr(plan, &planned.problems, out);
    match args.format {
        Format::Text => print!("{}", render::text::plan(out.stdout_style(), plan)),
        Format::Json => print!("{}", render::json::plan(plan)),
        Format::Markdown => print!("{}", render::markdown::plan(plan, args.max_bytes)),
    }
    if let Some(path) = &args.out {
        let file = ops::plan::saved_file(&planned);
        if let Err(e) = crate::files::write_private(path, render::json::plan(&file).as_bytes()) {
            return out.fail(format!(
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
    let code = ops::plan::exit_code(plan, fail_on(args));
    if let Some(path) = &args.metrics_out
        && let Err(e) =
            crate::metrics::write(path, "plan", plan, started.elapsed(), code != EXIT_ERROR)
    {
        return out.fail(&e);
    }
    code
}

fn fail_on(args: &PlanArgs) -> Option<ops::plan::FailOn> {
    super::exit_rule(args.fail_on, args.detailed_exitcode)
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
        Err(e) => Err(out.fail(e.to_string())),
    }
}
