//! Everything that formats for a terminal: diagnostics and colour decisions.
//! Nothing here decides what to do; it only shows what it is given.

pub mod apply;
pub mod diagnostic;
pub mod json;
pub mod markdown;
pub mod text;

use std::io::IsTerminal;

/// Colour only on a TTY, never with `--no-color` or a non-empty `NO_COLOR`.
pub fn use_color(no_color_flag: bool, stream_is_tty: bool) -> bool {
    let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    stream_is_tty && !no_color_flag && !no_color_env
}

/// Whether stderr is a terminal.
pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Whether stdout is a terminal.
pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}
