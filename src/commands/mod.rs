//! One module per CLI verb. Each takes plain option structs and returns an exit
//! code; the work is done by `config`, `plan`, `targets`, `provider`, `apply`,
//! `export` and `render`. Only here (and `main.rs`) is anything printed.

pub mod apply;
pub mod completions;
pub mod export;
pub mod plan;
pub mod report;
pub mod sandbox;
pub mod schema;
pub(crate) mod session;
mod terminal;
pub mod validate;

use std::process::ExitCode;

pub use crate::exit_code::{EXIT_BLOCKED, EXIT_CHANGES, EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};

/// Output settings shared by the commands.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub color: crate::cli::ColorChoice,
    /// The command prints JSON on stdout: config errors go there too, as a
    /// JSON list of diagnostics, and there is no progress.
    pub json: bool,
    pub quiet: bool,
}

impl Output {
    pub fn stderr_color(&self) -> bool {
        terminal::use_color(self.color, crate::render::stderr_is_tty())
    }

    pub fn stdout_style(&self) -> crate::render::text::Style {
        crate::render::text::Style {
            color: terminal::use_color(self.color, crate::render::stdout_is_tty()),
        }
    }

    /// Prints a diagnostic on stderr.
    pub fn error(&self, diagnostic: &dyn miette::Diagnostic) {
        let text = crate::render::diagnostic::render(
            diagnostic,
            self.stderr_color(),
            crate::render::diagnostic::width(),
        );
        eprint!("{text}");
    }

    /// A JSON-mode command's output settings.
    pub fn in_json(self, json: bool) -> Output {
        if json {
            crate::progress::allow(false);
        }
        Output { json, ..self }
    }

    /// Prints configuration errors on stderr, and in JSON mode also as a JSON
    /// list of diagnostics on stdout (docs/reference.md §7).
    pub fn config_errors(&self, errors: &crate::config::ConfigErrors) {
        self.error(errors);
        if self.json {
            print!("{}", crate::render::diagnostic::json(errors));
        }
    }

    /// Prints `error: message` on stderr.
    pub fn error_text(&self, message: &str) {
        let label = if self.stderr_color() {
            "\x1b[31merror:\x1b[0m"
        } else {
            "error:"
        };
        eprintln!("{label} {message}");
    }

    /// Prints the error and returns exit code 1.
    pub fn fail(&self, message: impl std::fmt::Display) -> u8 {
        self.error_text(&message.to_string());
        EXIT_ERROR
    }

    /// Prints why apply refuses and returns exit code 3.
    pub fn refuse(&self, message: &str) -> u8 {
        self.error_text(&format!("{message}. Nothing was written."));
        EXIT_BLOCKED
    }

    /// Prints a warning on stderr unless `--quiet`.
    pub fn warn(&self, message: impl std::fmt::Display) {
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }

    /// Prints a warning on stderr even with `--quiet`: weakened transport
    /// security must never go unnoticed.
    pub fn warn_always(&self, message: &str) {
        eprintln!("warning: {message}");
    }

    /// Prints a progress note on stderr unless `--quiet`.
    pub fn info(&self, message: &str) {
        if !self.quiet {
            eprintln!("{message}");
        }
    }
}

pub use crate::ops::session::runtime;

/// The warning for a configuration that names no server: a plan of it says
/// "No changes", which must not pass for a check of anything.
fn no_servers(config: &crate::model::Config) -> String {
    format!(
        "the configuration at `{}` names no servers ({} file{} read), so nothing is checked; files in subdirectories are read too (a ConfigMap made with `kubectl create configmap --from-file=DIR` leaves them out)",
        config.root.display(),
        config.sources.len(),
        if config.sources.len() == 1 { "" } else { "s" }
    )
}

/// `--fail-on`, or `--detailed-exitcode` (any change), as the exit-code rule.
fn exit_rule(
    fail_on: Option<crate::cli::FailOn>,
    detailed_exitcode: bool,
) -> Option<crate::ops::plan::FailOn> {
    use crate::cli::FailOn;
    match fail_on {
        Some(FailOn::Drift) => Some(crate::ops::plan::FailOn::Drift),
        Some(FailOn::Changes) => Some(crate::ops::plan::FailOn::Changes),
        Some(FailOn::Rotation) => Some(crate::ops::plan::FailOn::Rotation),
        None => detailed_exitcode.then_some(crate::ops::plan::FailOn::Changes),
    }
}

pub fn exit(code: u8) -> ExitCode {
    ExitCode::from(code)
}
