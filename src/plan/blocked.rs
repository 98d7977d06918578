//! Why a plan may not be applied without `--force`.
//!
//! In a plan's JSON a rule is its message (`"blocked": ["policy.max_deletes: …"]`,
//! docs/reference.md §2.6); in the code it keeps what it is, so that a
//! restricted plan recomputes the policy rules and keeps the `protect` ones
//! without comparing messages.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Blocked {
    /// A `policy.*` limit (`max_deletes`, `max_change_ratio`), computed from
    /// the plan's changes and recomputed whenever they change.
    Policy(String),
    /// A planned delete or replacement of an application that matches `protect`.
    Protected(String),
}

impl Blocked {
    pub fn is_policy(&self) -> bool {
        matches!(self, Blocked::Policy(_))
    }

    pub fn message(&self) -> &str {
        match self {
            Blocked::Policy(m) | Blocked::Protected(m) => m,
        }
    }
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl Serialize for Blocked {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.message())
    }
}

/// A plan file's rule: a policy message starts with the key it names
/// (`policy.max_deletes:`, `policy.max_change_ratio:`), a `protect` one with
/// a server name. What reads a plan file back (apply's gate, `report`,
/// merging shards) needs only the message and equality, so a server oddly
/// named `policy.max_deletes` changes nothing that decides.
impl<'de> Deserialize<'de> for Blocked {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let message = String::deserialize(deserializer)?;
        let policy = [
            "policy.max_deletes: ",
            "policy.max_change_ratio: ",
            "policy.delete_in_use: ",
        ];
        Ok(if policy.iter().any(|p| message.starts_with(p)) {
            Blocked::Policy(message)
        } else {
            Blocked::Protected(message)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_reads_back_as_the_kind_it_was_written_as() {
        for rule in [
            Blocked::Policy(
                "policy.max_deletes: 3 deletions and replacements planned, more than the 1 allowed"
                    .into(),
            ),
            Blocked::Protected("awx-prod: `ci-bot` must be replaced but matches `protect`".into()),
        ] {
            let json = serde_json::to_string(&rule).unwrap();
            assert_eq!(json, format!("\"{}\"", rule.message()));
            assert_eq!(serde_json::from_str::<Blocked>(&json).unwrap(), rule);
        }
    }
}
