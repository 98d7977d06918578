//! `appform export --server NAME`: write a server's live applications as config
//! YAML, credentials as the same references, secrets never.

use super::session::load_config;
use super::{EXIT_ERROR, EXIT_OK, Output};
use crate::cli::ExportArgs;
use crate::ops::{self, Reach};

pub fn run(args: &ExportArgs, out: Output) -> u8 {
    let loaded = match args.url {
        Some(_) => config_from_flags(args, out),
        None => load_config(&args.config, out),
    };
    let Some(config) = loaded else {
        return EXIT_ERROR;
    };
    let reach = Reach {
        sandbox: args.sandbox,
        max_retries: args.max_retries,
        parallelism: 1,
    };
    let exported = match ops::export::target(&config, &args.server)
        .map_err(ops::Error::Selection)
        .and_then(|target| ops::export::run(target, &reach))
    {
        Ok(e) => e,
        Err(e) => return out.fail(&e),
    };
    exported.warnings.iter().for_each(|w| out.warn(w));
    match &args.output {
        None => print!("{}", exported.text),
        Some(path) => {
            // `--output appform/awx-prod.yaml` in a new repository: the
            // directory is made, as `--secrets-out` makes its own.
            let made = match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir),
                _ => Ok(()),
            };
            if let Err(e) = made.and_then(|()| std::fs::write(path, &exported.text)) {
                return out.fail(format!("cannot write `{}`: {e}", path.display()));
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
