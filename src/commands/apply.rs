//! `appform apply`: the command line around [`crate::apply`]: arguments to
//! options, the plan shown, the question asked, the report printed.

use super::session::{
    close_all, fetch_and_plan, load_config, load_saved_config, prepare, problem_diagnostic,
    read_plan, selection, server_errors_to_stderr,
};
use super::{EXIT_ERROR, Output};
use crate::apply::{self, gates, saved};
use crate::cli::{ApplyArgs, ApplyFormat as Format};
use crate::secrets_file::SecretsFile;

pub fn run(args: &ApplyArgs, out: Output) -> u8 {
    let started = std::time::Instant::now();
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
        None => crate::ops::session::select_targets(&config, &selection(&args.servers)),
    };
    let Ok(targets) = targets.map_err(|e| out.fail(&e)) else {
        return EXIT_ERROR;
    };
    let forced = match gates::replace_requests(
        &args.replace,
        &args.rotate,
        &targets,
        saved_plan.is_some(),
    ) {
        Ok(f) => f,
        Err(e) => return out.fail(&e),
    };
    let forced = saved_plan.as_ref().map_or(forced, saved::rotations);
    let apps = match saved::app_selection(&args.servers.apps, saved_plan.as_ref()) {
        Ok(a) => a,
        Err(e) => return out.fail(&e),
    };
    let secrets_file = match SecretsFile::open(
        args.secrets_out.as_deref(),
        &args.secrets_recipient,
        &args.secrets_recipients_file,
    ) {
        Ok(f) => f,
        Err(e) => return out.fail(&e),
    };
    if let Some(warning) = secrets_file
        .as_ref()
        .and_then(SecretsFile::unignored_warning)
    {
        out.warn_always(&warning);
    }
    let unreviewed = saved_plan
        .as_ref()
        .map(saved::unreviewed)
        .unwrap_or_default();
    let contacted: Vec<_> = targets
        .iter()
        .filter(|t| !unreviewed.contains_key(&t.instance.name))
        .copied()
        .collect();
    let (rt, sandbox) = match prepare(&config, &contacted, &args.servers, out) {
        Ok(p) => p,
        Err(e) => return out.fail(&e),
    };
    let options = apply::Options {
        allow: gates::Allowances {
            force: args.force,
            allow_replace: args.allow_replace,
            secrets_out: args.secrets_out.is_some() || args.secrets_command.is_some(),
            discard_secrets: args.discard_secrets,
        },
        secrets_file: secrets_file.as_ref(),
        secrets_command: args.secrets_command.as_deref(),
        parallelism: args.servers.parallelism as usize,
        saved: saved_plan.as_ref(),
    };
    let code = rt.block_on(async {
        let (fetched, plan, problems) = fetch_and_plan(
            &config,
            &targets,
            &super::session::reach(&args.servers),
            &forced,
            &apps,
            &unreviewed,
        )
        .await;
        if let Err(e) = crate::plan::check_apps_match(&plan, &config) {
            close_all(&fetched, out).await;
            out.error_text(&e);
            return crate::exit_code::EXIT_ERROR;
        }
        problems
            .iter()
            .for_each(|p| out.error(&problem_diagnostic(&config, p)));
        server_errors_to_stderr(&plan, &problems, out);
        let ui = super::terminal::ApplyTerminal { args, out };
        let ending = apply::run(&config, &fetched, &plan, &options, &ui).await;
        close_all(&fetched, out).await;
        let code = super::terminal::report(args, out, &plan, ending);
        if let Some(path) = &args.metrics_out
            && let Err(e) =
                crate::metrics::write(path, "apply", &plan, started.elapsed(), code == 0)
        {
            out.error_text(&e.to_string());
        }
        code
    });
    if let Some(Err(e)) = sandbox.as_ref().map(|sb| sb.save()) {
        out.warn(&e);
    }
    code
}
