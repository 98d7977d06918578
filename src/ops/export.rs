//! `export`: one server instance's live applications as a config document
//! (YAML text), read with its read-only `auth.plan` credentials when it has
//! them. Plain options in, the text and what to say about it out.

use super::{Reach, session};
use crate::model::Config;
use crate::provider::{Client, ConnectOptions};
use crate::targets::Target;

/// What an export produced.
pub struct Exported {
    /// The config YAML, with a header comment.
    pub text: String,
    /// Applications left out, values withheld, tokens not revoked.
    pub warnings: Vec<String>,
}

/// The one instance `name` picks (a server of one instance, or an instance
/// name), or why not.
pub fn target<'a>(config: &'a Config, name: &str) -> Result<Target<'a>, String> {
    let matches: Vec<Target<'_>> = config
        .servers
        .iter()
        .flat_map(|server| {
            server
                .instances
                .iter()
                .filter(move |i| server.name == name || i.name == name)
                .map(move |instance| Target { server, instance })
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok(*one),
        [] => {
            let known: Vec<&str> = config.servers.iter().map(|s| s.name.as_str()).collect();
            Err(format!(
                "no server `{name}` in the configuration (servers: {})",
                known.join(", ")
            ))
        }
        many => {
            let names: Vec<&str> = many.iter().map(|t| t.instance.name.as_str()).collect();
            Err(format!(
                "server `{name}` has {} instances; export one of them: --server {}",
                many.len(),
                names.join(" | --server ")
            ))
        }
    }
}

/// Reads `target` and writes its applications as config YAML.
pub fn run(target: Target<'_>, reach: &Reach) -> Result<Exported, super::Error> {
    let secrets = session::secret_source(reach);
    let sandbox = match reach.sandbox {
        true => Some(session::start_for(&[target], secrets)?),
        false => None,
    };
    let runtime = session::runtime()?;
    // Read with the server's read-only `auth.plan` when it has one; the
    // document keeps the config's own credential references.
    let mut reading = target.server.clone();
    if let Some(read_only) = reading.plan_auth.take() {
        reading.auth = read_only;
    }
    let mut warnings = Vec::new();
    let live = runtime.block_on(async {
        let options = ConnectOptions {
            max_retries: reach.max_retries,
        };
        let client = Client::connect(&reading, target.instance, secrets, options).await?;
        let live = client.fetch().await;
        if let Err(e) = client.close().await {
            warnings.push(format!("{}: {e}", target.instance.name));
        }
        live
    });
    drop(sandbox);
    let live = live.map_err(|e| super::Error::Server(e.message))?;
    let exported = crate::export::document(target.server, target.instance, &live);
    warnings.extend(
        exported
            .skipped
            .iter()
            .map(|s| format!("not exported: {s}")),
    );
    warnings.extend(exported.withheld.iter().map(|w| {
        format!(
            "not exported: {w} looks like a secret (by its name or its value); it stays on the server, carried unchanged by every save, as long as the app is not `authoritative: true`; never commit its value"
        )
    }));
    let yaml = crate::config::source::to_yaml(&exported.document)?;
    let text = format!(
        "# Exported by appform from {} ({}). Review it before committing.\n{yaml}",
        target.instance.url,
        match live.apps.len() - exported.skipped.len() {
            1 => "1 application".to_string(),
            n => format!("{n} applications"),
        }
    );
    Ok(Exported { text, warnings })
}
