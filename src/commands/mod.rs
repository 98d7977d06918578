//! One module per CLI verb. Each takes plain option structs and returns an exit
//! code; the work is done by `config`, `plan`, `provider` and `render`.

pub mod schema;
pub mod validate;

use std::process::ExitCode;

/// Exit codes (SPEC §4.2).
pub const EXIT_OK: u8 = 0;
pub const EXIT_ERROR: u8 = 1;

/// Output settings shared by the commands.
#[derive(Debug, Clone, Copy)]
pub struct Output {
    pub no_color: bool,
    pub quiet: bool,
}

impl Output {
    pub fn stderr_color(&self) -> bool {
        crate::render::use_color(self.no_color, crate::render::stderr_is_tty())
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

    /// Prints a warning on stderr unless `--quiet`.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            eprintln!("warning: {message}");
        }
    }
}

pub fn exit(code: u8) -> ExitCode {
    ExitCode::from(code)
}
