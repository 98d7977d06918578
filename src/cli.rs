//! Command-line types (clap derive) only; `commands/` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "appform",
    version,
    about = "Manage OAuth client / connected-application registrations (AWX, Venafi TPP, cPanel WHM) as code",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Never colour the output (the NO_COLOR environment variable does the same).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration without any network access; report every problem.
    Validate(ValidateArgs),
    /// Print the JSON Schema (draft-07) of a config file.
    Schema,
}

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// A YAML file, or a directory searched recursively for *.yaml and *.yml.
    #[arg(short, long, default_value = ".", value_name = "PATH")]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub config: ConfigArg,
}
