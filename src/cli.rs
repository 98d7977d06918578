//! Command-line types (clap derive) only; `commands/` does the work.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "appform",
    version,
    about = "Manage OAuth client / connected-application registrations (AWX, AAP gateway, Venafi TPP, cPanel WHM) as code",
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
    /// Never colour the output (the same as `--color never`).
    #[arg(long, global = true, help_heading = "Global options")]
    pub no_color: bool,
    /// Colour: `auto` on a terminal unless NO_COLOR is set, `always` (for CI
    /// logs that render ANSI colours), or `never`.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", help_heading = "Global options")]
    pub color: ColorChoice,
    /// Log the requests to servers on stderr (plan, apply, export): -v request
    /// lines, -vv request bodies, -vvv response bodies. Secrets are always redacted.
    #[arg(short, long, action = clap::ArgAction::Count, global = true, help_heading = "Global options")]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,
}

const PLAN_EXAMPLES: &str = "Examples:
  appform plan                                  # every server of ./appform (or .)
  appform plan -c appform/ --server 'awx-*' --app 'ci-*'
  appform plan --out plan.json --format markdown > comment.md   # a pull request
  appform plan --baseline appform-applied --fail-on drift        # the nightly drift alarm
  appform plan --sandbox                        # against the built-in simulators";

const APPLY_EXAMPLES: &str = "Examples:
  appform apply                                 # plan, ask, write, verify
  appform apply plan.json                       # exactly the reviewed plan, no prompt
  appform apply --auto-approve --secrets-out .appform/secrets.json
  appform apply --allow-replace --replace 'awx-prod/ci-*'   # new client credentials now
  appform apply --rotate --secrets-out .appform/secrets.json  # rotate what rotate_after says is due";

const EXPORT_EXAMPLES: &str = "Examples:
  appform export --server awx-prod > appform/awx-prod.yaml
  appform export --kind awx --url https://awx.example.com --token-env AWX_TOKEN \\
      --server awx-prod --output appform/awx-prod.yaml
  A value that looks like a secret is never written: it stays on the server, named on stderr.";

const SANDBOX_EXAMPLES: &str = "Examples:
  appform sandbox                               # prints the URLs and credentials to use
  appform sandbox -c examples/                  # the servers a config names, on loopback
  appform sandbox --state sandbox.json --latency 20ms --error-rate 0.05";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration without any network access; report every problem.
    Validate(ValidateArgs),
    /// Show, field by field, how the live servers differ from the configuration.
    #[command(after_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Make the servers match the configuration (or a saved plan), then verify.
    #[command(after_help = APPLY_EXAMPLES)]
    Apply(ApplyArgs),
    /// Merge JSON plans (for example the shards of a fleet) into one report.
    Report(ReportArgs),
    /// Write a server's live applications as config YAML (bootstrap from live).
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Print the JSON Schema (draft-07) of a config file.
    Schema,
    /// Run the built-in AWX, AAP gateway, TPP and WHM simulators on loopback until Ctrl-C.
    #[command(after_help = SANDBOX_EXAMPLES)]
    Sandbox(SandboxArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Examples:\n  appform completions bash > ~/.local/share/bash-completion/completions/appform\n  appform completions zsh > \"${fpath[1]}/_appform\"\n  appform completions fish > ~/.config/fish/completions/appform.fish"
    )]
    Completions(CompletionsArgs),
    /// Print the man page (roff), or write one page per command into a directory.
    #[command(
        after_help = "Examples:\n  appform man | man -l -\n  appform man --dir /usr/local/share/man/man1"
    )]
    Man(ManArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write appform.1 and appform-COMMAND.1 into this existing directory
    /// instead of printing appform.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `--kind` of `export`: the server kinds, as the command line spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KindArg {
    Awx,
    Gateway,
    Tpp,
    Whm,
}

impl From<KindArg> for crate::model::Kind {
    fn from(kind: KindArg) -> Self {
        match kind {
            KindArg::Awx => crate::model::Kind::Awx,
            KindArg::Gateway => crate::model::Kind::Gateway,
            KindArg::Tpp => crate::model::Kind::Tpp,
            KindArg::Whm => crate::model::Kind::Whm,
        }
    }
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `apply` and `validate` print text or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ApplyFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// A pull-request or issue comment (GitHub/GitLab markdown).
    Markdown,
}

/// Options shared by the commands that talk to servers.
#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Only these servers (repeatable; globs; matches server and instance names).
    #[arg(long = "server", value_name = "GLOB")]
    pub servers: Vec<String>,
    /// Only these applications (repeatable; globs on the config key, or the
    /// live name of an app the config does not name): a partial run.
    #[arg(long = "app", value_name = "GLOB")]
    pub apps: Vec<String>,
    /// Only the instances in shard I of N (a stable hash of the instance name);
    /// the N shards of a config are disjoint and together cover it.
    #[arg(long, value_name = "I/N", value_parser = parse_shard)]
    pub shard: Option<Shard>,
    /// Server instances worked on at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub parallelism: u16,
    /// Retries of a request that is safe to repeat.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub max_retries: u32,
    /// Run against the built-in simulators, started on the loopback URLs the
    /// selected servers name; their state is kept in `.appform/sandbox.json`.
    /// Credentials whose `env:` variable is unset get the sandbox's defaults.
    #[arg(long)]
    pub sandbox: bool,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub servers: ServerArgs,
    /// How to print the plan: text for a terminal, JSON for tools, markdown
    /// for a pull-request comment (`--max-bytes` per server).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the JSON plan to FILE, for `appform apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Exit 2 when there are changes (0: none, 1: error, 3: blocked).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// With --detailed-exitcode or --fail-on, accept a configuration that
    /// names no servers (otherwise exit 1: an empty check must not pass).
    #[arg(long)]
    pub allow_empty: bool,
    /// With `--format markdown`: the most bytes shown per server.
    #[arg(long, default_value_t = 60_000, value_name = "N")]
    pub max_bytes: usize,
    /// Treat every selected server as `authoritative: true` for this plan
    /// only: fields the config leaves out show their drift from the server's
    /// defaults (not with `--out`: apply would not do it).
    #[arg(long, conflicts_with = "out")]
    pub authoritative: bool,
    /// Write Prometheus metrics of this run to FILE (text exposition, for the
    /// node_exporter textfile collector or a Pushgateway).
    #[arg(long, value_name = "FILE")]
    pub metrics_out: Option<PathBuf>,
    /// Compare with the configuration at this git revision (the tag the apply
    /// job moves, or a pull request's target branch): each change is marked
    /// drift (made on the server) or pending (made in the config), and a
    /// server whose connection settings differ from REF is not contacted.
    #[arg(long, value_name = "REF")]
    pub baseline: Option<String>,
    /// Plan the rotations `apply --rotate` would make: of every application
    /// due (`rotate_after`), or of APP (`APP` or `SERVER/APP`, globs
    /// allowed; repeatable). With `--out`, `apply PLANFILE` carries them out.
    #[arg(
        long,
        value_name = "APP",
        num_args = 0..=1,
        default_missing_value = "",
        action = clap::ArgAction::Append,
        conflicts_with = "baseline"
    )]
    pub rotate: Vec<String>,
    /// Exit 2 only for these changes: `changes` (any, like
    /// --detailed-exitcode), `drift` (made on the servers; needs --baseline)
    /// or `rotation` (a confidential app older than its `rotate_after`).
    #[arg(
        long,
        value_enum,
        value_name = "WHAT",
        conflicts_with = "detailed_exitcode"
    )]
    pub fail_on: Option<FailOn>,
}

/// `plan --fail-on`, `report --fail-on`: which changes make the exit code 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Changes,
    Drift,
    /// A confidential application due for rotation (`rotate_after`).
    Rotation,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan written by `appform plan --out`: apply exactly it, without a prompt.
    #[arg(value_name = "PLANFILE")]
    pub planfile: Option<PathBuf>,
    #[command(flatten)]
    pub config: ConfigArg,
    #[command(flatten)]
    pub servers: ServerArgs,
    /// Do not ask for confirmation (needed without a terminal).
    #[arg(long)]
    pub auto_approve: bool,
    /// Apply a plan that breaks the safety policy.
    #[arg(long)]
    pub force: bool,
    /// Allow replacements (they hand out new client credentials).
    #[arg(long)]
    pub allow_replace: bool,
    /// Replace this application although nothing forces it, to rotate its
    /// client id and secret (AWX; needs --allow-replace). `APP` or
    /// `SERVER/APP`, globs allowed; repeatable.
    #[arg(long, value_name = "APP")]
    pub replace: Vec<String>,
    /// Rotate the client id and secret of every application due for
    /// rotation (`rotate_after`), or of APP (`APP` or `SERVER/APP`, globs
    /// allowed; repeatable): a replacement in which the old application
    /// keeps working for `rotation_overlap` under a reserved retiring name
    /// (AWX and gateway; the flag is the permission, no --allow-replace).
    #[arg(
        long,
        value_name = "APP",
        num_args = 0..=1,
        default_missing_value = "",
        action = clap::ArgAction::Append
    )]
    pub rotate: Vec<String>,
    /// Write client secrets shown once to FILE (mode 0600, merged).
    #[arg(long, value_name = "FILE", conflicts_with = "discard_secrets")]
    pub secrets_out: Option<PathBuf>,
    /// Encrypt the --secrets-out file with age to this recipient (an X25519
    /// public key, `age1…`; repeatable). The file must not exist yet.
    #[arg(long, value_name = "AGE_PUBLIC_KEY", requires = "secrets_out")]
    #[cfg_attr(not(feature = "age"), arg(hide = true))]
    pub secrets_recipient: Vec<String>,
    /// Encrypt the --secrets-out file with age to the recipients listed in
    /// FILE (one `age1…` key per line; `#` comments).
    #[arg(long, value_name = "FILE", requires = "secrets_out")]
    #[cfg_attr(not(feature = "age"), arg(hide = true))]
    pub secrets_recipients_file: Vec<PathBuf>,
    /// Hand each captured client secret to CMD (run by `sh -c`) as a JSON
    /// document on its stdin, never in its arguments or environment; if CMD
    /// fails, the secret goes to `--secrets-out` when given.
    #[arg(long, value_name = "CMD", conflicts_with = "discard_secrets")]
    pub secrets_command: Option<String>,
    /// Write Prometheus metrics of this run to FILE (text exposition).
    #[arg(long, value_name = "FILE")]
    pub metrics_out: Option<PathBuf>,
    /// Create confidential apps without keeping their secrets.
    #[arg(long)]
    pub discard_secrets: bool,
    /// How to print the apply report: text, or JSON (the report and the plan it carried out).
    #[arg(long, value_enum, default_value_t = ApplyFormat::Text)]
    pub format: ApplyFormat,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Serve the servers this config names instead (one simulator per
    /// loopback URL, accepting the config's credentials; unset `env:`
    /// references get the sandbox's).
    #[arg(short, long, value_name = "PATH", conflicts_with_all = ["awx_port", "gateway_port", "tpp_port", "whm_hosts", "whm_port"])]
    pub config: Option<PathBuf>,
    /// Port of the AWX simulator (0: any free port).
    #[arg(long, default_value_t = 8043)]
    pub awx_port: u16,
    /// Port of the AAP platform gateway simulator (0: any free port).
    #[arg(long, default_value_t = 8046)]
    pub gateway_port: u16,
    /// Port of the Venafi TPP simulator (0: any free port).
    #[arg(long, default_value_t = 8044)]
    pub tpp_port: u16,
    /// Number of simulated cPanel WHM hosts.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(0..=500))]
    pub whm_hosts: u16,
    /// Port of the first WHM host; the others follow (0: any free ports).
    #[arg(long, default_value_t = 8051)]
    pub whm_port: u16,
    /// Keep the simulators' state in FILE (loaded at start, saved at exit).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Delay before every response, e.g. `20ms`.
    #[arg(long, value_name = "DURATION")]
    pub latency: Option<String>,
    /// Share of requests answered 503 (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub error_rate: f64,
    /// Share of new connections reset (0 to 1).
    #[arg(long, default_value_t = 0.0)]
    pub reset_rate: f64,
    /// Share of requests carried out whose answer is then replaced by a 503
    /// (0 to 1), as a proxy that times out after the server acted.
    #[arg(long, default_value_t = 0.0)]
    pub lost_answer_rate: f64,
    /// Start with demo applications (when there is no saved state).
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct ConfigArg {
    /// A YAML file, or a directory searched recursively for *.yaml and *.yml
    /// (default: `appform/` if it exists, else `.` without the YAML files that
    /// are not appform's).
    #[arg(short, long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// Text for people (diagnostics on stderr), or one JSON object on
    /// stdout for tools: `valid`, the counts, `warnings` and every problem
    /// with its `code`, `file`, `line`, `column`, `message` and `help`.
    #[arg(long, value_enum, default_value_t = ApplyFormat::Text)]
    pub format: ApplyFormat,
}

/// `--shard I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

fn parse_shard(text: &str) -> Result<Shard, String> {
    let (i, n) = text
        .split_once('/')
        .ok_or_else(|| format!("`{text}` is not I/N (for example 2/5)"))?;
    let index: u32 = i
        .trim()
        .parse()
        .map_err(|_| format!("`{i}` is not a number"))?;
    let count: u32 = n
        .trim()
        .parse()
        .map_err(|_| format!("`{n}` is not a number"))?;
    if count == 0 || index == 0 || index > count {
        return Err(format!(
            "`{text}`: I must be between 1 and N, and N at least 1"
        ));
    }
    Ok(Shard { index, count })
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// JSON plans written by `appform plan --out` (or `--format json`).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// How to print the merged plan: text for a terminal, JSON for tools,
    /// markdown for a pull-request or issue comment.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// With `--format markdown`: the most bytes shown per server.
    #[arg(long, default_value_t = 60_000, value_name = "N")]
    pub max_bytes: usize,
    /// Exit 2 when the plans hold changes (0: none, 1: a server failed, 3: blocked).
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Exit 2 only for these changes: `changes` (any, like
    /// --detailed-exitcode), `drift` (made on the servers; the plans must
    /// have been made with --baseline) or `rotation` (an app due for rotation).
    #[arg(
        long,
        value_enum,
        value_name = "WHAT",
        conflicts_with = "detailed_exitcode"
    )]
    pub fail_on: Option<FailOn>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The server (or one instance, `<server>@<host[:port]>`) to export; with
    /// `--url`, the name the exported file gives the server.
    #[arg(long, value_name = "NAME")]
    pub server: String,
    #[command(flatten)]
    pub config: ConfigArg,
    /// Export a server that no config names (a first export): its kind...
    #[arg(long, value_enum, requires = "url", conflicts_with = "config")]
    pub kind: Option<KindArg>,
    /// ...and its URL; credentials from the `--*-env` options.
    #[arg(long, requires = "kind", value_name = "URL")]
    pub url: Option<String>,
    /// With `--url`: the environment variable holding the API token.
    #[arg(long, requires = "url", value_name = "VAR")]
    pub token_env: Option<String>,
    /// With `--url`: the user name (WHM token auth, Basic auth, TPP).
    #[arg(long, requires = "url", value_name = "USER")]
    pub username: Option<String>,
    /// With `--url`: the environment variable holding the password.
    #[arg(long, requires = "url", value_name = "VAR")]
    pub password_env: Option<String>,
    /// With `--url`, TPP password auth: the API integration's client id.
    #[arg(long, requires = "url", value_name = "ID")]
    pub client_id: Option<String>,
    /// With `--url`, TPP password auth: the scope to ask for (default `admin:delete`).
    #[arg(long, requires = "url", value_name = "SCOPE")]
    pub scope: Option<String>,
    /// With `--url`: a CA certificate file to trust besides the system roots.
    #[arg(long, requires = "url", value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Write the YAML to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Retries of a request that is safe to repeat.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub max_retries: u32,
    /// Export from the built-in simulators (see `plan --sandbox`).
    #[arg(long)]
    pub sandbox: bool,
}
