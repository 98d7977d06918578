//! The Terraform-style text plan (docs/reference.md §2.5) and apply report. Colour only when
//! asked (TTY, no `--no-color`, no `NO_COLOR`); the words are the same either way.

use std::fmt::Write;

use serde_json::Value;

use crate::plan::baseline::Origin;
use crate::plan::{Action, Change, FieldDiff, Plan, Reason, ServerPlan};
use crate::redact::printable;
use crate::semantics::{self, UpdateStyle};

/// ANSI styling that can be switched off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn green(&self, t: &str) -> String {
        self.paint("32", t)
    }
    pub fn yellow(&self, t: &str) -> String {
        self.paint("33", t)
    }
    pub fn red(&self, t: &str) -> String {
        self.paint("31", t)
    }
    pub fn magenta(&self, t: &str) -> String {
        self.paint("35", t)
    }
    pub fn bold(&self, t: &str) -> String {
        self.paint("1", t)
    }
}

fn symbol(style: Style, action: Action) -> String {
    match action {
        Action::Create => style.green("+"),
        Action::Update => style.yellow("~"),
        Action::Replace => style.magenta("-/+"),
        Action::Delete => style.red("-"),
    }
}

fn symbol_width(action: Action) -> usize {
    match action {
        Action::Replace => 3,
        _ => 1,
    }
}

/// A value as the plan shows it: JSON, or `(sensitive)`.
fn show(value: &Value, sensitive: bool) -> String {
    // An absent value hides nothing: `(sensitive) -> null` says it goes.
    match value {
        Value::Null => "null".into(),
        // The mask says what it hides (`(sensitive: not declared, 31 characters)`).
        Value::String(mask) if sensitive && mask.starts_with("(sensitive") => mask.clone(),
        _ if sensitive => "(sensitive)".into(),
        _ => printable(&value.to_string()),
    }
}

/// Like [`show`], with durations in seconds also written as `90d`.
fn show_field(field: &str, value: &Value, sensitive: bool) -> String {
    match (field.ends_with("_validity"), value.as_u64()) {
        (true, Some(secs)) if !sensitive => {
            format!("{secs} ({})", crate::duration::format_duration(secs))
        }
        _ => show(value, sensitive),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("{n} {one}")
    } else {
        format!("{n} {many}")
    }
}

fn headline<Op>(server: &ServerPlan<Op>, change: &Change<Op>) -> String {
    match (change.action, change.reason) {
        (Action::Create, _) => "will be created".into(),
        (Action::Update, _) if server.update_style == UpdateStyle::FullReplace => {
            let changed = change.changed_fields().count();
            let carried = change.fields.len() - changed;
            format!(
                "will be updated (full replace: {} of {} change{}, {carried} carried over)",
                changed,
                plural(change.fields.len(), "field", "fields"),
                if changed == 1 { "s" } else { "" }
            )
        }
        (Action::Update, _) => format!(
            "will be updated (PATCH {})",
            plural(change.changed_fields().count(), "field", "fields")
        ),
        (Action::Replace, _) => match change.rotation.as_ref() {
            Some(r) => match &r.overlap_until {
                Some(until) => {
                    format!("will be rotated (new client id; the old one works until {until})")
                }
                None => "will be rotated (new client id; the old one is deleted)".into(),
            },
            None => semantics::of(server.kind).replace_words().into(),
        },
        (Action::Delete, Reason::Pruned) => "will be deleted (prune: not in config)".into(),
        (Action::Delete, Reason::ForcesReplacement) if change.overlapping_rotation() => {
            "will be deleted (the retiring copy of a rotation)".into()
        }
        (Action::Delete, Reason::ForcesReplacement) => {
            "will be deleted (the old copy of a replacement)".into()
        }
        (Action::Delete, _) => "will be deleted (ensure: absent)".into(),
    }
}

/// Multi-line text or nested values: a line diff with `similar`.
fn needs_line_diff(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\n'),
        Value::Object(_) => true,
        Value::Array(items) => items.iter().any(|i| i.is_object() || i.is_array()),
        _ => false,
    }
}

fn pretty(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

/// `--baseline`: the words after a change's headline.
fn origin_tag<Op>(style: Style, change: &Change<Op>) -> String {
    match change.origin {
        Some(Origin::Drift) => format!("  {}", style.red("[drift: changed on the server]")),
        Some(Origin::Pending) => "  [pending: changed in the config]".to_string(),
        None => String::new(),
    }
}

/// A change with both drifted and pending fields marks the drifted ones.
fn mixed_origins<Op>(change: &Change<Op>) -> bool {
    let mut origins = change.changed_fields().filter_map(|f| f.origin);
    let first = origins.next();
    origins.any(|o| Some(o) != first)
}

fn field_lines<Op>(
    style: Style,
    out: &mut String,
    change: &Change<Op>,
    f: &FieldDiff,
    width: usize,
) {
    let indent = "      ";
    let name = format!("{:<width$}", f.field);
    let mark = match change.action {
        Action::Create => style.green("+"),
        Action::Delete => style.red("-"),
        _ => style.yellow("~"),
    };
    let mut forces = if f.forces_replacement {
        format!("   {}", style.magenta("# forces replacement"))
    } else {
        String::new()
    };
    if f.origin == Some(Origin::Drift) && mixed_origins(change) {
        forces.push_str(&format!("   {}", style.red("# drift")));
    }
    if change.action == Action::Create || f.before.is_null() {
        let _ = writeln!(
            out,
            "{indent}{mark} {name} = {}{forces}",
            show_field(&f.field, &f.after, f.sensitive)
        );
        return;
    }
    if !f.sensitive && (needs_line_diff(&f.before) || needs_line_diff(&f.after)) {
        let _ = writeln!(out, "{indent}{mark} {name} ={forces}");
        let before = pretty(&f.before);
        let after = pretty(&f.after);
        let diff = similar::TextDiff::from_lines(&before, &after);
        for op in diff.iter_all_changes() {
            let line = printable(op.value().trim_end_matches('\n'));
            let text = match op.tag() {
                similar::ChangeTag::Delete => style.red(&format!("- {line}")),
                similar::ChangeTag::Insert => style.green(&format!("+ {line}")),
                similar::ChangeTag::Equal => format!("  {line}"),
            };
            let _ = writeln!(out, "{indent}      {text}");
        }
        return;
    }
    if let (false, Value::Array(b), Value::Array(a)) = (f.sensitive, &f.before, &f.after) {
        let (added, removed) = super::list_changes(b, a);
        let added: Vec<String> = added.iter().map(|v| printable(&v.to_string())).collect();
        let removed: Vec<String> = removed.iter().map(|v| printable(&v.to_string())).collect();
        let pad = " ".repeat(indent.len() + 2 + width + 3);
        let mut first = true;
        for (sign, item) in added
            .iter()
            .map(|i| (style.green("+"), i))
            .chain(removed.iter().map(|i| (style.red("-"), i)))
        {
            if first {
                let _ = writeln!(out, "{indent}{mark} {name} = {sign} {item}{forces}");
                first = false;
            } else {
                let _ = writeln!(out, "{pad}{sign} {item}");
            }
        }
        if !first {
            return;
        }
    }
    let _ = writeln!(
        out,
        "{indent}{mark} {name} = {} -> {}{forces}",
        show_field(&f.field, &f.before, f.sensitive),
        show_field(&f.field, &f.after, f.sensitive)
    );
}

/// One server instance's section (empty when there is nothing to say).
pub fn server_section<Op>(style: Style, sp: &ServerPlan<Op>) -> String {
    let mut out = String::new();
    if sp.changes.is_empty() && sp.unmanaged.is_empty() && sp.error.is_none() {
        return out;
    }
    let style_words = sp.update_style.describe();
    let plan_only = if sp.apply {
        ""
    } else {
        ", apply: false (plan only)"
    };
    let _ = writeln!(
        out,
        "{} ({}, {}, {style_words}{plan_only})",
        style.bold(&sp.server),
        sp.kind,
        sp.url
    );
    if let Some(e) = &sp.error {
        let _ = writeln!(out, "  {} {}", style.red("error:"), printable(e));
    }
    for change in &sp.changes {
        // Live names come from the server: never raw control characters.
        let label = printable(&change.label());
        let head = format!("{} {label}", symbol(style, change.action));
        let visible = symbol_width(change.action) + 1 + label.chars().count();
        let pad = " ".repeat(26usize.saturating_sub(visible).max(1));
        let _ = writeln!(
            out,
            "  {head}{pad}{}{}",
            headline(sp, change),
            origin_tag(style, change)
        );
        let shown: Vec<&FieldDiff> = change.changed_fields().collect();
        let width = shown
            .iter()
            .map(|f| f.field.chars().count())
            .max()
            .unwrap_or(0);
        for f in shown {
            field_lines(style, &mut out, change, f, width);
        }
        if (change.action == Action::Create || change.action == Action::Replace)
            && let Some(note) = semantics::of(sp.kind).generated_on_create(change.yields_secret)
        {
            let _ = writeln!(out, "        {note}");
        }
        if change.in_use.is_some() {
            let _ = writeln!(
                out,
                "        {}",
                style.red(&printable(&super::in_use_words(change)))
            );
        }
        for note in &change.notes {
            let _ = writeln!(out, "        note: {}", printable(note));
        }
    }
    if !sp.unmanaged.is_empty() {
        let n = sp.unmanaged.len();
        let labels = if sp.unmanaged_labels.len() == n {
            &sp.unmanaged_labels
        } else {
            &sp.unmanaged
        };
        let names: Vec<String> = labels.iter().take(10).map(|l| printable(l)).collect();
        let more = if n > 10 {
            format!(", and {} more", n - 10)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "  {} not in config ({}): {}{more}",
            plural(n, "unmanaged application", "unmanaged applications"),
            if sp.prune {
                "protected from prune"
            } else {
                "prune is off"
            },
            names.join(", ")
        );
    }
    if sp.managed_only && !sp.changes.is_empty() {
        let _ = writeln!(
            out,
            "  applications not in config: not counted (`listing: managed` reads only those it names)"
        );
    }
    out
}

/// The whole text plan.
pub fn plan<Op>(style: Style, plan: &Plan<Op>) -> String {
    plan_with(style, plan, false)
}

/// The line that says a plan is partial (`--app`), or `None`.
pub fn partial_note(only_apps: &[String]) -> Option<String> {
    if only_apps.is_empty() {
        return None;
    }
    let globs: Vec<String> = only_apps.iter().map(|g| format!("`{g}`")).collect();
    Some(format!(
        "Partial plan: only the applications matching {} (--app); the others are neither shown nor changed.",
        globs.join(", ")
    ))
}

/// `--baseline`: the revision and the origin counts, or `None`.
pub fn baseline_line<Op>(plan: &Plan<Op>) -> Option<String> {
    let b = plan.baseline.as_ref()?;
    let short: String = b.commit.chars().take(12).collect();
    Some(format!(
        "Compared with the baseline `{}` ({short}): {} pending (changed in the config), {} drift (changed on the servers).",
        printable(&b.reference),
        plan.summary.pending.unwrap_or(0),
        plan.summary.drift.unwrap_or(0)
    ))
}

/// The text plan; `forced`: apply runs with `--force`, so a blocked plan is
/// said to be overridden.
pub fn plan_with<Op>(style: Style, plan: &Plan<Op>, forced: bool) -> String {
    let mut out = String::new();
    for sp in &plan.servers {
        let section = server_section(style, sp);
        if !section.is_empty() {
            out.push_str(&section);
            out.push('\n');
        }
    }
    let s = &plan.summary;
    let failed = plan.servers.iter().filter(|sp| sp.error.is_some()).count();
    if s.changes() == 0 {
        if failed == 0 {
            out.push_str("No changes. All servers match the configuration.\n");
        } else {
            let _ = writeln!(
                out,
                "No changes on the servers that could be planned; {} could not be planned.",
                plural(failed, "server", "servers")
            );
        }
    } else {
        let _ = writeln!(
            out,
            "Plan: {} to create, {} to update, {} to replace, {} to delete. {} unchanged, {} unmanaged{}.",
            s.create,
            s.update,
            s.replace,
            s.delete,
            s.noop,
            s.unmanaged,
            super::unmanaged_unknown(s)
        );
        if failed > 0 {
            let _ = writeln!(
                out,
                "{} could not be planned.",
                plural(failed, "server", "servers")
            );
        }
    }
    if let Some(note) = partial_note(&plan.only_apps) {
        let _ = writeln!(out, "{note}");
    }
    if let Some(line) = baseline_line(plan) {
        let _ = writeln!(out, "{line}");
    }
    if plan.servers.len() > 1 {
        let i = crate::plan::instance_counts(&plan.servers);
        let _ = writeln!(
            out,
            "Instances: {} in sync, {} with changes, {} failed.",
            i.in_sync, i.drifted, i.failed
        );
    }
    let due = super::rotation_lines(plan);
    if !due.is_empty() {
        let _ = writeln!(out, "\nRotation due:");
        for line in due {
            let _ = writeln!(out, "  - {}", printable(&line));
        }
    }
    let retiring = super::retiring_lines(plan);
    if !retiring.is_empty() {
        let _ = writeln!(out, "\nRetiring after rotation:");
        for line in retiring {
            let _ = writeln!(out, "  - {}", printable(&line));
        }
    }
    if !plan.blocked.is_empty() {
        let head = if forced {
            "Blocked by policy — overridden by --force:"
        } else {
            "Blocked by policy:"
        };
        let _ = writeln!(out, "\n{}", style.red(head));
        for rule in &plan.blocked {
            let _ = writeln!(out, "  - {rule}");
        }
    }
    out
}

#[cfg(test)]
mod tests;
