//! The `appform` binary: parse the command line, run the command, exit with its code.

use std::process::ExitCode;

use clap::Parser;

use appform::cli::{Cli, Command};
use appform::commands::{self, Output};

/// mimalloc: checking a large config and parsing server answers allocate
/// heavily; glibc's malloc/free was a third of a 10,000-app plan's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // Usage errors exit 1, not clap's 2: with `plan --detailed-exitcode`, 2
    // means "changes present", and a mistyped flag must never read as that.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 1,
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    appform::logging::set_level(cli.global.verbose);
    let color = if cli.global.no_color {
        appform::cli::ColorChoice::Never
    } else {
        cli.global.color
    };
    let out = Output {
        color,
        quiet: cli.global.quiet,
        json: false,
    };
    appform::progress::allow(!cli.global.quiet && cli.global.verbose == 0);
    let code = match &cli.command {
        Command::Validate(args) => commands::validate::run(args, out),
        Command::Plan(args) => commands::plan::run(args, out),
        Command::Apply(args) => commands::apply::run(args, out),
        Command::Report(args) => commands::report::run(args, out),
        Command::Export(args) => commands::export::run(args, out),
        Command::Schema => commands::schema::run(),
        Command::Sandbox(args) => commands::sandbox::run(args, out),
        Command::Completions(args) => commands::completions::completions(args),
        Command::Man(args) => commands::completions::man(args, out),
    };
    commands::exit(code)
}
