//! The one escaper of the markdown plan. Every name, field, reference, value
//! and server text reaches a pull-request comment as an inline code span:
//! GitHub renders nothing inside one (no HTML, link, autolink, image,
//! emphasis, `@mention` or `#123` reference), and this module makes the rest
//! safe: invisible and control characters become visible escapes (a bidi
//! override or a zero-width space cannot make two names look alike), the
//! fence is longer than any run of backticks inside (a backtick cannot end
//! the span, and is shown as it is), and `|` is escaped in a table cell.

/// Where the text goes: a table cell splits on an unescaped `|` before the
/// code span is read, so there it is written `\|` (GFM shows `|`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Place {
    Table,
    Prose,
}

/// `text` as an inline code span that shows exactly `text` (with invisible
/// characters made visible), whatever it holds.
pub fn code(text: &str, place: Place) -> String {
    let mut visible = crate::redact::printable(text);
    if place == Place::Table {
        visible = visible.replace('|', "\\|");
    }
    if visible.is_empty() {
        // An empty span is no span: one space, shown as a blank code span.
        return "` `".into();
    }
    let longest_run = visible.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    // CommonMark strips one space from each side when both are there, and a
    // backtick at an end would join the fence: pad so the content survives.
    let pad = visible.starts_with('`')
        || visible.ends_with('`')
        || (visible.starts_with(' ') && visible.ends_with(' ') && visible.trim() != "");
    if pad {
        format!("{fence} {visible} {fence}")
    } else {
        format!("{fence}{visible}{fence}")
    }
}

/// Values longer than this (as JSON) are shown around where they differ.
const LONG: usize = 200;
/// Characters of common text kept on each side of a difference.
const CONTEXT: usize = 40;

/// The before and after cells of a changed value: the JSON text of each in
/// full, unless both are long; then the text both share at the start and
/// the end is elided (`…`, outside the code span) down to [`CONTEXT`]
/// characters, and the part that differs is always shown in full.
pub fn value_pair(before: &str, after: &str) -> (String, String) {
    let b: Vec<char> = before.chars().collect();
    let a: Vec<char> = after.chars().collect();
    if b.len() <= LONG && a.len() <= LONG {
        return (code(before, Place::Table), code(after, Place::Table));
    }
    let prefix = b.iter().zip(&a).take_while(|(x, y)| x == y).count();
    let max_suffix = b.len().min(a.len()) - prefix;
    let suffix = b
        .iter()
        .rev()
        .zip(a.iter().rev())
        .take(max_suffix)
        .take_while(|(x, y)| x == y)
        .count();
    let cut_start = prefix.saturating_sub(CONTEXT);
    let cut_end = suffix.saturating_sub(CONTEXT);
    let show = |chars: &[char]| {
        let end = chars.len() - cut_end;
        let middle: String = chars
            .get(cut_start..end)
            .unwrap_or_default()
            .iter()
            .collect();
        format!(
            "{}{}{}",
            if cut_start > 0 { "…" } else { "" },
            code(&middle, Place::Table),
            if cut_end > 0 { "…" } else { "" }
        )
    };
    (show(&b), show(&a))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_pipes_and_invisible_characters_are_shown() {
        assert_eq!(code("plain", Place::Table), "`plain`");
        assert_eq!(code("a`b", Place::Prose), "``a`b``");
        assert_eq!(code("`x", Place::Prose), "`` `x ``");
        assert_eq!(code("a|b", Place::Table), "`a\\|b`");
        assert_eq!(code("a|b", Place::Prose), "`a|b`");
        assert_eq!(code("ev\u{202e}il", Place::Prose), "`ev\\u{202e}il`");
        assert_eq!(code("a\u{200b}b", Place::Prose), "`a\\u{200b}b`");
        assert_eq!(code("", Place::Prose), "` `");
        assert_eq!(code(" x ", Place::Prose), "`  x  `");
    }

    #[test]
    fn long_values_keep_their_difference_in_full() {
        let common = "x".repeat(300);
        let before = format!("{common}-old-{common}");
        let after = format!("{common}-new-part-{common}");
        let (b, a) = value_pair(&before, &after);
        assert!(b.starts_with('…') && b.ends_with('…'), "{b}");
        assert!(b.contains("-old-") && a.contains("-new-part-"), "{a}");
        assert!(b.len() < 200, "{b}");
        // Short values are shown whole.
        let (b, a) = value_pair("\"a\"", "\"b\"");
        assert_eq!((b.as_str(), a.as_str()), ("`\"a\"`", "`\"b\"`"));
    }
}
