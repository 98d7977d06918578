//! The client secrets a server shows once, around the writes: a journal mark
//! in the `--secrets-out` file before each create that yields one, the secret
//! (or its loss) after it, and the marks an earlier, killed run left behind.
//! Reads and writes the secrets file only through [`SecretsFile`].

use super::phases::{ChangeOutcome, Hooks, Outcome};
use crate::model::{Config, Ensure};
use crate::plan::{Action, Plan};
use crate::provider::{Created, Error, FailureKind, NewSecret};
use crate::secrets_file::SecretsFile;

/// What to do about a secret that is lost.
pub fn lost_secret_remedy(server: &str, app: &str) -> String {
    format!(
        "the server showed it only in that answer and never shows it again; to issue a new client id and secret, replace the application: `appform apply --replace '{server}/{app}' --allow-replace --secrets-out FILE`"
    )
}

/// Apply's secret handling around each write (`--secrets-out`, or
/// `--discard-secrets`): the journal mark before a create, the secret or its
/// loss after it.
pub struct SecretKeeper<'a> {
    pub file: Option<&'a SecretsFile>,
    /// `--secrets-command CMD`: tried first; the file is then the fallback.
    pub command: Option<&'a str>,
    pub discard: bool,
}

/// What a pipe holds without a reader (Linux gives 64 KiB; POSIX promises
/// at least 4 KiB, `PIPE_BUF`): the document is far smaller.
const PIPE_ROOM: usize = 4096;

/// Runs `--secrets-command` with the secret as JSON on stdin (never in its
/// arguments or environment). `Err` says why it failed, with the secret
/// masked in whatever the command printed.
pub fn hand_to_command(
    command: &str,
    server: &str,
    app: &str,
    client_id: &str,
    secret: &crate::secret::Secret,
) -> Result<(), String> {
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};
    let document = serde_json::json!({
        "server": server,
        "app": app,
        "client_id": client_id,
        "client_secret": secret.expose(),
    })
    .to_string();
    // The command's stdin is a pipe appform keeps a reading end of: after
    // the command ends, whatever is still in it was never read. A command
    // that exits 0 without taking the secret has not stored it.
    let (reader, mut writer) =
        std::io::pipe().map_err(|e| format!("--secrets-command: cannot make a pipe: {e}"))?;
    let unread = reader
        .try_clone()
        .map_err(|e| format!("--secrets-command: cannot make a pipe: {e}"))?;
    if document.len() > PIPE_ROOM {
        return Err(format!(
            "--secrets-command: the secret's document is {} bytes, more than a pipe holds without a reader ({PIPE_ROOM})",
            document.len()
        ));
    }
    let child = Command::new("sh")
        .args(["-c", command])
        .stdin(Stdio::from(reader))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("--secrets-command could not be started: {e}"))?;
    // Fits in the pipe: never blocks, whether or not the command reads.
    let written = writer.write_all(document.as_bytes());
    drop(writer);
    let out = child
        .wait_with_output()
        .map_err(|e| format!("--secrets-command could not be waited for: {e}"))?;
    if let Err(e) = written {
        return Err(format!(
            "--secrets-command did not take the secret on its standard input ({e}): it was not stored"
        ));
    }
    let mut left = Vec::new();
    let mut unread = unread;
    if let Err(e) = unread.read_to_end(&mut left) {
        return Err(format!(
            "--secrets-command: cannot tell whether it read the secret ({e}): taken as not stored"
        ));
    }
    if !left.is_empty() {
        return Err(format!(
            "--secrets-command ended ({}) without reading the secret from its standard input ({} of {} bytes unread): it was not stored",
            out.status,
            left.len(),
            document.len()
        ));
    }
    if out.status.success() {
        return Ok(());
    }
    let said = String::from_utf8_lossy(&out.stderr).replace(secret.expose(), "(sensitive)");
    let said = said.trim();
    Err(format!(
        "--secrets-command failed ({}){}",
        out.status,
        if said.is_empty() {
            String::new()
        } else {
            format!(": {said}")
        }
    ))
}

impl Hooks for SecretKeeper<'_> {
    fn before_secret_create(&self, server: &str, app: &str) -> Result<(), Error> {
        match self.file {
            Some(f) => f.mark_pending(server, app).map_err(|e| {
                Error::new(
                    FailureKind::Local,
                    format!("not created: the secrets file cannot be written: {e}"),
                )
            }),
            None => Ok(()),
        }
    }

    fn created(&self, server: &str, app: &str, created: &Created) -> Result<(), Error> {
        let client_id = created.client_id.as_deref().unwrap_or("");
        match &created.secret {
            NewSecret::None => match self.file {
                // A mark left by a create that turned out to carry no secret.
                Some(f) => f
                    .clear_pending(server, app)
                    .map_err(|e| Error::new(FailureKind::Local, e.to_string())),
                None => Ok(()),
            },
            NewSecret::Captured(secret) => {
                let handed = self
                    .command
                    .map(|c| hand_to_command(c, server, app, client_id, secret));
                match (handed, self.file) {
                    (Some(Ok(())), Some(file)) => file
                        .clear_pending(server, app)
                        .map_err(|e| Error::new(FailureKind::Local, e.to_string())),
                    (Some(Ok(())), None) => Ok(()),
                    (Some(Err(why)), Some(file)) => {
                        let kept = file.record(server, app, client_id, secret);
                        Err(Error::new(
                            FailureKind::Local,
                            match kept {
                                Ok(()) => format!(
                                    "{why}; the client secret was written to `{}` instead",
                                    file.path().display()
                                ),
                                Err(e) => format!(
                                    "{why}, and the secrets file could not be written either ({e}): the client secret is lost; {}",
                                    lost_secret_remedy(server, app)
                                ),
                            },
                        ))
                    }
                    (Some(Err(why)), None) => Err(Error::new(
                        FailureKind::SecretLost,
                        format!(
                            "{why}, and there is no --secrets-out to fall back on: the client secret is lost; {}",
                            lost_secret_remedy(server, app)
                        ),
                    )),
                    (None, Some(file)) => file.record(server, app, client_id, secret).map_err(|e| {
                        Error::new(
                            FailureKind::Local,
                            format!(
                                "the application was created, but its client secret could not be saved: {e}"
                            ),
                        )
                    }),
                    (None, None) => Ok(()),
                }
            }
            // Nobody wanted it kept.
            NewSecret::Lost(_) if self.discard => Ok(()),
            NewSecret::Lost(how) => {
                let mut message = format!(
                    "its client secret is lost ({how}): {}",
                    lost_secret_remedy(server, app)
                );
                if let Some(file) = self.file
                    && let Err(e) = file.record_lost(server, app, client_id, how)
                {
                    message = format!(
                        "{message}; recording the loss in the secrets file failed too: {e}"
                    );
                }
                Err(Error::new(FailureKind::SecretLost, message))
            }
        }
    }

    fn create_refused(&self, server: &str, app: &str) -> Result<(), Error> {
        match self.file {
            Some(f) => f.clear_pending(server, app).map_err(|e| {
                Error::new(
                    FailureKind::Local,
                    format!(
                        "its journal mark could not be cleared from the secrets file ({e}); the next run clears it"
                    ),
                )
            }),
            None => Ok(()),
        }
    }
}

/// Creates an earlier run marked in the secrets file (`pending_create_since`)
/// and never finished, whose application exists now: that run was stopped
/// after the server acted and before the secret was saved, so the secret is
/// lost. Each is recorded as lost in the file and reported as a failure (once:
/// the record replaces the mark).
pub fn interrupted_creates(
    file: Option<&SecretsFile>,
    config: &Config,
    plan: &Plan,
) -> Vec<ChangeOutcome> {
    let Some(file) = file else {
        return Vec::new();
    };
    // `SecretsFile::check` read the file before anything was planned (apply
    // stops there when it cannot be read), and every mark is written by this
    // process through the same file; a read failing only now finds no marks
    // of this run to report, and the next run, reading it again, reports
    // the earlier ones.
    let Ok(pending) = file.pending() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (server, app) in pending {
        let Some(sp) = plan
            .servers
            .iter()
            .find(|sp| sp.server == server && sp.error.is_none())
        else {
            continue;
        };
        let still_to_create = sp
            .changes
            .iter()
            .any(|c| c.app == app && matches!(c.action, Action::Create | Action::Replace));
        let present_in_config = config.servers.iter().any(|s| {
            s.instances.iter().any(|i| i.name == server)
                && s.apps
                    .iter()
                    .any(|a| a.key == app && a.ensure == Ensure::Present)
        });
        if still_to_create || !present_in_config {
            continue;
        }
        let how = "an earlier run was stopped after it asked the server to create the application and before it saved the answer with the secret";
        let mut message = format!(
            "its client secret is lost ({how}): {}",
            lost_secret_remedy(&server, &app)
        );
        if let Err(e) = file.record_lost(&server, &app, "", how) {
            message = format!("{message}; recording the loss in the secrets file failed too: {e}");
        }
        out.push(ChangeOutcome {
            organization: sp
                .changes
                .iter()
                .find(|c| c.app == app)
                .and_then(|c| c.organization.clone()),
            server,
            app,
            action: Action::Create,
            outcome: Outcome::Incomplete(None, Error::new(FailureKind::SecretLost, message)),
        });
    }
    out
}
