//! `appform sandbox`: the built-in simulators in the foreground (AWX, TPP and
//! `--whm-hosts` WHM hosts, or with `-c` one per server URL a config names),
//! with their URLs and credentials printed, optional latency and faults, and
//! their state loaded from and saved to `--state FILE`.

use super::session::load_config;
use super::{EXIT_OK, Output, runtime};
use crate::cli::SandboxArgs;
use crate::ops;
use crate::sandbox::StateFile;
use crate::sandbox::fleet::Sandbox;

pub fn run(args: &SandboxArgs, out: Output) -> u8 {
    let asked = ops::sandbox::FaultOptions {
        latency: args.latency.as_deref(),
        error_rate: args.error_rate,
        reset_rate: args.reset_rate,
        lost_answer_rate: args.lost_answer_rate,
    };
    let faults = match ops::sandbox::faults(&asked) {
        Ok(f) => f,
        Err(e) => return out.fail(&e),
    };
    let from_config = args.config.is_some();
    let specs = match &args.config {
        Some(path) => {
            let arg = crate::cli::ConfigArg {
                config: Some(path.clone()),
            };
            let Some(config) = load_config(&arg, out) else {
                return crate::exit_code::EXIT_ERROR;
            };
            match ops::sandbox::specs_of_config(&config) {
                Ok(specs) => specs,
                Err(e) => return out.fail(&e),
            }
        }
        None => match ops::sandbox::default_specs(&ops::sandbox::Ports {
            awx: args.awx_port,
            gateway: args.gateway_port,
            tpp: args.tpp_port,
            whm: args.whm_port,
            whm_hosts: args.whm_hosts,
        }) {
            Ok(specs) => specs,
            Err(e) => return out.fail(&e),
        },
    };
    let state = match args.state.as_deref().map(StateFile::load).transpose() {
        Ok(state) => state,
        Err(e) => return out.fail(format!("--state: {e}")),
    };
    let sandbox = match Sandbox::start(specs, state, args.demo, faults) {
        Ok(sandbox) => sandbox,
        Err(e) => return out.fail(&e),
    };
    print_servers(&sandbox, from_config);
    let save_note = if args.state.is_some() {
        " and save the state"
    } else {
        ""
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return out.fail(&e),
    };
    rt.block_on(async {
        // The handlers first: a signal sent as soon as the line below is
        // read must stop the sandbox cleanly, not kill it.
        let stop = ops::sandbox::StopSignal::install();
        println!("Press Ctrl-C to stop{save_note}.");
        stop.wait().await;
    });
    if let Some(path) = sandbox.state_path().map(|p| p.display().to_string()) {
        if let Err(e) = sandbox.save() {
            return out.fail(format!("cannot save the state: {e}"));
        }
        out.info(&format!("State saved to {path}."));
    }
    EXIT_OK
}

/// One line per simulator, then how to log in: the sandbox's own
/// credentials, which a config's are added to (never printed).
fn print_servers(sandbox: &Sandbox, from_config: bool) {
    let mut kinds = Vec::new();
    for running in &sandbox.running {
        println!("{}", running.banner());
        let kind = running.sim.kind();
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    for kind in kinds {
        println!("  {}", crate::sandbox::fleet::default_login(kind));
    }
    if from_config {
        println!(
            "  and the config's own credentials (not printed; an `env:` reference that is not set gets the token `{}` or the password `{}`; a config that logs in as `admin` with another password replaces admin's).",
            crate::sandbox::from_config::SANDBOX_TOKEN,
            crate::sandbox::from_config::SANDBOX_PASSWORD
        );
    }
}
