//! The terminal the commands talk to beyond plain output: `apply`'s plan
//! display, its yes/no question (only on a terminal; `--auto-approve`
//! otherwise), and the report of how it ended.

use std::io::{BufRead, IsTerminal, Write};

use super::Output;
use crate::apply;
use crate::cli::{ApplyArgs, ApplyFormat as Format};
use crate::plan::Plan;
use crate::render;

/// The terminal `apply` runs on: it shows the plan and asks.
pub struct ApplyTerminal<'a> {
    pub args: &'a ApplyArgs,
    pub out: Output,
}

impl apply::Ui for ApplyTerminal<'_> {
    fn show_plan(&self, plan: &Plan) {
        if self.args.format == Format::Text {
            let style = self.out.stdout_style();
            print!("{}", render::text::plan_with(style, plan, self.args.force));
        }
    }

    fn skipped(&self, server: &str) {
        self.out.info(&format!("{server}: skipped (apply: false)"));
    }

    /// A yes typed on a terminal, unless `--auto-approve`.
    fn confirm(&self) -> Result<(), apply::NotConfirmed> {
        if self.args.auto_approve {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(apply::NotConfirmed::NoTerminal);
        }
        print!("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(apply::NotConfirmed::Unreadable)?;
        match line.trim() {
            "yes" => Ok(()),
            _ => Err(apply::NotConfirmed::Cancelled),
        }
    }

    fn interrupt_notice(&self) -> fn() {
        || eprintln!("Interrupted: finishing the writes in flight, starting no new ones.")
    }
}

/// Prints how the apply ended; returns the exit code.
pub fn report(args: &ApplyArgs, out: Output, plan: &Plan, ending: apply::Ending) -> u8 {
    let (report, wrote) = match ending {
        apply::Ending::Failed { why, message } => {
            let kind = why.kind_name();
            if args.format == Format::Json {
                print!("{}", render::apply::json_stopped(plan, kind, &message));
            }
            return out.fail(&message);
        }
        apply::Ending::Refused(e) => {
            if args.format == Format::Json {
                print!(
                    "{}",
                    render::apply::json_stopped(plan, "policy", &e.to_string())
                );
            }
            return out.refuse(&e.to_string());
        }
        apply::Ending::NothingToWrite(r) => (r, false),
        apply::Ending::Wrote(r) => (r, true),
    };
    match (args.format, wrote) {
        (Format::Text, true) => {
            print!("{}", render::apply::text(&report));
            let secrets = render::apply::secrets_captured(&report);
            if let (Some(path), 1..) = (&args.secrets_out, secrets) {
                println!("{}", render::apply::secrets_kept_note(secrets, path));
            }
        }
        (Format::Json, true) => print!("{}", render::apply::json(plan, &report)),
        (Format::Text, false) => print!("{}", render::apply::text_without_writes(&report)),
        (Format::Json, false) => print!("{}", render::apply::json_without_writes(plan, &report)),
    }
    // Every failure also on stderr, where CI logs look (stdout holds the report).
    for r in report.results.iter().filter(|r| r.outcome.is_failure()) {
        out.error_text(&render::apply::describe(r));
    }
    for n in &report.verification.not_kept {
        out.error_text(&format!("verification failed: {n}"));
    }
    if wrote {
        report.exit_code()
    } else {
        report.exit_code_without_writes()
    }
}

/// `--color auto` colours only a TTY without `NO_COLOR`; `always`/`never` win (no-color.org).
pub(super) fn use_color(choice: crate::cli::ColorChoice, stream_is_tty: bool) -> bool {
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
