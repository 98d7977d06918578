//! `appform completions SHELL` and `appform man`: generated from the clap
//! definition itself, so they always match the command line.

use std::io::Write;

use clap::CommandFactory;

use super::{EXIT_OK, Output};
use crate::cli::{Cli, CompletionsArgs, ManArgs};

pub fn completions(args: &CompletionsArgs) -> u8 {
    let mut cmd = Cli::command();
    let mut stdout = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut cmd, "appform", &mut stdout);
    let _ = stdout.flush();
    EXIT_OK
}

pub fn man(args: &ManArgs, out: Output) -> u8 {
    let cmd = Cli::command();
    match &args.dir {
        None => {
            let mut page = Vec::new();
            if let Err(e) = clap_mangen::Man::new(cmd).render(&mut page) {
                return out.fail(format_args!("cannot render the man page: {e}"));
            }
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(&page);
            let _ = stdout.flush();
            EXIT_OK
        }
        Some(dir) => {
            if !dir.is_dir() {
                return out.fail(format_args!(
                    "--dir {}: not a directory (create it first)",
                    dir.display()
                ));
            }
            match clap_mangen::generate_to(cmd, dir) {
                Ok(()) => {
                    out.info(&format!(
                        "wrote appform.1 and one page per subcommand to {}",
                        dir.display()
                    ));
                    EXIT_OK
                }
                Err(e) => out.fail(format_args!(
                    "cannot write the man pages to {}: {e}",
                    dir.display()
                )),
            }
        }
    }
}
