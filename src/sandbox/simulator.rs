//! What every simulator has in common: options to start from, a state that
//! `--state` files and `.appform/sandbox.json` persist, a request log for tests,
//! and a router to serve. Written once here; each simulator only says how to
//! reach its state and log under its lock.

use axum::Router;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::http::LoggedRequest;

pub trait Simulator: Clone + Send + Sync + Sized + 'static {
    /// Users, tokens and quirk settings the simulator starts with.
    type Options;
    /// Everything a state file keeps.
    type State: Serialize + DeserializeOwned;
    /// `AWX`, `TPP`, `WHM`: for messages.
    const NAME: &'static str;

    /// A fresh server.
    fn start(options: Self::Options) -> Self;
    /// The HTTP API.
    fn routes(&self) -> Router;
    /// Adds the demo applications the README's walkthrough shows.
    fn add_demo_apps(&self);
    /// Runs `f` on the state and the request log, under the simulator's lock.
    fn locked<R>(&self, f: impl FnOnce(&mut Self::State, &mut Vec<LoggedRequest>) -> R) -> R;

    /// A server restored from [`Simulator::state_json`].
    fn from_state(options: Self::Options, state: &Value) -> Result<Self, super::SandboxError> {
        let state: Self::State = serde_json::from_value(state.clone()).map_err(|source| {
            super::SandboxError::InvalidState {
                kind: Self::NAME,
                source,
            }
        })?;
        let sim = Self::start(options);
        sim.locked(|s, _| *s = state);
        Ok(sim)
    }

    /// The whole state, for state files and test assertions.
    fn state_json(&self) -> Value {
        self.locked(|s, _| serde_json::to_value(&*s).unwrap_or(Value::Null))
    }

    /// Every request received so far, oldest first.
    fn requests(&self) -> Vec<LoggedRequest> {
        self.locked(|_, log| log.clone())
    }

    fn clear_requests(&self) {
        self.locked(|_, log| log.clear());
    }
}
