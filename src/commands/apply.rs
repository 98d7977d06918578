//! `appform apply`: plan (or load a reviewed plan and check it still holds),
//! refuse what the policy forbids, ask, write in phases, then read the servers
//! again and verify that they kept every value.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

use futures_util::stream::{self, StreamExt};
use serde_json::json;

use super::planning::{
    close_all, fetch_and_plan, load_config, plan_from, prepare, problem_diagnostic, read_plan,
    select_targets,
};
use super::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL, Output};
use crate::cli::{ApplyArgs, ApplyFormat as Format};
use crate::execute::{self, ChangeOutcome, Outcome};
use crate::plan::{Action, Change, ForcedReplacements, Plan};
use crate::provider::{Created, FailureKind, WriteError};
use crate::render;
use crate::secrets_file::{SecretKeeper, SecretsFile};
use crate::targets::Target;

pub fn run(args: &ApplyArgs, out: Output) -> u8 {
    let Some(config) = load_config(&args.config.config, out) else {
        return EXIT_ERROR;
    };
    let saved: Option<Plan> = match &args.planfile {
        None => None,
        Some(path) => match read_plan(path) {
            Ok(p) => Some(p),
            Err(e) => return out.fail(&e),
        },
    };
    if let Some(saved) = &saved
        && saved.config_digest != config.digest
    {
        return out.fail(&format!(
            "stale plan: the configuration changed since the plan was made ({} then, {} now); plan again",
            saved.config_digest, config.digest
        ));
    }
    // A saved plan decides the servers; otherwise `--server`.
    let targets = match &saved {
        Some(p) => {
            let names: Vec<&str> = p.servers.iter().map(|s| s.server.as_str()).collect();
            let t: Vec<Target<'_>> = config
                .servers
                .iter()
                .flat_map(|s| {
                    s.instances.iter().map(move |i| Target {
                        server: s,
                        instance: i,
                    })
                })
                .filter(|t| names.contains(&t.instance.name.as_str()))
                .collect();
            if t.len() != names.len() {
                return out.fail("stale plan: it names servers that are not in the configuration");
            }
            t
        }
        None => match select_targets(&config, &args.servers) {
            Ok(t) => t,
            Err(e) => return out.fail(&e),
        },
    };
    let forced = match ForcedReplacements::parse(&args.replace) {
        Ok(f) => f,
        Err(e) => return out.fail(&e),
    };
    if !forced.is_empty() && saved.is_some() {
        return out.fail(
            "--replace cannot be combined with a saved plan: the plan file says exactly what to do; plan again and apply without a file",
        );
    }
    for request in &args.replace {
        let one = match ForcedReplacements::parse(std::slice::from_ref(request)) {
            Ok(f) => f,
            Err(e) => return out.fail(&e),
        };
        let hit = targets.iter().any(|t| {
            t.server
                .apps
                .iter()
                .any(|a| one.matches(&t.server.name, &t.instance.name, &a.key))
        });
        if !hit {
            return out.fail(&format!(
                "--replace `{request}` matches no application of the selected servers"
            ));
        }
    }
    let secrets_file = args.secrets_out.as_deref().map(SecretsFile::new);
    if let Some(f) = &secrets_file
        && let Err(e) = f.check()
    {
        return out.fail(&e);
    }
    let (rt, sandbox) = match prepare(&config, &targets, &args.servers, out) {
        Ok(p) => p,
        Err(e) => return out.fail(&e),
    };
    let code = rt.block_on(apply(
        args,
        out,
        &config,
        &targets,
        saved.as_ref(),
        secrets_file.as_ref(),
        &forced,
    ));
    if let Some(sb) = &sandbox
        && let Err(e) = sb.save()
    {
        out.warn(&e);
    }
    code
}

/// What differs between the reviewed plan and the plan made now.
fn moved(saved: &Plan, now: &Plan) -> Vec<String> {
    let key = |c: &Change| serde_json::to_value(c).unwrap_or_default();
    let mut out = Vec::new();
    for sp in &now.servers {
        let Some(old) = saved.servers.iter().find(|s| s.server == sp.server) else {
            out.push(format!("{}: not in the saved plan", sp.server));
            continue;
        };
        if let Some(e) = &sp.error {
            out.push(format!("{}: cannot be planned now: {e}", sp.server));
        }
        // AWX names repeat across organizations: the label carries both.
        let before: BTreeMap<String, &Change> =
            old.changes.iter().map(|c| (c.label(), c)).collect();
        let after: BTreeMap<String, &Change> = sp.changes.iter().map(|c| (c.label(), c)).collect();
        for (app, c) in &after {
            match before.get(app) {
                None => out.push(format!(
                    "{}/{app}: a new change ({:?}) not in the saved plan",
                    sp.server, c.action
                )),
                Some(o) if key(o) != key(c) => {
                    if o.before_fingerprint != c.before_fingerprint {
                        out.push(format!(
                            "{}/{app}: changed on the server since the plan was made",
                            sp.server
                        ));
                    } else {
                        out.push(format!(
                            "{}/{app}: the planned change is different now",
                            sp.server
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        for app in before.keys() {
            if !after.contains_key(app) {
                out.push(format!(
                    "{}/{app}: planned, but no longer needed",
                    sp.server
                ));
            }
        }
    }
    out
}

fn confirm() -> Result<bool, String> {
    print!("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
    let _ = std::io::stdout().flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    Ok(line.trim() == "yes")
}

fn describe(o: &ChangeOutcome) -> String {
    let verb = match o.action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
    };
    let client_id = match o.outcome.created() {
        Some(Created {
            client_id: Some(id),
            ..
        }) => format!(" (client_id {id})"),
        _ => String::new(),
    };
    let (server, app) = (&o.server, o.label());
    match &o.outcome {
        Outcome::Done(_) => format!("{server}: {app} {verb}{client_id}"),
        Outcome::Incomplete(_, e) if e.kind == FailureKind::SecretLost => {
            format!(
                "{server}: {app} {verb}, secret lost{client_id}: {}",
                e.message
            )
        }
        Outcome::Incomplete(_, e) => {
            format!(
                "{server}: {app} {verb}{client_id}, INCOMPLETE: {}",
                e.message
            )
        }
        Outcome::Failed(e) => format!("{server}: {app} FAILED: {}", e.message),
        Outcome::NotAttempted(why) => format!("{server}: {app} not attempted: {why}"),
    }
}

/// One change's outcome in the JSON report.
fn result_json(r: &ChangeOutcome) -> serde_json::Value {
    let status = match &r.outcome {
        Outcome::Done(_) => "done",
        Outcome::Incomplete(..) => "incomplete",
        Outcome::Failed(_) => "failed",
        Outcome::NotAttempted(_) => "not_attempted",
    };
    let message = match &r.outcome {
        Outcome::NotAttempted(w) => Some(w.clone()),
        other => other.error().map(|e| e.message.clone()),
    };
    let error = r
        .outcome
        .error()
        .map(|e| json!({"kind": e.kind_name(), "message": e.message}));
    let client_id = r.outcome.created().and_then(|c| c.client_id.clone());
    let secret_lost = r
        .outcome
        .error()
        .is_some_and(|e| e.kind == FailureKind::SecretLost);
    json!({"server": r.server, "app": r.app, "organization": r.organization,
        "action": r.action, "status": status, "message": message,
        "error": error, "client_id": client_id, "secret_lost": secret_lost})
}

/// Creates an earlier run marked in the secrets file (`pending_create_since`)
/// and never finished, whose application exists now: that run was stopped
/// after the server acted and before the secret was saved, so the secret is
/// lost. Each is recorded as lost in the file and reported as a failure (once:
/// the record replaces the mark).
fn interrupted_creates(
    file: Option<&SecretsFile>,
    config: &crate::model::Config,
    plan: &Plan,
) -> Vec<ChangeOutcome> {
    let Some(file) = file else {
        return Vec::new();
    };
    let Ok(pending) = file.pending() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (server, app) in pending {
        let Some(sp) = plan
            .servers
            .iter()
            .find(|sp| sp.server == server && sp.error.is_none())
        else {
            continue;
        };
        let still_to_create = sp
            .changes
            .iter()
            .any(|c| c.app == app && matches!(c.action, Action::Create | Action::Replace));
        let present_in_config = config.servers.iter().any(|s| {
            s.instances.iter().any(|i| i.name == server)
                && s.apps
                    .iter()
                    .any(|a| a.key == app && a.ensure == crate::model::Ensure::Present)
        });
        if still_to_create || !present_in_config {
            continue;
        }
        let how = "an earlier run was stopped after it asked the server to create the application and before it saved the answer with the secret";
        let mut message = format!(
            "its client secret is lost ({how}): {}",
            crate::secrets_file::lost_secret_remedy(&server, &app)
        );
        if let Err(e) = file.record_lost(&server, &app, "", how) {
            message = format!("{message}; recording the loss in the secrets file failed too: {e}");
        }
        out.push(ChangeOutcome {
            organization: sp
                .changes
                .iter()
                .find(|c| c.app == app)
                .and_then(|c| c.organization.clone()),
            server,
            app,
            action: Action::Create,
            outcome: Outcome::Incomplete(None, WriteError::new(FailureKind::SecretLost, message)),
        });
    }
    out
}

async fn apply(
    args: &ApplyArgs,
    out: Output,
    config: &crate::model::Config,
    targets: &[Target<'_>],
    saved: Option<&Plan>,
    secrets_file: Option<&SecretsFile>,
    forced: &ForcedReplacements,
) -> u8 {
    let (fetched, plan, problems) = fetch_and_plan(config, targets, &args.servers, forced).await;
    let code = apply_plan(
        args,
        out,
        config,
        saved,
        secrets_file,
        &fetched,
        plan,
        &problems,
    )
    .await;
    close_all(&fetched).await;
    code
}

#[allow(clippy::too_many_arguments)]
async fn apply_plan(
    args: &ApplyArgs,
    out: Output,
    config: &crate::model::Config,
    saved: Option<&Plan>,
    secrets_file: Option<&SecretsFile>,
    fetched: &[crate::targets::Fetched<'_>],
    plan: Plan,
    problems: &[crate::plan::InstanceProblem],
) -> u8 {
    for p in problems {
        out.error(&problem_diagnostic(config, p));
    }
    if let Some(saved) = saved {
        let moved = moved(saved, &plan);
        if !moved.is_empty() {
            return out.fail(&format!(
                "stale plan: the servers no longer match the reviewed plan; nothing was written:\n  {}",
                moved.join("\n  ")
            ));
        }
    }
    if args.format == Format::Text {
        print!(
            "{}",
            render::text::plan_with(out.stdout_style(), &plan, args.force)
        );
    }
    let planned_failures = plan.servers.iter().filter(|s| s.error.is_some()).count();
    let applicable: Vec<&crate::plan::ServerPlan> = plan
        .servers
        .iter()
        .filter(|s| s.error.is_none() && !s.changes.is_empty())
        .collect();
    for sp in plan
        .servers
        .iter()
        .filter(|s| !s.apply && !s.changes.is_empty())
    {
        out.info(&format!("{}: skipped (apply: false)", sp.server));
    }
    let work: Vec<&crate::plan::ServerPlan> = applicable.into_iter().filter(|s| s.apply).collect();
    let interrupted = interrupted_creates(secrets_file, config, &plan);
    if work.is_empty() {
        match args.format {
            Format::Json => println!(
                "{}",
                json!({"plan": plan, "results": interrupted.iter().map(result_json).collect::<Vec<_>>(),
                    "verified": true, "status": if planned_failures > 0 { "error" } else { "no_changes" }})
            ),
            Format::Text => {
                for r in &interrupted {
                    println!("{}", describe(r));
                }
            }
        }
        for r in &interrupted {
            out.error_text(&describe(r));
        }
        return if planned_failures > 0 {
            EXIT_ERROR
        } else if !interrupted.is_empty() {
            EXIT_PARTIAL
        } else {
            EXIT_OK
        };
    }

    // Refusals come before any request that writes.
    if !plan.blocked.is_empty() && !args.force {
        return out.refuse(
            "the plan is blocked by the safety policy (see above); pass --force to apply it anyway",
        );
    }
    let replaces = work
        .iter()
        .flat_map(|s| &s.changes)
        .filter(|c| c.action == Action::Replace)
        .count();
    if replaces > 0 && !args.allow_replace {
        return out.refuse(&format!(
            "the plan replaces {replaces} application(s), which hands out new client credentials; pass --allow-replace"
        ));
    }
    let secret_changes = work
        .iter()
        .flat_map(|s| &s.changes)
        .filter(|c| c.yields_secret)
        .count();
    if secret_changes > 0 && secrets_file.is_none() && !args.discard_secrets {
        return out.refuse(&format!(
            "{secret_changes} confidential application(s) will get a client secret that the server shows only once; pass --secrets-out FILE to keep it, or --discard-secrets"
        ));
    }
    if saved.is_none() && !args.auto_approve {
        if !std::io::stdin().is_terminal() {
            return out.fail("apply needs confirmation: there is no terminal to ask on, so pass --auto-approve (or apply a saved plan file)");
        }
        match confirm() {
            Ok(true) => {}
            Ok(false) => return out.fail("Apply cancelled."),
            Err(e) => return out.fail(&e),
        }
    }

    let keeper = SecretKeeper {
        file: secrets_file,
        discard: args.discard_secrets,
    };
    let by_name: BTreeMap<&str, &crate::targets::Fetched<'_>> = fetched
        .iter()
        .map(|f| (f.target.instance.name.as_str(), f))
        .collect();
    // Ctrl-C: let the writes in flight finish, start no new one, then verify
    // and report what happened (never leave half a request behind).
    let watcher = tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_ok() {
            execute::interrupt();
            eprintln!("Interrupted: finishing the writes in flight, starting no new ones.");
        }
    });
    let results: Vec<Vec<ChangeOutcome>> = stream::iter(work.iter().copied())
        .map(|sp| {
            let f = by_name.get(sp.server.as_str()).copied();
            let keeper = &keeper;
            async move {
                match f.and_then(|f| {
                    f.client
                        .as_ref()
                        .map(|c| (c, f.target.server.options.max_in_flight))
                }) {
                    Some((client, mif)) => {
                        execute::run_server(client, sp, mif as usize, keeper).await
                    }
                    None => Vec::new(),
                }
            }
        })
        .buffered(args.servers.parallelism as usize)
        .collect()
        .await;
    let results: Vec<ChangeOutcome> = interrupted
        .into_iter()
        .chain(results.into_iter().flatten())
        .collect();
    watcher.abort();

    // Verification (SPEC §3.4): read every touched server again and plan again.
    let touched: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome.took_effect())
        .map(|r| r.server.as_str())
        .collect();
    let refetched: Vec<crate::targets::Fetched<'_>> = stream::iter(
        fetched
            .iter()
            .filter(|f| f.client.is_some() && touched.contains(&f.target.instance.name.as_str())),
    )
    .map(|f| async move {
        let live = match &f.client {
            Some(client) => client.fetch().await,
            None => Err("not connected".to_string()),
        };
        crate::targets::Fetched {
            target: f.target,
            client: None,
            live,
        }
    })
    .buffered(args.servers.parallelism as usize)
    .collect()
    .await;
    // Verified against the config alone: a forced replacement is done once.
    let (after, _) = plan_from(config, &refetched, &ForcedReplacements::default());
    let attempted: Vec<(&str, &str)> = results
        .iter()
        .filter(|r| r.outcome.took_effect())
        .map(|r| (r.server.as_str(), r.app.as_str()))
        .collect();
    let mut not_kept = Vec::new();
    // A server that failed during the writes (it stopped answering, say) may
    // not be readable either: that is its failure, already reported, not a
    // value it did not keep.
    let failed_servers: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome.is_failure() || matches!(r.outcome, Outcome::NotAttempted(_)))
        .map(|r| r.server.as_str())
        .collect();
    let mut unverified = Vec::new();
    for sp in &after.servers {
        if let Some(e) = &sp.error {
            let line = format!("{}: cannot be read back: {e}", sp.server);
            if failed_servers.contains(&sp.server.as_str()) {
                unverified.push(line);
            } else {
                not_kept.push(line);
            }
        }
        for c in &sp.changes {
            if !attempted.contains(&(sp.server.as_str(), c.app.as_str())) {
                continue;
            }
            if c.action == Action::Update || c.action == Action::Replace {
                for f in c.changed_fields() {
                    not_kept.push(format!(
                        "{}/{}: the server did not keep `{}` (sent {}, it has {})",
                        sp.server, c.app, f.field, f.after, f.before
                    ));
                }
            } else {
                not_kept.push(format!(
                    "{}/{}: still needs {:?} after apply",
                    sp.server, c.app, c.action
                ));
            }
        }
    }

    let succeeded = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Done(_)))
        .count();
    let took_effect = results.iter().any(|r| r.outcome.took_effect());
    let incomplete = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Incomplete(..)))
        .count();
    let failed = results.iter().filter(|r| r.outcome.is_failure()).count() + planned_failures;
    let skipped = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::NotAttempted(_)))
        .count();
    let count = |a: Action| {
        results
            .iter()
            .filter(|r| r.action == a && matches!(r.outcome, Outcome::Done(_)))
            .count()
    };
    let closing = if failed == 0 && skipped == 0 && not_kept.is_empty() {
        format!(
            "Apply complete: {} created, {} updated, {} replaced, {} deleted.",
            count(Action::Create),
            count(Action::Update),
            count(Action::Replace),
            count(Action::Delete)
        )
    } else if failed == 0 && skipped == 0 {
        format!(
            "Apply failed: verification found {} value(s) the servers did not keep.",
            not_kept.len()
        )
    } else {
        let mut line = format!(
            "Apply failed: {succeeded} succeeded, {failed} failed, {skipped} not attempted."
        );
        if incomplete > 0 {
            line.push_str(&format!(
                " Of the failed, {incomplete} took effect but not completely (see above)."
            ));
        }
        line
    };
    match args.format {
        Format::Text => {
            println!();
            for r in &results {
                println!("{}", describe(r));
            }
            for n in not_kept.iter().chain(&unverified) {
                println!("verification: {n}");
            }
            println!("\n{closing}");
        }
        Format::Json => {
            let items: Vec<_> = results.iter().map(result_json).collect();
            println!(
                "{}",
                json!({"plan": plan, "results": items, "verification_errors": not_kept, "summary": closing})
            );
        }
    }
    // Every failure also on stderr, where CI logs look (stdout holds the report).
    for r in results.iter().filter(|r| r.outcome.is_failure()) {
        out.error_text(&describe(r));
    }
    for n in &not_kept {
        out.error_text(&format!("verification failed: {n}"));
    }
    if !not_kept.is_empty() {
        EXIT_ERROR
    } else if failed + skipped > 0 && took_effect {
        EXIT_PARTIAL
    } else if failed + skipped > 0 {
        EXIT_ERROR
    } else {
        EXIT_OK
    }
}
