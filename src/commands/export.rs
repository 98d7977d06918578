//! `appform export --server NAME`: write a server's live applications as config
//! YAML, credentials as the same references, secrets never.

use super::session::load_config;
use super::{EXIT_ERROR, EXIT_OK, Output, runtime};
use crate::cli::ExportArgs;
use crate::provider::{Client, ConnectOptions, RealSecrets, SecretSource};
use crate::targets::Target;

pub fn run(args: &ExportArgs, out: Output) -> u8 {
    let Some(config) = load_config(&args.config, out) else {
        return EXIT_ERROR;
    };
    let mut matches: Vec<Target<'_>> = Vec::new();
    for server in &config.servers {
        for instance in &server.instances {
            if server.name == args.server || instance.name == args.server {
                matches.push(Target { server, instance });
            }
        }
    }
    let target = match matches.as_slice() {
        [one] => *one,
        [] => {
            let known: Vec<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
            return out.fail(&format!(
                "no server `{}` in the configuration (servers: {})",
                args.server,
                known.join(", ")
            ));
        }
        many => {
            let names: Vec<&str> = many.iter().map(|t| t.instance.name.as_str()).collect();
            return out.fail(&format!(
                "server `{}` has {} instances; export one of them: --server {}",
                args.server,
                many.len(),
                names.join(" | --server ")
            ));
        }
    };
    let secrets: &dyn SecretSource = if args.sandbox {
        &crate::sandbox::from_config::SandboxSecrets
    } else {
        &RealSecrets
    };
    let sandbox = if args.sandbox {
        match super::session::start_for(&[target], secrets) {
            Ok(s) => Some(s),
            Err(e) => return out.fail(&e),
        }
    } else {
        None
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return out.fail(&e),
    };
    let live = rt.block_on(async {
        let client = Client::connect(
            target.server,
            target.instance,
            secrets,
            ConnectOptions {
                max_retries: args.max_retries,
            },
        )
        .await?;
        let live = client.fetch().await;
        if let Err(e) = client.close().await {
            out.warn(&format!("{}: {e}", target.instance.name));
        }
        live
    });
    drop(sandbox);
    let live = match live {
        Ok(l) => l,
        Err(e) => return out.fail(&e.message),
    };
    let exported = crate::export::document(target.server, target.instance, &live);
    for s in &exported.skipped {
        out.warn(&format!("not exported: {s}"));
    }
    let yaml = match crate::config::source::to_yaml(&exported.document) {
        Ok(y) => y,
        Err(e) => return out.fail(&e),
    };
    let text = format!(
        "# Exported by appform from {} ({}). Review it before committing.\n{yaml}",
        target.instance.url,
        match live.apps.len() - exported.skipped.len() {
            1 => "1 application".to_string(),
            n => format!("{n} applications"),
        }
    );
    match &args.output {
        None => print!("{text}"),
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                return out.fail(&format!("cannot write `{}`: {e}", path.display()));
            }
            out.info(&format!("Wrote {}.", path.display()));
        }
    }
    EXIT_OK
}
