//! The plan as a pull-request comment (SPEC §2.7): a marker line so CI can
//! update the comment in place, the summary first, then one collapsible section
//! per server instance with a table, each cut at a byte budget with a notice,
//! never in the middle of a row.

use std::fmt::Write;

use serde_json::Value;

use crate::plan::{Action, Plan, ServerPlan};

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

/// A table cell: inline code, pipes escaped, newlines as `<br>`, long values cut.
fn cell(value: &Value, sensitive: bool) -> String {
    if sensitive {
        return "(sensitive)".into();
    }
    if value.is_null() {
        return String::new();
    }
    let mut text = value.to_string();
    if text.chars().count() > 200 {
        text = format!("{}…", text.chars().take(200).collect::<String>());
    }
    let escaped = text
        .replace('|', "\\|")
        .replace('`', "'")
        .replace('\n', " ");
    format!("`{escaped}`")
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', "<br>")
}

fn rows(sp: &ServerPlan) -> Vec<String> {
    let mut out = Vec::new();
    for c in &sp.changes {
        let fields: Vec<_> = c.changed_fields().collect();
        if fields.is_empty() {
            out.push(format!(
                "| {} | {} | {} | | | |",
                symbol(c.action),
                escape(&c.label()),
                action_word(c.action)
            ));
        }
        for f in fields {
            let forces = if f.forces_replacement {
                " (forces replacement)"
            } else {
                ""
            };
            out.push(format!(
                "| {} | {} | {} | {}{forces} | {} | {} |",
                symbol(c.action),
                escape(&c.label()),
                action_word(c.action),
                escape(&f.field),
                cell(&f.before, f.sensitive),
                cell(&f.after, f.sensitive)
            ));
        }
    }
    out
}

fn section(sp: &ServerPlan, max_bytes: usize) -> String {
    let mut out = String::new();
    let what = match (&sp.error, sp.changes.len()) {
        (Some(_), _) => "error".to_string(),
        (None, 0) => "no changes".to_string(),
        (None, 1) => "1 change".to_string(),
        (None, n) => format!("{n} changes"),
    };
    let _ = writeln!(
        out,
        "<details><summary><code>{}</code> ({}, {}): {what}</summary>\n",
        escape(&sp.server),
        sp.kind,
        sp.update_style.as_str().replace('_', " ")
    );
    if let Some(e) = &sp.error {
        let _ = writeln!(out, "**Error:** {}\n", escape(e));
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
pub fn plan(plan: &Plan, max_bytes: usize) -> String {
    let mut out = String::new();
    let s = &plan.summary;
    let _ = writeln!(out, "{MARKER}");
    if s.changes() == 0 {
        let _ = writeln!(
            out,
            "**No changes.** {} unchanged, {} unmanaged.",
            s.noop, s.unmanaged
        );
    } else {
        let _ = writeln!(
            out,
            "**Plan: {} to create, {} to update, {} to replace, {} to delete.** {} unchanged, {} unmanaged.",
            s.create, s.update, s.replace, s.delete, s.noop, s.unmanaged
        );
    }
    let i = plan.instances;
    let _ = writeln!(
        out,
        "\nInstances: {} in sync, {} drifted, {} failed.",
        i.in_sync, i.drifted, i.failed
    );
    if !plan.blocked.is_empty() {
        let _ = writeln!(out, "\n**Blocked by policy:**\n");
        for rule in &plan.blocked {
            let _ = writeln!(out, "- {}", escape(rule));
        }
    }
    out.push('\n');
    for sp in &plan.servers {
        if sp.changes.is_empty() && sp.error.is_none() {
            continue;
        }
        out.push_str(&section(sp, max_bytes));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Change, FieldDiff, Reason, Summary};
    use serde_json::json;

    fn server(n: usize) -> ServerPlan {
        ServerPlan {
            server: "whm@h:1".into(),
            kind: crate::model::Kind::Whm,
            url: "https://h:1".into(),
            update_style: crate::semantics::UpdateStyle::FullReplace,
            error: None,
            unmanaged: vec![],
            unmanaged_labels: vec![],
            changes: (0..n)
                .map(|i| Change {
                    app: format!("app|{i}"),
                    action: Action::Update,
                    reason: Reason::FieldsDiffer,
                    before_fingerprint: None,
                    fields: vec![FieldDiff {
                        field: "data.jwt".into(),
                        before: json!({"iss": "a|b"}),
                        after: json!({"iss": "c"}),
                        forces_replacement: false,
                        carried: false,
                        sensitive: false,
                    }],
                    organization: None,
                    notes: Vec::new(),
                    operation: None,
                    yields_secret: false,
                })
                .collect(),
            noop: 0,
            live: n,
            apply: true,
            prune: false,
        }
    }

    fn plan_of(n: usize) -> Plan {
        Plan {
            format_version: 1,
            appform_version: "0".into(),
            config_digest: "sha256:x".into(),
            servers: vec![server(n)],
            summary: Summary {
                update: n,
                ..Summary::default()
            },
            blocked: vec![],
            instances: crate::plan::InstanceCounts {
                drifted: 1,
                ..Default::default()
            },
        }
    }

    #[test]
    fn starts_with_the_marker_and_the_summary() {
        let text = plan(&plan_of(1), 60_000);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(MARKER));
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("**Plan: 0 to create, 1 to update")
        );
        assert!(
            text.contains(
                "| ~ | app\\|0 | update | data.jwt | `{\"iss\":\"a\\|b\"}` | `{\"iss\":\"c\"}` |"
            ),
            "{text}"
        );
    }

    #[test]
    fn long_sections_are_cut_between_rows_with_a_notice() {
        let text = plan(&plan_of(500), 2_000);
        assert!(text.contains("_Truncated: "), "{text}");
        for line in text.lines().filter(|l| l.starts_with("| ~")) {
            assert!(line.ends_with(" |"), "a cut row: {line}");
        }
        let section_start = text.find("<details>").unwrap();
        let section_end = text.find("_Truncated").unwrap();
        assert!(section_end - section_start <= 2_000);
    }
}
