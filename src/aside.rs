//! The reserved name an AWX application carries while it is being replaced.
//!
//! A replacement is create-before-destroy (docs/reference.md §3.2): the old application is
//! renamed `<name>~appform-replaced-<id>` (its own id), the new one is created
//! under the real name, then the old one is deleted. A run interrupted between
//! those steps leaves the renamed copy behind; planning recognises it by this
//! name, so the next run resumes the replacement (or gives the name back)
//! instead of treating it as a stranger. Pure: names in, names out.

/// What separates the original name from the id.
pub const MARK: &str = "~appform-replaced-";

/// AWX `name` holds at most 255 characters (awx.md §3).
const MAX_NAME_CHARS: usize = 255;

/// The name of the old application `id`, originally `original`, while it is
/// moved aside. The original is shortened (by characters) when the whole
/// would not fit in 255 characters.
pub fn aside_name(original: &str, id: &str) -> String {
    let suffix = format!("{MARK}{id}");
    let room = MAX_NAME_CHARS.saturating_sub(suffix.chars().count());
    let kept: String = original.chars().take(room).collect();
    format!("{kept}{suffix}")
}

/// A live application that carries an aside name of its own id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aside {
    /// The original name, or its beginning when it was shortened.
    pub original: String,
    /// Whether the original was shortened to fit.
    pub shortened: bool,
}

impl Aside {
    /// Whether this aside copy stands for an application named `name`.
    pub fn stands_for(&self, name: &str) -> bool {
        if self.shortened {
            name.starts_with(&self.original)
        } else {
            name == self.original
        }
    }
}

/// `Some` when `name` is the aside name of the application whose id is `id`.
/// A name that merely looks like one (another id) is an ordinary name.
pub fn parse(name: &str, id: &str) -> Option<Aside> {
    let (original, tail) = name.rsplit_once(MARK)?;
    if tail != id {
        return None;
    }
    Some(Aside {
        original: original.to_string(),
        shortened: name.chars().count() >= MAX_NAME_CHARS,
    })
}

/// Whether an application name would read as an aside name (config keys must
/// not: appform could not tell them from its own leftovers).
pub fn looks_reserved(name: &str) -> bool {
    name.rsplit_once(MARK)
        .is_some_and(|(_, tail)| !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aside_names_round_trip_and_name_their_own_id_only() {
        let n = aside_name("grafana", "17");
        assert_eq!(n, "grafana~appform-replaced-17");
        assert_eq!(
            parse(&n, "17"),
            Some(Aside {
                original: "grafana".into(),
                shortened: false
            })
        );
        assert_eq!(parse(&n, "18"), None, "another app's aside name is a name");
        assert_eq!(parse("grafana", "17"), None);
        assert!(looks_reserved(&n));
        assert!(!looks_reserved("grafana~appform-replaced-"));
        assert!(!looks_reserved("grafana"));
    }

    #[test]
    fn long_names_are_shortened_to_fit_and_still_recognised() {
        let long: String = "é".repeat(300);
        let n = aside_name(&long, "123456");
        assert_eq!(n.chars().count(), 255);
        let a = parse(&n, "123456").unwrap();
        assert!(a.shortened);
        assert!(a.stands_for(&long));
        assert!(!a.stands_for("other"));
    }
}
