//! `--metrics-out FILE`: a run as Prometheus text exposition (for the
//! node_exporter textfile collector or a Pushgateway): per server instance,
//! the planned changes by action (and by origin with `--baseline`) and whether it could be planned; the run's
//! duration and outcome, and the time of the last successful run (carried
//! over from the previous file when this run failed). Never a secret: only
//! instance names, counts and times. Written atomically (temp file + rename).

use std::fmt::Write as _;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::plan::baseline::Origin;
use crate::plan::{Action, Plan};

const LAST_SUCCESS: &str = "appform_last_success_timestamp_seconds";

/// A label value escaped as the exposition format wants (`\\`, `\"`, `\n`).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The last-success time the previous file recorded for `command`.
fn previous_success(path: &Path, command: &str) -> Option<f64> {
    // A metrics file is small; anything else (a device, a huge file) has none.
    let bytes = crate::files::read_bounded(path, 16 * 1024 * 1024).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let prefix = format!("{LAST_SUCCESS}{{command=\"{command}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse().ok())
}

/// The metrics of one `plan` or `apply` run.
pub fn render<Op>(
    command: &str,
    plan: &Plan<Op>,
    duration: Duration,
    succeeded: bool,
    previous: Option<f64>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# HELP appform_changes Changes planned per server instance and action."
    );
    let _ = writeln!(out, "# TYPE appform_changes gauge");
    for sp in &plan.servers {
        for (action, name) in [
            (Action::Create, "create"),
            (Action::Update, "update"),
            (Action::Replace, "replace"),
            (Action::Delete, "delete"),
        ] {
            let n = sp.changes.iter().filter(|c| c.action == action).count();
            let _ = writeln!(
                out,
                "appform_changes{{command=\"{command}\",instance=\"{}\",action=\"{name}\"}} {n}",
                label(&sp.server)
            );
        }
    }
    if plan.baseline.is_some() {
        let _ = writeln!(
            out,
            "# HELP appform_changes_by_origin Changes per server instance by origin against --baseline: pending (changed in the config) or drift (changed on the server)."
        );
        let _ = writeln!(out, "# TYPE appform_changes_by_origin gauge");
        for sp in &plan.servers {
            for origin in [Origin::Pending, Origin::Drift] {
                let n = sp
                    .changes
                    .iter()
                    .filter(|c| c.origin == Some(origin))
                    .count();
                let _ = writeln!(
                    out,
                    "appform_changes_by_origin{{command=\"{command}\",instance=\"{}\",origin=\"{}\"}} {n}",
                    label(&sp.server),
                    origin.word()
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP appform_application_created_timestamp_seconds When each managed confidential AWX or gateway application was created (its client secret never changes): alert on its age."
    );
    let _ = writeln!(
        out,
        "# TYPE appform_application_created_timestamp_seconds gauge"
    );
    for sp in &plan.servers {
        for (app, created) in &sp.secrets_created {
            let _ = writeln!(
                out,
                "appform_application_created_timestamp_seconds{{command=\"{command}\",instance=\"{}\",application=\"{}\"}} {created}",
                label(&sp.server),
                label(app)
            );
        }
    }
    let _ = writeln!(
        out,
        "# HELP appform_retiring_live_tokens Tokens not expired of each old application a rotation keeps for its overlap (application: the retiring name): still above 0 near its end means clients have not switched."
    );
    let _ = writeln!(out, "# TYPE appform_retiring_live_tokens gauge");
    for sp in &plan.servers {
        for copy in &sp.retiring {
            if let Some(n) = copy.live_tokens {
                let _ = writeln!(
                    out,
                    "appform_retiring_live_tokens{{command=\"{command}\",instance=\"{}\",application=\"{}\"}} {n}",
                    label(&sp.server),
                    label(&copy.name)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "# HELP appform_deletes_in_use Deletes and replacements planned per server instance of applications with tokens that have not expired."
    );
    let _ = writeln!(out, "# TYPE appform_deletes_in_use gauge");
    for sp in &plan.servers {
        let n = sp.changes.iter().filter(|c| c.in_use.is_some()).count();
        let _ = writeln!(
            out,
            "appform_deletes_in_use{{command=\"{command}\",instance=\"{}\"}} {n}",
            label(&sp.server)
        );
    }
    let _ = writeln!(
        out,
        "# HELP appform_instance_planned 1 when the server instance could be read and planned, else 0."
    );
    let _ = writeln!(out, "# TYPE appform_instance_planned gauge");
    for sp in &plan.servers {
        let _ = writeln!(
            out,
            "appform_instance_planned{{command=\"{command}\",instance=\"{}\"}} {}",
            label(&sp.server),
            u8::from(sp.error.is_none())
        );
    }
    let _ = writeln!(
        out,
        "# HELP appform_run_duration_seconds How long the run took."
    );
    let _ = writeln!(out, "# TYPE appform_run_duration_seconds gauge");
    let _ = writeln!(
        out,
        "appform_run_duration_seconds{{command=\"{command}\"}} {:.3}",
        duration.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "# HELP appform_run_success 1 when the run ended without an error, else 0."
    );
    let _ = writeln!(out, "# TYPE appform_run_success gauge");
    let _ = writeln!(
        out,
        "appform_run_success{{command=\"{command}\"}} {}",
        u8::from(succeeded)
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    if let Some(t) = if succeeded { Some(now) } else { previous } {
        let _ = writeln!(
            out,
            "# HELP {LAST_SUCCESS} When a run last ended without an error (Unix time)."
        );
        let _ = writeln!(out, "# TYPE {LAST_SUCCESS} gauge");
        let _ = writeln!(out, "{LAST_SUCCESS}{{command=\"{command}\"}} {t:.3}");
    }
    out
}

/// The metrics file could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write --metrics-out `{}`: {source}", path.display())]
pub struct NotWritten {
    pub path: std::path::PathBuf,
    pub source: std::io::Error,
}

/// Writes the metrics of a run to `path` atomically, readable by the
/// collector (0644: it holds no secret).
pub fn write<Op>(
    path: &Path,
    command: &str,
    plan: &Plan<Op>,
    duration: Duration,
    succeeded: bool,
) -> Result<(), NotWritten> {
    let text = render(
        command,
        plan,
        duration,
        succeeded,
        previous_success(path, command),
    );
    crate::files::write_atomically(path, text.as_bytes(), 0o644).map_err(|source| NotWritten {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn a_failed_run_keeps_the_last_success_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.prom");
        std::fs::write(
            &path,
            format!("{LAST_SUCCESS}{{command=\"plan\"}} 1234.500\n"),
        )
        .unwrap();
        assert_eq!(previous_success(&path, "plan"), Some(1234.5));
        assert_eq!(previous_success(&path, "apply"), None);
    }
}
