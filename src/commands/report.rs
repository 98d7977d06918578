//! `appform report FILE...`: several JSON plans (the shards of a fleet, say)
//! merged into one text, JSON or markdown report.

use super::session::read_plan;
use super::{EXIT_ERROR, Output};
use crate::cli::{FailOn, Format, ReportArgs};
use crate::ops::plan::exit_code;
use crate::plan;
use crate::render;

pub fn run(args: &ReportArgs, out: Output) -> u8 {
    let mut plans = Vec::new();
    for file in &args.files {
        match read_plan(file) {
            Ok(p) => plans.push(p),
            Err(e) => return out.fail(&e),
        }
    }
    let merged = match plan::merge(plans) {
        Ok(p) => p,
        Err(e) => return out.fail(&e),
    };
    if args.fail_on == Some(FailOn::Drift) && merged.baseline.is_none() {
        return out.fail(
            "--fail-on drift needs plans made with --baseline REF (all against the same REF): without it, drift cannot be told from pending changes",
        );
    }
    match args.format {
        Format::Text => print!("{}", render::text::plan(out.stdout_style(), &merged)),
        Format::Json => print!("{}", render::json::plan(&merged)),
        Format::Markdown => print!("{}", render::markdown::plan(&merged, args.max_bytes)),
    }
    let code = exit_code(
        &merged,
        super::exit_rule(args.fail_on, args.detailed_exitcode),
    );
    if code == EXIT_ERROR {
        out.error_text("some servers could not be planned (see their errors above)");
    }
    code
}
