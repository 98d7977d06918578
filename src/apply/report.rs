//! What an apply did, as numbers and words: the tallies, the closing line
//! (docs/reference.md §3.3: never a success message after a failure) and the exit code
//! (docs/reference.md §4.2). Pure; `render::apply` prints it.

use super::phases::{ChangeOutcome, Outcome};
use super::verify::Verification;
use crate::exit_code::{EXIT_ERROR, EXIT_OK, EXIT_PARTIAL};
use crate::plan::Action;

/// A server instance that could not be read or planned, so nothing of it was
/// applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerFailure {
    pub server: String,
    /// `provider::Error::kind_name()` (`network`, `auth`, `tls`…), or `plan`
    /// for a config that cannot be planned against what the server holds.
    pub kind: &'static str,
    pub message: String,
}

/// The end of an apply that reached the servers.
#[derive(Debug, Clone)]
pub struct Report {
    /// Every change's outcome, in phase order per server.
    pub results: Vec<ChangeOutcome>,
    /// Servers whose state could not be read or planned.
    pub planned_failures: usize,
    /// The same servers, with why.
    pub server_failures: Vec<ServerFailure>,
    pub verification: Verification,
}

impl Report {
    pub fn succeeded(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Done(_)))
    }
    pub fn failed(&self) -> usize {
        self.count(Outcome::is_failure) + self.planned_failures
    }
    pub fn not_attempted(&self) -> usize {
        self.count(|o| matches!(o, Outcome::NotAttempted(_)))
    }
    pub fn incomplete(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Incomplete(..)))
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }

    pub fn done(&self, action: Action) -> usize {
        self.results
            .iter()
            .filter(|r| r.action == action && matches!(r.outcome, Outcome::Done(_)))
            .count()
    }

    /// `Apply complete: …` or `Apply failed: …`.
    pub fn closing(&self) -> String {
        let (failed, skipped) = (self.failed(), self.not_attempted());
        let not_kept = self.verification.not_kept.len();
        if failed == 0 && skipped == 0 && not_kept == 0 {
            format!(
                "Apply complete: {} created, {} updated, {} replaced, {} deleted.",
                self.done(Action::Create),
                self.done(Action::Update),
                self.done(Action::Replace),
                self.done(Action::Delete)
            )
        } else if failed == 0 && skipped == 0 {
            format!(
                "Apply failed: verification found {not_kept} value(s) the servers did not keep."
            )
        } else {
            let mut line = format!(
                "Apply failed: {} succeeded, {failed} failed, {skipped} not attempted.",
                self.succeeded()
            );
            if self.incomplete() > 0 {
                line.push_str(&format!(
                    " Of the failed, {} took effect but not completely (see above).",
                    self.incomplete()
                ));
            }
            line
        }
    }

    /// The exit code of an apply that had nothing to write: an error when a
    /// server could not be planned, partly failed when an earlier run's lost
    /// secret was found, else success.
    pub fn exit_code_without_writes(&self) -> u8 {
        match (self.planned_failures, self.results.is_empty()) {
            (0, true) => EXIT_OK,
            (0, false) => EXIT_PARTIAL,
            _ => EXIT_ERROR,
        }
    }

    /// Success, an error (nothing took effect, or verification failed), or partly failed.
    pub fn exit_code(&self) -> u8 {
        let took_effect = self.results.iter().any(|r| r.outcome.took_effect());
        let failures = self.failed() + self.not_attempted();
        if !self.verification.not_kept.is_empty() {
            EXIT_ERROR
        } else if failures > 0 && took_effect {
            EXIT_PARTIAL
        } else if failures > 0 {
            EXIT_ERROR
        } else {
            EXIT_OK
        }
    }
}
