//! The apply report (docs/reference.md §3.3): one line per change, the verification
//! findings and the closing line as text, or the same as JSON. Secrets never
//! appear: a created app shows its client id only.

use serde_json::{Value, json};

use crate::apply::phases::{ChangeOutcome, Outcome};
use crate::apply::{Report, ServerFailure};
use crate::outcome::{FailureKind, NewSecret};
use crate::plan::{Action, Plan};

/// One change's outcome in words: `awx-prod: grafana (Default) created (client_id …)`.
pub fn describe(o: &ChangeOutcome) -> String {
    let verb = match o.action {
        Action::Create => "created",
        Action::Update => "updated",
        Action::Replace => "replaced",
        Action::Delete => "deleted",
    };
    let client_id = match o.outcome.created().and_then(|c| c.client_id.as_deref()) {
        Some(id) => format!(" (client_id {id})"),
        None => String::new(),
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
pub fn result_json(r: &ChangeOutcome) -> Value {
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

/// The text report after the plan: a blank line, the outcomes, the
/// verification findings, a blank line and the closing line.
pub fn text(report: &Report) -> String {
    let mut out = String::from("\n");
    for r in &report.results {
        out.push_str(&describe(r));
        out.push('\n');
    }
    let v = &report.verification;
    for n in v.not_kept.iter().chain(&v.unverified) {
        out.push_str(&format!("verification: {n}\n"));
    }
    let mut touched: Vec<&str> = report
        .results
        .iter()
        .filter(|r| r.outcome.took_effect())
        .map(|r| r.server.as_str())
        .collect();
    touched.sort_unstable();
    touched.dedup();
    if v.not_kept.is_empty() && !touched.is_empty() {
        let n = touched.len();
        out.push_str(&format!(
            "\nVerified: {n} server{} read back after the writes; every written value is there.\n",
            if n == 1 { "" } else { "s" }
        ));
    }
    out.push_str(&format!("\n{}\n", report.closing()));
    out
}

/// How many new client secrets were captured (and so saved or discarded).
pub fn secrets_captured(report: &Report) -> usize {
    report
        .results
        .iter()
        .filter_map(|r| r.outcome.created())
        .filter(|c| matches!(c.secret, NewSecret::Captured(_)))
        .count()
}

/// The text report of an apply with nothing to write: only what an earlier,
/// killed run left (lost secrets found now), one line each.
pub fn text_without_writes(report: &Report) -> String {
    report
        .results
        .iter()
        .map(|r| format!("{}\n", describe(r)))
        .collect()
}

/// A server that could not be read or planned, in the JSON report's results.
fn server_failure_json(f: &ServerFailure) -> Value {
    json!({"server": f.server, "app": null, "organization": null, "action": null,
        "status": "failed", "message": f.message,
        "error": {"kind": f.kind, "message": f.message}, "client_id": null, "secret_lost": false})
}

/// The counts of the JSON report (an object; `message` is the closing line).
fn summary_json(report: &Report) -> Value {
    json!({
        "created": report.done(Action::Create),
        "updated": report.done(Action::Update),
        "replaced": report.done(Action::Replace),
        "deleted": report.done(Action::Delete),
        "succeeded": report.succeeded(),
        "failed": report.failed(),
        "not_attempted": report.not_attempted(),
        "incomplete": report.incomplete(),
        "servers_failed": report.planned_failures,
        "verification_errors": report.verification.not_kept.len(),
        "message": report.closing(),
    })
}

/// The servers that could not be read, then every change's outcome.
fn results_json(report: &Report) -> Vec<Value> {
    report
        .server_failures
        .iter()
        .map(server_failure_json)
        .chain(report.results.iter().map(result_json))
        .collect()
}

/// The JSON report of an apply that wrote: the plan, the outcomes (and the
/// servers that could not be read), the verification errors and the summary.
pub fn json(plan: &Plan, report: &Report) -> String {
    format!(
        "{}\n",
        json!({"plan": plan, "results": results_json(report),
            "verification_errors": report.verification.not_kept, "summary": summary_json(report)})
    )
}

/// The JSON report of an apply with nothing to write (its outcomes: secrets
/// an earlier, killed run lost, found now).
/// The JSON report of an apply that stopped before any write: refused by a
/// gate (`kind` `policy`), a stale saved plan (`stale`), or no confirmation.
pub fn json_stopped(plan: &Plan, kind: &str, message: &str) -> String {
    let summary = json!({
        "created": 0, "updated": 0, "replaced": 0, "deleted": 0, "succeeded": 0,
        "failed": 0, "not_attempted": plan.summary.changes(), "incomplete": 0,
        "servers_failed": plan.servers.iter().filter(|s| s.error.is_some()).count(),
        "verification_errors": 0,
        "message": format!("Nothing was written: {message}"),
    });
    format!(
        "{}\n",
        json!({"plan": plan, "results": [], "verification_errors": [], "status": "stopped",
            "error": {"kind": kind, "message": message}, "summary": summary})
    )
}

pub fn json_without_writes(plan: &Plan, report: &Report) -> String {
    let results = results_json(report);
    let failed = report.planned_failures > 0;
    format!(
        "{}\n",
        json!({"plan": plan, "results": results, "verified": true,
            "status": if failed { "error" } else { "no_changes" }, "summary": summary_json(report)})
    )
}

/// The line after a text report that kept `count` new secrets in `path`.
pub fn secrets_kept_note(count: usize, path: &std::path::Path) -> String {
    let one = count == 1;
    format!(
        "The client secret{} of {count} new application{} {} in {} (mode 0600); the server never shows {} again.",
        if one { "" } else { "s" },
        if one { "" } else { "s" },
        if one { "is" } else { "are" },
        path.display(),
        if one { "it" } else { "them" }
    )
}
