//! `appform apply`: the command line around [`crate::apply`]: arguments to
//! options, the plan shown, the question asked, the report printed.

use super::session::{
    close_all, fetch_and_plan, load_config, load_saved_config, prepare, problem_diagnostic,
    read_plan, select_targets, server_errors_to_stderr,
};
use super::{EXIT_ERROR, Output};
use crate::apply::{self, Ending, gates, saved};
use crate::cli::{ApplyArgs, ApplyFormat as Format};
use crate::plan::Plan;
use crate::render;
use crate::secrets_file::SecretsFile;

pub fn run(args: &ApplyArgs, out: Output) -> u8 {
    let out = out.in_json(args.format == Format::Json);
    let saved_plan: Option<crate::plan::ReviewedPlan> =
        match args.planfile.as_deref().map(read_plan).transpose() {
            Ok(p) => p,
            Err(e) => return out.fail(&e),
        };
    // A plan file carries its configuration; `-c` makes apply read the files
    // again (and their digest must still match).
    let embedded = saved_plan.as_ref().and_then(|p| p.config.as_ref());
    let loaded = match (&args.config.config, embedded) {
        (None, Some(saved)) => load_saved_config(saved, out),
        _ => load_config(&args.config, out),
    };
    let Some(config) = loaded else {
        return EXIT_ERROR;
    };
    // A saved plan decides the servers; otherwise `--server`.
    let targets = match &saved_plan {
        Some(p) => saved::targets(&config, p),
        None => select_targets(&config, &args.servers),
    };
    let Ok(targets) = targets.map_err(|e| out.fail(&e)) else {
        return EXIT_ERROR;
    };
    let forced = match gates::replace_requests(&args.replace, &targets, saved_plan.is_some()) {
        Ok(f) => f,
        Err(e) => return out.fail(&e),
    };
    let secrets_file = args.secrets_out.as_deref().map(SecretsFile::new);
    if let Some(Err(e)) = secrets_file.as_ref().map(SecretsFile::check) {
        return out.fail(&e);
    }
    let (rt, sandbox) = match prepare(&config, &targets, &args.servers, out) {
        Ok(p) => p,
        Err(e) => return out.fail(&e),
    };
    let options = apply::Options {
        allow: gates::Allowances {
            force: args.force,
            allow_replace: args.allow_replace,
            secrets_out: args.secrets_out.is_some(),
            discard_secrets: args.discard_secrets,
        },
        secrets_file: secrets_file.as_ref(),
        parallelism: args.servers.parallelism as usize,
        saved: saved_plan.as_ref(),
    };
    let code = rt.block_on(async {
        let (fetched, plan, problems) =
            fetch_and_plan(&config, &targets, &args.servers, &forced).await;
        problems
            .iter()
            .for_each(|p| out.error(&problem_diagnostic(&config, p)));
        server_errors_to_stderr(&plan, &problems, out);
        let ui = super::terminal::ApplyTerminal { args, out };
        let ending = apply::run(&config, &fetched, &plan, &options, &ui).await;
        close_all(&fetched, out).await;
        report(args, out, &plan, ending)
    });
    if let Some(Err(e)) = sandbox.as_ref().map(|sb| sb.save()) {
        out.warn(&e);
    }
    code
}

/// Prints how the apply ended; returns the exit code.
fn report(args: &ApplyArgs, out: Output, plan: &Plan, ending: Ending) -> u8 {
    let (report, wrote) = match ending {
        Ending::Failed { kind, message } => {
            if args.format == Format::Json {
                print!("{}", render::apply::json_stopped(plan, kind, &message));
            }
            return out.fail(&message);
        }
        Ending::Refused(e) => {
            if args.format == Format::Json {
                print!("{}", render::apply::json_stopped(plan, "policy", &e));
            }
            return out.refuse(&e);
        }
        Ending::NothingToWrite(r) => (r, false),
        Ending::Wrote(r) => (r, true),
    };
    match (args.format, wrote) {
        (Format::Text, true) => {
            print!("{}", render::apply::text(&report));
            let secrets = render::apply::secrets_captured(&report);
            if let (Some(path), 1..) = (&args.secrets_out, secrets) {
                println!(
                    "The client secret{} of {secrets} new application{} {} in {} (mode 0600); the server never shows {} again.",
                    if secrets == 1 { "" } else { "s" },
                    if secrets == 1 { "" } else { "s" },
                    if secrets == 1 { "is" } else { "are" },
                    path.display(),
                    if secrets == 1 { "it" } else { "them" }
                );
            }
        }
        (Format::Json, true) => print!("{}", render::apply::json(plan, &report)),
        (Format::Text, false) => print!("{}", render::apply::text_without_writes(&report)),
        (Format::Json, false) => print!("{}", render::apply::json_without_writes(plan, &report)),
    }
    // Every failure also on stderr, where CI logs look (stdout holds the report).
    for r in report.results.iter().filter(|r| r.outcome.is_failure()) {
        out.error_text(&render::apply::describe(r));
    }
    for n in &report.verification.not_kept {
        out.error_text(&format!("verification failed: {n}"));
    }
    if wrote {
        report.exit_code()
    } else {
        report.exit_code_without_writes()
    }
}
