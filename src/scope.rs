//! TPP scope strings (tpp.md §3): `scope[:restriction,restriction][;scope...]`,
//! e.g. `certificate:manage,revoke;configuration`. Parsed into a canonical map so
//! that order, case of scope names and spaces never make a difference (docs/reference.md §2.2).

use std::collections::{BTreeMap, BTreeSet};

/// Scope name (lower-cased) → set of restrictions (empty for a bare scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeSet(pub BTreeMap<String, BTreeSet<String>>);

impl ScopeSet {
    /// Parses a scope string. Errors say what is wrong in words a user can act on.
    pub fn parse(text: &str) -> Result<ScopeSet, String> {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        if text.trim().is_empty() {
            return Err("the scope string is empty".into());
        }
        for (i, part) in text.split(';').enumerate() {
            let part = part.trim();
            if part.is_empty() {
                return Err(format!(
                    "scope #{} is empty (two `;` in a row, or a `;` at an end)",
                    i + 1
                ));
            }
            let (name, restrictions) = match part.split_once(':') {
                Some((n, r)) => (n.trim(), Some(r)),
                None => (part, None),
            };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(format!(
                    "`{name}` is not a scope name (letters, digits and `_` only)"
                ));
            }
            let entry = map.entry(name.to_ascii_lowercase()).or_default();
            if let Some(list) = restrictions {
                for r in list.split(',') {
                    let r = r.trim();
                    if r.is_empty() {
                        return Err(format!("scope `{name}` has an empty restriction"));
                    }
                    if !r.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                        return Err(format!(
                            "`{r}` is not a restriction of scope `{name}` (letters, digits and `_` only)"
                        ));
                    }
                    entry.insert(r.to_ascii_lowercase());
                }
            }
        }
        Ok(ScopeSet(map))
    }

    /// The canonical text: scopes sorted, restrictions sorted, no spaces.
    pub fn canonical(&self) -> String {
        self.0
            .iter()
            .map(|(name, rs)| {
                if rs.is_empty() {
                    name.clone()
                } else {
                    format!(
                        "{name}:{}",
                        rs.iter().cloned().collect::<Vec<_>>().join(",")
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(";")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_case_and_spaces_do_not_matter() {
        let a = ScopeSet::parse("certificate:manage,revoke;configuration").unwrap();
        let b = ScopeSet::parse(" Configuration ; CERTIFICATE: revoke , manage").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.canonical(), "certificate:manage,revoke;configuration");
    }

    #[test]
    fn a_real_difference_stays_different() {
        let a = ScopeSet::parse("certificate:manage").unwrap();
        let b = ScopeSet::parse("certificate:manage,revoke").unwrap();
        let c = ScopeSet::parse("certificate").unwrap();
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn repeated_scopes_merge() {
        let a = ScopeSet::parse("certificate:manage;certificate:revoke").unwrap();
        assert_eq!(a.canonical(), "certificate:manage,revoke");
    }

    #[test]
    fn rejects_malformed_strings() {
        for bad in [
            "",
            ";",
            "a;;b",
            "certificate:",
            "certificate:manage,",
            "cert ificate",
            "a:b c",
            ":x",
        ] {
            assert!(ScopeSet::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
