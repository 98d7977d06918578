//! The `appform` binary: parse the command line, run the command, exit with its code.

use std::process::ExitCode;

use clap::Parser;

use appform::cli::{Cli, Command};
use appform::commands::{self, Output};

fn main() -> ExitCode {
    let cli = Cli::parse();
    appform::logging::set_level(cli.global.verbose);
    let out = Output {
        no_color: cli.global.no_color,
        quiet: cli.global.quiet,
    };
    let code = match &cli.command {
        Command::Validate(args) => commands::validate::run(args, out),
        Command::Plan(args) => commands::plan::run(args, out),
        Command::Apply(args) => commands::apply::run(args, out),
        Command::Report(args) => commands::report::run(args, out),
        Command::Export(args) => commands::export::run(args, out),
        Command::Schema => commands::schema::run(),
        Command::Sandbox(args) => commands::sandbox::run(args, out),
    };
    commands::exit(code)
}
