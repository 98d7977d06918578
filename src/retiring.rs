//! The reserved name an AWX or gateway application carries while it is
//! retiring after a rotation with an overlap.
//!
//! `apply --rotate` with `rotation_overlap` renames the old application
//! `<name>~appform-retiring-<YYYYMMDD>` (the last day of the overlap, UTC)
//! before it creates the new one under the real name; the old client id and
//! secret keep working until a run on a later day deletes it. The name is
//! the only state: a retiring copy is recognised on any later run, by any
//! checkout of the config. When that name is taken (a second rotation whose
//! overlap ends the same day), the copy's own id is added:
//! `<name>~appform-retiring-<YYYYMMDD>-<id>`. Pure: names in, names out.

/// What separates the original name from the end date.
pub const MARK: &str = "~appform-retiring-";

/// AWX `name` holds at most 255 characters (awx.md §3).
const MAX_NAME_CHARS: usize = 255;

/// A live application carrying a retiring name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retiring {
    /// The original name, or its beginning when it was shortened.
    pub original: String,
    /// Whether the original was shortened to fit.
    pub shortened: bool,
    /// The last day of the overlap: `YYYY-MM-DD` (UTC).
    pub until: String,
}

impl Retiring {
    /// Whether this retiring copy stands for an application named `name`.
    pub fn stands_for(&self, name: &str) -> bool {
        if self.shortened {
            name.starts_with(&self.original)
        } else {
            name == self.original
        }
    }

    /// `until` as the compact `YYYYMMDD` of names, comparable as text.
    fn until_compact(&self) -> String {
        self.until.replace('-', "")
    }

    /// Whether the overlap has passed on `today` (`YYYY-MM-DD`, UTC): the
    /// copy keeps working through its last day.
    pub fn ended_by(&self, today: &str) -> bool {
        today.replace('-', "") > self.until_compact()
    }
}

/// The retiring name of `original` whose overlap ends on `until`
/// (`YYYY-MM-DD`), with the copy's `id` when the plain one is taken. The
/// original is shortened (by characters) when the whole would not fit.
pub fn retiring_name(original: &str, until: &str, id: Option<&str>) -> String {
    let mut suffix = format!("{MARK}{}", until.replace('-', ""));
    if let Some(id) = id {
        suffix.push('-');
        suffix.push_str(id);
    }
    let room = MAX_NAME_CHARS.saturating_sub(suffix.chars().count());
    let kept: String = original.chars().take(room).collect();
    format!("{kept}{suffix}")
}

/// `Some` when `name` is a retiring name of the application `id`: a valid
/// date, and no id or this one's (another id's name is an ordinary name).
pub fn parse(name: &str, id: &str) -> Option<Retiring> {
    let (original, tail) = name.rsplit_once(MARK)?;
    let (date, own) = match tail.split_once('-') {
        Some((date, own)) => (date, Some(own)),
        None => (tail, None),
    };
    if original.is_empty() || own.is_some_and(|o| o != id) {
        return None;
    }
    let until = day(date)?;
    Some(Retiring {
        original: original.to_string(),
        shortened: name.chars().count() >= MAX_NAME_CHARS,
        until,
    })
}

/// The original name in a name that reads as a retiring name (for
/// selecting by `--app`; [`parse`] decides what a live app is).
pub fn original_of(name: &str) -> Option<&str> {
    looks_reserved(name)
        .then(|| name.rsplit_once(MARK).map(|(original, _)| original))
        .flatten()
}

/// `YYYYMMDD` → `YYYY-MM-DD` when it is a real day.
fn day(compact: &str) -> Option<String> {
    if compact.len() != 8 || !compact.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let text = format!("{}-{}-{}", &compact[..4], &compact[4..6], &compact[6..]);
    humantime::parse_rfc3339_weak(&format!("{text}T00:00:00Z")).ok()?;
    Some(text)
}

/// The UTC day (`YYYY-MM-DD`) of `at`.
pub fn utc_day(at: std::time::SystemTime) -> String {
    humantime::format_rfc3339_seconds(at)
        .to_string()
        .chars()
        .take(10)
        .collect()
}

/// Whether an application name would read as a retiring name (config keys
/// must not: appform could not tell them from its own retiring copies).
pub fn looks_reserved(name: &str) -> bool {
    name.rsplit_once(MARK).is_some_and(|(original, tail)| {
        let date = tail.split_once('-').map_or(tail, |(d, _)| d);
        !original.is_empty() && day(date).is_some()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retiring_names_round_trip_with_and_without_the_id() {
        let n = retiring_name("grafana", "2026-03-10", None);
        assert_eq!(n, "grafana~appform-retiring-20260310");
        let r = parse(&n, "17").unwrap();
        assert_eq!(r.original, "grafana");
        assert_eq!(r.until, "2026-03-10");
        assert!(r.stands_for("grafana"));
        let with_id = retiring_name("grafana", "2026-03-10", Some("17"));
        assert_eq!(with_id, "grafana~appform-retiring-20260310-17");
        assert_eq!(parse(&with_id, "17").unwrap().until, "2026-03-10");
        assert_eq!(parse(&with_id, "18"), None, "another app's name is a name");
        assert!(looks_reserved(&n) && looks_reserved(&with_id));
        assert_eq!(original_of(&with_id), Some("grafana"));
        assert_eq!(original_of("grafana"), None);
    }

    #[test]
    fn only_real_days_make_a_retiring_name() {
        assert_eq!(parse("grafana~appform-retiring-20261301", "1"), None);
        assert_eq!(parse("grafana~appform-retiring-2026031", "1"), None);
        assert_eq!(parse("~appform-retiring-20260310", "1"), None);
        assert_eq!(parse("grafana", "1"), None);
        assert!(!looks_reserved("grafana~appform-retiring-soon"));
        assert!(!looks_reserved("grafana"));
    }

    #[test]
    fn the_overlap_ends_after_its_last_day() {
        let r = parse("grafana~appform-retiring-20260310", "1").unwrap();
        assert!(!r.ended_by("2026-03-09"));
        assert!(!r.ended_by("2026-03-10"));
        assert!(r.ended_by("2026-03-11"));
        assert!(r.ended_by("2027-01-01"));
    }

    #[test]
    fn long_names_are_shortened_to_fit_and_still_recognised() {
        let long: String = "é".repeat(300);
        let n = retiring_name(&long, "2026-03-10", Some("123456"));
        assert_eq!(n.chars().count(), 255);
        let r = parse(&n, "123456").unwrap();
        assert!(r.shortened && r.stands_for(&long) && !r.stands_for("other"));
    }

    #[test]
    fn utc_days_are_dates() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(86_400 * 365);
        assert_eq!(utc_day(t), "1971-01-01");
    }
}
