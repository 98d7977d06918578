//! The plan as a pull-request comment (docs/reference.md §2.7): a marker line so CI can
//! update the comment in place, the summary first (failures before anything
//! else: never "No changes" when a server could not be planned), then one
//! section per server instance with a table, each cut at a byte budget with a
//! notice, never in the middle of a row. Sections with a failure, a delete or a
//! replacement are open; fleet hosts with identical changes share one section.

use std::fmt::Write;

use serde_json::Value;

use super::markdown_safe::{Place, code, value_pair};
use crate::plan::{Action, Plan, ServerPlan};
use crate::semantics;

pub const MARKER: &str = "<!-- appform-plan -->";

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::Delete => "-",
    }
}

fn action_word(action: Action) -> &'static str {
    match action {
        Action::Create => "create",
        Action::Update => "update",
        Action::Replace => "replace",
        Action::Delete => "delete",
    }
}

/// A table cell of one value: a code span of its JSON text (never cut:
/// see [`value_pair`] for changed long values), empty for null; a sensitive
/// value as its mask; a duration also as `90d`, as in the text plan.
fn cell(value: &Value, sensitive: bool, duration: bool) -> String {
    match mask_or_duration(value, sensitive, duration) {
        Some(shown) => shown,
        None => code(&value.to_string(), Place::Table),
    }
}

/// The cell of a null, sensitive or duration value, `None` for the others.
fn mask_or_duration(value: &Value, sensitive: bool, duration: bool) -> Option<String> {
    if value.is_null() {
        return Some(String::new());
    }
    if sensitive {
        // Masks are appform's own words (`(sensitive: not declared, 31 characters)`).
        return Some(match value.as_str() {
            Some(mask) if mask.starts_with("(sensitive") => escape_html(mask),
            _ => "(sensitive)".into(),
        });
    }
    if let (true, Some(secs)) = (duration, value.as_u64()) {
        return Some(format!(
            "`{secs}` ({})",
            crate::duration::format_duration(secs)
        ));
    }
    None
}

/// The before and after cells of a changed value.
fn cells(before: &Value, after: &Value, sensitive: bool, duration: bool) -> (String, String) {
    let plain = mask_or_duration(before, sensitive, duration).is_none()
        && mask_or_duration(after, sensitive, duration).is_none();
    if plain {
        value_pair(&before.to_string(), &after.to_string())
    } else {
        (
            cell(before, sensitive, duration),
            cell(after, sensitive, duration),
        )
    }
}

/// Text a server or a config wrote, in a table cell or a paragraph: a code
/// span, so nothing in it becomes markup (see [`super::markdown_safe`]).
fn escape(text: &str) -> String {
    code(text, Place::Table)
}

/// Text a server wrote (an error), in a paragraph.
fn code_span(text: &str) -> String {
    code(text, Place::Prose)
}

/// Text inside an HTML element (`<code>` of a `<summary>`): entities, and
/// invisible characters made visible.
fn escape_html(text: &str) -> String {
    crate::redact::printable(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The action column: `update`, or `update (drift)` with `--baseline`.
fn action_cell<Op>(
    c: &crate::plan::Change<Op>,
    origin: Option<crate::plan::baseline::Origin>,
) -> String {
    let mut cell = match origin {
        Some(o) => format!("{} ({})", action_word(c.action), o.word()),
        None => action_word(c.action).to_string(),
    };
    if c.in_use.is_some() {
        cell.push_str(&format!(" **{}**", escape(&super::in_use_words(c))));
    }
    cell
}

fn rows<Op>(sp: &ServerPlan<Op>) -> Vec<String> {
    let mut out = Vec::new();
    for c in &sp.changes {
        let fields: Vec<_> = c.changed_fields().collect();
        if fields.is_empty() {
            out.push(format!(
                "| {} | {} | {} | | | |",
                symbol(c.action),
                escape(&c.label()),
                action_cell(c, c.origin)
            ));
        }
        for f in fields {
            let duration = semantics::of(sp.kind)
                .rule(&f.field)
                .is_some_and(|r| r.duration);
            let forces = if f.forces_replacement {
                " (forces replacement)"
            } else {
                ""
            };
            let row = |field: String, before: String, after: String| {
                format!(
                    "| {} | {} | {} | {field}{forces} | {before} | {after} |",
                    symbol(c.action),
                    escape(&c.label()),
                    action_cell(c, f.origin.or(c.origin)),
                )
            };
            // A list shows each element added or removed in a row of its own.
            if let (false, Value::Array(b), Value::Array(a)) = (f.sensitive, &f.before, &f.after) {
                let (added, removed) = super::list_changes(b, a);
                if !added.is_empty() || !removed.is_empty() {
                    for item in removed {
                        let shown = cell(item, false, false);
                        out.push(row(
                            format!("{} (removed)", escape(&f.field)),
                            shown,
                            String::new(),
                        ));
                    }
                    for item in added {
                        let shown = cell(item, false, false);
                        out.push(row(
                            format!("{} (added)", escape(&f.field)),
                            String::new(),
                            shown,
                        ));
                    }
                    continue;
                }
            }
            let (before, after) = cells(&f.before, &f.after, f.sensitive, duration);
            out.push(row(escape(&f.field), before, after));
        }
    }
    out
}

/// Whether a reviewer must see the section without a click.
fn expanded<Op>(sp: &ServerPlan<Op>) -> bool {
    sp.error.is_some()
        || sp
            .changes
            .iter()
            .any(|c| matches!(c.action, Action::Delete | Action::Replace))
}

/// `hosts`: the other instances with exactly the same changes (a fleet).
fn section<Op>(sp: &ServerPlan<Op>, hosts: &[&str], max_bytes: usize) -> String {
    let mut out = String::new();
    let what = match (&sp.error, sp.changes.len()) {
        (Some(_), _) => "error".to_string(),
        (None, 0) => "no changes".to_string(),
        (None, 1) => "1 change".to_string(),
        (None, n) => format!("{n} changes"),
    };
    let (name, what) = match hosts {
        [] => (escape_html(&sp.server), what),
        _ => (
            escape_html(sp.server.split('@').next().unwrap_or(&sp.server)),
            format!("same {what} on {} hosts", hosts.len() + 1),
        ),
    };
    let open = if expanded(sp) { " open" } else { "" };
    let _ = writeln!(
        out,
        "<details{open}><summary><code>{name}</code> ({}, {}): {what}</summary>\n",
        sp.kind,
        sp.update_style.as_str().replace('_', " ")
    );
    if !hosts.is_empty() {
        let mut all: Vec<&str> = vec![sp.server.as_str()];
        all.extend(hosts);
        let _ = writeln!(
            out,
            "Hosts: {}\n",
            all.iter()
                .map(|h| code(h, Place::Prose))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if let Some(e) = &sp.error {
        let _ = writeln!(out, "**Error:** {}\n", code_span(e));
    }
    if !sp.changes.is_empty() {
        let head = "| | app | action | field | before | after |\n|---|---|---|---|---|---|\n";
        out.push_str(head);
        let all = rows(sp);
        let total = all.len();
        let mut shown = 0;
        for row in &all {
            if out.len() + row.len() + 1 > max_bytes {
                break;
            }
            out.push_str(row);
            out.push('\n');
            shown += 1;
        }
        if shown < total {
            let _ = writeln!(
                out,
                "\n_Truncated: {} of {total} rows not shown (limit {max_bytes} bytes per server); see the JSON plan._",
                total - shown
            );
        }
        out.push('\n');
    }
    if !sp.unmanaged.is_empty() {
        let _ = writeln!(
            out,
            "{} unmanaged application(s) not in config.\n",
            sp.unmanaged.len()
        );
    }
    out.push_str("</details>\n");
    out
}

/// The markdown plan; `max_bytes` bounds each server's section.
pub fn plan<Op>(plan: &Plan<Op>, max_bytes: usize) -> String {
    let mut out = String::new();
    let s = &plan.summary;
    let _ = writeln!(out, "{MARKER}");
    let failed = plan.servers.iter().filter(|sp| sp.error.is_some()).count();
    let (failures, others) = match failed {
        0 => (String::new(), ""),
        1 => (
            "**1 server could not be planned.** ".to_string(),
            " on the others",
        ),
        n => (
            format!("**{n} servers could not be planned.** "),
            " on the others",
        ),
    };
    if s.changes() == 0 {
        let _ = writeln!(
            out,
            "{failures}**No changes{others}.** {} unchanged, {} unmanaged{}.",
            s.noop,
            s.unmanaged,
            super::unmanaged_unknown(s)
        );
    } else {
        let _ = writeln!(
            out,
            "{failures}**Plan{others}: {} to create, {} to update, {} to replace, {} to delete.** {} unchanged, {} unmanaged{}.",
            s.create,
            s.update,
            s.replace,
            s.delete,
            s.noop,
            s.unmanaged,
            super::unmanaged_unknown(s)
        );
    }
    if !plan.only_apps.is_empty() {
        let globs: Vec<String> = plan
            .only_apps
            .iter()
            .map(|g| code(g, Place::Prose))
            .collect();
        let _ = writeln!(
            out,
            "\nPartial plan: only the applications matching {} (--app); the others are neither shown nor changed.",
            globs.join(", ")
        );
    }
    if let Some(b) = &plan.baseline {
        let short: String = b.commit.chars().take(12).collect();
        let _ = writeln!(
            out,
            "\nCompared with the baseline {} ({}): {} pending (changed in the config), {} drift (changed on the servers).",
            code(&b.reference, Place::Prose),
            code(&short, Place::Prose),
            plan.summary.pending.unwrap_or(0),
            plan.summary.drift.unwrap_or(0)
        );
    }
    let i = plan.instances;
    let _ = writeln!(
        out,
        "\nInstances: {} in sync, {} with changes, {} failed.",
        i.in_sync, i.drifted, i.failed
    );
    let due = super::rotation_lines(plan);
    if !due.is_empty() {
        let _ = writeln!(out, "\n**Rotation due:**\n");
        for line in due {
            let _ = writeln!(out, "- {}", code(&line, Place::Prose));
        }
    }
    let retiring = super::retiring_lines(plan);
    if !retiring.is_empty() {
        let _ = writeln!(out, "\n**Retiring after rotation:**\n");
        for line in retiring {
            let _ = writeln!(out, "- {}", code(&line, Place::Prose));
        }
    }
    if !plan.blocked.is_empty() {
        let _ = writeln!(out, "\n**Blocked by policy:**\n");
        for rule in &plan.blocked {
            let _ = writeln!(out, "- {}", code(rule.message(), Place::Prose));
        }
    }
    out.push('\n');
    // Fleet hosts (`server@host`) whose changes render the same share a section.
    let shown: Vec<&ServerPlan<Op>> = plan
        .servers
        .iter()
        .filter(|sp| !sp.changes.is_empty() || sp.error.is_some())
        .collect();
    let rendered: Vec<Vec<String>> = shown.iter().map(|sp| rows(sp)).collect();
    let mut done = vec![false; shown.len()];
    for (i, sp) in shown.iter().enumerate() {
        if done.get(i).copied().unwrap_or(true) {
            continue;
        }
        let base = sp.server.split_once('@').map(|(b, _)| b);
        let mut same: Vec<&str> = Vec::new();
        if let (Some(base), None) = (base, &sp.error) {
            let mine = rendered.get(i);
            for (j, other) in shown.iter().enumerate().skip(i + 1) {
                let twin = other.error.is_none()
                    && other.server.split_once('@').map(|(b, _)| b) == Some(base)
                    && other.unmanaged.len() == sp.unmanaged.len()
                    && rendered.get(j) == mine;
                if twin {
                    same.push(other.server.as_str());
                    if let Some(d) = done.get_mut(j) {
                        *d = true;
                    }
                }
            }
        }
        out.push_str(&section(sp, &same, max_bytes));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
