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
    // miette panics on a label past column 65,535 (and a line that long is
    // no use on a terminal): such problems are shown without their source
    // line, with where they are in words.
    let rendered = if too_wide(diagnostic) {
        let plain = WithoutSource::of(diagnostic);
        handler.render_report(&mut out, &plain)
    } else {
        handler.render_report(&mut out, diagnostic)
    };
    if rendered.is_err() {
        // Rendering into a String cannot fail on I/O; fall back to the message.
        out = format!("error: {diagnostic}\n");
    }
    out
}

/// Source lines longer than this are not quoted in a diagnostic.
const MAX_QUOTED_LINE: usize = 4_096;

/// Whether a diagnostic (or one related to it) points into a line too long
/// to quote.
fn too_wide(diagnostic: &dyn Diagnostic) -> bool {
    let labels_too_wide = match (diagnostic.source_code(), diagnostic.labels()) {
        (Some(source), Some(labels)) => labels.into_iter().any(|label| {
            source.read_span(label.inner(), 0, 0).map_or(true, |lines| {
                lines.column() > MAX_QUOTED_LINE || lines.data().len() > MAX_QUOTED_LINE
            })
        }),
        _ => false,
    };
    labels_too_wide || diagnostic.related().is_some_and(|mut r| r.any(too_wide))
}

/// A diagnostic shown without its source: the message with its place in
/// words (`at line 7, column 70012`), the code and help kept.
#[derive(Debug)]
struct WithoutSource<'a> {
    inner: &'a dyn Diagnostic,
    message: String,
    related: Vec<WithoutSource<'a>>,
}

impl<'a> WithoutSource<'a> {
    fn of(inner: &'a dyn Diagnostic) -> Self {
        let places: Vec<String> = match (inner.source_code(), inner.labels()) {
            (Some(source), Some(labels)) => labels
                .filter_map(|label| {
                    let lines = source.read_span(label.inner(), 0, 0).ok()?;
                    let name = lines.name().map(|n| format!("{n}: ")).unwrap_or_default();
                    Some(format!(
                        "{name}line {}, column {}",
                        lines.line() + 1,
                        lines.column() + 1
                    ))
                })
                .collect(),
            _ => Vec::new(),
        };
        let message = if places.is_empty() {
            inner.to_string()
        } else {
            format!(
                "{inner} (at {}; the line is too long to show)",
                places.join(", ")
            )
        };
        WithoutSource {
            inner,
            message,
            related: inner
                .related()
                .map(|r| r.map(WithoutSource::of).collect())
                .unwrap_or_default(),
        }
    }
}

impl std::fmt::Display for WithoutSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for WithoutSource<'_> {}

impl Diagnostic for WithoutSource<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.inner.severity()
    }
    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.inner.help()
    }
    fn related<'b>(&'b self) -> Option<Box<dyn Iterator<Item = &'b dyn Diagnostic> + 'b>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(self.related.iter().map(|d| d as &dyn Diagnostic)))
    }
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
