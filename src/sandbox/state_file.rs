//! The one format in which simulators' state is kept between runs, by
//! `appform sandbox --state FILE` and by `--sandbox` (`.appform/sandbox.json`):
//!
//! ```json
//! {"appform_sandbox_state": 1,
//!  "servers": [{"kind": "awx", "url": "http://127.0.0.1:8043", "state": {…}}]}
//! ```
//!
//! A simulator takes the entry of its kind and URL. One started on an
//! ephemeral port (`--awx-port 0`) takes the first unclaimed entry of its kind,
//! so a sandbox restarted on new ports keeps its state. The two older layouts
//! (a map of `"KIND URL"` keys; `{"awx", "tpp", "whm": […]}`) are read too.
//! Entries of servers not started this time are kept when the file is saved.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

use super::SandboxError;
use crate::model::Kind;

const VERSION: u64 = 1;

struct Entry {
    kind: Kind,
    /// `None` for entries of the oldest layout, which did not record URLs.
    url: Option<String>,
    state: Value,
    claimed: bool,
}

pub struct StateFile {
    path: PathBuf,
    entries: Vec<Entry>,
}

impl StateFile {
    /// Reads `path`; a file that does not exist is an empty state.
    pub fn load(path: &Path) -> Result<StateFile, SandboxError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(StateFile {
                    path: path.to_path_buf(),
                    entries: Vec::new(),
                });
            }
            Err(source) => {
                return Err(SandboxError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        let not_state = |why: &str| SandboxError::NotStateFile {
            path: path.to_path_buf(),
            why: why.to_string(),
        };
        let value: Value = serde_json::from_str(&text).map_err(|e| not_state(&e.to_string()))?;
        let Value::Object(top) = value else {
            return Err(not_state("not a JSON object"));
        };
        let entries = parse(top).map_err(|e| not_state(&e))?;
        Ok(StateFile {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The saved state for a simulator of `kind` at `url`; with `any_url`
    /// (an ephemeral port), the first unclaimed entry of that kind will do.
    pub fn take(&mut self, kind: Kind, url: &str, any_url: bool) -> Option<Value> {
        let position = self
            .entries
            .iter()
            .position(|e| !e.claimed && e.kind == kind && e.url.as_deref() == Some(url))
            .or_else(|| {
                self.entries
                    .iter()
                    .position(|e| !e.claimed && e.kind == kind && e.url.is_none())
            })
            .or_else(|| {
                any_url
                    .then(|| {
                        self.entries
                            .iter()
                            .position(|e| !e.claimed && e.kind == kind)
                    })
                    .flatten()
            })?;
        let entry = self.entries.get_mut(position)?;
        entry.claimed = true;
        Some(entry.state.clone())
    }

    /// Writes the running simulators' state, then the unclaimed entries.
    pub fn save(&self, running: &[(Kind, String, Value)]) -> Result<(), SandboxError> {
        let mut servers: Vec<Value> = running
            .iter()
            .map(|(kind, url, state)| json!({"kind": kind, "url": url, "state": state}))
            .collect();
        let started =
            |kind: Kind, url: &str| running.iter().any(|(k, u, _)| *k == kind && u == url);
        servers.extend(
            self.entries
                .iter()
                .filter(|e| !e.claimed)
                .filter(|e| !e.url.as_deref().is_some_and(|u| started(e.kind, u)))
                .map(|e| json!({"kind": e.kind, "url": e.url, "state": e.state})),
        );
        let doc = json!({"appform_sandbox_state": VERSION, "servers": servers});
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| SandboxError::Io {
                action: "create",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let text = serde_json::to_string_pretty(&doc).map_err(SandboxError::Encode)?;
        crate::files::write_private(&self.path, text.as_bytes()).map_err(|source| {
            SandboxError::Io {
                action: "write",
                path: self.path.clone(),
                source,
            }
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The entries of a parsed state file. `Err`: why it is not one, a phrase
/// that [`SandboxError::NotStateFile`] wraps with the path.
fn parse(mut top: Map<String, Value>) -> Result<Vec<Entry>, String> {
    let entry = |kind: Kind, url: Option<String>, state: Value| Entry {
        kind,
        url,
        state,
        claimed: false,
    };
    if let Some(version) = top.get("appform_sandbox_state") {
        if version.as_u64() != Some(VERSION) {
            return Err(format!(
                "version {version}; this appform reads version {VERSION}"
            ));
        }
        let Some(Value::Array(servers)) = top.remove("servers") else {
            return Err("no `servers` list".into());
        };
        let mut entries = Vec::new();
        for (i, server) in servers.into_iter().enumerate() {
            let kind = server
                .get("kind")
                .and_then(Value::as_str)
                .and_then(Kind::named)
                .ok_or_else(|| format!("servers[{i}].kind is not awx, tpp or whm"))?;
            let url = server
                .get("url")
                .and_then(Value::as_str)
                .map(str::to_string);
            let state = server.get("state").cloned().unwrap_or(Value::Null);
            entries.push(entry(kind, url, state));
        }
        return Ok(entries);
    }
    // `{"awx": …, "tpp": …, "whm": […]}`, from `appform sandbox` before version 1.
    if top.keys().all(|k| Kind::named(k).is_some()) && !top.is_empty() {
        let mut entries = Vec::new();
        for (key, value) in top {
            let kind = Kind::named(&key).ok_or("unreachable kind")?;
            match value {
                Value::Array(hosts) => {
                    entries.extend(hosts.into_iter().map(|s| entry(kind, None, s)))
                }
                Value::Null => {}
                state => entries.push(entry(kind, None, state)),
            }
        }
        return Ok(entries);
    }
    // `{"awx http://127.0.0.1:8043": …}`, from `--sandbox` before version 1.
    let mut entries = Vec::new();
    for (key, state) in top {
        let (kind, url) = key
            .split_once(' ')
            .and_then(|(k, u)| Some((Kind::named(k)?, u.to_string())))
            .ok_or_else(|| format!("unknown key `{key}`"))?;
        entries.push(entry(kind, Some(url), state));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn a_saved_state_is_found_by_kind_and_url_and_other_servers_are_kept() {
        let (_dir, path) = file("{}");
        let state = StateFile::load(&path).unwrap();
        state
            .save(&[
                (Kind::Awx, "http://127.0.0.1:8043".into(), json!({"a": 1})),
                (Kind::Whm, "http://127.0.0.1:8051".into(), json!({"w": 1})),
            ])
            .unwrap();
        let mut state = StateFile::load(&path).unwrap();
        assert_eq!(state.take(Kind::Awx, "http://127.0.0.1:8045", false), None);
        assert_eq!(
            state.take(Kind::Awx, "http://127.0.0.1:8043", false),
            Some(json!({"a": 1}))
        );
        state
            .save(&[(Kind::Awx, "http://127.0.0.1:8043".into(), json!({"a": 2}))])
            .unwrap();
        let mut state = StateFile::load(&path).unwrap();
        assert_eq!(
            state.take(Kind::Whm, "http://127.0.0.1:8051", false),
            Some(json!({"w": 1})),
            "the WHM host not started was kept"
        );
        assert_eq!(
            state.take(Kind::Awx, "http://127.0.0.1:8043", false),
            Some(json!({"a": 2}))
        );
    }

    #[test]
    fn an_ephemeral_port_takes_the_first_unclaimed_entry_of_its_kind() {
        let (_dir, path) = file("{}");
        StateFile::load(&path)
            .unwrap()
            .save(&[
                (Kind::Whm, "http://127.0.0.1:40001".into(), json!(1)),
                (Kind::Whm, "http://127.0.0.1:40002".into(), json!(2)),
            ])
            .unwrap();
        let mut state = StateFile::load(&path).unwrap();
        assert_eq!(
            state.take(Kind::Whm, "http://127.0.0.1:0", true),
            Some(json!(1))
        );
        assert_eq!(
            state.take(Kind::Whm, "http://127.0.0.1:0", true),
            Some(json!(2))
        );
        assert_eq!(state.take(Kind::Whm, "http://127.0.0.1:0", true), None);
        // Saved under the new URLs, the old entries are not kept twice.
        state
            .save(&[
                (Kind::Whm, "http://127.0.0.1:41001".into(), json!(1)),
                (Kind::Whm, "http://127.0.0.1:41002".into(), json!(2)),
            ])
            .unwrap();
        let saved: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(saved["servers"].as_array().unwrap().len(), 2, "{saved}");
    }

    #[test]
    fn both_older_layouts_are_read() {
        let (_dir, path) =
            file(r#"{"awx": {"a": 1}, "tpp": {"t": 1}, "whm": [{"w": 1}, {"w": 2}]}"#);
        let mut state = StateFile::load(&path).unwrap();
        assert_eq!(
            state.take(Kind::Awx, "http://127.0.0.1:8043", false),
            Some(json!({"a": 1}))
        );
        assert_eq!(
            state.take(Kind::Whm, "http://127.0.0.1:8051", false),
            Some(json!({"w": 1}))
        );
        assert_eq!(
            state.take(Kind::Whm, "http://127.0.0.1:8052", false),
            Some(json!({"w": 2}))
        );
        let (_dir, path) = file(r#"{"tpp http://127.0.0.1:8044": {"t": 2}}"#);
        let mut state = StateFile::load(&path).unwrap();
        assert_eq!(
            state.take(Kind::Tpp, "http://127.0.0.1:8044", false),
            Some(json!({"t": 2}))
        );
    }

    #[test]
    fn a_file_that_is_not_a_state_file_is_refused_and_kept() {
        for text in [
            "[1]",
            "not json",
            r#"{"servers": 3}"#,
            r#"{"appform_sandbox_state": 9, "servers": []}"#,
        ] {
            let (_dir, path) = file(text);
            let err = StateFile::load(&path)
                .err()
                .unwrap_or_else(|| panic!("{text} accepted"));
            assert!(
                err.to_string().contains("is not a sandbox state file"),
                "{err}"
            );
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
    }
}
