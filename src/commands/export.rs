//! `appform export --server NAME`: write a server's live applications as config
//! YAML, credentials as the same references, secrets never.

use super::session::load_config;
use super::{EXIT_ERROR, EXIT_OK, Output, runtime};
use crate::cli::ExportArgs;
use crate::provider::{Client, ConnectOptions, RealSecrets, SecretSource};
use crate::targets::Target;

pub fn run(args: &ExportArgs, out: Output) -> u8 {
    let loaded = match args.url {
        Some(_) => config_from_flags(args, out),
        None => load_config(&args.config, out),
    };
    let Some(config) = loaded else {
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
    // Read with the server's read-only `auth.plan` when it has one; the
    // document keeps the config's own credential references.
    let mut reading = target.server.clone();
    if let Some(read_only) = reading.plan_auth.take() {
        reading.auth = read_only;
    }
    let live = rt.block_on(async {
        let client = Client::connect(
            &reading,
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
    for w in &exported.withheld {
        out.warn(&format!(
            "not exported: {w} looks like a secret (by its name or its value); it stays on the server, carried unchanged by every save, as long as the app is not `authoritative: true`; never commit its value"
        ));
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

/// `--kind K --url URL --server NAME` and the credential options as a one-server
/// configuration (references only: `env:VAR`), checked by the same rules as a
/// config file, so the export starts from nothing but a URL.
fn config_from_flags(args: &ExportArgs, out: Output) -> Option<crate::model::Config> {
    use serde_json::{Map, Value, json};
    let kind = crate::model::Kind::from(args.kind?);
    let mut auth = Map::new();
    let mut put = |key: &str, value: Option<String>| {
        if let Some(v) = value {
            auth.insert(key.into(), Value::String(v));
        }
    };
    put("client_id", args.client_id.clone());
    put("username", args.username.clone());
    put("token", args.token_env.as_ref().map(|v| format!("env:{v}")));
    put(
        "password",
        args.password_env.as_ref().map(|v| format!("env:{v}")),
    );
    put("scope", args.scope.clone());
    let mut server = Map::new();
    server.insert("url".into(), json!(args.url));
    server.insert("auth".into(), Value::Object(auth));
    if let Some(ca) = &args.ca_file {
        let absolute = std::path::absolute(ca).unwrap_or_else(|_| ca.clone());
        server.insert("ca_file".into(), json!(absolute.display().to_string()));
    }
    server.insert("applications".into(), json!({}));
    let doc = json!({"servers": {args.server.clone(): {kind.as_str(): server}}});
    let text = match crate::config::source::to_yaml(&doc) {
        Ok(t) => t,
        Err(e) => {
            out.error_text(&e);
            return None;
        }
    };
    let name = std::path::PathBuf::from("<export options>");
    super::session::reported(
        crate::config::load_files(std::path::Path::new(""), vec![(name, text.into_bytes())]),
        out,
    )
}
