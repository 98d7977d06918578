//! miette diagnostics rendered to text: the graphical report with labels under
//! the offending span, in colour or not.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};

/// Renders a diagnostic (with its related problems) as miette's graphical report.
pub fn render(diagnostic: &dyn Diagnostic, color: bool, width: usize) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(width)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        // Rendering into a String cannot fail on I/O; fall back to the message.
        out = format!("error: {diagnostic}\n");
    }
    out
}

/// The terminal width for diagnostics: `COLUMNS` when set, else 100.
pub fn width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|w: &usize| *w >= 40)
        .unwrap_or(100)
}

/// Configuration problems as a JSON list (JSON mode of `plan` and `apply`):
/// `code`, `message`, `help`, and where it is (`file`, 1-based `line` and
/// `column`; null when the problem has no place, like a missing directory).
pub fn json(errors: &crate::config::ConfigErrors) -> String {
    let list: Vec<serde_json::Value> = errors
        .problems
        .iter()
        .map(|p| {
            let (file, line, column) = match p.location() {
                Some((file, line, column)) => (Some(file), Some(line), Some(column)),
                None => (None, None, None),
            };
            serde_json::json!({
                "code": p.code.as_str(),
                "message": p.message,
                "help": p.help,
                "file": file,
                "line": line,
                "column": column,
            })
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&list).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}
