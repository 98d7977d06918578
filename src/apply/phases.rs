//! The writes of one server instance: phases in a fixed order
//! (creates, updates, replaces, deletes; docs/reference.md §3.2), each sorted by app, up to
//! `max_in_flight` writes at a time within a phase. A failed change does not
//! stop the others; an authentication failure stops that server only.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_util::stream::{self, StreamExt};

use crate::plan::{Action, Change, ServerPlan};
use crate::provider::{Client, Created, Error};

#[derive(Debug, Clone)]
pub enum Outcome {
    Done(Option<Created>),
    /// The change took effect, but not completely: a client secret that was
    /// lost or could not be saved, a replaced app's old copy left behind.
    Incomplete(Option<Created>, Error),
    Failed(Error),
    NotAttempted(String),
}

impl Outcome {
    /// Whether the server changed (the change is verified afterwards).
    pub fn took_effect(&self) -> bool {
        matches!(self, Outcome::Done(_) | Outcome::Incomplete(..))
    }
    /// Whether the report counts it as a failure.
    pub fn is_failure(&self) -> bool {
        matches!(self, Outcome::Failed(_) | Outcome::Incomplete(..))
    }
    pub fn created(&self) -> Option<&Created> {
        match self {
            Outcome::Done(c) | Outcome::Incomplete(c, _) => c.as_ref(),
            _ => None,
        }
    }
    pub fn error(&self) -> Option<&Error> {
        match self {
            Outcome::Incomplete(_, e) | Outcome::Failed(e) => Some(e),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChangeOutcome {
    pub server: String,
    pub app: String,
    /// AWX: the organization, as the plan shows it.
    pub organization: Option<String>,
    pub action: Action,
    pub outcome: Outcome,
}

impl ChangeOutcome {
    /// The app as plans name it: `grafana (Engineering)` for AWX.
    pub fn label(&self) -> String {
        match &self.organization {
            Some(org) => format!("{} ({org})", self.app),
            None => self.app.clone(),
        }
    }
}

/// Set by Ctrl-C during apply: writes in flight finish, no new write starts.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

pub fn interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// What apply does around the writes: keep the secrets a server shows once.
pub trait Hooks: Sync {
    /// Right before a create whose answer carries a one-time secret (a
    /// journal mark, so that a run killed mid-create cannot lose it silently).
    /// An error stops that change before anything is sent.
    fn before_secret_create(&self, server: &str, app: &str) -> Result<(), Error>;
    /// Right after a create returned, before anything else runs: save a
    /// secret shown once, or record one that was lost. An error (for example
    /// "secret lost") makes the change incomplete.
    fn created(&self, server: &str, app: &str, created: &Created) -> Result<(), Error>;
    /// A create that carried a secret was refused: nothing was created.
    /// An error says the journal mark could not be cleared (harmless: the
    /// next run finds the app absent and clears it; it is reported).
    fn create_refused(&self, server: &str, app: &str) -> Result<(), Error>;
}

/// Why the rest of a server's changes are not attempted (set by the first
/// change that met an authentication failure or an unreachable host).
#[derive(Default)]
struct Stop(Mutex<Option<String>>);

impl Stop {
    fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|s| s.clone())
    }
    fn set(&self, why: String) {
        if let Ok(mut s) = self.0.lock()
            && s.is_none()
        {
            *s = Some(why);
        }
    }
}

async fn run_change(
    client: &Client,
    server: &str,
    change: &Change,
    hooks: &dyn Hooks,
    stop: &Stop,
) -> ChangeOutcome {
    let done = |outcome| ChangeOutcome {
        server: server.to_string(),
        app: change.app.clone(),
        organization: change.organization.clone(),
        action: change.action,
        outcome,
    };
    if interrupted() {
        return done(Outcome::NotAttempted("interrupted (Ctrl-C)".into()));
    }
    if let Some(why) = stop.get() {
        return done(Outcome::NotAttempted(why));
    }
    if change.yields_secret
        && let Err(e) = hooks.before_secret_create(server, &change.app)
    {
        return done(Outcome::Failed(e));
    }
    let outcome = match client.execute(change).await {
        Ok(applied) => {
            let saved = applied
                .created
                .as_ref()
                .map_or(Ok(()), |c| hooks.created(server, &change.app, c));
            match (saved, applied.leftover) {
                (Ok(()), None) => Outcome::Done(applied.created),
                (Err(e), _) => Outcome::Incomplete(applied.created, e),
                (Ok(()), Some(leftover)) => Outcome::Incomplete(applied.created, leftover),
            }
        }
        Err(mut e) => {
            if change.yields_secret
                && e.certainly_nothing_created()
                && let Err(mark) = hooks.create_refused(server, &change.app)
            {
                e.message = format!("{}; {}", e.message, mark.message);
            }
            if e.stops_server() {
                let why = if e.is_auth() {
                    "authentication failed on this server"
                } else {
                    "the server stopped answering"
                };
                stop.set(format!("{why} ({})", e.message));
            }
            Outcome::Failed(e)
        }
    };
    done(outcome)
}

/// Applies one instance's changes.
pub async fn run_server(
    client: &Client,
    plan: &ServerPlan,
    max_in_flight: usize,
    hooks: &dyn Hooks,
) -> Vec<ChangeOutcome> {
    let mut out = Vec::new();
    let stop = Stop::default();
    for action in [
        Action::Create,
        Action::Update,
        Action::Replace,
        Action::Delete,
    ] {
        let mut phase: Vec<&Change> = plan.changes.iter().filter(|c| c.action == action).collect();
        phase.sort_by(|a, b| a.app.cmp(&b.app).then(a.organization.cmp(&b.organization)));
        let mut results: Vec<ChangeOutcome> = stream::iter(phase)
            .map(|c| async {
                let outcome = run_change(client, &plan.server, c, hooks, &stop).await;
                crate::progress::step();
                outcome
            })
            .buffer_unordered(max_in_flight.max(1))
            .collect()
            .await;
        results.sort_by(|a, b| a.app.cmp(&b.app).then(a.organization.cmp(&b.organization)));
        out.extend(results);
    }
    out
}
