//! The vocabulary of a plan (after Terraform's `plans/action.go`): one change per
//! application, the reason for it, and a field-by-field diff.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Create,
    Update,
    Replace,
    Delete,
}

impl Action {
    /// The order of apply phases (docs/reference.md §3.2).
    pub fn phase(self) -> u8 {
        match self {
            Action::Create => 0,
            Action::Update => 1,
            Action::Replace => 2,
            Action::Delete => 3,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    NotFound,
    FieldsDiffer,
    ForcesReplacement,
    EnsureAbsent,
    Pruned,
}

/// One field of a change. `before`/`after` are `null` when absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    pub field: String,
    pub before: Value,
    pub after: Value,
    pub forces_replacement: bool,
    /// Sent unchanged in a full-replace body (before == after).
    pub carried: bool,
    /// Rendered as "(sensitive)" everywhere.
    pub sensitive: bool,
    /// With `plan --baseline`: whether this field drifted on the server or
    /// changed in the config (an extension of docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<super::baseline::Origin>,
}

/// What apply must do on the server; not part of the JSON plan (apply plans again).
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Create {
        name: String,
        organization: Option<u64>,
        /// Every field to set, in config form.
        fields: BTreeMap<String, Value>,
    },
    Update {
        id: String,
        /// Partial: the changed fields; full replace: the whole object.
        fields: BTreeMap<String, Value>,
    },
    /// Create-before-destroy (AWX): the old app `id`, now named `live_name`,
    /// is moved aside, the new one created as `name`, then the old one deleted.
    Replace {
        id: String,
        live_name: String,
        name: String,
        organization: Option<u64>,
        /// The new app: live fields overlaid with the desired ones.
        fields: BTreeMap<String, Value>,
        /// `apply --rotate` with `rotation_overlap`: the old app is renamed
        /// to this retiring name (see [`crate::retiring`]) and kept, not
        /// deleted.
        retire: Option<String>,
    },
    Delete {
        id: String,
    },
}

/// What a change read from a plan file carries instead of an [`Operation`]:
/// nothing. A reviewed change is shown and compared with a fresh plan, never
/// carried out (apply plans again and executes the fresh plan's operations).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reviewed;

/// One application's change. `Op` is [`Operation`] in a plan made now (every
/// change says exactly what to do on the server) and [`Reviewed`] in a plan
/// read from a file.
impl Operation {
    /// The action this operation carries out.
    pub fn action(&self) -> Action {
        match self {
            Operation::Create { .. } => Action::Create,
            Operation::Update { .. } => Action::Update,
            Operation::Replace { .. } => Action::Replace,
            Operation::Delete { .. } => Action::Delete,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound(serialize = "", deserialize = "Op: Default"))]
pub struct Change<Op = Operation> {
    pub app: String,
    pub action: Action,
    pub reason: Reason,
    /// SHA-256 over the normalized live object (null for a create).
    pub before_fingerprint: Option<String>,
    pub fields: Vec<FieldDiff>,
    /// AWX: the application's organization, by name (an extension of docs/reference.md §2.6;
    /// the same name can exist in several organizations).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// What the reviewer must know beyond the fields (an extension of docs/reference.md §2.6):
    /// a same-named app in another organization, the leftover of an
    /// interrupted replacement.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// With `plan --baseline`: drift (changed on the server) or pending
    /// (changed in the config) (an extension of docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<super::baseline::Origin>,
    /// AWX and the gateway, a delete or a replacement: the app's OAuth2
    /// tokens that have not expired (an extension of docs/reference.md §2.6).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_use: Option<InUse>,
    /// A replacement asked for by `apply --rotate` (an extension of
    /// docs/reference.md §2.6): whether the old app is kept, and until when.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation: Option<Rotation>,
    #[serde(skip)]
    pub operation: Op,
    /// Whether the created app receives a client secret to capture (AWX confidential).
    #[serde(skip)]
    pub yields_secret: bool,
}

/// An application a delete or replacement would take away from its users:
/// the tokens issued for it that are still valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InUse {
    /// Tokens that have not expired (from the app's token list; the
    /// listing's count, expired ones included, when the list was not read).
    pub live_tokens: u64,
    /// The latest `expires` among them, when the token list was read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// When one of its tokens was last used, where the server records it
    /// (the gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used: Option<String>,
    /// Whether the reviewed configuration allows it (`allow_delete_in_use:
    /// true` on the app).
    #[serde(default)]
    pub allowed: bool,
}

/// A rotation (`apply --rotate`): a replacement that gives the app a new
/// client id and secret, keeping the old app working for
/// `rotation_overlap` when the config sets one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rotation {
    /// The last day (UTC, `YYYY-MM-DD`) the old client id and secret keep
    /// working; `None`: the old app is deleted at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overlap_until: Option<String>,
    /// The reserved name the old app carries until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retiring_as: Option<String>,
}

impl<Op> Change<Op> {
    /// The app as plans name it: `grafana (Engineering)` for AWX.
    pub fn label(&self) -> String {
        match &self.organization {
            Some(org) => format!("{} ({org})", self.app),
            None => self.app.clone(),
        }
    }

    /// A step of a rotation with an overlap: the rotation (which keeps the
    /// old app) or the delete of its retiring copy once the overlap has
    /// ended. Asked for on the command line and reviewed with the overlap,
    /// it takes nothing away unannounced: the blast-radius rules
    /// (`max_deletes`, `max_change_ratio`) do not count it.
    pub fn overlapping_rotation(&self) -> bool {
        self.rotation
            .as_ref()
            .is_some_and(|r| r.retiring_as.is_some())
    }

    /// The fields that change (not carried).
    pub fn changed_fields(&self) -> impl Iterator<Item = &FieldDiff> {
        self.fields.iter().filter(|f| !f.carried)
    }
}
