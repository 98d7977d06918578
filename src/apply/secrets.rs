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
    pub discard: bool,
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
                Some(f) => f.clear_pending(server, app).map_err(|e| {
                    Error::new(FailureKind::Local, e)
                }),
                None => Ok(()),
            },
            NewSecret::Captured(secret) => match self.file {
                Some(file) => file.record(server, app, client_id, secret).map_err(|e| {
                    Error::new(
                        FailureKind::Local,
                        format!(
                            "the application was created, but its client secret could not be saved: {e}"
                        ),
                    )
                }),
                None => Ok(()),
            },
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
                    message =
                        format!("{message}; recording the loss in the secrets file failed too: {e}");
                }
                Err(Error::new(FailureKind::SecretLost, message))
            }
        }
    }

    fn create_refused(&self, server: &str, app: &str) {
        if let Some(f) = self.file {
            let _ = f.clear_pending(server, app);
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
