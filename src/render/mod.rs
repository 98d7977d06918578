//! Everything that formats for a terminal: diagnostics and colour decisions.
//! Nothing here decides what to do; it only shows what it is given.

pub mod apply;
pub mod diagnostic;
pub mod json;
pub mod markdown;
pub mod markdown_safe;
pub mod text;

use std::io::IsTerminal;

/// Whether stderr is a terminal.
pub fn stderr_is_tty() -> bool {
    std::io::stderr().is_terminal()
}

/// Whether stdout is a terminal.
pub fn stdout_is_tty() -> bool {
    std::io::stdout().is_terminal()
}

/// The words after the unmanaged count when some server was read with
/// `listing: managed` (its unmanaged applications were not all read).
pub(crate) fn unmanaged_unknown(s: &crate::plan::Summary) -> &'static str {
    if s.unmanaged_unknown {
        " (more not counted: `listing: managed`)"
    } else {
        ""
    }
}

/// A list change element by element, as a multiset: each element added
/// (`after` has it more often than `before`) and removed, once per
/// occurrence, in list order. A duplicate added to a list is an element
/// added; an order-only change is neither (the caller shows the whole lists).
pub(crate) fn list_changes<'a>(
    before: &'a [serde_json::Value],
    after: &'a [serde_json::Value],
) -> (Vec<&'a serde_json::Value>, Vec<&'a serde_json::Value>) {
    fn extra<'a>(
        from: &'a [serde_json::Value],
        other: &'a [serde_json::Value],
    ) -> Vec<&'a serde_json::Value> {
        let mut unmatched: Vec<Option<&serde_json::Value>> = other.iter().map(Some).collect();
        from.iter()
            .filter(
                |v| match unmatched.iter_mut().find(|u| u.is_some_and(|u| u == *v)) {
                    Some(slot) => {
                        *slot = None;
                        false
                    }
                    None => true,
                },
            )
            .collect()
    }
    (extra(after, before), extra(before, after))
}

/// A delete or replacement of an app with tokens that have not expired, in
/// words: `in use: 2 tokens valid until 3026-03-25T04:44:53Z`.
pub fn in_use_words<Op>(change: &crate::plan::Change<Op>) -> String {
    let Some(u) = &change.in_use else {
        return String::new();
    };
    let mut out = format!(
        "in use: {} token{} not expired",
        u.live_tokens,
        if u.live_tokens == 1 { "" } else { "s" }
    );
    if let Some(until) = &u.until {
        out.push_str(&format!(", the last valid until {until}"));
    }
    if let Some(used) = &u.last_used {
        out.push_str(&format!(", last used {used}"));
    }
    if u.allowed && change.overlapping_rotation() {
        out.push_str(" (allowed: the overlap of its rotation has ended)");
    } else if u.allowed {
        out.push_str(" (allowed: `allow_delete_in_use: true`)");
    }
    out
}

/// The confidential apps due for rotation, one line each (server names and
/// app labels as the plan has them; callers make them printable).
pub fn rotation_lines<Op>(plan: &crate::plan::Plan<Op>) -> Vec<String> {
    plan.servers
        .iter()
        .flat_map(|sp| {
            sp.rotation_due.iter().map(move |d| {
                format!(
                    "{}: {}: rotation due (created {}, {} days ago; rotate_after {}d); `appform apply --rotate '{}/{}'` gives it a new client id and secret",
                    sp.server, d.app, d.created, d.age_days, d.rotate_after_days, sp.server, d.key
                )
            })
        })
        .collect()
}

/// The old applications rotations keep for their overlap, one line each.
pub fn retiring_lines<Op>(plan: &crate::plan::Plan<Op>) -> Vec<String> {
    plan.servers
        .iter()
        .flat_map(|sp| {
            sp.retiring.iter().map(move |r| {
                let mut tokens = match r.live_tokens {
                    Some(1) => ", 1 token not expired".to_string(),
                    Some(n) => format!(", {n} tokens not expired"),
                    None => String::new(),
                };
                if let Some(used) = &r.last_used {
                    tokens.push_str(&format!(", last used {used}"));
                }
                format!(
                    "{}: {}: the old application `{}` keeps working until {}{tokens}; the first run after that day deletes it",
                    sp.server, r.app, r.name, r.until
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn list_changes_count_duplicates() {
        let before = [json!("a"), json!("b")];
        let after = [json!("a"), json!("a"), json!("c")];
        let (added, removed) = super::list_changes(&before, &after);
        assert_eq!(added, vec![&json!("a"), &json!("c")]);
        assert_eq!(removed, vec![&json!("b")]);
        let (added, removed) = super::list_changes(&after, &after);
        assert!(added.is_empty() && removed.is_empty());
    }
}
