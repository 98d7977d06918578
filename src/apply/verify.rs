//! Verification (docs/reference.md §3.4): after the writes, the touched servers are read
//! again and planned again; any change still wanted for an app that was
//! written is a value the server did not keep. Pure: the plan made from the
//! read-back and the outcomes in, the findings out.

use super::phases::{ChangeOutcome, Outcome};
use crate::plan::{Action, Plan};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verification {
    /// Values a server did not keep, or a server that wrote fine and then
    /// could not be read back: verification failed (exit 1).
    pub not_kept: Vec<String>,
    /// Servers that failed during the writes and cannot be read back either:
    /// already reported as failures, not counted again.
    pub unverified: Vec<String>,
}

/// Compares what the servers hold now (`after`) with what was written.
pub fn verify(after: &Plan, results: &[ChangeOutcome]) -> Verification {
    let written: Vec<(&str, &str)> = results
        .iter()
        .filter(|r| r.outcome.took_effect())
        .map(|r| (r.server.as_str(), r.app.as_str()))
        .collect();
    // A server that failed during the writes (it stopped answering, say) may
    // not be readable either: that is its failure, already reported, not a
    // value it did not keep.
    let failed_servers: Vec<&str> = results
        .iter()
        .filter(|r| r.outcome.is_failure() || matches!(r.outcome, Outcome::NotAttempted(_)))
        .map(|r| r.server.as_str())
        .collect();
    let mut v = Verification::default();
    for sp in &after.servers {
        if let Some(e) = &sp.error {
            let line = format!("{}: cannot be read back: {e}", sp.server);
            if failed_servers.contains(&sp.server.as_str()) {
                v.unverified.push(line);
            } else {
                v.not_kept.push(line);
            }
        }
        for c in &sp.changes {
            if !written.contains(&(sp.server.as_str(), c.app.as_str())) {
                continue;
            }
            if c.action == Action::Update || c.action == Action::Replace {
                for f in c.changed_fields() {
                    v.not_kept.push(format!(
                        "{}/{}: the server did not keep `{}` (sent {}, it has {})",
                        sp.server, c.app, f.field, f.after, f.before
                    ));
                }
            } else {
                v.not_kept.push(format!(
                    "{}/{}: still needs {:?} after apply",
                    sp.server, c.app, c.action
                ));
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Change, FieldDiff, Reason, ServerPlan, Summary};
    use crate::provider::{Error, FailureKind};
    use serde_json::json;

    fn server(name: &str, error: Option<&str>, changes: Vec<Change>) -> ServerPlan {
        ServerPlan {
            server: name.into(),
            kind: crate::model::Kind::Awx,
            url: "https://x".into(),
            update_style: crate::semantics::UpdateStyle::Partial,
            error: error.map(str::to_string),
            error_kind: None,
            unmanaged: vec![],
            unmanaged_labels: vec![],
            rotation_due: Vec::new(),
            retiring: Vec::new(),
            secrets_created: Vec::new(),
            managed_only: false,
            changes,
            noop: 0,
            live: 0,
            apply: true,
            prune: false,
        }
    }

    fn plan(servers: Vec<ServerPlan>) -> Plan {
        Plan {
            format_version: 1,
            appform_version: "0".into(),
            config_digest: "d".into(),
            servers,
            summary: Summary::default(),
            blocked: vec![],
            instances: Default::default(),
            only_apps: Vec::new(),
            config: None,
            baseline: None,
        }
    }

    fn update(app: &str) -> Change {
        Change {
            app: app.into(),
            action: Action::Update,
            reason: Reason::FieldsDiffer,
            before_fingerprint: None,
            fields: vec![FieldDiff {
                field: "description".into(),
                before: json!("old"),
                after: json!("new"),
                forces_replacement: false,
                carried: false,
                sensitive: false,
                origin: None,
            }],
            organization: None,
            origin: None,
            notes: vec![],
            operation: crate::plan::Operation::Update {
                id: "1".into(),
                fields: Default::default(),
            },
            yields_secret: false,
            in_use: None,
            rotation: None,
        }
    }

    fn outcome(server: &str, app: &str, outcome: Outcome) -> ChangeOutcome {
        ChangeOutcome {
            server: server.into(),
            app: app.into(),
            organization: None,
            action: Action::Update,
            outcome,
        }
    }

    #[test]
    fn a_value_still_to_change_after_it_was_written_was_not_kept() {
        let after = plan(vec![server("s", None, vec![update("a"), update("b")])]);
        let results = [
            outcome("s", "a", Outcome::Done(None)),
            outcome("s", "b", Outcome::NotAttempted("x".into())),
        ];
        let v = verify(&after, &results);
        assert_eq!(
            v.not_kept,
            ["s/a: the server did not keep `description` (sent \"new\", it has \"old\")"]
        );
    }

    #[test]
    fn an_unreadable_server_fails_verification_unless_it_already_failed() {
        let after = plan(vec![
            server("ok", Some("timed out"), vec![]),
            server("dead", Some("refused"), vec![]),
        ]);
        let results = [
            outcome("ok", "a", Outcome::Done(None)),
            outcome("dead", "a", Outcome::Done(None)),
            outcome(
                "dead",
                "b",
                Outcome::Failed(Error::new(FailureKind::Unreachable, "refused")),
            ),
        ];
        let v = verify(&after, &results);
        assert_eq!(v.not_kept, ["ok: cannot be read back: timed out"]);
        assert_eq!(v.unverified, ["dead: cannot be read back: refused"]);
    }
}
