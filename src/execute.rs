//! Carrying out a plan on one server instance: phases in a fixed order
//! (creates, updates, replaces, deletes; SPEC §3.2), each sorted by app, up to
//! `max_in_flight` writes at a time within a phase. A failed change does not
//! stop the others; an authentication failure stops that server only.

use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::stream::{self, StreamExt};

use crate::plan::{Action, Change, ServerPlan};
use crate::provider::{Client, Created, WriteError};

#[derive(Debug, Clone)]
pub enum Outcome {
    Done(Option<Created>),
    Failed(WriteError),
    NotAttempted(String),
}

#[derive(Debug, Clone)]
pub struct ChangeOutcome {
    pub server: String,
    pub app: String,
    pub action: Action,
    pub outcome: Outcome,
}

/// Set by Ctrl-C during apply: writes in flight finish, no new write starts.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Called right after a create returned, before anything else runs: the place
/// to save a secret shown once. An error marks the change failed.
pub type OnCreated<'a> = dyn Fn(&str, &str, &Created) -> Result<(), String> + Sync + 'a;

async fn run_change(
    client: &Client,
    server: &str,
    change: &Change,
    on_created: &OnCreated<'_>,
) -> ChangeOutcome {
    if interrupted() {
        return ChangeOutcome {
            server: server.to_string(),
            app: change.app.clone(),
            action: change.action,
            outcome: Outcome::NotAttempted("interrupted (Ctrl-C)".into()),
        };
    }
    let outcome = match &change.operation {
        None => {
            Outcome::NotAttempted("nothing to do (plan read from a file without operations)".into())
        }
        Some(_) => match client.execute(change).await {
            Ok(Some(created)) => match on_created(server, &change.app, &created) {
                Ok(()) => Outcome::Done(Some(created)),
                Err(e) => Outcome::Failed(WriteError::new(format!(
                    "the application was created, but its client secret could not be saved: {e}"
                ))),
            },
            Ok(None) => Outcome::Done(None),
            Err(e) => Outcome::Failed(e),
        },
    };
    ChangeOutcome {
        server: server.to_string(),
        app: change.app.clone(),
        action: change.action,
        outcome,
    }
}

/// Applies one instance's changes.
pub async fn run_server(
    client: &Client,
    plan: &ServerPlan,
    max_in_flight: usize,
    on_created: &OnCreated<'_>,
) -> Vec<ChangeOutcome> {
    let mut out = Vec::new();
    let mut stop: Option<String> = None;
    for action in [
        Action::Create,
        Action::Update,
        Action::Replace,
        Action::Delete,
    ] {
        let mut phase: Vec<&Change> = plan.changes.iter().filter(|c| c.action == action).collect();
        phase.sort_by(|a, b| a.app.cmp(&b.app));
        if let Some(why) = &stop {
            out.extend(phase.iter().map(|c| ChangeOutcome {
                server: plan.server.clone(),
                app: c.app.clone(),
                action: c.action,
                outcome: Outcome::NotAttempted(why.clone()),
            }));
            continue;
        }
        let mut results: Vec<ChangeOutcome> = stream::iter(phase)
            .map(|c| run_change(client, &plan.server, c, on_created))
            .buffer_unordered(max_in_flight.max(1))
            .collect()
            .await;
        results.sort_by(|a, b| a.app.cmp(&b.app));
        if results
            .iter()
            .any(|r| matches!(&r.outcome, Outcome::Failed(e) if e.is_auth()))
        {
            stop = Some("authentication failed on this server".into());
        }
        out.extend(results);
    }
    out
}
