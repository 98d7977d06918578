//! The terminal the commands talk to beyond plain output: `apply`'s plan
//! display and its yes/no question (only on a terminal; `--auto-approve`
//! otherwise).

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
    fn confirm(&self) -> Result<(), String> {
        if self.args.auto_approve {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err("apply needs confirmation: there is no terminal to ask on, so pass --auto-approve (or apply a saved plan file)".into());
        }
        print!("\nDo you want to perform these actions? Only 'yes' will be accepted: ");
        let _ = std::io::stdout().flush();
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the answer: {e}"))?;
        match line.trim() {
            "yes" => Ok(()),
            _ => Err("Apply cancelled.".into()),
        }
    }
}
