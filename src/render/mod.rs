//! Everything that formats for a terminal: diagnostics and colour decisions.
//! Nothing here decides what to do; it only shows what it is given.

pub mod apply;
pub mod diagnostic;
pub mod json;
pub mod markdown;
pub mod text;

use std::io::IsTerminal;

/// `--color auto` colours only a TTY, and never with a non-empty `NO_COLOR`;
/// `always` and `never` win over both (no-color.org: a flag beats the variable).
pub fn use_color(choice: crate::cli::ColorChoice, stream_is_tty: bool) -> bool {
    use crate::cli::ColorChoice;
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
            stream_is_tty && !no_color_env
        }
    }
}

/// Whether stderr is a terminal.
pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Whether stdout is a terminal.
pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}
