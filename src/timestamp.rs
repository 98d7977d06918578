//! Timestamps as servers write them: RFC 3339 with any UTC offset (AWX
//! writes `Z`; a django-ansible-base gateway writes its `TIME_ZONE`'s
//! offset, `2027-12-04T09:12:49.096271-06:00`). `jiff` parses them
//! (humantime reads `Z` only, and an expiry it cannot read would count a
//! token as live forever).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The instant `text` names, or `None` when it is not an RFC 3339 timestamp.
pub fn parse(text: &str) -> Option<SystemTime> {
    let at: jiff::Timestamp = text.trim().parse().ok()?;
    // Whole seconds (either side of 1970), then the fraction, which jiff
    // keeps with the sign of the seconds.
    let seconds = at.as_second();
    let fraction = Duration::from_nanos(u64::from(at.subsec_nanosecond().unsigned_abs()));
    if seconds >= 0 && at.subsec_nanosecond() >= 0 {
        UNIX_EPOCH
            .checked_add(Duration::from_secs(seconds.unsigned_abs()))?
            .checked_add(fraction)
    } else {
        UNIX_EPOCH
            .checked_sub(Duration::from_secs(seconds.unsigned_abs()))?
            .checked_sub(fraction)
    }
}

#[cfg(test)]
mod tests {
    use super::parse;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn every_offset_names_the_same_instant() {
        let utc = parse("2027-12-04T15:12:49.096271Z").unwrap();
        assert_eq!(parse("2027-12-04T09:12:49.096271-06:00"), Some(utc));
        assert_eq!(parse("2027-12-04T16:12:49.096271+01:00"), Some(utc));
        assert!(parse("3026-03-25T04:44:53.412613Z").unwrap() > utc);
        assert_eq!(
            parse("1969-12-31T23:59:59.5Z"),
            Some(UNIX_EPOCH - Duration::from_millis(500))
        );
        assert_eq!(
            parse("1970-01-02T00:00:00Z"),
            Some(UNIX_EPOCH + Duration::from_secs(86_400))
        );
    }

    #[test]
    fn anything_else_is_none() {
        for text in [
            "",
            "soon",
            "2027-12-04",
            "2027-13-04T00:00:00Z",
            "2027-12-04T09:12:49",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
